// Command segments fills the embedded store with a large organization (default 4,000,000
// customers, 50 campaigns, up to 100 million events or what a time budget allows), builds
// the segment index from it as the service does at startup, and times segment queries:
// each as a count and as a full stream of ids (NDJSON lines), the single-customer check,
// and, as a baseline in the same run, the same "opened in the last 30 days" count
// computed by SQLite. It prints a markdown table of medians, p99s and ratios; it asserts
// nothing.
//
//	go run ./bench/segments [-customers 4000000] [-campaigns 50] [-events 100000000] [-budget 12m] [-db PATH]
//
// With -restart it times, instead of the queries, what a restart of serve waits for
// before segment requests are answered: a full Build, and loading the snapshot a clean
// shutdown writes (medians of 3 each; answers compared); with -tail N also loading it after
// N more events were committed, as a start after a crash does (it reads them from the store).
// -builds 1 times one Build instead of 3 (at 4 M customers each takes minutes); -cpuprofile
// writes a CPU profile of the snapshot loads (those without the tail).
//
// With -clickhouse URL it also loads the organization's raw events into a ClickHouse
// events table created by the project's Schema (database -chdb, dropped at the end unless
// -keep; a kept one that holds them all is not loaded again), and times the same queries
// there as SQL over the raw events (chsql.go), -chruns runs each, checking every count
// and id list against the index's count and printing a second table beside the first.
//
// With -postgres DSN (a postgres:// URL) it times instead what an API node of the cluster
// (serve --cluster) waits for, with the organization in PostgreSQL (pg.go): the same
// generated rows loaded with COPY into database -pgdb (created, migrated by the store,
// dropped at the end unless -keep; a kept one is used as is), a full Build with the
// PostgreSQL store as the source (-builds of them), and loads of the snapshot written
// from it, with -tail N also after N more events committed through the store's write
// path; each loaded index's counts are checked against the built one's. -compare also
// generates the organization into SQLite and compares the counts (small sizes).
//
//	go run ./bench/segments -postgres 'postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable' -events 50000000 -budget 60m -builds 1 -tail 500000
//
// With -db naming an existing file written by an earlier run, generation is skipped.
package main

import (
	"bufio"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/bench/load"
	"github.com/mailtrail/mailtrail/internal/segment"
	"github.com/mailtrail/mailtrail/internal/store/clickhouse"
	"github.com/mailtrail/mailtrail/internal/store/sqlite"

	_ "modernc.org/sqlite"
)

