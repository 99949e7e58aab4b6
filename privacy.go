package mailtrail

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// EraseResult counts what erasing a customer changed: their raw events (personal fields
// removed), their messages (address removed) and the suppressions of their addresses now
// kept under the address's hash.
type EraseResult struct {
	Events       int `json:"events"`
	Messages     int `json:"messages"`
	Suppressions int `json:"suppressions"`
	// Customer is who was erased, for the change-set an erasure publishes; never
	// answered (the new id is not the CRM's business).
	Customer ErasedCustomer `json:"-"`
}

// EmailHashPrefix starts the key under which an erased customer's address stays suppressed.
const EmailHashPrefix = "sha256:"

// EmailHash returns the key of an erased address's suppression: EmailHashPrefix and the
// lower-case hex SHA-256 of the normalized address (NormalizeEmail). An address that was
// erased is still suppressed under it, without being stored.
func EmailHash(email string) string {
	h := sha256.Sum256([]byte(NormalizeEmail(email)))
	return EmailHashPrefix + hex.EncodeToString(h[:])
}

// IsEmailHash reports whether s is a key made by EmailHash.
func IsEmailHash(s string) bool {
	hexPart, ok := strings.CutPrefix(s, EmailHashPrefix)
	if !ok || len(hexPart) != sha256.Size*2 {
		return false
	}
	for i := 0; i < len(hexPart); i++ {
		if c := hexPart[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
