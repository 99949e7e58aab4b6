package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/connection"
	"github.com/mailtrail/mailtrail/internal/esp"
	"github.com/mailtrail/mailtrail/internal/outbound"
	"github.com/mailtrail/mailtrail/internal/secrets"
	"github.com/mailtrail/mailtrail/internal/store/sqlite"
)

const (
	rotSecretA = "rotation-secret-A-0123456789abcdef"
	rotSecretB = "rotation-secret-B-fedcba9876543210"
)

// rotHarness starts the service on dir with secret (key id id) and old (--old-secret-keys).
func rotHarness(t *testing.T, dir, secret string, id int, old string) *hookHarness {
	t.Helper()
	h := newHarness(t, allowPrivate, func(c *Config) {
		c.DataDir, c.SecretKey, c.SecretKeyID, c.OldSecretKeys = dir, secret, id, old
	})
	return &hookHarness{harness: h}
}

// postGeneric posts one delivered event to a generic connection's URL (on this
// harness's server), signed with key; it returns the status.
func (h *hookHarness) postGeneric(url, key, eventID string) int {
	h.t.Helper()
	url = h.srv.URL + url[strings.Index(url, "/webhooks/"):]
	now := time.Now()
	body := mustJSON(map[string]any{"events": []map[string]any{{"event_id": eventID, "event_type": "delivered",
		"occurred_at": now.UTC().Format(time.RFC3339), "customer_email": "rot@example.com"}}})
	code, _ := h.hook(url, body, genericHeaders(key, now, body))
	return code
}

// mailboxLogins opens the bounce-mailbox login of the store's connections with keys alone.
func mailboxLogins(t *testing.T, db *sqlite.DB, keys secrets.Keyring) []mailboxAccountLogin {
	t.Helper()
	accs, err := mailboxSource{db: db, keys: keys, log: slog.New(slog.NewTextHandler(io.Discard, nil))}.Accounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := make([]mailboxAccountLogin, len(accs))
	for i, a := range accs {
		out[i] = mailboxAccountLogin{a.Username, a.Password}
	}
	return out
}

type mailboxAccountLogin struct{ user, pass string }

// Rotating the service secret as documented (new secret and key id, the old one in
// --old-secret-keys) keeps webhook credentials, previous credentials, bounce-mailbox logins
// and subscription secrets working, and re-seals them under the new secret at startup:
// once that start has run, the old secret can be dropped.
func TestSecretRotationResealsAtRest(t *testing.T) {
	dir := t.TempDir()
	rc := newReceiver(t, nil)

	// Under secret A: a generic connection whose credentials were rotated (the previous
	// ones in their grace period), a bounce-mailbox connection and a subscription.
	h := rotHarness(t, dir, rotSecretA, 1, "")
	_, key := h.org("acme")
	c := h.connection(key, map[string]any{"vendor": "generic", "name": "g", "signing_key": "gen-key-before"})
	if r := h.do("POST", "/api/v1/connections/"+c.ID+"/rotate", key, map[string]any{"signing_key": "gen-key-now", "grace_seconds": 3600}, nil); r.StatusCode != 200 {
		t.Fatalf("rotate connection: %d", r.StatusCode)
	}
	h.connection(key, map[string]any{"vendor": "smtp", "name": "bounces",
		"imap_url": "imaps://mail.example.com/INBOX", "imap_username": "bounces", "imap_password": "imap-pass"})
	h.subscribe(key, rc, nil)
	if code := h.postGeneric(c.WebhookURL, "gen-key-now", "a1"); code != 200 {
		t.Fatalf("webhook under secret A: %d", code)
	}
	h.stop() // frees the data directory for the next one

	// Secret B without A listed: nothing sealed under A opens (the service's answer for a
	// connection whose credentials cannot be opened). This is what the checks below rely on.
	h = rotHarness(t, dir, rotSecretB, 2, "")
	if code := h.postGeneric(c.WebhookURL, "gen-key-now", "b0"); code != 500 {
		t.Fatalf("webhook with secret B alone before any re-seal: %d, want 500", code)
	}
	h.stop() // frees the data directory for the next one

	// The documented rotation: B current, A listed as old. Everything works, and the start
	// re-sealed every value under B.
	h = rotHarness(t, dir, rotSecretB, 2, "1:"+rotSecretA)
	if code := h.postGeneric(c.WebhookURL, "gen-key-now", "b1"); code != 200 {
		t.Fatalf("webhook after rotation, A listed as old: %d", code)
	}
	if n := len(h.events(key, "event_type=delivered")); n != 2 {
		t.Fatalf("delivered events stored: %d, want 2", n)
	}
	h.stop() // frees the data directory for the next one

	// B alone: the values re-sealed at the previous start open without A.
	h = rotHarness(t, dir, rotSecretB, 2, "")
	for _, k := range []string{"gen-key-now", "gen-key-before"} {
		if code := h.postGeneric(c.WebhookURL, k, "c-"+k); code != 200 {
			t.Fatalf("webhook signed with %s, secret B alone after re-seal: %d", k, code)
		}
	}
	if code := h.postGeneric(c.WebhookURL, "wrong-key", "c-wrong"); code != 401 {
		t.Fatalf("webhook with a wrong key: %d, want 401", code)
	}
	if n := len(h.events(key, "event_type=delivered")); n != 4 {
		t.Fatalf("delivered events stored: %d, want 4", n)
	}
	logins := mailboxLogins(t, h.app.db, secrets.NewKeyring([]byte(rotSecretB)))
	if len(logins) != 1 || logins[0] != (mailboxAccountLogin{"bounces", "imap-pass"}) {
		t.Fatalf("mailbox logins opened with secret B alone: %+v", logins)
	}
	h.runOutbound()
	rc.waitFor(h.postSent(key, "rot", 2))
}

