package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/ingest"
	"github.com/mailtrail/mailtrail/internal/store/sqlite"
)

// campaign is one campaign of a built store. Everything about recipient i (message id,
// customer, links, every event) is a function of (seed, i), so nothing is kept per
// recipient.
type campaign struct {
	Name     string `json:"name"`
	Prefix   byte   `json:"prefix"` // first character of its message ids
	N        int    `json:"recipients"`
	Start    int64  `json:"start_ms"`     // first send, unix ms
	SendSpan int64  `json:"send_span_ms"` // sends go out evenly over this time
	Seed     uint64 `json:"seed"`
	linkSets [3][]string
}

// linkPaths are a campaign's link targets; a message carries the first 3, 4 or 5.
var linkPaths = []string{"sale", "product/espresso-machine", "product/grinder", "blog/brewing-guide", "stores", "preferences"}

func (c *campaign) init() {
	for k := range c.linkSets {
		for _, p := range linkPaths[:3+k] {
			c.linkSets[k] = append(c.linkSets[k], "https://shop.example.com/"+p+"?utm_source=email&utm_campaign="+c.Name)
		}
	}
}

// msgID is the public id of recipient i's message: 16 base64url characters (12 bytes).
func (c *campaign) msgID(i int) string { return fmt.Sprintf("%c%015d", c.Prefix, i) }

func (c *campaign) links(i int) []string {
	r := newRNG(c.Seed^0x5eed, uint64(i))
	return c.linkSets[r.intn(3)]
}

// Campaigns share their customers: recipient i of every campaign is customer i.
func customerID(i int) string    { return "cust-" + strconv.Itoa(i) }
func customerEmail(i int) string { return "user" + strconv.Itoa(i) + "@example.com" }

// model is the shape of a campaign's events. Shares are of all recipients.
type model struct {
	Span       int64   `json:"span_ms"`    // engagement after the first send
	Bounce     float64 `json:"bounce"`     // recipients bounced (no delivery, no opens)
	HardShare  float64 `json:"hard_share"` // of bounces
	Openers    float64 `json:"openers"`
	Clickers   float64 `json:"clickers"` // all among openers
	Complaints float64 `json:"complaints"`
	Unsubs     float64 `json:"unsubs"`
	OpensMean  float64 `json:"opens_per_opener"` // 1..3, fitted to the events target
}

// clickCountShare: 1, 2 or 3 clicks per clicker (percent); mean 1.5.
var clickCountShare = []int{60, 30, 10}

func defaultModel() model {
	return model{Span: (7 * 24 * time.Hour).Milliseconds(), Bounce: 0.03, HardShare: 0.3,
		Openers: 0.40, Clickers: 0.08, Complaints: 0.0005, Unsubs: 0.003}
}

// fit sets OpensMean so that a recipient has perRecipient events on average: sent, then
// delivered or bounced, then opens, clicks, complaints and unsubscribes. It returns an
// error when that needs fewer than 1 or more than 3 opens per opener.
func (m *model) fit(perRecipient float64) error {
	rest := perRecipient - 2 - m.Clickers*1.5 - (1-m.Bounce)*(m.Complaints+m.Unsubs)
	m.OpensMean = rest / m.Openers
	if m.OpensMean < 1 || m.OpensMean > 3 {
		return fmt.Errorf("%.2f events per recipient needs %.2f opens per opener; the model allows 1 to 3 (about 2.5 to 3.3 events per recipient)", perRecipient, m.OpensMean)
	}
	return nil
}

// drawOpens returns 1 + Binomial(2, (mean-1)/2): 1 to 3 opens of the fitted mean.
func (m *model) drawOpens(r *rng) int {
	q := (m.OpensMean - 1) / 2
	n := 1
	for range 2 {
		if r.float() < q {
			n++
		}
	}
	return n
}

// plan is one event of a recipient: its time, type and what it needs to be built.
type plan struct {
	at   int64 // unix ms
	typ  mailtrail.EventType
	hard bool   // bounce
	link uint8  // click
	seed uint64 // the event's own draws: agent variant, proxy address
}

const maxPlans = 12

