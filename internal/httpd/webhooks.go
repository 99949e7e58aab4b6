package httpd

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/attribute"
	"github.com/mailtrail/mailtrail/internal/connection"
	"github.com/mailtrail/mailtrail/internal/esp"
	"github.com/mailtrail/mailtrail/internal/ingest"
	"github.com/mailtrail/mailtrail/internal/metrics"
	"github.com/mailtrail/mailtrail/internal/secrets"
)

// Webhook outcomes, the label of mailtrail_webhook_requests_total.
const (
	outcomeAccepted     = "accepted"
	outcomeReplay       = "replay"
	outcomeNotFound     = "not_found"
	outcomeUnauthorized = "unauthorized"
	outcomeInvalid      = "invalid"
	outcomeTooLarge     = "too_large"
	outcomeUnavailable  = "unavailable"
	outcomeError        = "error"
)

// touchEvery bounds the writes of a connection's LastWebhookAt.
const touchEvery = time.Minute

type webhookMetrics struct {
	requests     *metrics.CounterVec
	ignored      *metrics.CounterVec
	unattributed *metrics.CounterVec
	foreign      *metrics.CounterVec
}

func newWebhookMetrics(reg *metrics.Registry) *webhookMetrics {
	return &webhookMetrics{
		requests:     reg.NewCounter("mailtrail_webhook_requests_total", "ESP webhook requests by vendor and outcome.", "vendor", "outcome"),
		ignored:      reg.NewCounter("mailtrail_webhook_ignored_total", "ESP events of kinds not recorded (acknowledged), by vendor kind.", "vendor", "kind"),
		unattributed: reg.NewCounter("mailtrail_webhook_unattributed_total", "ESP events matching no message of the connection's organization (kept under campaign _unattributed).", "vendor"),
		foreign:      reg.NewCounter("mailtrail_webhook_foreign_message_total", "ESP events naming a message id that is not the connection organization's (another tenant's or unknown); the id was ignored.", "vendor"),
	}
}

type webhookResponse struct {
	Accepted     int `json:"accepted"`
	Duplicates   int `json:"duplicates"`
	Ignored      int `json:"ignored"`
	Unattributed int `json:"unattributed"`
}

// WebhookStore is what receiving a webhook needs of the store.
type WebhookStore interface {
	// Connection with orgID "" finds a connection by its id alone (the webhook URL names
	// no organization).
	Connection(ctx context.Context, orgID, id string) (*mailtrail.Connection, error)
	attribute.Lookup // webhook events' messages (ingest.ESP)
	Resubscribe(ctx context.Context, orgID string, rs []mailtrail.Resubscribe, actor string) (lifted int, err error)
	TouchConnection(ctx context.Context, id string, at time.Time) error
}

// webhooks is the use case of an ESP's webhook arriving on a connection (SPEC §4), with no
// HTTP in it: the connection, a slot of its concurrency bound, the body limit, the
// credentials on the raw bytes, replay, parsing, subscription confirmation, then the
// organization from the connection → attribution → submission, and resubscribes. Nothing
// is stored unless all the checks pass, and a nil error means the events are committed.
// Every request is recorded: metrics by vendor and outcome, the connection's health, its
// last webhook time.
type webhooks struct {
	store   WebhookStore
	submit  Submitter
	vendors esp.Registry
	keys    secrets.Keyring
	fetcher esp.Fetcher // nil: subscription confirmations are refused with 503
	now     func() time.Time
	log     *slog.Logger
	m       *webhookMetrics

	replays *replayCache
	health  *connection.Health // the connections' record (connection.Service.HealthRecord)
	slots   *hookSlots         // nil: no bound
	touchMu sync.Mutex
	touched map[string]time.Time // connection id → last LastWebhookAt write
}

// inbound is one webhook request as the service sees it.
type inbound struct {
	Vendor, ConnID string // from the URL
	Header         http.Header
	Query          url.Values
	ContentLength  int64 // -1: unknown
	// Body returns the request body bounded to n bytes: reading past n fails with an
	// *http.MaxBytesError (the transport bounds it: http.MaxBytesReader).
	Body  func(n int64) io.Reader
	Route string // for the log
}

