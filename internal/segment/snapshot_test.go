package segment_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/internal/segment"
	"github.com/mailtrail/mailtrail/internal/store/sqlite"
)

// storePos is the store's position as serve reads it for a snapshot.
func storePos(t *testing.T, db *sqlite.DB) segment.Position {
	t.Helper()
	ctx := context.Background()
	last, err := db.LastEventID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	gen, err := db.Generation(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return segment.Position{LastEventID: last, Generation: gen}
}

// answerOf evaluates n on idx, ids sorted.
func answerOf(t *testing.T, idx *segment.Index, org string, n *tnode, cands []string) []string {
	t.Helper()
	b, _ := json.Marshal(n)
	rule, err := segment.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	res, err := idx.Evaluate(org, rule, now, cands)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	if _, err := res.Page("", 0, func(id string) error { got = append(got, id); return nil }); err != nil {
		t.Fatal(err)
	}
	sort.Strings(got)
	return got
}

// snapFixture is a fixture whose index also took live batches (unmerged tails,
// relabels, a new campaign and customers) and an erasure after its build: the state a
// snapshot is written from at shutdown.
func snapFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t)
	r := rand.New(rand.NewPCG(3, 5))
	f.relabel = 0
	for range 3 {
		evs := genEvents(r, f.orgs[0], f.nCust+30, 400)
		for _, ev := range evs[:40] {
			ev.CampaignID = "brand-new"
		}
		f.write(t, evs)
	}
	if f.relabel == 0 {
		t.Fatal("no click relabelled: the fixture does not exercise relabels")
	}
	res, err := f.db.EraseCustomer(context.Background(), f.orgs[0], "c7")
	if err != nil {
		t.Fatal(err)
	}
	f.idx.Rename(res.Customer.OrgID, res.Customer.OldID, res.Customer.NewID)
	f.idx.Flush()
	return f
}

// more writes batches with new events, customers and a campaign named campaign (with
// clicks of older messages relabelled by later deliveries and clicks), and an
// organization created since with events of its own; the live index observes them.
func (f *fixture) more(t *testing.T, r *rand.Rand, campaign string) {
	t.Helper()
	f.relabel = 0
	for i := range 4 {
		evs := genEvents(r, f.orgs[i%2], f.nCust+60, 500)
		for _, ev := range evs[:30] {
			ev.CampaignID = campaign
		}
		f.write(t, evs)
	}
	if f.relabel == 0 {
		t.Fatal("no click relabelled: the test does not exercise relabels")
	}
	late, _, err := f.db.CreateOrg(context.Background(), "late", "UTC")
	if err != nil {
		t.Fatal(err)
	}
	f.orgs = append(f.orgs, late.ID)
	f.write(t, genEvents(r, late.ID, 40, 300))
	f.idx.Flush()
}

func writeSnap(t *testing.T, idx *segment.Index, pos segment.Position) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := idx.WriteSnapshot(&buf, pos); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// A snapshot loaded at the store's position answers every rule as a fresh Build does.
func TestSnapshotRoundTripEqualsBuild(t *testing.T) {
	f := snapFixture(t)
	ctx := context.Background()
	pos := storePos(t, f.db)
	snap := writeSnap(t, f.idx, pos)

	loaded := segment.New(f.db, nil)
	if _, err := loaded.LoadSnapshot(ctx, bytes.NewReader(snap), pos); err != nil {
		t.Fatal(err)
	}
	if !loaded.Ready() {
		t.Fatal("a loaded snapshot is not ready")
	}
	built := segment.New(f.db, nil)
	if err := built.Build(ctx, 500); err != nil {
		t.Fatal(err)
	}
	sameAsBuild(t, f, loaded, built, "brand-new", true)
	// What is committed after the load shows up as after a build.
	evs := genEvents(rand.New(rand.NewPCG(4, 4)), f.orgs[1], f.nCust, 300)
	cs, err := f.db.Write(ctx, evs)
	if err != nil {
		t.Fatal(err)
	}
	loaded.Observe(cs.Events, cs.Relabels)
	loaded.Flush()
	f.idx = loaded
	f.recount(t)
	for _, c := range conds()[:12] {
		n := &tnode{Done: c}
		if got, want := answerOf(t, loaded, f.orgs[1], n, nil), f.expect(f.orgs[1], n, nil); !slices.Equal(got, want) {
			t.Fatalf("after a live batch: snapshot %v, recount %v", got, want)
		}
	}
}

