// Package query answers reads: campaign reports, event lists, journey checks. It declares
// the Reader it needs; the stores implement it.
package query

import (
	"context"
	"time"

	"github.com/mailtrail/mailtrail"
)

// Reader is what reports need from a store.
type Reader interface {
	CampaignBuckets(ctx context.Context, orgID, campaign string) ([]mailtrail.CampaignBucket, error)
	CampaignInfo(ctx context.Context, orgID, campaign string) (*mailtrail.CampaignInfo, error)
	CampaignLinks(ctx context.Context, orgID, campaign string, limit int) ([]mailtrail.LinkStats, error)
	CampaignBreakdowns(ctx context.Context, orgID, campaign string, limit int) (*mailtrail.Breakdowns, error)
	LinkTopClickers(ctx context.Context, orgID, campaign, url string, n int) ([]mailtrail.Clicker, error)
}

// The sizes of a report's lists.
const (
	ReportLinks          = 100 // links, most clicked first
	ReportTopClickerURLs = 10  // links that list their top clickers
	ReportTopClickers    = 5   // clickers per such link
	ReportDimValues      = 20  // values per breakdown dimension
)

// Service answers report queries.
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
	buckets, err := s.R.CampaignBuckets(ctx, orgID, campaign)
	if err != nil {
		return nil, err
	}
	links, err := s.R.CampaignLinks(ctx, orgID, campaign, ReportLinks)
	if err != nil {
		return nil, err
	}
	for i := range links[:min(len(links), ReportTopClickerURLs)] {
		if links[i].TopClickers, err = s.R.LinkTopClickers(ctx, orgID, campaign, links[i].URL, ReportTopClickers); err != nil {
			return nil, err
		}
	}
	dims, err := s.R.CampaignBreakdowns(ctx, orgID, campaign, ReportDimValues)
	if err != nil {
		return nil, err
	}
	info, err := s.R.CampaignInfo(ctx, orgID, campaign)
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
