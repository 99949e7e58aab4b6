package httpd

import (
	"context"
	"net/http"
	"strconv"

	"github.com/mailtrail/mailtrail"
)

// CampaignStore lists an organization's campaigns.
type CampaignStore interface {
	Campaigns(ctx context.Context, orgID string, f mailtrail.CampaignFilter) (*mailtrail.CampaignPage, error)
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
	return f, nil
}

// listCampaigns answers GET /api/v1/campaigns: the organization's campaigns with their
// counts and rates, searchable, sortable, paginated.
func (s *Server) listCampaigns(w http.ResponseWriter, r *http.Request) {
	f, err := CampaignFilter(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	page, err := s.store.Campaigns(r.Context(), orgFrom(r).ID, f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}
