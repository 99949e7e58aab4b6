package mailbox

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/egress"
	"github.com/mailtrail/mailtrail/internal/esp/bouncemail"
	"github.com/mailtrail/mailtrail/internal/ingest"
)

// loopbackOnly is the egress policy of tests: the in-process servers on 127.0.0.1 only.
var loopbackOnly = egress.Policy{AllowLoopback: true}

const (
	testUser = "bounces@brand.example"
	testPass = "imap-password"
)

// memIngester stores events by dedupe key, as the store does; fail makes it refuse.
type memIngester struct {
	mu     sync.Mutex
	stored map[string]mailtrail.Event
	calls  int
	fail   bool
}

func (m *memIngester) Ingest(_ context.Context, orgID string, evs []mailtrail.Event) (ingest.ESPResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	if m.fail {
		return ingest.ESPResult{}, ingest.ErrUnavailable
	}
	var r ingest.ESPResult
	for _, ev := range evs {
		ev.OrgID = orgID
		if _, ok := m.stored[ev.DedupeKey]; ok {
			r.Duplicates++
			continue
		}
		m.stored[ev.DedupeKey] = ev
		r.Accepted++
	}
	return r, nil
}

// imapServer starts the library's in-process IMAP server on 127.0.0.1:0 with one user and
// an INBOX; it returns the URL of the INBOX and the user for direct inspection.
func imapServer(t *testing.T) (string, *imapmemserver.User) {
	t.Helper()
	mem := imapmemserver.New()
	user := imapmemserver.NewUser(testUser, testPass)
	if err := user.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	mem.AddUser(user)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		InsecureAuth: true, // plain imap:// on loopback, as a test may
		Logger:       log.New(io.Discard, "", 0),
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return "imap://" + ln.Addr().String() + "/INBOX", user
}

// appendMessages appends raw messages to INBOX through a client, as a mail server does.
func appendMessages(t *testing.T, url string, raws ...[]byte) {
	t.Helper()
	c, err := imapclient.DialInsecure(url[len("imap://"):len(url)-len("/INBOX")], nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(testUser, testPass).Wait(); err != nil {
		t.Fatal(err)
	}
	for _, raw := range raws {
		cmd := c.Append("INBOX", int64(len(raw)), nil)
		if _, err := cmd.Write(raw); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := cmd.Wait(); err != nil {
			t.Fatal(err)
		}
	}
}

func mailboxCount(t *testing.T, u *imapmemserver.User, name string) uint32 {
	t.Helper()
	n := uint32(0)
	st, err := u.Status(name, &imap.StatusOptions{NumMessages: true})
	if err != nil {
		t.Fatalf("status %s: %v", name, err)
	}
	if st.NumMessages != nil {
		n = *st.NumMessages
	}
	return n
}

func testdata(t *testing.T, names ...string) (raws [][]byte, want map[string]mailtrail.EventType) {
	t.Helper()
	want = map[string]mailtrail.EventType{}
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join("..", "esp", "bouncemail", "testdata", n))
		if err != nil {
			t.Fatal(err)
		}
		raws = append(raws, b)
		rep, err := bouncemail.Parse(b)
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		evs, _ := bouncemail.Events(rep, "smtp", time.Now())
		for _, ev := range evs {
			want[ev.DedupeKey] = ev.Type
		}
	}
	return raws, want
}

