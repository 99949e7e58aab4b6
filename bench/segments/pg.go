package main

// The -postgres mode: what an API node of the cluster (serve --cluster) waits for before
// it answers segment reads, with the organization in PostgreSQL instead of SQLite. The
// generator's rows (genEvents) go into a database of their own, migrated by the store
// (postgres.Open), through COPY; then a full Build of the index with the PostgreSQL
// store as its source, as the node builds it (cmd/mailtrail/node.go: segment.New over
// the store, Build with the default chunk), and loads of a snapshot written from it, as a
// node's start after a clean stop and, with -tail N, after N more events were committed
// (a start after a crash: the loads read them from PostgreSQL with SegmentTail).

import (
	"context"
	"errors"
	"fmt"
	"log"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/mailtrail/mailtrail/bench/load"
	"github.com/mailtrail/mailtrail/internal/segment"
	"github.com/mailtrail/mailtrail/internal/store/postgres"
	"github.com/mailtrail/mailtrail/internal/store/sqlite"
)

// pgOptions are the -postgres mode's flags.
type pgOptions struct {
	dsn, database string
	keep          bool
	builds, tail  int
	compare       bool // also generate into SQLite and compare the counts
}

// benchPostgres runs the -postgres mode and prints its report.
func benchPostgres(ctx context.Context, o pgOptions, cfg genConfig) {
	dsn, err := withDatabase(o.dsn, o.database)
	if err != nil {
		log.Fatal(err)
	}
	admin, err := pgx.Connect(ctx, o.dsn)
	if err != nil {
		log.Fatal(err)
	}
	defer admin.Close(context.Background())
	var exists bool
	if err := admin.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)`, o.database).Scan(&exists); err != nil {
		log.Fatal(err)
	}
	if !exists {
		if _, err := admin.Exec(ctx, `CREATE DATABASE `+pgx.Identifier{o.database}.Sanitize()); err != nil {
			log.Fatal(err)
		}
	}
	if !o.keep {
		defer func() {
			if _, err := admin.Exec(context.Background(), `DROP DATABASE `+pgx.Identifier{o.database}.Sanitize()+` WITH (FORCE)`); err != nil {
				log.Printf("drop database: %v", err)
				return
			}
			log.Printf("database %s dropped", o.database)
		}()
	}
	pg, err := postgres.Open(ctx, dsn, postgres.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer pg.Close()

	var gen genResult
	var loadTook time.Duration
	var orgID string
	orgs, err := pg.Orgs(ctx)
	if err != nil {
		log.Fatal(err)
	}
	if len(orgs) > 0 {
		orgID = orgs[0].ID
		log.Printf("using the organization already in database %s", o.database)
	} else {
		org, _, err := pg.CreateOrg(ctx, "bench", "UTC")
		if err != nil {
			log.Fatal(err)
		}
		orgID = org.ID
		t0 := time.Now()
		if gen, err = pgGenerate(ctx, dsn, orgID, cfg); err != nil {
			log.Fatal(err)
		}
		loadTook = time.Since(t0)
		log.Printf("generated %d events over %d campaigns into PostgreSQL in %s", gen.events, gen.campaigns, loadTook.Round(time.Second))
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close(context.Background())
	var dbSize, evSize, evTable int64
	if err := conn.QueryRow(ctx, `SELECT pg_database_size(current_database()), pg_total_relation_size('events'), pg_relation_size('events')`).Scan(&dbSize, &evSize, &evTable); err != nil {
		log.Fatal(err)
	}

	// Build the index as a node does: the store itself is the source.
	loadAvg := []string{"before the build " + load.LoadAverage()}
	idx, took, heap := build(ctx, pg, 0)
	builds := []time.Duration{took}
	org, err := idx.Org(orgID)
	if err != nil {
		log.Fatal(err)
	}
	st := org.Stats()
	log.Printf("index built from PostgreSQL in %s: %+v, heap %.0f MiB", builds[0].Round(time.Millisecond), st, heap)
	for range o.builds - 1 {
		x := segment.New(pg, nil)
		t0 := time.Now()
		if err := x.Build(ctx, 0); err != nil {
			log.Fatal(err)
		}
		builds = append(builds, time.Since(t0))
	}
	loadAvg = append(loadAvg, "after the builds "+load.LoadAverage())

	var ncamp int
	pg.SegmentCampaigns(ctx, orgID, func(int64, string) { ncamp++ })
	queries := segmentQueries(ncamp)
	want := pgCounts(idx, orgID, queries, cfg.now)

	// The snapshot a clean stop writes, at the position the node writes it at.
	end, err := pg.StreamEnd(ctx)
	if err != nil {
		log.Fatal(err)
	}
	generation, err := pg.Generation(ctx)
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "mailtrail-segbench-pg-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	snap := filepath.Join(dir, "segments.snapshot")
	writeTook, snapSize := writeSnap(idx, snap, segment.Position{LastEventID: end, Generation: generation})

	// loads3 loads the snapshot 3 times as a node's start does (the position is
	// PostgreSQL's stream end and generation), checking that each index answers every
	// rule as the live one and read at least minTail events since the snapshot.
	loads3 := func(want []int, minTail int) []time.Duration {
		end, err := pg.StreamEnd(ctx)
		if err != nil {
			log.Fatal(err)
		}
		return loadSnaps(ctx, pg, snap, segment.Position{LastEventID: end, Generation: generation}, func(x *segment.Index, n int) {
			if got := pgCounts(x, orgID, queries, cfg.now); !slices.Equal(got, want) || n < minTail {
				log.Fatalf("a loaded index with %d events since counts %v, the live one %v", n, got, want)
			}
		})
	}
	loads := loads3(want, 0)

	var tailLoads []time.Duration
	var tailWrite time.Duration
	tailWant := want
	if o.tail > 0 {
		// A crash after the snapshot: tail more events committed by the workers (the
		// store's write path, observed by the live index), then loads of the snapshot
		// that read them from PostgreSQL.
		r := rand.New(rand.NewPCG(9, uint64(o.tail)))
		t0 := time.Now()
		for done := 0; done < o.tail; {
			n := min(5000, o.tail-done)
			cs, err := pg.Write(ctx, tailBatch(r, n, orgID, ncamp, st.Customers, cfg.now))
			if err != nil {
				log.Fatal(err)
			}
			idx.Observe(cs.Events, cs.Relabels)
			done += n
		}
		idx.Flush()
		tailWrite = time.Since(t0)
		log.Printf("%d events committed after the snapshot in %s", o.tail, tailWrite.Round(time.Millisecond))
		tailWant = pgCounts(idx, orgID, queries, cfg.now)
		tailLoads = loads3(tailWant, 1)
	}
	loadAvg = append(loadAvg, "after the loads "+load.LoadAverage())

	// With -compare, the same organization generated into SQLite and built there.
	var sqlCounts []int
	var sqlStats segment.Stats
	var sqlBuild time.Duration
	if o.compare {
		sqlCounts, sqlStats, sqlBuild = sqliteCounts(ctx, cfg, queries)
	}

	med := func(d []time.Duration) time.Duration {
		s := slices.Clone(d)
		slices.Sort(s)
		return s[len(s)/2]
	}
	w := os.Stdout
	fmt.Fprintf(w, "## Segment index of an API node from PostgreSQL: %s customers, %d campaigns, %s events (%s)\n\n",
		thousands(int64(st.Customers)), ncamp, thousands(st.Events), runtime.Version())
	if gen.events > 0 {
		fmt.Fprintf(w, "Generated %s events and loaded them with COPY in %s. ", thousands(gen.events), loadTook.Round(time.Second))
	}
	fmt.Fprintf(w, "PostgreSQL database %.1f GiB (events %.1f GiB with its indexes, %.1f GiB without). Go heap of the index %.0f MiB (%.1f B per event).\n\n",
		float64(dbSize)/(1<<30), float64(evSize)/(1<<30), float64(evTable)/(1<<30), heap, heap*(1<<20)/float64(max(st.Events, 1)))
	fmt.Fprintln(w, "| what a node waits for | time |")
	fmt.Fprintln(w, "|---|---|")
	mb := med(builds)
	fmt.Fprintf(w, "| full build from PostgreSQL (median of %d) | %s (%.2f µs per event, %s events/s) |\n", len(builds), mb.Round(time.Millisecond),
		float64(mb)/1e3/float64(max(st.Events, 1)), thousands(int64(float64(st.Events)/mb.Seconds())))
	fmt.Fprintf(w, "| snapshot load (median of 3) | %s |\n", med(loads).Round(time.Millisecond))
	if o.tail > 0 {
		fmt.Fprintf(w, "| snapshot load + %d events since, read from PostgreSQL (median of 3) | %s |\n", o.tail, med(tailLoads).Round(time.Millisecond))
	}
	fmt.Fprintf(w, "| snapshot write at a clean stop | %s, %.0f MiB |\n", writeTook.Round(time.Millisecond), float64(snapSize)/(1<<20))
	fmt.Fprintf(w, "\nbuilds %v, loads %v, loads with the tail %v", builds, loads, tailLoads)
	if o.tail > 0 {
		fmt.Fprintf(w, " (the %d events written in %s)", o.tail, tailWrite.Round(time.Millisecond))
	}
	fmt.Fprintf(w, "; load averages: %v\n\n", loadAvg)
	fmt.Fprintln(w, "| rule | built from PostgreSQL | snapshot loaded | snapshot + tail |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for i, q := range queries {
		fmt.Fprintf(w, "| %s | %s | %s (equal) | %s |\n", q.name, thousands(int64(want[i])), thousands(int64(want[i])), thousands(int64(tailWant[i])))
	}
	if o.compare {
		same := slices.Equal(sqlCounts, want) && sqlStats.Customers == st.Customers && sqlStats.Events == st.Events
		fmt.Fprintf(w, "\nThe same organization generated into SQLite and built there (%s): %d customers, %d events, counts %v: ", sqlBuild.Round(time.Millisecond), sqlStats.Customers, sqlStats.Events, sqlCounts)
		if same {
			fmt.Fprintln(w, "equal to PostgreSQL's.")
		} else {
			fmt.Fprintf(w, "**differ** from PostgreSQL's (%d customers, %d events, %v).\n", st.Customers, st.Events, want)
		}
	}
}

// pgCounts returns each rule's count in idx.
func pgCounts(idx *segment.Index, orgID string, queries []namedRule, now time.Time) []int {
	out := make([]int, len(queries))
	for i, q := range queries {
		rule, err := segment.Parse([]byte(q.rule))
		if err != nil {
			log.Fatal(err)
		}
		res, err := idx.Evaluate(orgID, rule, now, nil)
		if err != nil {
			log.Fatal(err)
		}
		out[i] = res.Count()
	}
	return out
}

// sqliteCounts generates cfg's organization into a temporary SQLite store, builds the
// index from it and returns the rules' counts, its stats and the build's time.
func sqliteCounts(ctx context.Context, cfg genConfig, queries []namedRule) ([]int, segment.Stats, time.Duration) {
	dir, err := os.MkdirTemp("", "mailtrail-segbench-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "m.db")
	db, err := sqlite.Open(ctx, path, sqlite.Options{Synchronous: "OFF", CacheMiB: 256})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	org, _, err := db.CreateOrg(ctx, "bench", "UTC")
	if err != nil {
		log.Fatal(err)
	}
	internal, err := sqliteOrgRow(path, org.ID)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := generate(ctx, path, internal, cfg); err != nil {
		log.Fatal(err)
	}
	idx := segment.New(db, nil)
	t0 := time.Now()
	if err := idx.Build(ctx, 0); err != nil {
		log.Fatal(err)
	}
	took := time.Since(t0)
	o, err := idx.Org(org.ID)
	if err != nil {
		log.Fatal(err)
	}
	return pgCounts(idx, org.ID, queries, cfg.now), o.Stats(), took
}

// withDatabase returns the postgres:// URL dsn naming database instead of its own.
func withDatabase(dsn, database string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", errors.New("-postgres: a postgres:// URL, please")
	}
	u.Path = "/" + database
	return u.String(), nil
}

// pgGenerate writes cfg's organization into the store's tables in PostgreSQL that the
// segment index reads (campaigns, customers with their activity columns, counted events
// with class and link URL), as generate does into SQLite and with the same rows: COPY on
// one connection while the generator draws the next rows. The secondary indexes of
// events are dropped before and created again after, from their own definitions
// (pg_get_indexdef): a bulk load's shortcut, as is skipping the messages rows and the
// counters, which segments do not read (an email's events share a message id no messages
// row has: SegmentTail reads the message ids, and PostgreSQL's planner their statistics). Then VACUUM ANALYZE, as
// autovacuum would have done on a live database.
func pgGenerate(ctx context.Context, dsn, orgID string, cfg genConfig) (genResult, error) {
	start := time.Now()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return genResult{}, err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `SET synchronous_commit = off`); err != nil {
		return genResult{}, err
	}
	var org int64
	if err := conn.QueryRow(ctx, `SELECT id FROM orgs WHERE public_id = $1`, orgID).Scan(&org); err != nil {
		return genResult{}, err
	}
	var campBase int64
	for k := range cfg.campaigns {
		var id int64
		if err := conn.QueryRow(ctx, `INSERT INTO campaigns (org_id, name) VALUES ($1, $2) RETURNING id`, org, campName(k)).Scan(&id); err != nil {
			return genResult{}, err
		}
		if k == 0 {
			campBase = id
		} else if id != campBase+int64(k) {
			return genResult{}, fmt.Errorf("campaign ids not consecutive: %d after %d", id, campBase)
		}
	}
	var custBase int64
	if err := conn.QueryRow(ctx, `SELECT coalesce(max(id), 0) + 1 FROM customers`).Scan(&custBase); err != nil {
		return genResult{}, err
	}
	q, err := conn.Query(ctx, `SELECT indexname, indexdef FROM pg_indexes
		WHERE schemaname = current_schema() AND tablename = 'events' AND indexname IN ('events_campaign', 'events_customer', 'events_org', 'events_message_clicks')`)
	if err != nil {
		return genResult{}, err
	}
	rows, err := pgx.CollectRows(q, pgx.RowToStructByPos[struct{ Name, Def string }])
	if err != nil {
		return genResult{}, err
	}
	if len(rows) != 4 {
		return genResult{}, fmt.Errorf("events has %d of its 4 secondary indexes", len(rows))
	}
	for _, ix := range rows {
		if _, err := conn.Exec(ctx, `DROP INDEX `+pgx.Identifier{ix.Name}.Sanitize()); err != nil {
			return genResult{}, err
		}
	}

	w := &pgRows{org: org, campBase: campBase, custBase: custBase, customers: int64(cfg.customers), batches: make(chan []pgEvent, 4), done: make(chan error, 1)}
	go w.copy(ctx, conn)
	r := rand.New(rand.NewPCG(cfg.seed, 99))
	act, out, err := genEvents(cfg, r, start, campBase, custBase, w)
	w.close()
	if err2 := <-w.done; err == nil {
		err = err2
	}
	if err != nil {
		return out, err
	}
	log.Printf("postgres: %d events copied in %s", w.total, time.Since(start).Round(time.Second))
	custRows := make([][]any, cfg.customers)
	for i := range custRows {
		custRows[i] = []any{custBase + int64(i), org, custName(i), act.lastSent[i], act.lastOpen[i], act.lastClick[i]}
	}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"customers"}, []string{"id", "org_id", "ext_id", "last_sent", "last_open", "last_click"},
		pgx.CopyFromRows(custRows)); err != nil {
		return out, err
	}
	if _, err := conn.Exec(ctx, `SELECT setval('customers_id_seq', (SELECT max(id) FROM customers))`); err != nil {
		return out, err
	}
	// The messages the tail's events create come after every message id of the rows.
	if _, err := conn.Exec(ctx, `SELECT setval('messages_id_seq', $1)`, int64(cfg.campaigns)*int64(cfg.customers)+1); err != nil {
		return out, err
	}
	t0 := time.Now()
	if _, err := conn.Exec(ctx, `SET maintenance_work_mem = '512MB'`); err != nil {
		return out, err
	}
	for _, ix := range rows {
		if _, err := conn.Exec(ctx, ix.Def); err != nil {
			return out, err
		}
	}
	log.Printf("postgres: indexes of events created in %s", time.Since(t0).Round(time.Second))
	t0 = time.Now()
	if _, err := conn.Exec(ctx, `VACUUM ANALYZE events, customers, campaigns`); err != nil {
		return out, err
	}
	log.Printf("postgres: VACUUM ANALYZE in %s", time.Since(t0).Round(time.Second))
	out.events, out.took = w.total, time.Since(start)
	return out, nil
}

// pgEvent is one generated event row.
type pgEvent struct {
	camp, cust  int64
	msg         int64
	at          int64
	typ         int16
	class, link string
}

// pgRows is the generator's rowSink into PostgreSQL: rows in batches of copyBatch, each
// copied into events by one COPY (its own transaction) in copy's goroutine.
type pgRows struct {
	org int64
	// an email's events get one message id, (campaign index × customers) + customer
	// index + 1, which no messages row holds
	campBase, custBase, customers int64
	cur                           []pgEvent
	batches                       chan []pgEvent
	done                          chan error
	total                         int64 // rows handed to COPY
	err                           error
	copyErr                       atomic.Pointer[error] // copy's first error, as soon as it happens
}

const copyBatch = 200_000

func (w *pgRows) add(camp, cust int64, typ int, at int64, class, link string) error {
	if w.err != nil {
		return w.err
	}
	if w.cur == nil {
		w.cur = make([]pgEvent, 0, copyBatch)
	}
	w.cur = append(w.cur, pgEvent{camp: camp, cust: cust, msg: (camp-w.campBase)*w.customers + cust - w.custBase + 1, at: at, typ: int16(typ), class: class, link: link})
	w.total++
	if len(w.cur) == copyBatch {
		if err := w.copyErr.Load(); err != nil {
			w.err = fmt.Errorf("copy events: %w", *err)
		} else {
			w.batches <- w.cur
		}
		w.cur = nil
	}
	return w.err
}

func (w *pgRows) failed() error  { return w.err }
func (w *pgRows) written() int64 { return w.total }

// close hands the last rows to COPY and ends copy's loop.
func (w *pgRows) close() {
	if len(w.cur) > 0 && w.err == nil {
		w.batches <- w.cur
	}
	close(w.batches)
}

// copy copies each batch, then reports the first error (or nil) on done.
func (w *pgRows) copy(ctx context.Context, conn *pgx.Conn) {
	cols := []string{"uid", "org_id", "campaign_id", "customer_id", "message_id", "type", "occurred_at", "received_at", "source", "class", "counted", "meta"}
	var err error
	for b := range w.batches {
		if err != nil {
			continue // drain
		}
		src := &eventSource{org: w.org, rows: b, i: -1, vals: make([]any, len(cols))}
		if _, err = conn.CopyFrom(ctx, pgx.Identifier{"events"}, cols, src); err != nil {
			w.copyErr.Store(&err)
		}
	}
	w.done <- err
}

// eventSource is a pgx.CopyFromSource over a batch of generated events.
type eventSource struct {
	org  int64
	rows []pgEvent
	i    int
	vals []any
}

func (s *eventSource) Next() bool { s.i++; return s.i < len(s.rows) }
func (s *eventSource) Err() error { return nil }
func (s *eventSource) Values() ([]any, error) {
	e := &s.rows[s.i]
	var meta any
	if e.link != "" {
		meta = `{"link_url":"` + e.link + `"}`
	}
	v := s.vals
	v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11] = "", s.org, e.camp, e.cust, e.msg, e.typ, e.at, e.at, "import", e.class, true, meta
	return v, nil
}
