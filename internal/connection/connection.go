// Package connection is the use case of ESP connections, whichever door it is reached by
// (the HTTP API, the dashboard, `mailtrail connection`): creating one with its vendor's
// credentials checked and sealed, rotating them (the previous ones valid until a time),
// disabling and enabling, listing without credentials, and the process's record of each
// connection's webhooks (Health). It owns the small interface it needs of the store
// (Store) and has no HTTP in it.
package connection

import (
	"context"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/egress"
	"github.com/mailtrail/mailtrail/internal/esp"
	"github.com/mailtrail/mailtrail/internal/secrets"
)

// DefaultRotationGrace is how long a connection's previous credentials stay valid after a
// rotation when the caller does not say.
const DefaultRotationGrace = 24 * time.Hour

// MaxRotationGrace bounds the grace period of a rotation.
const MaxRotationGrace = 30 * 24 * time.Hour

// Store is what the connections use case needs of the store.
type Store interface {
	CreateConnection(ctx context.Context, c *mailtrail.Connection) error
	Connections(ctx context.Context, orgID string) ([]mailtrail.Connection, error)
	Connection(ctx context.Context, orgID, id string) (*mailtrail.Connection, error)
	SetConnectionDisabled(ctx context.Context, orgID, id string, disabled bool) error
	RotateConnection(ctx context.Context, orgID, id string, sealed []byte, previousUntil time.Time) error
}

// Options configure the service. Zero values take the defaults noted.
type Options struct {
	// Keys seals the credentials and mailbox logins under its current key.
	Keys secrets.Keyring
	// Vendors are the vendors a connection may be created for.
	Vendors esp.Registry
	// PublicURL is the base of the webhook URLs, without trailing slash.
	PublicURL string
	// IMAPEgress is the address policy of bounce mailboxes: an imap_url whose host is an
	// address it refuses is refused at creation (the poller checks again at every dial).
	IMAPEgress egress.Policy
	// IMAPResolver, when set, looks imap_url names up for that check; nil: only literal
	// addresses and localhost are judged.
	IMAPResolver egress.Resolver
	// Now is the clock of rotations (default time.Now); the record of webhooks starts at
	// Now() too.
	Now func() time.Time
	// Health is the record of the connections' webhooks that the webhook use case writes
	// to; nil: a new, empty one.
	Health *Health
	// HealthStore, when set, keeps the record where every process that receives the
	// webhooks adds to it (ShareHealth) and reads it (Health): the API nodes of the
	// cluster mode.
	HealthStore HealthStore
}

// Service is the connections use case. Safe for concurrent use.
type Service struct {
	store Store
	opt   Options
}

// New returns the service over store.
func New(store Store, opt Options) *Service {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Vendors == nil {
		opt.Vendors = esp.Registry{}
	}
	if opt.Health == nil {
		opt.Health = NewHealth(opt.Now())
	}
	if opt.HealthStore != nil {
		opt.Health.share()
	}
	return &Service{store: store, opt: opt}
}

// Input is a connection to create: its vendor, name, webhook credentials and, for the
// vendors that read one, its bounce mailbox.
type Input struct {
	Vendor, Name string
	Credentials  esp.Credentials
	Mailbox      MailboxInput
	// FieldName spells the credential fields in errors; nil: as the API does
	// ("signing_key").
	FieldName func(esp.CredentialField) string
}

// Create creates a connection of in.Vendor for the organization orgID: the vendor known,
// a name of 1 to 200 characters, credentials its webhooks can be verified with
// (CheckCredentials) and sealed, the mailbox's fields and address policy checked. It
// returns the connection with its webhook URL and without sealed values. Bad input is
// EINVALID and nothing is stored.
func (s *Service) Create(ctx context.Context, orgID string, in Input) (*mailtrail.Connection, error) {
	vendor, name := strings.TrimSpace(in.Vendor), strings.TrimSpace(in.Name)
	if err := CheckVendor(s.opt.Vendors, vendor); err != nil {
		return nil, err
	}
	if name == "" || len(name) > 200 {
		return nil, mailtrail.Errorf(mailtrail.EINVALID, "name is required (at most 200 characters)")
	}
	mb := in.Mailbox
	creds, err := CheckCredentials(vendor, in.Credentials, strings.TrimSpace(mb.IMAPURL) != "", in.FieldName)
	if err != nil {
		return nil, err
	}
	c := &mailtrail.Connection{ID: NewID(), OrgID: orgID, Vendor: vendor, Name: name}
	if c.Sealed, err = SealCredentials(s.opt.Keys, c.ID, creds); err != nil {
		return nil, err
	}
	if err := mb.Apply(s.opt.Keys, c); err != nil {
		return nil, err
	}
	if err := CheckIMAPHost(ctx, c.IMAPURL, s.opt.IMAPEgress, s.opt.IMAPResolver); err != nil {
		return nil, err
	}
	if err := s.store.CreateConnection(ctx, c); err != nil {
		return nil, err
	}
	return s.out(c), nil
}

