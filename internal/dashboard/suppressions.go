package dashboard

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/suppression"
)

// Suppressions is what the suppressions pages need: the suppressions use case
// (suppression.Service), the API's own, so the same rules apply whichever door is used.
type Suppressions interface {
	List(ctx context.Context, orgID string, f mailtrail.SuppressionFilter) (*mailtrail.SuppressionPage, error)
	Count(ctx context.Context, orgID string, f mailtrail.SuppressionFilter) (int, error)
	Add(ctx context.Context, orgID string, in []mailtrail.SuppressionInput, source, actor string) (mailtrail.AddResult, error)
	Remove(ctx context.Context, orgID, email, topic, actor, why string) (*mailtrail.Suppression, error)
	Import(ctx context.Context, r io.Reader, orgID, actor string, opt suppression.ImportOptions) (suppression.ImportResult, error)
}

const (
	importPath          = "/dashboard/suppressions/import"
	maxImport           = 32 << 20 // bytes of a CSV uploaded through the dashboard
	suppressionsPerPage = 50
	actor               = "dashboard" // the audit entries' actor of changes made here
)

var (
	suppressionReasons = []string{mailtrail.ReasonHardBounce, mailtrail.ReasonSoftBounce, mailtrail.ReasonComplaint,
		mailtrail.ReasonUnsubscribed, mailtrail.ReasonManual, mailtrail.ReasonListImport}
	suppressionSources = []string{mailtrail.SuppressSourceWebhook, mailtrail.SuppressSourceTrackingLink,
		mailtrail.SuppressSourceManual, mailtrail.SuppressSourceCSV, mailtrail.SuppressSourceAPI}
)

type suppressionsData struct {
	Reason, Source, Query string
	Reasons, Sources      []string
	Page                  *mailtrail.SuppressionPage
	Total                 int // suppressions matching the filters, on every page
	First, Next, Export   string
	Cursor                string
	Added, Removed        string // the address just added or removed
	Existing              bool   // the address added was suppressed already
	Back                  string // this page's URL, where the remove forms return
}

func (h *Handler) supStore(w http.ResponseWriter, r *http.Request) (Suppressions, *request) {
	rq := from(r)
	if h.opt.Suppressions == nil {
		h.errorPage(w, r, rq, http.StatusNotFound, "There is no such page.")
		return nil, rq
	}
	return h.opt.Suppressions, rq
}

// filterValues keeps the known filters of q.
func filterValues(q url.Values) url.Values {
	v := url.Values{}
	for _, k := range []string{"reason", "source", "q"} {
		if x := strings.TrimSpace(q.Get(k)); x != "" {
			v.Set(k, x)
		}
	}
	return v
}

func (h *Handler) suppressionsPage(w http.ResponseWriter, r *http.Request) {
	st, rq := h.supStore(w, r)
	if st == nil {
		return
	}
	q := r.URL.Query()
	fv := filterValues(q)
	d := suppressionsData{Reason: fv.Get("reason"), Source: fv.Get("source"), Query: fv.Get("q"), Cursor: q.Get("cursor"),
		Reasons: suppressionReasons, Sources: suppressionSources, Added: q.Get("added"), Removed: q.Get("removed"), Existing: q.Get("existing") == "1"}
	if err := checkFilter(d.Reason, d.Source); err != nil {
		h.fail(w, r, rq, err)
		return
	}
	// Newest first: an address just added is at the top of the first page.
	f := mailtrail.SuppressionFilter{Reason: d.Reason, Source: d.Source, Query: d.Query, Cursor: d.Cursor, Limit: suppressionsPerPage, Newest: true}
	page, err := st.List(r.Context(), rq.org.ID, f)
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	if d.Total, err = st.Count(r.Context(), rq.org.ID, f); err != nil {
		h.fail(w, r, rq, err)
		return
	}
	d.Page = page
	d.First = "/dashboard/suppressions?" + fv.Encode()
	d.Export = "/dashboard/suppressions/export.csv?" + fv.Encode()
	d.Back = d.First
	if d.Cursor != "" {
		bv := filterValues(q)
		bv.Set("cursor", d.Cursor)
		d.Back = "/dashboard/suppressions?" + bv.Encode()
	}
	if page.NextCursor != "" {
		nv := filterValues(q)
		nv.Set("cursor", page.NextCursor)
		d.Next = "/dashboard/suppressions?" + nv.Encode()
	}
	h.render(w, r, http.StatusOK, "suppressions", h.page(rq, "Suppressions", "suppressions", d))
}

