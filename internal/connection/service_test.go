package connection_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/connection"
	"github.com/mailtrail/mailtrail/internal/egress"
	"github.com/mailtrail/mailtrail/internal/esp"
	"github.com/mailtrail/mailtrail/internal/secrets"
	"github.com/mailtrail/mailtrail/internal/store/sqlite"
)

// fixture is the service over a real SQLite store, with two organizations and a clock the
// test reads.
type fixture struct {
	db         *sqlite.DB
	svc        *connection.Service
	keys       secrets.Keyring
	orgA, orgB string
	now        time.Time
}

func newFixture(t *testing.T, egressPolicy egress.Policy) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, t.TempDir()+"/mailtrail.db", sqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &fixture{db: db, keys: secrets.NewKeyring([]byte("test service secret")), now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	for _, p := range []*string{&f.orgA, &f.orgB} {
		o, _, err := db.CreateOrg(ctx, "org", "UTC")
		if err != nil {
			t.Fatal(err)
		}
		*p = o.ID
	}
	vendors := esp.Registry{}
	esp.RegisterA(vendors)
	esp.RegisterB(vendors, nil)
	f.svc = connection.New(db, connection.Options{Keys: f.keys, Vendors: vendors, PublicURL: "https://mt.example/",
		IMAPEgress: egressPolicy, Now: func() time.Time { return f.now }})
	return f
}

func (f *fixture) count(t *testing.T, org string) int {
	t.Helper()
	list, err := f.db.Connections(context.Background(), org)
	if err != nil {
		t.Fatal(err)
	}
	return len(list)
}

