package httpd

import (
	"net/http"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail"
)

// ValidateTimezone returns the zone name if it is an IANA time zone, else an EINVALID error.
func ValidateTimezone(tz string) (string, error) {
	if tz == "" {
		return "UTC", nil
	}
	if tz == "Local" {
		return "", mailtrail.Errorf(mailtrail.EINVALID, "timezone must be an IANA name such as Europe/Paris")
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return "", mailtrail.Errorf(mailtrail.EINVALID, "unknown timezone %q: use an IANA name such as Europe/Paris", tz)
	}
	return loc.String(), nil
}

type createOrgRequest struct {
	Name     string `json:"name"`
	Timezone string `json:"timezone"`
}

type createOrgResponse struct {
	mailtrail.Organization
	APIKey string `json:"api_key"`
}

func (s *Server) createOrg(w http.ResponseWriter, r *http.Request) error {
	var req createOrgRequest
	if err := decodeJSON(w, r, 64<<10, &req); err != nil {
		return err
	}
	req.Name = strings.TrimSpace(req.Name)
	if req.Name == "" || len(req.Name) > 200 {
		return mailtrail.Errorf(mailtrail.EINVALID, "name is required (at most 200 characters)")
	}
	tz, err := ValidateTimezone(req.Timezone)
	if err != nil {
		return err
	}
	org, key, err := s.store.CreateOrg(r.Context(), req.Name, tz)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, createOrgResponse{Organization: *org, APIKey: key})
	return nil
}

func (s *Server) listOrgs(w http.ResponseWriter, r *http.Request) error {
	orgs, err := s.store.Orgs(r.Context())
	if err != nil {
		return err
	}
	if orgs == nil {
		orgs = []mailtrail.Organization{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"organizations": orgs})
	return nil
}

func (s *Server) createKey(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Name  string `json:"name"`
		Scope string `json:"scope"` // all (default) or read
	}
	if r.ContentLength != 0 {
		if err := decodeJSON(w, r, 64<<10, &req); err != nil {
			return err
		}
	}
	if req.Name == "" {
		req.Name = "api"
	}
	if req.Scope == "" {
		req.Scope = mailtrail.ScopeAll
	}
	k, secret, err := s.store.CreateAPIKey(r.Context(), r.PathValue("org"), req.Name, req.Scope)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"key": k, "api_key": secret})
	return nil
}

func (s *Server) listKeys(w http.ResponseWriter, r *http.Request) error {
	keys, err := s.store.APIKeys(r.Context(), r.PathValue("org"))
	if err != nil {
		return err
	}
	if keys == nil {
		keys = []mailtrail.APIKey{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"keys": keys})
	return nil
}

func (s *Server) revokeKey(w http.ResponseWriter, r *http.Request) error {
	if err := s.store.RevokeAPIKey(r.Context(), r.PathValue("org"), r.PathValue("key")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
