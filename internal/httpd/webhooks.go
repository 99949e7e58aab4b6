package httpd

import (
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/esp"
	"github.com/mailtrail/mailtrail/internal/ingest"
	"github.com/mailtrail/mailtrail/internal/metrics"
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

// webhook receives an ESP's events on a connection (SPEC §4). The order is fixed: the
// connection, the size limit, the credentials on the raw bytes, then parsing; nothing is
// stored unless all pass, and 200 means the events are committed.
func (s *Server) webhook(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	name := r.PathValue("vendor")
	vendor, ok := s.opt.Vendors.Get(name)
	if !ok {
		name = "unknown" // never a label from the path
	}
	outcome := outcomeError
	var (
		connID  string // set once the path named a real connection: only then is health recorded
		failErr error
		out     webhookResponse
	)
	defer func() {
		s.wm.requests.Inc(name, outcome)
		if connID != "" {
			s.health.record(connID, s.now(), outcome, failErr, out)
		}
	}()
	fail := func(o string, err error) error {
		outcome, failErr = o, err
		return err
	}
	notFound := mailtrail.Errorf(mailtrail.ENOTFOUND, "no such webhook connection")
	if !ok {
		return fail(outcomeNotFound, notFound)
	}
	conn, err := s.store.Connection(ctx, "", r.PathValue("conn"))
	if mailtrail.ErrorCode(err) == mailtrail.ENOTFOUND || (err == nil && (conn.Disabled || conn.Vendor != name)) {
		return fail(outcomeNotFound, notFound)
	}
	if err != nil {
		return fail(outcomeUnavailable, s.unavailable(r, err))
	}
	connID = conn.ID
	release, ok := s.hookSlots.acquire(conn.ID)
	if !ok {
		w.Header().Set("Retry-After", "1")
		return fail(outcomeUnavailable, mailtrail.Errorf(mailtrail.EUNAVAILABLE, "too many requests in progress for this connection; retry later"))
	}
	defer release()
	limit := vendor.MaxBody()
	tooLarge := mailtrail.Errorf(mailtrail.ETOOLARGE, "request body over %d bytes", limit)
	if r.ContentLength > limit {
		return fail(outcomeTooLarge, tooLarge)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return fail(outcomeTooLarge, tooLarge)
		}
		return fail(outcomeInvalid, mailtrail.Errorf(mailtrail.EINVALID, "request body could not be read"))
	}
	now := s.now()
	creds, err := s.connectionCredentials(conn, now)
	if err != nil {
		return fail(outcomeError, err)
	}
	req := &esp.Request{Header: r.Header, Query: r.URL.Query(), Body: body, Now: now, ConnID: conn.ID}
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
		if s.replays.seen(replayKey, now) {
			outcome = outcomeReplay
			writeJSON(w, http.StatusOK, webhookResponse{Duplicates: 1}) // one event per such request
			return nil
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
		if s.opt.Fetcher == nil {
			return fail(outcomeUnavailable, mailtrail.Errorf(mailtrail.EUNAVAILABLE, "subscription confirmation is not possible now"))
		}
		if _, err := s.opt.Fetcher.Get(ctx, res.ConfirmURL); err != nil {
			s.log.WarnContext(ctx, "webhook: subscription confirmation failed", "vendor", name, "err", err.Error())
			return fail(outcomeUnavailable, mailtrail.Errorf(mailtrail.EUNAVAILABLE, "subscription confirmation failed; retry later"))
		}
	}
	for _, n := range res.Ignored {
		out.Ignored += n
	}
	if len(res.Events) > 0 {
		got, err := ingest.ESP{Attributor: s.store, Submitter: s.ingest}.Ingest(ctx, conn.OrgID, res.Events)
		if errors.Is(err, ingest.ErrOrgChanged) { // the store broke its contract: refuse to go on
			return fail(outcomeError, err)
		}
		if err != nil {
			return fail(outcomeUnavailable, s.unavailable(r, err))
		}
		out.Accepted, out.Duplicates, out.Unattributed = got.Accepted, got.Duplicates, got.Unattributed
		s.wm.foreign.Add(int64(got.Foreign), name)
		s.wm.unattributed.Add(int64(got.Unattributed), name)
	}
	if len(res.Resubscribes) > 0 {
		// Durable before the answer, like the events; repeating them changes nothing.
		if _, err := s.store.Resubscribe(ctx, conn.OrgID, res.Resubscribes, "webhook:"+name); err != nil {
			return fail(outcomeUnavailable, s.unavailable(r, err))
		}
	}
	for kind, n := range res.Ignored {
		s.wm.ignored.Add(int64(n), name, kind)
	}
	if replayKey != "" {
		s.replays.add(replayKey, now)
	}
	s.touch(r, conn.ID, now)
	outcome = outcomeAccepted
	writeJSON(w, http.StatusOK, out)
	return nil
}

// unavailable turns a failure to store into a 503 so the sender retries later. Domain
// errors pass unchanged; others are logged here, once.
func (s *Server) unavailable(r *http.Request, err error) error {
	var e *mailtrail.Error
	if errors.As(err, &e) {
		return err
	}
	s.log.ErrorContext(r.Context(), "webhook: not stored", "route", r.Pattern, "err", err.Error())
	return mailtrail.Errorf(mailtrail.EUNAVAILABLE, "events could not be stored durably now; retry later")
}

// connectionCredentials opens a connection's sealed credentials; the previous ones are
// attached while their grace period runs.
func (s *Server) connectionCredentials(c *mailtrail.Connection, now time.Time) (esp.Credentials, error) {
	creds, err := OpenCredentials(s.opt.Secrets, c.ID, c.Sealed)
	if err != nil {
		return creds, err
	}
	if len(c.SealedPrevious) > 0 && c.PreviousValidUntil != nil && now.Before(*c.PreviousValidUntil) {
		prev, err := OpenCredentials(s.opt.Secrets, c.ID, c.SealedPrevious)
		if err != nil {
			return creds, err
		}
		creds.Previous = &prev
	}
	return creds, nil
}

// touch records the connection's LastWebhookAt, at most once per touchEvery per
// connection and process. A failure is logged: it must not fail an acknowledged webhook.
func (s *Server) touch(r *http.Request, connID string, now time.Time) {
	s.touchMu.Lock()
	last, ok := s.touched[connID]
	if ok && now.Sub(last) < touchEvery {
		s.touchMu.Unlock()
		return
	}
	if len(s.touched) >= maxTracked {
		clear(s.touched)
	}
	s.touched[connID] = now
	s.touchMu.Unlock()
	if err := s.store.TouchConnection(r.Context(), connID, now); err != nil {
		s.log.WarnContext(r.Context(), "webhook: last_webhook_at not recorded", "err", err.Error())
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
