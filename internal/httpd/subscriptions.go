package httpd

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/outbound"
)

// SubscriptionStore is what the outbound webhook subscription routes need from the store.
type SubscriptionStore interface {
	CreateSubscription(ctx context.Context, s *mailtrail.Subscription) error
	Subscriptions(ctx context.Context, orgID string) ([]mailtrail.Subscription, error)
	Subscription(ctx context.Context, orgID, id string) (*mailtrail.Subscription, error)
	DeleteSubscription(ctx context.Context, orgID, id string) error
	EnableSubscription(ctx context.Context, orgID, id string, skipBacklog bool) (*mailtrail.Subscription, error)
	SubscriptionDeliveries(ctx context.Context, orgID, id string, limit int) ([]mailtrail.Delivery, error)
}

// maxSubscriptions bounds an organization's subscriptions (each costs a read per commit).
const maxSubscriptions = 50

type createSubscriptionRequest struct {
	URL        string   `json:"url"`
	EventTypes []string `json:"event_types"`
	CampaignID string   `json:"campaign_id"`
	Secret     string   `json:"secret"`
}

// createdSubscription is the answer to a creation: the only time the secret is shown.
type createdSubscription struct {
	*mailtrail.Subscription
	Secret string `json:"secret"`
}

func newSubscriptionID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "sub_" + base64.RawURLEncoding.EncodeToString(b)
}

func (s *Server) createSubscription(w http.ResponseWriter, r *http.Request) {
	org := orgFrom(r)
	var req createSubscriptionRequest
	if err := decodeJSON(w, r, 64<<10, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	u, err := outbound.CheckURL(r.Context(), strings.TrimSpace(req.URL), s.opt.WebhooksAllowPrivate, net.DefaultResolver)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	sub := &mailtrail.Subscription{ID: newSubscriptionID(), OrgID: org.ID, URL: u.String(), EventTypes: []mailtrail.EventType{},
		CampaignID: strings.TrimSpace(req.CampaignID)}
	for _, name := range req.EventTypes {
		t, err := mailtrail.ParseEventType(name)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		sub.EventTypes = append(sub.EventTypes, t)
	}
	if len(sub.CampaignID) > 200 {
		s.writeError(w, r, mailtrail.Errorf(mailtrail.EINVALID, "campaign_id is limited to 200 characters"))
		return
	}
	if req.Secret == "" {
		req.Secret = outbound.NewSecret()
	} else if err := outbound.CheckSecret(req.Secret); err != nil {
		s.writeError(w, r, err)
		return
	}
	if list, err := s.store.Subscriptions(r.Context(), org.ID); err != nil {
		s.writeError(w, r, err)
		return
	} else if len(list) >= maxSubscriptions {
		s.writeError(w, r, mailtrail.Errorf(mailtrail.ECONFLICT, "an organization has at most %d subscriptions", maxSubscriptions))
		return
	}
	if sub.Sealed, err = outbound.SealSecret(s.opt.Secrets, sub.ID, []byte(req.Secret)); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.store.CreateSubscription(r.Context(), sub); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, createdSubscription{Subscription: sub, Secret: req.Secret})
}

func (s *Server) listSubscriptions(w http.ResponseWriter, r *http.Request) {
	list, err := s.store.Subscriptions(r.Context(), orgFrom(r).ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"subscriptions": list})
}

func (s *Server) getSubscription(w http.ResponseWriter, r *http.Request) {
	sub, err := s.store.Subscription(r.Context(), orgFrom(r).ID, r.PathValue("sub"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sub)
}

func (s *Server) deleteSubscription(w http.ResponseWriter, r *http.Request) {
	if err := s.store.DeleteSubscription(r.Context(), orgFrom(r).ID, r.PathValue("sub")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// enableSubscription clears the failures of a subscription (disabled or failing) so it is
// delivered to at once; {"skip_backlog": true} drops the events it had not delivered.
func (s *Server) enableSubscription(w http.ResponseWriter, r *http.Request) {
	var req struct {
		SkipBacklog bool `json:"skip_backlog"`
	}
	if r.ContentLength != 0 {
		if err := decodeJSON(w, r, 4<<10, &req); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	sub, err := s.store.EnableSubscription(r.Context(), orgFrom(r).ID, r.PathValue("sub"), req.SkipBacklog)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sub)
}

func (s *Server) subscriptionDeliveries(w http.ResponseWriter, r *http.Request) {
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			s.writeError(w, r, mailtrail.Errorf(mailtrail.EINVALID, "limit must be 1 to 100"))
			return
		}
		limit = n
	}
	list, err := s.store.SubscriptionDeliveries(r.Context(), orgFrom(r).ID, r.PathValue("sub"), limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"deliveries": list})
}
