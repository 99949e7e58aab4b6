package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/query"
)

// countExecs replaces db's reader pool with one that counts the statements it runs
// (every execution, prepared or not) and the transactions it begins.
func countExecs(t *testing.T, db *DB) (stmts, txs *atomic.Int64) {
	t.Helper()
	stmts, txs = new(atomic.Int64), new(atomic.Int64)
	old := db.r
	db.r = sql.OpenDB(execConnector{drv: old.Driver(), dsn: "file:" + db.path + "?_pragma=busy_timeout(10000)", stmts: stmts, txs: txs})
	old.Close()
	return stmts, txs
}

type execConnector struct {
	drv        driver.Driver
	dsn        string
	stmts, txs *atomic.Int64
}

func (c execConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return execConn{conn, c}, nil
}

func (c execConnector) Driver() driver.Driver { return c.drv }

type execConn struct {
	driver.Conn
	c execConnector
}

func (c execConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	c.c.txs.Add(1)
	return c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

func (c execConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	s, err := c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	return execStmt{s, c.c.stmts}, nil
}

type execStmt struct {
	driver.Stmt
	n *atomic.Int64
}

func (s execStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	s.n.Add(1)
	return s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
}

func (s execStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	s.n.Add(1)
	return s.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

// TestReportStatements counts the SQL statements one campaign report costs, read through
// query.Service as the API does, for a campaign with more links than list their top
// clickers: one read transaction of 21 statements (the campaign with its name and
// subject 1, buckets 1, links with their ids 1, top clickers by link id 10, breakdowns
// 2 × 4). Before reads went through one View it cost 45, on as many snapshots: the
// campaign looked up by every part (13 times), and each top-clicker link's URL looked up
// again by its text.
func TestReportStatements(t *testing.T) {
	db := openPrivacyDB(t)
	stmts, txs := countExecs(t, db)
	org := pOrg(t, db, "acme")
	const nLinks = 12
	var links []string
	for i := range nLinks {
		links = append(links, fmt.Sprintf("https://shop.example/p/%d", i))
	}
	var msgs []*mailtrail.Message
	for i := range 20 {
		msgs = append(msgs, &mailtrail.Message{ID: pRef(i), CampaignID: "c1", CustomerID: fmt.Sprintf("u%d", i),
			CustomerEmail: fmt.Sprintf("u%d@example.com", i), TrackOpens: true, TrackClicks: true, Links: links})
	}
	if err := db.CreateMessages(pctx, org, msgs); err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(-time.Hour)
	var evs []*mailtrail.Event
	for i := range 20 {
		evs = append(evs,
			&mailtrail.Event{OrgID: org, MessageID: pRef(i), Type: mailtrail.EventSent, OccurredAt: at},
			&mailtrail.Event{OrgID: org, MessageID: pRef(i), Type: mailtrail.EventOpened, OccurredAt: at.Add(time.Minute),
				Source: mailtrail.SourceTracking, Metadata: mailtrail.Metadata{Client: "Gmail", Device: "desktop", Country: "FR", City: "Paris"}},
			&mailtrail.Event{OrgID: org, MessageID: pRef(i), Type: mailtrail.EventClicked, OccurredAt: at.Add(2 * time.Minute),
				Source: mailtrail.SourceTracking, Metadata: mailtrail.Metadata{LinkURL: links[i%nLinks], Client: "Gmail"}})
	}
	pWrite(t, db, evs...)
	svc := &query.Service{R: db}
	report := func() *mailtrail.Report {
		t.Helper()
		r, err := svc.Report(pctx, org, "c1", "Europe/Paris")
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	report() // statements prepared on the pool, the organization cached
	stmts.Store(0)
	txs.Store(0)
	r := report()
	if len(r.Links) != nLinks || r.Counts.ClicksTotal != 20 || len(r.Links[0].TopClickers) == 0 || len(r.Breakdowns.Opens.City) != 1 {
		t.Fatalf("the report lacks the links, clicks, top clickers or breakdowns the count is about: %+v", r)
	}
	if got := txs.Load(); got != 1 {
		t.Errorf("%d read transactions, want 1", got)
	}
	if got := stmts.Load(); got != 21 {
		t.Errorf("%d statements, want 21 (45 before reads went through one View)", got)
	}
}
