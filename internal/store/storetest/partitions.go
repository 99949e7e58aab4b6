package storetest

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/storekit"
)

// testPartitions: a log split into partitions by message (as serve splits its appends),
// each partition applied at once by a writer of its own (WriteAt under the partition's
// stream name, positions the log's sequences with the gaps the other partitions leave),
// gives the figures of one application of the whole log with Write. The messages share
// five addresses, so the partitions' writers decide on one address's suppression and
// soft-bounce run at the same time; each round is another log.
func testPartitions(t *testing.T, open func(t *testing.T) Projection, norm Normalizer) {
	const msgs, records, parts = 30, 150, 3
	seed := func(s Projection, org string) {
		var ms []*mailtrail.Message
		for i := 0; i < msgs; i++ {
			ms = append(ms, &mailtrail.Message{ID: ref(i), CampaignID: "camp", CustomerID: fmt.Sprintf("u%d", i%5),
				CustomerEmail: fmt.Sprintf("u%d@example.com", i%5), TrackOpens: true, TrackClicks: true})
		}
		if err := s.CreateMessages(ctx, org, ms); err != nil {
			t.Fatal(err)
		}
	}
	for round := 0; round < 3; round++ {
		s := open(t)
		o, _ := newOrg(t, s, "acme")
		seed(s, o.ID)
		log := MixedLog(uint64(40+round), o.ID, msgs, records, norm)
		// Partition p's records: the events of p in each record of the log, at the record's
		// position (its index + 1), records with none of p's events left out.
		type rec struct {
			pos uint64
			evs []*mailtrail.Event
		}
		per := make([][]rec, parts)
		for i, r := range log {
			var by [parts][]*mailtrail.Event
			for _, e := range r {
				p := storekit.Partition(e, parts)
				by[p] = append(by[p], e)
			}
			for p := range by {
				if len(by[p]) > 0 {
					per[p] = append(per[p], rec{uint64(i + 1), clone(by[p])})
				}
			}
		}
		var wg sync.WaitGroup
		errs := make(chan error, parts)
		for p := range per {
			wg.Add(1)
			go func(p int) {
				defer wg.Done()
				r := rand.New(rand.NewPCG(uint64(round), uint64(p)))
				stream := fmt.Sprintf("events/%d", p)
				var after uint64
				for rs := per[p]; len(rs) > 0; {
					n := min(len(rs), 1+r.IntN(4))
					var batch []*mailtrail.Event
					for _, x := range rs[:n] {
						batch = append(batch, x.evs...)
					}
					pos := rs[n-1].pos
					if _, err := s.WriteAt(ctx, stream, after, pos, batch); err != nil {
						errs <- fmt.Errorf("partition %d, up to %d: %w", p, pos, err)
						return
					}
					after, rs = pos, rs[n:]
				}
			}(p)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		for p := range per {
			if len(per[p]) == 0 {
				t.Fatalf("round %d: partition %d has no events: the log proves nothing", round, p)
			}
			if got, want := must[uint64](t)(s.Position(ctx, fmt.Sprintf("events/%d", p))), per[p][len(per[p])-1].pos; got != want {
				t.Fatalf("round %d: partition %d at %d, want %d", round, p, got, want)
			}
		}
		got := Figures(t, s, o.ID, "camp")

		fresh := open(t)
		fo, _ := newOrg(t, fresh, "acme")
		seed(fresh, fo.ID)
		for _, batch := range MixedLog(uint64(40+round), fo.ID, msgs, records, norm) {
			if _, err := fresh.Write(ctx, batch); err != nil {
				t.Fatal(err)
			}
		}
		if want := Figures(t, fresh, fo.ID, "camp"); got != want {
			t.Fatalf("round %d: figures of the partitions applied at once differ from one application of the log:\n%s", round, DiffLines(want, got))
		}
	}
}
