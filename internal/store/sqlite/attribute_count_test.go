package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/attribute"
)

// countReads replaces db's reader pool with one that counts the statements it runs.
func countReads(t *testing.T, db *DB) *atomic.Int64 {
	t.Helper()
	n := new(atomic.Int64)
	old := db.r
	db.r = sql.OpenDB(countingConnector{drv: old.Driver(), dsn: "file:" + db.path + "?_pragma=busy_timeout(10000)", n: n})
	old.Close()
	return n
}

type countingConnector struct {
	drv driver.Driver
	dsn string
	n   *atomic.Int64
}

func (c countingConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return countingConn{conn, c.n}, nil
}

func (c countingConnector) Driver() driver.Driver { return c.drv }

// countingConn counts each query run directly and each statement prepared.
type countingConn struct {
	driver.Conn
	n *atomic.Int64
}

func (c countingConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	qc, ok := c.Conn.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	rows, err := qc.QueryContext(ctx, q, args)
	if !errors.Is(err, driver.ErrSkip) {
		c.n.Add(1)
	}
	return rows, err
}

func (c countingConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	c.n.Add(1)
	if pc, ok := c.Conn.(driver.ConnPrepareContext); ok {
		return pc.PrepareContext(ctx, q)
	}
	return c.Conn.Prepare(q)
}

// TestAttributeStatements counts the SQL statements attribute.Attribute costs over this
// store for one mixed batch of webhook events, and checks what each event resolves to.
// Before attribution moved to internal/attribute, the store's own Attribute cost 8 for
// the same batch: one per kind of prefetched key (our ids, ESP ids, addresses), one per
// distinct pair of hints (3, now batched) and one per distinct recipient of an event under
// a shared mail (2).
func TestAttributeStatements(t *testing.T) {
	db := openPrivacyDB(t)
	org, other := pOrg(t, db, "acme"), pOrg(t, db, "other")
	msgs := []*mailtrail.Message{
		{ID: pRef(0), CampaignID: "c1", CustomerID: "u0", CustomerEmail: "u0@example.com", ESPMessageID: "esp-0"},
		{ID: pRef(1), CampaignID: "c1", CustomerID: "u1", CustomerEmail: "u1@example.com", ESPMessageID: "esp-1"},
		{ID: pRef(2), CampaignID: "c2", CustomerID: "u1", CustomerEmail: "u1@example.com"},
		{ID: pRef(3), CampaignID: "c2", CustomerID: "u2", CustomerEmail: "U2@Example.com"},
		{ID: pRef(4), CampaignID: "c3", CustomerID: "u3", CustomerEmail: "u3@example.com", ESPMessageID: "mail-1"},
		{ID: pRef(5), CampaignID: "c3", CustomerID: "u4", CustomerEmail: "u4@example.com", ESPMessageID: "mail-1"},
	}
	if err := db.CreateMessages(pctx, org, msgs); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateMessages(pctx, other, []*mailtrail.Message{{ID: pRef(9), CampaignID: "c9", CustomerID: "x", CustomerEmail: "x@example.com"}}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		ev   mailtrail.Event
		want string // message id; "" unattributed
	}{
		{mailtrail.Event{MessageID: pRef(0)}, pRef(0)},
		{mailtrail.Event{MessageID: pRef(1), ESPMessageID: "esp-0"}, pRef(1)},
		{mailtrail.Event{MessageID: pRef(9), CustomerEmail: "u2@example.com"}, pRef(3)},
		{mailtrail.Event{MessageID: "garbage", ESPMessageID: "esp-1"}, pRef(1)},
		{mailtrail.Event{ESPMessageID: "esp-0"}, pRef(0)},
		{mailtrail.Event{ESPMessageID: " esp-1 "}, pRef(1)},
		{mailtrail.Event{ESPMessageID: "esp-0.x.1", ESPMessageIDAlt: "esp-0"}, pRef(0)},
		{mailtrail.Event{CampaignID: "c1", CustomerID: "u1"}, pRef(1)},
		{mailtrail.Event{CampaignID: "c1", CustomerID: "u1", CustomerEmail: "u0@example.com"}, pRef(1)},
		{mailtrail.Event{CampaignID: "c2", CustomerID: "u1"}, pRef(2)},
		{mailtrail.Event{CampaignID: "c2", CustomerID: "nobody", CustomerEmail: "U1@EXAMPLE.COM"}, pRef(2)},
		{mailtrail.Event{CustomerEmail: "u2@EXAMPLE.com"}, pRef(3)},
		{mailtrail.Event{CustomerEmail: "nobody@example.com"}, ""},
		{mailtrail.Event{ESPMessageID: "esp-unknown"}, ""},
		{mailtrail.Event{SharedMessage: true, MessageID: pRef(4), ESPMessageID: "mail-1", CustomerEmail: "u4@example.com"}, pRef(5)},
		{mailtrail.Event{SharedMessage: true, MessageID: pRef(4), ESPMessageID: "mail-1", CustomerEmail: "U4@example.com"}, pRef(5)},
		{mailtrail.Event{SharedMessage: true, MessageID: pRef(4), ESPMessageID: "mail-1", CustomerEmail: "u3@example.com"}, pRef(4)},
		{mailtrail.Event{SharedMessage: true, ESPMessageID: "mail-1"}, ""},
	}
	var evs []*mailtrail.Event
	for i := range cases {
		e := cases[i].ev
		e.Type = mailtrail.EventDelivered
		evs = append(evs, &e)
	}
	if _, err := db.orgInternal(pctx, org); err != nil { // the organization is cached
		t.Fatal(err)
	}
	n := countReads(t, db)
	un, err := attribute.Attribute(pctx, db, org, evs)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		if evs[i].MessageID != c.want {
			t.Errorf("event %d %+v: message %q, want %q", i, c.ev, evs[i].MessageID, c.want)
		}
	}
	if un != 3 {
		t.Errorf("unattributed %d, want 3", un)
	}
	// Our ids, ESP ids, hints, addresses: one statement each; one per shared mail's
	// distinct recipient (2).
	if got := n.Load(); got != 6 {
		t.Errorf("%d statements, want 6 (8 before attribution moved to the core)", got)
	}
}

