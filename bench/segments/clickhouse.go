package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log"
	"strconv"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/projector"
	"github.com/mailtrail/mailtrail/internal/store/clickhouse"
)

// chLoadStats is what loading the events into ClickHouse did.
type chLoadStats struct {
	rows, uncounted int64
	took, merges    time.Duration
	skipped         bool // the database held them already (-keep)
	parts           int64
	bytesOnDisk     int64
}

// chLoad copies the organization's events from the SQLite file at path into db's events
// table (created by the project's Schema), as the shipper would hold them: every raw
// event, counted or not, in blocks of blockRows rows through InsertEvents (TabSeparated
// over HTTP), the next block read from SQLite while one is sent. When the table already
// holds as many rows as SQLite has events it loads nothing. It then waits for the
// server's merges to end (none for 6 s), so that the timings after it do not run beside
// them; the parts they leave are as the server's own merge policy leaves them (no
// OPTIMIZE).
func chLoad(ctx context.Context, path, orgID string, db *clickhouse.DB, blockRows int) (chLoadStats, error) {
	var st chLoadStats
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=cache_size(-262144)&mode=ro")
	if err != nil {
		return st, err
	}
	defer raw.Close()
	var org int64
	if err := raw.QueryRowContext(ctx, `SELECT id FROM orgs WHERE public_id = ?`, orgID).Scan(&org); err != nil {
		return st, err
	}
	var want int64
	if err := raw.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(counted = 0), 0) FROM events WHERE org_id = ?`, org).Scan(&want, &st.uncounted); err != nil {
		return st, err
	}
	if err := db.Schema(ctx); err != nil {
		return st, err
	}
	if rows, _, err := db.Rows(ctx); err != nil {
		return st, err
	} else if rows == want {
		st.rows, st.skipped = rows, true
		return st, chParts(ctx, db, &st)
	} else if rows != 0 {
		return st, fmt.Errorf("%s.events holds %d rows, SQLite %d events: drop the database first", db.Database(), rows, want)
	}

	start := time.Now()
	// names reads the organization's rows of a table as row id → public name.
	names := func(query string) (map[int64]string, error) {
		out := map[int64]string{}
		return out, scanRows(ctx, raw, query, org, func(r *sql.Rows) error {
			var id int64
			var name string
			err := r.Scan(&id, &name)
			out[id] = name
			return err
		})
	}
	camps, err := names(`SELECT id, name FROM campaigns WHERE org_id = ?`)
	if err != nil {
		return st, err
	}
	custs, err := names(`SELECT id, ext_id FROM customers WHERE org_id = ?`)
	if err != nil {
		return st, err
	}

	blocks := make(chan []*mailtrail.Event, 1)
	sent := make(chan error, 1)
	go func() {
		var err error
		pos := uint64(0)
		var busy time.Duration
		for b := range blocks {
			if err == nil {
				pos++
				t0 := time.Now()
				err = db.InsertEvents(ctx, []projector.Record{{Pos: pos, Events: b}})
				busy += time.Since(t0)
			}
		}
		log.Printf("clickhouse: %d INSERTs took %s in all", pos, busy.Round(time.Millisecond))
		sent <- err
	}()
	// The events in the table's order, which is the id's (a scan beats the (org_id, id)
	// index, which sends every row through a lookup).
	block := make([]*mailtrail.Event, 0, blockRows)
	readErr := scanRows(ctx, raw, `SELECT id, customer_id, campaign_id, type, occurred_at, received_at, source, class,
		CASE WHEN type = 4 THEN coalesce(json_extract(meta, '$.link_url'), '') ELSE '' END
		FROM events NOT INDEXED WHERE org_id = ?`, org, func(r *sql.Rows) error {
		var id, cust, camp, at, recv int64
		var typ int
		var source, class, link string
		if err := r.Scan(&id, &cust, &camp, &typ, &at, &recv, &source, &class, &link); err != nil {
			return err
		}
		block = append(block, &mailtrail.Event{ID: strconv.FormatInt(id, 10), OrgID: orgID, CampaignID: camps[camp],
			CustomerID: custs[cust], Type: mailtrail.EventType(typ), OccurredAt: time.UnixMilli(at).UTC(),
			ReceivedAt: time.UnixMilli(recv).UTC(), Source: mailtrail.Source(source),
			Classification: mailtrail.Classification(class), Metadata: mailtrail.Metadata{LinkURL: link}})
		if len(block) == blockRows {
			blocks <- block
			block = make([]*mailtrail.Event, 0, blockRows)
			if st.rows += int64(blockRows); st.rows%(10*int64(blockRows)) == 0 {
				log.Printf("clickhouse: %d events read, %s", st.rows, time.Since(start).Round(time.Second))
			}
		}
		return nil
	})
	if len(block) > 0 {
		blocks <- block
		st.rows += int64(len(block))
	}
	close(blocks)
	if err := <-sent; err != nil {
		return st, err
	}
	if readErr != nil {
		return st, readErr
	}
	st.took = time.Since(start)
	log.Printf("clickhouse: %d events loaded in %s; waiting for merges", st.rows, st.took.Round(time.Second))
	t0 := time.Now()
	for idle := 0; idle < 3; { // three polls in a row without a merge: the server's are over
		var out bytes.Buffer
		if _, err := db.Select(ctx, "SELECT count() FROM system.merges WHERE database = "+clickhouse.Quote(db.Database()), &out); err != nil {
			return st, err
		}
		if idle++; strings.TrimSpace(out.String()) != "0" {
			idle = 0
		}
		time.Sleep(2 * time.Second)
	}
	st.merges = time.Since(t0)
	return st, chParts(ctx, db, &st)
}

// chParts reads the events table's active parts and their bytes on disk.
func chParts(ctx context.Context, db *clickhouse.DB, st *chLoadStats) error {
	var out bytes.Buffer
	if _, err := db.Select(ctx, "SELECT count(), sum(bytes) FROM system.parts WHERE active AND database = "+
		clickhouse.Quote(db.Database())+" AND table = 'events' FORMAT TabSeparated", &out); err != nil {
		return err
	}
	_, err := fmt.Sscan(out.String(), &st.parts, &st.bytesOnDisk)
	return err
}

func scanRows(ctx context.Context, db *sql.DB, q string, arg any, fn func(*sql.Rows) error) error {
	rows, err := db.QueryContext(ctx, q, arg)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// indexFigures is one query as the index answered it in the same run.
type indexFigures struct {
	name, rule          string
	n                   int
	countMed, streamMed time.Duration
}

// chFigures is one query as ClickHouse answered it.
type chFigures struct {
	n, lines             int64
	countMed, countP99   time.Duration
	streamMed, streamP99 time.Duration
	streamBytes          int64
}

// chPlan is one way of writing a rule in SQL.
type chPlan struct {
	name string
	set  func(rule []byte) (string, error) // the SELECT of the rule's customers (column customer)
}

// count returns the statement counting the customers of rule.
func (p chPlan) count(rule []byte) (string, error) {
	set, err := p.set(rule)
	if err != nil {
		return "", err
	}
	return "SELECT count() FROM (" + set + ")", nil
}

// ids returns the statement listing the customers of rule as NDJSON lines
// {"customer_id":"…"}, the shape the API streams.
func (p chPlan) ids(rule []byte) (string, error) {
	set, err := p.set(rule)
	if err != nil {
		return "", err
	}
	return "SELECT customer AS customer_id FROM (" + set + ") FORMAT JSONEachRow", nil
}

// chPlans returns the plans named in list (comma-separated: sets, scan).
func chPlans(q chSQL, list string) ([]chPlan, error) {
	var out []chPlan
	for _, name := range strings.Split(list, ",") {
		switch name {
		case "sets":
			out = append(out, chPlan{"sets: one SELECT per condition, combined with IN, NOT IN and UNION ALL", q.sets})
		case "scan":
			out = append(out, chPlan{"one scan: GROUP BY customer HAVING the rule over countIf / uniqExactIf", q.scan})
		default:
			return nil, fmt.Errorf("unknown plan %q (sets, scan)", name)
		}
	}
	return out, nil
}

// chQueries times each query runs times in ClickHouse written as plan p, as a count and
// as the full list of ids streamed (NDJSON), and returns the figures in order. A count or
// a stream's line count that differs from the index's count is logged loudly (and shown
// in the report).
func chQueries(ctx context.Context, db *clickhouse.DB, p chPlan, queries []indexFigures, runs int) ([]chFigures, error) {
	out := make([]chFigures, len(queries))
	for i, x := range queries {
		countSQL, err := p.count([]byte(x.rule))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", x.name, err)
		}
		idsSQL, _ := p.ids([]byte(x.rule))
		var counts, streams []time.Duration
		f := &out[i]
		for range runs {
			var buf bytes.Buffer
			t0 := time.Now()
			if _, err := db.Select(ctx, countSQL, &buf); err != nil {
				return nil, fmt.Errorf("%s: count: %w", x.name, err)
			}
			counts = append(counts, time.Since(t0))
			if f.n, err = strconv.ParseInt(strings.TrimSpace(buf.String()), 10, 64); err != nil {
				return nil, fmt.Errorf("%s: count: answer %q", x.name, buf.String())
			}
			cw := &lineWriter{}
			t0 = time.Now()
			if f.streamBytes, err = db.Select(ctx, idsSQL, cw); err != nil {
				return nil, fmt.Errorf("%s: ids: %w", x.name, err)
			}
			streams = append(streams, time.Since(t0))
			f.lines = cw.lines
		}
		f.countMed, f.countP99 = stats(counts)
		f.streamMed, f.streamP99 = stats(streams)
		if f.n != int64(x.n) || f.lines != int64(x.n) {
			log.Printf("MISMATCH %s: index %d, ClickHouse count %d, ClickHouse ids %d", x.name, x.n, f.n, f.lines)
		}
		log.Printf("clickhouse %s: %s: %d customers, count %s, ids %s", p.name[:strings.Index(p.name, ":")], x.name, f.n, ms(f.countMed), ms(f.streamMed))
	}
	return out, nil
}

// lineWriter counts the bytes and lines written to it.
type lineWriter struct{ lines int64 }

func (c *lineWriter) Write(p []byte) (int, error) {
	c.lines += int64(bytes.Count(p, []byte{'\n'}))
	return len(p), nil
}

var _ io.Writer = (*lineWriter)(nil)

// chReport prints the ClickHouse figures of each plan beside the index's.
func chReport(w io.Writer, db *clickhouse.DB, ld chLoadStats, queries []indexFigures, plans []chPlan, figs [][]chFigures, runs int, loads []string) {
	fmt.Fprintf(w, "\n## The same queries in ClickHouse (%s, database %s, table events from the project's Schema)\n\n", chVersion(db), db.Database())
	if ld.skipped {
		fmt.Fprintf(w, "Events already loaded by an earlier run (-keep): %s rows. ", thousands(ld.rows))
	} else {
		fmt.Fprintf(w, "Loaded %s raw events in %s (%.0f events/s, InsertEvents blocks over HTTP, read from SQLite meanwhile); merges after it %s. ",
			thousands(ld.rows), ld.took.Round(time.Second), float64(ld.rows)/ld.took.Seconds(), ld.merges.Round(time.Second))
	}
	fmt.Fprintf(w, "%d active parts, %.2f GiB on disk. Uncounted events among them: %s", ld.parts, float64(ld.bytesOnDisk)/(1<<30), thousands(ld.uncounted))
	if ld.uncounted > 0 {
		fmt.Fprint(w, " (**ClickHouse has no counted column: its answers include them, the index's do not**)")
	}
	fmt.Fprintf(w, ". %d runs of each: median and p99 (= the slowest run). Machine load (1, 5, 15 min): %s.\n", runs, strings.Join(loads, "; "))
	for j, p := range plans {
		if j < len(figs) {
			chTable(w, p, queries, figs[j])
		}
	}
}

func chTable(w io.Writer, p chPlan, queries []indexFigures, figs []chFigures) {
	fmt.Fprintf(w, "\nPlan %s:\n\n", p.name)
	fmt.Fprintln(w, "| query | customers (index / ClickHouse) | index count | ClickHouse count median | p99 | × index | index ids | ClickHouse ids median | p99 | × index | stream size |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|")
	for i, x := range queries {
		f := figs[i]
		same := "="
		if f.n != int64(x.n) || f.lines != int64(x.n) {
			same = fmt.Sprintf("**MISMATCH %s / %s ids**", thousands(f.n), thousands(f.lines))
		}
		fmt.Fprintf(w, "| %s | %s %s | %s | %s | %s | %.0f× | %s | %s | %s | %.0f× | %.0f MiB |\n", x.name, thousands(int64(x.n)), same,
			ms(x.countMed), ms(f.countMed), ms(f.countP99), float64(f.countMed)/float64(max(x.countMed, 1)),
			ms(x.streamMed), ms(f.streamMed), ms(f.streamP99), float64(f.streamMed)/float64(max(x.streamMed, 1)), float64(f.streamBytes)/(1<<20))
	}
}

func chVersion(db *clickhouse.DB) string {
	var out bytes.Buffer
	if _, err := db.Select(context.Background(), "SELECT version()", &out); err != nil {
		return "ClickHouse ?"
	}
	return "ClickHouse " + strings.TrimSpace(out.String())
}
