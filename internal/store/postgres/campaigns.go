package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/rules"
	"github.com/mailtrail/mailtrail/internal/storekit"
)

// Campaigns lists an organization's campaigns with their counts, summed from the same
// quarter-hour counters as the report (so a campaign's figures equal its report's), as
// the SQLite store lists them: the same filters, sorts (storekit.CampaignOrder) and
// pages. An unknown organization has no campaigns.
func (db *DB) Campaigns(ctx context.Context, orgID string, f mailtrail.CampaignFilter) (*mailtrail.CampaignPage, error) {
	order, lo, hi, dated, err := storekit.CampaignQuery(&f, "double precision")
	if err != nil {
		return nil, err
	}
	if f.Sort == "name" {
		order += ` COLLATE "C"` // byte order, as SQLite sorts
	}
	page := &mailtrail.CampaignPage{Campaigns: []mailtrail.CampaignSummary{}, Offset: f.Offset, Limit: f.Limit}
	org, err := db.orgInternal(ctx, db.pool, orgID)
	if mailtrail.ErrorCode(err) == mailtrail.ENOTFOUND {
		return page, nil
	}
	if err != nil {
		return nil, err
	}
	having := ""
	if dated {
		having = fmt.Sprintf(` HAVING MIN(CASE WHEN s.u%[1]d > 0 THEN s.bucket END) >= $3 AND MIN(CASE WHEN s.u%[1]d > 0 THEN s.bucket END) < $4`, rules.FSent)
	}
	search := strings.ToLower(f.Search)
	match := `c2.org_id = $1 AND (strpos(lower(c2.name), $2) > 0 OR strpos(lower(c2.title), $2) > 0)`
	agg := fmt.Sprintf(`SELECT c2.id AS cid,
			COALESCE(SUM(s.u%d), 0) AS sent, COALESCE(SUM(s.u%d), 0) AS delivered,
			COALESCE(SUM(s.u%d), 0) AS opens, COALESCE(SUM(s.u%d), 0) AS human_opens,
			COALESCE(SUM(s.u%d), 0) AS clicks, COALESCE(SUM(s.u%d), 0) AS human_clicks,
			COALESCE(SUM(s.u%d), 0) AS bounced, COALESCE(SUM(s.u%d), 0) AS bounced_hard,
			COALESCE(SUM(s.u%d), 0) AS complained, COALESCE(SUM(s.u%d), 0) AS unsub,
			COALESCE(SUM(s.t%d), 0) AS t_opens, COALESCE(SUM(s.t%d), 0) AS t_human_opens,
			COALESCE(SUM(s.t%d), 0) AS t_clicks, COALESCE(SUM(s.t%d), 0) AS t_human_clicks,
			COALESCE(MAX(s.bucket), -1) AS last_bucket, COALESCE(MIN(CASE WHEN s.u%d > 0 THEN s.bucket END), -1) AS first_sent
			FROM campaigns c2 LEFT JOIN campaign_stats s ON s.campaign_id = c2.id
			WHERE %s GROUP BY c2.id%s`,
		rules.FSent, rules.FDelivered, rules.FOpen, rules.FHumanOpen, rules.FClick, rules.FHumanClick,
		rules.FBounce, rules.FHardBounce, rules.FComplaint, rules.FUnsub,
		rules.TOpens, rules.THumanOpens, rules.TClicks, rules.THumanClicks, rules.FSent, match, having)
	// $1 organization, $2 search, with a date filter $3 and $4 its bounds; the page's
	// limit and offset come next.
	args := []any{org, search}
	if having != "" {
		args = append(args, lo, hi)
	}
	var total int64
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM (`+agg+`) a`, args...).Scan(&total); err != nil {
		return nil, fmt.Errorf("postgres: campaigns: %w", err)
	}
	page.Total = int(total)
	dir := "DESC"
	if f.Asc {
		dir = "ASC"
	}
	rows, err := db.pool.Query(ctx, `SELECT c.name, c.title, c.subject, first_sent, sent, delivered, opens, human_opens, clicks, human_clicks, bounced,
		bounced_hard, complained, unsub, t_opens, t_human_opens, t_clicks, t_human_clicks, last_bucket
		FROM campaigns c JOIN (`+agg+`) a ON a.cid = c.id
		ORDER BY `+order+` `+dir+`, c.name LIMIT $`+fmt.Sprint(len(args)+1)+` OFFSET $`+fmt.Sprint(len(args)+2), append(args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, fmt.Errorf("postgres: campaigns: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var cs mailtrail.CampaignSummary
		c := &cs.Counts
		var last, first int64
		if err := rows.Scan(&cs.ID, &cs.Name, &cs.Subject, &first, &c.Sent, &c.Delivered, &c.OpensUnique, &c.HumanOpensUnique, &c.ClicksUnique,
			&c.HumanClicksUnique, &c.Bounced, &c.BouncedHard, &c.Complained, &c.Unsubscribed, &c.OpensTotal, &c.HumanOpensTotal, &c.ClicksTotal,
			&c.HumanClicksTotal, &last); err != nil {
			return nil, fmt.Errorf("postgres: campaigns: %w", err)
		}
		storekit.CampaignSummary(&cs, first, last)
		page.Campaigns = append(page.Campaigns, cs)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: campaigns: %w", err)
	}
	return page, nil
}

// UpdateCampaign sets the name and subject of a campaign the organization has (nil fields
// stay) and returns them with its send time; ENOTFOUND for an unknown campaign or
// organization, EINVALID for a value too long.
func (db *DB) UpdateCampaign(ctx context.Context, orgID, campaign string, u mailtrail.CampaignUpdate) (*mailtrail.CampaignInfo, error) {
	if u.Name != nil && len(*u.Name) > mailtrail.MaxCampaignName || u.Subject != nil && len(*u.Subject) > mailtrail.MaxSubject {
		return nil, mailtrail.Errorf(mailtrail.EINVALID, "name is at most %d bytes, subject at most %d", mailtrail.MaxCampaignName, mailtrail.MaxSubject)
	}
	org, err := db.orgInternal(ctx, db.pool, orgID)
	if err != nil {
		return nil, err
	}
	ci := &mailtrail.CampaignInfo{ID: campaign}
	var first int64
	err = db.pool.QueryRow(ctx, fmt.Sprintf(`UPDATE campaigns c SET title = COALESCE($3, c.title), subject = COALESCE($4, c.subject)
		WHERE c.org_id = $1 AND c.name = $2
		RETURNING c.title, c.subject, COALESCE((SELECT MIN(bucket) FROM campaign_stats WHERE campaign_id = c.id AND u%d > 0), -1)`, rules.FSent),
		org, campaign, u.Name, u.Subject).Scan(&ci.Name, &ci.Subject, &first)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, mailtrail.Errorf(mailtrail.ENOTFOUND, "campaign %q not found", campaign)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: update campaign: %w", err)
	}
	if first >= 0 {
		t := fromMS(first * rules.BucketWidth.Milliseconds())
		ci.SentAt = &t
	}
	return ci, nil
}
