package dynamostore

import (
	"context"
	"fmt"
	"time"

	"github.com/guregu/dynamo/v2"

	"github.com/secondme/twin/pkg/store"
)

// identityItem links a provider's subject to a user: PK IDENT#<provider>#<subject>, SK IDENT; listed
// per user on GSI1 (GSI1PK USER#<user>, GSI1SK IDENT#<provider>#<subject>).
type identityItem struct {
	keys
	Provider       string
	Subject        string
	UserID         string
	SealedTokens   []byte
	TokenExpiresAt string
	Revoked        bool
	RevokedBy      []string
	CreatedAt      string
	UpdatedAt      string
}

func identityPK(provider, subject string) string {
	return "IDENT#" + provider + "#" + part(subject)
}

func toIdentityItem(i store.Identity) identityItem {
	pk := identityPK(i.Provider, i.Subject)
	return identityItem{
		keys:           keys{PK: pk, SK: "IDENT", GSI1PK: userPK(i.UserID), GSI1SK: pk, Kind: "identity"},
		Provider:       i.Provider,
		Subject:        i.Subject,
		UserID:         i.UserID,
		SealedTokens:   i.SealedTokens,
		TokenExpiresAt: fmtTime(i.TokenExpiresAt),
		Revoked:        i.Revoked,
		RevokedBy:      i.RevokedBy,
		CreatedAt:      fmtTime(i.CreatedAt),
		UpdatedAt:      fmtTime(i.UpdatedAt),
	}
}

func (it identityItem) identity() store.Identity {
	return store.Identity{
		Provider:       it.Provider,
		Subject:        it.Subject,
		UserID:         it.UserID,
		SealedTokens:   it.SealedTokens,
		TokenExpiresAt: storedTime(it.TokenExpiresAt),
		Revoked:        it.Revoked,
		RevokedBy:      it.RevokedBy,
		CreatedAt:      storedTime(it.CreatedAt),
		UpdatedAt:      storedTime(it.UpdatedAt),
	}
}

// CreateIdentity stores a new identity (a PutItem on the condition that none exists);
// ErrConflict if (Provider, Subject) exists.
func (s *Store) CreateIdentity(ctx context.Context, i store.Identity) error {
	err := s.table.Put(toIdentityItem(i)).If("attribute_not_exists(PK)").Run(ctx)
	if err = mapErr(err, store.ErrConflict); err != nil {
		return fmt.Errorf("create identity %s/%s: %w", i.Provider, i.Subject, err)
	}
	return nil
}

// GetIdentity returns an identity; ErrNotFound if there is none.
func (s *Store) GetIdentity(ctx context.Context, provider, subject string) (store.Identity, error) {
	var it identityItem
	if err := s.get(ctx, key{identityPK(provider, subject), "IDENT"}, &it); err != nil {
		return store.Identity{}, fmt.Errorf("get identity %s/%s: %w", provider, subject, err)
	}
	return it.identity(), nil
}

// PutIdentity replaces an existing identity; ErrNotFound if there is none.
func (s *Store) PutIdentity(ctx context.Context, i store.Identity) error {
	err := s.table.Put(toIdentityItem(i)).If("attribute_exists(PK)").Run(ctx)
	if err = mapErr(err, store.ErrNotFound); err != nil {
		return fmt.Errorf("put identity %s/%s: %w", i.Provider, i.Subject, err)
	}
	return nil
}

// ListIdentities returns the identities of a user (a Query on GSI1).
func (s *Store) ListIdentities(ctx context.Context, userID string) ([]store.Identity, error) {
	var items []identityItem
	err := s.table.Get("GSI1PK", userPK(userID)).Index(gsi1).Range("GSI1SK", dynamo.BeginsWith, "IDENT#").All(ctx, &items)
	if err != nil {
		return nil, fmt.Errorf("list identities of %s: %w", userID, err)
	}
	ids := make([]store.Identity, 0, len(items))
	for _, it := range items {
		ids = append(ids, it.identity())
	}
	return ids, nil
}

// loginItem is a login session: PK LOGIN#<token hash>, SK LOGIN, expiring (ttl); listed per user on
// GSI1 (GSI1PK USER#<user>, GSI1SK LOGIN#<token hash>).
type loginItem struct {
	keys
	TokenHash string
	UserID    string
	CreatedAt string
	ExpiresAt string
}

func loginKey(tokenHash string) key { return key{"LOGIN#" + part(tokenHash), "LOGIN"} }

