package httpd

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail"
)

// CampaignStore lists an organization's campaigns and names them.
type CampaignStore interface {
	Campaigns(ctx context.Context, orgID string, f mailtrail.CampaignFilter) (*mailtrail.CampaignPage, error)
	UpdateCampaign(ctx context.Context, orgID, campaign string, u mailtrail.CampaignUpdate) (*mailtrail.CampaignInfo, error)
}

// CampaignFilter reads ?q=&sort=&order=asc|desc&offset=&limit= of a campaign list.
func CampaignFilter(r *http.Request) (mailtrail.CampaignFilter, error) {
	q := r.URL.Query()
	f := mailtrail.CampaignFilter{Search: q.Get("q"), Sort: q.Get("sort")}
	switch q.Get("order") {
	case "", "desc":
	case "asc":
		f.Asc = true
	default:
		return f, mailtrail.Errorf(mailtrail.EINVALID, "order must be asc or desc")
	}
	var err error
	if f.Limit, err = pageLimit(q); err != nil {
		return f, err
	}
	if v := q.Get("offset"); v != "" {
		if f.Offset, err = strconv.Atoi(v); err != nil || f.Offset < 0 {
			return f, mailtrail.Errorf(mailtrail.EINVALID, "offset must be a number at least 0")
		}
	}
	loc := time.UTC
	if p := principalFrom(r.Context()); p != nil {
		if l, err := time.LoadLocation(p.org.Timezone); err == nil && p.org.Timezone != "" {
			loc = l
		}
	}
	if v := q.Get("sent_from"); v != "" {
		if f.SentFrom, err = mailtrail.ParseSentBound("sent_from", v, loc, false); err != nil {
			return f, err
		}
	}
	if v := q.Get("sent_to"); v != "" {
		if f.SentTo, err = mailtrail.ParseSentBound("sent_to", v, loc, true); err != nil {
			return f, err
		}
	}
	if !f.SentFrom.IsZero() && !f.SentTo.IsZero() && !f.SentFrom.Before(f.SentTo) {
		return f, mailtrail.Errorf(mailtrail.EINVALID, "sent_from must be before sent_to")
	}
	return f, nil
}

// listCampaigns answers GET /api/v1/campaigns: the organization's campaigns with their
// counts and rates, searchable, sortable, paginated.
func (s *Server) listCampaigns(w http.ResponseWriter, r *http.Request) error {
	f, err := CampaignFilter(r)
	if err != nil {
		return err
	}
	page, err := s.store.Campaigns(r.Context(), principalFrom(r.Context()).orgID(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// patchCampaign answers PATCH /api/v1/campaigns/{campaign}: sets the name and subject
// present in the body (an empty string clears one) of a campaign the organization has.
func (s *Server) patchCampaign(w http.ResponseWriter, r *http.Request) error {
	var u mailtrail.CampaignUpdate
	if err := decodeJSON(w, r, 16<<10, &u); err != nil {
		return err
	}
	if u.Name == nil && u.Subject == nil {
		return mailtrail.Errorf(mailtrail.EINVALID, "give name or subject")
	}
	ci, err := s.store.UpdateCampaign(r.Context(), principalFrom(r.Context()).orgID(), r.PathValue("campaign"), u)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ci)
	return nil
}

// compareCampaigns answers GET /api/v1/campaigns/compare?ids=a,b: the reports of two to
// four campaigns, in the order given, each the same as GET /api/v1/campaigns/{id}/report
// (timelines in ?tz= or the organization's zone).
func (s *Server) compareCampaigns(w http.ResponseWriter, r *http.Request) error {
	org := principalFrom(r.Context()).org
	var ids []string
	for _, id := range strings.Split(r.URL.Query().Get("ids"), ",") {
		if id = strings.TrimSpace(id); id != "" && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if len(ids) < 2 || len(ids) > 4 {
		return mailtrail.Errorf(mailtrail.EINVALID, "ids must list 2 to 4 distinct campaign ids, comma-separated")
	}
	tz := r.URL.Query().Get("tz")
	if tz == "" {
		tz = org.Timezone
	}
	out := struct {
		Campaigns []*mailtrail.Report `json:"campaigns"`
	}{}
	for _, id := range ids {
		rep, err := s.query.Report(r.Context(), org.ID, id, tz)
		if err != nil {
			return err
		}
		out.Campaigns = append(out.Campaigns, rep)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
