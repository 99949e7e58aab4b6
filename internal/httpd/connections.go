package httpd

import (
	"net/http"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/connection"
	"github.com/mailtrail/mailtrail/internal/esp"
)

// The health types live in the root package (the dashboard shows them too); these names
// keep the handlers' code short.
type (
	HealthCounts     = mailtrail.HealthCounts
	ConnectionError  = mailtrail.ConnectionError
	ConnectionHealth = mailtrail.ConnectionHealth
)

const (
	HealthSignature    = mailtrail.HealthSignature
	HealthInvalid      = mailtrail.HealthInvalid
	HealthTooLarge     = mailtrail.HealthTooLarge
	HealthUnavailable  = mailtrail.HealthUnavailable
	HealthUnattributed = mailtrail.HealthUnattributed
	HealthInternal     = mailtrail.HealthInternal
)

// credentialsInput are the credential fields of a create or rotate request.
type credentialsInput struct {
	SigningKey  string `json:"signing_key"`
	Username    string `json:"username"`
	Password    string `json:"password"`
	BearerToken string `json:"bearer_token"`
	TopicARN    string `json:"topic_arn"`
}

func (in credentialsInput) credentials() esp.Credentials {
	return esp.Credentials{SigningKey: in.SigningKey, Username: in.Username, Password: in.Password,
		BearerToken: in.BearerToken, TopicARN: in.TopicARN}
}

type createConnectionRequest struct {
	Vendor string `json:"vendor"`
	Name   string `json:"name"`
	credentialsInput
	connection.MailboxInput
}

type rotateConnectionRequest struct {
	credentialsInput
	// GraceSeconds is how long the previous credentials stay valid; absent: 24 hours.
	GraceSeconds *int64 `json:"grace_seconds"`
}

// connectionOut is a connection as a client sees it: with this process's record of its
// webhooks.
type connectionOut struct {
	*mailtrail.Connection
	WebhookHealth ConnectionHealth `json:"webhook_health"`
}

// withHealth returns c (from the connections service) as a client sees it: with the
// process's record of its webhooks.
func (s *Server) withHealth(c *mailtrail.Connection) connectionOut {
	return connectionOut{Connection: c, WebhookHealth: s.conns.Health(c.ID)}
}

func (s *Server) createConnection(w http.ResponseWriter, r *http.Request) error {
	var req createConnectionRequest
	if err := decodeJSON(w, r, 64<<10, &req); err != nil {
		return err
	}
	c, err := s.conns.Create(r.Context(), principalFrom(r.Context()).orgID(), connection.Input{Vendor: req.Vendor, Name: req.Name,
		Credentials: req.credentials(), Mailbox: req.MailboxInput})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, s.withHealth(c))
	return nil
}

func (s *Server) listConnections(w http.ResponseWriter, r *http.Request) error {
	list, err := s.conns.List(r.Context(), principalFrom(r.Context()).orgID())
	if err != nil {
		return err
	}
	out := make([]connectionOut, len(list))
	for i := range list {
		out[i] = s.withHealth(&list[i])
	}
	writeJSON(w, http.StatusOK, map[string]any{"connections": out})
	return nil
}

func (s *Server) getConnection(w http.ResponseWriter, r *http.Request) error {
	c, err := s.conns.Get(r.Context(), principalFrom(r.Context()).orgID(), r.PathValue("conn"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.withHealth(c))
	return nil
}

func (s *Server) disableConnection(w http.ResponseWriter, r *http.Request) error {
	return s.setDisabled(w, r, true)
}

func (s *Server) enableConnection(w http.ResponseWriter, r *http.Request) error {
	return s.setDisabled(w, r, false)
}

func (s *Server) setDisabled(w http.ResponseWriter, r *http.Request, disabled bool) error {
	c, err := s.conns.SetDisabled(r.Context(), principalFrom(r.Context()).orgID(), r.PathValue("conn"), disabled)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.withHealth(c))
	return nil
}

func (s *Server) rotateConnection(w http.ResponseWriter, r *http.Request) error {
	var req rotateConnectionRequest
	if err := decodeJSON(w, r, 64<<10, &req); err != nil {
		return err
	}
	grace, err := connection.GraceSeconds(req.GraceSeconds)
	if err != nil {
		return err
	}
	c, err := s.conns.Rotate(r.Context(), principalFrom(r.Context()).orgID(), r.PathValue("conn"), req.credentials(), grace)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.withHealth(c))
	return nil
}
