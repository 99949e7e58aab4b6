package connection

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/esp"
	"github.com/mailtrail/mailtrail/internal/secrets"
)

// sealedCredentials is the plaintext that is sealed: a connection's credentials.
type sealedCredentials struct {
	SigningKey  string `json:"k,omitempty"`
	Username    string `json:"u,omitempty"`
	Password    string `json:"p,omitempty"`
	BearerToken string `json:"b,omitempty"`
	TopicARN    string `json:"t,omitempty"`
}

// sealContext binds a sealed value to its connection: it cannot be copied to another row.
func sealContext(connID string) []byte { return []byte("mailtrail connection v1\x00" + connID) }

// SealCredentials seals c (Previous ignored) for the connection connID under the keyring's
// current key. It fails only on a key of the wrong size.
func SealCredentials(keys secrets.Keyring, connID string, c esp.Credentials) ([]byte, error) {
	pt, err := json.Marshal(sealedCredentials{SigningKey: c.SigningKey, Username: c.Username, Password: c.Password,
		BearerToken: c.BearerToken, TopicARN: c.TopicARN})
	if err != nil {
		return nil, err
	}
	return keys.Seal(pt, sealContext(connID))
}

// OpenCredentials opens what SealCredentials sealed under any key of the keyring;
// secrets.ErrOpen when no key opens it or the connection does not match.
func OpenCredentials(keys secrets.Keyring, connID string, sealed []byte) (esp.Credentials, error) {
	pt, err := keys.Open(sealed, sealContext(connID))
	if err != nil {
		return esp.Credentials{}, err
	}
	var s sealedCredentials
	if err := json.Unmarshal(pt, &s); err != nil {
		return esp.Credentials{}, fmt.Errorf("connection: sealed credentials: %w", err)
	}
	return esp.Credentials{SigningKey: s.SigningKey, Username: s.Username, Password: s.Password, BearerToken: s.BearerToken, TopicARN: s.TopicARN}, nil
}

// Reseal re-seals under the keyring's current key each sealed value of c (its
// credentials, previous credentials and mailbox login) that only an old key opens, and
// returns how many it re-sealed. A value that no key opens is left as it is and counted in
// unopened: it stays broken until its connection is given new credentials.
func Reseal(keys secrets.Keyring, c *mailtrail.Connection) (resealed, unopened int, err error) {
	for _, f := range []struct {
		v   *[]byte
		ctx []byte
	}{{&c.Sealed, sealContext(c.ID)}, {&c.SealedPrevious, sealContext(c.ID)}, {&c.SealedIMAP, mailboxSealContext(c.ID)}} {
		if len(*f.v) == 0 {
			continue
		}
		out, changed, err := keys.Reseal(*f.v, f.ctx)
		switch {
		case errors.Is(err, secrets.ErrOpen):
			unopened++
		case err != nil:
			return 0, 0, err
		case changed:
			*f.v = out
			resealed++
		}
	}
	return resealed, unopened, nil
}

// NewID returns an unguessable connection id: "conn_" and 16 random bytes.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "conn_" + base64.RawURLEncoding.EncodeToString(b[:])
}

// CheckCredentials returns c trimmed (keys, token and topic) once it is usable by a
// connection of vendor: every field at most 8 KiB, and the fields the vendor's webhooks are
// verified with (esp.CheckCredentials; name spells the fields in errors, nil: as the API
// does). With mailbox, a connection fed by its bounce mailbox, no credential at all is
// accepted too: its webhook URL then refuses every request. Errors are EINVALID and name
// the fields, never their values.
func CheckCredentials(vendor string, c esp.Credentials, mailbox bool, name func(esp.CredentialField) string) (esp.Credentials, error) {
	c = esp.Credentials{SigningKey: strings.TrimSpace(c.SigningKey), Username: c.Username, Password: c.Password,
		BearerToken: strings.TrimSpace(c.BearerToken), TopicARN: strings.TrimSpace(c.TopicARN)}
	for _, v := range []string{c.SigningKey, c.Username, c.Password, c.BearerToken, c.TopicARN} {
		if len(v) > 8<<10 {
			return c, mailtrail.Errorf(mailtrail.EINVALID, "a credential is over 8 KiB")
		}
	}
	if mailbox && c == (esp.Credentials{}) {
		return c, nil
	}
	return c, esp.CheckCredentials(vendor, c, name)
}

// CheckVendor returns an EINVALID error unless vendor is one of vendors.
func CheckVendor(vendors esp.Registry, vendor string) error {
	if _, ok := vendors.Get(vendor); !ok {
		return mailtrail.Errorf(mailtrail.EINVALID, "unknown vendor %q: use %s", vendor, esp.NamesList())
	}
	return nil
}