// back returns a suppressions page URL from a form, with extra parameters.
func back(form url.Values, extra url.Values) string {
	u, err := url.Parse(form.Get("back"))
	if err != nil || u.Path != "/dashboard/suppressions" {
		u = &url.URL{Path: "/dashboard/suppressions"}
	}
	q := u.Query()
	v := filterValues(q)
	if c := q.Get("cursor"); c != "" {
		v.Set("cursor", c)
	}
	for k, x := range extra {
		v[k] = x
	}
	return "/dashboard/suppressions?" + v.Encode()
}

func (h *Handler) addSuppression(w http.ResponseWriter, r *http.Request) {
	st, rq := h.supStore(w, r)
	if st == nil {
		return
	}
	ins := []mailtrail.SuppressionInput{{Email: r.PostForm.Get("email"), Reason: mailtrail.ReasonManual, Note: r.PostForm.Get("note")}}
	res, err := st.Add(r.Context(), rq.org.ID, ins, mailtrail.SuppressSourceManual, actor)
	var e *mailtrail.Error
	if errors.As(err, &e) && len(e.Details) == 1 {
		h.errorPage(w, r, rq, http.StatusBadRequest, e.Details[0].Message) // the field's problem
		return
	}
	in := ins[0]
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	extra := url.Values{"added": {mailtrail.NormalizeEmail(in.Email)}}
	if res.Added == 0 {
		extra.Set("existing", "1")
	}
	http.Redirect(w, r, back(url.Values{}, extra), http.StatusSeeOther)
}

func (h *Handler) removeSuppression(w http.ResponseWriter, r *http.Request) {
	st, rq := h.supStore(w, r)
	if st == nil {
		return
	}
	email := strings.TrimSpace(r.PostForm.Get("email"))
	why := strings.TrimSpace(r.PostForm.Get("why"))
	if why == "" || len(why) > 1000 {
		h.errorPage(w, r, rq, http.StatusBadRequest, "Say why the address may be mailed again (at most 1000 characters).")
		return
	}
	sup, err := st.Remove(r.Context(), rq.org.ID, email, r.PostForm.Get("topic"), actor, why)
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	http.Redirect(w, r, back(r.PostForm, url.Values{"removed": {sup.Email}}), http.StatusSeeOther)
}

func (h *Handler) exportSuppressions(w http.ResponseWriter, r *http.Request) {
	rq := from(r)
	if h.opt.SuppressionExport == nil {
		h.errorPage(w, r, rq, http.StatusNotFound, "There is no such page.")
		return
	}
	q := r.URL.Query()
	if err := checkFilter(q.Get("reason"), q.Get("source")); err != nil {
		h.fail(w, r, rq, err)
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.RawQuery = filterValues(q).Encode()
	h.opt.SuppressionExport(w, r2, rq.org)
}

// checkFilter refuses unknown reasons and sources before the API would answer in JSON.
func checkFilter(reason, source string) error {
	ok := func(v string, in []string) bool {
		if v == "" {
			return true
		}
		for _, x := range in {
			if x == v {
				return true
			}
		}
		return false
	}
	if !ok(reason, suppressionReasons) || !ok(source, suppressionSources) {
		return mailtrail.Errorf(mailtrail.EINVALID, "Unknown reason or source.")
	}
	return nil
}
