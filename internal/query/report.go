// Package query answers reads: campaign reports, event lists, journey checks. It declares
// the Reader it needs; the stores implement it.
package query

import (
	"context"
	"time"

	"github.com/mailtrail/mailtrail"
)

// Reader opens read snapshots of a store. Every answer of the Service reads through one
// View, so its parts agree with each other (a report's totals with its links and
// breakdowns, a page of a list with itself).
type Reader interface {
	// View calls fn with a snapshot of the store: every read of it sees the same committed
	// state, whatever is committed meanwhile. The snapshot lasts until fn returns, so fn
	// reads and returns: it never waits on a client (a long snapshot holds back the store's
	// housekeeping, such as SQLite's WAL checkpoints). View returns fn's error, or the
	// store's when the snapshot cannot be opened.
	View(ctx context.Context, fn func(Snapshot) error) error
}

// Snapshot is the reads of one consistent state of a store. An unknown organization is
// ENOTFOUND everywhere.
type Snapshot interface {
	// CampaignInfo returns a campaign's name and subject (SentAt is left to the report);
	// ENOTFOUND for a campaign the organization does not have.
	CampaignInfo(ctx context.Context, orgID, campaign string) (*mailtrail.CampaignInfo, error)
	// CampaignBuckets returns a campaign's counters per quarter hour, in time order;
	// ENOTFOUND for an unknown campaign.
	CampaignBuckets(ctx context.Context, orgID, campaign string) ([]mailtrail.CampaignBucket, error)
	// CampaignLinks returns the clicks per link of a campaign, most clicked first, at most
	// limit, each with its ID; ENOTFOUND for an unknown campaign.
	CampaignLinks(ctx context.Context, orgID, campaign string, limit int) ([]mailtrail.LinkStats, error)
	// LinkTopClickers returns the n recipients of a campaign with the most human clicks on
	// the link of id link (a LinkStats.ID of the same snapshot); ENOTFOUND for an unknown
	// campaign.
	LinkTopClickers(ctx context.Context, orgID, campaign string, link int64, n int) ([]mailtrail.Clicker, error)
	// CampaignBreakdowns returns a campaign's opens and clicks by client, device, country
	// and city, at most limit values per dimension; ENOTFOUND for an unknown campaign.
	CampaignBreakdowns(ctx context.Context, orgID, campaign string, limit int) (*mailtrail.Breakdowns, error)
	// Recipients returns a page of who opened, clicked, bounced, complained or
	// unsubscribed; ENOTFOUND for an unknown campaign, EINVALID for a bad filter or cursor.
	Recipients(ctx context.Context, orgID, campaign string, f mailtrail.RecipientFilter) (*mailtrail.RecipientPage, error)
	// ListEvents returns a page of an organization's events (of a campaign, of a customer:
	// the customer's timeline); unknown campaigns and customers give an empty page.
	ListEvents(ctx context.Context, orgID string, f mailtrail.EventFilter) (*mailtrail.EventPage, error)
	// Did answers a journey condition; an unknown customer, campaign or message is Did
	// false, an invalid condition EINVALID.
	Did(ctx context.Context, orgID string, c mailtrail.Condition) (*mailtrail.Did, error)
}

// The sizes of a report's lists.
const (
	ReportLinks          = 100 // links, most clicked first
	ReportTopClickerURLs = 10  // links that list their top clickers
	ReportTopClickers    = 5   // clickers per such link
	ReportDimValues      = 20  // values per breakdown dimension
)

// Service answers the reads of the API and the dashboard, each on one snapshot.
type Service struct {
	R Reader
}

