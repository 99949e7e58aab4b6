package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/httpd"
	"github.com/mailtrail/mailtrail/internal/ingest"
	"github.com/mailtrail/mailtrail/internal/lowprio"
	"github.com/mailtrail/mailtrail/internal/metrics"
	"github.com/mailtrail/mailtrail/internal/projector"
	"github.com/mailtrail/mailtrail/internal/store/clickhouse"
	"github.com/mailtrail/mailtrail/internal/store/eventlog"
	"github.com/mailtrail/mailtrail/internal/store/postgres"
	"github.com/mailtrail/mailtrail/internal/store/sqlite"
	"github.com/mailtrail/mailtrail/internal/storekit"
)

// eventLogDir is the event log's directory in the data directory.
const eventLogDir = "eventlog"

// eventLogMessageBytes bounds one group message of the log (NATS discourages payloads
// over 8 MB): a pipeline batch larger than this is appended in parts.
const eventLogMessageBytes = 4 << 20

// projectionStream is the name of the embedded log's position in the store.
const projectionStream = "events"

// externalPositionPrefix starts the name of the position in the store of a log on an
// external JetStream: the prefix and the stream's name. A store follows one log; its
// position is only meaningful for that stream (message sequences of another are not
// comparable).
const externalPositionPrefix = "events@"

// externalLogDir is the directory, in the data directory, that a log on an external
// JetStream owns (a lock file; the stream's data is on the cluster).
const externalLogDir = "eventlog-external"

// positionName returns the name of the store's position in the log cfg runs on.
func positionName(cfg *Config) string {
	if cfg.EventLogURL == "" {
		return projectionStream
	}
	return externalPositionPrefix + cfg.EventLogStream
}

// followsOther returns an error when the store follows a log on an external JetStream
// (it has a position for it, recorded when it first opened it) other than follow (a
// position name; "" for none): what that stream holds past the store's position would be
// left out.
func followsOther(ctx context.Context, db *sqlite.DB, follow string) error {
	positions, err := db.Positions(ctx)
	if err != nil {
		return err
	}
	for name, pos := range positions {
		if stream, ok := strings.CutPrefix(name, externalPositionPrefix); ok && name != follow {
			return fmt.Errorf("event log: this store follows the event log on an external JetStream, stream %s (applied up to position %d): run it with --event-log-url and --event-log-stream %s, or what that stream holds past its position would be left out", stream, pos, stream)
		}
	}
	return nil
}

// openExternalLog connects to the event log on the external JetStream of
// --event-log-url, after applying what an embedded log of the data directory still holds
// past the store's position (a store that moves from the embedded log to a cluster). The
// stream is created with --event-log-replicas replicas when it does not exist; a stream
// that ends before the store's position (removed, or another one under that name) is
// refused.
func openExternalLog(ctx context.Context, cfg *Config, db *sqlite.DB, log *slog.Logger, onCommit func(eventlog.Commit)) (*eventlog.Log, error) {
	stream := positionName(cfg)
	if err := drainEventLog(ctx, cfg.DataDir, db, log, stream); err != nil {
		return nil, err
	}
	l, err := dialExternalLog(ctx, cfg, filepath.Join(cfg.DataDir, externalLogDir), log, onCommit)
	if err != nil {
		return nil, err
	}
	head, err := l.Projection().Head(ctx)
	var positions map[string]uint64
	if err == nil {
		positions, err = db.Positions(ctx)
	}
	if err == nil {
		pos, following := positions[stream]
		switch {
		case !following && head > 0:
			err = fmt.Errorf("stream %s on the cluster already holds %d messages this store never followed (another store's stream, or this store restored from a backup): give this store a stream of its own with --event-log-stream", cfg.EventLogStream, head)
		case pos > head:
			err = fmt.Errorf("the store has applied the event log up to position %d but stream %s on the cluster ends at %d: the stream was removed or replaced; restore it (or start from a backup of the store taken with it)",
				pos, cfg.EventLogStream, head)
		}
	}
	if err == nil {
		// From here on the store follows the stream, before anything of it is applied:
		// a start without it is refused (followsOther).
		err = db.Follow(ctx, stream)
	}
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("event log: %w", err)
	}
	log.Info("event log on an external JetStream", "stream", cfg.EventLogStream, "replicas", cfg.EventLogReplicas, "partitions", cfg.EventLogPartitions)
	return l, nil
}