// GraceSeconds returns the grace period of a rotation given in seconds; nil is
// DefaultRotationGrace. Outside 0 to MaxRotationGrace it is EINVALID.
func GraceSeconds(n *int64) (time.Duration, error) {
	if n == nil {
		return DefaultRotationGrace, nil
	}
	if *n < 0 || *n > int64(MaxRotationGrace/time.Second) {
		return 0, errGrace()
	}
	return time.Duration(*n) * time.Second, nil
}

func errGrace() error {
	return mailtrail.Errorf(mailtrail.EINVALID, "grace_seconds must be 0 to %d", int64(MaxRotationGrace/time.Second))
}

// Rotate gives the organization's connection id new credentials, checked for its vendor
// and sealed; the previous ones stay valid for grace (0: not at all; at most
// MaxRotationGrace). It returns the connection rotated, as Get does. ENOTFOUND for
// another organization's connection, EINVALID for bad credentials or grace; nothing
// changes then.
func (s *Service) Rotate(ctx context.Context, orgID, id string, creds esp.Credentials, grace time.Duration) (*mailtrail.Connection, error) {
	if grace < 0 || grace > MaxRotationGrace {
		return nil, errGrace()
	}
	conn, err := s.store.Connection(ctx, orgID, id)
	if err != nil {
		return nil, err
	}
	creds, err = CheckCredentials(conn.Vendor, creds, false, nil)
	if err != nil {
		return nil, err
	}
	sealed, err := SealCredentials(s.opt.Keys, id, creds)
	if err != nil {
		return nil, err
	}
	var until time.Time
	if grace > 0 {
		until = s.opt.Now().Add(grace)
	}
	if err := s.store.RotateConnection(ctx, orgID, id, sealed, until); err != nil {
		return nil, err
	}
	return s.Get(ctx, orgID, id)
}

// SetDisabled disables (its webhooks are refused, 404) or enables the organization's
// connection id, and returns it as Get does; ENOTFOUND for another organization's.
func (s *Service) SetDisabled(ctx context.Context, orgID, id string, disabled bool) (*mailtrail.Connection, error) {
	if err := s.store.SetConnectionDisabled(ctx, orgID, id, disabled); err != nil {
		return nil, err
	}
	return s.Get(ctx, orgID, id)
}

// List returns the organization's connections with their webhook URLs, without sealed
// values.
func (s *Service) List(ctx context.Context, orgID string) ([]mailtrail.Connection, error) {
	list, err := s.store.Connections(ctx, orgID)
	if err != nil {
		return nil, err
	}
	for i := range list {
		s.out(&list[i])
	}
	return list, nil
}

// Get returns the organization's connection id with its webhook URL, without sealed
// values; ENOTFOUND for another organization's.
func (s *Service) Get(ctx context.Context, orgID, id string) (*mailtrail.Connection, error) {
	c, err := s.store.Connection(ctx, orgID, id)
	if err != nil {
		return nil, err
	}
	return s.out(c), nil
}

// Health returns a copy of what this process saw of connection id's webhooks since it
// started, or with a HealthStore what every process saw (as of their last ShareHealth;
// what this process saw when the store does not answer). An unknown id gets zero counts
// and no errors; it never fails.
func (s *Service) Health(id string) mailtrail.ConnectionHealth {
	if s.opt.HealthStore != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		h, ok, err := s.opt.HealthStore.ConnectionHealth(ctx, id)
		switch {
		case err == nil && ok:
			return h
		case err == nil:
			return s.opt.Health.Get("") // nothing recorded: zero counts since this process started
		}
	}
	return s.opt.Health.Get(id)
}

// ShareHealth gives what this process records of the webhooks to the HealthStore every
// interval, until ctx ends, then once more. Deltas the store refuses are kept for the
// next time (onError is told why). Without a HealthStore it returns at once.
func (s *Service) ShareHealth(ctx context.Context, every time.Duration, onError func(error)) {
	if s.opt.HealthStore == nil {
		return
	}
	flush := func(ctx context.Context) {
		if d := s.opt.Health.drain(); len(d) > 0 {
			if err := s.opt.HealthStore.AddHealth(ctx, d); err != nil {
				s.opt.Health.restore(d)
				onError(err)
			}
		}
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			flush(fctx)
			cancel()
			return
		case <-t.C:
			flush(ctx)
		}
	}
}

// HealthRecord is the record the webhook use case writes each request of a connection to.
func (s *Service) HealthRecord() *Health { return s.opt.Health }

// WebhookURL returns where the connection c's webhooks arrive.
func (s *Service) WebhookURL(c *mailtrail.Connection) string {
	return mailtrail.WebhookURL(s.opt.PublicURL, c.Vendor, c.ID)
}

// out returns c as its callers see it: the webhook URL set, the sealed values dropped.
func (s *Service) out(c *mailtrail.Connection) *mailtrail.Connection {
	c.WebhookURL = s.WebhookURL(c)
	c.Sealed, c.SealedPrevious, c.SealedIMAP = nil, nil, nil
	return c
}
