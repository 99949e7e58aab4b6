package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "modernc.org/sqlite" // read the store file after the binary stopped

	"github.com/mailtrail/mailtrail"
)

// The crash test of issue 2 (TC17 in miniature, harness of §10): the real binary under
// load is killed with SIGKILL several times and stopped once with SIGTERM; after restart,
// every event that got a 2xx is in the store exactly once, retries are never stored twice,
// and the derived figures equal a recount of the raw events.
//
// Every idempotency key k-N maps to one event whose message, type and occurred_at
// (base + N ms) are a function of N, so a stored row names its key without an idempotency
// column: occurred_at identifies N, and message and type must match.

const (
	crashWorkers  = 8
	crashKills    = 5
	crashMessages = 200
	crashAdmin    = "crash-test-admin-token-0123456789abcdef"
)

// crashHarness is the shared state of the load generators.
type crashHarness struct {
	client *http.Client
	apiKey string
	msgIDs []string
	at0    int64 // occurred_at of key 0, unix ms
	base   atomic.Pointer[string]
	bases  atomic.Pointer[[]string] // when set, each request goes to one of them, at random (API nodes)
	next   atomic.Int64             // next key number

	ackedReqs, failedReqs atomic.Int64
	acceptedReqs          atomic.Int64  // 2xx answers that accepted a new event (not all duplicates)
	acked                 []bool        // reconcile: acked[k], key k-k was acknowledged
	maxPos                atomic.Uint64 // the highest Mailtrail-Log-Position a 2xx answered (--event-log)

	// retryFailed: a batch not acknowledged is sent again next (as a client retries its
	// request), before the server is even ready.
	retryFailed bool
}

// crashEvent is what key n stands for.
type crashEvent struct {
	msg int
	typ mailtrail.EventType
	at  int64
}

func (h *crashHarness) event(n int64) crashEvent {
	x := uint64(n) * 0x9E3779B97F4A7C15
	typ := mailtrail.EventDelivered
	switch n % 10 {
	case 0, 1:
		typ = mailtrail.EventSent
	case 8, 9:
		typ = mailtrail.EventOpened
	}
	return crashEvent{msg: int((x >> 33) % uint64(len(h.msgIDs))), typ: typ, at: h.at0 + n}
}

// crashBatch is one request body the client may send several times.
type crashBatch struct {
	first, n int64 // keys first … first+n-1
	body     []byte
	acked    bool
	ackedAt  time.Time // the first acknowledgement
	ackedAs  string    // its answer: accepted and duplicates
}

// crashRecord is one line of the client log.
type crashRecord struct {
	first, n   int64
	retry      bool
	status     int // 0: transport error
	err        string
	accepted   int
	duplicates int
	ids        []string // event ids answered, kept when none was a duplicate
}

func (h *crashHarness) newBatch(n int64) *crashBatch {
	first := h.next.Add(n) - n
	type ev struct {
		EventType      string `json:"event_type"`
		MessageID      string `json:"message_id"`
		OccurredAt     string `json:"occurred_at"`
		IdempotencyKey string `json:"idempotency_key"`
	}
	evs := make([]ev, n)
	for i := range evs {
		k := first + int64(i)
		e := h.event(k)
		evs[i] = ev{EventType: e.typ.String(), MessageID: h.msgIDs[e.msg],
			OccurredAt:     time.UnixMilli(e.at).UTC().Format("2006-01-02T15:04:05.000Z07:00"),
			IdempotencyKey: "k-" + strconv.FormatInt(k, 10)}
	}
	body, _ := json.Marshal(map[string]any{"events": evs})
	return &crashBatch{first: first, n: n, body: body}
}

