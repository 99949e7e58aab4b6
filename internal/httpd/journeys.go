package httpd

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/metrics"
)

// JourneyStore is what the journey handlers need of the store.
type JourneyStore interface {
	// Did answers a condition from the customer index; an unknown customer, campaign or
	// message is Did false, not an error.
	Did(ctx context.Context, orgID string, c mailtrail.Condition) (*mailtrail.Did, error)
}

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
func (s *Server) did(w http.ResponseWriter, r *http.Request) {
	c, err := parseCondition(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	start := time.Now()
	d, err := s.store.Did(r.Context(), orgFrom(r).ID, c)
	s.jm.check.Observe(time.Since(start).Seconds())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// journeyMetrics are the measurements of the journey routes.
type journeyMetrics struct {
	check *metrics.Histogram
}

func newJourneyMetrics(r *metrics.Registry) *journeyMetrics {
	return &journeyMetrics{
		check: r.NewHistogram("mailtrail_journey_check_seconds", "Time to answer one journey condition from the store.",
			.0001, .00025, .0005, .001, .0025, .005, .01, .05),
	}
}
