package query_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/query"
)

// buckets is a Reader whose one snapshot has a campaign's quarter-hour buckets and nothing
// else.
type buckets []mailtrail.CampaignBucket

func (b buckets) View(_ context.Context, fn func(query.Snapshot) error) error { return fn(b) }

func (b buckets) CampaignBuckets(context.Context, string, string) ([]mailtrail.CampaignBucket, error) {
	if len(b) == 0 {
		return nil, mailtrail.Errorf(mailtrail.ENOTFOUND, "campaign not found")
	}
	return b, nil
}
func (buckets) CampaignLinks(context.Context, string, string, int) ([]mailtrail.LinkStats, error) {
	return nil, nil
}
func (buckets) CampaignBreakdowns(context.Context, string, string, int) (*mailtrail.Breakdowns, error) {
	return &mailtrail.Breakdowns{}, nil
}
func (buckets) CampaignInfo(context.Context, string, string) (*mailtrail.CampaignInfo, error) {
	return &mailtrail.CampaignInfo{}, nil
}
func (buckets) LinkTopClickers(context.Context, string, string, int64, int) ([]mailtrail.Clicker, error) {
	return nil, nil
}
func (buckets) Recipients(context.Context, string, string, mailtrail.RecipientFilter) (*mailtrail.RecipientPage, error) {
	return nil, nil
}
func (buckets) ListEvents(context.Context, string, mailtrail.EventFilter) (*mailtrail.EventPage, error) {
	return nil, nil
}
func (buckets) Did(context.Context, string, mailtrail.Condition) (*mailtrail.Did, error) {
	return nil, nil
}