// worker posts batches until ctx ends: new ones, and about a quarter of the time one sent
// before (acknowledged or not), byte for byte. It returns its client log and the protocol
// violations it saw.
func (h *crashHarness) worker(ctx context.Context, rng *rand.Rand) (log []crashRecord, violations []string) {
	var history []*crashBatch
	var failed *crashBatch // the last batch sent, when not acknowledged (retryFailed)
	for ctx.Err() == nil {
		var b *crashBatch
		retry := len(history) > 0 && rng.IntN(4) == 0
		if failed != nil {
			b, retry = failed, true
		} else if retry {
			lo := max(0, len(history)-64)
			b = history[lo+rng.IntN(len(history)-lo)]
		} else {
			b = h.newBatch(1 + rng.Int64N(200))
			history = append(history, b)
		}
		rec := crashRecord{first: b.first, n: b.n, retry: retry}
		var res struct {
			Accepted   int      `json:"accepted"`
			Duplicates int      `json:"duplicates"`
			EventIDs   []string `json:"event_ids"`
		}
		status, err := h.post(ctx, h.target(rng)+"/api/v1/events", b.body, &res)
		rec.status = status
		if err != nil {
			rec.err = err.Error()
		}
		if status/100 == 2 {
			// The status line is the acknowledgement, whatever became of the body.
			h.ackedReqs.Add(1)
			rec.accepted, rec.duplicates = res.Accepted, res.Duplicates
			if err != nil || res.Accepted > 0 {
				h.acceptedReqs.Add(1)
			}
			if err == nil && res.Duplicates == 0 && len(res.EventIDs) == int(b.n) {
				rec.ids = res.EventIDs
			}
			if err == nil && (res.Accepted+res.Duplicates != int(b.n) || len(res.EventIDs) != int(b.n)) {
				violations = append(violations, fmt.Sprintf("batch k-%d+%d: accepted %d + duplicates %d, %d ids", b.first, b.n, res.Accepted, res.Duplicates, len(res.EventIDs)))
			}
			if err == nil && b.acked && res.Accepted != 0 {
				violations = append(violations, fmt.Sprintf("retry of acknowledged batch k-%d+%d stored %d events again (first acknowledged at %s as %s)",
					b.first, b.n, res.Accepted, b.ackedAt.Format("15:04:05.000"), b.ackedAs))
			}
			if !b.acked {
				b.ackedAt, b.ackedAs = time.Now(), fmt.Sprintf("%d accepted, %d duplicates", res.Accepted, res.Duplicates)
			}
			b.acked = true
			failed = nil
		} else {
			h.failedReqs.Add(1)
			if h.retryFailed {
				failed = b
			}
			// The server is down or restarting: do not spin.
			time.Sleep(time.Duration(5+rng.IntN(20)) * time.Millisecond)
		}
		log = append(log, rec)
	}
	return log, violations
}

// target is the base URL a request goes to.
func (h *crashHarness) target(rng *rand.Rand) string {
	if b := h.bases.Load(); b != nil {
		return (*b)[rng.IntN(len(*b))]
	}
	return *h.base.Load()
}

// post sends one events body; for a 2xx it decodes the answer into out.
func (h *crashHarness) post(ctx context.Context, url string, body []byte, out any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+h.apiKey)
	resp, err := h.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("%d %s", resp.StatusCode, bytes.TrimSpace(raw))
	}
	if v := resp.Header.Get("Mailtrail-Log-Position"); v != "" {
		pos, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return resp.StatusCode, fmt.Errorf("Mailtrail-Log-Position %q: %w", v, err)
		}
		for cur := h.maxPos.Load(); pos > cur && !h.maxPos.CompareAndSwap(cur, pos); cur = h.maxPos.Load() {
		}
	}
	return resp.StatusCode, json.Unmarshal(raw, out)
}

func TestCrashKill9UnderLoad(t *testing.T) {
	runCrashTest(t, crashPlan{cycles: crashKills, end: func(c *crashCycle) string {
		p := c.loadFor(time.Second, 3*time.Second)
		acked := c.h.ackedReqs.Load()
		c.d.kill(c.t)
		return fmt.Sprintf("SIGKILL after %s of load (%d requests acknowledged so far)", p.Round(time.Millisecond), acked)
	}})
}

