package storetest

import (
	"context"
	"errors"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/query"
)

// reads are the reads a snapshot answers, as both a query.Snapshot and eachView (each
// read in a View of its own) have them.
type reads interface {
	CampaignInfo(ctx context.Context, orgID, campaign string) (*mailtrail.CampaignInfo, error)
	CampaignBuckets(ctx context.Context, orgID, campaign string) ([]mailtrail.CampaignBucket, error)
	CampaignLinks(ctx context.Context, orgID, campaign string, limit int) ([]mailtrail.LinkStats, error)
	CampaignBreakdowns(ctx context.Context, orgID, campaign string, limit int) (*mailtrail.Breakdowns, error)
	Recipients(ctx context.Context, orgID, campaign string, f mailtrail.RecipientFilter) (*mailtrail.RecipientPage, error)
	ListEvents(ctx context.Context, orgID string, f mailtrail.EventFilter) (*mailtrail.EventPage, error)
	Did(ctx context.Context, orgID string, c mailtrail.Condition) (*mailtrail.Did, error)
}

var (
	_ reads = eachView{}
	_ reads = query.Snapshot(nil)
)

// eachView reads a store one read at a time, each in a View of its own: how the suite
// checks a single answer (the service reads through query.Service, one View an answer).
type eachView struct{ r query.Reader }

func each(r query.Reader) eachView { return eachView{r} }

func (v eachView) CampaignInfo(ctx context.Context, orgID, campaign string) (*mailtrail.CampaignInfo, error) {
	return query.Read(ctx, v.r, func(sn query.Snapshot) (*mailtrail.CampaignInfo, error) { return sn.CampaignInfo(ctx, orgID, campaign) })
}

func (v eachView) CampaignBuckets(ctx context.Context, orgID, campaign string) ([]mailtrail.CampaignBucket, error) {
	return query.Read(ctx, v.r, func(sn query.Snapshot) ([]mailtrail.CampaignBucket, error) {
		return sn.CampaignBuckets(ctx, orgID, campaign)
	})
}

func (v eachView) CampaignLinks(ctx context.Context, orgID, campaign string, limit int) ([]mailtrail.LinkStats, error) {
	return query.Read(ctx, v.r, func(sn query.Snapshot) ([]mailtrail.LinkStats, error) {
		return sn.CampaignLinks(ctx, orgID, campaign, limit)
	})
}

func (v eachView) CampaignBreakdowns(ctx context.Context, orgID, campaign string, limit int) (*mailtrail.Breakdowns, error) {
	return query.Read(ctx, v.r, func(sn query.Snapshot) (*mailtrail.Breakdowns, error) {
		return sn.CampaignBreakdowns(ctx, orgID, campaign, limit)
	})
}

func (v eachView) Recipients(ctx context.Context, orgID, campaign string, f mailtrail.RecipientFilter) (*mailtrail.RecipientPage, error) {
	return query.Read(ctx, v.r, func(sn query.Snapshot) (*mailtrail.RecipientPage, error) {
		return sn.Recipients(ctx, orgID, campaign, f)
	})
}

func (v eachView) ListEvents(ctx context.Context, orgID string, f mailtrail.EventFilter) (*mailtrail.EventPage, error) {
	return query.Read(ctx, v.r, func(sn query.Snapshot) (*mailtrail.EventPage, error) { return sn.ListEvents(ctx, orgID, f) })
}

func (v eachView) Did(ctx context.Context, orgID string, c mailtrail.Condition) (*mailtrail.Did, error) {
	return query.Read(ctx, v.r, func(sn query.Snapshot) (*mailtrail.Did, error) { return sn.Did(ctx, orgID, c) })
}

// answers are the answers of every read about one campaign and one of its customers.
type answers struct {
	Info                     *mailtrail.CampaignInfo
	Buckets                  []mailtrail.CampaignBucket
	Links                    []mailtrail.LinkStats
	Dims                     *mailtrail.Breakdowns
	Opened, Clicked, Bounced *mailtrail.RecipientPage
	OfLink                   *mailtrail.RecipientPage
	Campaign, Customer, Org  *mailtrail.EventPage
	Did                      *mailtrail.Did
}

func readAll(t *testing.T, r reads, org string) answers {
	t.Helper()
	return answers{
		Info:     must[*mailtrail.CampaignInfo](t)(r.CampaignInfo(ctx, org, "camp")),
		Buckets:  must[[]mailtrail.CampaignBucket](t)(r.CampaignBuckets(ctx, org, "camp")),
		Links:    must[[]mailtrail.LinkStats](t)(r.CampaignLinks(ctx, org, "camp", 100)),
		Dims:     must[*mailtrail.Breakdowns](t)(r.CampaignBreakdowns(ctx, org, "camp", 10)),
		Opened:   must[*mailtrail.RecipientPage](t)(r.Recipients(ctx, org, "camp", mailtrail.RecipientFilter{Activity: mailtrail.EventOpened})),
		Clicked:  must[*mailtrail.RecipientPage](t)(r.Recipients(ctx, org, "camp", mailtrail.RecipientFilter{Activity: mailtrail.EventClicked, HumanOnly: true})),
		Bounced:  must[*mailtrail.RecipientPage](t)(r.Recipients(ctx, org, "camp", mailtrail.RecipientFilter{Activity: mailtrail.EventBounced})),
		OfLink:   must[*mailtrail.RecipientPage](t)(r.Recipients(ctx, org, "camp", mailtrail.RecipientFilter{Activity: mailtrail.EventClicked, LinkURL: "https://x.example/1"})),
		Campaign: must[*mailtrail.EventPage](t)(r.ListEvents(ctx, org, mailtrail.EventFilter{CampaignID: "camp", Limit: 1000})),
		Customer: must[*mailtrail.EventPage](t)(r.ListEvents(ctx, org, mailtrail.EventFilter{CustomerID: "u1", Limit: 1000})),
		Org:      must[*mailtrail.EventPage](t)(r.ListEvents(ctx, org, mailtrail.EventFilter{Limit: 1000})),
		Did:      must[*mailtrail.Did](t)(r.Did(ctx, org, mailtrail.Condition{CustomerID: "u1", Type: mailtrail.EventOpened})),
	}
}