// receive runs the use case for one request: the answer to acknowledge it with, or the
// error to refuse it with (ENOTFOUND, ETOOLARGE, EUNAUTHORIZED, EINVALID, EUNAVAILABLE
// when the sender must retry).
func (wh *webhooks) receive(ctx context.Context, in inbound) (out webhookResponse, err error) {
	name := in.Vendor
	vendor, ok := wh.vendors.Get(name)
	if !ok {
		name = "unknown" // never a label from the path
	}
	outcome := outcomeError
	var connID string // set once the path named a real connection: only then is health recorded
	defer func() {
		wh.m.requests.Inc(name, outcome)
		if connID != "" {
			wh.recordHealth(connID, outcome, err, out)
		}
	}()
	fail := func(o string, e error) (webhookResponse, error) {
		outcome = o
		return webhookResponse{}, e
	}
	notFound := mailtrail.Errorf(mailtrail.ENOTFOUND, "no such webhook connection")
	if !ok {
		return fail(outcomeNotFound, notFound)
	}
	conn, err := wh.store.Connection(ctx, "", in.ConnID)
	if mailtrail.ErrorCode(err) == mailtrail.ENOTFOUND || (err == nil && (conn.Disabled || conn.Vendor != name)) {
		return fail(outcomeNotFound, notFound)
	}
	if err != nil {
		return fail(outcomeUnavailable, wh.unavailable(ctx, in.Route, err))
	}
	connID = conn.ID
	release, ok := wh.slots.acquire(conn.ID)
	if !ok {
		return fail(outcomeUnavailable, mailtrail.Errorf(mailtrail.EUNAVAILABLE, "too many requests in progress for this connection; retry later"))
	}
	defer release()
	limit := vendor.MaxBody()
	tooLarge := mailtrail.Errorf(mailtrail.ETOOLARGE, "request body over %d bytes", limit)
	if in.ContentLength > limit {
		return fail(outcomeTooLarge, tooLarge)
	}
	body, err := io.ReadAll(in.Body(limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return fail(outcomeTooLarge, tooLarge)
		}
		return fail(outcomeInvalid, mailtrail.Errorf(mailtrail.EINVALID, "request body could not be read"))
	}
	now := wh.now()
	creds, err := wh.credentials(conn, now)
	if err != nil {
		return fail(outcomeError, err)
	}
	req := &esp.Request{Header: in.Header, Query: in.Query, Body: body, Now: now, ConnID: conn.ID}
	if err := vendor.Verify(ctx, req, creds); err != nil {
		switch mailtrail.ErrorCode(err) {
		case mailtrail.EUNAVAILABLE:
			return fail(outcomeUnavailable, err)
		case mailtrail.EUNAUTHORIZED:
			return fail(outcomeUnauthorized, err)
		default: // a vendor that fails otherwise still stores nothing
			return fail(outcomeUnauthorized, mailtrail.Errorf(mailtrail.EUNAUTHORIZED, "webhook credentials or signature invalid"))
		}
	}
	// A vendor that signs a token, not the event (Mailgun): a token seen within its
	// horizon is a replay of a request already committed. It is acknowledged as a
	// duplicate (the sender must stop retrying it) and nothing is stored.
	var replayKey string
	if tok := esp.ReplayToken(name, body); tok != "" {
		replayKey = conn.ID + "\x00" + tok
		if wh.replays.seen(replayKey, now) {
			outcome = outcomeReplay
			return webhookResponse{Duplicates: 1}, nil // one event per such request; health records no events
		}
	}
	res, err := vendor.Parse(ctx, req)
	if err != nil {
		if mailtrail.ErrorCode(err) == mailtrail.EINVALID {
			return fail(outcomeInvalid, err)
		}
		return fail(outcomeInvalid, mailtrail.Errorf(mailtrail.EINVALID, "malformed %s payload", name))
	}
	if res.ConfirmURL != "" {
		if wh.fetcher == nil {
			return fail(outcomeUnavailable, mailtrail.Errorf(mailtrail.EUNAVAILABLE, "subscription confirmation is not possible now"))
		}
		if _, err := wh.fetcher.Get(ctx, res.ConfirmURL); err != nil {
			wh.log.WarnContext(ctx, "webhook: subscription confirmation failed", "vendor", name, "err", err.Error())
			return fail(outcomeUnavailable, mailtrail.Errorf(mailtrail.EUNAVAILABLE, "subscription confirmation failed; retry later"))
		}
	}
	for _, n := range res.Ignored {
		out.Ignored += n
	}
	if len(res.Events) > 0 {
		got, err := ingest.ESP{Lookup: wh.store, Submitter: wh.submit}.Ingest(ctx, conn.OrgID, res.Events)
		if errors.Is(err, ingest.ErrOrgChanged) { // attribution broke its contract: refuse to go on
			return fail(outcomeError, err)
		}
		if err != nil {
			return fail(outcomeUnavailable, wh.unavailable(ctx, in.Route, err))
		}
		out.Accepted, out.Duplicates, out.Unattributed = got.Accepted, got.Duplicates, got.Unattributed
		wh.m.foreign.Add(int64(got.Foreign), name)
		wh.m.unattributed.Add(int64(got.Unattributed), name)
	}
	if len(res.Resubscribes) > 0 {
		// Durable before the answer, like the events; repeating them changes nothing.
		if _, err := wh.store.Resubscribe(ctx, conn.OrgID, res.Resubscribes, "webhook:"+name); err != nil {
			return fail(outcomeUnavailable, wh.unavailable(ctx, in.Route, err))
		}
	}
	for kind, n := range res.Ignored {
		wh.m.ignored.Add(int64(n), name, kind)
	}
	if replayKey != "" {
		wh.replays.add(replayKey, now)
	}
	wh.touch(ctx, conn.ID, now)
	outcome = outcomeAccepted
	return out, nil
}