// crashPlan is what a crash test varies: the serve flags and how each cycle ends the
// process under load.
type crashPlan struct {
	bin    string   // the binary; "" builds one
	args   []string // extra serve flags
	cycles int
	// early: the clients send to a restarted binary as soon as it listens (before it is
	// ready), and send a batch not acknowledged again first (crashHarness.retryFailed).
	early bool
	// end ends the running process of c (a SIGKILL at some point) while the load runs,
	// and says how, for the log. The runner then starts the binary again.
	end func(c *crashCycle) string
	// killAfterLoad: once the load has stopped, the process is killed with SIGKILL too
	// (leaving whatever it had not finished), before the final clean restart.
	killAfterLoad bool
}

// crashCycle is one cycle of a crash test, for crashPlan.end.
type crashCycle struct {
	t       *testing.T
	i       int
	d       *daemon
	h       *crashHarness
	rng     *rand.Rand
	dataDir string
}

// loadFor lets the load run for a random time in [lo, hi) and returns it.
func (c *crashCycle) loadFor(lo, hi time.Duration) time.Duration {
	p := lo + time.Duration(c.rng.Int64N(int64(hi-lo)))
	time.Sleep(p)
	return p
}

// crashResult is what a crash test leaves for more checks: the stopped data directory,
// the binary and the client's oracle.
type crashResult struct {
	bin, dataDir string
	h            *crashHarness
	acked        []bool // acked[k]: key k-k was acknowledged
}

// runCrashTest runs the crash test of plan: the binary under load is ended plan.cycles
// times by plan.end and started again, stopped once with SIGTERM under load; after a
// final clean restart, the report's figures and the stopped store are reconciled with
// what the clients were answered (reconcileCrashStore).
func runCrashTest(t *testing.T, plan crashPlan) crashResult {
	t.Helper()
	if testing.Short() {
		t.Skip("crash test builds and kills the real binary; skipped with -short")
	}
	began := time.Now()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	ctx := t.Context()

	bin := plan.bin
	if bin == "" {
		bin = buildBinary(t)
		t.Logf("built binary in %s", time.Since(began).Round(time.Millisecond))
	}
	dataDir := t.TempDir()
	d := startDaemon(t, bin, dataDir, crashAdmin, plan.args...)

	h := newCrashHarness(t, ctx, d.base, plan.early)
	stopLoad := h.load(ctx, seed)
	var listening func(string)
	if plan.early {
		listening = func(base string) { h.base.Store(&base) }
	}
	restart := func() {
		d = startDaemonNotify(t, bin, dataDir, crashAdmin, listening, plan.args...)
		h.base.Store(&d.base)
	}

	for i := range plan.cycles {
		how := plan.end(&crashCycle{t: t, i: i, d: d, h: h, rng: rng, dataDir: dataDir})
		t.Logf("kill %d: %s", i+1, how)
		restart()
	}
	p := time.Second + time.Duration(rng.Int64N(int64(2*time.Second)))
	time.Sleep(p)
	if err := d.stop(30 * time.Second); err != nil {
		t.Errorf("SIGTERM under load after %s: want exit 0, got %v", p.Round(time.Millisecond), err)
	}
	t.Logf("graceful stop: SIGTERM after %s of load", p.Round(time.Millisecond))
	restart()
	time.Sleep(time.Second)
	logs, violations := stopLoad()
	if plan.killAfterLoad {
		d.kill(t)
		t.Logf("SIGKILL once the load stopped")
		restart()
	}

	// A final clean restart, then the figures as the API reports them (once the store
	// holds every position acknowledged, with --event-log).
	if err := d.stop(30 * time.Second); err != nil {
		t.Errorf("SIGTERM after load: want exit 0, got %v", err)
	}
	restart()
	report := h.report(t, ctx, d.base, 30)
	if err := d.stop(30 * time.Second); err != nil {
		t.Errorf("final SIGTERM: want exit 0, got %v", err)
	}

	db, err := sql.Open("sqlite", "file:"+filepath.Join(dataDir, "mailtrail.db")+"?mode=ro")
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	defer db.Close()
	rows, summary := h.reconcile(t, db, logs, violations, report)
	t.Logf("%s; kills %d + 1 SIGTERM; stored rows %d; %s", summary, plan.cycles, rows, time.Since(began).Round(time.Millisecond))
	return crashResult{bin: bin, dataDir: dataDir, h: h, acked: h.acked}
}

