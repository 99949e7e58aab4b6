package httpd

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/esp"
	"github.com/mailtrail/mailtrail/internal/secrets"
)

// DefaultRotationGrace is how long a connection's previous credentials stay valid after a
// rotation when the request does not say.
const DefaultRotationGrace = 24 * time.Hour

// maxRotationGrace bounds the grace period a client may ask for.
const maxRotationGrace = 30 * 24 * time.Hour

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
		return esp.Credentials{}, fmt.Errorf("httpd: sealed credentials: %w", err)
	}
	return esp.Credentials{SigningKey: s.SigningKey, Username: s.Username, Password: s.Password, BearerToken: s.BearerToken, TopicARN: s.TopicARN}, nil
}

// ResealConnection re-seals under the keyring's current key each sealed value of c (its
// credentials, previous credentials and mailbox login) that only an old key opens, and
// returns how many it re-sealed. A value that no key opens is left as it is and counted in
// unopened: it stays broken until its connection is given new credentials.
func ResealConnection(keys secrets.Keyring, c *mailtrail.Connection) (resealed, unopened int, err error) {
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

// NewConnectionID returns an unguessable connection id: "conn_" and 16 random bytes.
func NewConnectionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "conn_" + base64.RawURLEncoding.EncodeToString(b[:])
}

// WebhookURL returns the URL a vendor posts a connection's webhooks to.
func WebhookURL(publicURL, vendor, connID string) string {
	return mailtrail.WebhookURL(publicURL, vendor, connID)
}

// credentialsInput are the credential fields of a create or rotate request.
type credentialsInput struct {
	SigningKey  string `json:"signing_key"`
	Username    string `json:"username"`
	Password    string `json:"password"`
	BearerToken string `json:"bearer_token"`
	TopicARN    string `json:"topic_arn"`
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

type createConnectionRequest struct {
	Vendor string `json:"vendor"`
	Name   string `json:"name"`
	credentialsInput
	MailboxInput
}

type rotateConnectionRequest struct {
	credentialsInput
	// GraceSeconds is how long the previous credentials stay valid; absent: 24 hours.
	GraceSeconds *int64 `json:"grace_seconds"`
}

// connectionOut is a connection as a client sees it: with this process's record of its
// webhooks.
type connectionOut struct {
	*mailtrail.Connection
	WebhookHealth ConnectionHealth `json:"webhook_health"`
}

// withURL returns c as a client sees it: webhook URL and webhook health filled.
func (s *Server) withURL(c *mailtrail.Connection) connectionOut {
	c.WebhookURL = WebhookURL(s.opt.PublicURL, c.Vendor, c.ID)
	return connectionOut{Connection: c, WebhookHealth: s.hooks.health.get(c.ID)}
}

// CheckVendor returns an EINVALID error unless vendor is one of vendors.
func CheckVendor(vendors esp.Registry, vendor string) error {
	if _, ok := vendors.Get(vendor); !ok {
		return mailtrail.Errorf(mailtrail.EINVALID, "unknown vendor %q: use %s", vendor, esp.NamesList())
	}
	return nil
}

func (s *Server) createConnection(w http.ResponseWriter, r *http.Request) error {
	var req createConnectionRequest
	if err := decodeJSON(w, r, 64<<10, &req); err != nil {
		return err
	}
	creds := esp.Credentials{SigningKey: req.SigningKey, Username: req.Username, Password: req.Password,
		BearerToken: req.BearerToken, TopicARN: req.TopicARN}
	c, err := s.CreateConnection(r.Context(), principalFrom(r.Context()).orgID(), req.Vendor, req.Name, creds, req.MailboxInput)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, s.withURL(c))
	return nil
}

