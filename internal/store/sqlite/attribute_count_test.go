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

// readCounts are the statements a reader pool ran and prepared.
type readCounts struct{ runs, prepares atomic.Int64 }

// countReads replaces db's reader pool with one that counts the statements it runs: each
// query or exec, on the connection or through a prepared statement (preparing one is not
// running it, and is counted apart). The statements the store prepared on the old pool
// are dropped with it.
func countReads(t *testing.T, db *DB) *readCounts {
	t.Helper()
	n := new(readCounts)
	old := db.r
	db.r = sql.OpenDB(countingConnector{drv: old.Driver(), dsn: "file:" + db.path + "?_pragma=busy_timeout(10000)", n: n})
	db.rprepared.Range(func(q, s any) bool {
		s.(*sql.Stmt).Close()
		db.rprepared.Delete(q)
		return true
	})
	old.Close()
	return n
}

type countingConnector struct {
	drv driver.Driver
	dsn string
	n   *readCounts
}

func (c countingConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return countingConn{conn, c.n}, nil
}

func (c countingConnector) Driver() driver.Driver { return c.drv }

// countingConn counts each query run directly and each run of a statement it prepared.
type countingConn struct {
	driver.Conn
	n *readCounts
}

func (c countingConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	qc, ok := c.Conn.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	rows, err := qc.QueryContext(ctx, q, args)
	if !errors.Is(err, driver.ErrSkip) {
		c.n.runs.Add(1)
	}
	return rows, err
}

func (c countingConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	var s driver.Stmt
	var err error
	if pc, ok := c.Conn.(driver.ConnPrepareContext); ok {
		s, err = pc.PrepareContext(ctx, q)
	} else {
		s, err = c.Conn.Prepare(q)
	}
	if err != nil {
		return nil, err
	}
	c.n.prepares.Add(1)
	return countingStmt{s, c.n}, nil
}

// countingStmt counts each run of a prepared statement.
type countingStmt struct {
	driver.Stmt
	n *readCounts
}

func (s countingStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	s.n.runs.Add(1)
	if qc, ok := s.Stmt.(driver.StmtQueryContext); ok {
		return qc.QueryContext(ctx, args)
	}
	return nil, fmt.Errorf("countingStmt: %T has no QueryContext", s.Stmt)
}

func (s countingStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	s.n.runs.Add(1)
	if ec, ok := s.Stmt.(driver.StmtExecContext); ok {
		return ec.ExecContext(ctx, args)
	}
	return nil, fmt.Errorf("countingStmt: %T has no ExecContext", s.Stmt)
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
	if got := n.runs.Load(); got != 6 {
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
	if got := n.runs.Load(); got != 3+3+5 {
		t.Errorf("%d statements, want 11", got)
	}
}

// TestLookupPrepared: a lookup's statements are prepared once per connection, whatever the
// number of keys up to the padded length: asking again with other keys prepares nothing.
func TestLookupPrepared(t *testing.T) {
	db := openPrivacyDB(t)
	org := pOrg(t, db, "acme")
	if err := db.CreateMessages(pctx, org, []*mailtrail.Message{
		{ID: pRef(0), CampaignID: "c1", CustomerID: "u0", CustomerEmail: "u0@example.com", ESPMessageID: "esp-0"},
	}); err != nil {
		t.Fatal(err)
	}
	want := attribute.Target{MessageID: pRef(0), CampaignID: "c1", CustomerID: "u0"}
	round := func(n int) {
		t.Helper()
		var ids, emails, refs []string
		var names []attribute.Names
		var rs []attribute.Recipient
		for i := range n {
			ids = append(ids, fmt.Sprintf("esp-%d", i))
			emails = append(emails, fmt.Sprintf("U%d@example.com", i))
			refs = append(refs, pRef(i))
			names = append(names, attribute.Names{Campaign: "c1", Customer: fmt.Sprintf("u%d", i)})
			rs = append(rs, attribute.Recipient{MessageID: pRef(i), Email: fmt.Sprintf("u%d@example.com", i)})
		}
		if got, err := db.MessagesByID(pctx, org, refs); err != nil || len(got) != 1 || got[pRef(0)] != want {
			t.Errorf("%d by id: %v %v", n, got, err)
		}
		if got, err := db.MessagesByESPID(pctx, org, ids); err != nil || len(got) != 1 || got["esp-0"] != want {
			t.Errorf("%d by esp id: %v %v", n, got, err)
		}
		if got, err := db.MessagesByEmail(pctx, org, emails); err != nil || len(got) != 1 || got["U0@example.com"] != want {
			t.Errorf("%d by email: %v %v", n, got, err)
		}
		if got, err := db.MessagesByNames(pctx, org, names); err != nil || len(got) != 1 || got[attribute.Names{Campaign: "c1", Customer: "u0"}] != want {
			t.Errorf("%d by names: %v %v", n, got, err)
		}
		if got, err := db.MessagesByRecipient(pctx, org, rs); err != nil || len(got) != 1 || got[rs[0]] != want {
			t.Errorf("%d by recipient: %v %v", n, got, err)
		}
	}
	n := countReads(t, db)
	db.r.SetMaxOpenConns(1) // one connection: each statement is prepared on it once
	round(3)
	if got := n.prepares.Load(); got != 5 {
		t.Errorf("first lookups prepared %d statements, want 5", got)
	}
	round(4) // the same padded length: prepared already
	round(2) // one statement of another length for each IN list, the recipient's again
	if got := n.prepares.Load(); got != 5+4 {
		t.Errorf("%d statements prepared, want 9", got)
	}
	if got := n.runs.Load(); got != 3*4+3+4+2 {
		t.Errorf("%d statements run, want 21", got)
	}
}