// CreateLoginSession stores a login session; ErrConflict if a live one has the hash.
func (s *Store) CreateLoginSession(ctx context.Context, ls store.LoginSession) error {
	k := loginKey(ls.TokenHash)
	it := loginItem{
		keys: keys{
			PK: k.pk, SK: k.sk, GSI1PK: userPK(ls.UserID), GSI1SK: k.pk, Kind: "login",
			TTL: ls.ExpiresAt.Unix(),
		},
		TokenHash: ls.TokenHash,
		UserID:    ls.UserID,
		CreatedAt: fmtTime(ls.CreatedAt),
		ExpiresAt: fmtTime(ls.ExpiresAt),
	}
	err := s.table.Put(it).If("attribute_not_exists(PK) OR $ <= ?", "ExpiresAt", fmtTime(time.Now())).Run(ctx)
	if err = mapErr(err, store.ErrConflict); err != nil {
		return fmt.Errorf("create login session of %s: %w", ls.UserID, err)
	}
	return nil
}

// GetLoginSession returns a live login session; ErrNotFound if there is none or it has expired.
func (s *Store) GetLoginSession(ctx context.Context, tokenHash string) (store.LoginSession, error) {
	var it loginItem
	err := s.get(ctx, loginKey(tokenHash), &it)
	if err == nil && expired(it.ExpiresAt, time.Now()) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.LoginSession{}, fmt.Errorf("get login session: %w", err)
	}
	return store.LoginSession{
		TokenHash: it.TokenHash,
		UserID:    it.UserID,
		CreatedAt: storedTime(it.CreatedAt),
		ExpiresAt: storedTime(it.ExpiresAt),
	}, nil
}

// RenewLoginSession moves the expiry of a live login session (an UpdateItem on the condition that it
// is live); ErrNotFound if there is none.
func (s *Store) RenewLoginSession(ctx context.Context, tokenHash string, expiresAt time.Time) error {
	k := loginKey(tokenHash)
	err := s.table.Update("PK", k.pk).Range("SK", k.sk).
		Set("ExpiresAt", fmtTime(expiresAt)).Set("ttl", expiresAt.Unix()).
		If("attribute_exists(PK) AND $ > ?", "ExpiresAt", fmtTime(time.Now())).Run(ctx)
	if err = mapErr(err, store.ErrNotFound); err != nil {
		return fmt.Errorf("renew login session: %w", err)
	}
	return nil
}

// DeleteLoginSession revokes a login session; deleting an unknown one is not an error.
func (s *Store) DeleteLoginSession(ctx context.Context, tokenHash string) error {
	k := loginKey(tokenHash)
	if err := s.table.Delete("PK", k.pk).Range("SK", k.sk).Run(ctx); err != nil {
		return fmt.Errorf("delete login session: %w", err)
	}
	return nil
}

// DeleteUserLoginSessions revokes every login session of a user: a Query on GSI1, then BatchWriteItem.
func (s *Store) DeleteUserLoginSessions(ctx context.Context, userID string) error {
	ks, err := s.gsi1Keys(ctx, userID, "LOGIN#")
	if err == nil {
		err = s.deleteKeys(ctx, ks)
	}
	if err != nil {
		return fmt.Errorf("delete login sessions of %s: %w", userID, err)
	}
	return nil
}

// gsi1Keys returns the primary keys of the items in a user's GSI1 partition whose GSI1SK starts with prefix.
func (s *Store) gsi1Keys(ctx context.Context, userID, prefix string) ([]key, error) {
	var items []keys
	q := s.table.Get("GSI1PK", userPK(userID)).Index(gsi1)
	if prefix != "" {
		q = q.Range("GSI1SK", dynamo.BeginsWith, prefix)
	}
	if err := q.Project("PK", "SK", "GSI1PK", "GSI1SK").All(ctx, &items); err != nil {
		return nil, err
	}
	ks := make([]key, len(items))
	for i, it := range items {
		ks[i] = key{it.PK, it.SK}
	}
	return ks, nil
}

// eventItem is a claimed event id: PK EVENT#<id>, SK EVENT, expiring (ttl).
type eventItem struct {
	keys
	EventID   string
	ExpiresAt string
}

// ClaimEvent records an event id until expiresAt (a PutItem on the condition that no live claim
// exists); ErrConflict if it was claimed before and the claim has not expired.
func (s *Store) ClaimEvent(ctx context.Context, eventID string, expiresAt time.Time) error {
	pk := "EVENT#" + part(eventID)
	it := eventItem{
		keys:      keys{PK: pk, SK: "EVENT", Kind: "event", TTL: expiresAt.Unix()},
		EventID:   eventID,
		ExpiresAt: fmtTime(expiresAt),
	}
	err := s.table.Put(it).If("attribute_not_exists(PK) OR $ <= ?", "ExpiresAt", fmtTime(time.Now())).Run(ctx)
	if err = mapErr(err, store.ErrConflict); err != nil {
		return fmt.Errorf("claim event %s: %w", eventID, err)
	}
	return nil
}