// TestLookupChunks: keys past one chunk's parameters are all looked up, in statements of
// at most lookupChunk parameters.
func TestLookupChunks(t *testing.T) {
	db := openPrivacyDB(t)
	org := pOrg(t, db, "acme")
	if err := db.CreateMessages(pctx, org, []*mailtrail.Message{
		{ID: pRef(0), CampaignID: "c1", CustomerID: "u0", CustomerEmail: "u0@example.com", ESPMessageID: "esp-0"},
	}); err != nil {
		t.Fatal(err)
	}
	var ids, emails []string
	var names []attribute.Names
	for i := range 2*lookupChunk + 1 {
		ids = append(ids, fmt.Sprintf("esp-%d", 2*lookupChunk-i))
		emails = append(emails, fmt.Sprintf("u%d@example.com", 2*lookupChunk-i))
		names = append(names, attribute.Names{Campaign: "c1", Customer: fmt.Sprintf("u%d", 2*lookupChunk-i)})
	}
	want := attribute.Target{MessageID: pRef(0), CampaignID: "c1", CustomerID: "u0"}
	n := countReads(t, db)
	if got, err := db.MessagesByESPID(pctx, org, ids); err != nil || len(got) != 1 || got["esp-0"] != want {
		t.Errorf("by esp id: %v %v", got, err)
	}
	if got, err := db.MessagesByEmail(pctx, org, emails); err != nil || len(got) != 1 || got["u0@example.com"] != want {
		t.Errorf("by email: %v %v", got, err)
	}
	if got, err := db.MessagesByNames(pctx, org, names); err != nil || len(got) != 1 || got[attribute.Names{Campaign: "c1", Customer: "u0"}] != want {
		t.Errorf("by names: %v %v", got, err)
	}
	// 3 chunks of ids, 3 of addresses (their two forms are one here), 5 of pairs (two
	// parameters each).
	if got := n.Load(); got != 3+3+5 {
		t.Errorf("%d statements, want 11", got)
	}
}