// sameAsBuild checks that loaded answers every rule (conditions of conds and a sent of
// campaign, each done, not done and negated; every organization and an unknown one; with
// and without candidates) as built does, with the same customers and events, and the
// same customers and events as the fixture's own index, which it was written from and
// which observed everything since (exact: the same stats).
func sameAsBuild(t *testing.T, f *fixture, loaded, built *segment.Index, campaign string, exact bool) {
	t.Helper()
	r := rand.New(rand.NewPCG(4, 4))
	cands := append(candidates(r, f.nCust+30), "c7")
	nonEmpty := 0
	for _, c := range append(conds(), &tcond{Event: "sent", Campaign: campaign}) {
		for _, n := range []*tnode{{Done: c}, {NotDone: c}, {Not: &tnode{Done: c}}} {
			for _, org := range append(slices.Clone(f.orgs), "org_unknown") {
				for _, u := range [][]string{nil, cands} {
					want := answerOf(t, built, org, n, u)
					got := answerOf(t, loaded, org, n, u)
					if !slices.Equal(got, want) {
						b, _ := json.Marshal(n)
						t.Fatalf("%s org %s: snapshot %d ids, build %d\nsnapshot %v\nbuild    %v", b, org, len(got), len(want), got, want)
					}
					if len(want) > 0 {
						nonEmpty++
					}
				}
			}
		}
	}
	if nonEmpty < 200 {
		t.Fatalf("only %d non-empty answers", nonEmpty)
	}
	for _, org := range f.orgs {
		a, _ := loaded.Org(org)
		b, _ := built.Org(org)
		src, _ := f.idx.Org(org)
		// The same as the live index (exact: the very same bitmaps, those a relabel
		// emptied included, when nothing was read from the store), and the same
		// customers and events as a build.
		sa, sl, sb := a.Stats(), src.Stats(), b.Stats()
		if exact && sa != sl {
			t.Fatalf("org %s: snapshot stats %+v, live index %+v", org, sa, sl)
		}
		for _, other := range []segment.Stats{sl, sb} {
			if sa.Customers != other.Customers || sa.Universe != other.Universe || sa.Events != other.Events || sa.Days != other.Days {
				t.Fatalf("org %s: snapshot stats %+v, live index %+v, build %+v", org, sa, sl, sb)
			}
		}
	}
}

// A snapshot written before more batches were committed (new events, customers, a
// campaign and an organization, and clicks of older messages relabelled by later
// deliveries and clicks), loaded at the store's new position, reads the events since
// from the store: it answers every rule as a fresh Build does and holds what the live
// index that observed every batch holds.
func TestSnapshotCatchesUp(t *testing.T) {
	f := snapFixture(t)
	ctx := context.Background()
	pos := storePos(t, f.db)
	snap := writeSnap(t, f.idx, pos)

	f.more(t, rand.New(rand.NewPCG(8, 9)), "after-snapshot")

	now := storePos(t, f.db)
	loaded := segment.New(f.db, nil)
	n, err := loaded.LoadSnapshot(ctx, bytes.NewReader(snap), now)
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 || !loaded.Ready() {
		t.Fatalf("LoadSnapshot applied %d events since the snapshot, ready %v", n, loaded.Ready())
	}
	built := segment.New(f.db, nil)
	if err := built.Build(ctx, 500); err != nil {
		t.Fatal(err)
	}
	sameAsBuild(t, f, loaded, built, "after-snapshot", false)

	// A store behind the snapshot (another store, or a snapshot from a later state) is
	// refused.
	behind := segment.New(f.db, nil)
	if _, err := behind.LoadSnapshot(ctx, bytes.NewReader(writeSnap(t, f.idx, now)), pos); !errors.Is(err, segment.ErrSnapshotStale) {
		t.Fatalf("a snapshot past the store: %v, want ErrSnapshotStale", err)
	}
}

