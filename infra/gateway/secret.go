package main

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// secretARN is the ARN of the gateway's application secret (the SecretsArn parameter).
const secretARN = "arn:aws:secretsmanager:" + region + ":" + accountID + ":secret:secondme-gateway-AbCdEf"

// loadSecret returns the application secret kept in path (a JSON object of strings, mode 0600): the
// sealing key (64 hex characters), the edge secret (originVerify) and the SecondMe webhook's signing
// secret (secondmeWebhookSecret, for signing test deliveries) are made once and kept; the
// OIDC client secret is the local provider's, which changes at every start.
func loadSecret(path, oidcClientSecret string) (map[string]string, error) {
	sec := map[string]string{}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, err
	default:
		if err := json.Unmarshal(b, &sec); err != nil {
			return nil, fmt.Errorf("%s: not a JSON object of strings: %w", path, err)
		}
	}
	if k, err := hex.DecodeString(sec["sealingKey"]); err != nil || len(k) != 32 {
		sec["sealingKey"] = randomHex(32)
	}
	if len(sec["originVerify"]) < 32 {
		sec["originVerify"] = randomHex(32)
	}
	if sec["secondmeWebhookSecret"] == "" {
		sec["secondmeWebhookSecret"] = randomHex(32)
	}
	sec["oidcClientSecret"] = oidcClientSecret
	out, err := json.MarshalIndent(sec, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(out, '\n'), 0o600); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, err
	}
	return sec, os.Chmod(path, 0o600)
}
