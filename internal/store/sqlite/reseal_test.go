package sqlite_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/store/sqlite"
)

func openFile(t *testing.T, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path, sqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// ResealConnections and ResealSubscriptions store what f changed, only for the rows f
// says it changed, durably (read back after reopening the file), and nothing when f fails.
func TestReseal(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "mailtrail.db")
	db := openFile(t, path)
	org, _, err := db.CreateOrg(ctx, "acme", "UTC")
	if err != nil {
		t.Fatal(err)
	}
	org2, _, _ := db.CreateOrg(ctx, "other", "UTC")
	plain := &mailtrail.Connection{ID: "conn_plain", OrgID: org.ID, Vendor: "generic", Name: "p", Sealed: []byte("old-cur-1")}
	mbox := &mailtrail.Connection{ID: "conn_mbox", OrgID: org2.ID, Vendor: "smtp", Name: "m", Sealed: []byte("old-cur-2"),
		IMAPURL: "imaps://mail.example.com/INBOX", IMAPPollSeconds: 60, SealedIMAP: []byte("old-imap-2")}
	for _, c := range []*mailtrail.Connection{plain, mbox} {
		if err := db.CreateConnection(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	// A rotation whose grace period is over: its previous credentials are still passed.
	if err := db.RotateConnection(ctx, org.ID, plain.ID, []byte("old-cur-1b"), time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	subs := []*mailtrail.Subscription{
		{ID: "sub_a", OrgID: org.ID, URL: "https://a.example/hook", Sealed: []byte("old-sub-a")},
		{ID: "sub_b", OrgID: org2.ID, URL: "https://b.example/hook", Sealed: []byte("cur-sub-b")},
	}
	for _, s := range subs {
		if err := db.CreateSubscription(ctx, s); err != nil {
			t.Fatal(err)
		}
	}

	// A failing f rolls back what it changed before failing.
	boom := errors.New("boom")
	calls := 0
	if _, err := db.ResealConnections(ctx, func(c *mailtrail.Connection) (bool, error) {
		if calls++; calls == 2 {
			return false, boom
		}
		c.Sealed = []byte("lost")
		return true, nil
	}); !errors.Is(err, boom) {
		t.Fatalf("ResealConnections with a failing f: %v", err)
	}
	if c, _ := db.Connection(ctx, "", plain.ID); string(c.Sealed) != "old-cur-1b" {
		t.Fatalf("failed reseal left %q", c.Sealed)
	}

	seen := map[string]mailtrail.Connection{}
	n, err := db.ResealConnections(ctx, func(c *mailtrail.Connection) (bool, error) {
		seen[c.ID] = *c
		if c.ID != mbox.ID {
			return false, nil // changed but not reported: must not be stored
		}
		c.Sealed, c.SealedIMAP = []byte("new-cur-2"), []byte("new-imap-2")
		return true, nil
	})
	if err != nil || n != 1 {
		t.Fatalf("ResealConnections = %d, %v; want 1", n, err)
	}
	if got := seen[plain.ID]; got.OrgID != org.ID || got.Vendor != "generic" || string(got.Sealed) != "old-cur-1b" || string(got.SealedPrevious) != "old-cur-1" {
		t.Errorf("f was given %+v", got)
	}
	if got := seen[mbox.ID]; string(got.SealedIMAP) != "old-imap-2" || got.SealedPrevious != nil {
		t.Errorf("f was given %+v", got)
	}

	n, err = db.ResealSubscriptions(ctx, func(s *mailtrail.Subscription) (bool, error) {
		if !bytes.HasPrefix(s.Sealed, []byte("old-")) {
			return false, nil
		}
		s.Sealed = []byte("new-" + s.ID)
		return true, nil
	})
	if err != nil || n != 1 {
		t.Fatalf("ResealSubscriptions = %d, %v; want 1", n, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = openFile(t, path)
	defer db.Close()
	if c, err := db.Connection(ctx, "", mbox.ID); err != nil || string(c.Sealed) != "new-cur-2" || string(c.SealedIMAP) != "new-imap-2" {
		t.Fatalf("mailbox connection after reopen: %+v, %v", c, err)
	}
	c, err := db.Connection(ctx, "", plain.ID)
	if err != nil || string(c.Sealed) != "old-cur-1b" || c.SealedIMAP != nil {
		t.Fatalf("connection not reported changed: %+v, %v", c, err)
	}
	a, _ := db.Subscription(ctx, org.ID, "sub_a")
	b, _ := db.Subscription(ctx, org2.ID, "sub_b")
	if string(a.Sealed) != "new-sub_a" || string(b.Sealed) != "cur-sub-b" {
		t.Fatalf("subscriptions after reopen: %q, %q", a.Sealed, b.Sealed)
	}
}