// Report builds the report of a campaign with hourly and daily timelines in the time zone
// tz (IANA name). ENOTFOUND for an unknown campaign, EINVALID for an unknown zone.
func (s *Service) Report(ctx context.Context, orgID, campaign, tz string) (*mailtrail.Report, error) {
	loc, err := time.LoadLocation(tz)
	if err != nil || tz == "" || tz == "Local" {
		return nil, mailtrail.Errorf(mailtrail.EINVALID, "unknown time zone %q", tz)
	}
	var (
		info    *mailtrail.CampaignInfo
		buckets []mailtrail.CampaignBucket
		links   []mailtrail.LinkStats
		dims    *mailtrail.Breakdowns
	)
	// Only the reads in the snapshot; the timelines are computed after it ends.
	err = s.R.View(ctx, func(sn Snapshot) error {
		var err error
		if info, err = sn.CampaignInfo(ctx, orgID, campaign); err != nil {
			return err
		}
		if buckets, err = sn.CampaignBuckets(ctx, orgID, campaign); err != nil {
			return err
		}
		if links, err = sn.CampaignLinks(ctx, orgID, campaign, ReportLinks); err != nil {
			return err
		}
		for i := range links[:min(len(links), ReportTopClickerURLs)] {
			if links[i].TopClickers, err = sn.LinkTopClickers(ctx, orgID, campaign, links[i].ID, ReportTopClickers); err != nil {
				return err
			}
		}
		dims, err = sn.CampaignBreakdowns(ctx, orgID, campaign, ReportDimValues)
		return err
	})
	if err != nil {
		return nil, err
	}
	r := &mailtrail.Report{CampaignID: campaign, Name: info.Name, Subject: info.Subject, Timezone: loc.String(), Links: links, Breakdowns: *dims}
	for _, b := range buckets {
		if b.Counts.Sent > 0 && r.SentAt == nil {
			t := b.Start.In(loc)
			r.SentAt = &t // the start of the quarter hour of the first sent event
		}
		r.Counts.Add(b.Counts)
	}
	var early []mailtrail.CampaignBucket
	early, buckets = SplitBeforeSend(buckets)
	if len(early) > 0 {
		before := Timeline(early, time.UTC, func(time.Time) time.Time { return early[0].Start.UTC() })
		r.BeforeSend = &before[0]
	}
	r.Hourly = Timeline(buckets, loc, func(t time.Time) time.Time {
		// Truncate in local wall time, so zones offset by :30 or :45 get their own hours
		// and the repeated hour of a DST change stays two hours.
		t = t.In(loc)
		return t.Add(-time.Duration(t.Minute())*time.Minute - time.Duration(t.Second())*time.Second - time.Duration(t.Nanosecond()))
	})
	r.Daily = Timeline(buckets, loc, func(t time.Time) time.Time {
		t = t.In(loc)
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
	})
	r.ComputeRates()
	return r, nil
}

// bucketWidth is the width of the store's campaign buckets (rules.BucketWidth).
const bucketWidth = 15 * time.Minute

// SplitBeforeSend splits a campaign's buckets (in time order) into those dated before the
// quarter-hour preceding its first send, and the rest: the timeline's range begins there
// (mailtrail.SendTolerance fits in that quarter-hour), so a stray old date, such as a
// vendor's documentation sample, does not stretch it over years. Without a send, nothing
// is split off. Buckets are aggregates, so the split is the same whatever the order the
// events arrived in.
func SplitBeforeSend(buckets []mailtrail.CampaignBucket) (before, rest []mailtrail.CampaignBucket) {
	for _, b := range buckets {
		if b.Counts.Sent > 0 {
			from := b.Start.Add(-bucketWidth)
			for i, e := range buckets {
				if !e.Start.Before(from) {
					return buckets[:i], buckets[i:]
				}
			}
		}
	}
	return nil, buckets
}

// Timeline sums quarter-hour buckets into the periods that start returns for a bucket's
// time (an hour or a day in loc). Periods without activity are left out.
func Timeline(buckets []mailtrail.CampaignBucket, loc *time.Location, start func(time.Time) time.Time) []mailtrail.TimelineBucket {
	out := []mailtrail.TimelineBucket{}
	for _, b := range buckets {
		st := start(b.Start)
		if n := len(out); n == 0 || !out[n-1].Start.Equal(st) {
			out = append(out, mailtrail.TimelineBucket{Start: st})
		}
		t := &out[len(out)-1]
		c := b.Counts
		t.Sent += c.Sent
		t.Delivered += c.Delivered
		t.OpensTotal += c.OpensTotal
		t.OpensUnique += c.OpensUnique
		t.HumanOpensTotal += c.HumanOpensTotal
		t.HumanOpensUnique += c.HumanOpensUnique
		t.ClicksTotal += c.ClicksTotal
		t.ClicksUnique += c.ClicksUnique
		t.HumanClicksTotal += c.HumanClicksTotal
		t.HumanClicksUnique += c.HumanClicksUnique
	}
	return out
}
