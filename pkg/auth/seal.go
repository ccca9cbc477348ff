package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode"
)

// KeySize is the size of a sealing key: AES-256.
const KeySize = 32

// errUnseal is the error of Open for a value that does not open: it says nothing about why, by design.
var errUnseal = errors.New("auth: sealed value is invalid")

// ErrUnknownKey is the error of Open for a value sealed with a key version the ring does not hold
// (a key removed from the ring too early, or a value from another deployment).
var ErrUnknownKey = errors.New("auth: sealed with a key version the ring does not hold")

// Key is one key of a sealing-key ring: its version (1 to 255), the first byte of every value it
// seals, and its 32 bytes.
type Key struct {
	Version byte
	Secret  []byte
}

// Sealer seals small secrets with AES-256-GCM: provider tokens before they are stored, and the
// login-state cookie. A sealed value is the key's version byte, random 96-bit nonce, ciphertext and
// tag. The purpose is authenticated data: a value sealed for one purpose does not open for another.
//
// A Sealer holds a ring of keys: it seals with the ring's first key (the current one) and opens with
// whichever key the version byte names, so that values sealed before a rotation still open. SetKeys
// replaces the ring while the Sealer is in use.
type Sealer struct {
	ring atomic.Pointer[ring]
}

// ring is a parsed key ring.
type ring struct {
	current byte
	aeads   [256]cipher.AEAD // by version; nil where the ring has no key
}

// NewSealer returns a Sealer for one 32-byte key, version 1.
func NewSealer(key []byte) (*Sealer, error) {
	return NewSealerRing([]Key{{Version: 1, Secret: key}})
}

// NewSealerRing returns a Sealer for a ring of keys, the first of which seals.
func NewSealerRing(keys []Key) (*Sealer, error) {
	s := &Sealer{}
	if err := s.SetKeys(keys); err != nil {
		return nil, err
	}
	return s, nil
}

// SetKeys makes keys the ring: the first seals from now on, each opens what it sealed. A ring that is
// empty, holds a version twice, version 0 or a key that is not 32 bytes is an error, and the ring in
// use stays.
func (s *Sealer) SetKeys(keys []Key) error {
	if len(keys) == 0 {
		return errors.New("sealing keys: none")
	}
	r := &ring{current: keys[0].Version}
	for _, k := range keys {
		if k.Version == 0 {
			return errors.New("sealing keys: version 0; versions are 1 to 255")
		}
		if r.aeads[k.Version] != nil {
			return fmt.Errorf("sealing keys: version %d twice", k.Version)
		}
		if len(k.Secret) != KeySize {
			return fmt.Errorf("sealing key %d: %d bytes, want %d", k.Version, len(k.Secret), KeySize)
		}
		block, err := aes.NewCipher(k.Secret)
		if err != nil {
			return fmt.Errorf("sealing key %d: %w", k.Version, err)
		}
		if r.aeads[k.Version], err = cipher.NewGCM(block); err != nil {
			return fmt.Errorf("sealing key %d: %w", k.Version, err)
		}
	}
	s.ring.Store(r)
	return nil
}

// Seal encrypts plaintext for purpose with the ring's current key.
func (s *Sealer) Seal(purpose string, plaintext []byte) []byte {
	r := s.ring.Load()
	aead := r.aeads[r.current]
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(plaintext)+aead.Overhead())
	out[0] = r.current
	if _, err := rand.Read(out[1:]); err != nil {
		panic("auth: crypto/rand failed: " + err.Error())
	}
	return aead.Seal(out, out[1:], plaintext, []byte(purpose))
}

// Open decrypts a value sealed for purpose with any key of the ring. A version the ring does not hold
// is ErrUnknownKey; any tampering, a wrong key or a wrong purpose is one error that says no more.
func (s *Sealer) Open(purpose string, sealed []byte) ([]byte, error) {
	if len(sealed) == 0 {
		return nil, errUnseal
	}
	aead := s.ring.Load().aeads[sealed[0]]
	if aead == nil {
		return nil, ErrUnknownKey
	}
	n := aead.NonceSize()
	if len(sealed) < 1+n+aead.Overhead() {
		return nil, errUnseal
	}
	plain, err := aead.Open(nil, sealed[1:1+n], sealed[1+n:], []byte(purpose))
	if err != nil {
		return nil, errUnseal
	}
	return plain, nil
}

// ParseKeys reads a sealing-key ring: entries "<version>:<key>" separated by spaces, commas or
// newlines, the current key (the one that seals) first, each key as ParseKey reads it, versions from
// 1 to 255. A lone key without a version is version 1 (a deployment from before the ring). Example:
// "2:<64 hex digits> 1:<64 hex digits>".
func ParseKeys(s string) ([]Key, error) {
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
	if len(fields) == 0 {
		return nil, errors.New("sealing keys: none")
	}
	if len(fields) == 1 && !strings.Contains(fields[0], ":") {
		k, err := ParseKey(fields[0])
		if err != nil {
			return nil, err
		}
		return []Key{{Version: 1, Secret: k}}, nil
	}
	keys := make([]Key, 0, len(fields))
	seen := map[int]bool{}
	for i, f := range fields {
		v, key, ok := strings.Cut(f, ":")
		n, err := strconv.Atoi(v)
		if !ok || err != nil || n < 1 || n > 255 {
			return nil, fmt.Errorf("sealing keys: entry %d: want <version 1-255>:<key>", i+1)
		}
		if seen[n] {
			return nil, fmt.Errorf("sealing keys: version %d twice", n)
		}
		seen[n] = true
		k, err := ParseKey(key)
		if err != nil {
			return nil, fmt.Errorf("sealing keys: version %d: %w", n, err)
		}
		keys = append(keys, Key{Version: byte(n), Secret: k})
	}
	return keys, nil
}

// ParseKey reads a sealing key written as 64 hex digits or as base64 (standard or URL alphabet,
// with or without padding) of 32 bytes.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == 2*KeySize {
		if k, err := hex.DecodeString(s); err == nil {
			return k, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil && len(k) == KeySize {
			return k, nil
		}
	}
	return nil, fmt.Errorf("sealing key: want 32 bytes as 64 hex digits or base64")
}

// NewKey returns a fresh random sealing key.
func NewKey() []byte {
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		panic("auth: crypto/rand failed: " + err.Error())
	}
	return k
}

// LoadOrCreateKeyFile returns the sealing key kept in path (hex), creating the file with a fresh key
// (mode 0600) the first time. The local stack keeps its key this way; AWS reads Secrets Manager.
func LoadOrCreateKeyFile(path string) ([]byte, error) {
	if b, err := os.ReadFile(path); err == nil {
		k, err := ParseKey(string(b))
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		return k, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read sealing key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create sealing key: %w", err)
	}
	k := NewKey()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) { // another process made it first
		return LoadOrCreateKeyFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("create sealing key: %w", err)
	}
	if _, err := f.WriteString(hex.EncodeToString(k) + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("write sealing key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("write sealing key: %w", err)
	}
	return k, nil
}