// dialExternalLog opens the event log on the external JetStream of --event-log-url (the
// stream created with --event-log-replicas replicas and --event-log-partitions
// partitions when it does not exist), dir holding its ownership. A cluster that does not
// answer yet (electing a leader, a server restarting) is retried for externalLogWait.
func dialExternalLog(ctx context.Context, cfg *Config, dir string, log *slog.Logger, onCommit func(eventlog.Commit)) (*eventlog.Log, error) {
	opts := eventlog.Options{
		URL: cfg.EventLogURL, Creds: cfg.NATSCreds, TLS: cfg.natsTLS(), Replicas: cfg.EventLogReplicas, Partitions: cfg.EventLogPartitions, Stream: cfg.EventLogStream, SubjectPrefix: strings.ToLower(cfg.EventLogStream),
		MaxMessageBytes: eventLogMessageBytes, OnCommit: onCommit,
		Logf: func(format string, args ...any) { log.Warn("event log", "msg", fmt.Sprintf(format, args...)) }}
	var l *eventlog.Log
	var err error
	var quiet quietRetries
	for deadline := time.Now().Add(externalLogWait); ; {
		l, err = eventlog.Open(ctx, dir, opts)
		if err == nil || !transientLogError(err) || time.Now().After(deadline) {
			break
		}
		// A cluster that is electing a leader (a server just restarted or killed) does
		// not answer for a few seconds: wait for it rather than exit.
		quiet.warn(log, "event log not reachable yet; retrying", err)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("event log: %w", err)
		case <-time.After(time.Second):
		}
	}
	if err != nil {
		return nil, fmt.Errorf("event log: %w", err)
	}
	return l, nil
}

// externalLogWait is how long serve retries opening the event log on an external
// JetStream that does not answer (electing a leader, restarting) before it gives up.
var externalLogWait = time.Minute

// quietRetries logs the error of an operation retried every second at its first
// occurrence, when it changes, and every 10 s, not at every attempt.
type quietRetries struct {
	last string
	at   time.Time
}

func (q *quietRetries) warn(log *slog.Logger, msg string, err error) {
	if e := err.Error(); e != q.last || time.Since(q.at) >= 10*time.Second {
		q.last, q.at = e, time.Now()
		log.Warn(msg, "err", e)
	}
}

// transientLogError reports whether opening the external log failed in a way that
// waiting mends: the cluster did not answer in time, had no server to answer, or none
// reachable (a leader election, a server restarting). Refused credentials or
// certificates, a directory owned by another process and a stream that does not fit are
// not: they stop the start at once.
func transientLogError(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) || errors.Is(err, nats.ErrNoResponders) ||
		errors.Is(err, nats.ErrNoServers) || eventlog.Transient(err) {
		return true
	}
	msg := strings.ToLower(err.Error())
	for _, s := range []string{"deadline exceeded", "timeout", "no responders", "no servers available", "connection refused", "temporarily unavailable"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// logged is serve --event-log's write path: the event log the pipeline appends to (an
// acknowledgement means the log has it on disk), and the projector that applies it to
// the store behind the acknowledgement, exactly once (docs/eventlog.md).
type logged struct {
	log  *eventlog.Log
	sink *eventlog.Sink
	proj *projector.Projector

	// readers, when not nil, are the log's other readers (mailtrail worker): purges wait
	// for them.
	readers *logReaders

	// nice lowers the projector's priority (--projector-nice).
	nice   int
	logger *slog.Logger

	stopMu  sync.Mutex
	stop    context.CancelFunc // ends the projector's Run
	stopped bool               // stopCaughtUp ran: a Run that starts later returns at once
}

// openEventLog opens the data directory's event log and checks the store is a projection
// of it: a store whose position is past the log's end was projected from another log
// (this one was removed or replaced), and new appends would be taken for applied ones.
func openEventLog(ctx context.Context, dataDir string, db *sqlite.DB, log *slog.Logger, onCommit func(eventlog.Commit)) (*eventlog.Log, error) {
	// A missing log is refused before Open creates an empty one, which would make the
	// directory refuse every later start, with the flag or without (drainEventLog).
	dir, err := filepath.Abs(filepath.Join(dataDir, eventLogDir))
	if err != nil {
		return nil, fmt.Errorf("event log: %w", err)
	}
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		if pos, err := db.Position(ctx, projectionStream); err != nil || pos > 0 {
			if err == nil {
				err = fmt.Errorf("the store has applied the event log up to position %d but %s does not exist: the log was removed; restore it (or the store's backup taken with it)", pos, dir)
			}
			return nil, fmt.Errorf("event log: %w", err)
		}
	}
	l, err := eventlog.Open(ctx, dir, eventlog.Options{MaxMessageBytes: eventLogMessageBytes, OnCommit: onCommit,
		Logf: func(format string, args ...any) { log.Warn("event log", "msg", fmt.Sprintf(format, args...)) }})
	if err != nil {
		return nil, fmt.Errorf("event log: %w", err)
	}
	head, err := l.Projection().Head(ctx)
	if err == nil {
		var pos uint64
		if pos, err = db.Position(ctx, projectionStream); err == nil && pos > head {
			err = fmt.Errorf("the store has applied the event log up to position %d but %s ends at %d: the log was removed or replaced; restore it (or the store's backup taken with it)",
				pos, l.Dir(), head)
		}
	}
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("event log: %w", err)
	}
	return l, nil
}

