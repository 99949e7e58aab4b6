package outbound

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/egress"
	"github.com/mailtrail/mailtrail/internal/metrics"
	"github.com/mailtrail/mailtrail/internal/secrets"
	"github.com/mailtrail/mailtrail/webhooksig"
)

// Store is what the dispatcher needs from the store.
type Store interface {
	// ActiveSubscriptions returns every subscription that is not disabled, of every organization.
	ActiveSubscriptions(ctx context.Context) ([]mailtrail.Subscription, error)
	// EventsAfter returns the events past a position that pass f, and the position read up to.
	EventsAfter(ctx context.Context, orgID string, after int64, f mailtrail.StreamFilter, limit int) ([]mailtrail.SeqEvent, int64, error)
	// RecordDelivery logs an attempt and applies its outcome to the subscription.
	RecordDelivery(ctx context.Context, subID string, d mailtrail.Delivery, st mailtrail.SubscriptionState) error
	// AdvanceSubscription moves a subscription's position forward past events its filter refused.
	AdvanceSubscription(ctx context.Context, subID string, pos int64) error
}

// The headers of a delivery.
const (
	HeaderSignature    = webhooksig.Header
	HeaderDelivery     = "X-Mailtrail-Delivery"
	HeaderSubscription = "X-Mailtrail-Subscription"
	HeaderAttempt      = "X-Mailtrail-Attempt"
)

// Options configure a Dispatcher. Zero values take the defaults noted.
type Options struct {
	Secrets      secrets.Keyring // opens the subscriptions' sealed secrets (current and retired keys)
	AllowPrivate bool            // let deliveries reach private, loopback and link-local addresses
	RetryFor     time.Duration   // a subscription failing this long is disabled; default 24h
	MaxBatch     int             // events per delivery; default 100
	Timeout      time.Duration   // one POST, response included; default 10s
	BaseBackoff  time.Duration   // first retry delay; default 1s, doubling
	MaxBackoff   time.Duration   // default 1h
	Poll         time.Duration   // safety net when no commit wakes the dispatcher; default 2s
	Concurrency  int             // subscriptions delivered to at once; default 16
	Logger       *slog.Logger
	Metrics      *metrics.Registry
	Now          func() time.Time
}

// Dispatcher delivers events to subscriptions. Create it with New, run Run in a goroutine,
// and Wake it after commits.
type Dispatcher struct {
	store  Store
	opt    Options
	client *http.Client
	wake   chan struct{}
	sem    chan struct{}
	wg     sync.WaitGroup

	// idle is set when the last round found no active subscription: commits then do not
	// wake the dispatcher (an organization without subscriptions pays nothing per commit);
	// the poll finds new subscriptions.
	idle atomic.Bool

	mu       sync.Mutex
	inflight map[string]bool
	scanned  map[string]scan // position past events the filter refused, not yet stored

	attempts *metrics.CounterVec
	events   *metrics.CounterVec
}

type scan struct {
	pos   int64
	saved time.Time
}

