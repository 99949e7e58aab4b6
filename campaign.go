package mailtrail

import "time"

// CampaignSummary is one campaign of an organization's campaign list: its counts and its
// sent-based rates, all and human, computed as a report computes them.
type CampaignSummary struct {
	ID         string     `json:"campaign_id"`
	Counts     Counts     `json:"counts"`
	Rates      Rates      `json:"rates"`
	HumanRates Rates      `json:"human_rates"`
	LastActive *time.Time `json:"last_active,omitempty"` // start of its latest quarter hour with activity
}

// CampaignSorts are the orders of a campaign list (CampaignFilter.Sort).
var CampaignSorts = []string{"last_active", "name", "sent", "delivered", "open_rate", "human_open_rate",
	"click_rate", "human_click_rate", "bounce_rate", "complaint_rate"}

// CampaignFilter selects and orders an organization's campaigns.
type CampaignFilter struct {
	Search string // campaign id contains (case-insensitive); empty: all
	Sort   string // one of CampaignSorts; default last_active
	Asc    bool   // ascending; default descending
	Offset int
	Limit  int // default 50, at most 1000
}

// CampaignPage is one page of campaigns; Total counts every match of the filter.
type CampaignPage struct {
	Campaigns []CampaignSummary `json:"campaigns"`
	Total     int               `json:"total"`
	Offset    int               `json:"offset"`
	Limit     int               `json:"limit"`
}
