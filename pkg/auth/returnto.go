package auth

import (
	"net/url"
	"strings"
	"unicode"
)

// SafeReturnTo returns s when it is a same-site path, else "/". A same-site path starts with one "/"
// (not "//"), has no backslash, no control or space characters, no scheme and no host, also once
// percent-decoded, so that no browser can read it as another site.
func SafeReturnTo(s string) string {
	if !sameSitePath(s) {
		return "/"
	}
	if dec, err := url.PathUnescape(s); err != nil || !sameSitePath(dec) {
		return "/"
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/"
	}
	return s
}

func sameSitePath(s string) bool {
	if len(s) == 0 || len(s) > 2048 || s[0] != '/' || strings.HasPrefix(s, "//") || strings.ContainsRune(s, '\\') {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.IsSpace(r) || r == unicode.ReplacementChar {
			return false
		}
	}
	return true
}
