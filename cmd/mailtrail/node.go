package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/httpd"
	"github.com/mailtrail/mailtrail/internal/ingest"
	"github.com/mailtrail/mailtrail/internal/metrics"
	"github.com/mailtrail/mailtrail/internal/rungroup"
	"github.com/mailtrail/mailtrail/internal/segment"
	"github.com/mailtrail/mailtrail/internal/store/eventlog"
	"github.com/mailtrail/mailtrail/internal/store/postgres"
)

// apiNode is serve --cluster: an API node with no store of its own. Events are
// acknowledged once the cluster's event log holds them (the same Sink serve --event-log
// appends through), mailtrail worker applies them to PostgreSQL, and everything else the
// handlers read and write is in that PostgreSQL, so every node sees the same. A read
// that must see a write waits until the workers have applied it (appliedFloor) and the
// node has followed the events they inserted (follow) (docs/cluster.md, "API nodes").
type apiNode struct {
	cfg     *Config
	log     *eventlog.Log
	sink    *eventlog.Sink
	pg      *postgres.DB
	readers *logReaders // the workers' positions (and ClickHouse's): purges and erasures wait for them
	lock    *dirLock
	logger  *slog.Logger

	workers  atomic.Uint64 // the workers' floor as last read (at most the log's head read before it)
	followed atomic.Uint64 // what reads on this node see: applied by the workers and followed (see follow)
	head     atomic.Uint64 // the log's last position as last read
	wanted   atomic.Uint64 // the highest position a WaitFor waits for
	kick     chan struct{} // a new WaitFor: read now
	mu       sync.Mutex
	moved    chan struct{} // closed when followed moves, then replaced
}

// nodePoll is how often a node follows the workers (follow) while a read waits for a
// position or its own writes are not followed yet; nodeIdlePoll otherwise.
var (
	nodePoll     = 10 * time.Millisecond
	nodeIdlePoll = 250 * time.Millisecond
)

// newNodeApp wires serve --cluster (see apiNode).
func newNodeApp(ctx context.Context, cfg Config, logOut io.Writer, deps appDeps) (*app, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	lock, err := lockDataDir(cfg.DataDir, "")
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, log: newLogger(&cfg, logOut), metrics: metrics.New()}
	n, err := openNode(ctx, &a.cfg, lock, a.log, a.metrics)
	if err != nil {
		lock.release()
		return nil, err
	}
	a.node, a.st = n, n.pg
	signer, keys, err := a.signing()
	if err == nil {
		err = resealSecrets(ctx, n.pg, keys, a.log)
	}
	enricher, eerr := a.enricher()
	if err == nil {
		err = eerr
	}
	if err != nil {
		a.close()
		return nil, err
	}
	secret, _ := cfg.secret() // --cluster requires --secret-key: read, never generated
	a.pub = &ingest.Subscribers{}
	a.wire(wiring{handlers: func() httpd.Store { return nodeStore{DB: n.pg, n: n, wait: cfg.ReadWait, pub: a.pub, log: a.log} }, sink: n.sink,
		proj: n, caughtUp: n.caughtUp, sessions: n.pg, imports: n.pg, health: n.pg, throttle: n.pg, throttleKey: signInThrottleKey(secret),
		signer: signer, keys: keys, enrich: enricher, deps: deps, logOut: logOut})
	return a, nil
}

// signInThrottleKey keys the digests under which the API nodes count the dashboard's
// refused sign-ins: the same on every node (it comes from the shared secret), and no
// address range can be told from a digest without it.
func signInThrottleKey(secret []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("mailtrail dashboard sign-in throttle"))
	return m.Sum(nil)
}