// appendMetrics returns the log's OnCommit that feeds the append metrics.
func appendMetrics(reg *metrics.Registry) func(eventlog.Commit) {
	msgs := reg.NewCounter("mailtrail_eventlog_messages_total", "Group messages the event log published, by result (stored; failed: their appends were answered 503).", "result")
	msgs.Init("stored")
	msgs.Init("failed")
	records := reg.NewCounter("mailtrail_eventlog_records_total", "Events stored in the event log.")
	bytes := reg.NewCounter("mailtrail_eventlog_bytes_total", "Bytes of the group messages stored in the event log.")
	took := reg.NewHistogram("mailtrail_eventlog_append_seconds", "Time to store one group message in the event log, its sync included (what an acknowledgement waits for after its group closed).",
		0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)
	size := reg.NewHistogram("mailtrail_eventlog_events_per_message", "Events per group message stored in the event log (the group commit's size).",
		1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)
	return func(c eventlog.Commit) {
		if c.Err != nil {
			msgs.Inc("failed")
			return
		}
		msgs.Inc("stored")
		records.Add(int64(c.Records))
		bytes.Add(int64(c.Bytes))
		took.Observe(c.Took.Seconds())
		size.Observe(float64(c.Records))
	}
}

// newLogged opens the log and wires its sink and projector; subscribers are added later.
func newLogged(ctx context.Context, cfg *Config, db *sqlite.DB, log *slog.Logger, reg *metrics.Registry) (*logged, error) {
	stream := positionName(cfg)
	var l *eventlog.Log
	var err error
	if cfg.EventLogURL == "" {
		if err = followsOther(ctx, db, stream); err == nil {
			l, err = openEventLog(ctx, cfg.DataDir, db, log, appendMetrics(reg))
		}
	} else {
		l, err = openExternalLog(ctx, cfg, db, log, appendMetrics(reg))
	}
	if err != nil {
		return nil, err
	}
	errs := reg.NewCounter("mailtrail_projection_errors_total", "Errors the projector retried after (the store failing, the log unreadable): it reads the same records again.")
	readers, err := newLogReaders(cfg)
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("event log: %w", err)
	}
	if readers != nil {
		readers.log = l
	}
	lg := &logged{log: l, readers: readers, nice: cfg.ProjectorNice, logger: log}
	lg.proj = projector.New(l.Projection(), db, projector.Options{Stream: stream, OnError: func(err error) {
		errs.Inc()
		log.Error("projector", "err", err.Error())
	}})
	lg.sink = newDedupeSink(l, eventlog.SinkOptions{Seen: db.Seen, Applied: lg.proj.Position, Keys: db, MaxPending: cfg.EventLogMaxPending}, reg, log)
	// The tail an earlier process acknowledged and the store has not applied: its keys
	// are duplicates, and reads wait for it.
	applied, err := db.Position(ctx, stream)
	if err == nil {
		err = lg.sink.Resume(ctx, applied)
	}
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("event log: %w", err)
	}
	reg.NewGauge("mailtrail_eventlog_position", "The event log's last position (message sequence) acknowledged.", func() float64 { return float64(lg.Written()) })
	reg.NewGauge("mailtrail_projection_position", "The last event log position the store has applied.", func() float64 { return float64(lg.Applied()) })
	reg.NewGauge("mailtrail_projection_lag", "Event log positions acknowledged but not applied to the store yet (reads wait for theirs, up to --read-wait).",
		func() float64 { return float64(lg.proj.Lag()) })
	return lg, nil
}

