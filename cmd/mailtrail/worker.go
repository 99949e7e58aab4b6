package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/metrics"
	"github.com/mailtrail/mailtrail/internal/projector"
	"github.com/mailtrail/mailtrail/internal/rungroup"
	"github.com/mailtrail/mailtrail/internal/store/clickhouse"
	"github.com/mailtrail/mailtrail/internal/store/eventlog"
	"github.com/mailtrail/mailtrail/internal/store/postgres"
)

const workerSynopsis = "mailtrail worker --event-log-url URLS --postgres-dsn DSN [--postgres-schema S] [--clickhouse-url URL] [--metrics-addr HOST:PORT]"

// runWorker is `mailtrail worker`: the cluster mode's projector. It reads the event log
// on the external JetStream of --event-log-url (the stream serve --event-log-url
// acknowledges on) and applies it to PostgreSQL exactly once, the position committed with
// the plan; with --clickhouse-url it also ships the raw events to ClickHouse in blocks
// that a replay never counts twice. It runs until SIGINT or SIGTERM (docs/cluster.md).
func runWorker(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var maxEvents int
	var progress time.Duration
	var own string
	l := newLeaf("worker", workerSynopsis,
		"Applies the event log on an external JetStream (--event-log-url, stream --event-log-stream) to\n"+
			"PostgreSQL (--postgres-dsn, schema --postgres-schema) exactly once: each transaction commits the\n"+
			"events, everything derived from them and the log position they reach, so a worker killed at\n"+
			"any point starts again from the position PostgreSQL holds, and two workers on one schema never\n"+
			"apply a message twice. With --clickhouse-url it also ships the raw events to ClickHouse\n"+
			"(database --clickhouse-database). Organizations must be in PostgreSQL before their events\n"+
			"arrive, and so must the messages their events name: serve --event-log-url --postgres-dsn\n"+
			"records both there (mailtrail cluster copy-orgs copies organizations offline; see\n"+
			"docs/cluster.md). Logs its progress; /metrics and /healthz on --metrics-addr.",
		func(fs *flag.FlagSet) {
			fs.IntVar(&maxEvents, "max-events", 50_000, "events one PostgreSQL transaction holds at most while the worker is behind")
			fs.DurationVar(&progress, "progress", 10*time.Second, "how often the worker logs its position and lag (0: never)")
			fs.StringVar(&own, "own-partitions", "", "with a stream of several partitions (serve --event-log-partitions): the partitions this worker applies, comma-separated (e.g. 0,2). Each is applied by one worker at a time: a worker waits for a partition another holds, and takes it over when that one stops or dies. Default: every one, shared with the other workers started without the flag (each holds at most its share, the partitions divided by those workers, rounded up)")
		},
		"event-log-url", "event-log-stream", "nats-creds", "nats-ca", "nats-cert", "nats-key", "postgres-dsn", "postgres-schema", "clickhouse-url", "clickhouse-ca", "clickhouse-database", "clickhouse-replicated", "retention-interval", "metrics-addr", "log-level", "log-format")
	if err := l.parse(args, stdout); err != nil {
		return err
	}
	cfg := l.cfg
	if l.fs.NArg() > 0 {
		return fmt.Errorf("worker: unexpected argument %q", l.fs.Arg(0))
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	switch {
	case cfg.EventLogURL == "" || cfg.PostgresDSN == "":
		return errors.New("worker: --event-log-url (MAILTRAIL_EVENT_LOG_URL) and --postgres-dsn (MAILTRAIL_POSTGRES_DSN) are required")
	case maxEvents < 1:
		return errors.New("worker: --max-events must be at least 1")
	case progress < 0:
		return errors.New("worker: --progress must be 0 (never) or positive")
	}
	log := newLogger(cfg, stderr)
	w, err := openWorker(ctx, cfg, maxEvents, log, own)
	if err != nil {
		if ctx.Err() != nil {
			// Stopped (SIGTERM) while it still waited for the log or PostgreSQL, as in a
			// rolling restart: nothing was applied, a clean stop.
			log.Info("worker stopped before it started", "reason", err.Error())
			return nil
		}
		return err
	}
	defer w.close()

	var msrv *http.Server
	if cfg.MetricsAddr != "" {
		ln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			return fmt.Errorf("--metrics-addr: listen on %s: %w", cfg.MetricsAddr, err)
		}
		msrv = &http.Server{Handler: w.handler(), ReadHeaderTimeout: 5 * time.Second}
		go msrv.Serve(ln)
		fmt.Fprintf(stdout, "mailtrail listening on http://%s\n", ln.Addr()) // /metrics and /healthz
	}
	log.Info("worker started", "stream", cfg.EventLogStream, "partitions", w.partitions, "own", w.owned(), "position", w.position(), "clickhouse", w.ship != nil)
	err = w.run(ctx, progress, cfg.RetentionInterval)
	if msrv != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		msrv.Shutdown(sctx)
		cancel()
	}
	log.Info("worker stopped", "position", w.position())
	return err
}

