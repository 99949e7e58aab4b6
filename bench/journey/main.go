// Command journey measures the journey condition (GET /api/v1/customers/{customer}/did)
// on the embedded store: it builds a store of -customers customers who each received
// -per campaigns (sends, deliveries, opens, clicks: a few million events by default),
// indexes it, leaves a small unindexed tail, then times single conditions over random
// customers, in the store and through the HTTP handler, beside a baseline measured in
// the same run: the plain lookup of the customer's row by its unique key. It prints a
// markdown table of p50 / p99 and ratios; it asserts nothing.
//
//	go run ./bench/journey [-customers 200000] [-campaigns 40] [-per 4] [-n 20000] [-tail 2000]
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/httpd"
	"github.com/mailtrail/mailtrail/internal/ingest"
	"github.com/mailtrail/mailtrail/internal/query"
	"github.com/mailtrail/mailtrail/internal/store/sqlite"

	_ "modernc.org/sqlite"
)

// base is the send time of the first campaign: campaigns go out one a day up to yesterday.
var base time.Time

func main() {
	customers := flag.Int("customers", 200_000, "customers of the organization")
	campaigns := flag.Int("campaigns", 40, "campaigns, one a day")
	per := flag.Int("per", 4, "campaigns each customer received")
	n := flag.Int("n", 20_000, "conditions timed per row (random customers)")
	tail := flag.Int("tail", 2000, "events written after indexing (the indexer's tail)")
	keep := flag.String("dir", "", "build the store in this directory and keep it (default: a temporary one)")
	flag.Parse()
	base = time.Now().UTC().Add(-time.Duration(*campaigns+1) * 24 * time.Hour).Truncate(time.Hour)
	ctx := context.Background()
	dir := *keep
	if dir == "" {
		d, err := os.MkdirTemp("", "mailtrail-journeybench-")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(d)
		dir = d
	}
	path := filepath.Join(dir, "mailtrail.db")
	db, err := sqlite.Open(ctx, path, sqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	org, key, err := db.CreateOrg(ctx, "bench", "UTC")
	if err != nil {
		log.Fatal(err)
	}

	start := time.Now()
	w := &writer{ctx: ctx, db: db, org: org.ID, rng: rand.New(rand.NewPCG(1, 2)), msg: make([]string, *customers)}
	for c := range *campaigns {
		for i := range *customers {
			if (i+c)%*campaigns < *per {
				w.message(c, i)
			}
		}
	}
	w.flush()
	built := time.Since(start)
	start = time.Now()
	for {
		k, err := db.IndexCustomerEvents(ctx)
		if err != nil {
			log.Fatal(err)
		}
		if k == 0 {
			break
		}
	}
	indexed := time.Since(start)
	fmt.Fprintf(os.Stderr, "store: %d customers, %d events, written in %s, indexed in %s\n",
		*customers, w.total, built.Round(time.Millisecond), indexed.Round(time.Millisecond))

	rng := rand.New(rand.NewPCG(3, 4))
	cust := func() int { return rng.IntN(*customers) }
	week := time.Now().Add(-7 * 24 * time.Hour)
	conds := []struct {
		name string
		of   func(i int) mailtrail.Condition
	}{
		{"did open, ever (any campaign)", func(i int) mailtrail.Condition {
			return mailtrail.Condition{CustomerID: custID(i), Type: mailtrail.EventOpened}
		}},
		{"did human click of campaign X since T", func(i int) mailtrail.Condition {
			return mailtrail.Condition{CustomerID: custID(i), Type: mailtrail.EventClicked, CampaignID: campID((i + rng.IntN(*per)) % *campaigns),
				Since: base, HumanOnly: true}
		}},
		{"did open of message M (engagement)", func(i int) mailtrail.Condition {
			return mailtrail.Condition{CustomerID: custID(i), Type: mailtrail.EventOpened, MessageID: w.msg[i], HumanOnly: true}
		}},
		{"did click, last 7 days", func(i int) mailtrail.Condition {
			return mailtrail.Condition{CustomerID: custID(i), Type: mailtrail.EventClicked, Since: week}
		}},
		{"unknown customer", func(i int) mailtrail.Condition {
			return mailtrail.Condition{CustomerID: "nobody-" + custID(i), Type: mailtrail.EventOpened}
		}},
	}

	// Baseline: the customer's row by its unique key, on a reader of the same file.
	rdb, err := sql.Open("sqlite", "file:"+path+"?_pragma=query_only(1)")
	if err != nil {
		log.Fatal(err)
	}
	defer rdb.Close()
	st, err := rdb.PrepareContext(ctx, `SELECT c.id, c.last_open, c.last_click FROM customers c JOIN orgs o ON o.id = c.org_id WHERE o.public_id = ? AND c.ext_id = ?`)
	if err != nil {
		log.Fatal(err)
	}
	baseline := measure(*n, func() {
		var id, lo, lc int64
		if err := st.QueryRowContext(ctx, org.ID, custID(cust())).Scan(&id, &lo, &lc); err != nil {
			log.Fatal(err)
		}
	})

	type row struct {
		name string
		s    stats
		did  int
	}
	var rows []row
	q := &query.Service{R: db} // as the API reads: one View an answer
	storeRows := func(label string) {
		for _, c := range conds {
			yes := 0
			s := measure(*n, func() {
				d, err := q.Did(ctx, org.ID, c.of(cust()))
				if err != nil {
					log.Fatal(err)
				}
				if d.Did {
					yes++
				}
			})
			rows = append(rows, row{"store, " + label + ": " + c.name, s, yes * *n / (*n + warmups(*n))})
		}
	}
	storeRows("tail 0")
	// Events past the indexer's watermark: every condition reads them from the events
	// table on the (org, id) index, so their number is the cost to watch.
	before := w.total
	for w.total+len(w.batch)-before < *tail {
		w.message(w.rng.IntN(*campaigns), w.rng.IntN(*customers))
	}
	w.flush()
	w.tailN = w.total - before
	storeRows(fmt.Sprintf("tail %d", w.tailN))

	srv := httpd.New(db, nil, nil, nil, httpd.Options{})
	httpOf := func(c mailtrail.Condition) string {
		q := url.Values{"event": {c.Type.String()}}
		if c.CampaignID != "" {
			q.Set("campaign_id", c.CampaignID)
		}
		if c.MessageID != "" {
			q.Set("message_id", c.MessageID)
		}
		if !c.Since.IsZero() {
			q.Set("since", c.Since.Format(time.RFC3339))
		}
		if c.HumanOnly {
			q.Set("human_only", "true")
		}
		return "/api/v1/customers/" + url.PathEscape(c.CustomerID) + "/did?" + q.Encode()
	}
	c := conds[1]
	rows = append(rows, row{name: "handler (httptest, auth + JSON): " + c.name, did: -1, s: measure(*n, func() {
		req := httptest.NewRequest("GET", httpOf(c.of(cust())), nil)
		req.Header.Set("Authorization", "Bearer "+key)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			log.Fatalf("did: %d %s", rec.Code, rec.Body.String())
		}
	})})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	hs := &http.Server{Handler: srv}
	go hs.Serve(ln)
	defer hs.Close()
	client := &http.Client{Timeout: 10 * time.Second}
	rows = append(rows, row{name: "HTTP over loopback (keep-alive): " + c.name, did: -1, s: measure(*n, func() {
		req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+httpOf(c.of(cust())), nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := client.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			log.Fatalf("did: %d", resp.StatusCode)
		}
	})})

	fmt.Printf("Journey condition on %d customers, %d events; %d random customers per row, one at a time; the handler rows run with %d events past the indexer's watermark.\n\n",
		*customers, w.total, *n, w.tailN)
	fmt.Println("| what | p50 | p99 | p50 / baseline | p99 / baseline | did=true |")
	fmt.Println("|---|---:|---:|---:|---:|---:|")
	fmt.Printf("| baseline: customer row by unique key | %s | %s | 1.0 | 1.0 | |\n", us(baseline.p50), us(baseline.p99))
	for _, r := range rows {
		did := ""
		if r.did >= 0 {
			did = fmt.Sprintf("%.0f%%", 100*float64(r.did)/float64(*n))
		}
		fmt.Printf("| %s | %s | %s | %.1f | %.1f | %s |\n", r.name, us(r.s.p50), us(r.s.p99),
			float64(r.s.p50)/float64(baseline.p50), float64(r.s.p99)/float64(baseline.p99), did)
	}
}