// newCrashHarness returns the load's client for the service at base, with the campaign
// of its messages set up there; retryFailed: see crashHarness.
func newCrashHarness(t *testing.T, ctx context.Context, base string, retryFailed bool) *crashHarness {
	t.Helper()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = crashWorkers * 2
	h := &crashHarness{client: &http.Client{Timeout: 15 * time.Second, Transport: tr}, retryFailed: retryFailed}
	h.base.Store(&base)
	h.apiKey, h.msgIDs = setupCrashCampaign(t, ctx, h.client, base)
	// Two hours back: the keys' milliseconds stay in the past for any run length here.
	h.at0 = time.Now().Add(-2 * time.Hour).Truncate(time.Second).UnixMilli()
	return h
}

// load starts crashWorkers clients (h.worker); stop ends them and returns their logs and
// the protocol violations they saw.
func (h *crashHarness) load(ctx context.Context, seed uint64) (stop func() ([][]crashRecord, [][]string)) {
	loadCtx, cancel := context.WithCancel(ctx)
	logs := make([][]crashRecord, crashWorkers)
	violations := make([][]string, crashWorkers)
	var wg sync.WaitGroup
	for i := range crashWorkers {
		wrng := rand.New(rand.NewPCG(seed, uint64(i+1)))
		wg.Go(func() { logs[i], violations[i] = h.worker(loadCtx, wrng) })
	}
	return func() ([][]crashRecord, [][]string) {
		cancel()
		wg.Wait()
		return logs, violations
	}
}

// report asks the service at base for the crash campaign's report once its reads see
// every position acknowledged (a 503 meanwhile is retried, attempts times at most).
func (h *crashHarness) report(t *testing.T, ctx context.Context, base string, attempts int) mailtrail.Counts {
	t.Helper()
	var report struct {
		Counts mailtrail.Counts `json:"counts"`
	}
	url := base + "/api/v1/campaigns/crash/report"
	if pos := h.maxPos.Load(); pos > 0 {
		url += "?after=" + strconv.FormatUint(pos, 10)
	}
	for attempt := 0; ; attempt++ {
		status, err := doJSON(ctx, h.client, http.MethodGet, url, h.apiKey, nil, &report)
		if err == nil {
			return report.Counts
		}
		if status != http.StatusServiceUnavailable || attempt == attempts {
			t.Fatalf("report: %v", err)
		}
		time.Sleep(200 * time.Millisecond) // the projection is behind: Retry-After
	}
}

// reconcile reads the clients' logs (crashOracle, which also keeps h.acked) and
// reconciles the store db and the report's counts c with them (reconcileCrashStore); it
// returns the rows stored and the logs' summary.
func (h *crashHarness) reconcile(t *testing.T, db *sql.DB, logs [][]crashRecord, violations [][]string, c mailtrail.Counts) (int, string) {
	t.Helper()
	acked, wantID, summary := crashOracle(t, h, logs, violations)
	h.acked = acked
	return reconcileCrashStore(t, h, db, acked, wantID, c.Sent, c.Delivered, c.OpensTotal, c.OpensUnique, c.HumanOpensTotal, c.HumanOpensUnique), summary
}

// crashOracle reads the clients' logs: which keys were acknowledged, the event id each
// key was answered with by a 2xx that stored its whole batch (that row must be in the
// store), and a summary line. The protocol violations the clients saw, and any answer
// but a 2xx, a 503 or a broken connection, fail the test.
func crashOracle(t *testing.T, h *crashHarness, logs [][]crashRecord, violations [][]string) (acked []bool, wantID []string, summary string) {
	t.Helper()
	for _, v := range violations {
		for i, s := range v {
			if i == 5 {
				t.Errorf("… %d more violations", len(v)-5)
				break
			}
			t.Error(s)
		}
	}
	keys := h.next.Load()
	acked = make([]bool, keys)
	wantID = make([]string, keys)
	var reqs, ackedReqs, connErrs, unavailable, retries, ackedEvents int
	for _, log := range logs {
		for _, r := range log {
			reqs++
			if r.retry {
				retries++
			}
			switch {
			case r.status/100 == 2:
				ackedReqs++
				for k := r.first; k < r.first+r.n; k++ {
					if r.ids != nil {
						wantID[k] = r.ids[k-r.first]
					}
					if !acked[k] {
						acked[k] = true
						ackedEvents++
					}
				}
			case r.status == 0:
				connErrs++
			case r.status == http.StatusServiceUnavailable:
				unavailable++
			default:
				// Anything but 2xx, 503 or a broken connection is a harness or server bug.
				t.Errorf("unexpected answer to batch k-%d+%d: %s", r.first, r.n, r.err)
			}
		}
	}
	if ackedEvents == 0 {
		t.Fatal("no event was acknowledged: the load never reached the server")
	}
	return acked, wantID, fmt.Sprintf("requests %d (retries %d): acknowledged %d, connection errors %d, 503 %d; keys issued %d, acknowledged %d",
		reqs, retries, ackedReqs, connErrs, unavailable, keys, ackedEvents)
}

