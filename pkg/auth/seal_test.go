package auth

import (
	"bytes"
	"encoding/hex"
	"path/filepath"
	"testing"
)

func TestSealer(t *testing.T) {
	t.Parallel()
	s, err := NewSealer(NewKey())
	if err != nil {
		t.Fatal(err)
	}
	a, b := s.Seal("p", []byte("lba_at_secret")), s.Seal("p", []byte("lba_at_secret"))
	if bytes.Equal(a, b) {
		t.Error("two seals of the same value are equal: the nonce is not random")
	}
	if a[0] != sealVersion || bytes.Contains(a, []byte("lba_")) {
		t.Errorf("sealed value %x lacks the version or shows the plaintext", a)
	}
	if got, err := s.Open("p", a); err != nil || string(got) != "lba_at_secret" {
		t.Errorf("Open = %q, %v", got, err)
	}
	other, _ := NewSealer(NewKey())
	tampered := append([]byte(nil), a...)
	tampered[len(tampered)-1] ^= 1
	for name, fn := range map[string]func() ([]byte, error){
		"wrong purpose": func() ([]byte, error) { return s.Open("q", a) },
		"wrong key":     func() ([]byte, error) { return other.Open("p", a) },
		"tampered":      func() ([]byte, error) { return s.Open("p", tampered) },
		"truncated":     func() ([]byte, error) { return s.Open("p", a[:10]) },
		"other version": func() ([]byte, error) { return s.Open("p", append([]byte{2}, a[1:]...)) },
	} {
		if _, err := fn(); err == nil {
			t.Errorf("%s: opened", name)
		}
	}
	if _, err := NewSealer(make([]byte, 16)); err == nil {
		t.Error("a 16-byte key was accepted")
	}
}

func TestParseKey(t *testing.T) {
	t.Parallel()
	k := NewKey()
	for _, s := range []string{hex.EncodeToString(k), "  " + hex.EncodeToString(k) + "\n",
		"base64std", "base64url"} {
		switch s {
		case "base64std":
			s = b64std(k)
		case "base64url":
			s = b64url(k)
		}
		got, err := ParseKey(s)
		if err != nil || !bytes.Equal(got, k) {
			t.Errorf("ParseKey(%q) = %x, %v", s, got, err)
		}
	}
	for _, bad := range []string{"", "abcd", hex.EncodeToString(k[:16])} {
		if _, err := ParseKey(bad); err == nil {
			t.Errorf("ParseKey(%q) accepted", bad)
		}
	}
}

func TestLoadOrCreateKeyFile(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "sub", "sealing.key")
	a, err := LoadOrCreateKeyFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadOrCreateKeyFile(p)
	if err != nil || !bytes.Equal(a, b) || len(a) != KeySize {
		t.Errorf("second load = %x, %v; want the same %d-byte key", b, err, KeySize)
	}
}
