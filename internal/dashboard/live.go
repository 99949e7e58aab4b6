package dashboard

import (
	"net/http"

	"github.com/mailtrail/mailtrail"
)

type liveData struct {
	Types []string
}

func (h *Handler) livePage(w http.ResponseWriter, r *http.Request) {
	rq := from(r)
	if h.opt.Stream == nil {
		h.errorPage(w, r, rq, http.StatusNotFound, "There is no such page.")
		return
	}
	var d liveData
	for _, t := range mailtrail.EventTypes {
		d.Types = append(d.Types, t.String())
	}
	h.render(w, r, http.StatusOK, "live", h.page(rq, "Live events", "live", d))
}

// liveStream serves the session's organization's event stream, as GET /api/v1/stream
// (type and campaign_id filters, Last-Event-ID).
func (h *Handler) liveStream(w http.ResponseWriter, r *http.Request) {
	rq := from(r)
	if h.opt.Stream == nil {
		h.errorPage(w, r, rq, http.StatusNotFound, "There is no such page.")
		return
	}
	h.opt.Stream(w, r, rq.org)
}
