package auth

import (
	"bytes"
	"encoding/hex"
	"errors"
	"path/filepath"
	"strings"
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
	if a[0] != 1 || bytes.Contains(a, []byte("lba_")) {
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

// TestKeyRingRotation rotates the ring as an operator does (docs/auth.md, "Sealing-key rotation"):
// values sealed with the old key open after the rotation, new values are sealed with the new key,
// and a value whose key left the ring is a clean error.
func TestKeyRingRotation(t *testing.T) {
	t.Parallel()
	k1, k2 := NewKey(), NewKey()
	s, err := NewSealer(k1)
	if err != nil {
		t.Fatal(err)
	}
	old := s.Seal("p", []byte("before"))
	// Step 1: the new key joins the ring, opening only; step 2: it comes first and seals.
	for _, ring := range [][]Key{{{1, k1}, {2, k2}}, {{2, k2}, {1, k1}}} {
		if err := s.SetKeys(ring); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Open("p", old); err != nil || string(got) != "before" {
			t.Errorf("ring %v: Open of a value sealed before = %q, %v", ring[0].Version, got, err)
		}
	}
	fresh := s.Seal("p", []byte("after"))
	if fresh[0] != 2 {
		t.Errorf("a value sealed after the rotation has version %d, want 2", fresh[0])
	}
	onlyNew, _ := NewSealerRing([]Key{{2, k2}})
	if got, err := onlyNew.Open("p", fresh); err != nil || string(got) != "after" {
		t.Errorf("the new key alone opens the new value: %q, %v", got, err)
	}
	// Step 3: the old key leaves the ring once nothing sealed with it is kept.
	if _, err := onlyNew.Open("p", old); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("Open of a value whose key left the ring = %v, want ErrUnknownKey", err)
	}
	if _, err := onlyNew.Open("p", append([]byte{9}, fresh[1:]...)); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("Open of an unknown version = %v, want ErrUnknownKey", err)
	}
	// A value relabelled with another key's version does not open.
	if _, err := s.Open("p", append([]byte{1}, fresh[1:]...)); err == nil || errors.Is(err, ErrUnknownKey) {
		t.Errorf("Open of a relabelled value = %v, want the invalid-value error", err)
	}
	for name, bad := range map[string][]Key{
		"empty": nil, "version 0": {{0, k1}}, "twice": {{1, k1}, {1, k2}}, "short key": {{1, k1[:16]}},
	} {
		if err := s.SetKeys(bad); err == nil {
			t.Errorf("SetKeys(%s) accepted", name)
		}
	}
	if got, err := s.Open("p", fresh); err != nil || string(got) != "after" {
		t.Errorf("a refused ring replaced the one in use: %q, %v", got, err)
	}
}

func TestParseKeys(t *testing.T) {
	t.Parallel()
	k1, k2 := NewKey(), NewKey()
	h1, h2 := hex.EncodeToString(k1), hex.EncodeToString(k2)
	tests := []struct {
		in   string
		want []Key
	}{
		{h1, []Key{{1, k1}}},
		{" " + b64std(k1) + "\n", []Key{{1, k1}}},
		{"2:" + h2 + " 1:" + h1, []Key{{2, k2}, {1, k1}}},
		{"7:" + b64url(k2) + ",\n3:" + h1, []Key{{7, k2}, {3, k1}}},
		{"1:" + h1, []Key{{1, k1}}},
	}
	for _, tt := range tests {
		got, err := ParseKeys(tt.in)
		if err != nil || len(got) != len(tt.want) {
			t.Errorf("ParseKeys(%.20q) = %v, %v", tt.in, got, err)
			continue
		}
		for i := range got {
			if got[i].Version != tt.want[i].Version || !bytes.Equal(got[i].Secret, tt.want[i].Secret) {
				t.Errorf("ParseKeys(%.20q)[%d] = version %d, want %d", tt.in, i, got[i].Version, tt.want[i].Version)
			}
		}
	}
	for _, bad := range []string{"", " , ", "0:" + h1, "256:" + h1, "x:" + h1, "2:" + h1 + " 2:" + h2, h1 + " " + h2, "2:abcd", "2:" + h1 + " " + h2} {
		if _, err := ParseKeys(bad); err == nil {
			t.Errorf("ParseKeys(%.30q) accepted", bad)
		} else if strings.Contains(err.Error(), h1) || strings.Contains(err.Error(), h2) {
			t.Errorf("ParseKeys error shows a key: %v", err)
		}
	}
}
