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
		having = storekit.CampaignHaving("?5", "?6")
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
	q := `SELECT ` + storekit.CampaignListColumns + ` FROM campaigns c JOIN (` +
		storekit.CampaignAggregate(`c2.org_id = ?1 AND (instr(lower(c2.name), ?2) > 0 OR instr(lower(c2.title), ?2) > 0)`, having) +
		`) a ON a.cid = c.id ORDER BY ` + order + ` ` + dir + `, c.name LIMIT ?3 OFFSET ?4`
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
		cs, err := storekit.ScanCampaignSummary(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: campaigns: %w", err)
		}
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
