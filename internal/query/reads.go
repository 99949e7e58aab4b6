package query

import (
	"context"

	"github.com/mailtrail/mailtrail"
)

// Read returns what read answers in a View of its own: one answer, one snapshot.
func Read[T any](ctx context.Context, r Reader, read func(Snapshot) (T, error)) (T, error) {
	var out T
	err := r.View(ctx, func(sn Snapshot) (err error) {
		out, err = read(sn)
		return err
	})
	return out, err
}

// Campaign returns a campaign's name and subject; ENOTFOUND for a campaign the
// organization does not have (or an unknown organization).
func (s *Service) Campaign(ctx context.Context, orgID, campaign string) (*mailtrail.CampaignInfo, error) {
	return Read(ctx, s.R, func(sn Snapshot) (*mailtrail.CampaignInfo, error) { return sn.CampaignInfo(ctx, orgID, campaign) })
}

// Recipients returns one page of a campaign's recipients list (who opened, clicked,
// bounced, complained or unsubscribed), read on one snapshot; a list of several pages is
// read page by page, each its own snapshot, so no snapshot outlives a page. ENOTFOUND
// for an unknown campaign, EINVALID for a bad filter or cursor.
func (s *Service) Recipients(ctx context.Context, orgID, campaign string, f mailtrail.RecipientFilter) (*mailtrail.RecipientPage, error) {
	return Read(ctx, s.R, func(sn Snapshot) (*mailtrail.RecipientPage, error) { return sn.Recipients(ctx, orgID, campaign, f) })
}

// Events returns one page of an organization's events: all of them in arrival order, or
// a campaign's or a customer's (the customer's timeline) in time order, read on one
// snapshot. Unknown campaigns and customers give an empty page; EINVALID for a bad
// cursor.
func (s *Service) Events(ctx context.Context, orgID string, f mailtrail.EventFilter) (*mailtrail.EventPage, error) {
	return Read(ctx, s.R, func(sn Snapshot) (*mailtrail.EventPage, error) { return sn.ListEvents(ctx, orgID, f) })
}

// Did answers a journey condition (did the customer do the event?) on one snapshot. An
// unknown customer, campaign or message is Did false; EINVALID for an invalid condition.
func (s *Service) Did(ctx context.Context, orgID string, c mailtrail.Condition) (*mailtrail.Did, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return Read(ctx, s.R, func(sn Snapshot) (*mailtrail.Did, error) { return sn.Did(ctx, orgID, c) })
}
