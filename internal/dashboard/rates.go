package dashboard

import (
	"net/http"

	"github.com/mailtrail/mailtrail"
)

// ratesCookie remembers whether a browser reads rates of sent or of delivered emails.
const ratesCookie = "mt_rates"

// rateBasis returns "sent" or "delivered": the request's ?rates= (remembered in a cookie
// for a year, so every page then uses it), else the cookie's, else "sent" (Score CRM's
// definition). It works without JavaScript, and no script or style is inline.
func (h *Handler) rateBasis(w http.ResponseWriter, r *http.Request) string {
	switch v := r.URL.Query().Get("rates"); v {
	case "sent", "delivered":
		h.setCookie(w, r, ratesCookie, v, 365*24*3600)
		return v
	}
	if c, err := r.Cookie(ratesCookie); err == nil && c.Value == "delivered" {
		return "delivered"
	}
	return "sent"
}

// rateSets returns the rates of a campaign's counts on basis, all and human, computed as
// the API computes them (mailtrail.Report.ComputeRates).
func rateSets(c mailtrail.Counts, basis string) (all, human mailtrail.Rates) {
	rep := mailtrail.Report{Counts: c}
	rep.ComputeRates()
	if basis == "delivered" {
		return rep.DeliveredRates, rep.HumanDeliveredRates
	}
	return rep.Rates, rep.HumanRates
}

// tile is one KPI of a report: its figure, its rate (Rate, in the chosen basis) and what
// else it says (Detail; All and AllRate for opens and clicks with machines).
type tile struct {
	ID, Label, Value string
	Rate, Detail     string
	All, AllRate     string
}

// reportTiles are the KPIs of a report, rates on basis.
func reportTiles(c mailtrail.Counts, basis string) []tile {
	ar, hr := rateSets(c, basis)
	return []tile{
		{ID: "sent", Label: "Sent", Value: num(c.Sent)},
		{ID: "delivered", Label: "Delivered", Value: num(c.Delivered), Rate: pct(ratio(c.Delivered, c.Sent)), Detail: "of sent"},
		{ID: "opens", Label: "Opened (people)", Value: num(c.HumanOpensUnique), Rate: pct(hr.Open), All: num(c.OpensUnique), AllRate: pct(ar.Open)},
		{ID: "clicks", Label: "Clicked (people)", Value: num(c.HumanClicksUnique), Rate: pct(hr.Click), All: num(c.ClicksUnique), AllRate: pct(ar.Click)},
		{ID: "bounces", Label: "Bounced", Value: num(c.Bounced), Rate: pct(ar.Bounce), Detail: "· hard " + num(c.BouncedHard) + ", soft " + num(c.BouncedSoft)},
		{ID: "complaints", Label: "Complaints", Value: num(c.Complained), Rate: pct(ar.Complaint)},
		{ID: "unsubscribes", Label: "Unsubscribed", Value: num(c.Unsubscribed), Rate: pct(ar.Unsubscribe)},
	}
}

// basisLinks is the control that switches the rates' basis on the page at path.
func basisLinks(path, basis string) []segLink {
	return []segLink{{"Of sent", path + "?rates=sent", basis == "sent"}, {"Of delivered", path + "?rates=delivered", basis == "delivered"}}
}
