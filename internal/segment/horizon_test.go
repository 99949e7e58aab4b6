package segment_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/segment"
	"github.com/mailtrail/mailtrail/internal/store/sqlite"
)

// retentionEvents returns n events of org received around at: most dated a little before
// their arrival, a fifth backdated by up to 200 days (an import), a few dated days after
// it (a sender's clock gone wrong).
func retentionEvents(r *rand.Rand, org string, customers, n int, at time.Time) []*mailtrail.Event {
	evs := genEvents(r, org, customers, n)
	for _, ev := range evs {
		ev.ReceivedAt = at.Add(-time.Duration(r.Int64N(int64(20 * time.Hour))))
		switch k := r.IntN(20); {
		case k < 4:
			ev.OccurredAt = ev.ReceivedAt.Add(-time.Duration(r.Int64N(int64(200 * 24 * time.Hour))))
		case k == 4:
			ev.OccurredAt = ev.ReceivedAt.Add(time.Duration(1+r.IntN(3)) * 24 * time.Hour)
		default:
			ev.OccurredAt = ev.ReceivedAt.Add(-time.Duration(r.Int64N(int64(2 * time.Hour))))
		}
	}
	return evs
}

// recountKept reads back every counted raw event the store still holds that the index
// keeps at now: not dated more than five minutes after its arrival, of a UTC day from
// the organization's first kept day on (two days after the one its retention window
// starts in, and not before its floor).
func (f *fixture) recountKept(t *testing.T, at time.Time) {
	t.Helper()
	const day = int64(24 * time.Hour / time.Millisecond)
	f.recountWhere(t, func(e rawEv, received, days, floor int64) bool {
		first := floor
		if days > 0 {
			start := at.Add(-time.Duration(days) * 24 * time.Hour).Truncate(24 * time.Hour)
			first = max(first, start.UnixMilli()/day+2)
		}
		return e.at <= received+5*60*1000 && e.at >= first*day
	})
}

// sameAsRecount checks that every index answers every rule as the recount of the events
// kept does, for every organization, with and without candidates; it returns how many
// answers were not empty.
func (f *fixture) sameAsRecount(t *testing.T, what string, idxs ...*segment.Index) int {
	t.Helper()
	f.recountKept(t, now)
	cands := candidates(rand.New(rand.NewPCG(4, 4)), f.nCust)
	nonEmpty := 0
	for _, c := range conds() {
		for _, n := range []*tnode{{Done: c}, {NotDone: c}, {Not: &tnode{Done: c}}} {
			for _, org := range f.orgs {
				for _, u := range [][]string{nil, cands} {
					want := f.expect(org, n, u)
					for i, idx := range idxs {
						if got := answerOf(t, idx, org, n, u); !slices.Equal(got, want) {
							b, _ := json.Marshal(n)
							t.Fatalf("%s: index %d: %s org %s (candidates %v): %d ids, recount %d\nindex   %v\nrecount %v",
								what, i, b, org, u != nil, len(got), len(want), got, want)
						}
					}
					if len(want) > 0 {
						nonEmpty++
					}
				}
			}
		}
	}
	return nonEmpty
}