// webhook is POST /webhooks/v2/{vendor}/{conn}: the request, decoded for the webhooks
// service, and its answer (200 with the counts, or the service's error).
func (s *Server) webhook(w http.ResponseWriter, r *http.Request) error {
	out, err := s.hooks.receive(r.Context(), inbound{
		Vendor: r.PathValue("vendor"), ConnID: r.PathValue("conn"),
		Header: r.Header, Query: r.URL.Query(), ContentLength: r.ContentLength,
		Body:  func(n int64) io.Reader { return http.MaxBytesReader(w, r.Body, n) },
		Route: r.Pattern,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// recordHealth adds one request of connection connID, answered with outcome (err: the
// error the sender was answered; out: what was stored), to the connections' record.
func (wh *webhooks) recordHealth(connID, outcome string, err error, out webhookResponse) {
	r := connection.Request{Err: err}
	switch outcome {
	case outcomeUnauthorized:
		r.Refused = mailtrail.HealthSignature
	case outcomeInvalid:
		r.Refused = mailtrail.HealthInvalid
	case outcomeTooLarge:
		r.Refused = mailtrail.HealthTooLarge
	case outcomeUnavailable:
		r.Refused = mailtrail.HealthUnavailable
	case outcomeError:
		r.Refused = mailtrail.HealthInternal
	case outcomeReplay:
		r.Replay = true
	case outcomeAccepted:
		r.Accepted, r.Duplicates, r.Unattributed = out.Accepted, out.Duplicates, out.Unattributed
	default:
		return
	}
	wh.health.Record(connID, wh.now(), r)
}

// unavailable turns a failure to store into a 503 so the sender retries later. Domain
// errors pass unchanged; others are logged here, once.
func (wh *webhooks) unavailable(ctx context.Context, route string, err error) error {
	var e *mailtrail.Error
	if errors.As(err, &e) {
		return err
	}
	wh.log.ErrorContext(ctx, "webhook: not stored", "route", route, "err", err.Error())
	return mailtrail.Errorf(mailtrail.EUNAVAILABLE, "events could not be stored durably now; retry later")
}

// credentials opens a connection's sealed credentials; the previous ones are attached
// while their grace period runs.
func (wh *webhooks) credentials(c *mailtrail.Connection, now time.Time) (esp.Credentials, error) {
	creds, err := connection.OpenCredentials(wh.keys, c.ID, c.Sealed)
	if err != nil {
		return creds, err
	}
	if len(c.SealedPrevious) > 0 && c.PreviousValidUntil != nil && now.Before(*c.PreviousValidUntil) {
		prev, err := connection.OpenCredentials(wh.keys, c.ID, c.SealedPrevious)
		if err != nil {
			return creds, err
		}
		creds.Previous = &prev
	}
	return creds, nil
}

// touch records the connection's LastWebhookAt, at most once per touchEvery per
// connection and process. A failure is logged: it must not fail an acknowledged webhook.
func (wh *webhooks) touch(ctx context.Context, connID string, now time.Time) {
	wh.touchMu.Lock()
	last, ok := wh.touched[connID]
	if ok && now.Sub(last) < touchEvery {
		wh.touchMu.Unlock()
		return
	}
	if len(wh.touched) >= maxTracked {
		clear(wh.touched)
	}
	wh.touched[connID] = now
	wh.touchMu.Unlock()
	if err := wh.store.TouchConnection(ctx, connID, now); err != nil {
		wh.log.WarnContext(ctx, "webhook: last_webhook_at not recorded", "err", err.Error())
	}
}

// maxTracked bounds the in-memory maps of the webhook route (replay tokens, touches).
const maxTracked = 100000

// replayCache remembers the Mailgun tokens accepted for as long as their signature can be
// accepted (replayTTL: Mailgun's retry horizon plus the clock-skew window). It is bounded:
// when full, the oldest entries go first (a replay of an evicted token is still stored
// once only, by the event's dedupe key), and it lives in memory (a restart forgets it).
type replayCache struct {
	mu     sync.Mutex
	seenAt map[string]time.Time
	order  []string // insertion order, oldest first
}

func newReplayCache() *replayCache { return &replayCache{seenAt: map[string]time.Time{}} }

// replayTTL is how long a token is remembered: a signature is accepted up to
// esp.ReplayHorizon after its timestamp and up to esp.Window before it.
const replayTTL = esp.ReplayHorizon + esp.Window

// seen reports whether key was added less than replayTTL before now.
func (c *replayCache) seen(key string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	at, ok := c.seenAt[key]
	return ok && now.Sub(at) < replayTTL
}

func (c *replayCache) add(key string, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.order) > 0 {
		k := c.order[0]
		if len(c.order) < maxTracked && now.Sub(c.seenAt[k]) < replayTTL {
			break
		}
		delete(c.seenAt, k)
		c.order = c.order[1:]
	}
	if _, ok := c.seenAt[key]; !ok {
		c.order = append(c.order, key)
	}
	c.seenAt[key] = now
}