func main() {
	customers := flag.Int("customers", 4_000_000, "customers of the organization")
	campaigns := flag.Int("campaigns", 50, "campaigns, spread over 180 days")
	links := flag.Int("links", 6, "links per campaign")
	events := flag.Int64("events", 100_000_000, "events to generate (target)")
	budget := flag.Duration("budget", 12*time.Minute, "generation stops after the campaign that passes this time")
	dbPath := flag.String("db", "", "database file (kept); empty: a temporary one, removed at the end")
	runs := flag.Int("runs", 7, "timed runs of each query")
	checks := flag.Int("checks", 20000, "single-customer checks")
	nowFlag := flag.String("now", "2026-11-28T12:00:00Z", "the time the data ends and queries run at")
	restart := flag.Bool("restart", false, "time Build against loading a snapshot instead of the queries")
	builds := flag.Int("builds", 3, "with -restart: full builds timed (the median is reported)")
	cpuprofile := flag.String("cpuprofile", "", "with -restart: write a CPU profile of the snapshot loads to this file")
	tail := flag.Int("tail", 0, "with -restart: events committed after the snapshot (opens, clicks, deliveries of existing customers), which a start after a crash reads from the store; they stay in -db")
	chURL := flag.String("clickhouse", "", "also time the queries in ClickHouse at this HTTP URL (e.g. http://127.0.0.1:8123)")
	chDB := flag.String("chdb", "mt_segbench", "with -clickhouse: the database of the events")
	keep := flag.Bool("keep", false, "with -clickhouse or -postgres: keep the database (a later run with it loads nothing)")
	chRuns := flag.Int("chruns", 5, "with -clickhouse: timed runs of each query there")
	chPlanList := flag.String("chplans", "sets,scan", "with -clickhouse: the SQL plans timed (chsql.go)")
	chBlock := flag.Int("chblock", 1_000_000, "with -clickhouse: events per INSERT")
	pgDSN := flag.String("postgres", "", "time instead an API node's Build and snapshot loads with the organization in PostgreSQL (pg.go): the server's postgres:// URL")
	pgDB := flag.String("pgdb", "mailtrail_segbench", "with -postgres: the database created for the run (dropped at the end unless -keep; a kept one is used as is)")
	compare := flag.Bool("compare", false, "with -postgres: also generate the organization into SQLite and compare the rules' counts (small sizes)")
	flag.Parse()
	ctx := context.Background()
	now, err := time.Parse(time.RFC3339, *nowFlag)
	if err != nil {
		log.Fatal(err)
	}
	if *pgDSN != "" {
		benchPostgres(ctx, pgOptions{dsn: *pgDSN, database: *pgDB, keep: *keep, builds: max(*builds, 1), tail: *tail, compare: *compare},
			genConfig{customers: *customers, campaigns: *campaigns, links: *links, events: *events, budget: *budget, now: now, seed: 42})
		return
	}
	path := *dbPath
	if path == "" {
		dir, err := os.MkdirTemp("", "mailtrail-segbench-")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "m.db")
	}
	_, statErr := os.Stat(path)
	db, err := sqlite.Open(ctx, path, sqlite.Options{Synchronous: "OFF", CacheMiB: 256})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	var gen genResult
	var orgID string
	if statErr == nil {
		orgs, err := db.Orgs(ctx)
		if err != nil || len(orgs) == 0 {
			log.Fatalf("existing database without an organization: %v", err)
		}
		orgID = orgs[0].ID
		log.Printf("using the existing database %s", path)
	} else {
		org, _, err := db.CreateOrg(ctx, "bench", "UTC")
		if err != nil {
			log.Fatal(err)
		}
		orgID = org.ID
		internal, err := sqliteOrgRow(path, orgID)
		if err != nil {
			log.Fatal(err)
		}
		gen, err = generate(ctx, path, internal, genConfig{customers: *customers, campaigns: *campaigns, links: *links,
			events: *events, budget: *budget, now: now, seed: 42})
		if err != nil {
			log.Fatal(err)
		}
		log.Printf("generated %d events over %d campaigns in %s", gen.events, gen.campaigns, gen.took.Round(time.Second))
	}
	fi, _ := os.Stat(path)

	// ClickHouse first, so that its merges are over before anything is timed.
	var ch *clickhouse.DB
	var chLd chLoadStats
	if *chURL != "" {
		if ch, err = clickhouse.New(*chURL, *chDB); err != nil {
			log.Fatal(err)
		}
		if chLd, err = chLoad(ctx, path, orgID, ch, *chBlock); err != nil {
			log.Fatal(err)
		}
		if !*keep {
			defer ch.DropDatabase(context.Background())
		}
	}

	// Build the index as serve does, and measure its memory.
	idx, buildTook, heap := build(ctx, db, 200_000)
	org, _ := idx.Org(orgID)
	st := org.Stats()
	log.Printf("index built in %s: %+v, heap %.0f MiB", buildTook.Round(time.Millisecond), st, heap)

	if *restart {
		benchRestart(ctx, db, idx, orgID, path, buildTook, now, *tail, st.Customers, max(*builds, 1), *cpuprofile)
		return
	}

	ncamp := len(campNamesIn(db, ctx, orgID))
	queries := segmentQueries(ncamp)
	type row struct {
		name                 string
		n                    int
		countMed, countP99   time.Duration
		streamMed, streamP99 time.Duration
		streamBytes          int64
	}
	var rows []row
	loads := []string{"index queries " + load.LoadAverage()}
	for _, q := range queries {
		rule, err := segment.Parse([]byte(q.rule))
		if err != nil {
			log.Fatalf("%s: %v", q.name, err)
		}
		var counts, streams []time.Duration
		n := 0
		var bytes int64
		for range *runs {
			t0 := time.Now()
			res, err := idx.Evaluate(orgID, rule, now, nil)
			if err != nil {
				log.Fatal(err)
			}
			n = res.Count()
			counts = append(counts, time.Since(t0))
			t0 = time.Now()
			res, _ = idx.Evaluate(orgID, rule, now, nil)
			cw := &countingWriter{}
			bw := bufio.NewWriterSize(cw, 64<<10)
			line := make([]byte, 0, 64)
			res.Page("", 0, func(id string) error {
				line = append(line[:0], `{"customer_id":"`...)
				line = append(line, id...)
				line = append(line, "\"}\n"...)
				_, err := bw.Write(line)
				return err
			})
			fmt.Fprintf(bw, `{"count":%d}`+"\n", res.Count())
			bw.Flush()
			streams = append(streams, time.Since(t0))
			bytes = cw.n
		}
		cm, cp := stats(counts)
		sm, sp := stats(streams)
		rows = append(rows, row{q.name, n, cm, cp, sm, sp, bytes})
	}

	var figs [][]chFigures
	var plans []chPlan
	var idxFigs []indexFigures
	if ch != nil {
		for i, q := range queries {
			idxFigs = append(idxFigs, indexFigures{q.name, q.rule, rows[i].n, rows[i].countMed, rows[i].streamMed})
		}
		loads = append(loads, "ClickHouse queries "+load.LoadAverage())
		q := chSQL{table: ch.Database() + ".events", org: orgID, now: now}
		if plans, err = chPlans(q, *chPlanList); err != nil {
			log.Fatal(err)
		}
		for _, p := range plans {
			f, err := chQueries(ctx, ch, p, idxFigs, *chRuns)
			if err != nil {
				log.Printf("clickhouse: %v", err) // what was measured is still reported
				break
			}
			figs = append(figs, f)
		}
		loads = append(loads, "after "+load.LoadAverage())
	}

	// Single-customer checks: random customers, the five-condition rule and Q1.
	r := rand.New(rand.NewPCG(1, 2))
	checkRules := []string{queries[3].rule, queries[0].rule, queries[4].rule}
	var checkStats [][2]time.Duration
	for _, cr := range checkRules {
		rule, _ := segment.Parse([]byte(cr))
		lat := make([]time.Duration, 0, *checks)
		for range *checks {
			id := custName(r.IntN(max(st.Customers, 1)))
			t0 := time.Now()
			if _, err := idx.Match(orgID, rule, now, id); err != nil {
				log.Fatal(err)
			}
			lat = append(lat, time.Since(t0))
		}
		slices.Sort(lat)
		checkStats = append(checkStats, [2]time.Duration{lat[len(lat)/2], lat[len(lat)*99/100]})
	}

	// Baseline: SQLite answers the same Q1 count, over events (the campaign index) and over
	// the customers' last_open column (a scan).
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=cache_size(-262144)&mode=ro")
	if err != nil {
		log.Fatal(err)
	}
	defer raw.Close()
	since := now.Add(-30 * 24 * time.Hour).UnixMilli()
	var evTimes, custTimes []time.Duration
	var evCount, custCount int
	for range 3 {
		t0 := time.Now()
		if err := raw.QueryRow(`SELECT count(DISTINCT e.customer_id) FROM events e WHERE e.campaign_id IN
			(SELECT c.id FROM campaigns c JOIN orgs o ON o.id = c.org_id WHERE o.public_id = ?) AND e.occurred_at >= ? AND e.type = 3 AND e.counted = 1`,
			orgID, since).Scan(&evCount); err != nil {
			log.Fatal(err)
		}
		evTimes = append(evTimes, time.Since(t0))
		t0 = time.Now()
		if err := raw.QueryRow(`SELECT count(*) FROM customers WHERE org_id = (SELECT id FROM orgs WHERE public_id = ?) AND last_open >= ?`,
			orgID, since).Scan(&custCount); err != nil {
			log.Fatal(err)
		}
		custTimes = append(custTimes, time.Since(t0))
	}
	evMed, _ := stats(evTimes)
	custMed, _ := stats(custTimes)

	// Report.
	w := os.Stdout
	fmt.Fprintf(w, "## Segments over %s customers, %d campaigns, %s events (%s)\n\n", thousands(int64(st.Customers)), ncamp, thousands(st.Events), runtime.Version())
	if gen.events > 0 {
		fmt.Fprintf(w, "Generated %s events in %s (bulk path, see bench/segments/gen.go). ", thousands(gen.events), gen.took.Round(time.Second))
	}
	fmt.Fprintf(w, "Database %.1f GiB. Index built from SQLite in %s; Go heap of the index %.0f MiB (%.0f MiB per million customers, %.1f B per event); %d bitmaps over %d days. Queries at %s, %d runs each: median and p99 (= the slowest run when runs < 100).\n\n",
		float64(fi.Size())/(1<<30), buildTook.Round(time.Second), heap, heap/(float64(st.Customers)/1e6), heap*(1<<20)/float64(max(st.Events, 1)), st.Bitmaps, st.Days, now.Format(time.RFC3339), *runs)
	fmt.Fprintln(w, "| query | customers | count median | count p99 | full id stream median | stream p99 | stream size |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	for _, x := range rows {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %.0f MiB |\n", x.name, thousands(int64(x.n)), ms(x.countMed), ms(x.countP99), ms(x.streamMed), ms(x.streamP99), float64(x.streamBytes)/(1<<20))
	}
	fmt.Fprintf(w, "\nSingle-customer check (%d random customers each): five-condition rule p50 %s, p99 %s; opened in 30 days p50 %s, p99 %s; at least 3 opens in 90 days p50 %s, p99 %s.\n",
		*checks, us(checkStats[0][0]), us(checkStats[0][1]), us(checkStats[1][0]), us(checkStats[1][1]), us(checkStats[2][0]), us(checkStats[2][1]))
	fmt.Fprintf(w, "\nBaseline, same run, \"opened in the last 30 days\" count in SQLite (median of 3): over events by the campaign index %s (%s customers) = **%.0f×** the index's count; over customers.last_open (scan) %s (%s) = **%.0f×**.\n",
		ms(evMed), thousands(int64(evCount)), float64(evMed)/float64(rows[0].countMed), ms(custMed), thousands(int64(custCount)), float64(custMed)/float64(rows[0].countMed))
	fmt.Fprintf(w, "\nFive-condition rule: `%s`\n", queries[3].rule)
	if evCount != rows[0].n || custCount != rows[0].n {
		fmt.Fprintf(w, "\n**Mismatch**: index %d, SQLite events %d, customers %d.\n", rows[0].n, evCount, custCount)
	}
	if ch != nil && figs != nil {
		chReport(w, ch, chLd, idxFigs, plans, figs, *chRuns, loads)
		for _, p := range plans {
			countSQL, _ := p.count([]byte(queries[3].rule))
			fmt.Fprintf(w, "\nThe five-condition rule's count, plan %s:\n\n```sql\n%s\n```\n", p.name, countSQL)
		}
	}
}