func custID(i int) string { return fmt.Sprintf("cust-%07d", i) }
func campID(c int) string { return fmt.Sprintf("camp-%03d", c) }

// writer writes generated events through the store's batch writer (the committer's path).
type writer struct {
	ctx   context.Context
	db    *sqlite.DB
	org   string
	rng   *rand.Rand
	batch []*mailtrail.Event
	msg   []string // a message id per customer (their first)
	first []int    // customer of each batch event that names its first message
	total int
	tailN int
}

// message generates the events of campaign c's email to customer i: sent, delivered,
// then (sometimes) opens, some by machines, and clicks.
func (w *writer) message(c, i int) {
	sent := base.Add(time.Duration(c)*24*time.Hour + time.Duration(w.rng.IntN(3600))*time.Second)
	add := func(t mailtrail.EventType, at time.Time, class mailtrail.Classification, link string) {
		ev := &mailtrail.Event{OrgID: w.org, CampaignID: campID(c), CustomerID: custID(i), CustomerEmail: custID(i) + "@example.com",
			Type: t, OccurredAt: at, Source: mailtrail.SourceAPI, Classification: class}
		ev.Metadata.LinkURL = link
		if class == mailtrail.Machine {
			ev.Reasons = []string{"apple_mpp"}
		}
		w.batch = append(w.batch, ev)
	}
	add(mailtrail.EventSent, sent, "", "")
	add(mailtrail.EventDelivered, sent.Add(5*time.Second), "", "")
	if w.rng.IntN(3) == 0 {
		add(mailtrail.EventOpened, sent.Add(time.Minute), mailtrail.Machine, "")
	}
	opens := w.rng.IntN(4)
	for k := range opens {
		add(mailtrail.EventOpened, sent.Add(time.Duration(10+k*90)*time.Minute), "", "")
	}
	if opens > 0 && w.rng.IntN(3) == 0 {
		add(mailtrail.EventClicked, sent.Add(time.Duration(20+w.rng.IntN(600))*time.Minute), "", fmt.Sprintf("https://shop.example.com/p/%d", w.rng.IntN(20)))
	}
	if w.msg[i] == "" {
		w.first = append(w.first, len(w.batch)-1)
	}
	if len(w.batch) >= 5000 {
		w.flush()
	}
}