// newDedupeSink returns the Sink of o over l, with the metrics of its dedupe index, its
// lookups in the store and its filter of the store's keys (o.Keys: KeepFilter builds it)
// registered in reg, and its filter's failed builds logged.
func newDedupeSink(l *eventlog.Log, o eventlog.SinkOptions, reg *metrics.Registry, log *slog.Logger) *eventlog.Sink {
	lookups := reg.NewCounter("mailtrail_eventlog_dedupe_lookups_total", "Events with a dedupe or idempotency key not in the sink's index, by what answered whether the store holds them: the store (a lookup) or the filter of the store's keys (none).", "answer")
	lookups.Init("store")
	lookups.Init("filter")
	o.OnLookup = func(store, filter int) {
		lookups.Add(int64(store), "store")
		lookups.Add(int64(filter), "filter")
	}
	o.OnFilterError = func(err error) {
		log.Warn("dedupe filter: build failed; the store answers every lookup until it is built", "err", err.Error())
	}
	sink := eventlog.NewSink(l, o)
	reg.NewGauge("mailtrail_eventlog_dedupe_filter_keys", "Keys in the sink's filter of the store's keys (0 until it is built after a start).",
		func() float64 { return float64(sink.Filter().Keys) })
	reg.NewGauge("mailtrail_eventlog_dedupe_filter_bytes", "Memory of the sink's filter of the store's keys (about 1.5 bytes per key it is sized for: twice the keys it held when built).",
		func() float64 { return float64(sink.Filter().Bytes) })
	reg.NewGauge("mailtrail_eventlog_dedupe_pending", "Dedupe and idempotency keys appended to the event log and not applied yet (the sink's index).",
		func() float64 { return float64(sink.Pending()) })
	return sink
}

// Written returns the position of the last batch the log acknowledged.
func (l *logged) Written() uint64 { return l.sink.Last() }

// Applied returns the position the store has applied.
func (l *logged) Applied() uint64 { return l.proj.Position() }

// WaitFor waits until the store has applied pos.
func (l *logged) WaitFor(ctx context.Context, pos uint64) error { return l.proj.WaitFor(ctx, pos) }

// caughtUp waits, at most wait, until the store has applied every write acknowledged so
// far: a change made to the store directly then applies after them, in the order they
// were acknowledged. It returns EUNAVAILABLE (503 with Retry-After) when the store is
// still behind.
func (l *logged) caughtUp(ctx context.Context, wait time.Duration, what string) error {
	return waitCaughtUp(ctx, l, wait, what)
}

// waitCaughtUp is caughtUp over any projection of a log.
func waitCaughtUp(ctx context.Context, p httpd.Projection, wait time.Duration, what string) error {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	if err := p.WaitFor(ctx, p.Written()); err != nil {
		return mailtrail.Errorf(mailtrail.EUNAVAILABLE, "the store has not applied the latest events yet; retry %s shortly", what)
	}
	return nil
}

// run applies the log, and keeps the sink's dedupe filter, until stopCaughtUp ends it.
func (l *logged) run(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	l.stopMu.Lock()
	if l.stopped { // stopped before it started: nothing to run
		l.stopMu.Unlock()
		return
	}
	l.stop = cancel
	l.stopMu.Unlock()
	// Beside the projector, the sink's filter of the store's keys, which spares it a
	// lookup in the store for each new event: built in the background (until then every
	// key is looked up), built again larger as it fills.
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		l.sink.KeepFilter(ctx)
	}()
	l.lowered(func() { _ = l.proj.Run(ctx) })
	cancel()
	wg.Wait()
}

// morePROCS gives Go one more processor than the machine has cores, once per process.
var morePROCS sync.Once

