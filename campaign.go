package mailtrail

import "time"

// CampaignSummary is one campaign of an organization's campaign list: its counts and its
// sent-based rates, all and human, computed as a report computes them.
type CampaignSummary struct {
	ID         string     `json:"campaign_id"`
	Name       string     `json:"name,omitempty"`
	Subject    string     `json:"subject,omitempty"`
	SentAt     *time.Time `json:"sent_at,omitempty"` // start of its first quarter hour with a sent event
	Counts     Counts     `json:"counts"`
	Rates      Rates      `json:"rates"`
	HumanRates Rates      `json:"human_rates"`
	LastActive *time.Time `json:"last_active,omitempty"` // start of its latest quarter hour with activity
}

// CampaignInfo is what people call a campaign: a display name and its email's subject
// (both optional: empty when never given), and when it was sent (the start of the quarter
// hour of its first sent event; nil before any).
type CampaignInfo struct {
	ID      string     `json:"campaign_id"`
	Name    string     `json:"name"`
	Subject string     `json:"subject"`
	SentAt  *time.Time `json:"sent_at,omitempty"`
}

// CampaignUpdate changes a campaign's name and subject; a nil field stays as it is, an
// empty one clears it.
type CampaignUpdate struct {
	Name    *string `json:"name"`
	Subject *string `json:"subject"`
}

// The longest campaign name and subject (a subject line's limit in RFC 5322).
const (
	MaxCampaignName = 200
	MaxSubject      = 998
)

// CampaignSorts are the orders of a campaign list (CampaignFilter.Sort).
// The delivered_ sorts order by the delivered-based rates.
var CampaignSorts = []string{"last_active", "name", "sent_at", "sent", "delivered", "delivery_rate", "open_rate", "human_open_rate",
	"click_rate", "human_click_rate", "bounce_rate", "complaint_rate", "unsubscribe_rate",
	"delivered_open_rate", "delivered_human_open_rate", "delivered_click_rate", "delivered_human_click_rate",
	"delivered_bounce_rate", "delivered_complaint_rate", "delivered_unsubscribe_rate"}

// CampaignFilter selects and orders an organization's campaigns.
type CampaignFilter struct {
	Search string // campaign id or name contains (case-insensitive); empty: all
	Sort   string // one of CampaignSorts; default last_active
	Asc    bool   // ascending; default descending
	Offset int
	Limit  int // default 50, at most 1000
	// SentFrom and SentTo keep the campaigns whose SentAt is at or after SentFrom and
	// before SentTo (zero: no bound); with either set, campaigns never sent are left out.
	SentFrom, SentTo time.Time
}

// ParseSentBound reads a bound of a send-date filter named field: an RFC 3339 time, or a
// date (YYYY-MM-DD) in loc that stands for the start of that day, or with end for the
// start of the next day (so a "to" date includes its whole day). EINVALID names the field.
func ParseSentBound(field, v string, loc *time.Location, end bool) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	d, err := time.ParseInLocation("2006-01-02", v, loc)
	if err != nil {
		return time.Time{}, Errorf(EINVALID, "%s must be a date (YYYY-MM-DD) or an RFC 3339 time", field)
	}
	if end {
		d = time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, loc)
	}
	return d, nil
}

// CampaignPage is one page of campaigns; Total counts every match of the filter.
type CampaignPage struct {
	Campaigns []CampaignSummary `json:"campaigns"`
	Total     int               `json:"total"`
	Offset    int               `json:"offset"`
	Limit     int               `json:"limit"`
}
