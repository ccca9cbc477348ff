package app

import (
	"context"
	"crypto/sha256"
	"errors"

	"github.com/secondme/twin/pkg/account"
)

// Account returns the account jobs (pkg/account): the export job and the erase job, queued on the job
// queue and run by its worker. Archives need media storage; their links are presigned by the bucket
// on AWS (awsapp.LinkedBucket), else signed by this service with a key derived from the sealing key
// (the local stack, the gateway's files). A function without either runs the jobs but serves no
// exports.
func (a *App) Account(ctx context.Context) (*account.Service, error) {
	return a.account.get(func() (*account.Service, error) {
		st, err := a.Store()
		if err != nil {
			return nil, err
		}
		if a.deps.Queue == nil {
			return nil, errors.New("COMPAT_QUEUE_URL is not set")
		}
		cfg := account.Config{Now: a.deps.Now, Logger: a.deps.Logger}
		blobs, err := a.Blob()
		if err != nil {
			a.deps.Logger.WarnContext(ctx, "exports are off", "err", err)
			return account.New(st, a.deps.Queue, nil, nil, cfg), nil
		}
		if av, err := a.Avatars(ctx); err == nil {
			cfg.Media = av
		}
		links, ok := blobs.(account.Linker)
		if !ok {
			sec, err := a.secrets(ctx, []string{SecretSealingKey})
			if err != nil {
				return nil, err
			}
			if key := sec[SecretSealingKey]; key != "" {
				sum := sha256.Sum256([]byte("secondme export links\x00" + key))
				links = account.NewSigner(sum[:], a.deps.Now)
			} else {
				a.deps.Logger.WarnContext(ctx, "no sealing key to sign export links with: exports are not served here")
			}
		}
		return account.New(st, a.deps.Queue, blobs, links, cfg), nil
	})
}