// lowered runs f (the projector) on a thread of its own, lowered by --projector-nice. On
// a contended machine the kernel then runs the acknowledgements' threads first, and the
// projector applies behind them with the CPU they leave: compare's rounds acknowledged
// more pixel hits, clicks, API events and webhooks in 32 of 36 rounds, for the same total
// work (bench/README.md). While its thread waits for a core it holds one of Go's
// processors, so Go gets one processor more than the machine's cores: the
// acknowledgements keep every core.
func (l *logged) lowered(f func()) {
	lowprio.Run(l.nice, func(_ int, err error) {
		switch {
		case err == nil && l.nice > 0:
			morePROCS.Do(func() { runtime.GOMAXPROCS(runtime.GOMAXPROCS(0) + 1) })
		case err != nil && !errors.Is(err, errors.ErrUnsupported):
			l.logger.Warn("event log: the projector runs at the acknowledgements' priority", "err", err)
		}
		f()
	})
}

// stopCaughtUp waits until the store has applied everything acknowledged (within ctx),
// then ends the projector; it reports whether the store caught up.
func (l *logged) stopCaughtUp(ctx context.Context) bool {
	err := l.proj.WaitFor(ctx, l.Written())
	l.stopMu.Lock()
	l.stopped = true
	if l.stop != nil {
		l.stop()
	}
	l.stopMu.Unlock()
	return err == nil
}

// forget removes from the log every message the store has applied: after an erasure
// (which waits until the store applied everything acknowledged before it) the log holds
// none of the erased customer's events any more, only what arrived since. Replays start
// past the store's position, so nothing needs what it removes.
func (l *logged) forget(ctx context.Context) error {
	return l.purge(ctx, l.Applied())
}

// purge removes from the log every message up to upTo that the other readers of the log
// have applied too (mailtrail worker's projection in PostgreSQL and its shipment to
// ClickHouse, when serve knows them): a worker behind serve's store never finds a message
// it has not applied gone. When a reader's position cannot be read, nothing is removed.
func (l *logged) purge(ctx context.Context, upTo uint64) error {
	if l.readers != nil {
		floor, err := l.readers.floor(ctx)
		if err != nil {
			return fmt.Errorf("event log: nothing purged: %w", err)
		}
		upTo = min(upTo, floor)
	}
	if upTo == 0 {
		return nil
	}
	return l.log.PurgeBefore(ctx, upTo+1)
}

// logReaders are the readers of an external event log besides serve's own store whose
// positions serve knows from its configuration: the projection in PostgreSQL
// (--postgres-dsn, --postgres-schema) and the raw events in ClickHouse (--clickhouse-url,
// --clickhouse-database) that mailtrail worker keeps. Each is opened at its first use,
// so serve starts while they are down.
type logReaders struct {
	cfg    *Config
	stream string
	log    partitionLog // the log, for its partitions' next messages

	ch *clickhouse.DB // nil without ClickHouse

	mu sync.Mutex // guards pg
	pg *postgres.DB
}

