package httpd

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/mailtrail/mailtrail"
)

// CustomerStore is what the customer handlers need of the store.
type CustomerStore interface {
	EraseCustomer(ctx context.Context, orgID, customerID string) (*mailtrail.EraseResult, error)
}

// eraseCustomer is DELETE /api/v1/customers/{customer}: the customer's personal data is
// removed from raw events, messages and the customer itself, the customer's id is replaced
// (so a second call answers 404), their suppressed addresses stay suppressed under a hash,
// and every aggregate is kept. See docs/privacy.md.
func (s *Server) eraseCustomer(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("customer")
	if id == "" || len(id) > 200 {
		return mailtrail.Errorf(mailtrail.EINVALID, "customer id must be 1 to 200 characters")
	}
	org := principalFrom(r.Context()).orgID()
	res, err := s.store.EraseCustomer(r.Context(), org, id)
	if err != nil {
		return err
	}
	// Counts only: neither the customer's id nor an address is logged.
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "customer erased", slog.String("org", org), slog.Int("events", res.Events),
		slog.Int("messages", res.Messages), slog.Int("suppressions", res.Suppressions))
	writeJSON(w, http.StatusOK, res)
	return nil
}
