package main

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"math/rand/v2"
	"net/url"
	"strings"
	"time"
)

// genConfig is the organization the generator writes.
type genConfig struct {
	customers, campaigns, links int
	events                      int64         // target
	budget                      time.Duration // stop after the campaign that passes it
	now                         time.Time
	seed                        uint64
}

// genResult is what the generator wrote.
type genResult struct {
	events    int64
	campaigns int
	took      time.Duration
}

// Engagement tiers (share of customers, chance to open a received email, chance to click
// an opened one), as in ../shared/reference/storage-feasibility.md: 30 % never open.
var tiers = []struct{ share, open, click float64 }{
	{0.30, 0, 0}, {0.40, 0.06, 0.05}, {0.20, 0.30, 0.12}, {0.10, 0.65, 0.25},
}

const (
	campaignSpan  = 180 * 24 * time.Hour // campaigns spread over the last 180 days
	rowsPerInsert = 200
	txRows        = 400_000
)

// generate fills the store's tables that the segment index reads (customers, campaigns,
// counted events with class and link URL) through a bulk path of its own: multi-row
// INSERTs in large transactions on one connection, synchronous=OFF. It skips messages
// and campaign counters, which segments do not read: a benchmark shortcut, never a
// write path of the service.
func generate(ctx context.Context, path string, org int64, cfg genConfig) (genResult, error) {
	start := time.Now()
	v := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(OFF)", "cache_size(-1048576)", "temp_store(MEMORY)"} {
		v.Add("_pragma", p)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?"+v.Encode())
	if err != nil {
		return genResult{}, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		return genResult{}, err
	}
	defer conn.Close()
	r := rand.New(rand.NewPCG(cfg.seed, 99))

	// Campaigns, then events campaign by campaign, then customers with their activity.
	var campBase int64
	for k := range cfg.campaigns {
		res, err := conn.ExecContext(ctx, `INSERT INTO campaigns (org_id, name) VALUES (?, ?)`, org, campName(k))
		if err != nil {
			return genResult{}, err
		}
		if k == 0 {
			campBase, _ = res.LastInsertId()
		}
	}
	var custBase int64
	if err := conn.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) + 1 FROM customers`).Scan(&custBase); err != nil {
		return genResult{}, err
	}
	w := &rowWriter{ctx: ctx, conn: conn, org: org}
	if err := w.begin(); err != nil {
		return genResult{}, err
	}
	act, out, err := genEvents(cfg, r, start, campBase, custBase, w)
	if err != nil {
		return out, err
	}
	if err := w.flush(true); err != nil {
		return out, err
	}
	// Customers last, with the ids the events use and their activity columns.
	if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
		return out, err
	}
	var sb strings.Builder
	args := make([]any, 0, rowsPerInsert*6)
	for c := 0; c < cfg.customers; c += rowsPerInsert {
		sb.Reset()
		args = args[:0]
		sb.WriteString(`INSERT INTO customers (id, org_id, ext_id, last_sent, last_open, last_click) VALUES `)
		for i := c; i < min(c+rowsPerInsert, cfg.customers); i++ {
			if i > c {
				sb.WriteString(",")
			}
			sb.WriteString("(?,?,?,?,?,?)")
			args = append(args, custBase+int64(i), org, custName(i), act.lastSent[i], act.lastOpen[i], act.lastClick[i])
		}
		if _, err := conn.ExecContext(ctx, sb.String(), args...); err != nil {
			return out, err
		}
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return out, err
	}
	if _, err := conn.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return out, err
	}
	out.events, out.took = w.total, time.Since(start)
	return out, nil
}

// genActivity is what the generator leaves in the customers' activity columns, by
// customer index.
type genActivity struct{ lastSent, lastOpen, lastClick []int64 }

// rowSink is where the generator's event rows go: the SQLite bulk path (rowWriter) or
// PostgreSQL's COPY (pgRows, pg.go). add may keep an error for failed to return.
type rowSink interface {
	add(camp, cust int64, typ int, at int64, class, link string) error
	failed() error
	written() int64
}

// genEvents draws the organization's events campaign by campaign (campaign k has row id
// campBase+k, customer i custBase+i) into w, stopping after the campaign that passes
// cfg.budget, and returns the customers' activity. The rows depend on cfg and r only,
// not on the store they go to.
func genEvents(cfg genConfig, r *rand.Rand, start time.Time, campBase, custBase int64, w rowSink) (genActivity, genResult, error) {
	tier := make([]uint8, cfg.customers)
	for i := range tier {
		x := r.Float64()
		for t, tr := range tiers {
			if x < tr.share || t == len(tiers)-1 {
				tier[i] = uint8(t)
				break
			}
			x -= tr.share
		}
	}
	act := genActivity{lastSent: make([]int64, cfg.customers), lastOpen: make([]int64, cfg.customers), lastClick: make([]int64, cfg.customers)}
	lastSent, lastOpen, lastClick := act.lastSent, act.lastOpen, act.lastClick

	// Expected events per email ≈ 1 sent + 0.97 delivered + opens + clicks + the rest.
	perMsg := 1.97 + 0.02 + 0.004
	for _, t := range tiers {
		perMsg += t.share * t.open * (1.8 + t.click*1.5)
	}
	audience := min(1, float64(cfg.events)/(perMsg*float64(cfg.campaigns)*float64(cfg.customers)))
	log.Printf("generator: %d customers, %d campaigns, audience %.0f%% of customers per campaign, ~%.2f events per email",
		cfg.customers, cfg.campaigns, audience*100, perMsg)

	out := genResult{}
	for k := range cfg.campaigns {
		if cfg.budget > 0 && time.Since(start) > cfg.budget {
			log.Printf("generator: time budget reached after %d campaigns", k)
			break
		}
		sendAt := cfg.now.Add(-campaignSpan + time.Duration(k)*campaignSpan/time.Duration(cfg.campaigns)).UnixMilli()
		camp := campBase + int64(k)
		for c := range cfg.customers {
			if r.Float64() >= audience {
				continue
			}
			cust := custBase + int64(c)
			sent := sendAt + r.Int64N(int64(2*time.Hour/time.Millisecond))
			lastSent[c] = max(lastSent[c], sent)
			if err := w.add(camp, cust, 1, sent, "", ""); err != nil {
				return act, out, err
			}
			x := r.Float64()
			switch {
			case x < 0.015:
				w.add(camp, cust, 5, sent+r.Int64N(60_000), "", "")
				continue
			case x < 0.03:
				continue // accepted, never reported
			}
			w.add(camp, cust, 2, sent+r.Int64N(120_000), "", "")
			tr := tiers[tier[c]]
			if r.Float64() < tr.open {
				for n := 1 + int(r.ExpFloat64()*0.8); n > 0; n-- {
					at := sent + int64(r.ExpFloat64()*float64(36*time.Hour/time.Millisecond))
					if at > cfg.now.UnixMilli() {
						continue
					}
					class := ""
					if r.Float64() < 0.3 {
						class = "machine"
					}
					lastOpen[c] = max(lastOpen[c], at)
					w.add(camp, cust, 3, at, class, "")
				}
				if r.Float64() < tr.click {
					for n := 1 + int(r.ExpFloat64()*0.5); n > 0; n-- {
						at := sent + int64(r.ExpFloat64()*float64(48*time.Hour/time.Millisecond))
						if at > cfg.now.UnixMilli() {
							continue
						}
						class := ""
						if r.Float64() < 0.1 {
							class = "bot"
						}
						lastClick[c] = max(lastClick[c], at)
						w.add(camp, cust, 4, at, class, fmt.Sprintf("https://shop.example.com/c%d/l%d", k, r.IntN(cfg.links)))
					}
				}
			}
			switch y := r.Float64(); {
			case y < 0.001:
				w.add(camp, cust, 6, sent+r.Int64N(86_400_000), "", "")
			case y < 0.004:
				w.add(camp, cust, 7, sent+r.Int64N(86_400_000), "", "")
			}
		}
		if err := w.failed(); err != nil {
			return act, out, err
		}
		out.campaigns = k + 1
		log.Printf("generator: campaign %d/%d, %d events, %s", k+1, cfg.campaigns, w.written(), time.Since(start).Round(time.Second))
	}
	out.events = w.written()
	return act, out, nil
}

func campName(k int) string { return fmt.Sprintf("campaign-%02d", k) }
func custName(i int) string { return fmt.Sprintf("crm-%07d", i) }

// rowWriter inserts events rowsPerInsert at a time, committing every txRows.
type rowWriter struct {
	ctx   context.Context
	conn  *sql.Conn
	org   int64
	args  []any
	n     int
	inTx  int
	total int64
	stmt  *sql.Stmt
	err   error
}

func (w *rowWriter) failed() error  { return w.err }
func (w *rowWriter) written() int64 { return w.total }

func (w *rowWriter) begin() error {
	_, err := w.conn.ExecContext(w.ctx, "BEGIN")
	return err
}

func (w *rowWriter) add(camp, cust int64, typ int, at int64, class, link string) error {
	if w.err != nil {
		return w.err
	}
	var meta any
	if link != "" {
		meta = `{"link_url":"` + link + `"}`
	}
	w.args = append(w.args, w.org, camp, cust, typ, at, at, class, meta)
	w.n++
	if w.n == rowsPerInsert {
		w.err = w.flush(false)
	}
	return w.err
}

const eventCols = `INSERT INTO events (uid, org_id, campaign_id, customer_id, message_id, type, occurred_at, received_at, source, class, counted, meta) VALUES `

func (w *rowWriter) flush(final bool) error {
	if w.n > 0 {
		var err error
		if w.n == rowsPerInsert {
			if w.stmt == nil {
				if w.stmt, err = w.conn.PrepareContext(w.ctx, eventCols+strings.TrimSuffix(strings.Repeat(`('',?,?,?,0,?,?,?,'import',?,1,?),`, rowsPerInsert), ",")); err != nil {
					return err
				}
			}
			_, err = w.stmt.ExecContext(w.ctx, w.args...)
		} else {
			_, err = w.conn.ExecContext(w.ctx, eventCols+strings.TrimSuffix(strings.Repeat(`('',?,?,?,0,?,?,?,'import',?,1,?),`, w.n), ","), w.args...)
		}
		if err != nil {
			return fmt.Errorf("insert events: %w", err)
		}
		w.total += int64(w.n)
		w.inTx += w.n
		w.args, w.n = w.args[:0], 0
	}
	if final || w.inTx >= txRows {
		if _, err := w.conn.ExecContext(w.ctx, "COMMIT"); err != nil {
			return err
		}
		w.inTx = 0
		if !final {
			return w.begin()
		}
	}
	return nil
}