// schedule computes every event of recipient i of c into out and returns how many there
// are and the recipient's profile. Same inputs, same output.
func (m *model) schedule(c *campaign, i int, out *[maxPlans]plan) (int, profile) {
	r := newRNG(c.Seed, uint64(i))
	p := newProfile(&r)
	n := 0
	add := func(at int64, typ mailtrail.EventType) *plan {
		out[n] = plan{at: at, typ: typ, seed: r.next()}
		n++
		return &out[n-1]
	}
	end := c.Start + m.Span
	uBounce, uHard, uOpen, uClick, uComp, uUnsub := r.float(), r.float(), r.float(), r.float(), r.float(), r.float()
	send := c.Start + c.SendSpan*int64(i)/int64(c.N)
	add(send, mailtrail.EventSent)
	if uBounce < m.Bounce {
		add(send+2_000+int64(r.exp(20_000)), mailtrail.EventBounced).hard = uHard < m.HardShare
		return n, p
	}
	deliv := send + 1_000 + min(int64(r.exp(4_000)), 60_000)
	add(deliv, mailtrail.EventDelivered)
	var opens [3]int64
	no := 0
	if uOpen < m.Openers/(1-m.Bounce) {
		var t int64
		if p.openKind == openMPP {
			t = deliv + r.between(5_000, 20*60_000) // the proxy prefetches soon after delivery
		} else {
			t = deliv + 30_000 + int64(r.exp(float64(6*time.Hour.Milliseconds())))
			if t >= end {
				t = r.between(deliv, end)
			}
		}
		for k := m.drawOpens(&r); no < k; no++ {
			if no > 0 {
				next := t + 60_000 + int64(r.exp(float64(10*time.Hour.Milliseconds())))
				if next >= end {
					next = r.between(t, max(end, t+60_000))
				}
				t = next
			}
			add(t, mailtrail.EventOpened)
			opens[no] = t
		}
		if uClick < m.Clickers/m.Openers {
			nc, nl := 1+pickKind(&r, clickCountShare), len(c.links(i))
			if p.scannerClicks() {
				// A gateway scanner follows the links within seconds of delivery.
				t, first := deliv+r.between(300, 2_500), r.intn(nl)
				for j := range nc {
					add(t, mailtrail.EventClicked).link = uint8((first + j) % nl)
					t += r.between(50, 400)
				}
			} else {
				read := opens[no-1] // the last open: an MPP recipient's first is the prefetch
				if no > 1 && p.openKind != openMPP {
					read = opens[r.intn(no)]
				}
				t := read + r.between(5_000, 5*60_000)
				for range nc {
					add(t, mailtrail.EventClicked).link = uint8(r.intn(nl))
					t += r.between(5_000, 3*60_000)
				}
			}
		}
	}
	if uComp < m.Complaints/(1-m.Bounce) {
		add(min(deliv+60_000+int64(r.exp(float64(24*time.Hour.Milliseconds()))), end), mailtrail.EventComplained)
	}
	if uUnsub < m.Unsubs/(1-m.Bounce) {
		base := deliv + int64(r.exp(float64(24*time.Hour.Milliseconds())))
		if no > 0 {
			base = opens[no-1]
		}
		add(min(base+r.between(10_000, 10*60_000), end), mailtrail.EventUnsubscribed)
	}
	return n, p
}

// builder writes the campaigns of a store: messages, then every event in time order.
type builder struct {
	db     *sqlite.DB
	org    string
	td     *trafficData
	m      model
	camps  []*campaign
	batch  int
	enrich func(*mailtrail.Event)
}

// event builds the event of plan p of recipient i as the server would have received it:
// normalized, then enriched.
func (b *builder) event(c *campaign, i int, p plan, prof profile) *mailtrail.Event {
	r := rng{s: p.seed}
	id := c.msgID(i)
	var ev *mailtrail.Event
	switch p.typ {
	case mailtrail.EventOpened, mailtrail.EventClicked:
		ev = b.td.trackingEvent(&r, prof, p.typ, id, c.links(i), int(p.link))
	case mailtrail.EventBounced:
		ev = &mailtrail.Event{MessageID: id, Source: mailtrail.SourceWebhook, DedupeKey: "esp:" + id + ":bounce"}
		ev.Metadata.BounceType, ev.Metadata.SMTPCode, ev.Metadata.Reason = mailtrail.BounceSoft, "452", "4.2.2 mailbox full"
		if p.hard {
			ev.Metadata.BounceType, ev.Metadata.SMTPCode, ev.Metadata.Reason = mailtrail.BounceHard, "550", "5.1.1 user unknown"
		}
	case mailtrail.EventComplained:
		ev = &mailtrail.Event{MessageID: id, Source: mailtrail.SourceWebhook, DedupeKey: "esp:" + id + ":complaint"}
		ev.Metadata.FeedbackType = "abuse"
	case mailtrail.EventUnsubscribed:
		ev = &mailtrail.Event{MessageID: id, Source: mailtrail.SourceTracking, DedupeKey: ingest.OncePrefix + "unsubscribe:" + id}
	default: // sent, delivered: the sender's own API calls, with idempotency keys
		ev = &mailtrail.Event{MessageID: id, Source: mailtrail.SourceAPI, DedupeKey: "api:" + id + ":" + p.typ.String()}
	}
	ev.Type = p.typ
	at := time.UnixMilli(p.at).UTC()
	ev.ID, ev.OccurredAt, ev.ReceivedAt = ingest.NewEventID(at), at, at
	ingest.Normalize(ev, at)
	if b.enrich != nil {
		b.enrich(ev)
	}
	return ev
}

