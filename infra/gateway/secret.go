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

// secretARN is the ARN of the gateway's application secret, one JSON object of every field.
const secretARN = "arn:aws:secretsmanager:" + region + ":" + accountID + ":secret:secondme-gateway-AbCdEf"

// secretParams maps the secret parameters of template.yaml, which name one Secrets Manager secret per
// key, to the field of the local secret that holds each one's value.
var secretParams = map[string]string{
	"SealingKeySecretArn":      "sealingKey",
	"OriginVerifySecretArn":    "originVerify",
	"OidcClientSecretArn":      "oidcClientSecret",
	"SecondMeWebhookSecretArn": "secondmeWebhookSecret",
}

// fieldARN is the ARN of the local secret of its own that holds one field of the local secret.
func fieldARN(field string) string {
	return "arn:aws:secretsmanager:" + region + ":" + accountID + ":secret:secondme-gateway/" + field + "-AbCdEf"
}

// ownSecrets returns a secret of its own (ARN -> plain string) for each field of secret.
func ownSecrets(secret map[string]string) map[string]string {
	out := map[string]string{}
	for field, v := range secret {
		out[fieldARN(field)] = v
	}
	return out
}

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
