package sqlite

import (
	"context"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/query"
)

// The per-method reads this package's tests use: each is one View of its own (the
// service reads through query.Service).

// CampaignBuckets returns a campaign's counters per quarter hour in a View of its own (see
// query.Snapshot).
func (db *DB) CampaignBuckets(ctx context.Context, orgID, campaign string) ([]mailtrail.CampaignBucket, error) {
	return query.Read(ctx, db, func(s query.Snapshot) ([]mailtrail.CampaignBucket, error) {
		return s.CampaignBuckets(ctx, orgID, campaign)
	})
}

// CampaignLinks returns a campaign's links in a View of its own (see query.Snapshot).
func (db *DB) CampaignLinks(ctx context.Context, orgID, campaign string, limit int) ([]mailtrail.LinkStats, error) {
	return query.Read(ctx, db, func(s query.Snapshot) ([]mailtrail.LinkStats, error) {
		return s.CampaignLinks(ctx, orgID, campaign, limit)
	})
}

// ListEvents returns a page of an organization's events in a View of its own (see
// query.Snapshot).
func (db *DB) ListEvents(ctx context.Context, orgID string, f mailtrail.EventFilter) (*mailtrail.EventPage, error) {
	return query.Read(ctx, db, func(s query.Snapshot) (*mailtrail.EventPage, error) { return s.ListEvents(ctx, orgID, f) })
}

// Did answers a journey condition in a View of its own (see query.Snapshot).
func (db *DB) Did(ctx context.Context, orgID string, c mailtrail.Condition) (*mailtrail.Did, error) {
	return query.Read(ctx, db, func(s query.Snapshot) (*mailtrail.Did, error) { return s.Did(ctx, orgID, c) })
}
