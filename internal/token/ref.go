package token

import (
	"crypto/rand"
	"fmt"

	"github.com/mailtrail/mailtrail"
)

// Ref identifies one message: 12 random bytes. Its String is the public message_id.
type Ref [12]byte

// refChars is the length of a Ref's String: 12 bytes are exactly 16 base64 characters.
const refChars = 16

// NewRef returns a fresh random Ref, or an error if the system's random source fails.
func NewRef() (Ref, error) {
	var r Ref
	if _, err := rand.Read(r[:]); err != nil {
		return Ref{}, fmt.Errorf("token: new ref: %w", err)
	}
	return r, nil
}

// String returns r in base64url without padding: 16 characters of [A-Za-z0-9_-].
func (r Ref) String() string {
	var b [refChars]byte
	strict.Encode(b[:], r[:])
	return string(b[:])
}

// ParseRef returns the Ref whose String is s. Any other input, including other spellings
// that a lenient decoder would accept, returns the zero Ref and an EINVALID
// *mailtrail.Error.
func ParseRef(s string) (Ref, error) {
	var r Ref
	if len(s) != refChars || !validAlphabet(s) {
		return Ref{}, errInvalidRef()
	}
	if n, err := strict.Decode(r[:], []byte(s)); err != nil || n != len(r) {
		return Ref{}, errInvalidRef()
	}
	return r, nil
}

func errInvalidRef() error {
	return mailtrail.Errorf(mailtrail.EINVALID, "message id must be %d base64url characters", refChars)
}