// createMessages records every campaign's messages, tracked, with their links.
func (b *builder) createMessages(ctx context.Context) error {
	const per = 5000
	for _, c := range b.camps {
		start := time.Now()
		last := start
		for lo := 0; lo < c.N; lo += per {
			msgs := make([]*mailtrail.Message, 0, per)
			for i := lo; i < min(lo+per, c.N); i++ {
				msgs = append(msgs, &mailtrail.Message{ID: c.msgID(i), CampaignID: c.Name, CustomerID: customerID(i),
					CustomerEmail: customerEmail(i), TrackOpens: true, TrackClicks: true, Links: c.links(i)})
			}
			if err := b.db.CreateMessages(ctx, b.org, msgs); err != nil {
				return fmt.Errorf("campaign %s: %w", c.Name, err)
			}
			if time.Since(last) > 5*time.Second {
				last = time.Now()
				progress("messages of %s: %d / %d (%.0f/s)", c.Name, lo+per, c.N, float64(lo+per)/time.Since(start).Seconds())
			}
		}
		progress("messages of %s: %d in %v", c.Name, c.N, time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// rec is one planned event inside a time window: 16 bytes, recomputed into an event when
// its batch is written.
type rec struct {
	at   int64
	rcpt uint32
	camp uint8
	sub  uint8
}

// windows splits time into windows of at most maxRecs events each (whole hours), from a
// first pass that counts the events of every hour.
func (b *builder) windows(maxRecs int) (bounds []int64, perCampaign []int) {
	const hour = int64(time.Hour / time.Millisecond)
	t0 := b.camps[0].Start
	counts := map[int64]int{}
	var plans [maxPlans]plan
	perCampaign = make([]int, len(b.camps))
	for ci, c := range b.camps {
		t0 = min(t0, c.Start)
		for i := 0; i < c.N; i++ {
			n, _ := b.m.schedule(c, i, &plans)
			for _, p := range plans[:n] {
				counts[p.at/hour]++
			}
			perCampaign[ci] += n
		}
	}
	hours := make([]int64, 0, len(counts))
	for h := range counts {
		hours = append(hours, h)
	}
	slices.Sort(hours)
	bounds = append(bounds, hours[0]*hour)
	in := 0
	for _, h := range hours {
		if in > 0 && in+counts[h] > maxRecs {
			bounds = append(bounds, h*hour)
			in = 0
		}
		in += counts[h]
	}
	return append(bounds, (hours[len(hours)-1]+1)*hour), perCampaign
}

// writeEvents writes every event of every campaign in time order, in batches of b.batch,
// through the store's Write. A generator goroutine computes and builds the next batches
// while the store writes one, holding one time window of 16-byte records at a time.
func (b *builder) writeEvents(ctx context.Context) ([]int, error) {
	bounds, perCampaign := b.windows(400_000)
	total := 0
	for _, n := range perCampaign {
		total += n
	}
	progress("events: %d to write in %d time windows", total, len(bounds)-1)
	ch := make(chan []*mailtrail.Event, 4)
	gctx, cancel := context.WithCancel(ctx)
	defer cancel()
	genErr := make(chan error, 1)
	go func() {
		defer close(ch)
		var plans [maxPlans]plan
		var recs []rec
		for w := 0; w+1 < len(bounds); w++ {
			lo, hi := bounds[w], bounds[w+1]
			recs = recs[:0]
			for ci, c := range b.camps {
				if hi <= c.Start {
					continue
				}
				for i := 0; i < c.N; i++ {
					if c.Start+c.SendSpan*int64(i)/int64(c.N) >= hi {
						break // sends are in recipient order: nothing of i or later is in this window
					}
					n, _ := b.m.schedule(c, i, &plans)
					for s, p := range plans[:n] {
						if p.at >= lo && p.at < hi {
							recs = append(recs, rec{at: p.at, rcpt: uint32(i), camp: uint8(ci), sub: uint8(s)})
						}
					}
				}
			}
			slices.SortFunc(recs, func(a, b rec) int {
				return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.camp, b.camp), cmp.Compare(a.rcpt, b.rcpt), cmp.Compare(a.sub, b.sub))
			})
			for len(recs) > 0 {
				k := min(b.batch, len(recs))
				batch := make([]*mailtrail.Event, k)
				for j, r := range recs[:k] {
					c := b.camps[r.camp]
					_, prof := b.m.schedule(c, int(r.rcpt), &plans)
					batch[j] = b.event(c, int(r.rcpt), plans[r.sub], prof)
				}
				recs = recs[k:]
				select {
				case ch <- batch:
				case <-gctx.Done():
					genErr <- gctx.Err()
					return
				}
			}
			recs = recs[:0:cap(recs)]
		}
		genErr <- nil
	}()
	start := time.Now()
	last, written := start, 0
	for batch := range ch {
		cs, err := b.db.Write(ctx, batch)
		if err != nil {
			return nil, err
		}
		for j, d := range cs.Duplicate {
			if d {
				return nil, fmt.Errorf("event %s of message %s was dropped by the store (duplicate or unknown message)", batch[j].Type, batch[j].MessageID)
			}
		}
		written += len(batch)
		if time.Since(last) >= 5*time.Second {
			last = time.Now()
			el := time.Since(start)
			rate := float64(written) / el.Seconds()
			progress("events: %d / %d (%.0f%%), %.0f events/s, at %s, about %v left", written, total,
				100*float64(written)/float64(total), rate, batch[len(batch)-1].OccurredAt.Format("Jan 2 15:04"),
				(time.Duration(float64(total-written)/rate) * time.Second).Round(time.Second))
		}
	}
	if err := <-genErr; err != nil {
		return nil, err
	}
	if written != total {
		return nil, fmt.Errorf("wrote %d events of %d planned", written, total)
	}
	progress("events: %d written in %v (%.0f events/s)", written, time.Since(start).Round(time.Second), float64(written)/time.Since(start).Seconds())
	return perCampaign, nil
}

// drainIndex runs the customer-timeline indexer until it has caught up with the events.
func drainIndex(ctx context.Context, db *sqlite.DB) (int, error) {
	total := 0
	for {
		n, err := db.IndexCustomerEvents(ctx)
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
}

// storeMeta describes a built store, kept beside it so -dir can reuse it.
type storeMeta struct {
	Org       string      `json:"org"`
	Sizes     [4]int      `json:"sizes"` // -recipients, -events, -small-recipients, -other-recipients
	Campaigns []*campaign `json:"campaigns"`
	Model     model       `json:"model"`
	Events    int         `json:"events_written"`
	// CampaignEvents are the events written per campaign, in the order of Campaigns.
	CampaignEvents []int     `json:"campaign_events"`
	Built          time.Time `json:"built"`
	BuildTook      string    `json:"build_took"`
	Generation     int       `json:"generation"` // bumped when the generator changes shape

	reused bool // opened with -dir instead of built by this run
}

const metaName = "bench-report.json"

const generation = 1

func readMeta(dir string) (*storeMeta, error) {
	b, err := os.ReadFile(filepath.Join(dir, metaName))
	if err != nil {
		return nil, err
	}
	var m storeMeta
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", metaName, err)
	}
	for _, c := range m.Campaigns {
		c.init()
	}
	return &m, nil
}

func writeMeta(dir string, m *storeMeta) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, metaName), b, 0o644)
}

