package rules

import (
	"math/rand/v2"
	"testing"

	"github.com/mailtrail/mailtrail"
)

type key struct {
	b     int64
	total bool
	f     Field
	t     Total
}

func fold(evs []Input) (MessageState, map[key]int64) {
	var s MessageState
	var ch []Change
	for _, e := range evs {
		s, ch = Apply(s, e, ch)
	}
	sum := map[key]int64{}
	for _, c := range ch {
		k := key{c.Bucket, c.IsTotal, c.Field, c.Total}
		sum[k] += c.Delta
		if sum[k] == 0 {
			delete(sum, k)
		}
	}
	return s, sum
}

func randomHistory(r *rand.Rand) []Input {
	n := 1 + r.IntN(12)
	evs := make([]Input, n)
	for i := range evs {
		evs[i] = Input{
			Type:       mailtrail.EventTypes[r.IntN(len(mailtrail.EventTypes))],
			OccurredAt: 1_700_000_000_000 + int64(r.IntN(72))*int64(BucketWidth.Milliseconds()/3),
			Human:      r.IntN(2) == 0,
			Hard:       r.IntN(2) == 0,
			Counted:    r.IntN(8) != 0,
		}
	}
	return evs
}

// TestOrderIndependence: any permutation of the same events gives the same state and the
// same net counters; every unique counter is 0 or 1 per field, matching the state.
func TestOrderIndependence(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for iter := 0; iter < 5000; iter++ {
		evs := randomHistory(r)
		s1, c1 := fold(evs)
		perm := append([]Input(nil), evs...)
		r.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		s2, c2 := fold(perm)
		if s1 != s2 {
			t.Fatalf("state differs by order: %v vs %v for %+v", s1, s2, evs)
		}
		if len(c1) != len(c2) {
			t.Fatalf("counters differ by order: %v vs %v", c1, c2)
		}
		for k, v := range c1 {
			if c2[k] != v {
				t.Fatalf("counter %+v: %d vs %d", k, v, c2[k])
			}
		}
		// Net uniques equal the state: one per set field, in the bucket of its time.
		for f := Field(0); f < NumFields; f++ {
			var n int64
			for k, v := range c1 {
				if !k.total && k.f == f {
					n += v
					if v != 1 || k.b != Bucket(s1[f]) {
						t.Fatalf("field %d: counter %d in bucket %d, state at bucket %d", f, v, k.b, Bucket(s1[f]))
					}
				}
			}
			if want := map[bool]int64{true: 1, false: 0}[s1.Set(f)]; n != want {
				t.Fatalf("field %d: %d uniques, state set=%v", f, n, s1.Set(f))
			}
		}
	}
}

func TestApply(t *testing.T) {
	const h = int64(3_600_000)
	base := int64(1_700_000_000_000)
	tests := []struct {
		name string
		evs  []Input
		want MessageState
	}{
		{"open implies delivered", []Input{{Type: mailtrail.EventOpened, OccurredAt: base, Human: true, Counted: true}},
			MessageState{FDelivered: base, FOpen: base, FHumanOpen: base}},
		{"late earlier delivered wins", []Input{
			{Type: mailtrail.EventOpened, OccurredAt: base + h, Counted: true},
			{Type: mailtrail.EventDelivered, OccurredAt: base, Counted: true}},
			MessageState{FDelivered: base, FOpen: base + h}},
		{"delivered after bounce keeps bounce", []Input{
			{Type: mailtrail.EventBounced, OccurredAt: base, Hard: true, Counted: true},
			{Type: mailtrail.EventDelivered, OccurredAt: base + h, Counted: true}},
			MessageState{FBounce: base, FHardBounce: base, FDelivered: base + h}},
		{"machine open is not human", []Input{{Type: mailtrail.EventOpened, OccurredAt: base, Counted: true}},
			MessageState{FDelivered: base, FOpen: base}},
		{"uncounted changes nothing", []Input{{Type: mailtrail.EventClicked, OccurredAt: base, Human: true}},
			MessageState{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := fold(tt.evs)
			if got != tt.want {
				t.Fatalf("got %v want %v", got, tt.want)
			}
		})
	}
}

// A deferred event sets no figure: it is no bounce and no delivery.
func TestApplyDeferred(t *testing.T) {
	var s MessageState
	s2, ch := Apply(s, Input{Type: mailtrail.EventDeferred, OccurredAt: 1_700_000_000_000, Counted: true}, nil)
	if s2 != s || len(ch) != 0 {
		t.Fatalf("deferred changed %v, %v", s2, ch)
	}
	if r, _ := Suppressing(&mailtrail.Event{Type: mailtrail.EventDeferred, Source: mailtrail.SourceWebhook}); r != "" {
		t.Fatalf("deferred suppresses: %s", r)
	}
}

func TestCounted(t *testing.T) {
	ev := &mailtrail.Event{Type: mailtrail.EventOpened, Source: mailtrail.SourceWebhook}
	if Counted(ev, true, false) {
		t.Fatal("ESP open of a pixel-tracked message must not count")
	}
	if !Counted(ev, false, true) {
		t.Fatal("ESP open of an untracked message must count")
	}
	ev.Source = mailtrail.SourceTracking
	if !Counted(ev, true, true) {
		t.Fatal("our own pixel open must count")
	}
}
