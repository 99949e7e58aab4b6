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

func (s *Server) createSubscription(w http.ResponseWriter, r *http.Request) error {
	org := principalFrom(r.Context()).org
	var req createSubscriptionRequest
	if err := decodeJSON(w, r, 64<<10, &req); err != nil {
		return err
	}
	u, err := outbound.CheckURL(r.Context(), strings.TrimSpace(req.URL), s.opt.WebhooksAllowPrivate, net.DefaultResolver)
	if err != nil {
		return err
	}
	sub := &mailtrail.Subscription{ID: newSubscriptionID(), OrgID: org.ID, URL: u.String(), EventTypes: []mailtrail.EventType{},
		CampaignID: strings.TrimSpace(req.CampaignID)}
	for _, name := range req.EventTypes {
		t, err := mailtrail.ParseEventType(name)
		if err != nil {
			return err
		}
		sub.EventTypes = append(sub.EventTypes, t)
	}
	if len(sub.CampaignID) > 200 {
		return mailtrail.Errorf(mailtrail.EINVALID, "campaign_id is limited to 200 characters")
	}
	if req.Secret == "" {
		req.Secret = outbound.NewSecret()
	} else if err := outbound.CheckSecret(req.Secret); err != nil {
		return err
	}
	if list, err := s.store.Subscriptions(r.Context(), org.ID); err != nil {
		return err
	} else if len(list) >= maxSubscriptions {
		return mailtrail.Errorf(mailtrail.ECONFLICT, "an organization has at most %d subscriptions", maxSubscriptions)
	}
	if sub.Sealed, err = outbound.SealSecret(s.opt.Secrets, sub.ID, []byte(req.Secret)); err != nil {
		return err
	}
	if err := s.store.CreateSubscription(r.Context(), sub); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, createdSubscription{Subscription: sub, Secret: req.Secret})
	return nil
}

func (s *Server) listSubscriptions(w http.ResponseWriter, r *http.Request) error {
	list, err := s.store.Subscriptions(r.Context(), principalFrom(r.Context()).orgID())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"subscriptions": list})
	return nil
}

func (s *Server) getSubscription(w http.ResponseWriter, r *http.Request) error {
	sub, err := s.store.Subscription(r.Context(), principalFrom(r.Context()).orgID(), r.PathValue("sub"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sub)
	return nil
}

func (s *Server) deleteSubscription(w http.ResponseWriter, r *http.Request) error {
	if err := s.store.DeleteSubscription(r.Context(), principalFrom(r.Context()).orgID(), r.PathValue("sub")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// enableSubscription clears the failures of a subscription (disabled or failing) so it is
// delivered to at once; {"skip_backlog": true} drops the events it had not delivered.
func (s *Server) enableSubscription(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		SkipBacklog bool `json:"skip_backlog"`
	}
	if r.ContentLength != 0 {
		if err := decodeJSON(w, r, 4<<10, &req); err != nil {
			return err
		}
	}
	sub, err := s.store.EnableSubscription(r.Context(), principalFrom(r.Context()).orgID(), r.PathValue("sub"), req.SkipBacklog)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sub)
	return nil
}

func (s *Server) subscriptionDeliveries(w http.ResponseWriter, r *http.Request) error {
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return mailtrail.Errorf(mailtrail.EINVALID, "limit must be 1 to 100")
		}
		limit = n
	}
	list, err := s.store.SubscriptionDeliveries(r.Context(), principalFrom(r.Context()).orgID(), r.PathValue("sub"), limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"deliveries": list})
	return nil
}