// The startup re-seal logs how many rows it re-sealed and which rows no configured secret
// opens, never a value; a second run finds nothing to do.
func TestSecretResealLog(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "mailtrail.db"), sqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	org, _, err := db.CreateOrg(ctx, "acme", "UTC")
	if err != nil {
		t.Fatal(err)
	}
	underA, underC := secrets.NewKeyring([]byte(rotSecretA)), secrets.NewKeyring([]byte("a secret nobody configured, 32+ chars"))
	for _, x := range []struct {
		id   string
		keys secrets.Keyring
	}{{"conn_a", underA}, {"conn_c", underC}} {
		sealed, err := connection.SealCredentials(x.keys, x.id, esp.Credentials{SigningKey: "plain-signing-key"})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.CreateConnection(ctx, &mailtrail.Connection{ID: x.id, OrgID: org.ID, Vendor: "generic", Name: x.id, Sealed: sealed}); err != nil {
			t.Fatal(err)
		}
	}
	sealed, _ := outbound.SealSecret(underA, "sub_a", []byte("whsec_plain-subscription-secret"))
	if err := db.CreateSubscription(ctx, &mailtrail.Subscription{ID: "sub_a", OrgID: org.ID, URL: "https://r.example/h", Sealed: sealed}); err != nil {
		t.Fatal(err)
	}

	keys := secrets.NewKeyring([]byte(rotSecretB), []byte(rotSecretA))
	var buf bytes.Buffer
	if err := resealSecrets(ctx, db, keys, slog.New(slog.NewTextHandler(&buf, nil))); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"connections=1 subscriptions=1 values=2", "count=1 ids=[conn_c]"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "plain-") {
		t.Errorf("log shows a secret:\n%s", out)
	}
	if _, err := connection.OpenCredentials(secrets.NewKeyring([]byte(rotSecretB)), "conn_a", mustConn(t, db, "conn_a").Sealed); err != nil {
		t.Errorf("conn_a does not open with B alone after the re-seal: %v", err)
	}

	buf.Reset()
	if err := resealSecrets(ctx, db, keys, slog.New(slog.NewTextHandler(&buf, nil))); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "re-sealed") {
		t.Errorf("second run re-sealed again:\n%s", buf.String())
	}
}

func mustConn(t *testing.T, db *sqlite.DB, id string) *mailtrail.Connection {
	t.Helper()
	c, err := db.Connection(context.Background(), "", id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
