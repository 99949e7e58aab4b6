package dashboard

import (
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail"
)

// parsePages parses every page template with the layout.
func parsePages() map[string]*template.Template {
	funcs := template.FuncMap{
		"lower": strings.ToLower, "num": num, "num64": func(n int) string { return num(int64(n)) }, "pct": pct, "esc": url.PathEscape,
		"when": func(t *time.Time, org *mailtrail.Organization) string {
			if t == nil {
				return "—"
			}
			return t.In(orgLoc(org)).Format("2 Jan 2006 15:04")
		},
		"dim": func(v string) string { return dimLabel("", v) }, // a reason or source: "Unknown" when empty
		// sameAddress: two spellings of one address (addresses compare case-insensitively).
		"sameAddress": func(a, b string) bool { return mailtrail.NormalizeEmail(a) == mailtrail.NormalizeEmail(b) },
		"at": func(t time.Time, org *mailtrail.Organization) string {
			if t.IsZero() {
				return "—"
			}
			return t.In(orgLoc(org)).Format("2 Jan 2006 15:04")
		},
		"bar":   func(v, max int64) template.HTML { return miniBar(v, max) },
		"ratio": ratio,
		"day": func(t *time.Time, org *mailtrail.Organization) string {
			if t == nil {
				return "—"
			}
			return t.In(orgLoc(org)).Format("2 Jan 2006")
		},
	}
	out := map[string]*template.Template{}
	for _, name := range []string{"signin", "error", "orgs", "campaigns", "report", "suppressions", "import", "live", "connections", "segments", "recipients", "compare"} {
		out[name] = template.Must(template.New("").Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/"+name+".html"))
	}
	return out
}

// num writes an integer with thousands separators.
func num(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// pct writes a rate in [0,1] as a percentage: one decimal, two below 1%.
func pct(r float64) string {
	p := r * 100
	if p > 0 && p < 1 {
		return strconv.FormatFloat(p, 'f', 2, 64) + "%"
	}
	return strconv.FormatFloat(p, 'f', 1, 64) + "%"
}

func orgLoc(org *mailtrail.Organization) *time.Location {
	if org != nil {
		if l, err := time.LoadLocation(org.Timezone); err == nil && org.Timezone != "" {
			return l
		}
	}
	return time.UTC
}

// campaignColumns are the sortable columns of the campaign list.
var campaignColumns = []struct{ Sort, Label string }{
	{"name", "Campaign"}, {"sent_at", "Sent on"}, {"sent", "Sent"}, {"delivery_rate", "Delivered"}, {"human_open_rate", "Opened"},
	{"human_click_rate", "Clicked"}, {"unsubscribe_rate", "Unsubscribed"}, {"bounce_rate", "Bounced"},
}

type column struct {
	Label, URL string
	Sorted     string // "", "asc" or "desc"
	Numeric    bool
}

type campaignsData struct {
	Query       string
	From, To    string // the send-date filter's dates (YYYY-MM-DD, org's zone), as typed
	Filtered    bool
	Basis       string // "sent" or "delivered"
	Bases       []segLink
	Rows        []campaignRow
	Columns     []column
	Page        *mailtrail.CampaignPage
	First, Last int
	Prev, Next  string
}

const campaignsPerPage = 25

// campaignRow is a campaign of the list with its rates on the page's basis.
type campaignRow struct {
	mailtrail.CampaignSummary
	All, Human mailtrail.Rates
}

func (h *Handler) campaigns(w http.ResponseWriter, r *http.Request) {
	rq := from(r)
	q := r.URL.Query()
	f := mailtrail.CampaignFilter{Search: strings.TrimSpace(q.Get("q")), Sort: q.Get("sort"), Asc: q.Get("order") == "asc", Limit: campaignsPerPage}
	if !slices.Contains(mailtrail.CampaignSorts, f.Sort) {
		f.Sort, f.Asc = "sent_at", false // the latest sent first
	}
	pageNo := atoi(q.Get("page"), 1)
	f.Offset = (pageNo - 1) * campaignsPerPage
	from, to := strings.TrimSpace(q.Get("from")), strings.TrimSpace(q.Get("to"))
	loc := orgLoc(rq.org)
	var err error
	if from != "" {
		if f.SentFrom, err = mailtrail.ParseSentBound("from", from, loc, false); err != nil {
			h.fail(w, r, rq, err)
			return
		}
	}
	if to != "" {
		if f.SentTo, err = mailtrail.ParseSentBound("to", to, loc, true); err != nil {
			h.fail(w, r, rq, err)
			return
		}
	}
	if !f.SentFrom.IsZero() && !f.SentTo.IsZero() && !f.SentFrom.Before(f.SentTo) {
		h.fail(w, r, rq, mailtrail.Errorf(mailtrail.EINVALID, "The first date comes after the last."))
		return
	}
	res, err := h.opt.Store.Campaigns(r.Context(), rq.org.ID, f)
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	link := func(sort string, asc bool, pg int) string {
		v := url.Values{}
		if f.Search != "" {
			v.Set("q", f.Search)
		}
		if from != "" {
			v.Set("from", from)
		}
		if to != "" {
			v.Set("to", to)
		}
		v.Set("sort", sort)
		if asc {
			v.Set("order", "asc")
		}
		if pg > 1 {
			v.Set("page", strconv.Itoa(pg))
		}
		return "/dashboard/campaigns?" + v.Encode()
	}
	d := campaignsData{Query: f.Search, From: from, To: to, Filtered: from != "" || to != "", Page: res, Basis: h.rateBasis(w, r)}
	d.Bases = basisLinks("/dashboard/campaigns", d.Basis)
	for _, c := range res.Campaigns {
		row := campaignRow{CampaignSummary: c}
		row.All, row.Human = rateSets(c.Counts, d.Basis)
		d.Rows = append(d.Rows, row)
	}
	for i, c := range campaignColumns {
		if d.Basis == "delivered" && strings.HasSuffix(c.Sort, "_rate") && c.Sort != "delivery_rate" {
			c.Sort = "delivered_" + c.Sort // sort by the rates the page shows
		}
		col := column{Label: c.Label, Numeric: i > 1}
		asc := c.Sort == "name" // first click: names A→Z, figures highest first
		if c.Sort == f.Sort {
			col.Sorted = "desc"
			if f.Asc {
				col.Sorted = "asc"
			}
			asc = !f.Asc
		}
		col.URL = link(c.Sort, asc, 1)
		d.Columns = append(d.Columns, col)
	}
	if n := len(res.Campaigns); n > 0 {
		d.First, d.Last = f.Offset+1, f.Offset+n
	}
	if pageNo > 1 {
		d.Prev = link(f.Sort, f.Asc, pageNo-1)
	}
	if f.Offset+len(res.Campaigns) < res.Total {
		d.Next = link(f.Sort, f.Asc, pageNo+1)
	}
	h.render(w, r, http.StatusOK, "campaigns", h.page(rq, "Campaigns", "campaigns", d))
}

type reportData struct {
	Campaign string // the campaign id
	Name     string // its display name, else its id
	Subject  string
	SentAt   string // "" before its first send
	Report   *mailtrail.Report
	Tiles    []tile
	Basis    string // "sent" or "delivered": the rates' denominator
	Bases    []segLink
	Period   string // "hourly" or "daily"
	HourlyOK bool
	// PeriodLinks and CountLinks switch the charts between hours and days, and between
	// people who opened or clicked (running totals) and every open or click.
	PeriodLinks, CountLinks []segLink
	Charts                  []template.HTML
	// The charts' date range (YYYY-MM-DD in the org's zone, empty: the campaign's whole
	// timeline), the campaign's first and last day (the inputs' bounds), and the range's
	// own figures, summed from the report's daily buckets.
	From, To, MinDay, MaxDay string
	Ranged                   bool
	Range                    mailtrail.TimelineBucket
	Period0, Count0          string // the chart switches, kept by the range form
	Opens                    []dimTable
	Clicks                   []dimTable
	Lists                    []recipientList
	// Stream is the session's event stream filtered to the campaign, which report-live.js
	// follows to refresh the page in place; empty: no stream, no script.
	Stream string
}

// segLink is one choice of a segmented control.
type segLink struct {
	Label, URL string
	On         bool
}

func (h *Handler) report(w http.ResponseWriter, r *http.Request) {
	rq := from(r)
	camp := r.PathValue("campaign")
	rep, err := h.opt.Query.Report(r.Context(), rq.org.ID, camp, rq.org.Timezone)
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	d := reportData{Campaign: camp, Name: camp, Subject: rep.Subject, Report: rep, Opens: dimTables(rep.Breakdowns.Opens), Clicks: dimTables(rep.Breakdowns.Clicks)}
	d.Basis = h.rateBasis(w, r)
	d.Tiles = reportTiles(rep.Counts, d.Basis)
	d.Bases = basisLinks("/dashboard/campaigns/"+url.PathEscape(camp), d.Basis)
	loc := orgLoc(rq.org)
	if rep.Name != "" {
		d.Name = rep.Name
	}
	if rep.SentAt != nil {
		d.SentAt = rep.SentAt.In(loc).Format("Mon 2 Jan 2006 at 15:04")
	}
	q := r.URL.Query()
	if n := len(rep.Daily); n > 0 {
		d.MinDay, d.MaxDay = rep.Daily[0].Start.In(loc).Format("2006-01-02"), rep.Daily[n-1].Start.In(loc).Format("2006-01-02")
	}
	d.From, d.To = strings.TrimSpace(q.Get("from")), strings.TrimSpace(q.Get("to"))
	var lo, hi time.Time
	if d.From != "" {
		if lo, err = mailtrail.ParseSentBound("from", d.From, loc, false); err != nil || len(d.From) != 10 {
			h.errorPage(w, r, rq, http.StatusBadRequest, "The first date of the range must be a date (YYYY-MM-DD).")
			return
		}
	}
	if d.To != "" {
		if hi, err = mailtrail.ParseSentBound("to", d.To, loc, true); err != nil || len(d.To) != 10 {
			h.errorPage(w, r, rq, http.StatusBadRequest, "The last date of the range must be a date (YYYY-MM-DD).")
			return
		}
	}
	if !lo.IsZero() && !hi.IsZero() && !lo.Before(hi) {
		h.errorPage(w, r, rq, http.StatusBadRequest, "The first date of the range comes after the last.")
		return
	}
	d.Ranged = !lo.IsZero() || !hi.IsZero()
	if d.Ranged {
		in := func(tl []mailtrail.TimelineBucket) []mailtrail.TimelineBucket {
			var out []mailtrail.TimelineBucket
			for _, b := range tl {
				if (lo.IsZero() || !b.Start.Before(lo)) && (hi.IsZero() || b.Start.Before(hi)) {
					out = append(out, b)
				}
			}
			return out
		}
		rep.Hourly, rep.Daily = in(rep.Hourly), in(rep.Daily)
		for _, b := range rep.Daily {
			addBucket(&d.Range, b)
		}
	}
	hourly := fillTimeline(rep.Hourly, loc, false)
	d.HourlyOK = len(hourly) <= maxHourlyPoints
	d.Period = "daily"
	if q.Get("period") == "hourly" && d.HourlyOK || q.Get("period") == "" && d.HourlyOK && len(rep.Daily) <= 3 {
		d.Period = "hourly"
	}
	count := "unique"
	if q.Get("count") == "total" {
		count = "total"
	}
	series := hourly
	if d.Period == "daily" {
		series = fillTimeline(rep.Daily, loc, true)
	}
	d.Charts = timelineCharts(series, d.Period == "daily", count == "unique", loc)
	d.Period0, d.Count0 = d.Period, count
	link := func(period, cnt string) string {
		v := url.Values{"period": {period}}
		if cnt != "unique" {
			v.Set("count", cnt)
		}
		if d.From != "" {
			v.Set("from", d.From)
		}
		if d.To != "" {
			v.Set("to", d.To)
		}
		return "?" + v.Encode() + "#timeline"
	}
	if d.HourlyOK {
		d.PeriodLinks = append(d.PeriodLinks, segLink{"Hourly", link("hourly", count), d.Period == "hourly"})
	}
	d.PeriodLinks = append(d.PeriodLinks, segLink{"Daily", link("daily", count), d.Period == "daily"})
	d.CountLinks = []segLink{{"Recipients", link(d.Period, "unique"), count == "unique"}, {"Every open and click", link(d.Period, "total"), count == "total"}}
	d.Lists = recipientLists(rep.Counts)
	if h.opt.Stream != nil {
		d.Stream = "/dashboard/live/stream?" + url.Values{"campaign_id": {camp}}.Encode()
	}
	h.render(w, r, http.StatusOK, "report", h.page(rq, d.Name, "campaigns", d))
}

// addBucket adds b's figures to t.
func addBucket(t *mailtrail.TimelineBucket, b mailtrail.TimelineBucket) {
	t.Sent += b.Sent
	t.Delivered += b.Delivered
	t.OpensTotal += b.OpensTotal
	t.OpensUnique += b.OpensUnique
	t.HumanOpensTotal += b.HumanOpensTotal
	t.HumanOpensUnique += b.HumanOpensUnique
	t.ClicksTotal += b.ClicksTotal
	t.ClicksUnique += b.ClicksUnique
	t.HumanClicksTotal += b.HumanClicksTotal
	t.HumanClicksUnique += b.HumanClicksUnique
}

func ratio(n, d int64) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / float64(d)
}

// recipientsCSV serves a list of who opened, clicked, bounced, complained or unsubscribed
// as the API's CSV download.
func (h *Handler) recipientsCSV(w http.ResponseWriter, r *http.Request) {
	rq := from(r)
	if h.opt.Recipients == nil {
		h.errorPage(w, r, rq, http.StatusNotFound, "There is no such page.")
		return
	}
	q := r.URL.Query()
	v := url.Values{"format": {"csv"}}
	for _, k := range []string{"activity", "human", "link", "bounce"} {
		if x := q.Get(k); x != "" {
			v.Set(k, x)
		}
	}
	r2 := r.Clone(r.Context())
	r2.URL.RawQuery = v.Encode()
	// The API answers errors in JSON; check the campaign first so a browser gets a page.
	if _, err := h.opt.Query.Campaign(r.Context(), rq.org.ID, r.PathValue("campaign")); err != nil {
		h.fail(w, r, rq, err)
		return
	}
	h.opt.Recipients(w, r2, rq.org)
}

// miniBar is a small horizontal bar (inline SVG: the CSP allows no style attributes).
func miniBar(v, m int64) template.HTML {
	w := 0.0
	if m > 0 {
		w = math.Round(float64(v)/float64(m)*1000) / 10
	}
	return template.HTML(fmt.Sprintf(`<svg class="minibar" viewBox="0 0 100 6" preserveAspectRatio="none" aria-hidden="true"><rect width="100" height="6" rx="3" class="track"/><rect width="%.1f" height="6" rx="3" class="fill"/></svg>`, w))
}
