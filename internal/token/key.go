package token

import (
	"crypto/hmac"
	"crypto/sha256"
)

// Key is one signing key. ID goes into every token it signs so that the verifier can pick
// the key again after a rotation.
type Key struct {
	ID     uint8  // 0..MaxKeyID
	Secret []byte // at least MinSecretLen bytes
}

// Key limits.
const (
	MaxKeyID     = 15 // the key id has 4 bits in the token
	MinSecretLen = 32 // FIPS 198-1: at least half the HMAC-SHA256 output length
)

// keyLabel separates the token key from anything else derived from the same master secret.
const keyLabel = "mailtrail token key v1"

// KeyFromSecret returns the Key with the given id whose secret is
// HMAC-SHA256(master, "mailtrail token key v1"), so that one configured master secret can
// also derive keys for other uses without the token key revealing them or the reverse.
// If master is shorter than MinSecretLen bytes, the returned Key has no secret, so
// NewSigner rejects it instead of signing with a weak key.
func KeyFromSecret(id uint8, master []byte) Key {
	if len(master) < MinSecretLen {
		return Key{ID: id}
	}
	m := hmac.New(sha256.New, master)
	m.Write([]byte(keyLabel))
	return Key{ID: id, Secret: m.Sum(nil)}
}