// The campaigns of the report benchmark.
const (
	campBig   = "spring-sale"
	campSmall = "vip-preview"
	campOther = "newsletter"
)

// plannedCampaigns returns the campaigns of a store for cfg: the big one sent first, the
// small one three hours later, the other one (which the ingest load also hits) a day later.
func plannedCampaigns(cfg *config, t0 time.Time) []*campaign {
	span := func(n int) int64 {
		d := time.Duration(float64(2*time.Hour) * float64(n) / 1e6)
		return min(max(d, time.Minute), 2*time.Hour).Milliseconds()
	}
	cs := []*campaign{
		{Name: campBig, Prefix: 'b', N: cfg.recipients, Start: t0.UnixMilli(), SendSpan: span(cfg.recipients), Seed: cfg.seed*3 + 1},
		{Name: campSmall, Prefix: 's', N: cfg.smallRecipients, Start: t0.Add(3 * time.Hour).UnixMilli(), SendSpan: span(cfg.smallRecipients), Seed: cfg.seed*3 + 2},
		{Name: campOther, Prefix: 'o', N: cfg.otherRecipients, Start: t0.Add(24 * time.Hour).UnixMilli(), SendSpan: span(cfg.otherRecipients), Seed: cfg.seed*3 + 3},
	}
	for _, c := range cs {
		c.init()
	}
	return cs
}

