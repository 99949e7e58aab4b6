// Package secrets seals small secrets (connection credentials) for storage at rest:
// AES-256-GCM under a key derived from the service's master secret, each sealed value
// bound to a context (the row it belongs to) so it cannot be moved to another row.
// Sealing and opening go through a Keyring, which knows the retired secrets too: a value
// sealed before the service secret was rotated still opens.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// version is the first byte of every sealed value, for a future change of scheme.
const version = 1

// ErrOpen is returned when a sealed value does not open: wrong key, wrong context, or
// corrupted bytes. It says nothing more on purpose.
var ErrOpen = errors.New("secrets: sealed value does not open")

// DeriveKey returns the 32-byte sealing key of a master secret:
// HMAC-SHA256(master, "mailtrail secrets v1"). The master secret also signs tracking ids;
// the derivation keeps the two uses apart.
func DeriveKey(master []byte) []byte {
	m := hmac.New(sha256.New, master)
	m.Write([]byte("mailtrail secrets v1"))
	return m.Sum(nil)
}

func aead(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("secrets: key must be 32 bytes, got %d", len(key))
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	return cipher.NewGCM(b)
}

// seal encrypts plaintext under key, authenticated together with context. The result is
// version ‖ nonce ‖ ciphertext ‖ tag. It fails only on a key of the wrong size.
func seal(key, plaintext, context []byte) ([]byte, error) {
	g, err := aead(key)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+g.NonceSize(), 1+g.NonceSize()+len(plaintext)+g.Overhead())
	out[0] = version
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("secrets: nonce: %w", err)
	}
	return g.Seal(out, out[1:], plaintext, context), nil
}

// open decrypts a value made by seal with the same key and context; ErrOpen otherwise.
func open(key, sealed, context []byte) ([]byte, error) {
	g, err := aead(key)
	if err != nil {
		return nil, err
	}
	n := g.NonceSize()
	if len(sealed) < 1+n+g.Overhead() || sealed[0] != version {
		return nil, ErrOpen
	}
	pt, err := g.Open(nil, sealed[1:1+n], sealed[1+n:], context)
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}
