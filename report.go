package mailtrail

import "time"

// Counts are the figures of a campaign, or of one bucket of its timeline.
// Uniques count messages (one recipient of one email) that had at least one such event.
type Counts struct {
	Sent              int64 `json:"sent"`
	Delivered         int64 `json:"delivered"`
	OpensTotal        int64 `json:"opens_total"`
	OpensUnique       int64 `json:"opens_unique"`
	HumanOpensTotal   int64 `json:"human_opens_total"`
	HumanOpensUnique  int64 `json:"human_opens_unique"`
	ClicksTotal       int64 `json:"clicks_total"`
	ClicksUnique      int64 `json:"clicks_unique"`
	HumanClicksTotal  int64 `json:"human_clicks_total"`
	HumanClicksUnique int64 `json:"human_clicks_unique"`
	Bounced           int64 `json:"bounced"`
	BouncedHard       int64 `json:"bounced_hard"`
	BouncedSoft       int64 `json:"bounced_soft"`
	Complained        int64 `json:"complained"`
	Unsubscribed      int64 `json:"unsubscribed"`
}

// Rates are ratios in [0,1]; a zero denominator gives 0.
type Rates struct {
	Open        float64 `json:"open_rate"`
	Click       float64 `json:"click_rate"`
	ClickToOpen float64 `json:"click_to_open_rate"`
	Bounce      float64 `json:"bounce_rate"`
	Complaint   float64 `json:"complaint_rate"`
	Unsubscribe float64 `json:"unsubscribe_rate"`
}

// TimelineBucket is one hour (or day) of a campaign in the requested time zone.
type TimelineBucket struct {
	Start             time.Time `json:"start"`
	Sent              int64     `json:"sent"`
	Delivered         int64     `json:"delivered"`
	OpensTotal        int64     `json:"opens_total"`
	OpensUnique       int64     `json:"opens_unique"`
	HumanOpensTotal   int64     `json:"human_opens_total"`
	HumanOpensUnique  int64     `json:"human_opens_unique"`
	ClicksTotal       int64     `json:"clicks_total"`
	ClicksUnique      int64     `json:"clicks_unique"`
	HumanClicksTotal  int64     `json:"human_clicks_total"`
	HumanClicksUnique int64     `json:"human_clicks_unique"`
}

// LinkStats are the clicks of one URL of a campaign.
type LinkStats struct {
	// ID is the store's id of the link's URL within the organization, for reading more
	// about the same link in the same snapshot (its top clickers); not part of the API.
	ID          int64  `json:"-"`
	URL         string `json:"url"`
	Total       int64  `json:"total"`
	Unique      int64  `json:"unique"`
	HumanTotal  int64  `json:"human_total"`
	HumanUnique int64  `json:"human_unique"`
	// TopClickers are the recipients with the most human clicks on the link (then the
	// most clicks), for the report's most clicked links.
	TopClickers []Clicker `json:"top_clickers,omitempty"`
}

// Report is the campaign report of SPEC §5.
type Report struct {
	CampaignID string `json:"campaign_id"`
	// Name, Subject and SentAt are the campaign's CampaignInfo.
	Name     string     `json:"name"`
	Subject  string     `json:"subject"`
	SentAt   *time.Time `json:"sent_at,omitempty"`
	Timezone string     `json:"timezone"`
	Counts   Counts     `json:"counts"`
	// Rates use sent as the denominator (Score CRM's definition); DeliveredRates use
	// delivered. Human variants count human opens and clicks only.
	Rates               Rates            `json:"rates"`
	DeliveredRates      Rates            `json:"delivered_rates"`
	HumanRates          Rates            `json:"human_rates"`
	HumanDeliveredRates Rates            `json:"human_delivered_rates"`
	Hourly              []TimelineBucket `json:"hourly"`
	Daily               []TimelineBucket `json:"daily"`
	// BeforeSend sums the activity dated before the quarter-hour that precedes the
	// campaign's first send (with Start the earliest such quarter-hour, UTC): counted in
	// Counts but kept out of Hourly and Daily, so a stray old date does not stretch the
	// timeline. Nil when there is none.
	BeforeSend *TimelineBucket `json:"before_send,omitempty"`
	Links      []LinkStats     `json:"links"`
	Breakdowns Breakdowns      `json:"breakdowns"`
}

func ratio(n, d int64) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / float64(d)
}

// ComputeRates fills the four rate sets of r from its counts.
func (r *Report) ComputeRates() {
	c := r.Counts
	mk := func(den, opens, clicks int64) Rates {
		return Rates{
			Open: ratio(opens, den), Click: ratio(clicks, den), ClickToOpen: ratio(clicks, opens),
			Bounce: ratio(c.Bounced, den), Complaint: ratio(c.Complained, den), Unsubscribe: ratio(c.Unsubscribed, den),
		}
	}
	r.Rates = mk(c.Sent, c.OpensUnique, c.ClicksUnique)
	r.DeliveredRates = mk(c.Delivered, c.OpensUnique, c.ClicksUnique)
	r.HumanRates = mk(c.Sent, c.HumanOpensUnique, c.HumanClicksUnique)
	r.HumanDeliveredRates = mk(c.Delivered, c.HumanOpensUnique, c.HumanClicksUnique)
}