func (w *writer) flush() {
	if len(w.batch) == 0 {
		return
	}
	now := time.Now()
	for _, ev := range w.batch {
		ingest.Normalize(ev, now)
	}
	if _, err := w.db.Write(w.ctx, w.batch); err != nil {
		log.Fatal(err)
	}
	for _, k := range w.first {
		ev := w.batch[k]
		var i int
		fmt.Sscanf(ev.CustomerID, "cust-%d", &i)
		if w.msg[i] == "" {
			w.msg[i] = ev.MessageID
		}
	}
	w.total += len(w.batch)
	w.first = w.first[:0]
	w.batch = w.batch[:0]
}

type stats struct{ p50, p99 time.Duration }

func warmups(n int) int { return min(n/10, 1000) }

func us(d time.Duration) string { return fmt.Sprintf("%.1f µs", float64(d.Nanoseconds())/1000) }

// measure runs f n times after a short warm-up and returns its median and 99th percentile.
func measure(n int, f func()) stats {
	for range warmups(n) {
		f() // warm: statements prepared, pages cached
	}
	runtime.GC() // the build's garbage is not the condition's
	d := make([]time.Duration, n)
	for i := range d {
		t := time.Now()
		f()
		d[i] = time.Since(t)
	}
	slices.Sort(d)
	return stats{d[n/2], d[n*99/100]}
}
