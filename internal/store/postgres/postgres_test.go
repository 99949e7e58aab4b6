package postgres_test

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/ingest"
	"github.com/mailtrail/mailtrail/internal/store/postgres"
	"github.com/mailtrail/mailtrail/internal/store/postgres/pgtest"
	"github.com/mailtrail/mailtrail/internal/store/storetest"
)

// dsn returns the test server's DSN (pgtest.DSN: skips without one, unless CI).
func dsn(t *testing.T) string { return pgtest.DSN(t) }

// newSchema returns a fresh schema name, dropped with everything in it when the test ends.
func newSchema(t *testing.T) string { return pgtest.Schema(t, dsn(t), "t_") }

// openIn opens the store in schema, closed when the test ends.
func openIn(t *testing.T, schema string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), dsn(t), postgres.Options{Schema: schema, MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// schemas remembers the schema of each store the tests open, for reopen.
var schemas sync.Map // *postgres.DB → string

func open(t *testing.T) storetest.Projection {
	s := newSchema(t)
	db := openIn(t, s)
	schemas.Store(db, s)
	return db
}

// reopen closes the store and opens its schema again, as a restart does.
func reopen(t *testing.T, s storetest.Projection) storetest.Projection {
	db := s.(*postgres.DB)
	schema, _ := schemas.Load(db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	again := openIn(t, schema.(string))
	schemas.Store(again, schema)
	return again
}

// TestProjectionConformance runs the projection part of the conformance suite
// (storetest.RunProjection) on PostgreSQL, each store in a schema of its own.
func TestProjectionConformance(t *testing.T) {
	storetest.RunProjection(t, open, reopen, ingest.Normalize)
}

// TestOperationalConformance runs the operational part of the conformance suite
// (storetest.RunOperational) on PostgreSQL, each store in a schema of its own.
func TestOperationalConformance(t *testing.T) {
	storetest.RunOperational(t, func(t *testing.T) storetest.Operational { return open(t).(*postgres.DB) }, ingest.Normalize)
}

// TestCatalogConformance runs the campaigns and saved segments areas of the conformance
// suite (storetest.RunCatalog) on PostgreSQL.
func TestCatalogConformance(t *testing.T) {
	storetest.RunCatalog(t, func(t *testing.T) storetest.Catalog { return open(t).(*postgres.DB) }, ingest.Normalize)
}

// TestOutboundConformance runs the subscriptions area of the conformance suite
// (storetest.RunOutbound) on PostgreSQL.
func TestOutboundConformance(t *testing.T) {
	storetest.RunOutbound(t, func(t *testing.T) storetest.Outbound { return open(t).(*postgres.DB) }, ingest.Normalize)
}

// TestSegmentsConformance runs the segment source area of the conformance suite
// (storetest.RunSegments) on PostgreSQL.
func TestSegmentsConformance(t *testing.T) {
	storetest.RunSegments(t, func(t *testing.T) storetest.Segments { return open(t).(*postgres.DB) }, ingest.Normalize)
}

// TestPrivacyConformance runs the erasure and retention area of the conformance suite
// (storetest.RunPrivacy) on PostgreSQL.
func TestPrivacyConformance(t *testing.T) {
	storetest.RunPrivacy(t, func(t *testing.T) storetest.Privacy { return open(t).(*postgres.DB) }, ingest.Normalize)
}

// TestMigrateOnce: stores opened at the same time on one empty schema migrate it once
// (the advisory lock), and a store opened again finds nothing to do.
func TestMigrateOnce(t *testing.T) {
	schema := newSchema(t)
	const n = 4
	var wg sync.WaitGroup
	errs := make(chan error, n)
	dbs := make(chan *postgres.DB, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := postgres.Open(context.Background(), dsn(t), postgres.Options{Schema: schema, MaxConns: 2})
			if err != nil {
				errs <- err
				return
			}
			dbs <- db
		}()
	}
	wg.Wait()
	close(errs)
	close(dbs)
	for err := range errs {
		t.Fatalf("open: %v", err)
	}
	for db := range dbs {
		t.Cleanup(func() { db.Close() })
	}
	db := openIn(t, schema)
	vs, err := db.Migrations(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// Every file in migrations/ once, in order: 1 … the number of files.
	files, err := os.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	want := make([]int, 0, len(files))
	for i := range files {
		want = append(want, i+1)
	}
	if len(want) < 12 || !reflect.DeepEqual(vs, want) {
		t.Fatalf("migrations applied: %v, want %v", vs, want)
	}
}

// TestOpenRefusesBadSchema: a schema name is an identifier, never SQL.
func TestOpenRefusesBadSchema(t *testing.T) {
	if _, err := postgres.Open(context.Background(), dsn(t), postgres.Options{Schema: `x"; DROP SCHEMA public; --`}); err == nil {
		t.Fatal("a schema name with SQL in it was accepted")
	}
}

// TestSuppressionPages: the suppressions list pages through organization-wide and topic
// rows alike, oldest or newest first, as one page lists them (the storetest areas read
// it in one page).
func TestSuppressionPages(t *testing.T) {
	ctx := context.Background()
	db := openIn(t, newSchema(t))
	o, _, err := db.CreateOrg(ctx, "acme", "UTC")
	if err != nil {
		t.Fatal(err)
	}
	storetest.Seed(t, db, o.ID, 6)
	base := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	var evs []*mailtrail.Event
	for i := range 6 {
		e := &mailtrail.Event{OrgID: o.ID, MessageID: fmt.Sprintf("msg%013d", i), Type: mailtrail.EventComplained,
			OccurredAt: base.Add(time.Duration(i%3) * time.Hour), Source: mailtrail.SourceWebhook, DedupeKey: fmt.Sprintf("c%d", i)}
		if i%2 == 1 { // a topic unsubscribe at the same time as an organization-wide row
			e.Type, e.Metadata.Topic = mailtrail.EventUnsubscribed, "news"
		}
		ingest.Normalize(e, base.Add(1000*time.Hour))
		evs = append(evs, e)
	}
	if _, err := db.Write(ctx, evs); err != nil {
		t.Fatal(err)
	}
	for _, newest := range []bool{false, true} {
		all, err := db.Suppressions(ctx, o.ID, mailtrail.SuppressionFilter{Limit: 100, Newest: newest})
		if err != nil {
			t.Fatal(err)
		}
		if len(all.Suppressions) != 6 {
			t.Fatalf("%d suppressions, want 6: %+v", len(all.Suppressions), all.Suppressions)
		}
		var paged []mailtrail.Suppression
		f := mailtrail.SuppressionFilter{Limit: 2, Newest: newest}
		for {
			p, err := db.Suppressions(ctx, o.ID, f)
			if err != nil {
				t.Fatal(err)
			}
			paged = append(paged, p.Suppressions...)
			if p.NextCursor == "" {
				break
			}
			f.Cursor = p.NextCursor
		}
		if !reflect.DeepEqual(paged, all.Suppressions) {
			t.Fatalf("newest %v: pages of 2 differ from one page:\n%+v\n%+v", newest, paged, all.Suppressions)
		}
	}
}
