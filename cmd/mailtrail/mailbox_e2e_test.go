package main

import (
	"context"
	"io"
	"log"
	"net"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// The bounce mailbox end to end: an smtp connection created through the API with an IMAP
// mailbox (the library's in-process server), a Postfix DSN carrying our message id header
// appended to its INBOX; the service's poller commits the hard bounce to the message,
// suppresses the address, and moves the DSN to Processed.
func TestMailboxEndToEnd(t *testing.T) {
	// The in-process server is on loopback and has no STARTTLS: the operator's two flags.
	h := newHookHarness(t, func(c *Config) { c.IMAPAllowPrivate, c.IMAPAllowInsecure = true, true })
	_, key := h.org("acme")
	mem := imapmemserver.New()
	user := imapmemserver.NewUser("bounces", "imap-pass")
	user.Create("INBOX", nil)
	mem.AddUser(user)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		InsecureAuth: true, Logger: log.New(io.Discard, "", 0),
		Caps: imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	if r := h.do("POST", "/api/v1/connections", key, map[string]any{"vendor": "sendgrid", "name": "x", "signing_key": newSGKey(t).pub,
		"imap_url": "imap://" + ln.Addr().String() + "/INBOX", "imap_username": "bounces", "imap_password": "imap-pass"}, nil); r.StatusCode != 400 {
		t.Fatalf("mailbox on a sendgrid connection: %d", r.StatusCode)
	}
	var c connOut
	if r := h.do("POST", "/api/v1/connections", key, map[string]any{"vendor": "smtp", "name": "bounces",
		"imap_url": "imap://" + ln.Addr().String() + "/INBOX", "imap_username": "bounces", "imap_password": "imap-pass", "imap_poll_seconds": 10}, &c); r.StatusCode != 201 {
		t.Fatalf("create: %d", r.StatusCode)
	}
	if n := h.count(`SELECT count(*) FROM connections WHERE instr(imap_secret, 'imap-pass') > 0`); n != 0 {
		t.Fatal("IMAP password stored in clear")
	}
	m := h.instrument(key, "mb", "mb-user")
	cl, err := imapclient.DialInsecure(ln.Addr().String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	raw := []byte(dsn("mb-user@example.com", m.MessageID))
	if err := cl.Login("bounces", "imap-pass").Wait(); err != nil {
		t.Fatal(err)
	}
	ap := cl.Append("INBOX", int64(len(raw)), nil)
	ap.Write(raw)
	ap.Close()
	if _, err := ap.Wait(); err != nil {
		t.Fatal(err)
	}
	cl.Close()

	go h.app.mailbox.Run(context.Background())
	deadline := time.Now().Add(10 * time.Second)
	for {
		if st, err := user.Status("Processed", &imap.StatusOptions{NumMessages: true}); err == nil && *st.NumMessages == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("DSN not processed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.app.mailbox.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if rep := h.report(key, "mb"); rep.Counts.BouncedHard != 1 {
		t.Fatalf("report %+v", rep.Counts)
	}
	if h.eventRows() != 1 || h.count(`SELECT count(*) FROM suppressions WHERE email = ?`, "mb-user@example.com") != 1 {
		t.Fatalf("rows %d", h.eventRows())
	}
	if st, _ := user.Status("INBOX", &imap.StatusOptions{NumMessages: true}); *st.NumMessages != 0 {
		t.Fatalf("INBOX still holds %d", *st.NumMessages)
	}
}

// Without --imap-allow-private, a bounce mailbox on the cloud metadata address, the local
// network or loopback is refused at creation with 400 (nothing is dialled: literals and
// localhost are refused without a lookup).
func TestMailboxURLGuard(t *testing.T) {
	h := newHookHarness(t)
	_, key := h.org("acme")
	for _, u := range []string{"imaps://169.254.169.254/INBOX", "imap://10.0.0.1/INBOX", "imaps://[::1]:993/INBOX",
		"imaps://localhost/INBOX", "imaps://[::ffff:127.0.0.1]/INBOX", "imaps://[fe80::1%25lo]/INBOX", "imaps://192.0.2.1/INBOX"} {
		r := h.do("POST", "/api/v1/connections", key, map[string]any{"vendor": "smtp", "name": "bounces",
			"imap_url": u, "imap_username": "bounces", "imap_password": "imap-pass"}, nil)
		if r.StatusCode != 400 {
			t.Errorf("imap_url %s: %d, want 400", u, r.StatusCode)
		}
	}
	var list struct {
		Connections []connOut `json:"connections"`
	}
	h.do("GET", "/api/v1/connections", key, nil, &list)
	if len(list.Connections) != 0 {
		t.Fatalf("refused mailboxes were stored: %d", len(list.Connections))
	}
}