// worker is what `mailtrail worker` runs: the log's reader, the projector into
// PostgreSQL and, when configured, the shipper to ClickHouse.
type worker struct {
	log        *slog.Logger
	reader     *eventlog.Reader // the whole stream (the shipper's; the projector's with one partition)
	partitions int              // the stream's
	parts      []*workerPartition
	pg         *postgres.DB
	ch         *clickhouse.DB
	ship       *clickhouse.Shipper
	cfg        *Config
	metrics    *metrics.Registry
	errs       *metrics.CounterVec
	// erased counts the erasures carried to ClickHouse; retained the raw events the
	// retention deleted from PostgreSQL.
	erased, retained *metrics.CounterVec
	// chRetainedDay is the UTC day of the last retention run in ClickHouse that worked.
	chRetainedDay time.Time
	// pendingErasures is how many erasures ClickHouse has yet to follow, at the last look.
	pendingErasures atomic.Int64
	// balance: started without --own-partitions on a stream of several partitions, the
	// worker shares them with the other such workers (balancing); share is how many it
	// may hold (0 until it has counted them).
	balance bool
	share   atomic.Int64
}

// workerPartition is a partition the worker applies: its reader (the whole stream's
// when it has one partition) and its projector.
type workerPartition struct {
	num    int
	reader *eventlog.Reader
	proj   *projector.Projector
	held   atomic.Bool // the worker holds it (its lease in PostgreSQL)
}