// setupCrashCampaign creates an organization and the campaign's messages; it returns the
// API key and the message ids.
func setupCrashCampaign(t *testing.T, ctx context.Context, c *http.Client, base string) (string, []string) {
	t.Helper()
	var org struct {
		APIKey string `json:"api_key"`
	}
	if _, err := doJSON(ctx, c, http.MethodPost, base+"/api/v1/admin/organizations", crashAdmin, map[string]string{"name": "crash"}, &org); err != nil {
		t.Fatalf("create organization: %v", err)
	}
	type rcpt struct {
		CustomerID    string `json:"customer_id"`
		CustomerEmail string `json:"customer_email"`
	}
	rcpts := make([]rcpt, crashMessages)
	for i := range rcpts {
		rcpts[i] = rcpt{fmt.Sprintf("c%d", i), fmt.Sprintf("c%d@example.com", i)}
	}
	var out struct {
		Messages []struct {
			MessageID string `json:"message_id"`
		} `json:"messages"`
	}
	req := map[string]any{"campaign_id": "crash", "recipients": rcpts,
		"html": `<html><body><a href="https://example.com/x">x</a></body></html>`}
	if _, err := doJSON(ctx, c, http.MethodPost, base+"/api/v1/messages", org.APIKey, req, &out); err != nil {
		t.Fatalf("create messages: %v", err)
	}
	if len(out.Messages) != crashMessages {
		t.Fatalf("create messages: got %d messages, want %d", len(out.Messages), crashMessages)
	}
	ids := make([]string, len(out.Messages))
	for i, m := range out.Messages {
		ids[i] = m.MessageID
	}
	return org.APIKey, ids
}