// Real-shaped DSNs (Postfix, Exim, Exchange, Gmail, a delay), an ARF complaint, an
// auto-reply and bytes that are no message: one poll stores every event once and moves the
// processed messages; the broken one stays, flagged seen; a second poll finds nothing.
func TestPollMovesAfterCommit(t *testing.T) {
	url, user := imapServer(t)
	raws, want := testdata(t, "postfix.eml", "exim.eml", "exchange.eml", "gmail.eml", "postfix_delayed.eml", "yahoo_arf.eml", "autoreply.eml")
	appendMessages(t, url, append(raws, []byte("\x00\x01 not a message"))...)
	ing := &memIngester{stored: map[string]mailtrail.Event{}}
	p := New(nil, ing, Options{BatchSize: 3, Egress: loopbackOnly, AllowInsecure: true})
	a := Account{ConnID: "conn_1", OrgID: "org_1", Vendor: "smtp", URL: url, Username: testUser, Password: testPass}

	st, err := p.Poll(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	if st.Messages != len(raws) || st.Invalid != 1 || st.Events != len(want) || st.Duplicates != 0 {
		t.Fatalf("stats %+v, want %d messages, 1 invalid, %d events", st, len(raws), len(want))
	}
	if len(ing.stored) != len(want) {
		t.Fatalf("stored %d events, want %d", len(ing.stored), len(want))
	}
	var complaints, bounces int
	for k, ev := range ing.stored {
		if want[k] != ev.Type || ev.OrgID != "org_1" || ev.Metadata.Vendor != "smtp" {
			t.Errorf("event %s: %+v", k, ev)
		}
		switch ev.Type {
		case mailtrail.EventComplained:
			complaints++
		case mailtrail.EventBounced:
			bounces++
		}
	}
	if complaints != 1 || bounces < 4 {
		t.Errorf("complaints %d, bounces %d", complaints, bounces)
	}
	if in, done := mailboxCount(t, user, "INBOX"), mailboxCount(t, user, ProcessedMailbox); in != 1 || done != uint32(len(raws)) {
		t.Fatalf("INBOX %d, Processed %d; want 1 and %d", in, done, len(raws))
	}

	calls := ing.calls
	st, err = p.Poll(context.Background(), a)
	if err != nil || st != (Stats{}) || ing.calls != calls || len(ing.stored) != len(want) {
		t.Fatalf("second poll: %+v %v (ingest calls %d → %d)", st, err, calls, ing.calls)
	}
}

// A commit that fails leaves every message unseen in place; the next poll takes them, and
// events committed before a crash (re-read) are duplicates, not new rows.
func TestPollNothingLostOnFailedCommit(t *testing.T) {
	url, user := imapServer(t)
	raws, want := testdata(t, "postfix.eml", "yahoo_arf.eml")
	appendMessages(t, url, raws...)
	ing := &memIngester{stored: map[string]mailtrail.Event{}, fail: true}
	p := New(nil, ing, Options{Egress: loopbackOnly, AllowInsecure: true})
	a := Account{ConnID: "c", OrgID: "o", Vendor: "smtp", URL: url, Username: testUser, Password: testPass, Delete: true}
	if _, err := p.Poll(context.Background(), a); !errors.Is(err, ingest.ErrUnavailable) {
		t.Fatalf("poll with failing commit: %v", err)
	}
	if n := mailboxCount(t, user, "INBOX"); n != 2 {
		t.Fatalf("INBOX %d after failed commit, want 2", n)
	}
	// The events were in fact committed before a crash: re-reading finds them stored.
	ing.fail = false
	for _, raw := range raws {
		rep, _ := bouncemail.Parse(raw)
		evs, _ := bouncemail.Events(rep, "smtp", time.Now())
		_, _ = ing.Ingest(context.Background(), "o", evs)
	}
	st, err := p.Poll(context.Background(), a)
	if err != nil || st.Messages != 2 || st.Events != 0 || st.Duplicates != len(want) {
		t.Fatalf("re-read: %+v %v", st, err)
	}
	if n := mailboxCount(t, user, "INBOX"); n != 0 {
		t.Fatalf("INBOX %d after delete, want 0", n)
	}
	if _, err := user.Status(ProcessedMailbox, &imap.StatusOptions{}); err == nil {
		t.Error("Processed created although delete was asked")
	}
}

// staticSource lists fixed accounts.
type staticSource []Account

func (s staticSource) Accounts(context.Context) ([]Account, error) { return s, nil }

// Run polls at once, Close stops it within its deadline.
func TestRunAndClose(t *testing.T) {
	url, user := imapServer(t)
	raws, _ := testdata(t, "exim.eml")
	appendMessages(t, url, raws...)
	ing := &memIngester{stored: map[string]mailtrail.Event{}}
	p := New(staticSource{{ConnID: "c", OrgID: "o", Vendor: "smtp", URL: url, Username: testUser, Password: testPass, Interval: time.Hour}}, ing, Options{Egress: loopbackOnly, AllowInsecure: true})
	go p.Run(context.Background())
	deadline := time.Now().Add(5 * time.Second)
	for {
		if st, err := user.Status(ProcessedMailbox, &imap.StatusOptions{NumMessages: true}); err == nil && *st.NumMessages == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("not polled")
		}
		time.Sleep(20 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	ing.mu.Lock()
	defer ing.mu.Unlock()
	if len(ing.stored) == 0 {
		t.Fatal("nothing stored")
	}
}