// namedRule is a segment rule of the report.
type namedRule struct{ name, rule string }

// segmentQueries returns the report's rules over an organization of ncamp campaigns.
func segmentQueries(ncamp int) []namedRule {
	last := campName(max(ncamp-1, 0))
	mid := campName(ncamp / 2)
	return []namedRule{
		{"opened any email in the last 30 days", `{"has_done":{"event":"opened","within":{"value":30,"unit":"DAY"}}}`},
		{"NOT clicked in the last 90 days", `{"has_not_done":{"event":"clicked","within":{"value":90,"unit":"DAY"}}}`},
		{"opened campaign X in the last 7 days AND NOT clicked it", `{"and":[{"has_done":{"event":"opened","campaign_id":"` + last + `","within":{"value":7,"unit":"DAY"}}},{"has_not_done":{"event":"clicked","campaign_id":"` + last + `"}}]}`},
		{"five conditions, nested (below)", `{"and":[{"or":[{"has_done":{"event":"opened","human_only":true,"within":{"value":30,"unit":"DAY"}}},{"has_done":{"event":"clicked","campaign_id":"` + mid + `","within":{"value":3,"unit":"MONTH"}}}]},{"has_done":{"event":"sent","within":{"value":14,"unit":"DAY"}}},{"not":{"and":[{"has_done":{"event":"clicked","within":{"value":90,"unit":"DAY"}}},{"has_not_done":{"event":"opened","campaign_id":"` + last + `"}}]}}]}`},
		{"opened at least 3 times in the last 90 days (extra)", `{"has_done":{"event":"opened","at_least":3,"within":{"value":90,"unit":"DAY"}}}`},
	}
}