// openNode connects to the cluster's engines and reads where the workers are.
func openNode(ctx context.Context, cfg *Config, lock *dirLock, logger *slog.Logger, reg *metrics.Registry) (*apiNode, error) {
	pg, err := postgres.Open(ctx, cfg.PostgresDSN, postgres.Options{Schema: cfg.PostgresSchema})
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	l, err := dialExternalLog(ctx, cfg, filepath.Join(cfg.DataDir, externalLogDir), logger, appendMetrics(reg))
	if err != nil {
		pg.Close()
		return nil, err
	}
	readers, err := newLogReaders(cfg)
	if err != nil {
		l.Close()
		pg.Close()
		return nil, fmt.Errorf("cluster: %w", err)
	}
	readers.pg, readers.log = pg, l
	n := &apiNode{cfg: cfg, log: l, pg: pg, readers: readers, lock: lock, logger: logger,
		kick: make(chan struct{}, 1), moved: make(chan struct{})}
	head, floor, err := n.readWorkers(ctx)
	if err != nil {
		n.close()
		return nil, fmt.Errorf("cluster: the workers' position: %w", err)
	}
	n.sink = newDedupeSink(l, eventlog.SinkOptions{Seen: pg.Seen, Applied: n.workers.Load, Keys: pg, MaxPending: cfg.EventLogMaxPending, Shared: true}, reg, logger)
	// What any node acknowledged and the workers have not applied: its keys are
	// duplicates, and reads wait for it.
	if err := n.sink.Resume(ctx, floor); err != nil {
		n.close()
		return nil, fmt.Errorf("cluster: event log: %w", err)
	}
	reg.NewGauge("mailtrail_eventlog_position", "The event log's last position (message sequence) this node acknowledged.", func() float64 { return float64(n.Written()) })
	reg.NewGauge("mailtrail_projection_position", "The last event log position this node's reads see: applied by the workers to PostgreSQL and followed by the node (its event streams, journey waits and segment index).",
		func() float64 { return float64(min(n.Applied(), n.head.Load())) })
	reg.NewGauge("mailtrail_projection_lag", "Event log positions stored but not seen by this node's reads yet (reads that must see a write wait for it, up to --read-wait).",
		func() float64 { return float64(n.head.Load() - min(n.Applied(), n.head.Load())) })
	logger.Info("API node of the cluster", "stream", cfg.EventLogStream, "partitions", cfg.EventLogPartitions, "applied", floor, "head", head)
	return n, nil
}

// readWorkers reads the log's head, then the workers' floor (appliedFloor) at most that
// head: with nothing unapplied, every message up to the head read before is applied, and
// one appended since may not be. It records both (head, workers).
func (n *apiNode) readWorkers(ctx context.Context) (head, floor uint64, err error) {
	if head, err = n.log.StreamHead(ctx); err != nil {
		return 0, 0, err
	}
	n.head.Store(head)
	if floor, err = appliedFloor(ctx, n.pg, n.log, n.cfg); err != nil {
		return 0, 0, err
	}
	floor = min(floor, head)
	n.workers.Store(floor)
	return head, floor, nil
}

// Written returns the position of the last batch this node's log acknowledged.
func (n *apiNode) Written() uint64 { return n.sink.Last() }

// Applied returns the position this node's reads see: every message up to it is in
// PostgreSQL, and the node has followed its events (follow).
func (n *apiNode) Applied() uint64 { return n.followed.Load() }

// WaitFor waits until the node's reads see pos.
func (n *apiNode) WaitFor(ctx context.Context, pos uint64) error {
	for {
		n.mu.Lock()
		moved := n.moved
		n.mu.Unlock()
		if n.followed.Load() >= pos {
			return nil
		}
		for w := n.wanted.Load(); w < pos && !n.wanted.CompareAndSwap(w, pos); w = n.wanted.Load() {
		}
		select {
		case n.kick <- struct{}{}:
		default:
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-moved:
		}
	}
}

// caughtUp waits, at most wait, until the workers have applied every write this node
// acknowledged (see logged.caughtUp).
func (n *apiNode) caughtUp(ctx context.Context, wait time.Duration, what string) error {
	return waitCaughtUp(ctx, n, wait, what)
}