// reconcileCrashStore reads the stopped store and checks: every acknowledged key is stored
// exactly once, no key is stored twice, every row is an event the client sent, the
// messages' first-time fields and the report's counts equal a recount of the rows. It
// returns the number of rows.
func reconcileCrashStore(t *testing.T, h *crashHarness, db *sql.DB, acked []bool, wantID []string,
	sent, delivered, opensTotal, opensUnique, humanOpensTotal, humanOpensUnique int64) int {
	t.Helper()
	msgIdx := make(map[string]int, len(h.msgIDs))
	for i, id := range h.msgIDs {
		msgIdx[id] = i
	}
	ref := func(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

	count := make([]int, len(acked))
	uid := make([]string, len(acked))
	var firstSent, firstDelivered, firstOpen = make([]int64, crashMessages), make([]int64, crashMessages), make([]int64, crashMessages)
	setMin := func(s []int64, i int, v int64) {
		if s[i] == 0 || v < s[i] {
			s[i] = v
		}
	}
	var rows int
	var opens int64
	var bad []string
	q, err := db.Query(`SELECT m.ref, e.type, e.occurred_at, e.uid FROM events e LEFT JOIN messages m ON m.id = e.message_id`)
	if err != nil {
		t.Fatalf("read events: %v", err)
	}
	for q.Next() {
		var r []byte
		var typ, at int64
		var id string
		if err := q.Scan(&r, &typ, &at, &id); err != nil {
			t.Fatalf("read events: %v", err)
		}
		rows++
		k := at - h.at0
		msg, ok := msgIdx[ref(r)]
		if k < 0 || k >= int64(len(acked)) || !ok {
			bad = append(bad, fmt.Sprintf("stored event (message %q, type %d, occurred_at %d) was never sent", ref(r), typ, at))
			continue
		}
		if e := h.event(k); e.msg != msg || int64(e.typ) != typ {
			bad = append(bad, fmt.Sprintf("stored event at k-%d has message %d type %d, sent message %d type %d", k, msg, typ, e.msg, e.typ))
			continue
		}
		count[k]++
		uid[k] = id
		switch mailtrail.EventType(typ) {
		case mailtrail.EventSent:
			setMin(firstSent, msg, at)
		case mailtrail.EventDelivered:
			setMin(firstDelivered, msg, at)
		case mailtrail.EventOpened:
			setMin(firstDelivered, msg, at)
			setMin(firstOpen, msg, at)
			opens++
		}
	}
	if err := q.Err(); err != nil {
		t.Fatalf("read events: %v", err)
	}
	q.Close()

	var lost, dups []int64
	var wrongID int
	for k, n := range count {
		if wantID[k] != "" && n == 1 && uid[k] != wantID[k] {
			if wrongID < 5 {
				t.Errorf("key k-%d was answered with event id %s but is stored as %s", k, wantID[k], uid[k])
			}
			wrongID++
		}
		if n > 1 {
			dups = append(dups, int64(k))
		}
		if acked[k] && n == 0 {
			lost = append(lost, int64(k))
		}
	}
	if wrongID > 0 {
		t.Errorf("%d stored events have another id than the one acknowledged", wrongID)
	}
	for _, s := range bad[:min(len(bad), 5)] {
		t.Error(s)
	}
	if len(bad) > 0 {
		t.Errorf("%d stored events do not match what was sent", len(bad))
	}
	if len(lost) > 0 {
		t.Errorf("acknowledged lost: %d events, first keys %v", len(lost), lost[:min(len(lost), 10)])
	}
	if len(dups) > 0 {
		t.Errorf("stored more than once: %d keys, first %v", len(dups), dups[:min(len(dups), 10)])
	}

	// Derived state equals a recount of the raw rows.
	mq, err := db.Query(`SELECT ref, f_sent, f_delivered, f_open, f_hopen FROM messages`)
	if err != nil {
		t.Fatalf("read messages: %v", err)
	}
	var mismatched int
	for mq.Next() {
		var r []byte
		var fs, fd, fo, fho int64
		if err := mq.Scan(&r, &fs, &fd, &fo, &fho); err != nil {
			t.Fatalf("read messages: %v", err)
		}
		i, ok := msgIdx[ref(r)]
		if !ok {
			continue
		}
		if fs != firstSent[i] || fd != firstDelivered[i] || fo != firstOpen[i] || fho != firstOpen[i] {
			if mismatched < 5 {
				t.Errorf("message %s: first sent/delivered/open/human open %d/%d/%d/%d, recount %d/%d/%d/%d",
					h.msgIDs[i], fs, fd, fo, fho, firstSent[i], firstDelivered[i], firstOpen[i], firstOpen[i])
			}
			mismatched++
		}
	}
	if err := mq.Err(); err != nil {
		t.Fatalf("read messages: %v", err)
	}
	mq.Close()
	if mismatched > 0 {
		t.Errorf("%d messages' state differs from the recount", mismatched)
	}
	nonZero := func(s []int64) (n int64) {
		for _, v := range s {
			if v != 0 {
				n++
			}
		}
		return n
	}
	for _, c := range []struct {
		name      string
		got, want int64
	}{
		{"sent", sent, nonZero(firstSent)},
		{"delivered", delivered, nonZero(firstDelivered)},
		{"opens_total", opensTotal, opens},
		{"opens_unique", opensUnique, nonZero(firstOpen)},
		{"human_opens_total", humanOpensTotal, opens},
		{"human_opens_unique", humanOpensUnique, nonZero(firstOpen)},
	} {
		if c.got != c.want {
			t.Errorf("report counts.%s = %d, recount from stored events = %d", c.name, c.got, c.want)
		}
	}
	return rows
}