// openOrBuild opens the store in dir, building it first unless dir holds one built for the
// same sizes.
func openOrBuild(ctx context.Context, cfg *config, dir string, td *trafficData, enrich func(*mailtrail.Event)) (*sqlite.DB, *storeMeta, error) {
	path := filepath.Join(dir, "mailtrail.db")
	meta, err := readMeta(dir)
	switch {
	case err == nil:
		if meta.Generation != generation || meta.Sizes != cfg.sizes() {
			return nil, nil, fmt.Errorf("%s holds a store built for other sizes (recipients, events, small, other: %v); use another -dir", dir, meta.Sizes)
		}
		db, err := sqlite.Open(ctx, path, sqlite.Options{Synchronous: cfg.synchronous})
		if err != nil {
			return nil, nil, err
		}
		progress("reusing the store in %s (built %s in %s, %d events)", dir, meta.Built.Format(time.DateTime), meta.BuildTook, meta.Events)
		meta.reused = true
		return db, meta, nil
	case !errors.Is(err, os.ErrNotExist):
		return nil, nil, err
	}
	if _, err := os.Stat(path); err == nil {
		return nil, nil, fmt.Errorf("%s exists without %s: not a store this command built", path, metaName)
	}
	start := time.Now()
	db, err := sqlite.Open(ctx, path, sqlite.Options{Synchronous: cfg.synchronous})
	if err != nil {
		return nil, nil, err
	}
	fail := func(err error) (*sqlite.DB, *storeMeta, error) {
		db.Close()
		return nil, nil, err
	}
	org, _, err := db.CreateOrg(ctx, "bench", cfg.tz)
	if err != nil {
		return fail(err)
	}
	m := defaultModel()
	if err := m.fit(float64(cfg.events) / float64(cfg.recipients)); err != nil {
		return fail(err)
	}
	t0 := time.Now().Add(-9 * 24 * time.Hour).Truncate(time.Hour)
	b := &builder{db: db, org: org.ID, td: td, m: m, camps: plannedCampaigns(cfg, t0), batch: cfg.buildBatch, enrich: enrich}
	progress("building a store in %s: %s %d recipients, %s %d, %s %d; %.2f opens per opener; sends from %s",
		dir, campBig, cfg.recipients, campSmall, cfg.smallRecipients, campOther, cfg.otherRecipients, m.OpensMean, t0.Format(time.DateTime))
	if err := b.createMessages(ctx); err != nil {
		return fail(err)
	}
	// The customer-timeline indexer runs beside ingest, as in serve.
	stopIndexer := startIndexer(db)
	perCampaign, err := b.writeEvents(ctx)
	stopIndexer()
	if err != nil {
		return fail(err)
	}
	t := time.Now()
	if k, err := drainIndex(ctx, db); err != nil {
		return fail(err)
	} else if k > 0 {
		progress("customer index caught up: %d events in %v", k, time.Since(t).Round(time.Millisecond))
	}
	n := 0
	for _, k := range perCampaign {
		n += k
	}
	meta = &storeMeta{Org: org.ID, Sizes: cfg.sizes(), Campaigns: b.camps, CampaignEvents: perCampaign, Model: m, Events: n, Built: time.Now(),
		BuildTook: time.Since(start).Round(time.Second).String(), Generation: generation}
	if err := writeMeta(dir, meta); err != nil {
		return fail(err)
	}
	progress("store built in %s", meta.BuildTook)
	return db, meta, nil
}

// indexChunk is internal/store/sqlite's chunk of IndexCustomerEvents (unexported there).
const indexChunk = 50_000

// startIndexer runs the customer indexer the way serve's RunIndexer does (index while
// there is a tail, else sleep a second) until the returned stop is called. Stopping waits
// for the indexer's transaction to end instead of cancelling it: serve only cancels its
// indexer after the pipeline has drained, and this harness stops it while writes go on.
func startIndexer(db *sqlite.DB) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			n, err := db.IndexCustomerEvents(context.Background())
			if err != nil {
				progress("customer indexer: %v", err)
			}
			wait := time.Second
			if n >= indexChunk {
				wait = 0 // more to do
			}
			select {
			case <-quit:
				return
			case <-time.After(wait):
			}
		}
	}()
	return func() { close(quit); <-done }
}