// Create checks the vendor, the name and the vendor's credentials before anything is
// stored, and seals what it stores under the keyring, bound to the connection.
func TestCreate(t *testing.T) {
	f := newFixture(t, egress.Policy{})
	ctx := context.Background()
	flag := func(c esp.CredentialField) string { return "--" + strings.ReplaceAll(string(c), "_", "-") }
	for _, c := range []struct {
		in   connection.Input
		want string
	}{
		{connection.Input{Vendor: "hotmail", Name: "x", Credentials: esp.Credentials{SigningKey: "k"}}, `unknown vendor "hotmail"`},
		{connection.Input{Vendor: "mailgun", Name: "  ", Credentials: esp.Credentials{SigningKey: "k"}}, "name is required"},
		{connection.Input{Vendor: "mailgun", Name: strings.Repeat("n", 201), Credentials: esp.Credentials{SigningKey: "k"}}, "name is required"},
		{connection.Input{Vendor: "mailgun", Name: "x", Credentials: esp.Credentials{BearerToken: "s3cret"}}, "mailgun connection needs signing_key"},
		{connection.Input{Vendor: "ses", Name: "x", Credentials: esp.Credentials{Username: "u", Password: "p"}, FieldName: flag}, "ses connection needs --topic-arn"},
		{connection.Input{Vendor: "generic", Name: "x", Credentials: esp.Credentials{SigningKey: strings.Repeat("k", 8<<10+1)}}, "a credential is over 8 KiB"},
		{connection.Input{Vendor: "mailgun", Name: "x", Credentials: esp.Credentials{SigningKey: "k"},
			Mailbox: connection.MailboxInput{IMAPURL: "imaps://imap.example.com/INBOX", IMAPUsername: "u", IMAPPassword: "p"}}, "a bounce mailbox (imap_url) is for vendors"},
	} {
		_, err := f.svc.Create(ctx, f.orgA, c.in)
		if mailtrail.ErrorCode(err) != mailtrail.EINVALID || !strings.Contains(mailtrail.ErrorMessage(err), c.want) {
			t.Errorf("%s %q: %v, want EINVALID saying %q", c.in.Vendor, c.in.Name, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("the error quotes a credential: %v", err)
		}
	}
	if n := f.count(t, f.orgA); n != 0 {
		t.Fatalf("%d connections stored after refusals", n)
	}

	c, err := f.svc.Create(ctx, f.orgA, connection.Input{Vendor: " mailgun ", Name: " relay ", Credentials: esp.Credentials{SigningKey: "  mg-key  "}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Vendor != "mailgun" || c.Name != "relay" || c.OrgID != f.orgA || !strings.HasPrefix(c.ID, "conn_") ||
		c.WebhookURL != "https://mt.example/webhooks/v2/mailgun/"+c.ID || c.Sealed != nil {
		t.Fatalf("created %+v", c)
	}
	if b, _ := json.Marshal(c); strings.Contains(string(b), "mg-key") {
		t.Fatalf("the connection shows its credentials: %s", b)
	}
	stored, err := f.db.Connection(ctx, f.orgA, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := connection.OpenCredentials(f.keys, c.ID, stored.Sealed)
	if err != nil || got.SigningKey != "mg-key" {
		t.Fatalf("sealed credentials open to %+v, %v; want the trimmed signing key", got, err)
	}
	if _, err := connection.OpenCredentials(f.keys, "conn_other", stored.Sealed); !errors.Is(err, secrets.ErrOpen) {
		t.Fatalf("sealed credentials open for another connection: %v", err)
	}
	if _, err := connection.OpenCredentials(secrets.NewKeyring([]byte("another secret")), c.ID, stored.Sealed); !errors.Is(err, secrets.ErrOpen) {
		t.Fatalf("sealed credentials open under another secret: %v", err)
	}
}

// A bounce mailbox's login is sealed apart from the webhook credentials, and its host is
// checked against the egress policy at creation.
func TestCreateMailbox(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, egress.Policy{})
	mb := connection.MailboxInput{IMAPURL: "imaps://10.1.2.3:993/INBOX", IMAPUsername: "bounces", IMAPPassword: "imap-pass"}
	_, err := f.svc.Create(ctx, f.orgA, connection.Input{Vendor: "smtp", Name: "b", Mailbox: mb})
	if mailtrail.ErrorCode(err) != mailtrail.EINVALID || !strings.Contains(mailtrail.ErrorMessage(err), "imap_url targets a private") {
		t.Fatalf("private mailbox host: %v", err)
	}
	for _, bad := range []connection.MailboxInput{
		{IMAPURL: "imaps://u:p@imap.example.com/INBOX", IMAPUsername: "u", IMAPPassword: "p"},
		{IMAPURL: "https://imap.example.com/INBOX", IMAPUsername: "u", IMAPPassword: "p"},
		{IMAPURL: "imaps://imap.example.com/INBOX"},
		{IMAPURL: "imaps://imap.example.com/INBOX", IMAPUsername: "u", IMAPPassword: "p", IMAPPollSeconds: 5},
		{IMAPUsername: "u"},
	} {
		if _, err := f.svc.Create(ctx, f.orgA, connection.Input{Vendor: "smtp", Name: "b", Mailbox: bad}); mailtrail.ErrorCode(err) != mailtrail.EINVALID {
			t.Errorf("%+v: %v, want EINVALID", bad, err)
		}
	}
	if n := f.count(t, f.orgA); n != 0 {
		t.Fatalf("%d connections stored after refusals", n)
	}

	f = newFixture(t, egress.Policy{AllowPrivate: true})
	c, err := f.svc.Create(ctx, f.orgA, connection.Input{Vendor: "smtp", Name: "b", Mailbox: mb})
	if err != nil {
		t.Fatalf("private host allowed by the policy: %v", err)
	}
	if c.IMAPURL != mb.IMAPURL || c.IMAPPollSeconds != 60 || c.SealedIMAP != nil {
		t.Fatalf("created %+v", c)
	}
	stored, _ := f.db.Connection(ctx, f.orgA, c.ID)
	login, err := connection.OpenMailboxLogin(f.keys, c.ID, stored.SealedIMAP)
	if err != nil || login.Username != "bounces" || login.Password != "imap-pass" {
		t.Fatalf("mailbox login opens to %+v, %v", login, err)
	}
	if _, err := connection.OpenCredentials(f.keys, c.ID, stored.SealedIMAP); !errors.Is(err, secrets.ErrOpen) {
		t.Fatalf("the mailbox login opens as webhook credentials: %v", err)
	}
}

// GraceSeconds reads a rotation's grace: absent is 24 hours, 0 to 30 days accepted.
func TestGraceSeconds(t *testing.T) {
	n := func(v int64) *int64 { return &v }
	for _, c := range []struct {
		in   *int64
		want time.Duration
		ok   bool
	}{
		{nil, 24 * time.Hour, true}, {n(0), 0, true}, {n(3600), time.Hour, true}, {n(30 * 86400), connection.MaxRotationGrace, true},
		{n(-1), 0, false}, {n(30*86400 + 1), 0, false}, {n(1 << 62), 0, false},
	} {
		got, err := connection.GraceSeconds(c.in)
		if (err == nil) != c.ok || got != c.want || (err != nil && mailtrail.ErrorCode(err) != mailtrail.EINVALID) {
			t.Errorf("%v: %v, %v", c.in, got, err)
		}
	}
}

// Rotate keeps the previous credentials valid until now + grace, refuses bad input and
// another organization's connection, and changes nothing then.
func TestRotate(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, egress.Policy{})
	c, err := f.svc.Create(ctx, f.orgA, connection.Input{Vendor: "generic", Name: "g", Credentials: esp.Credentials{SigningKey: "old-key"}})
	if err != nil {
		t.Fatal(err)
	}
	before, _ := f.db.Connection(ctx, f.orgA, c.ID)
	for _, bad := range []struct {
		org   string
		creds esp.Credentials
		grace time.Duration
		code  string
	}{
		{f.orgA, esp.Credentials{SigningKey: "k"}, -time.Second, mailtrail.EINVALID},
		{f.orgA, esp.Credentials{SigningKey: "k"}, connection.MaxRotationGrace + time.Second, mailtrail.EINVALID},
		{f.orgA, esp.Credentials{BearerToken: "t"}, time.Hour, mailtrail.EINVALID},
		{f.orgB, esp.Credentials{SigningKey: "k"}, time.Hour, mailtrail.ENOTFOUND},
	} {
		if _, err := f.svc.Rotate(ctx, bad.org, c.ID, bad.creds, bad.grace); mailtrail.ErrorCode(err) != bad.code {
			t.Errorf("%+v: %v, want %s", bad, err, bad.code)
		}
	}
	if after, _ := f.db.Connection(ctx, f.orgA, c.ID); string(after.Sealed) != string(before.Sealed) || after.SealedPrevious != nil {
		t.Fatal("a refused rotation changed the connection")
	}

	rotated, err := f.svc.Rotate(ctx, f.orgA, c.ID, esp.Credentials{SigningKey: "new-key"}, 2*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if rotated.ID != c.ID || rotated.Sealed != nil || rotated.SealedPrevious != nil || rotated.WebhookURL != c.WebhookURL ||
		rotated.PreviousValidUntil == nil || !rotated.PreviousValidUntil.Equal(f.now.Add(2*time.Hour)) {
		t.Fatalf("Rotate returned %+v", rotated)
	}
	after, _ := f.db.Connection(ctx, f.orgA, c.ID)
	cur, err1 := connection.OpenCredentials(f.keys, c.ID, after.Sealed)
	prev, err2 := connection.OpenCredentials(f.keys, c.ID, after.SealedPrevious)
	if err1 != nil || err2 != nil || cur.SigningKey != "new-key" || prev.SigningKey != "old-key" {
		t.Fatalf("after rotation: current %+v %v, previous %+v %v", cur, err1, prev, err2)
	}
	if after.PreviousValidUntil == nil || !after.PreviousValidUntil.Equal(f.now.Add(2*time.Hour)) {
		t.Fatalf("previous valid until %v, want %v", after.PreviousValidUntil, f.now.Add(2*time.Hour))
	}
	got, _ := f.svc.Get(ctx, f.orgA, c.ID)
	if got.SealedPrevious != nil || got.Sealed != nil {
		t.Fatal("Get shows sealed values")
	}
}

// List, Get and SetDisabled see the organization's connections only, with their webhook
// URLs and without sealed values.
func TestListGetDisable(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, egress.Policy{})
	a, err := f.svc.Create(ctx, f.orgA, connection.Input{Vendor: "generic", Name: "a", Credentials: esp.Credentials{SigningKey: "ka"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Create(ctx, f.orgB, connection.Input{Vendor: "generic", Name: "b", Credentials: esp.Credentials{SigningKey: "kb"}}); err != nil {
		t.Fatal(err)
	}
	list, err := f.svc.List(ctx, f.orgA)
	if err != nil || len(list) != 1 || list[0].ID != a.ID || list[0].WebhookURL != a.WebhookURL || list[0].Sealed != nil {
		t.Fatalf("List = %+v, %v", list, err)
	}
	if _, err := f.svc.Get(ctx, f.orgB, a.ID); mailtrail.ErrorCode(err) != mailtrail.ENOTFOUND {
		t.Fatalf("another organization's Get: %v", err)
	}
	if _, err := f.svc.SetDisabled(ctx, f.orgB, a.ID, true); mailtrail.ErrorCode(err) != mailtrail.ENOTFOUND {
		t.Fatalf("another organization's SetDisabled: %v", err)
	}
	if got, _ := f.svc.Get(ctx, f.orgA, a.ID); got.Disabled {
		t.Fatal("disabled by another organization")
	}
	if got, err := f.svc.SetDisabled(ctx, f.orgA, a.ID, true); err != nil || !got.Disabled || got.Sealed != nil {
		t.Fatalf("SetDisabled = %+v, %v", got, err)
	}
	if got, _ := f.svc.Get(ctx, f.orgA, a.ID); !got.Disabled {
		t.Fatal("not disabled")
	}
	if got, err := f.svc.SetDisabled(ctx, f.orgA, a.ID, false); err != nil || got.Disabled {
		t.Fatalf("SetDisabled = %+v, %v", got, err)
	}
	if got, _ := f.svc.Get(ctx, f.orgA, a.ID); got.Disabled {
		t.Fatal("not enabled again")
	}
}

// Health is the record the webhook use case writes to, read per connection.
func TestHealth(t *testing.T) {
	f := newFixture(t, egress.Policy{})
	f.svc.HealthRecord().Record("conn_x", f.now, connection.Request{Accepted: 3, Duplicates: 1, Unattributed: 1})
	f.svc.HealthRecord().Record("conn_x", f.now, connection.Request{Refused: mailtrail.HealthSignature,
		Err: mailtrail.Errorf(mailtrail.EUNAUTHORIZED, "webhook credentials or signature invalid")})
	h := f.svc.Health("conn_x")
	if h.Counts.AcceptedEvents != 3 || h.Counts.DuplicateEvents != 1 || h.Counts.UnattributedEvents != 1 || h.Counts.SignatureFailures != 1 ||
		len(h.RecentErrors) != 2 || h.RecentErrors[0].Message != "webhook credentials or signature invalid" {
		t.Fatalf("health = %+v", h)
	}
	if h := f.svc.Health("conn_y"); h.Counts != (mailtrail.HealthCounts{}) || len(h.RecentErrors) != 0 {
		t.Fatalf("unknown connection's health = %+v", h)
	}
}

// Reseal moves what only a retired key opens under the current one, and leaves alone
// what no key opens.
func TestReseal(t *testing.T) {
	oldKeys := secrets.NewKeyring([]byte("old secret"))
	newKeys := secrets.NewKeyring([]byte("new secret"), []byte("old secret"))
	c := &mailtrail.Connection{ID: "conn_r", Vendor: "smtp"}
	var err error
	if c.Sealed, err = connection.SealCredentials(oldKeys, c.ID, esp.Credentials{BearerToken: "tok"}); err != nil {
		t.Fatal(err)
	}
	c.SealedPrevious, _ = connection.SealCredentials(secrets.NewKeyring([]byte("lost secret")), c.ID, esp.Credentials{BearerToken: "x"})
	n, bad, err := connection.Reseal(newKeys, c)
	if err != nil || n != 1 || bad != 1 {
		t.Fatalf("Reseal = %d, %d, %v; want 1, 1", n, bad, err)
	}
	if got, err := connection.OpenCredentials(secrets.NewKeyring([]byte("new secret")), c.ID, c.Sealed); err != nil || got.BearerToken != "tok" {
		t.Fatalf("after reseal: %+v, %v", got, err)
	}
}