// newLogReaders returns the readers cfg names besides the store, nil when none.
func newLogReaders(cfg *Config) (*logReaders, error) {
	if cfg.EventLogURL == "" || (cfg.PostgresDSN == "" && cfg.ClickHouseURL == "") {
		return nil, nil
	}
	r := &logReaders{cfg: cfg, stream: positionName(cfg)}
	if cfg.ClickHouseURL != "" {
		var err error // New does not reach the server
		if r.ch, err = clickhouse.New(cfg.ClickHouseURL, cfg.ClickHouseDB, cfg.clickhouseOptions()...); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// floor returns the lowest position the readers have applied.
func (r *logReaders) floor(ctx context.Context) (uint64, error) {
	floor := uint64(math.MaxUint64)
	if r.cfg.PostgresDSN != "" {
		pg, err := r.postgres(ctx)
		if err == nil {
			var pos uint64
			pos, err = appliedFloor(ctx, pg, r.log, r.cfg)
			floor = min(floor, pos)
		}
		if err != nil {
			return 0, fmt.Errorf("the workers' position in PostgreSQL: %w", err)
		}
	}
	if r.ch != nil {
		pos, err := r.ch.ShippedPosition(ctx, r.stream)
		if err != nil {
			return 0, fmt.Errorf("the position shipped to ClickHouse (has mailtrail worker run with --clickhouse-url?): %w", err)
		}
		floor = min(floor, pos)
	}
	return floor, nil
}

// postgres returns the workers' PostgreSQL, opened (and migrated) at the first call that
// reaches it; the pool is shared by every caller.
func (r *logReaders) postgres(ctx context.Context) (*postgres.DB, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pg == nil {
		db, err := postgres.Open(ctx, r.cfg.PostgresDSN, postgres.Options{Schema: r.cfg.PostgresSchema, MaxConns: 2})
		if err != nil {
			return nil, err
		}
		r.pg = db
	}
	return r.pg, nil
}

// erase erases a customer in the workers' PostgreSQL for serve's erasure
// (erasingStore.mirror), once the workers have applied every event acknowledged up to
// mark (within wait, else EUNAVAILABLE: nothing is erased and the client retries), so no
// event of the customer acknowledged before the erasure is applied after it. With
// ClickHouse, the same transaction queues the erasure for the raw events there (the
// worker renames the customer once it has shipped up to mark). It returns the customer's
// new id, which serve's store gives too. A customer or organization PostgreSQL does not
// know is not an error: serve's store has the last word. When PostgreSQL erased the
// customer within the last hour (a retry: serve's store failed after PostgreSQL's
// commit), the new id is the one PostgreSQL gave, so both stores name the customer alike.
func (r *logReaders) erase(ctx context.Context, mark uint64, wait time.Duration, orgID, customerID string) (string, error) {
	newID := storekit.NewErasedID()
	_, err := r.eraseAt(ctx, mark, wait, orgID, customerID, newID)
	if mailtrail.ErrorCode(err) == mailtrail.ENOTFOUND {
		err = nil
		if pg, perr := r.postgres(ctx); perr == nil {
			switch id, ok, rerr := pg.ErasedAs(ctx, orgID, customerID); {
			case rerr != nil:
				err = mailtrail.Errorf(mailtrail.EUNAVAILABLE, "the erasure cannot reach the cluster's PostgreSQL (not answering); retry shortly")
			case ok:
				newID = id
			}
		}
	}
	return newID, err
}

// eraseAt erases a customer in the workers' PostgreSQL under newID ("" draws one) once
// they have applied every event acknowledged up to mark, within wait (else EUNAVAILABLE:
// nothing is erased and the client retries); with ClickHouse, the same transaction
// queues the erasure of the raw events there. Its errors are the store's (ENOTFOUND,
// EINVALID), else EUNAVAILABLE.
func (r *logReaders) eraseAt(ctx context.Context, mark uint64, wait time.Duration, orgID, customerID, newID string) (*mailtrail.EraseResult, error) {
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	unavailable := func(why string) error {
		return mailtrail.Errorf(mailtrail.EUNAVAILABLE, "the erasure cannot reach the cluster's PostgreSQL yet (%s); retry shortly", why)
	}
	pg, err := r.postgres(wctx)
	if err != nil {
		return nil, unavailable("not reachable")
	}
	for {
		pos, err := appliedFloor(wctx, pg, r.log, r.cfg)
		if err == nil && pos >= mark {
			break
		}
		select {
		case <-wctx.Done():
			if err != nil {
				return nil, unavailable("not answering")
			}
			return nil, unavailable("the workers have not applied the latest events")
		case <-time.After(20 * time.Millisecond):
		}
	}
	res, err := pg.Erase(ctx, orgID, customerID, postgres.Erasure{NewID: newID, ForClickHouse: r.ch != nil, LogPosition: mark})
	switch code := mailtrail.ErrorCode(err); {
	case err == nil:
		return res, nil
	case code == mailtrail.ENOTFOUND, code == mailtrail.EINVALID:
		return nil, err
	default:
		return nil, unavailable("not answering")
	}
}

// partitionLog is what appliedFloor asks the log: eventlog.Log and eventlog.Reader.
type partitionLog interface {
	NextInPartition(ctx context.Context, partition int, from uint64) (uint64, bool, error)
}

// partitionPosition returns the name of the workers' position in PostgreSQL for
// partition p of cfg's log: positionName's when the log has one partition, with "/p"
// when it has several.
func partitionPosition(cfg *Config, p int) string {
	if cfg.EventLogPartitions <= 1 {
		return positionName(cfg)
	}
	return fmt.Sprintf("%s/%d", positionName(cfg), p)
}

// appliedFloor returns the position of cfg's log up to which the workers have applied
// every message to pg: the position of its one partition, or, with several, the lowest
// over the partitions of the position just before each one's next unapplied message (a
// partition with none does not hold the floor back; math.MaxUint64 when none does).
func appliedFloor(ctx context.Context, pg *postgres.DB, log partitionLog, cfg *Config) (uint64, error) {
	if cfg.EventLogPartitions <= 1 {
		return pg.Position(ctx, positionName(cfg))
	}
	if log == nil {
		return 0, errors.New("the log's partitions cannot be read")
	}
	floor := uint64(math.MaxUint64)
	for p := range cfg.EventLogPartitions {
		pos, err := pg.Position(ctx, partitionPosition(cfg, p))
		if err != nil {
			return 0, err
		}
		next, ok, err := log.NextInPartition(ctx, p, pos+1)
		if err != nil {
			return 0, err
		}
		if ok {
			floor = min(floor, next-1)
		}
	}
	return floor, nil
}

// orgMirrorInterval is how often serve copies its organizations to the workers'
// PostgreSQL (tests shorten it).
var orgMirrorInterval = 5 * time.Second

// mirrorOrgs keeps the workers' PostgreSQL holding every organization of src with its
// settings, as mailtrail cluster copy-orgs does: at once, then every orgMirrorInterval
// (only what changed is written), until ctx ends. A worker retries an event of an
// organization PostgreSQL does not know yet, so a new organization's events are applied
// there within about an interval of its creation. A failure is logged once until it
// changes or the mirror works again.
func (r *logReaders) mirrorOrgs(ctx context.Context, src orgSource, log *slog.Logger) {
	copied := map[string]orgCopy{}
	lastErr := ""
	for {
		pg, err := r.postgres(ctx)
		if err == nil {
			_, err = copyOrgs(ctx, src, pg, copied)
		}
		switch {
		case ctx.Err() != nil:
			return
		case err != nil && err.Error() != lastErr:
			log.Warn("organizations not copied to the workers' PostgreSQL (their events wait there until they are)", "err", err.Error())
			lastErr = err.Error()
		case err == nil:
			lastErr = ""
		}
		t := time.NewTimer(orgMirrorInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// mirroredMessages is where POST /api/v1/messages records messages when serve runs with
// --event-log-url and --postgres-dsn: the data directory's store, then the workers'
// PostgreSQL, before the request is answered. An event that names one of the messages
// (a client can send it only once it has the answer) then finds it in both projections:
// PostgreSQL's skips an event of a message it does not know, as both skip an id they
// never issued. When PostgreSQL does not take them the request is answered 503 (the
// client retries; the messages left in the store are never sent, so never named).
type mirroredMessages struct {
	db  *sqlite.DB
	r   *logReaders
	log *slog.Logger
}

func (m mirroredMessages) OrgSettings(ctx context.Context, orgID string) (*mailtrail.OrgSettings, error) {
	return m.db.OrgSettings(ctx, orgID)
}

func (m mirroredMessages) CreateMessages(ctx context.Context, orgID string, msgs []*mailtrail.Message) error {
	if err := m.db.CreateMessages(ctx, orgID, msgs); err != nil {
		return err
	}
	pg, err := m.r.postgres(ctx)
	if err == nil {
		err = pg.CreateMessages(ctx, orgID, msgs)
		if mailtrail.ErrorCode(err) == mailtrail.ENOTFOUND {
			// An organization newer than the last copy of the organizations.
			_, err = copyOrgs(ctx, m.db, pg, nil)
			if err == nil {
				err = pg.CreateMessages(ctx, orgID, msgs)
			}
		}
	}
	if err != nil {
		m.log.Warn("messages not copied to the workers' PostgreSQL: answered 503", "err", err.Error())
		return mailtrail.Errorf(mailtrail.EUNAVAILABLE, "the messages could not be recorded for the cluster's workers; retry shortly")
	}
	return nil
}

// close closes the pool postgres opened.
func (r *logReaders) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pg != nil {
		r.pg.Close()
	}
}

// forgetEventLog is forget for a data directory the server does not run on (the offline
// erasure, after openOffline applied the log's tail): without a log it does nothing.
func forgetEventLog(ctx context.Context, dataDir string, db *sqlite.DB) error {
	if _, err := os.Stat(filepath.Join(dataDir, eventLogDir)); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	l, err := openEventLog(ctx, dataDir, db, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		return err
	}
	defer l.Close()
	pos, err := db.Position(ctx, projectionStream)
	if err != nil {
		return err
	}
	return l.PurgeBefore(ctx, pos+1)
}

// close closes the log (after the projector stopped).
func (l *logged) close() error {
	if l.readers != nil {
		l.readers.close()
	}
	return l.log.Close()
}

// drainEventLog applies what a data directory's event log holds past the store's position
// when serve runs without --event-log: events acknowledged on the log by an earlier run
// are never left out of the store. Without a log directory it does nothing.
//
// A store that follows a log on an external JetStream (a position named
// externalPositionPrefix + stream) other than follow's is refused: what that stream holds
// past the store's position would be left out. follow is the position name of the log
// the caller runs on ("" for none).
func drainEventLog(ctx context.Context, dataDir string, db *sqlite.DB, log *slog.Logger, follow string) error {
	if err := followsOther(ctx, db, follow); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dataDir, eventLogDir)); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	l, err := openEventLog(ctx, dataDir, db, log, nil)
	if err != nil {
		return err
	}
	defer l.Close()
	head, err := l.Projection().Head(ctx)
	if err != nil {
		return fmt.Errorf("event log: %w", err)
	}
	pos, err := db.Position(ctx, projectionStream)
	if err != nil || pos >= head {
		return err
	}
	log.Info("applying the event log's tail to the store (an earlier run used --event-log)", "from", pos, "to", head)
	var failed error
	p := projector.New(l.Projection(), db, projector.Options{Stream: projectionStream, OnError: func(err error) { failed = err }})
	pctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = p.Run(pctx) }()
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Minute)
	err = p.WaitFor(wctx, head)
	wcancel()
	cancel()
	<-done
	if err != nil {
		return fmt.Errorf("event log: applying its tail: %w (last error: %v)", err, failed)
	}
	return nil
}

