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
		having = storekit.CampaignHaving("$3", "$4")
	}
	search := strings.ToLower(f.Search)
	match := `c2.org_id = $1 AND (strpos(lower(c2.name), $2) > 0 OR strpos(lower(c2.title), $2) > 0)`
	agg := storekit.CampaignAggregate(match, having)
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
	rows, err := db.pool.Query(ctx, `SELECT `+storekit.CampaignListColumns+` FROM campaigns c JOIN (`+agg+`) a ON a.cid = c.id
		ORDER BY `+order+` `+dir+`, c.name LIMIT $`+fmt.Sprint(len(args)+1)+` OFFSET $`+fmt.Sprint(len(args)+2), append(args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, fmt.Errorf("postgres: campaigns: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		cs, err := storekit.ScanCampaignSummary(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: campaigns: %w", err)
		}
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
