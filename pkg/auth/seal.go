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
	"strings"
)

// KeySize is the size of a sealing key: AES-256.
const KeySize = 32

// sealVersion is the first byte of every sealed value, so that a later format or key can be told apart.
const sealVersion byte = 1

// errUnseal is the one error of Open: it says nothing about why, by design.
var errUnseal = errors.New("auth: sealed value is invalid")

// Sealer seals small secrets with AES-256-GCM: provider tokens before they are stored, and the
// login-state cookie. A sealed value is version byte, random 96-bit nonce, ciphertext and tag. The
// purpose is authenticated data: a value sealed for one purpose does not open for another.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer returns a Sealer for a 32-byte key.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("sealing key: %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("sealing key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("sealing key: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts plaintext for purpose.
func (s *Sealer) Seal(purpose string, plaintext []byte) []byte {
	out := make([]byte, 1+s.aead.NonceSize(), 1+s.aead.NonceSize()+len(plaintext)+s.aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		panic("auth: crypto/rand failed: " + err.Error())
	}
	return s.aead.Seal(out, out[1:], plaintext, []byte(purpose))
}

// Open decrypts a value sealed for purpose; any tampering, a wrong key or a wrong purpose is an error.
func (s *Sealer) Open(purpose string, sealed []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < 1+n+s.aead.Overhead() || sealed[0] != sealVersion {
		return nil, errUnseal
	}
	plain, err := s.aead.Open(nil, sealed[1:1+n], sealed[1+n:], []byte(purpose))
	if err != nil {
		return nil, errUnseal
	}
	return plain, nil
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