// CampaignBucket holds the counters of one time bucket of a campaign (uniques are counted
// in the bucket of the message's first such event).
type CampaignBucket struct {
	Start  time.Time
	Counts Counts
}

// Add adds o to c.
func (c *Counts) Add(o Counts) {
	c.Sent += o.Sent
	c.Delivered += o.Delivered
	c.OpensTotal += o.OpensTotal
	c.OpensUnique += o.OpensUnique
	c.HumanOpensTotal += o.HumanOpensTotal
	c.HumanOpensUnique += o.HumanOpensUnique
	c.ClicksTotal += o.ClicksTotal
	c.ClicksUnique += o.ClicksUnique
	c.HumanClicksTotal += o.HumanClicksTotal
	c.HumanClicksUnique += o.HumanClicksUnique
	c.Bounced += o.Bounced
	c.BouncedHard += o.BouncedHard
	c.BouncedSoft += o.BouncedSoft
	c.Complained += o.Complained
	c.Unsubscribed += o.Unsubscribed
}

// EventFilter selects events of one organization. Zero fields do not filter.
type EventFilter struct {
	CampaignID string
	CustomerID string
	Types      []EventType
	Since      time.Time // occurred_at >= Since
	Until      time.Time // occurred_at < Until
	Cursor     string    // from a previous page
	Limit      int       // default 100, at most 1000
}

// EventPage is one page of events; NextCursor is empty on the last page.
type EventPage struct {
	Events     []Event `json:"events"`
	NextCursor string  `json:"next_cursor,omitempty"`
}

// DimValue is one value of a breakdown (a client, a device, a country, a city) with the
// opens or clicks it had, all and human. An empty value means unknown. Cities are named
// "CC/City" with the country's ISO code, since a city's name alone is ambiguous.
type DimValue struct {
	Value      string `json:"value"`
	Total      int64  `json:"total"`
	HumanTotal int64  `json:"human_total"`
}

// Breakdown splits a campaign's opens or clicks by client, device, country and city, the
// most frequent values first.
type Breakdown struct {
	Client  []DimValue `json:"client"`
	Device  []DimValue `json:"device"`
	Country []DimValue `json:"country"`
	City    []DimValue `json:"city"`
}

// Breakdowns are the breakdowns of a campaign's opens and of its clicks.
type Breakdowns struct {
	Opens  Breakdown `json:"opens"`
	Clicks Breakdown `json:"clicks"`
}

// Clicker is one recipient's clicks on one link.
type Clicker struct {
	CustomerID  string `json:"customer_id"`
	MessageID   string `json:"message_id"`
	Clicks      int64  `json:"clicks"`
	HumanClicks int64  `json:"human_clicks"`
}

// Recipient is one message of a campaign in a "who opened / who clicked" list, with the
// first time of each activity (nil: never). With a link filter, Clicks and HumanClicks
// are that link's.
type Recipient struct {
	MessageID       string     `json:"message_id"`
	CustomerID      string     `json:"customer_id"`
	Email           string     `json:"customer_email"`
	FirstOpen       *time.Time `json:"first_open,omitempty"`
	FirstHumanOpen  *time.Time `json:"first_human_open,omitempty"`
	FirstClick      *time.Time `json:"first_click,omitempty"`
	FirstHumanClick *time.Time `json:"first_human_click,omitempty"`
	Clicks          *int64     `json:"clicks,omitempty"`
	HumanClicks     *int64     `json:"human_clicks,omitempty"`
	// In the lists of who bounced, complained or unsubscribed: when (the first time),
	// hard or soft (a hard bounce wins), and the reason the ESP gave (the SMTP code and
	// text of the bounce, the complaint's feedback type; "" when unknown or expired).
	Bounced      *time.Time `json:"bounced_at,omitempty"`
	BounceType   BounceType `json:"bounce_type,omitempty"`
	Complained   *time.Time `json:"complained_at,omitempty"`
	Unsubscribed *time.Time `json:"unsubscribed_at,omitempty"`
	Reason       string     `json:"reason,omitempty"`
}

// RecipientFilter selects the recipients of a campaign who opened (Activity EventOpened)
// or clicked (EventClicked), optionally by people only, optionally one link's clickers;
// or who bounced (EventBounced, optionally of one BounceType), complained or unsubscribed.
type RecipientFilter struct {
	Activity  EventType
	HumanOnly bool
	LinkURL   string
	Bounce    BounceType // with EventBounced: hard or soft only; "" both
	Cursor    string
	Limit     int // default 100, at most 1000
}

// RecipientPage is one page of recipients, in message order; NextCursor is empty on the
// last page.
type RecipientPage struct {
	Recipients []Recipient `json:"recipients"`
	NextCursor string      `json:"next_cursor,omitempty"`
}
