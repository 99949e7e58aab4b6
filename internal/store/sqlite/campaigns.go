package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/rules"
	"github.com/mailtrail/mailtrail/internal/storekit"
)

// Campaigns lists an organization's campaigns with their counts, summed from the same
// quarter-hour counters as CampaignBuckets (so a campaign's figures equal its report's).
// Its cost grows with the organization's campaigns and their durations.
func (db *DB) Campaigns(ctx context.Context, orgID string, f mailtrail.CampaignFilter) (*mailtrail.CampaignPage, error) {
	order, lo, hi, dated, err := storekit.CampaignQuery(&f, "REAL")
	if err != nil {
		return nil, err
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
	having := ""
	if dated {
		having = fmt.Sprintf(` HAVING MIN(CASE WHEN s.u%d > 0 THEN s.bucket END) >= ?5 AND MIN(CASE WHEN s.u%d > 0 THEN s.bucket END) < ?6`, rules.FSent, rules.FSent)
	}
	if having == "" {
		if err := db.rrow(ctx, `SELECT COUNT(*) FROM campaigns WHERE org_id = ?1 AND (instr(lower(name), ?2) > 0 OR instr(lower(title), ?2) > 0)`,
			[]any{org, search}, &page.Total); err != nil {
			return nil, fmt.Errorf("sqlite: campaigns: %w", err)
		}
	} else if err := db.rrow(ctx, `SELECT COUNT(*) FROM (SELECT c2.id FROM campaigns c2 LEFT JOIN campaign_stats s ON s.campaign_id = c2.id
		WHERE c2.org_id = ?1 AND (instr(lower(c2.name), ?2) > 0 OR instr(lower(c2.title), ?2) > 0) GROUP BY c2.id`+having+`)`,
		[]any{org, search, nil, nil, lo, hi}, &page.Total); err != nil {
		return nil, fmt.Errorf("sqlite: campaigns: %w", err)
	}
	dir := "DESC"
	if f.Asc {
		dir = "ASC"
	}
	q := fmt.Sprintf(`SELECT c.name, c.title, c.subject, first_sent, sent, delivered, opens, human_opens, clicks, human_clicks, bounced, bounced_hard,
		complained, unsub, t_opens, t_human_opens, t_clicks, t_human_clicks, last_bucket
		FROM campaigns c JOIN (SELECT c2.id AS cid,
			COALESCE(SUM(s.u%d), 0) AS sent, COALESCE(SUM(s.u%d), 0) AS delivered,
			COALESCE(SUM(s.u%d), 0) AS opens, COALESCE(SUM(s.u%d), 0) AS human_opens,
			COALESCE(SUM(s.u%d), 0) AS clicks, COALESCE(SUM(s.u%d), 0) AS human_clicks,
			COALESCE(SUM(s.u%d), 0) AS bounced, COALESCE(SUM(s.u%d), 0) AS bounced_hard,
			COALESCE(SUM(s.u%d), 0) AS complained, COALESCE(SUM(s.u%d), 0) AS unsub,
			COALESCE(SUM(s.t%d), 0) AS t_opens, COALESCE(SUM(s.t%d), 0) AS t_human_opens,
			COALESCE(SUM(s.t%d), 0) AS t_clicks, COALESCE(SUM(s.t%d), 0) AS t_human_clicks,
			COALESCE(MAX(s.bucket), -1) AS last_bucket, COALESCE(MIN(CASE WHEN s.u%d > 0 THEN s.bucket END), -1) AS first_sent
			FROM campaigns c2 LEFT JOIN campaign_stats s ON s.campaign_id = c2.id
			WHERE c2.org_id = ?1 AND (instr(lower(c2.name), ?2) > 0 OR instr(lower(c2.title), ?2) > 0) GROUP BY c2.id%s) a ON a.cid = c.id
		ORDER BY %s %s, c.name LIMIT ?3 OFFSET ?4`,
		rules.FSent, rules.FDelivered, rules.FOpen, rules.FHumanOpen, rules.FClick, rules.FHumanClick,
		rules.FBounce, rules.FHardBounce, rules.FComplaint, rules.FUnsub,
		rules.TOpens, rules.THumanOpens, rules.TClicks, rules.THumanClicks, rules.FSent, having, order, dir)
	args := []any{org, search, f.Limit, f.Offset}
	if having != "" {
		args = append(args, lo, hi)
	}
	rows, err := db.rquery(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: campaigns: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var cs mailtrail.CampaignSummary
		c := &cs.Counts
		var last, first int64
		if err := rows.Scan(&cs.ID, &cs.Name, &cs.Subject, &first, &c.Sent, &c.Delivered, &c.OpensUnique, &c.HumanOpensUnique, &c.ClicksUnique, &c.HumanClicksUnique,
			&c.Bounced, &c.BouncedHard, &c.Complained, &c.Unsubscribed, &c.OpensTotal, &c.HumanOpensTotal, &c.ClicksTotal,
			&c.HumanClicksTotal, &last); err != nil {
			return nil, fmt.Errorf("sqlite: campaigns: %w", err)
		}
		storekit.CampaignSummary(&cs, first, last)
		page.Campaigns = append(page.Campaigns, cs)
	}
	return page, rows.Err()
}

// CampaignInfo returns a campaign's name and subject (SentAt is left to the report, which
// reads it from the campaign's counters); ENOTFOUND for a campaign the organization does
// not have. The snapshot's campaign lookup reads them: no statement of its own.
func (s *snap) CampaignInfo(ctx context.Context, orgID, campaign string) (*mailtrail.CampaignInfo, error) {
	camp, err := s.campaign(ctx, orgID, campaign)
	if err != nil {
		return nil, err
	}
	return &mailtrail.CampaignInfo{ID: campaign, Name: camp.title, Subject: camp.subject}, nil
}

// UpdateCampaign sets the name and subject of a campaign the organization has (nil fields
// stay) and returns them with its send time; ENOTFOUND for an unknown campaign, EINVALID
// for a value too long.
func (db *DB) UpdateCampaign(ctx context.Context, orgID, campaign string, u mailtrail.CampaignUpdate) (*mailtrail.CampaignInfo, error) {
	if u.Name != nil && len(*u.Name) > mailtrail.MaxCampaignName || u.Subject != nil && len(*u.Subject) > mailtrail.MaxSubject {
		return nil, mailtrail.Errorf(mailtrail.EINVALID, "name is at most %d bytes, subject at most %d", mailtrail.MaxCampaignName, mailtrail.MaxSubject)
	}
	camp, err := db.campaignOf(ctx, orgID, campaign)
	if err != nil {
		return nil, err
	}
	tx, done, err := db.writeTx(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	if u.Name != nil {
		if _, err := tx.exec(`UPDATE campaigns SET title = ? WHERE id = ?`, *u.Name, camp); err != nil {
			return nil, fmt.Errorf("sqlite: update campaign: %w", err)
		}
	}
	if u.Subject != nil {
		if _, err := tx.exec(`UPDATE campaigns SET subject = ? WHERE id = ?`, *u.Subject, camp); err != nil {
			return nil, fmt.Errorf("sqlite: update campaign: %w", err)
		}
	}
	ci := &mailtrail.CampaignInfo{ID: campaign}
	var first int64
	if err := tx.scan(fmt.Sprintf(`SELECT title, subject, COALESCE((SELECT MIN(bucket) FROM campaign_stats WHERE campaign_id = ?1 AND u%d > 0), -1)
		FROM campaigns WHERE id = ?1`, rules.FSent), []any{camp}, &ci.Name, &ci.Subject, &first); err != nil {
		return nil, fmt.Errorf("sqlite: update campaign: %w", err)
	}
	if err := tx.commit(); err != nil {
		return nil, err
	}
	if first >= 0 {
		t := fromMS(first * rules.BucketWidth.Milliseconds())
		ci.SentAt = &t
	}
	return ci, nil
}
