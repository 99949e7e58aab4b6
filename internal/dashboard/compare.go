package dashboard

import (
	"fmt"
	"html"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail"
)

// compareHours is how much of each campaign the comparison charts: its first 72 hours.
const compareHours = 72

// compareMax is how many campaigns the comparison takes at once.
const compareMax = 4

// compareColumn is one campaign of a comparison: its report's figures and rates on the
// page's basis, its colour class (k1…k4) and its curves over the hours since its send.
type compareColumn struct {
	ID, Name, Subject, SentAt, Class string
	Counts                           mailtrail.Counts
	All, Human                       mailtrail.Rates
	Opens, Clicks                    []int64 // people who opened (clicked) so far, hour by hour since the send
}

type compareData struct {
	Campaigns []compareColumn
	Basis     string
	Bases     []segLink
	Charts    []template.HTML
}

// comparePage answers GET /dashboard/compare?c=a&c=b (two to four campaigns): each
// campaign's report (query.Service.Report, what the API serves), its rates on the page's
// basis, and the running totals of people who opened and clicked in its first 72 hours,
// aligned on the send times.
func (h *Handler) comparePage(w http.ResponseWriter, r *http.Request) {
	rq := from(r)
	var ids []string
	for _, v := range r.URL.Query()["c"] {
		for _, id := range strings.Split(v, ",") {
			if id = strings.TrimSpace(id); id != "" && !contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	if len(ids) < 2 || len(ids) > compareMax {
		h.errorPage(w, r, rq, http.StatusBadRequest, fmt.Sprintf("Tick two to four campaigns in the campaign list to compare them (%d given).", len(ids)))
		return
	}
	d := compareData{Basis: h.rateBasis(w, r)}
	v := url.Values{"c": ids}
	d.Bases = basisLinks("/dashboard/compare", d.Basis)
	for i := range d.Bases {
		d.Bases[i].URL = "/dashboard/compare?" + v.Encode() + "&" + strings.SplitN(d.Bases[i].URL, "?", 2)[1]
	}
	loc := orgLoc(rq.org)
	now := h.opt.Now()
	for i, id := range ids {
		rep, err := h.opt.Query.Report(r.Context(), rq.org.ID, id, rq.org.Timezone)
		if err != nil {
			if mailtrail.ErrorCode(err) == mailtrail.ENOTFOUND {
				h.errorPage(w, r, rq, http.StatusNotFound, fmt.Sprintf("There is no campaign %q.", id))
				return
			}
			h.fail(w, r, rq, err)
			return
		}
		c := compareColumn{ID: id, Name: id, Subject: rep.Subject, Class: fmt.Sprintf("k%d", i+1), Counts: rep.Counts}
		if rep.Name != "" {
			c.Name = rep.Name
		}
		c.All, c.Human = rateSets(rep.Counts, d.Basis)
		if rep.SentAt != nil {
			c.SentAt = rep.SentAt.In(loc).Format("2 Jan 2006 15:04")
			c.Opens, c.Clicks = sinceSend(rep, now)
		}
		d.Campaigns = append(d.Campaigns, c)
	}
	d.Charts = compareCharts(d.Campaigns)
	h.render(w, r, http.StatusOK, "compare", h.page(rq, "Compare campaigns", "campaigns", d))
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// sinceSend returns the running totals of people who opened and who clicked (each counted
// at their first own open or click: the report's human uniques, bucketed) at the end of
// each hour since the hour of the report's send, for its first 72 hours or until now.
// Hour 0 is the hour of the send (activity in the quarter-hour the timeline keeps before
// it counts there too).
func sinceSend(rep *mailtrail.Report, now time.Time) (opens, clicks []int64) {
	s := *rep.SentAt
	base := s.Add(-time.Duration(s.Minute())*time.Minute - time.Duration(s.Second())*time.Second - time.Duration(s.Nanosecond()))
	n := compareHours
	if el := int(now.Sub(base)/time.Hour) + 1; el < n {
		n = max(1, el)
	}
	po, pc := make([]int64, n), make([]int64, n)
	for _, b := range rep.Hourly {
		i := max(0, int(b.Start.Sub(base)/time.Hour))
		if i >= n {
			continue
		}
		po[i] += b.HumanOpensUnique
		pc[i] += b.HumanClicksUnique
	}
	for i := 1; i < n; i++ {
		po[i] += po[i-1]
		pc[i] += pc[i-1]
	}
	return po, pc
}

// compareCharts draws one chart of people who opened, one of people who clicked, a line a
// campaign on a shared axis of hours since each one's send.
func compareCharts(cs []compareColumn) []template.HTML {
	var out []template.HTML
	for _, k := range []struct {
		id, title string
		vals      func(c compareColumn) []int64
	}{
		{"compare-opens", "People who opened, running total", func(c compareColumn) []int64 { return c.Opens }},
		{"compare-clicks", "People who clicked, running total", func(c compareColumn) []int64 { return c.Clicks }},
	} {
		out = append(out, compareChart(k.id, k.title, cs, k.vals))
	}
	return out
}

func compareChart(id, title string, cs []compareColumn, vals func(compareColumn) []int64) template.HTML {
	const W, H, right, top, bottom = 720.0, 236.0, 14.0, 12.0, 40.0
	esc := html.EscapeString
	var m int64
	for _, c := range cs {
		for _, v := range vals(c) {
			m = max(m, v)
		}
	}
	step, ymax := niceTicks(m)
	left := max(52.0, float64(len(num(ymax)))*6.2+14)
	pw, ph := W-left-right, H-top-bottom
	x := func(hr int) float64 { return left + pw*float64(hr)/compareHours } // the end of hour hr-1
	y := func(v int64) float64 { return top + ph - ph*float64(v)/float64(ymax) }
	var b strings.Builder
	fmt.Fprintf(&b, `<figure class="chart compare-chart" id="%s"><figcaption><span class="chart-title">%s</span><span class="legend">`, id, esc(title))
	var aria []string
	for _, c := range cs {
		v := vals(c)
		last := int64(0)
		if len(v) > 0 {
			last = v[len(v)-1]
		}
		fmt.Fprintf(&b, `<span class="key %s">%s <b>%s</b></span>`, c.Class, esc(c.Name), num(last))
		aria = append(aria, c.Name+" "+num(last))
	}
	b.WriteString(`</span></figcaption><p class="muted small chart-note">Each person counts once, at their first own open or click (privacy proxies and link scanners left out), by hours since each campaign's send; a campaign sent less than 72 hours ago stops at now.</p>`)
	fmt.Fprintf(&b, `<div class="chart-box"><svg viewBox="0 0 %.0f %.0f" role="img" aria-label="%s: %s">`, W, H, esc(title), esc(strings.Join(aria, ", ")))
	for v := int64(0); v <= ymax; v += step {
		yy := y(v)
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f"/><text class="ytick" x="%.1f" y="%.1f">%s</text>`,
			left, W-right, yy, yy, left-6, yy+4, num(v))
	}
	for hr := 0; hr <= compareHours; hr += 12 {
		xx := x(hr)
		fmt.Fprintf(&b, `<line class="xmark" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f"/><text class="xtick" text-anchor="%s" x="%.1f" y="%.1f">%dh</text>`,
			xx, xx, top+ph, top+ph+4, textAnchor(xx, 3, 0, W), xx, top+ph+16, hr)
	}
	fmt.Fprintf(&b, `<text class="xtick" text-anchor="middle" x="%.1f" y="%.1f">hours since the send</text>`, left+pw/2, top+ph+32)
	for _, c := range cs {
		v := vals(c)
		if len(v) == 0 {
			continue
		}
		var pts strings.Builder
		fmt.Fprintf(&pts, "%.1f,%.1f", x(0), y(0))
		for i, n := range v {
			fmt.Fprintf(&pts, " %.1f,%.1f", x(i+1), y(n))
		}
		fmt.Fprintf(&b, `<polyline class="line %s" data-campaign="%s" points="%s"/>`, c.Class, esc(c.ID), pts.String())
	}
	// One hit column per hour, its figures for every campaign.
	band := pw / compareHours
	for hr := range compareHours {
		var tip strings.Builder
		fmt.Fprintf(&tip, "Hour %d after the send", hr+1)
		var parts []string
		for _, c := range cs {
			v := vals(c)
			if hr < len(v) {
				parts = append(parts, fmt.Sprint(v[hr]))
				fmt.Fprintf(&tip, " · %s %s", c.Name, num(v[hr]))
			} else {
				parts = append(parts, "-")
			}
		}
		fmt.Fprintf(&b, `<rect class="hit" x="%.1f" y="%.1f" width="%.1f" height="%.1f" data-parts="%s" data-tip="%s"><title>%s</title></rect>`,
			left+band*float64(hr), top, band, ph, strings.Join(parts, " "), esc(tip.String()), esc(tip.String()))
	}
	b.WriteString(`</svg></div><p class="chart-readout small" aria-live="polite"></p>`)
	b.WriteString(`<details class="chart-table"><summary>Table of figures</summary><div class="table-wrap"><table class="compact"><thead><tr><th scope="col">Hours since the send</th>`)
	for _, c := range cs {
		fmt.Fprintf(&b, `<th scope="col" class="r">%s</th>`, esc(c.Name))
	}
	b.WriteString(`</tr></thead><tbody>`)
	for _, hr := range []int{1, 2, 3, 6, 12, 24, 48, 72} {
		fmt.Fprintf(&b, `<tr><th scope="row">%dh</th>`, hr)
		for _, c := range cs {
			if v := vals(c); hr <= len(v) {
				fmt.Fprintf(&b, `<td class="r">%s</td>`, num(v[hr-1]))
			} else {
				b.WriteString(`<td class="r">—</td>`)
			}
		}
		b.WriteString(`</tr>`)
	}
	b.WriteString(`</tbody></table></div></details></figure>`)
	return template.HTML(b.String())
}
