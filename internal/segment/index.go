package segment

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mailtrail/mailtrail"
)

// StoredEvent is a counted event as the store holds it, for loading the index.
type StoredEvent struct {
	ID       int64 // the store's event row id: it grows with commit order
	Customer int64 // the store's customer row id
	Campaign int64 // the store's campaign row id
	Type     mailtrail.EventType
	At       int64 // occurred_at, unix ms
	Human    bool  // class human or '' (opens and clicks)
	Link     string
}

// Source is what building the index needs from the store. Every method reads committed
// state only.
type Source interface {
	// Orgs lists the organizations.
	Orgs(ctx context.Context) ([]mailtrail.Organization, error)
	// SegmentCustomers calls fn for the organization's customers with a row id above
	// after, in row id order.
	SegmentCustomers(ctx context.Context, orgID string, after int64, fn func(row int64, ext string)) error
	// SegmentCampaigns calls fn for every campaign of the organization.
	SegmentCampaigns(ctx context.Context, orgID string, fn func(row int64, name string)) error
	// SegmentEvents calls fn for the counted events the index holds (Indexed: not dated
	// more than mailtrail.MaxFutureSkew after their arrival) among at most limit events
	// of the organization with after < ID ≤ upTo, in ID order, and returns how many it
	// read and the last ID.
	SegmentEvents(ctx context.Context, orgID string, after, upTo int64, limit int, fn func(*StoredEvent)) (n int, last int64, err error)
	// LastEventID returns the largest event row id committed.
	LastEventID(ctx context.Context) (int64, error)
	// SegmentHorizons returns the retention and floor of every organization (see
	// Horizon), by public id; one it does not name keeps every day.
	SegmentHorizons(ctx context.Context) (map[string]Horizon, error)
	// SegmentTail calls fn, for an organization, with every counted event of after < ID
	// ≤ upTo in ID order, then (Relabel set) with every counted click of ID ≤ after of
	// the messages those events belong to, with its label as stored now: what a snapshot
	// taken at after needs to become the index at upTo. Like SegmentEvents, only events
	// the index holds (Indexed).
	SegmentTail(ctx context.Context, orgID string, after, upTo int64, fn func(*TailEvent)) error
}

// TailEvent is a counted event read by SegmentTail, named as the index names things.
type TailEvent struct {
	Customer, Campaign, Link string
	Type                     mailtrail.EventType
	At                       int64 // occurred_at, unix ms
	Human                    bool
	// Relabel: a click the snapshot holds already, with the label it has now.
	Relabel bool
}

// liveEvent is what the index keeps of a committed event until it applies it.
type liveEvent struct {
	org, cust, camp, link string
	typ                   mailtrail.EventType
	at                    int64
	human                 bool
	relabel               bool   // a click already added, now labelled human (or not)
	rename                string // an erased customer's new id (cust is the old one)
}

// batch is one committed batch. Until the index is built, tag is the store's last event
// id right after the batch committed: the batch's events have ids ≤ tag, above any id
// committed before it, so Build read them all if tag ≤ the last id it loaded.
type batch struct {
	tagged bool
	tag    int64
	evs    []liveEvent
}

// Index is the engagement index of every organization. Observe feeds it committed
// events; Build loads it from the store; queries answer EUNAVAILABLE until Build is done.
type Index struct {
	src Source
	log *slog.Logger
	now func() time.Time // the clock of Build, LoadSnapshot and Run's forgetting (SetClock)

	mu     sync.RWMutex
	orgs   map[string]*Org
	upTo   map[string]int64 // per organization, the last event id Build loaded
	ready  bool
	failed error

	hmu      sync.RWMutex
	horizons map[string]Horizon // by organization, as last read from the store

	fmu      sync.Mutex  // held by Flush throughout: a query's Flush waits for one in flight
	paused   atomic.Bool // Pause: observed events wait, queries answer without them
	pmu      sync.Mutex
	dead     bool // Build failed: nothing is kept
	live     bool // Build is done: batches need no tag
	pending  []batch
	npending int
	wake     chan struct{}
}