// A snapshot is refused when the store's generation moved after it was written: an
// erasure, a retention delete of the store's last event (other retention deletes leave
// it valid: TestRetentionForgetsAsABuildDoes). The index stays unbuilt and Build then
// works. (More events are read from the store: TestSnapshotCatchesUp.)
func TestSnapshotStaleIsRefused(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, f *fixture)
	}{
		{"an erasure", func(t *testing.T, f *fixture) {
			if _, err := f.db.EraseCustomer(ctx, f.orgs[1], "c3"); err != nil {
				t.Fatal(err)
			}
		}},
		{"a retention delete of the store's last event", func(t *testing.T, f *fixture) {
			// The index forgets by itself what retention deletes, but SQLite gives the next
			// event the id of a deleted last one: the snapshot's position would name it.
			if n, err := f.db.DeleteExpiredEvents(ctx, now, 100); err != nil || n != 1 {
				t.Fatalf("retention deleted %d events: %v", n, err)
			}
			f.write(t, genEvents(rand.New(rand.NewPCG(6, 6)), f.orgs[0], 5, 1))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			late := genEvents(rand.New(rand.NewPCG(2, 2)), f.orgs[0], 5, 1)
			late[0].ReceivedAt = now.Add(7 * 24 * time.Hour)
			f.write(t, late)
			// The store's last event: an organization's only one, past its retention.
			solo, _, err := f.db.CreateOrg(ctx, "solo", "UTC")
			if err != nil {
				t.Fatal(err)
			}
			setRetention(t, f.db, solo.ID, 7)
			old := genEvents(rand.New(rand.NewPCG(5, 5)), solo.ID, 3, 1)
			old[0].ReceivedAt = now.Add(-30 * 24 * time.Hour)
			old[0].OccurredAt = old[0].ReceivedAt
			f.write(t, old)
			f.idx.Flush()
			pos := storePos(t, f.db)
			snap := writeSnap(t, f.idx, pos)
			tc.change(t, f)
			if storePos(t, f.db).LastEventID != pos.LastEventID {
				t.Fatal("the change moved the last event id: the test does not exercise the generation")
			}
			idx := segment.New(f.db, nil)
			_, err = idx.LoadSnapshot(ctx, bytes.NewReader(snap), storePos(t, f.db))
			if !errors.Is(err, segment.ErrSnapshotStale) {
				t.Fatalf("LoadSnapshot after %s: %v, want ErrSnapshotStale", tc.name, err)
			}
			if idx.Ready() {
				t.Fatal("a refused snapshot left the index ready")
			}
			if err := idx.Build(ctx, 0); err != nil || !idx.Ready() {
				t.Fatalf("Build after a refused snapshot: %v", err)
			}
		})
	}
}

// A torn, corrupt, extended or unknown-version file is refused whole: the index stays
// unbuilt.
func TestSnapshotCorruptIsRefused(t *testing.T) {
	f := newFixture(t)
	pos := storePos(t, f.db)
	snap := writeSnap(t, f.idx, pos)
	try := func(what string, b []byte, want error) {
		t.Helper()
		idx := segment.New(f.db, nil)
		_, err := idx.LoadSnapshot(context.Background(), bytes.NewReader(b), pos)
		if err == nil || !errors.Is(err, want) {
			t.Fatalf("%s: %v, want %v", what, err, want)
		}
		if idx.Ready() {
			t.Fatalf("%s: the index is ready", what)
		}
	}
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range append([]int{0, 7, 8, 12, 28, len(snap) - 32, len(snap) - 1}, r.IntN(len(snap)), r.IntN(len(snap)), r.IntN(len(snap))) {
		try("truncated", snap[:n], segment.ErrSnapshotCorrupt)
	}
	for i := 0; i < 40; i++ {
		at := 28 + r.IntN(len(snap)-28) // past the header: the body or the checksum
		b := slices.Clone(snap)
		b[at] ^= byte(1 + r.IntN(255))
		try("flipped", b, segment.ErrSnapshotCorrupt)
	}
	try("extended", append(slices.Clone(snap), 0), segment.ErrSnapshotCorrupt)
	b := slices.Clone(snap)
	b[0] = 'X'
	try("bad magic", b, segment.ErrSnapshotCorrupt)
	b = slices.Clone(snap)
	b[8] = 99
	try("unknown version", b, segment.ErrSnapshotVersion)
	// The intact file still loads.
	idx := segment.New(f.db, nil)
	if _, err := idx.LoadSnapshot(context.Background(), bytes.NewReader(snap), pos); err != nil {
		t.Fatal(err)
	}
}