// CreateConnection creates a connection of vendor for the organization orgID, its
// credentials checked (CheckCredentials) and sealed, as POST /api/v1/connections does, and
// returns it with its webhook URL. Bad input is EINVALID and nothing is stored.
func (s *Server) CreateConnection(ctx context.Context, orgID, vendor, name string, creds esp.Credentials, mb MailboxInput) (*mailtrail.Connection, error) {
	vendor, name = strings.TrimSpace(vendor), strings.TrimSpace(name)
	if err := CheckVendor(s.opt.Vendors, vendor); err != nil {
		return nil, err
	}
	if name == "" || len(name) > 200 {
		return nil, mailtrail.Errorf(mailtrail.EINVALID, "name is required (at most 200 characters)")
	}
	creds, err := CheckCredentials(vendor, creds, strings.TrimSpace(mb.IMAPURL) != "", nil)
	if err != nil {
		return nil, err
	}
	c := &mailtrail.Connection{ID: NewConnectionID(), OrgID: orgID, Vendor: vendor, Name: name}
	if c.Sealed, err = SealCredentials(s.opt.Secrets, c.ID, creds); err != nil {
		return nil, err
	}
	if err := mb.Apply(s.opt.Secrets, c); err != nil {
		return nil, err
	}
	if err := CheckIMAPHost(ctx, c.IMAPURL, s.opt.IMAPEgress, nil); err != nil {
		return nil, err
	}
	if err := s.store.CreateConnection(ctx, c); err != nil {
		return nil, err
	}
	c.WebhookURL = WebhookURL(s.opt.PublicURL, c.Vendor, c.ID)
	return c, nil
}

func (s *Server) listConnections(w http.ResponseWriter, r *http.Request) error {
	list, err := s.store.Connections(r.Context(), principalFrom(r.Context()).orgID())
	if err != nil {
		return err
	}
	out := make([]connectionOut, len(list))
	for i := range list {
		out[i] = s.withURL(&list[i])
	}
	writeJSON(w, http.StatusOK, map[string]any{"connections": out})
	return nil
}

func (s *Server) getConnection(w http.ResponseWriter, r *http.Request) error {
	c, err := s.store.Connection(r.Context(), principalFrom(r.Context()).orgID(), r.PathValue("conn"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.withURL(c))
	return nil
}

func (s *Server) disableConnection(w http.ResponseWriter, r *http.Request) error {
	return s.setDisabled(w, r, true)
}

func (s *Server) enableConnection(w http.ResponseWriter, r *http.Request) error {
	return s.setDisabled(w, r, false)
}

func (s *Server) setDisabled(w http.ResponseWriter, r *http.Request, disabled bool) error {
	org, id := principalFrom(r.Context()).orgID(), r.PathValue("conn")
	if err := s.store.SetConnectionDisabled(r.Context(), org, id, disabled); err != nil {
		return err
	}
	return s.getConnection(w, r)
}

func (s *Server) rotateConnection(w http.ResponseWriter, r *http.Request) error {
	org, id := principalFrom(r.Context()).orgID(), r.PathValue("conn")
	var req rotateConnectionRequest
	if err := decodeJSON(w, r, 64<<10, &req); err != nil {
		return err
	}
	grace := DefaultRotationGrace
	if req.GraceSeconds != nil {
		grace = time.Duration(*req.GraceSeconds) * time.Second
		if *req.GraceSeconds < 0 || grace > maxRotationGrace {
			return mailtrail.Errorf(mailtrail.EINVALID, "grace_seconds must be 0 to %d", int64(maxRotationGrace/time.Second))
		}
	}
	creds := esp.Credentials{SigningKey: req.SigningKey, Username: req.Username, Password: req.Password,
		BearerToken: req.BearerToken, TopicARN: req.TopicARN}
	if err := s.RotateConnection(r.Context(), org, id, creds, grace); err != nil {
		return err
	}
	return s.getConnection(w, r)
}

// RotateConnection gives the organization's connection id new credentials, checked for
// its vendor and sealed, as POST /api/v1/connections/{conn}/rotate does; the previous ones
// stay valid for grace (0: not at all; at most 30 days). ENOTFOUND for another
// organization's connection, EINVALID for bad credentials; nothing changes then.
func (s *Server) RotateConnection(ctx context.Context, orgID, id string, creds esp.Credentials, grace time.Duration) error {
	if grace < 0 || grace > maxRotationGrace {
		return mailtrail.Errorf(mailtrail.EINVALID, "grace_seconds must be 0 to %d", int64(maxRotationGrace/time.Second))
	}
	conn, err := s.store.Connection(ctx, orgID, id)
	if err != nil {
		return err
	}
	creds, err = CheckCredentials(conn.Vendor, creds, false, nil)
	if err != nil {
		return err
	}
	sealed, err := SealCredentials(s.opt.Secrets, id, creds)
	if err != nil {
		return err
	}
	var until time.Time
	if grace > 0 {
		until = s.now().Add(grace)
	}
	return s.store.RotateConnection(ctx, orgID, id, sealed, until)
}