// New returns a dispatcher over store.
func New(store Store, opt Options) *Dispatcher {
	if opt.RetryFor <= 0 {
		opt.RetryFor = 24 * time.Hour
	}
	if opt.MaxBatch <= 0 {
		opt.MaxBatch = 100
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 10 * time.Second
	}
	if opt.BaseBackoff <= 0 {
		opt.BaseBackoff = time.Second
	}
	if opt.MaxBackoff <= 0 {
		opt.MaxBackoff = time.Hour
	}
	if opt.Poll <= 0 {
		opt.Poll = 2 * time.Second
	}
	if opt.Concurrency <= 0 {
		opt.Concurrency = 16
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Metrics == nil {
		opt.Metrics = metrics.New()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	tr := &http.Transport{
		Proxy:                 nil, // a proxy would dial for us and bypass the address guard
		DialContext:           egress.Policy{AllowPrivate: opt.AllowPrivate}.Dialer(5 * time.Second).DialContext,
		TLSHandshakeTimeout:   opt.Timeout,
		ResponseHeaderTimeout: opt.Timeout,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       90 * time.Second,
	}
	return &Dispatcher{store: store, opt: opt, wake: make(chan struct{}, 1), sem: make(chan struct{}, opt.Concurrency),
		inflight: map[string]bool{}, scanned: map[string]scan{},
		client: &http.Client{Transport: tr, Timeout: opt.Timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		attempts: opt.Metrics.NewCounter("mailtrail_webhook_deliveries_total", "Outbound webhook delivery attempts, by result.", "result"),
		events:   opt.Metrics.NewCounter("mailtrail_webhook_events_delivered_total", "Events delivered to outbound webhook subscriptions."),
	}
}

// Wake makes the dispatcher look for new events now, unless it has no active
// subscription (then its next poll looks). It never blocks.
func (d *Dispatcher) Wake() {
	if d.idle.Load() {
		return
	}
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends, then waits for the deliveries in flight (cancelled by ctx:
// their events are delivered again after a restart, never lost).
func (d *Dispatcher) Run(ctx context.Context) {
	defer d.wg.Wait()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		wait := d.round(ctx)
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-d.wake:
		case <-timer.C:
		}
	}
}

// round starts a delivery for every subscription that is due and not in flight, and
// returns how long to sleep at most before the next round.
func (d *Dispatcher) round(ctx context.Context) time.Duration {
	wait := d.opt.Poll
	subs, err := d.store.ActiveSubscriptions(ctx)
	if err != nil {
		if ctx.Err() == nil {
			d.opt.Logger.Error("webhook subscriptions: list failed", "err", err.Error())
		}
		return wait
	}
	d.idle.Store(len(subs) == 0)
	now := d.opt.Now()
	for i := range subs {
		s := &subs[i]
		if s.NextAttemptAt != nil && s.NextAttemptAt.After(now) {
			wait = min(wait, s.NextAttemptAt.Sub(now))
			continue
		}
		d.mu.Lock()
		busy := d.inflight[s.ID]
		d.mu.Unlock()
		if busy {
			continue
		}
		select {
		case d.sem <- struct{}{}:
		default:
			return wait // all workers busy; a finishing delivery wakes the next round
		}
		d.mu.Lock()
		d.inflight[s.ID] = true
		d.mu.Unlock()
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			again := d.deliver(ctx, s)
			d.mu.Lock()
			delete(d.inflight, s.ID)
			d.mu.Unlock()
			<-d.sem
			if again {
				d.Wake()
			}
		}()
	}
	return wait
}

// deliver sends the next batch of a subscription's events, if any, and records the
// outcome. It reports whether another round should follow at once (after an attempt).
func (d *Dispatcher) deliver(ctx context.Context, s *mailtrail.Subscription) bool {
	d.mu.Lock()
	sc := d.scanned[s.ID]
	d.mu.Unlock()
	pos := max(s.Position, sc.pos)
	evs, next, err := d.store.EventsAfter(ctx, s.OrgID, pos, s.Filter(), d.opt.MaxBatch)
	if err != nil {
		if ctx.Err() == nil {
			d.opt.Logger.Error("webhook subscription: read failed", "subscription", s.ID, "err", err.Error())
		}
		return false
	}
	if len(evs) == 0 {
		d.skipped(ctx, s, next, sc)
		return false
	}
	body, err := json.Marshal(struct {
		Events []mailtrail.SeqEvent `json:"events"`
	}{evs})
	if err != nil {
		d.opt.Logger.Error("webhook subscription: encode failed", "subscription", s.ID, "err", err.Error())
		return false
	}
	start := d.opt.Now()
	del := mailtrail.Delivery{ID: newDeliveryID(), At: start.UTC(), Events: len(evs)}
	status, err := d.post(ctx, s, del.ID, body)
	if ctx.Err() != nil {
		return false // shutting down: nothing recorded, the batch is sent again after the restart
	}
	del.DurationMS = d.opt.Now().Sub(start).Milliseconds()
	del.Status, del.OK = status, err == nil
	st := mailtrail.SubscriptionState{Position: s.Position}
	if del.OK {
		st.Position, st.LastDeliveredAt = next, d.opt.Now()
		d.mu.Lock()
		d.scanned[s.ID] = scan{pos: next, saved: d.opt.Now()}
		d.mu.Unlock()
		d.attempts.Inc("ok")
		d.events.Add(int64(len(evs)))
	} else {
		del.Error = err.Error()
		st.ConsecutiveFailures = s.ConsecutiveFailures + 1
		st.FailingSince = start
		if s.FailingSince != nil {
			st.FailingSince = *s.FailingSince
		}
		back := backoff(d.opt.BaseBackoff, d.opt.MaxBackoff, st.ConsecutiveFailures)
		del.RetryInMS = back.Milliseconds()
		st.NextAttemptAt = start.Add(back)
		if start.Sub(st.FailingSince) >= d.opt.RetryFor {
			st.DisabledReason = fmt.Sprintf("deliveries failed for %s since %s; last error: %s",
				d.opt.RetryFor, st.FailingSince.UTC().Format(time.RFC3339), del.Error)
			del.RetryInMS = 0
			d.opt.Logger.Warn("webhook subscription disabled after persistent failure", "subscription", s.ID,
				"failures", st.ConsecutiveFailures, "status", status)
		}
		d.attempts.Inc("failed")
	}
	if err := d.store.RecordDelivery(context.WithoutCancel(ctx), s.ID, del, st); err != nil {
		d.opt.Logger.Error("webhook subscription: record failed", "subscription", s.ID, "err", err.Error())
		return false
	}
	return true // next batch at once, or a round that schedules the retry
}

// skipped remembers that the events up to next did not pass the subscription's filter,
// storing the position at most every 30 s (a restart only reads them again).
func (d *Dispatcher) skipped(ctx context.Context, s *mailtrail.Subscription, next int64, sc scan) {
	if next <= s.Position {
		return
	}
	now := d.opt.Now()
	sc.pos = next
	if now.Sub(sc.saved) >= 30*time.Second {
		if err := d.store.AdvanceSubscription(ctx, s.ID, next); err == nil {
			sc.saved = now
		}
	}
	d.mu.Lock()
	d.scanned[s.ID] = sc
	d.mu.Unlock()
}

// post sends one signed batch; a nil error means the receiver answered 2xx.
func (d *Dispatcher) post(ctx context.Context, s *mailtrail.Subscription, deliveryID string, body []byte) (int, error) {
	secret, err := OpenSecret(d.opt.Secrets, s.ID, s.Sealed)
	if err != nil {
		return 0, errors.New("the subscription's secret does not open (was the service secret changed?)")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("request: %w", err)
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "mailtrail-webhooks/1")
	h.Set(HeaderSignature, webhooksig.Sign(secret, d.opt.Now(), body))
	h.Set(HeaderDelivery, deliveryID)
	h.Set(HeaderSubscription, s.ID)
	h.Set(HeaderAttempt, strconv.Itoa(s.ConsecutiveFailures+1))
	resp, err := d.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL, which the log already knows
		}
		return 0, fmt.Errorf("%.300s", err.Error())
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			return resp.StatusCode, fmt.Errorf("receiver answered %d; redirects are not followed", resp.StatusCode)
		}
		return resp.StatusCode, fmt.Errorf("receiver answered %d", resp.StatusCode)
	}
	return resp.StatusCode, nil
}

// backoff returns the delay before retry number n (1, 2, …): base·2^(n−1) capped at max,
// of which a random half is taken off (so many failing receivers do not retry in step).
func backoff(base, maxDelay time.Duration, n int) time.Duration {
	d := maxDelay
	if n < 40 {
		d = min(maxDelay, base<<(n-1))
	}
	half := d / 2
	return half + rand.N(half+1)
}

func newDeliveryID() string {
	b := make([]byte, 12)
	_, _ = crand.Read(b)
	return "dlv_" + base64.RawURLEncoding.EncodeToString(b)
}
