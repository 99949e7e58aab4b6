package query

import (
	"context"

	"github.com/mailtrail/mailtrail"
)

// Campaign returns a campaign's name and subject; ENOTFOUND for a campaign the
// organization does not have (or an unknown organization).
func (s *Service) Campaign(ctx context.Context, orgID, campaign string) (*mailtrail.CampaignInfo, error) {
	var out *mailtrail.CampaignInfo
	err := s.R.View(ctx, func(sn Snapshot) (err error) {
		out, err = sn.CampaignInfo(ctx, orgID, campaign)
		return err
	})
	return out, err
}

// Recipients returns one page of a campaign's recipients list (who opened, clicked,
// bounced, complained or unsubscribed), read on one snapshot; a list of several pages is
// read page by page, each its own snapshot, so no snapshot outlives a page. ENOTFOUND
// for an unknown campaign, EINVALID for a bad filter or cursor.
func (s *Service) Recipients(ctx context.Context, orgID, campaign string, f mailtrail.RecipientFilter) (*mailtrail.RecipientPage, error) {
	var out *mailtrail.RecipientPage
	err := s.R.View(ctx, func(sn Snapshot) (err error) {
		out, err = sn.Recipients(ctx, orgID, campaign, f)
		return err
	})
	return out, err
}

// Events returns one page of an organization's events: all of them in arrival order, or
// a campaign's or a customer's (the customer's timeline) in time order, read on one
// snapshot. Unknown campaigns and customers give an empty page; EINVALID for a bad
// cursor.
func (s *Service) Events(ctx context.Context, orgID string, f mailtrail.EventFilter) (*mailtrail.EventPage, error) {
	var out *mailtrail.EventPage
	err := s.R.View(ctx, func(sn Snapshot) (err error) {
		out, err = sn.ListEvents(ctx, orgID, f)
		return err
	})
	return out, err
}

// Did answers a journey condition (did the customer do the event?) on one snapshot. An
// unknown customer, campaign or message is Did false; EINVALID for an invalid condition.
func (s *Service) Did(ctx context.Context, orgID string, c mailtrail.Condition) (*mailtrail.Did, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	var out *mailtrail.Did
	err := s.R.View(ctx, func(sn Snapshot) (err error) {
		out, err = sn.Did(ctx, orgID, c)
		return err
	})
	return out, err
}