// follow keeps this node current with what the workers commit, which it does not see
// otherwise, until ctx ends. Each round it reads the workers' position (appliedFloor)
// and the last event id their transactions inserted, then the stream's new events (Feed,
// up to StreamEnd: never past an event still being committed). It wakes the event
// streams (SSE) of their organizations and the journey waits they may answer, wakes the
// webhook dispatcher, and has the segment index follow their organizations. Once it has
// read past that last id, the node's reads see the workers' position (Applied, WaitFor).
// When the store's generation moves (an erasure on any node) the segment index is built
// again, so no node keeps an erased customer's former id. A round runs at each commit of
// the workers (listen), and every nodePoll while a read waits or the node's own writes
// are not seen yet, else every nodeIdlePoll.
func (n *apiNode) follow(ctx context.Context, a *app, seg *nodeSegments) {
	var quiet quietRetries
	var cursor, gen int64
	pending := map[string]bool{} // organizations with events the segment index has not followed
	for {
		var err error
		var orgs []mailtrail.Organization
		if cursor, err = n.pg.StreamEnd(ctx); err == nil {
			gen, err = n.pg.Generation(ctx)
		}
		if err == nil {
			orgs, err = n.pg.Orgs(ctx)
		}
		if err == nil {
			// The index, built or loaded, may stop short of the cursor: each organization
			// is followed up to it once (Follow skips those it has read up to it).
			for _, o := range orgs {
				pending[o.ID] = true
			}
			break
		}
		quiet.warn(n.logger, "cannot read the store's stream; reads that wait for a position answer 503 meanwhile", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
	names := make([]string, n.cfg.EventLogPartitions)
	for p := range names {
		names[p] = partitionPosition(n.cfg, p)
	}
	// The workers' commits wake the loop at once (LISTEN/NOTIFY); the poll is the fallback.
	go n.listen(ctx)
	erasures := a.metrics.NewCounter("mailtrail_node_segment_erasures_total", "Erasures in the cluster that this node's segment index followed, by how: renamed in place, or by building the index again (the rename was removed already, or a tail named the new id first).", "how")
	erasures.Init("renamed")
	erasures.Init("rebuilt")
	var rebuilding atomic.Bool
	var builds sync.WaitGroup // index builds and snapshot writes in progress
	t := time.NewTimer(0)
	defer t.Stop()
	// at is where the index stood after the last round, when it had followed every
	// organization up to the cursor with the renames of the current generation: where a
	// snapshot may be written.
	var at *segment.Position
	lastSnap := time.Now()
	for {
		select {
		case <-ctx.Done():
			builds.Wait()
			if at != nil && !seg.writing.Load() && a.segments.Ready() {
				seg.write(*at, true, nil) // at a clean stop
			}
			return
		case <-t.C:
		case <-n.kick:
		}
		_, floor, err := n.readWorkers(ctx)
		var lastApplied, end int64
		if err == nil {
			lastApplied, err = n.pg.AppliedEvent(ctx, names)
		}
		if err == nil {
			end, err = n.pg.StreamEnd(ctx)
		}
		for err == nil && cursor < end {
			// The events themselves only for journey waits: the streams, the dispatcher
			// and the segment index need their organizations. A wait registered while
			// the organizations were read has the events read again, whole: one
			// registered after that asks the store after these events were committed.
			var orgs []string
			var last int64
			whole := a.journeys.Len() > 0
			if !whole {
				orgs, last, err = n.pg.FeedOrgs(ctx, cursor, end, 5000)
				whole = err == nil && a.journeys.Len() > 0
			}
			if whole {
				var evs []*mailtrail.Event
				if evs, last, err = n.pg.Feed(ctx, cursor, end, 1000); err == nil {
					orgs = orgsOf(evs)
					a.journeys.Notify(evs)
				}
			}
			if err != nil {
				break
			}
			if len(orgs) > 0 {
				a.hub.Notify(orgs...)
				a.outbound.Wake()
				for _, o := range orgs {
					pending[o] = true
				}
			}
			cursor = last
		}
		if err == nil && len(pending) > 0 && !rebuilding.Load() && !seg.writing.Load() && a.segments.Ready() {
			orgs := make([]string, 0, len(pending))
			for o := range pending {
				orgs = append(orgs, o)
			}
			if _, err = a.segments.Follow(ctx, orgs, cursor); err == nil {
				clear(pending)
			}
		}
		if err == nil && cursor >= lastApplied && floor > n.followed.Load() {
			n.followed.Store(floor)
			n.mu.Lock()
			close(n.moved)
			n.moved = make(chan struct{})
			n.mu.Unlock()
		}
		var g int64
		if err == nil {
			g, err = n.pg.Generation(ctx)
		}
		if err == nil && g != gen && !rebuilding.Load() && !seg.writing.Load() && a.segments.Ready() {
			// Customers were erased (on any node): the snapshot, which names them, goes;
			// the index renames them, or, when it cannot (renamed too long ago, or
			// followed under the new id already), is built again.
			seg.remove()
			var renames []mailtrail.ErasedCustomer
			complete := false
			if renames, complete, err = n.pg.Renames(ctx, gen, g); err == nil {
				for _, r := range renames {
					complete = complete && a.segments.Renamed(r.OrgID, r.OldID, r.NewID)
				}
				how := "renamed"
				if !complete {
					how = "rebuilt"
				}
				erasures.Add(g-gen, how)
				gen = g
				if !complete {
					rebuilding.Store(true)
					builds.Add(1)
					go func() {
						defer builds.Done()
						defer rebuilding.Store(false)
						n.logger.Info("segment index: customers were erased that it cannot rename; building it again")
						buildSegmentIndex(ctx, a.segments, n.logger)
					}()
				}
			}
		}
		at = nil
		if err == nil && g == gen && len(pending) == 0 && !rebuilding.Load() && !seg.writing.Load() && a.segments.Ready() {
			at = &segment.Position{LastEventID: cursor, Generation: gen}
			if every := n.cfg.SegmentSnapshotInterval; every > 0 && time.Since(lastSnap) >= every {
				lastSnap = time.Now()
				seg.write(*at, false, &builds)
			}
		}
		if err != nil && ctx.Err() == nil {
			quiet.warn(n.logger, "cannot follow the workers; reads that wait for a position answer 503 meanwhile", err)
		}
		wait := nodeIdlePoll
		if f := n.followed.Load(); f < n.Written() || f < n.wanted.Load() {
			wait = nodePoll
		}
		if !t.Stop() {
			select {
			case <-t.C:
			default:
			}
		}
		t.Reset(wait)
	}
}

// listen kicks the follow loop at every projection write the workers commit, until ctx
// ends; a lost connection is listened on again after a second.
func (n *apiNode) listen(ctx context.Context) {
	var quiet quietRetries
	for ctx.Err() == nil {
		err := n.pg.Listen(ctx, func() {
			select {
			case n.kick <- struct{}{}:
			default:
			}
		})
		if err != nil && ctx.Err() == nil {
			quiet.warn(n.logger, "cannot listen for the workers' commits; following them by polling meanwhile", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
}

// purge removes from the log every message up to upTo that every reader (the workers'
// PostgreSQL, ClickHouse's shipment) has applied. A floor of math.MaxUint64 (nothing
// unapplied anywhere) stands for the log's head as read before it: a message stored
// after that read may not be applied yet.
func (n *apiNode) purge(ctx context.Context, upTo uint64) error {
	head, err := n.log.StreamHead(ctx)
	if err != nil {
		return fmt.Errorf("event log: nothing purged: %w", err)
	}
	floor, err := n.readers.floor(ctx)
	if err != nil {
		return fmt.Errorf("event log: nothing purged: %w", err)
	}
	upTo = min(upTo, floor, head)
	if upTo == 0 {
		return nil
	}
	return n.log.PurgeBefore(ctx, upTo+1)
}

// retained is the node's log as retainLog sees it: every node's messages, purged once
// the workers applied them.
type retained struct{ n *apiNode }

func (r retained) Written() uint64                              { return r.n.head.Load() }
func (r retained) Applied() uint64                              { return r.n.workers.Load() }
func (r retained) purge(ctx context.Context, upTo uint64) error { return r.n.purge(ctx, upTo) }

// close closes the log, PostgreSQL and the data directory's ownership.
func (n *apiNode) close() error {
	var err error
	if n.log != nil {
		err = n.log.Close()
	}
	n.pg.Close()
	n.lock.release()
	return err
}

// nodeStore is the store an API node's handlers use: the cluster's PostgreSQL, with
// erasures that wait for the workers and then leave the log (as serve's erasingStore).
type nodeStore struct {
	*postgres.DB
	n    *apiNode
	wait time.Duration
	pub  publisher
	log  *slog.Logger
}

// EraseCustomer erases the customer in PostgreSQL once the workers have applied every
// event this node acknowledged (within --read-wait, else 503), queues the erasure for
// ClickHouse, publishes it (the node's segment index renames the customer), and removes
// the applied messages, the customer's among them, from the log.
func (s nodeStore) EraseCustomer(ctx context.Context, orgID, customerID string) (*mailtrail.EraseResult, error) {
	var res *mailtrail.EraseResult
	err := s.pub.Publish(func() (ingest.ChangeSet, error) {
		var err error
		if res, err = s.n.readers.eraseAt(ctx, s.n.Written(), s.wait, orgID, customerID, ""); err != nil {
			return ingest.ChangeSet{}, err
		}
		return ingest.ChangeSet{Erased: []mailtrail.ErasedCustomer{res.Customer}}, nil
	})
	if err != nil {
		return nil, err
	}
	if ferr := s.n.purge(context.WithoutCancel(ctx), math.MaxUint64); ferr != nil {
		s.log.Warn("erasure: the applied messages stay in the event log until its retention removes them", "err", ferr.Error())
	}
	return res, nil
}

// nodeParts are serve --cluster's background parts, stopped in the reverse order (see
// serveParts): the HTTP server, the metrics listener, the bounce mailboxes, the pipeline
// (its queue drains into the log), then what reads PostgreSQL. The webhook deliveries,
// the bounce mailboxes and the log's retention each run on one node at a time, under a
// lease in PostgreSQL; a node that holds none takes one over when its holder stops or
// dies. Retention of raw events and idempotency keys is the workers' (mailtrail worker).
func nodeParts(a *app, srv *http.Server, ln, mln net.Listener) *rungroup.Group {
	var g rungroup.Group
	n := a.node
	var outboundHeld, mailboxHeld, retentionHeld atomic.Bool
	g.Add(rungroup.Part{Name: "outbound", Run: func(ctx context.Context) error {
		return holdLease(ctx, n.pg, a.log, "API node", "outbound webhooks", &outboundHeld, func(ctx context.Context) error {
			a.outbound.Run(ctx)
			return nil
		})
	}})
	seg := newNodeSegments(a)
	g.Add(rungroup.Part{Name: "segments", Run: func(ctx context.Context) error {
		if seg.load(ctx) || buildSegmentIndex(ctx, a.segments, a.log) {
			a.segments.Run(ctx)
		}
		return nil
	}})
	// What this node records of the webhooks joins the other nodes' every second; stopped
	// after the HTTP server, it adds what was left.
	g.Add(rungroup.Part{Name: "webhook-health", Run: func(ctx context.Context) error {
		var quiet quietRetries
		a.conns.ShareHealth(ctx, time.Second, func(err error) {
			quiet.warn(a.log, "webhook health not shared with the other nodes yet (kept for the next try)", err)
		})
		return nil
	}})
	// The sink's filter of PostgreSQL's keys, which spares each new keyed event a lookup
	// there: built in the background (until then every key is looked up), built again
	// larger as it fills.
	g.Add(rungroup.Part{Name: "dedupe-filter", Run: func(ctx context.Context) error {
		n.sink.KeepFilter(ctx)
		return nil
	}})
	g.Add(rungroup.Part{Name: "follow", Run: func(ctx context.Context) error {
		a.parts.run("follow", func() { n.follow(ctx, a, seg) })
		return nil
	}})
	g.Add(rungroup.Part{Name: "eventlog-retention", Run: func(ctx context.Context) error {
		return holdLease(ctx, n.pg, a.log, "API node", "event log retention", &retentionHeld, func(ctx context.Context) error {
			retainEventLog(ctx, a, retained{n})
			return nil
		})
	}})
	g.Add(pipelinePart(a, func() {}))
	g.Add(mailboxPart(a, func(ctx context.Context) error {
		return holdLease(ctx, n.pg, a.log, "API node", "bounce mailboxes", &mailboxHeld, func(ctx context.Context) error {
			a.mailbox.Run(ctx)
			return nil
		})
	}))
	a.metrics.NewGaugeVec("mailtrail_node_leases_held", "1 for each lease in PostgreSQL this API node holds (outbound webhooks, bounce mailboxes, event log retention: one node at a time each).", "lease",
		func() map[string]float64 {
			return map[string]float64{"outbound webhooks": boolFloat(outboundHeld.Load()), "bounce mailboxes": boolFloat(mailboxHeld.Load()),
				"event log retention": boolFloat(retentionHeld.Load())}
		})
	if mln != nil {
		g.Add(metricsPart(a, mln))
	}
	g.Add(httpPart(a, srv, ln))
	return &g
}
