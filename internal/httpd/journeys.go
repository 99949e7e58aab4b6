package httpd

import (
	"net/http"
	"strconv"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/journey"
	"github.com/mailtrail/mailtrail/internal/metrics"
)

// parseCondition reads the condition of GET /api/v1/customers/{customer}/did and /wait:
// event (required), campaign_id or message_id, since (RFC 3339), human_only, link.
func parseCondition(r *http.Request) (mailtrail.Condition, error) {
	q := r.URL.Query()
	c := mailtrail.Condition{CustomerID: r.PathValue("customer"), CampaignID: q.Get("campaign_id"),
		MessageID: q.Get("message_id"), LinkURL: q.Get("link")}
	if v := q.Get("event"); v == "" {
		return c, mailtrail.Errorf(mailtrail.EINVALID, "event is required (opened, clicked, …)")
	} else if t, err := mailtrail.ParseEventType(v); err != nil {
		return c, err
	} else {
		c.Type = t
	}
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return c, mailtrail.Errorf(mailtrail.EINVALID, "since must be an RFC 3339 time")
		}
		c.Since = t
	}
	if v := q.Get("human_only"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return c, mailtrail.Errorf(mailtrail.EINVALID, "human_only must be true or false")
		}
		c.HumanOnly = b
	}
	return c, c.Validate()
}

// did is GET /api/v1/customers/{customer}/did: did the customer do the event (of the
// campaign or message, since a time)? Answered from the customer index, never 404: a
// customer the organization does not know did nothing. See docs/journeys.md.
func (s *Server) did(w http.ResponseWriter, r *http.Request) error {
	c, err := parseCondition(r)
	if err != nil {
		return err
	}
	start := time.Now()
	d, err := s.query.Did(r.Context(), principalFrom(r.Context()).orgID(), c)
	s.jm.check.Observe(time.Since(start).Seconds())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

// journeyMetrics are the measurements of the journey routes.
type journeyMetrics struct {
	check *metrics.Histogram
	waits *metrics.CounterVec
}

func newJourneyMetrics(r *metrics.Registry, reg *journey.Registry) *journeyMetrics {
	r.NewGauge("mailtrail_journey_waiters", "Waits for an event in progress.", func() float64 { return float64(reg.Len()) })
	return &journeyMetrics{
		check: r.NewHistogram("mailtrail_journey_check_seconds", "Time to answer one journey condition from the store.",
			.0001, .00025, .0005, .001, .0025, .005, .01, .05),
		waits: r.NewCounter("mailtrail_journey_waits_total", "Waits for an event, by outcome: immediate (true when asked), "+
			"event (woken by a committed event), timeout (204), cancelled (client gone), refused (limit), shutdown, error.", "outcome"),
	}
}

// Wait limits.
const (
	defaultWait = 30 * time.Second
	maxWait     = 60 * time.Second
	// waitSlack is added to a wait's timeout for the connection's write deadline: the
	// server's WriteTimeout (60 s) counts from the request, and a wait of up to 60 s must
	// still be able to write its answer. (The read deadline is cleared by net/http while
	// the handler runs.)
	waitSlack = 15 * time.Second
)

// wait is GET /api/v1/customers/{customer}/wait: the condition of /did, waited for. The
// answer is 200 with the /did body as soon as the store says the customer did it (at
// once when it is already true), 204 when timeout passes first. The wait is woken by the
// committed events (journey.Registry, fed by the pipeline), never by polling the store;
// each wake-up asks the store again, so the store alone decides. See docs/journeys.md.
func (s *Server) wait(w http.ResponseWriter, r *http.Request) error {
	c, err := parseCondition(r)
	if err != nil {
		return err
	}
	timeout := defaultWait
	if v := r.URL.Query().Get("timeout"); v != "" {
		if timeout, err = parseTimeout(v); err != nil {
			return err
		}
	}
	deadline := time.Now().Add(timeout)
	org := principalFrom(r.Context()).orgID()
	ctx := r.Context()
	// answer asks the store; done when the wait is over (answered, failed, or the client
	// gone), with the error to answer.
	answer := func(outcome string) (done bool, err error) {
		d, err := s.query.Did(ctx, org, c)
		if ctx.Err() != nil {
			s.jm.waits.Inc("cancelled") // the client went away: nobody to answer
			return true, nil
		}
		if err != nil {
			s.jm.waits.Inc("error")
			return true, err
		}
		if !d.Did {
			return false, nil
		}
		s.jm.waits.Inc(outcome)
		writeJSON(w, http.StatusOK, d)
		return true, nil
	}
	if done, err := answer("immediate"); done {
		return err
	}
	waiter, err := s.journeys.Register(org, c)
	if err != nil {
		s.jm.waits.Inc("refused")
		return err
	}
	defer s.journeys.Remove(waiter)
	// An event committed between the first answer and the registration woke nobody.
	if done, err := answer("immediate"); done {
		return err
	}
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(deadline.Add(waitSlack)) // ErrNotSupported: no deadline to extend
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for {
		select {
		case <-waiter.Woken():
			if done, err := answer("event"); done {
				return err
			}
		case <-timer.C:
			s.jm.waits.Inc("timeout")
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusNoContent)
			return nil
		case <-waiter.Done():
			s.jm.waits.Inc("shutdown")
			return journey.ErrClosed
		case <-ctx.Done():
			s.jm.waits.Inc("cancelled") // the client went away: nobody to answer
			return nil
		}
	}
}

// parseTimeout reads a wait's timeout: a Go duration ("30s", "1m") or whole seconds
// ("30"), above zero and at most maxWait.
func parseTimeout(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil {
		n, nerr := strconv.Atoi(v)
		if nerr != nil {
			return 0, mailtrail.Errorf(mailtrail.EINVALID, "timeout must be a duration such as 30s, or seconds")
		}
		d = time.Duration(n) * time.Second
	}
	if d <= 0 || d > maxWait {
		return 0, mailtrail.Errorf(mailtrail.EINVALID, "timeout must be above 0 and at most %s", maxWait)
	}
	return d, nil
}