// While paused (a snapshot being written while commits go on) the index stays as it was:
// batches observed meanwhile wait, queries answer without them and do not wait; resume
// applies them.
func TestPauseHoldsTheIndex(t *testing.T) {
	f := newFixture(t)
	n := &tnode{Done: &tcond{Event: "sent", Campaign: "paused"}}
	resume := f.idx.Pause()
	evs := genEvents(rand.New(rand.NewPCG(9, 9)), f.orgs[0], f.nCust, 200)
	for _, ev := range evs {
		ev.CampaignID = "paused"
	}
	f.write(t, evs)
	if got := answerOf(t, f.idx, f.orgs[0], n, nil); len(got) != 0 {
		t.Fatalf("a paused index answered with %d customers of a batch observed after the pause", len(got))
	}
	resume()
	resume() // a second call does nothing
	f.recount(t)
	got, want := answerOf(t, f.idx, f.orgs[0], n, nil), f.expect(f.orgs[0], n, nil)
	if len(want) == 0 || !slices.Equal(got, want) {
		t.Fatalf("after resume: %d ids, recount %d", len(got), len(want))
	}
}

// An index that follows the store (Follow, as an API node's does: nothing observed)
// answers every rule as a fresh Build does, after events with relabelled clicks, a new
// campaign and a new organization committed since it was built; following again with
// nothing new changes nothing.
func TestFollowEqualsBuild(t *testing.T) {
	f := snapFixture(t)
	ctx := context.Background()
	follower := segment.New(f.db, nil)
	if n, err := follower.Follow(ctx, f.orgs, 1<<40); err != nil || n != 0 {
		t.Fatalf("Follow before Build: %d, %v; want nothing done", n, err)
	}
	if err := follower.Build(ctx, 500); err != nil {
		t.Fatal(err)
	}
	f.more(t, rand.New(rand.NewPCG(18, 19)), "followed")
	last, err := f.db.LastEventID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n, err := follower.Follow(ctx, f.orgs, last)
	if err != nil || n == 0 {
		t.Fatalf("Follow: %d events, %v", n, err)
	}
	if again, err := follower.Follow(ctx, f.orgs, last); err != nil || again != 0 {
		t.Fatalf("Follow again: %d events, %v; want none", again, err)
	}
	built := segment.New(f.db, nil)
	if err := built.Build(ctx, 500); err != nil {
		t.Fatal(err)
	}
	sameAsBuild(t, f, follower, built, "followed", false)
}

// An index that follows a store other processes write renames an erased customer in
// place (Renamed) and then answers as a fresh build; it refuses a rename to an id it
// holds already (only a build is right then) and changes nothing.
func TestRenamedEqualsBuild(t *testing.T) {
	f := snapFixture(t)
	ctx := context.Background()
	follower := segment.New(f.db, nil)
	if err := follower.Build(ctx, 500); err != nil {
		t.Fatal(err)
	}
	res, err := f.db.EraseCustomer(ctx, f.orgs[0], "c3")
	if err != nil {
		t.Fatal(err)
	}
	if !follower.Renamed(res.Customer.OrgID, "c3", res.Customer.NewID) {
		t.Fatal("Renamed refused the erased customer's new id")
	}
	if !follower.Renamed(res.Customer.OrgID, "c3", res.Customer.NewID) {
		t.Fatal("Renamed again (the old id is gone): refused, want nothing to do")
	}
	built := segment.New(f.db, nil)
	if err := built.Build(ctx, 500); err != nil {
		t.Fatal(err)
	}
	sameAsBuild(t, f, follower, built, "brand-new", false)
	if follower.Renamed(f.orgs[0], "c4", "c5") {
		t.Fatal("Renamed c4 to c5, which the index holds: accepted, want refused")
	}
	sameAsBuild(t, f, follower, built, "brand-new", false)
}