// An index that ran through months of traffic and retention deletes, one loaded from a
// snapshot written before some of those deletes, and one built afresh at the end answer
// every rule alike, and as a recount of the events the store still holds within the
// organization's window; also after the retention is raised (what was forgotten stays
// forgotten, though the store holds backdated events of those days) and lowered.
func TestRetentionForgetsAsABuildDoes(t *testing.T) {
	ctx := context.Background()
	clock := now.Add(-90 * 24 * time.Hour)
	tick := func() time.Time { return clock }
	db, raw := openStore(t, tick)
	f := &fixture{db: db, raw: raw, nCust: 120}
	newIndex := func() *segment.Index {
		x := segment.New(db, nil)
		x.SetClock(tick)
		return x
	}
	f.idx = newIndex()
	for i, days := range []int{30, 0} {
		org, _, err := db.CreateOrg(ctx, fmt.Sprintf("org%d", i), "UTC")
		if err != nil {
			t.Fatal(err)
		}
		f.orgs = append(f.orgs, org.ID)
		if days > 0 {
			setRetention(t, db, org.ID, days)
		}
	}
	if err := f.idx.Build(ctx, 0); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(21, 12))
	var snap []byte
	deleted := 0
	for d := 0; d <= 90; d += 3 {
		clock = now.Add(time.Duration(d-90) * 24 * time.Hour)
		for _, org := range f.orgs {
			f.write(t, retentionEvents(r, org, f.nCust, 150, clock))
		}
		n, err := db.DeleteExpiredEvents(ctx, clock, 100)
		if err != nil {
			t.Fatal(err)
		}
		deleted += n
		if d == 45 {
			f.idx.Flush()
			snap = writeSnap(t, f.idx, storePos(t, db))
		}
	}
	if clock != now || deleted < 500 || f.relabel == 0 {
		t.Fatalf("the traffic ends at %v with %d events deleted by retention and %d clicks relabelled", clock, deleted, f.relabel)
	}

	loaded := newIndex()
	if _, err := loaded.LoadSnapshot(ctx, bytes.NewReader(snap), storePos(t, db)); err != nil {
		t.Fatalf("the snapshot written before retention deletes: %v", err)
	}
	built := newIndex()
	if err := built.Build(ctx, 333); err != nil {
		t.Fatal(err)
	}
	if n := f.sameAsRecount(t, "after retention deletes", f.idx, loaded, built); n < 150 {
		t.Fatalf("only %d non-empty answers", n)
	}
	a, _ := f.idx.Org(f.orgs[0])
	b, _ := f.idx.Org(f.orgs[1])
	if kept, all := a.Stats().Days, b.Stats().Days; kept > 30 || all < 200 {
		t.Fatalf("the index holds %d days of the organization with 30 days of retention, %d of the other", kept, all)
	}

	// Raised to 90 days: the store keeps a floor. Events backdated into the days the
	// index forgot, received now, stay out of every index, built afresh or not.
	setRetention(t, db, f.orgs[0], 90)
	if err := f.idx.RefreshHorizons(ctx); err != nil {
		t.Fatal(err)
	}
	back := retentionEvents(r, f.orgs[0], f.nCust, 300, now)
	for _, ev := range back {
		ev.OccurredAt = now.Add(-time.Duration(30+r.IntN(50)) * 24 * time.Hour)
	}
	f.write(t, back)
	built = newIndex()
	if err := built.Build(ctx, 0); err != nil {
		t.Fatal(err)
	}
	f.sameAsRecount(t, "after the retention was raised", f.idx, built)
	var floor int32
	if err := raw.QueryRow(`SELECT segment_floor FROM orgs WHERE public_id = ?`, f.orgs[0]).Scan(&floor); err != nil {
		t.Fatal(err)
	}
	if want := segment.RetentionFirstDay(now, 30) + 1; floor != want {
		t.Fatalf("segment floor %d after raising the retention, want %d", floor, want)
	}
	if a.Stats().Days > 30 {
		t.Fatalf("the index holds %d days after the retention was raised: it took back forgotten ones", a.Stats().Days)
	}

	// Lowered to 7 days: every index forgets more.
	setRetention(t, db, f.orgs[0], 7)
	if err := f.idx.RefreshHorizons(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := db.DeleteExpiredEvents(ctx, now, 0); err != nil || n == 0 {
		t.Fatalf("retention of 7 days deleted %d events: %v", n, err)
	}
	built = newIndex()
	if err := built.Build(ctx, 0); err != nil {
		t.Fatal(err)
	}
	f.sameAsRecount(t, "after the retention was lowered", f.idx, built)
	if a.Stats().Days > 7 {
		t.Fatalf("the index holds %d days under a retention of 7", a.Stats().Days)
	}
}

func setRetention(t *testing.T, db *sqlite.DB, org string, days int) {
	t.Helper()
	ctx := context.Background()
	s, err := db.OrgSettings(ctx, org)
	if err != nil {
		t.Fatal(err)
	}
	s.RetentionDays = days
	if err := db.UpdateOrgSettings(ctx, org, *s); err != nil {
		t.Fatal(err)
	}
}