// sqliteOrgRow returns the row id of the organization orgID in the SQLite file path.
func sqliteOrgRow(path, orgID string) (int64, error) {
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		return 0, err
	}
	defer raw.Close()
	var internal int64
	err = raw.QueryRow(`SELECT id FROM orgs WHERE public_id = ?`, orgID).Scan(&internal)
	return internal, err
}

func campNamesIn(db *sqlite.DB, ctx context.Context, orgID string) []string {
	var out []string
	db.SegmentCampaigns(ctx, orgID, func(_ int64, name string) { out = append(out, name) })
	return out
}

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

var _ io.Writer = (*countingWriter)(nil)

// stats returns the median and the p99 (nearest rank) of ds.
func stats(ds []time.Duration) (med, p99 time.Duration) {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*99 + 99) / 100
	return s[len(s)/2], s[min(i, len(s))-1]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/1e6) }
func us(d time.Duration) string { return fmt.Sprintf("%.1f µs", float64(d)/1e3) }

func thousands(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// benchRestart prints the medians of nbuilds full builds (the first one given) and of 3
// loads of the snapshot idx writes, and checks that a loaded index answers as the built
// one.
func benchRestart(ctx context.Context, db *sqlite.DB, idx *segment.Index, orgID, path string, first time.Duration, now time.Time, tail, customers, nbuilds int, cpuprofile string) {
	builds := []time.Duration{first}
	for range nbuilds - 1 {
		x := segment.New(db, nil)
		t0 := time.Now()
		if err := x.Build(ctx, 200_000); err != nil {
			log.Fatal(err)
		}
		builds = append(builds, time.Since(t0))
	}
	last, err := db.LastEventID(ctx)
	if err != nil {
		log.Fatal(err)
	}
	gen, err := db.Generation(ctx)
	if err != nil {
		log.Fatal(err)
	}
	pos := segment.Position{LastEventID: last, Generation: gen}
	snap := path + ".snapshot"
	defer os.Remove(snap)
	writeTook, snapSize := writeSnap(idx, snap, pos)
	rule, _ := segment.Parse([]byte(`{"has_done":{"event":"opened","within":{"value":30,"unit":"DAY"}}}`))
	count := func(x *segment.Index) int {
		res, err := x.Evaluate(orgID, rule, now, nil)
		if err != nil {
			log.Fatal(err)
		}
		return res.Count()
	}
	want := count(idx)
	// loads3 loads the snapshot 3 times at pos, checking each index counts want and read
	// at least minTail events since the snapshot.
	loads3 := func(pos segment.Position, minTail int) []time.Duration {
		return loadSnaps(ctx, db, snap, pos, func(x *segment.Index, n int) {
			if got := count(x); got != want || n < minTail {
				log.Fatalf("a loaded index with %d events since counts %d, the live one %d", n, got, want)
			}
		})
	}
	if cpuprofile != "" {
		pf, err := os.Create(cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(pf); err != nil {
			log.Fatal(err)
		}
	}
	loads := loads3(pos, 0)
	if cpuprofile != "" {
		pprof.StopCPUProfile()
	}
	med := func(d []time.Duration) time.Duration { slices.Sort(d); return d[len(d)/2] }
	var tailLoads []time.Duration
	if tail > 0 {
		// A crash after the snapshot: tail more events committed (and observed by the
		// live index), then loads of the snapshot that read them from the store.
		r := rand.New(rand.NewPCG(9, uint64(tail)))
		ncamp := len(campNamesIn(db, ctx, orgID))
		t0 := time.Now()
		for done := 0; done < tail; {
			n := min(5000, tail-done)
			evs := tailBatch(r, n, orgID, ncamp, customers, now)
			cs, err := db.Write(ctx, evs)
			if err != nil {
				log.Fatal(err)
			}
			idx.Observe(cs.Events, cs.Relabels)
			done += n
		}
		idx.Flush()
		log.Printf("%d events committed after the snapshot in %s", tail, time.Since(t0).Round(time.Millisecond))
		want = count(idx)
		lastNow, err := db.LastEventID(ctx)
		if err != nil {
			log.Fatal(err)
		}
		tailLoads = loads3(segment.Position{LastEventID: lastNow, Generation: gen}, 1)
	}
	fmt.Printf("| full build (median of %d) | %s |\n", len(builds), med(builds).Round(time.Millisecond))
	fmt.Printf("| snapshot load (median of 3) | %s |\n", med(loads).Round(time.Millisecond))
	if tail > 0 {
		fmt.Printf("| snapshot load + %d events since, read from the store (median of 3) | %s |\n", tail, med(tailLoads).Round(time.Millisecond))
	}
	fmt.Printf("| snapshot write at shutdown | %s, %.0f MiB |\n", writeTook.Round(time.Millisecond), float64(snapSize)/(1<<20))
	fmt.Printf("builds %v, loads %v; opened in the last 30 days: %d\n", builds, loads, want)
}

// tailBatch returns n events committed after a snapshot: deliveries, opens and clicks
// of existing customers and campaigns in the last 30 days before now.
func tailBatch(r *rand.Rand, n int, orgID string, ncamp, customers int, now time.Time) []*mailtrail.Event {
	types := []mailtrail.EventType{mailtrail.EventDelivered, mailtrail.EventOpened, mailtrail.EventOpened, mailtrail.EventClicked}
	evs := make([]*mailtrail.Event, n)
	for i := range evs {
		at := now.Add(-time.Duration(r.Int64N(int64(30 * 24 * time.Hour))))
		k := r.IntN(ncamp)
		ev := &mailtrail.Event{OrgID: orgID, CampaignID: campName(k), CustomerID: custName(r.IntN(customers)),
			Type: types[r.IntN(len(types))], OccurredAt: at, ReceivedAt: now, Source: mailtrail.SourceAPI}
		if ev.Type == mailtrail.EventClicked {
			ev.Metadata.LinkURL = fmt.Sprintf("https://shop.example.com/c%d/l%d", k, r.IntN(6))
		}
		evs[i] = ev
	}
	return evs
}