func utc(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

// qh is one quarter-hour bucket at a UTC time with n opens (and n sends, so each
// bucket is told apart in the sums).
func qh(at string, n int64) mailtrail.CampaignBucket {
	return mailtrail.CampaignBucket{Start: utc(at), Counts: mailtrail.Counts{Sent: n, OpensTotal: n}}
}

type period struct {
	start string // the period's start, as a UTC time
	local string // the same instant on the zone's wall clock
	opens int64
}

func TestReportTimelinesInZones(t *testing.T) {
	cases := []struct {
		name          string
		tz            string
		in            buckets
		hourly, daily []period
	}{{
		// +05:30: a local hour starts at :30 UTC, so one UTC hour spans two local hours.
		name: "Asia/Kolkata", tz: "Asia/Kolkata",
		in: buckets{qh("2026-06-01 00:00", 1), qh("2026-06-01 00:15", 2), qh("2026-06-01 00:30", 4), qh("2026-06-01 00:45", 8),
			qh("2026-06-01 18:15", 16), qh("2026-06-01 18:30", 32)},
		hourly: []period{
			{"2026-05-31 23:30", "2026-06-01 05:00", 3},
			{"2026-06-01 00:30", "2026-06-01 06:00", 12},
			{"2026-06-01 17:30", "2026-06-01 23:00", 16},
			{"2026-06-01 18:30", "2026-06-02 00:00", 32},
		},
		daily: []period{
			{"2026-05-31 18:30", "2026-06-01 00:00", 31},
			{"2026-06-01 18:30", "2026-06-02 00:00", 32},
		},
	}, {
		// +05:45: the local hour turns at :15 UTC.
		name: "Asia/Kathmandu", tz: "Asia/Kathmandu",
		in: buckets{qh("2026-06-01 00:00", 1), qh("2026-06-01 00:15", 2), qh("2026-06-01 01:00", 4), qh("2026-06-01 01:15", 8)},
		hourly: []period{
			{"2026-05-31 23:15", "2026-06-01 05:00", 1},
			{"2026-06-01 00:15", "2026-06-01 06:00", 6},
			{"2026-06-01 01:15", "2026-06-01 07:00", 8},
		},
		daily: []period{{"2026-05-31 18:15", "2026-06-01 00:00", 15}},
	}, {
		// Spring forward: 02:00 CET becomes 03:00 CEST on 2026-03-29; the day has 23 hours.
		name: "Europe/Paris spring", tz: "Europe/Paris",
		in: buckets{qh("2026-03-28 22:45", 1), qh("2026-03-28 23:00", 2), qh("2026-03-29 00:45", 4), qh("2026-03-29 01:00", 8),
			qh("2026-03-29 21:45", 16), qh("2026-03-29 22:00", 32)},
		hourly: []period{
			{"2026-03-28 22:00", "2026-03-28 23:00", 1},
			{"2026-03-28 23:00", "2026-03-29 00:00", 2},
			{"2026-03-29 00:00", "2026-03-29 01:00", 4},
			{"2026-03-29 01:00", "2026-03-29 03:00", 8},
			{"2026-03-29 21:00", "2026-03-29 23:00", 16},
			{"2026-03-29 22:00", "2026-03-30 00:00", 32},
		},
		daily: []period{
			{"2026-03-27 23:00", "2026-03-28 00:00", 1},
			{"2026-03-28 23:00", "2026-03-29 00:00", 30},
			{"2026-03-29 22:00", "2026-03-30 00:00", 32},
		},
	}, {
		// Fall back: 03:00 CEST becomes 02:00 CET on 2026-10-25; the hour 02:00 happens
		// twice and stays two hours; the day has 25 hours.
		name: "Europe/Paris fall", tz: "Europe/Paris",
		in: buckets{qh("2026-10-24 22:00", 1), qh("2026-10-25 00:15", 2), qh("2026-10-25 01:15", 4), qh("2026-10-25 22:45", 8),
			qh("2026-10-25 23:00", 16)},
		hourly: []period{
			{"2026-10-24 22:00", "2026-10-25 00:00", 1},
			{"2026-10-25 00:00", "2026-10-25 02:00", 2},
			{"2026-10-25 01:00", "2026-10-25 02:00", 4},
			{"2026-10-25 22:00", "2026-10-25 23:00", 8},
			{"2026-10-25 23:00", "2026-10-26 00:00", 16},
		},
		daily: []period{
			{"2026-10-24 22:00", "2026-10-25 00:00", 15},
			{"2026-10-25 23:00", "2026-10-26 00:00", 16},
		},
	}, {
		// Spring forward: 02:00 EST becomes 03:00 EDT on 2026-03-08.
		name: "America/New_York spring", tz: "America/New_York",
		in: buckets{qh("2026-03-08 05:00", 1), qh("2026-03-08 06:45", 2), qh("2026-03-08 07:00", 4), qh("2026-03-09 03:45", 8),
			qh("2026-03-09 04:00", 16)},
		hourly: []period{
			{"2026-03-08 05:00", "2026-03-08 00:00", 1},
			{"2026-03-08 06:00", "2026-03-08 01:00", 2},
			{"2026-03-08 07:00", "2026-03-08 03:00", 4},
			{"2026-03-09 03:00", "2026-03-08 23:00", 8},
			{"2026-03-09 04:00", "2026-03-09 00:00", 16},
		},
		daily: []period{
			{"2026-03-08 05:00", "2026-03-08 00:00", 15},
			{"2026-03-09 04:00", "2026-03-09 00:00", 16},
		},
	}, {
		// Fall back: 02:00 EDT becomes 01:00 EST on 2026-11-01: 01:00 twice, 25 hours.
		name: "America/New_York fall", tz: "America/New_York",
		in: buckets{qh("2026-11-01 04:00", 1), qh("2026-11-01 05:30", 2), qh("2026-11-01 06:30", 4), qh("2026-11-02 04:45", 8),
			qh("2026-11-02 05:00", 16)},
		hourly: []period{
			{"2026-11-01 04:00", "2026-11-01 00:00", 1},
			{"2026-11-01 05:00", "2026-11-01 01:00", 2},
			{"2026-11-01 06:00", "2026-11-01 01:00", 4},
			{"2026-11-02 04:00", "2026-11-01 23:00", 8},
			{"2026-11-02 05:00", "2026-11-02 00:00", 16},
		},
		daily: []period{
			{"2026-11-01 04:00", "2026-11-01 00:00", 15},
			{"2026-11-02 05:00", "2026-11-02 00:00", 16},
		},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			svc := &query.Service{R: c.in}
			r, err := svc.Report(context.Background(), "org", "camp", c.tz)
			if err != nil {
				t.Fatal(err)
			}
			loc, _ := time.LoadLocation(c.tz)
			check := func(kind string, got []mailtrail.TimelineBucket, want []period) {
				t.Helper()
				if len(got) != len(want) {
					t.Fatalf("%s: %d periods, want %d: %+v", kind, len(got), len(want), got)
				}
				var sum int64
				for i, w := range want {
					g := got[i]
					if !g.Start.Equal(utc(w.start)) {
						t.Errorf("%s[%d] starts %s, want %s UTC", kind, i, g.Start.UTC(), w.start)
					}
					if l := g.Start.In(loc).Format("2006-01-02 15:04"); l != w.local {
						t.Errorf("%s[%d] starts %s on the wall clock, want %s", kind, i, l, w.local)
					}
					if g.Start.Location().String() != loc.String() {
						t.Errorf("%s[%d] is in %s, want the report's zone %s", kind, i, g.Start.Location(), loc)
					}
					if g.OpensTotal != w.opens || g.Sent != w.opens {
						t.Errorf("%s[%d] has opens %d sent %d, want %d", kind, i, g.OpensTotal, g.Sent, w.opens)
					}
					sum += g.OpensTotal
				}
				if sum != r.Counts.OpensTotal {
					t.Errorf("%s periods sum to %d opens, the report counts %d", kind, sum, r.Counts.OpensTotal)
				}
			}
			check("hourly", r.Hourly, c.hourly)
			check("daily", r.Daily, c.daily)
			if r.Timezone != c.tz {
				t.Errorf("timezone %q, want %q", r.Timezone, c.tz)
			}
		})
	}
}

func TestReportRefusesUnknownZones(t *testing.T) {
	svc := &query.Service{R: buckets{qh("2026-06-01 00:00", 1)}}
	for _, tz := range []string{"", "Local", "Mars/Olympus", "../../etc/passwd"} {
		_, err := svc.Report(context.Background(), "org", "camp", tz)
		if mailtrail.ErrorCode(err) != mailtrail.EINVALID {
			t.Errorf("tz %q: got %v, want EINVALID", tz, err)
		}
	}
	_, err := (&query.Service{R: buckets{}}).Report(context.Background(), "org", "nope", "UTC")
	if mailtrail.ErrorCode(err) != mailtrail.ENOTFOUND {
		t.Errorf("unknown campaign: got %v, want ENOTFOUND", err)
	}
	var e *mailtrail.Error
	if !errors.As(err, &e) {
		t.Errorf("unknown campaign: %T is not a *mailtrail.Error", err)
	}
}