// New returns an empty index reading from src. It is not ready until Build returns.
func New(src Source, log *slog.Logger) *Index {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Index{src: src, log: log, now: time.Now, orgs: map[string]*Org{}, upTo: map[string]int64{}, wake: make(chan struct{}, 1)}
}

// SetClock makes now the clock the index forgets by when no query names the time (Build,
// LoadSnapshot, Run): the clock queries pass their now from. Call it before Build.
func (x *Index) SetClock(now func() time.Time) { x.now = now }

// Observe takes a batch of committed events (duplicates excluded) and the stored clicks
// the same commit relabelled, which are applied after the batch's own events. It never
// waits for a query: they are queued and applied by Run or by the next set query. Until
// the index is built it asks the store for the last event id once per batch.
func (x *Index) Observe(evs []*mailtrail.Event, relabels []mailtrail.ClickRelabel) {
	b := batch{evs: make([]liveEvent, 0, len(evs)+len(relabels))}
	for _, ev := range evs {
		if !ev.Counted || !ev.Type.Valid() {
			continue
		}
		if !ev.ReceivedAt.IsZero() && !Indexed(ev.OccurredAt.UnixMilli(), ev.ReceivedAt.UnixMilli()) {
			continue
		}
		le := liveEvent{org: ev.OrgID, cust: ev.CustomerID, camp: ev.CampaignID, typ: ev.Type, at: ev.OccurredAt.UnixMilli(), human: ev.IsHuman()}
		if ev.Type == mailtrail.EventClicked {
			le.link = ev.Metadata.LinkURL
		}
		b.evs = append(b.evs, le)
	}
	for _, r := range relabels {
		b.evs = append(b.evs, liveEvent{org: r.OrgID, cust: r.CustomerID, camp: r.CampaignID, link: r.LinkURL,
			typ: mailtrail.EventClicked, at: r.At, human: r.Human, relabel: true})
	}
	if len(b.evs) == 0 {
		return
	}
	x.pmu.Lock()
	if x.dead {
		x.pmu.Unlock()
		return
	}
	if !x.live {
		b.tagged = true
		var err error
		if b.tag, err = x.src.LastEventID(context.Background()); err != nil {
			b.tagged = false // applied whole: bitmaps are idempotent, a log may double
			x.log.Error("segment index: last event id", "err", err.Error())
		}
	}
	x.pending = append(x.pending, b)
	x.npending += len(b.evs)
	x.pmu.Unlock()
	select {
	case x.wake <- struct{}{}:
	default:
	}
}

// Rename gives customerID, erased, its new id. Like events, it is applied by Run or by
// the next set query (which never names the old id again); it never waits for a query.
func (x *Index) Rename(orgID, customerID, newID string) {
	x.pmu.Lock()
	if x.dead {
		x.pmu.Unlock()
		return
	}
	x.pending = append(x.pending, batch{evs: []liveEvent{{org: orgID, cust: customerID, rename: newID}}})
	x.pmu.Unlock()
	select {
	case x.wake <- struct{}{}:
	default:
	}
}

// Run applies observed events as they come until ctx ends, and every HorizonInterval
// reads the organizations' retention again and forgets what it drops.
func (x *Index) Run(ctx context.Context) {
	tick := time.NewTicker(HorizonInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-x.wake:
			x.Flush()
		case <-tick.C:
			if err := x.RefreshHorizons(ctx); err != nil && ctx.Err() == nil {
				x.log.Warn("segment index: retention of the organizations not read; the last one read applies", "err", err.Error())
			}
		}
	}
}