// openWorker connects to the three engines (PostgreSQL migrated under its lock) and
// builds a projector per partition it owns (own: comma-separated; "" for every one) and
// the shipper; the stream's position in each store is named as serve names its own
// (positionName; partitionPosition for a partition of several), so a store follows one
// stream.
func openWorker(ctx context.Context, cfg *Config, maxEvents int, log *slog.Logger, own string) (*worker, error) {
	w := &worker{log: log, cfg: cfg, metrics: metrics.New()}
	var err error
	deadline := time.Now().Add(externalLogWait)
	var quiet quietRetries
	for announced := false; ; {
		w.reader, err = eventlog.OpenReader(ctx, eventlog.ReaderOptions{URL: cfg.EventLogURL, Creds: cfg.NATSCreds, TLS: cfg.natsTLS(),
			Stream: cfg.EventLogStream, SubjectPrefix: strings.ToLower(cfg.EventLogStream)})
		if err == nil {
			break
		}
		switch {
		case errors.Is(err, eventlog.ErrNoStream):
			// Started before serve created the stream: wait for it.
			if !announced {
				log.Info("waiting for the event log's stream (serve --event-log-url creates it at its first start)", "stream", cfg.EventLogStream)
				announced = true
			}
		case transientLogError(err) && time.Now().Before(deadline):
			// A cluster electing a leader (a server just restarted or killed) does not
			// answer for a few seconds: wait for it rather than exit.
			quiet.warn(log, "event log not reachable yet; retrying", err)
		default:
			return nil, fmt.Errorf("worker: %w", err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("worker: %w", err)
		case <-time.After(time.Second):
		}
	}
	if w.pg, err = postgres.Open(ctx, cfg.PostgresDSN, postgres.Options{Schema: cfg.PostgresSchema}); err != nil {
		w.close()
		return nil, fmt.Errorf("worker: %w", err)
	}
	w.errs = w.metrics.NewCounter("mailtrail_worker_errors_total", "errors the worker retried after, by stage (project: the log or PostgreSQL; ship: ClickHouse; erase: carrying erasures to ClickHouse; retention)", "stage")
	w.errs.Init("project")
	w.errs.Init("retention")
	w.retained = w.metrics.NewCounter("mailtrail_worker_retention_deleted_events_total", "raw events deleted from PostgreSQL because they were past their organization's retention")
	w.erased = w.metrics.NewCounter("mailtrail_worker_erasures_total", "customer erasures carried to the raw events in ClickHouse")
	stream := positionName(cfg)
	w.partitions = w.reader.Partitions()
	pcfg := *cfg
	pcfg.EventLogPartitions = w.partitions
	owned, err := ownedPartitions(own, w.partitions)
	if err != nil {
		w.close()
		return nil, fmt.Errorf("worker: %w", err)
	}
	w.balance = strings.TrimSpace(own) == "" && w.partitions > 1
	for _, p := range owned {
		part := &workerPartition{num: p, reader: w.reader}
		if w.partitions > 1 {
			if part.reader, err = eventlog.OpenReader(ctx, eventlog.ReaderOptions{URL: cfg.EventLogURL, Creds: cfg.NATSCreds, TLS: cfg.natsTLS(),
				Stream: cfg.EventLogStream, SubjectPrefix: strings.ToLower(cfg.EventLogStream), Partitioned: true, Partition: p}); err != nil {
				w.close()
				return nil, fmt.Errorf("worker: partition %d: %w", p, err)
			}
		}
		w.parts = append(w.parts, part)
		// An idle log is read every 20 ms at most: what an API node's reads and wake-ups
		// wait for starts here (bench/nodes).
		part.proj = projector.New(part.reader, w.pg, projector.Options{Stream: partitionPosition(&pcfg, p), MaxEvents: maxEvents, PollMax: workerPollMax, OnError: func(err error) {
			w.errs.Inc("project")
			if mailtrail.ErrorCode(err) == mailtrail.ENOTFOUND {
				log.Warn("projector: an event's organization is not in PostgreSQL; copy it there (mailtrail cluster copy-orgs), the worker retries", "partition", p, "err", err.Error())
				return
			}
			log.Warn("projector", "partition", p, "err", err.Error())
		}})
	}
	if cfg.ClickHouseURL != "" {
		if w.ch, err = clickhouse.Open(ctx, cfg.ClickHouseURL, cfg.ClickHouseDB, cfg.clickhouseOptions()...); err != nil {
			w.close()
			return nil, fmt.Errorf("worker: %w", err)
		}
		w.errs.Init("ship")
		w.errs.Init("erase")
		w.ship = clickhouse.NewShipper(w.ch, w.reader, clickhouse.ShipperOptions{Stream: stream, OnError: func(err error) {
			w.errs.Inc("ship")
			log.Warn("clickhouse shipper", "err", err.Error())
		}})
		w.metrics.NewGauge("mailtrail_worker_shipped_position", "the last log position whose raw events are in ClickHouse", func() float64 { return float64(w.ship.Position()) })
		w.metrics.NewGauge("mailtrail_worker_ship_lag_messages", "log messages not yet shipped to ClickHouse", func() float64 { return float64(w.ship.Lag()) })
		w.metrics.NewGauge("mailtrail_worker_erasures_pending", "customer erasures queued in PostgreSQL that ClickHouse has yet to follow", func() float64 {
			return float64(w.pendingErasures.Load())
		})
	}
	w.metrics.NewGauge("mailtrail_worker_applied_position", "the last log position applied to PostgreSQL (with several partitions: the lowest of those the worker holds)", func() float64 { return float64(w.position()) })
	w.metrics.NewGauge("mailtrail_worker_lag_messages", "log messages not yet applied to PostgreSQL (with several partitions: positions behind, of the partition furthest behind that the worker holds)", func() float64 { return float64(w.lag()) })
	w.metrics.NewGauge("mailtrail_worker_partitions_held", "partitions of the stream this worker holds and applies (the others it owns wait for the worker that holds them)", func() float64 {
		return float64(len(w.held()))
	})
	if w.balance {
		w.metrics.NewGauge("mailtrail_worker_partition_share", "partitions this worker may hold: the stream's divided by the workers sharing them (started without --own-partitions), rounded up",
			func() float64 { return float64(w.share.Load()) })
	}
	return w, nil
}

// run runs the projector, the shipper with the erasures it carries to ClickHouse, the
// retention (every retain) and the progress log (every tick; 0: none) until ctx ends,
// then stops them; it returns the first part's failure.
func (w *worker) run(ctx context.Context, tick, retain time.Duration) error {
	var g rungroup.Group
	for _, p := range w.parts {
		if w.partitions == 1 {
			p.held.Store(true)
			g.Add(rungroup.Part{Name: "projector", Run: p.proj.Run})
			continue
		}
		g.Add(rungroup.Part{Name: fmt.Sprintf("partition %d", p.num), Run: func(ctx context.Context) error {
			if w.balance {
				return w.balancing(ctx, p)
			}
			return w.holding(ctx, w.partitionLease(p), &p.held, p.proj.Run)
		}})
	}
	if w.balance {
		g.Add(rungroup.Part{Name: "balance", Run: func(ctx context.Context) error { w.countWorkers(ctx); return nil }})
	}
	if w.ship != nil && w.partitions > 1 {
		var held atomic.Bool
		g.Add(rungroup.Part{Name: "shipper", Run: func(ctx context.Context) error {
			return w.holding(ctx, "shipper of "+positionName(w.cfg), &held, w.ship.Run)
		}})
	} else if w.ship != nil {
		g.Add(rungroup.Part{Name: "shipper", Run: w.ship.Run})
		g.Add(rungroup.Part{Name: "erasures", Run: func(ctx context.Context) error { w.shipErasures(ctx, erasureInterval); return nil }})
	}
	g.Add(rungroup.Part{Name: "retention", Run: func(ctx context.Context) error { w.retain(ctx, retain); return nil }})
	if tick > 0 {
		g.Add(rungroup.Part{Name: "progress", Run: func(ctx context.Context) error { w.progress(ctx, tick); return nil }})
	}
	if err := g.Start(ctx); err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	select {
	case <-ctx.Done():
	case <-g.Failed():
	}
	g.Stop(context.WithoutCancel(ctx)) // parts without Stop: their contexts are cancelled
	if err := g.Err(); err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	return nil
}

// erasureInterval is how often the worker looks for erasures to carry to ClickHouse.
var erasureInterval = 2 * time.Second

// shipErasures carries to ClickHouse, every tick until ctx ends, the erasures serve
// queued in PostgreSQL (postgres.Erasure) once the shipper has passed their log position:
// the customer's CRM id becomes its erased id on every raw event there, and the queued
// erasure is forgotten. A failure is counted, logged and tried again at the next tick.
func (w *worker) shipErasures(ctx context.Context, tick time.Duration) {
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		n, err := w.shipErasuresOnce(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			w.errs.Inc("erase")
			w.log.Warn("erasures not carried to ClickHouse yet; the worker tries again", "carried", n, "err", err.Error())
		case n > 0:
			w.log.Info("erasures carried to ClickHouse", "customers", n)
		}
		w.erased.Add(int64(n))
		if left, err := w.pg.PendingErasureCount(ctx); err == nil {
			w.pendingErasures.Store(left)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// shipErasuresOnce carries the erasures that are due and returns how many: one
// mutation per organization for all of its erasures (a mutation rewrites the parts it
// touches), each forgotten once ClickHouse has it.
func (w *worker) shipErasuresOnce(ctx context.Context) (int, error) {
	pending, err := w.pg.PendingErasures(ctx, w.ship.Position(), 1000)
	if err != nil {
		return 0, err
	}
	byOrg := map[string][]postgres.PendingErasure{}
	var orgs []string
	for _, p := range pending {
		if byOrg[p.OrgID] == nil {
			orgs = append(orgs, p.OrgID)
		}
		byOrg[p.OrgID] = append(byOrg[p.OrgID], p)
	}
	n := 0
	for _, org := range orgs {
		// Each renames the customer's events up to its log position. A CRM id erased
		// twice (the CRM created the customer again, then erased it again) is carried
		// once per look, oldest first: the first erasure renames the events up to its
		// position, the second then finds only the later ones under the CRM id.
		var rs []clickhouse.Rename
		var done []int64
		seen := map[string]bool{}
		for _, p := range byOrg[org] {
			if !seen[p.OldID] {
				seen[p.OldID] = true
				rs = append(rs, clickhouse.Rename{Old: p.OldID, New: p.NewID, UpTo: p.LogPosition})
				done = append(done, p.ID)
			}
		}
		if err := w.ch.EraseCustomers(ctx, org, rs); err != nil {
			return n, err
		}
		for _, id := range done {
			if err := w.pg.ErasureShipped(ctx, id); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// retain runs the retention of the cluster's stores at once, then every interval, until
// ctx ends: in PostgreSQL the raw events past their organization's retention and the
// idempotency keys past their horizon (as serve's retention job does in its store), and
// in ClickHouse the raw events past their organization's retention.
func (w *worker) retain(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		w.retainOnce(ctx, time.Now())
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// retainOnce is one run of retain, as of now; failures are counted and logged.
func (w *worker) retainOnce(ctx context.Context, now time.Time) {
	job := &retentionJob{db: w.pg, log: w.log, now: func() time.Time { return now }, deleted: w.retained}
	if _, _, err := job.once(ctx); err != nil && ctx.Err() == nil { // logged
		w.errs.Inc("retention")
	}
	// ClickHouse's cutoffs move by whole days: one run a day is enough.
	if day := now.UTC().Truncate(24 * time.Hour); w.ch != nil && !day.Equal(w.chRetainedDay) {
		if err := w.retainClickHouse(ctx, now); err != nil {
			if ctx.Err() == nil {
				w.errs.Inc("retention")
				w.log.Warn("retention in ClickHouse failed; the worker tries again at its next run", "err", err.Error())
			}
		} else {
			w.chRetainedDay = day
		}
	}
}

// retainClickHouse deletes from ClickHouse the raw events past their organization's
// retention, as PostgreSQL says it, by whole UTC days: a deletion is a mutation that
// rewrites the parts it touches, so an organization gets at most one a day (its events
// stay there up to a day longer than in PostgreSQL), and none when a count finds nothing
// past. The worker runs it once a day (retainOnce).
func (w *worker) retainClickHouse(ctx context.Context, now time.Time) error {
	days, err := w.pg.Retentions(ctx)
	if err != nil {
		return err
	}
	for org, d := range days {
		cutoff := now.UTC().Add(-time.Duration(d) * 24 * time.Hour).Truncate(24 * time.Hour)
		n, err := w.ch.CountExpired(ctx, org, cutoff)
		if err == nil && n > 0 {
			err = w.ch.DeleteExpired(ctx, org, cutoff)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// progress logs the positions, lags and rates every tick while they move.
func (w *worker) progress(ctx context.Context, tick time.Duration) {
	t := time.NewTicker(tick)
	defer t.Stop()
	last, lastShip := w.position(), uint64(0)
	if w.ship != nil {
		lastShip = w.ship.Position()
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pos := w.position()
		attrs := []any{"position", pos, "lag", w.lag(), "messages_per_s", float64(pos-last) / tick.Seconds()}
		moved := pos != last || w.lag() > 0
		if w.ship != nil {
			sp := w.ship.Position()
			attrs = append(attrs, "shipped", sp, "ship_lag", w.ship.Lag())
			moved = moved || sp != lastShip || w.ship.Lag() > 0
			lastShip = sp
		}
		last = pos
		if moved {
			w.log.Info("worker progress", attrs...)
		}
	}
}

// handler serves /metrics and /healthz: 200 with the positions while the engines answer
// (the projector retries through outages, so 503 says which one fails).
func (w *worker) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", w.metrics.Handler())
	mux.HandleFunc("GET /healthz", func(rw http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		body := map[string]any{"status": "ok", "position": w.position(), "lag": w.lag()}
		if w.partitions > 1 {
			held := map[string]uint64{}
			for _, p := range w.parts {
				if p.held.Load() {
					held[strconv.Itoa(p.num)] = p.proj.Position()
				}
			}
			body["partitions"] = held
		}
		status := http.StatusOK
		if _, err := w.pg.Position(ctx, "-"); err != nil {
			status, body["status"], body["postgres"] = http.StatusServiceUnavailable, "unavailable", "not answering"
		}
		if _, err := w.reader.Head(ctx); err != nil {
			status, body["status"], body["event_log"] = http.StatusServiceUnavailable, "unavailable", "not answering"
		}
		if w.ship != nil {
			body["shipped"], body["ship_lag"], body["erasures_pending"] = w.ship.Position(), w.ship.Lag(), w.pendingErasures.Load()
		}
		rw.Header().Set("Content-Type", "application/json")
		rw.WriteHeader(status)
		json.NewEncoder(rw).Encode(body)
	})
	return mux
}

// holding runs fn once the worker holds the lease name in PostgreSQL (held says so
// meanwhile), until ctx ends: a partition or the shipper that another worker holds is
// waited for, and taken over when that one stops or dies (its session ends). A failure
// to take the lease (PostgreSQL down) is logged and retried.
func (w *worker) holding(ctx context.Context, name string, held *atomic.Bool, fn func(context.Context) error) error {
	return holdLease(ctx, w.pg, w.log, "worker", name, held, fn)
}

// partitionLease names the lease of partition p in PostgreSQL.
func (w *worker) partitionLease(p *workerPartition) string {
	return fmt.Sprintf("partition %d of %s", p.num, positionName(w.cfg))
}

// balanceEvery is how often a balancing worker counts the workers it shares the stream's
// partitions with, and each of its partitions sees whether to take or give it up.
var balanceEvery = time.Second

// countWorkers keeps the worker a member of the stream's balancing workers in PostgreSQL
// (postgres.DB.Join: a session lock, gone when the worker dies) and, every balanceEvery,
// sets its share to the partitions divided by the members, rounded up; until ctx ends.
// While it cannot count them, the share stays as it was (0 before the first count: the
// worker takes nothing, and PostgreSQL is unreachable anyway).
func (w *worker) countWorkers(ctx context.Context) {
	group := "balancing workers of " + positionName(w.cfg)
	var quiet quietRetries
	var m *postgres.Member
	defer func() {
		if m != nil {
			m.Leave()
		}
	}()
	t := time.NewTicker(balanceEvery)
	defer t.Stop()
	for {
		var err error
		if m != nil && m.Ping(ctx) != nil {
			m.Leave() // its session is gone (PostgreSQL restarted): join again
			m = nil
		}
		if m == nil {
			m, err = w.pg.Join(ctx, group)
		}
		var n int
		if err == nil {
			n, err = w.pg.Members(ctx, group)
		}
		if err == nil && n > 0 {
			w.share.Store(int64((w.partitions + n - 1) / n))
		} else if err != nil && ctx.Err() == nil {
			quiet.warn(w.log, "cannot count the workers sharing the partitions; keeping this worker's share", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// held returns the numbers of the partitions the worker holds, in order.
func (w *worker) held() []int {
	var out []int
	for _, p := range w.parts {
		if p.held.Load() {
			out = append(out, p.num)
		}
	}
	return out
}

// balancing applies partition p while the worker's share allows, until ctx ends: every
// balanceEvery, when the worker holds fewer partitions than its share and p is free (no
// worker holds its lease), it takes p; while it holds p and more partitions than its
// share, it gives up those of the highest numbers beyond the share (after the
// projector's current batch), so that a worker with room takes them.
func (w *worker) balancing(ctx context.Context, p *workerPartition) error {
	name := w.partitionLease(p)
	lease := w.pg.NewLease(name)
	defer lease.Close()
	var quiet quietRetries
	t := time.NewTicker(balanceEvery)
	defer t.Stop()
	for {
		if int64(len(w.held())) < w.share.Load() {
			ok, err := lease.Try(ctx)
			if err != nil && ctx.Err() == nil {
				quiet.warn(w.log, "cannot take the lease in PostgreSQL; retrying", err)
			}
			if ok {
				if err := w.applyShare(ctx, p, name, lease.Release); err != nil {
					return err
				}
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// applyShare runs p's projector under its lease (release gives the lease up) until ctx
// ends, the projector fails (its error is returned), or p is beyond the worker's share.
func (w *worker) applyShare(ctx context.Context, p *workerPartition, name string, release func()) error {
	p.held.Store(true)
	w.log.Info("worker holds "+name, "lease", name)
	pctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.proj.Run(pctx) }()
	t := time.NewTicker(balanceEvery)
	defer t.Stop()
	var err error
	gaveUp := false
	for running := true; running; {
		select {
		case err = <-done:
			running = false
		case <-t.C:
			if held, share := w.held(), int(w.share.Load()); len(held) > share && slices.Contains(held[share:], p.num) {
				gaveUp = true
				cancel()
				err = <-done
				running = false
			}
		}
	}
	cancel()
	p.held.Store(false)
	release()
	if gaveUp {
		w.log.Info("worker gives up "+name+": it holds more than its share of the partitions", "lease", name, "share", w.share.Load())
		return nil
	}
	return err
}

// workerPollMax bounds the pause between reads of an idle log.
const workerPollMax = 20 * time.Millisecond

// holdLease runs fn under the lease name in PostgreSQL (postgres.DB.Hold), taken first
// (waiting while another process holds it), and released when fn returns, which it
// returns; until ctx ends. who names the process in its log line. A failure to take the
// lease (PostgreSQL down) is logged and retried.
func holdLease(ctx context.Context, pg *postgres.DB, log *slog.Logger, who, name string, held *atomic.Bool, fn func(context.Context) error) error {
	var quiet quietRetries
	for ctx.Err() == nil {
		release, err := pg.Hold(ctx, name)
		if err != nil {
			if ctx.Err() == nil {
				quiet.warn(log, "cannot take the lease in PostgreSQL; retrying", err)
				select {
				case <-ctx.Done():
				case <-time.After(time.Second):
				}
			}
			continue
		}
		held.Store(true)
		log.Info(who+" holds "+name, "lease", name)
		err = fn(ctx)
		held.Store(false)
		release()
		return err
	}
	return nil
}

// owned returns the partitions the worker owns.
func (w *worker) owned() []int {
	out := make([]int, len(w.parts))
	for i, p := range w.parts {
		out[i] = p.num
	}
	return out
}

// position returns the lowest position of the partitions the worker holds (0 when it
// holds none).
func (w *worker) position() uint64 {
	var pos uint64
	first := true
	for _, p := range w.parts {
		if p.held.Load() || w.partitions == 1 {
			if v := p.proj.Position(); first || v < pos {
				pos, first = v, false
			}
		}
	}
	return pos
}

// lag returns the lag of the partition furthest behind that the worker holds.
func (w *worker) lag() uint64 {
	var lag uint64
	for _, p := range w.parts {
		if p.held.Load() || w.partitions == 1 {
			lag = max(lag, p.proj.Lag())
		}
	}
	return lag
}

// ownedPartitions parses --own-partitions for a stream of n partitions: every one for "".
func ownedPartitions(own string, n int) ([]int, error) {
	var out []int
	if strings.TrimSpace(own) == "" {
		for p := range n {
			out = append(out, p)
		}
		return out, nil
	}
	seen := map[int]bool{}
	for _, f := range strings.Split(own, ",") {
		p, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || p < 0 || p >= n {
			return nil, fmt.Errorf("--own-partitions: %q is not a partition of the stream, which has %d (0–%d)", strings.TrimSpace(f), n, n-1)
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out, nil
}

// close closes what openWorker opened.
func (w *worker) close() {
	for _, p := range w.parts {
		if p.reader != w.reader {
			p.reader.Close()
		}
	}
	if w.reader != nil {
		w.reader.Close()
	}
	if w.pg != nil {
		w.pg.Close()
	}
}
