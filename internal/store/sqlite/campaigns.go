package sqlite

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/rules"
)

// campaignOrder maps a campaign sort to its SQL expression over the aggregated columns.
var campaignOrder = map[string]string{
	"last_active":      "last_bucket",
	"name":             "c.name",
	"sent":             "sent",
	"delivered":        "delivered",
	"open_rate":        "COALESCE(CAST(opens AS REAL) / NULLIF(sent, 0), 0)",
	"human_open_rate":  "COALESCE(CAST(human_opens AS REAL) / NULLIF(sent, 0), 0)",
	"click_rate":       "COALESCE(CAST(clicks AS REAL) / NULLIF(sent, 0), 0)",
	"human_click_rate": "COALESCE(CAST(human_clicks AS REAL) / NULLIF(sent, 0), 0)",
	"bounce_rate":      "COALESCE(CAST(bounced AS REAL) / NULLIF(sent, 0), 0)",
	"complaint_rate":   "COALESCE(CAST(complained AS REAL) / NULLIF(sent, 0), 0)",
}

// Campaigns lists an organization's campaigns with their counts, summed from the same
// quarter-hour counters as CampaignBuckets (so a campaign's figures equal its report's).
// Its cost grows with the organization's campaigns and their durations.
func (db *DB) Campaigns(ctx context.Context, orgID string, f mailtrail.CampaignFilter) (*mailtrail.CampaignPage, error) {
	if f.Sort == "" {
		f.Sort = "last_active"
	}
	if !slices.Contains(mailtrail.CampaignSorts, f.Sort) {
		return nil, mailtrail.Errorf(mailtrail.EINVALID, "sort must be one of %s", strings.Join(mailtrail.CampaignSorts, ", "))
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	if f.Limit > 1000 || f.Offset < 0 {
		return nil, mailtrail.Errorf(mailtrail.EINVALID, "limit must be 1 to 1000 and offset at least 0")
	}
	page := &mailtrail.CampaignPage{Campaigns: []mailtrail.CampaignSummary{}, Offset: f.Offset, Limit: f.Limit}
	org, err := db.orgInternal(ctx, orgID)
	if mailtrail.ErrorCode(err) == mailtrail.ENOTFOUND {
		return page, nil
	}
	if err != nil {
		return nil, err
	}
	search := strings.ToLower(f.Search)
	if err := db.rrow(ctx, `SELECT COUNT(*) FROM campaigns WHERE org_id = ? AND instr(lower(name), ?) > 0`,
		[]any{org, search}, &page.Total); err != nil {
		return nil, fmt.Errorf("sqlite: campaigns: %w", err)
	}
	dir := "DESC"
	if f.Asc {
		dir = "ASC"
	}
	q := fmt.Sprintf(`SELECT c.name, sent, delivered, opens, human_opens, clicks, human_clicks, bounced, bounced_hard,
		complained, unsub, t_opens, t_human_opens, t_clicks, t_human_clicks, last_bucket
		FROM campaigns c JOIN (SELECT c2.id AS cid,
			COALESCE(SUM(s.u%d), 0) AS sent, COALESCE(SUM(s.u%d), 0) AS delivered,
			COALESCE(SUM(s.u%d), 0) AS opens, COALESCE(SUM(s.u%d), 0) AS human_opens,
			COALESCE(SUM(s.u%d), 0) AS clicks, COALESCE(SUM(s.u%d), 0) AS human_clicks,
			COALESCE(SUM(s.u%d), 0) AS bounced, COALESCE(SUM(s.u%d), 0) AS bounced_hard,
			COALESCE(SUM(s.u%d), 0) AS complained, COALESCE(SUM(s.u%d), 0) AS unsub,
			COALESCE(SUM(s.t%d), 0) AS t_opens, COALESCE(SUM(s.t%d), 0) AS t_human_opens,
			COALESCE(SUM(s.t%d), 0) AS t_clicks, COALESCE(SUM(s.t%d), 0) AS t_human_clicks,
			COALESCE(MAX(s.bucket), -1) AS last_bucket
			FROM campaigns c2 LEFT JOIN campaign_stats s ON s.campaign_id = c2.id
			WHERE c2.org_id = ? AND instr(lower(c2.name), ?) > 0 GROUP BY c2.id) a ON a.cid = c.id
		ORDER BY %s %s, c.name LIMIT ? OFFSET ?`,
		rules.FSent, rules.FDelivered, rules.FOpen, rules.FHumanOpen, rules.FClick, rules.FHumanClick,
		rules.FBounce, rules.FHardBounce, rules.FComplaint, rules.FUnsub,
		rules.TOpens, rules.THumanOpens, rules.TClicks, rules.THumanClicks, campaignOrder[f.Sort], dir)
	rows, err := db.rquery(ctx, q, org, search, f.Limit, f.Offset)
	if err != nil {
		return nil, fmt.Errorf("sqlite: campaigns: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var cs mailtrail.CampaignSummary
		c := &cs.Counts
		var last int64
		if err := rows.Scan(&cs.ID, &c.Sent, &c.Delivered, &c.OpensUnique, &c.HumanOpensUnique, &c.ClicksUnique, &c.HumanClicksUnique,
			&c.Bounced, &c.BouncedHard, &c.Complained, &c.Unsubscribed, &c.OpensTotal, &c.HumanOpensTotal, &c.ClicksTotal,
			&c.HumanClicksTotal, &last); err != nil {
			return nil, fmt.Errorf("sqlite: campaigns: %w", err)
		}
		c.BouncedSoft = c.Bounced - c.BouncedHard
		rep := mailtrail.Report{Counts: *c}
		rep.ComputeRates()
		cs.Rates, cs.HumanRates = rep.Rates, rep.HumanRates
		if last >= 0 {
			t := fromMS(last * rules.BucketWidth.Milliseconds())
			cs.LastActive = &t
		}
		page.Campaigns = append(page.Campaigns, cs)
	}
	return page, rows.Err()
}