// Flush applies every observed event now (once the index is built). While the index is
// paused (Pause) it applies nothing and returns at once.
func (x *Index) Flush() {
	x.mu.RLock()
	ready := x.ready
	x.mu.RUnlock()
	if !ready || x.paused.Load() {
		return
	}
	// Another Flush (Run's) may have taken the pending batches and not applied them yet:
	// wait for it, so that an answer includes every event observed before the query.
	x.fmu.Lock()
	defer x.fmu.Unlock()
	if x.paused.Load() {
		return
	}
	x.pmu.Lock()
	list := x.pending
	x.pending, x.npending = nil, 0
	x.pmu.Unlock()
	if len(list) == 0 {
		return
	}
	byOrg := map[string][]liveEvent{}
	x.mu.RLock()
	for _, b := range list {
		for _, e := range b.evs {
			if b.tagged && b.tag <= x.upTo[e.org] {
				continue // Build read it from the store
			}
			byOrg[e.org] = append(byOrg[e.org], e)
		}
	}
	x.mu.RUnlock()
	for org, evs := range byOrg {
		o := x.org(org)
		o.mu.Lock()
		var renames []liveEvent
		for _, e := range evs {
			if e.rename != "" {
				renames = append(renames, e)
				continue
			}
			var link uint32
			if e.link != "" {
				link = o.link(e.link)
			}
			if e.relabel {
				o.relabel(o.customer(e.cust), o.campaign(e.camp), link, e.at, e.human)
				continue
			}
			o.add(o.customer(e.cust), o.campaign(e.camp), link, e.typ, e.at, e.human)
		}
		// After the adds: events of the old id committed before the erasure may be
		// drained with it.
		for _, e := range renames {
			o.rename(e.cust, e.rename)
		}
		o.mu.Unlock()
	}
}

// Pause applies every event observed so far, then applies no more until resume is
// called: the index stays exactly as it is (events observed meanwhile wait, and queries
// answer without them), so that a snapshot of it can be written while commits go on.
// The caller makes sure nothing is observed between its cut and Pause (serve pauses
// inside the publisher's commit order). resume applies what waited.
func (x *Index) Pause() (resume func()) {
	x.Flush()
	x.paused.Store(true)
	x.fmu.Lock()
	var once sync.Once
	return func() {
		once.Do(func() {
			x.paused.Store(false)
			x.fmu.Unlock()
			select {
			case x.wake <- struct{}{}:
			default:
			}
		})
	}
}

