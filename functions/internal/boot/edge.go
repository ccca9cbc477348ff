package boot

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"

	"github.com/secondme/twin/pkg/api"
)

// Edge returns what an HTTP function knows of the public origin in front of it (docs/platform.md, "One
// public origin"): PUBLIC_URL, the origin browsers use (scheme://host[:port], see PublicURL), and the
// edge secret, the field originVerify of the application secret SECRETS_ARN (or the secret
// ORIGIN_VERIFY_SECRET_ARN names), which the edge sends in X-Origin-Verify. Both are optional, and
// both are logged when missing: without PUBLIC_URL every unsafe request is refused, without the edge
// secret the function answers requests that did not come through the edge.
func Edge(ctx context.Context, getenv func(string) string) (api.Edge, error) {
	public, err := PublicURL(getenv)
	if err != nil {
		return api.Edge{}, err
	}
	sec, err := readSecrets(ctx, getenv, map[string]need{"ORIGIN_VERIFY_SECRET_ARN": optional})
	if err != nil {
		return api.Edge{}, err
	}
	edge := api.Edge{PublicURL: public, Secret: sec["ORIGIN_VERIFY_SECRET_ARN"]}
	if edge.PublicURL == "" {
		slog.WarnContext(ctx, "PUBLIC_URL is not set: every POST, PUT, PATCH and DELETE is refused")
	}
	if edge.Secret == "" {
		slog.WarnContext(ctx, "no edge secret (originVerify in SECRETS_ARN): requests are not checked for X-Origin-Verify")
	}
	return edge, nil
}

// PublicURL reads PUBLIC_URL, the origin browsers use: "" when unset, else http(s)://host[:port] with
// nothing after it (no path, not even "/"), or an error saying what is wrong.
func PublicURL(getenv func(string) string) (string, error) {
	v := getenv("PUBLIC_URL")
	if v == "" {
		return "", nil
	}
	u, err := url.Parse(v)
	switch {
	case err != nil:
		return "", fmt.Errorf("PUBLIC_URL=%q: %w", v, err)
	case u.Scheme != "https" && u.Scheme != "http":
		return "", fmt.Errorf("PUBLIC_URL=%q: want https://host or http://host[:port]", v)
	case u.Hostname() == "" || u.Host[len(u.Host)-1] == ':':
		return "", fmt.Errorf("PUBLIC_URL=%q: no host; want https://host[:port]", v)
	case u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" || u.ForceQuery:
		return "", fmt.Errorf("PUBLIC_URL=%q: want only scheme://host[:port], with no path, query or user", v)
	}
	return v, nil
}