// publisher is who publishes committed change-sets to the parts that follow the store:
// the pipeline, or with --event-log the projector.
type publisher interface {
	Subscribe(name string, f func(ingest.ChangeSet))
	Publish(commit func() (ingest.ChangeSet, error)) error
}

// orderedWrites returns h behind the ordering of writes of the API's fresh (see
// internal/httpd/fresh.go): with --event-log, a dashboard request that changes the store
// (anything but GET and HEAD: a suppression removed, a setting changed) first waits until
// the store has applied every event acknowledged before it, at most --read-wait, else it
// is answered 503 with Retry-After.
func (a *app) orderedWrites(h http.Handler) http.Handler {
	caughtUp := a.caughtUp
	if caughtUp == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if err := caughtUp(r.Context(), a.cfg.ReadWait, "the change"); err != nil {
				w.Header().Set("Retry-After", "1")
				http.Error(w, "The store is applying the latest events; try again in a moment.", http.StatusServiceUnavailable)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

// logMark is what the log had acknowledged at a moment: every message up to seq was
// stored by then.
type logMark struct {
	seq uint64
	at  time.Time
}

// logPurger is a log whose applied messages retainLog removes.
type logPurger interface {
	Written() uint64 // the last position stored
	Applied() uint64 // the last position every reader applied
	purge(ctx context.Context, upTo uint64) error
}

// retainLog removes from l, every tick, the messages every reader has applied that were
// acknowledged more than keep ago: the log holds events (addresses, IPs) only as long as
// a replay may need them, and an erased customer's events leave it within keep of the
// erasure (which waits until the store applied them). Until ctx ends.
func retainLog(ctx context.Context, l logPurger, keep, tick time.Duration, log *slog.Logger) {
	t := time.NewTicker(tick)
	defer t.Stop()
	var marks []logMark
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now()
		marks = append(marks, logMark{seq: l.Written(), at: now})
		i := -1
		for j, m := range marks {
			if now.Sub(m.at) >= keep {
				i = j
			}
		}
		if i < 0 {
			continue
		}
		upTo := min(marks[i].seq, l.Applied())
		marks = marks[i+1:]
		if err := l.purge(ctx, upTo); err != nil && ctx.Err() == nil {
			log.Warn("event log retention", "err", err.Error())
		}
	}
}