// org returns the organization's index, creating an empty one.
func (x *Index) org(id string) *Org {
	x.mu.RLock()
	o := x.orgs[id]
	x.mu.RUnlock()
	if o != nil {
		return o
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if o = x.orgs[id]; o == nil {
		o = newOrg()
		x.orgs[id] = o
	}
	return o
}

// Ready reports whether Build has finished.
func (x *Index) Ready() bool {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.ready
}

// Org returns the organization's index once the index is ready: EUNAVAILABLE before.
func (x *Index) Org(orgID string) (*Org, error) {
	x.mu.RLock()
	ready, failed := x.ready, x.failed
	x.mu.RUnlock()
	if failed != nil {
		return nil, mailtrail.Errorf(mailtrail.EUNAVAILABLE, "segment index failed to load; see the server log")
	}
	if !ready {
		return nil, mailtrail.Errorf(mailtrail.EUNAVAILABLE, "segment index warming up")
	}
	return x.org(orgID), nil
}

// Build loads every organization from the store, then applies what was observed
// meanwhile and marks the index ready. Progress is logged every few million events.
func (x *Index) Build(ctx context.Context, chunk int) error {
	if chunk <= 0 {
		chunk = 50_000
	}
	err := x.build(ctx, chunk)
	x.mu.Lock()
	if err != nil {
		x.failed = err
	} else {
		x.ready = true
	}
	x.mu.Unlock()
	x.pmu.Lock()
	x.live = err == nil
	if err != nil {
		x.dead, x.pending = true, nil
	}
	x.pmu.Unlock()
	if err != nil {
		return err
	}
	x.Flush()
	return nil
}

func (x *Index) build(ctx context.Context, chunk int) error {
	start := time.Now()
	if err := x.readHorizons(ctx); err != nil {
		return err
	}
	orgs, err := x.src.Orgs(ctx)
	if err != nil {
		return fmt.Errorf("segment: organizations: %w", err)
	}
	var total int64
	for _, org := range orgs {
		o, upTo, err := x.load(ctx, org.ID, chunk, &total)
		if err != nil {
			return err
		}
		x.mu.Lock()
		x.orgs[org.ID], x.upTo[org.ID] = o, upTo
		x.mu.Unlock()
	}
	x.log.Info("segment index ready", "organizations", len(orgs), "events", total, "took", time.Since(start).Round(time.Millisecond).String())
	return nil
}

// load reads one organization's customers, campaigns and counted events up to the last
// event id committed when it starts.
func (x *Index) load(ctx context.Context, orgID string, chunk int, total *int64) (*Org, int64, error) {
	upTo, err := x.src.LastEventID(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("segment: last event: %w", err)
	}
	o := newOrg()
	o.bulk = true
	o.first = x.horizon(orgID).FirstDay(x.now())
	var rows []int64 // customer row ids in order; dense id = position
	addCust := func(row int64, ext string) {
		rows = append(rows, row)
		o.customer(ext)
	}
	if err := x.src.SegmentCustomers(ctx, orgID, 0, addCust); err != nil {
		return nil, 0, fmt.Errorf("segment: customers: %w", err)
	}
	camps := map[int64]uint32{}
	loadCamps := func() error {
		return x.src.SegmentCampaigns(ctx, orgID, func(row int64, name string) { camps[row] = o.campaign(name) })
	}
	if err := loadCamps(); err != nil {
		return nil, 0, fmt.Errorf("segment: campaigns: %w", err)
	}
	dense := func(row int64) (uint32, bool) {
		lo, hi := 0, len(rows)
		for lo < hi {
			m := (lo + hi) / 2
			if rows[m] < row {
				lo = m + 1
			} else {
				hi = m
			}
		}
		return uint32(lo), lo < len(rows) && rows[lo] == row
	}
	var missing bool
	var after int64
	nextLog := int64(5_000_000)
	for {
		var evs []StoredEvent
		n, last, err := x.src.SegmentEvents(ctx, orgID, after, upTo, chunk, func(e *StoredEvent) { evs = append(evs, *e) })
		if err != nil {
			return nil, 0, fmt.Errorf("segment: events: %w", err)
		}
		for i := range evs {
			e := &evs[i]
			if len(rows) == 0 || e.Customer > rows[len(rows)-1] {
				var lastRow int64
				if len(rows) > 0 {
					lastRow = rows[len(rows)-1]
				}
				if err := x.src.SegmentCustomers(ctx, orgID, lastRow, addCust); err != nil {
					return nil, 0, fmt.Errorf("segment: customers: %w", err)
				}
			}
			cust, ok := dense(e.Customer)
			if !ok {
				missing = true
				continue
			}
			camp, ok := camps[e.Campaign]
			if !ok {
				if err := loadCamps(); err != nil {
					return nil, 0, fmt.Errorf("segment: campaigns: %w", err)
				}
				if camp, ok = camps[e.Campaign]; !ok {
					missing = true
					continue
				}
			}
			var link uint32
			if e.Link != "" {
				link = o.link(e.Link)
			}
			o.add(cust, camp, link, e.Type, e.At, e.Human)
		}
		*total += int64(len(evs))
		if *total >= nextLog {
			x.log.Info("segment index loading", "events", *total)
			nextLog += 5_000_000
		}
		if n < chunk {
			break
		}
		after = last
	}
	if missing {
		x.log.Warn("segment index: events of unknown customers or campaigns skipped", "org", orgID)
	}
	o.finish()
	return o, upTo, nil
}