// topClickers returns the top clickers of the campaign's link with the URL as a report
// reads them: the link's id from CampaignLinks, then LinkTopClickers, in one View.
func topClickers(t *testing.T, s Projection, org, camp, url string, n int) []mailtrail.Clicker {
	t.Helper()
	var out []mailtrail.Clicker
	check(t, s.View(ctx, func(sn query.Snapshot) error {
		links, err := sn.CampaignLinks(ctx, org, camp, 1000)
		if err != nil {
			return err
		}
		for _, l := range links {
			if l.URL == url {
				out, err = sn.LinkTopClickers(ctx, org, camp, l.ID, n)
				return err
			}
		}
		t.Fatalf("link %s not among the campaign's links %+v", url, links)
		return nil
	}))
	return out
}

// testViews: a View answers what the per-method reads answer, returns its function's
// error, and sees one snapshot: what is committed while it is open (after its first
// read) shows in none of its reads, and shows in the next View.
func testViews(t *testing.T, s Projection, norm Normalizer) {
	o, _ := newOrg(t, s, "acme")
	seedMessages(t, s, o.ID, 20)
	write(t, s, norm, dimensioned(rand.New(rand.NewPCG(9, 10)), o.ID, 20))

	want := readAll(t, each(s), o.ID)
	if len(want.Links) == 0 || len(want.Opened.Recipients) == 0 || len(want.OfLink.Recipients) == 0 || !want.Did.Did {
		t.Fatalf("the history has no links, openers, link clickers or opens by u1: the checks prove nothing")
	}
	var got answers
	check(t, s.View(ctx, func(sn query.Snapshot) error { got = readAll(t, sn, o.ID); return nil }))
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("one View's answers differ from the per-method answers:\n got %+v\nwant %+v", got, want)
	}

	// Errors: the snapshot's, and fn's own, are View's.
	err := s.View(ctx, func(sn query.Snapshot) error {
		_, err := sn.CampaignBuckets(ctx, o.ID, "nope")
		return err
	})
	wantCode(t, "unknown campaign in a View", err, mailtrail.ENOTFOUND)
	stop := errors.New("stop")
	if err := s.View(ctx, func(query.Snapshot) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("View returned %v, want fn's error", err)
	}

	// One snapshot: a batch committed during the View (opens, clicks and a bounce, with
	// clients, of u1 and others) is not half-seen.
	more := []*mailtrail.Event{
		ev(o.ID, 1, mailtrail.EventOpened, 30*time.Hour, "view-0"),
		ev(o.ID, 1, mailtrail.EventClicked, 31*time.Hour, "view-1"),
		ev(o.ID, 4, mailtrail.EventClicked, 31*time.Hour, "view-2"),
		ev(o.ID, 5, mailtrail.EventOpened, 32*time.Hour, "view-3"),
		ev(o.ID, 6, mailtrail.EventBounced, 33*time.Hour, "view-4"),
	}
	for _, e := range more {
		e.Metadata.Client, e.Metadata.Country = "Thunderbird", "IT"
	}
	var during answers
	check(t, s.View(ctx, func(sn query.Snapshot) error {
		if _, err := sn.CampaignInfo(ctx, o.ID, "camp"); err != nil { // the snapshot starts here
			return err
		}
		write(t, s, norm, more)
		during = readAll(t, sn, o.ID)
		return nil
	}))
	if !reflect.DeepEqual(during, want) {
		t.Fatalf("a View saw a batch committed after its first read:\n got %+v\nwant %+v", during, want)
	}
	after := readAll(t, each(s), o.ID)
	if reflect.DeepEqual(after.Buckets, want.Buckets) || reflect.DeepEqual(after.Dims, want.Dims) || after.Did.Count == want.Did.Count ||
		len(after.Campaign.Events) == len(want.Campaign.Events) || reflect.DeepEqual(after.Links, want.Links) {
		t.Fatalf("the batch changed nothing a report reads: the check proves nothing")
	}
	var sum, sumAfter mailtrail.Counts
	for _, b := range want.Buckets {
		sum.Add(b.Counts)
	}
	for _, b := range after.Buckets {
		sumAfter.Add(b.Counts)
	}
	if sumAfter.OpensTotal != sum.OpensTotal+2 || sumAfter.ClicksTotal != sum.ClicksTotal+2 {
		t.Fatalf("after the batch: opens %d → %d, clicks %d → %d; want 2 more of each", sum.OpensTotal, sumAfter.OpensTotal, sum.ClicksTotal, sumAfter.ClicksTotal)
	}
}
