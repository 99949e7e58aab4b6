package dashboard

import (
	"html/template"
	"net/http"
	"net/url"

	"github.com/mailtrail/mailtrail"
)

// recipientList is one "who …" list of a campaign report.
type recipientList struct {
	Activity, Bounce string // the API's activity= and bounce=
	Human            bool
	Label            string
	Count            int64
}

// recipientLists are the report's lists, with the report's counts.
func recipientLists(c mailtrail.Counts) []recipientList {
	return []recipientList{
		{Activity: "opened", Human: true, Label: "Opened (people)", Count: c.HumanOpensUnique},
		{Activity: "opened", Label: "Opened (all)", Count: c.OpensUnique},
		{Activity: "clicked", Human: true, Label: "Clicked (people)", Count: c.HumanClicksUnique},
		{Activity: "clicked", Label: "Clicked (all)", Count: c.ClicksUnique},
		{Activity: "bounced", Bounce: "hard", Label: "Bounced hard", Count: c.BouncedHard},
		{Activity: "bounced", Bounce: "soft", Label: "Bounced soft", Count: c.BouncedSoft},
		{Activity: "complained", Label: "Complained", Count: c.Complained},
		{Activity: "unsubscribed", Label: "Unsubscribed", Count: c.Unsubscribed},
	}
}

// Query is the list's query string (activity, bounce, human), typed so that templates
// keep it as a query rather than escape it as one value.
func (l recipientList) Query() template.URL {
	v := url.Values{"activity": {l.Activity}}
	if l.Bounce != "" {
		v.Set("bounce", l.Bounce)
	}
	if l.Human {
		v.Set("human", "true")
	}
	return template.URL(v.Encode())
}

type recipientsData struct {
	Campaign, Name string
	List           recipientList
	Lists          []recipientList
	Page           *mailtrail.RecipientPage
	Next, CSV      string
}

const recipientsPerPage = 100

// recipientsPage lists who opened, clicked, bounced, complained or unsubscribed, a page at
// a time, with the list's CSV download.
func (h *Handler) recipientsPage(w http.ResponseWriter, r *http.Request) {
	rq := from(r)
	camp := r.PathValue("campaign")
	q := r.URL.Query()
	rep, err := h.opt.Query.Report(r.Context(), rq.org.ID, camp, rq.org.Timezone)
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	d := recipientsData{Campaign: camp, Name: camp, Lists: recipientLists(rep.Counts)}
	if rep.Name != "" {
		d.Name = rep.Name
	}
	found := false
	for _, l := range d.Lists {
		if l.Activity == q.Get("activity") && l.Bounce == q.Get("bounce") && l.Human == (q.Get("human") == "true") {
			d.List, found = l, true
		}
	}
	if !found {
		h.errorPage(w, r, rq, http.StatusNotFound, "There is no such list.")
		return
	}
	f := mailtrail.RecipientFilter{HumanOnly: d.List.Human, Bounce: mailtrail.BounceType(d.List.Bounce), Cursor: q.Get("cursor"), Limit: recipientsPerPage}
	f.Activity, _ = mailtrail.ParseEventType(d.List.Activity)
	if d.Page, err = h.opt.Query.Recipients(r.Context(), rq.org.ID, camp, f); err != nil {
		h.fail(w, r, rq, err)
		return
	}
	base := "/dashboard/campaigns/" + url.PathEscape(camp) + "/recipients"
	if d.Page.NextCursor != "" {
		d.Next = base + "?" + string(d.List.Query()) + "&cursor=" + url.QueryEscape(d.Page.NextCursor)
	}
	d.CSV = base + ".csv?" + string(d.List.Query())
	h.render(w, r, http.StatusOK, "recipients", h.page(rq, d.List.Label+" · "+d.Name, "campaigns", d))
}
