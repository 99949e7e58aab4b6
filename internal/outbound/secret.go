package outbound

import (
	"crypto/rand"
	"encoding/base64"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/secrets"
)

// sealContext binds a sealed secret to its subscription: it cannot be moved to another.
func sealContext(subID string) []byte { return []byte("mailtrail subscription secret\x00" + subID) }

// SealSecret seals a subscription's signing secret for storage under the keyring's
// current key.
func SealSecret(keys secrets.Keyring, subID string, secret []byte) ([]byte, error) {
	return keys.Seal(secret, sealContext(subID))
}

// OpenSecret opens what SealSecret sealed under any key of the keyring; secrets.ErrOpen
// when no key opens it or the id differs.
func OpenSecret(keys secrets.Keyring, subID string, sealed []byte) ([]byte, error) {
	return keys.Open(sealed, sealContext(subID))
}

// ResealSecret re-seals s.Sealed under the keyring's current key when only an old key
// opens it, and reports whether it did; secrets.ErrOpen (s unchanged) when no key opens it.
func ResealSecret(keys secrets.Keyring, s *mailtrail.Subscription) (bool, error) {
	out, changed, err := keys.Reseal(s.Sealed, sealContext(s.ID))
	if err != nil || !changed {
		return false, err
	}
	s.Sealed = out
	return true, nil
}

// NewSecret returns a new signing secret: "whsec_" and 32 random bytes in base64url.
func NewSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return "whsec_" + base64.RawURLEncoding.EncodeToString(b)
}

// CheckSecret validates a secret a client chose: 24 to 256 printable ASCII characters.
func CheckSecret(s string) error {
	if len(s) < 24 || len(s) > 256 {
		return mailtrail.Errorf(mailtrail.EINVALID, "secret must be 24 to 256 characters (or omitted: one is generated)")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return mailtrail.Errorf(mailtrail.EINVALID, "secret must be printable ASCII without spaces")
		}
	}
	return nil
}
