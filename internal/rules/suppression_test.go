package rules

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
)

const t0 = int64(1_700_000_000_000)

type sev struct {
	typ   mailtrail.EventType
	min   int64 // minutes after t0
	hard  bool
	class mailtrail.Classification
	id    string
}

func (s sev) event() *mailtrail.Event {
	ev := &mailtrail.Event{ID: s.id, Type: s.typ, OccurredAt: time.UnixMilli(t0 + s.min*60_000), Source: mailtrail.SourceWebhook,
		Classification: s.class}
	if s.typ == mailtrail.EventBounced {
		ev.Metadata.BounceType = mailtrail.BounceSoft
		if s.hard {
			ev.Metadata.BounceType = mailtrail.BounceHard
		}
		ev.Metadata.Reason = "550 " + s.id
	}
	return ev
}

func foldSuppression(evs []sev, limit int) (Suppress, SoftBounceState) {
	var cur Suppress
	var soft SoftBounceState
	for _, e := range evs {
		cur, soft = ApplySuppression(cur, soft, SuppressionEventOf(e.event()), limit)
	}
	return cur, soft
}

func soft(min int64, id string) sev { return sev{typ: mailtrail.EventBounced, min: min, id: id} }
func hard(min int64, id string) sev {
	return sev{typ: mailtrail.EventBounced, min: min, hard: true, id: id}
}
func ev(typ mailtrail.EventType, min int64, id string) sev {
	return sev{typ: typ, min: min, id: id}
}

func TestApplySuppression(t *testing.T) {
	B, D, O, C := mailtrail.EventBounced, mailtrail.EventDelivered, mailtrail.EventOpened, mailtrail.EventClicked
	_ = B
	fiveSoft := []sev{soft(1, "s1"), soft(2, "s2"), soft(3, "s3"), soft(4, "s4"), soft(5, "s5")}
	tests := []struct {
		name   string
		evs    []sev
		limit  int
		reason string
		event  string
	}{
		{"five consecutive soft", fiveSoft, 5, mailtrail.ReasonSoftBounce, "s5"},
		{"four soft", fiveSoft[:4], 5, "", ""},
		{"delivery between 3rd and 4th", append([]sev{ev(D, 3, "d")}, fiveSoft...)[:6], 5, "", ""},
		{"delivery after the run lifts it", append(append([]sev{}, fiveSoft...), ev(D, 6, "d")), 5, "", ""},
		{"delivery before the run does not", append([]sev{ev(D, 0, "d")}, fiveSoft...), 5, mailtrail.ReasonSoftBounce, "s5"},
		{"human open resets", append(append([]sev{}, fiveSoft[:2]...), ev(O, 2, "o"), fiveSoft[2], fiveSoft[3], fiveSoft[4]), 5, "", ""},
		{"human click resets", append([]sev{sev{typ: C, min: 4, id: "c", class: mailtrail.Human}}, fiveSoft...), 5, "", ""},
		{"machine open does not reset", append([]sev{sev{typ: O, min: 3, id: "o", class: mailtrail.Machine}}, fiveSoft...), 5, mailtrail.ReasonSoftBounce, "s5"},
		{"bot click does not reset", append([]sev{sev{typ: C, min: 3, id: "c", class: mailtrail.Bot}}, fiveSoft...), 5, mailtrail.ReasonSoftBounce, "s5"},
		{"limit 3", fiveSoft[:3], 3, mailtrail.ReasonSoftBounce, "s3"},
		{"limit 0 means default", fiveSoft[:4], 0, "", ""},
		{"bounce at the reset's millisecond does not count", append([]sev{ev(D, 1, "d")}, fiveSoft...), 5, "", ""},
		{"hard bounce after delivered", []sev{ev(D, 1, "d"), hard(2, "h")}, 5, mailtrail.ReasonHardBounce, "h"},
		{"soft then hard", append(append([]sev{}, fiveSoft...), hard(6, "h")), 5, mailtrail.ReasonHardBounce, "h"},
		{"hard then soft run", append([]sev{hard(0, "h")}, fiveSoft...), 5, mailtrail.ReasonHardBounce, "h"},
		{"hard survives a reset", []sev{hard(0, "h"), ev(D, 9, "d")}, 5, mailtrail.ReasonHardBounce, "h"},
		{"earliest immediate wins", []sev{ev(mailtrail.EventComplained, 5, "c"), hard(3, "h")}, 5, mailtrail.ReasonHardBounce, "h"},
		{"complaint", []sev{ev(mailtrail.EventComplained, 5, "c")}, 5, mailtrail.ReasonComplaint, "c"},
		{"unsubscribe", []sev{ev(mailtrail.EventUnsubscribed, 5, "u")}, 5, mailtrail.ReasonUnsubscribed, "u"},
		{"sent changes nothing", []sev{ev(mailtrail.EventSent, 5, "x")}, 5, "", ""},
		// An ESP's "temporary, will retry" notice is no bounce: five of them suppress
		// nothing, and they neither extend nor end a soft-bounce run.
		{"five deferred", []sev{ev(mailtrail.EventDeferred, 1, "f1"), ev(mailtrail.EventDeferred, 2, "f2"), ev(mailtrail.EventDeferred, 3, "f3"),
			ev(mailtrail.EventDeferred, 4, "f4"), ev(mailtrail.EventDeferred, 5, "f5")}, 5, "", ""},
		{"deferred does not count in the run", append([]sev{ev(mailtrail.EventDeferred, 0, "f")}, fiveSoft[:4]...), 5, "", ""},
		{"deferred does not end the run", append(append([]sev{}, fiveSoft[:2]...), ev(mailtrail.EventDeferred, 2, "f"), fiveSoft[2], fiveSoft[3], fiveSoft[4]), 5, mailtrail.ReasonSoftBounce, "s5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cur, _ := foldSuppression(tt.evs, tt.limit)
			if cur.Reason != tt.reason || cur.EventID != tt.event {
				t.Fatalf("got %+v, want %s by %q", cur, tt.reason, tt.event)
			}
		})
	}
}

func TestReplaces(t *testing.T) {
	man := Suppress{Reason: mailtrail.ReasonManual, At: 100}
	imp := Suppress{Reason: mailtrail.ReasonListImport, At: 50}
	sb := Suppress{Reason: mailtrail.ReasonSoftBounce, EventID: "s", At: 10}
	hb := Suppress{Reason: mailtrail.ReasonHardBounce, EventID: "h", At: 200}
	cp := Suppress{Reason: mailtrail.ReasonComplaint, EventID: "c", At: 100}
	tests := []struct {
		cur, next Suppress
		want      bool
	}{
		{Suppress{}, sb, true},
		{sb, man, true},
		{man, sb, false},
		{man, imp, false}, // the first manual entry is kept
		{man, hb, true},   // a hard bounce outranks a person's entry
		{hb, man, false},
		{hb, sb, false}, // soft-bounce counting never masks a hard bounce
		{cp, sb, false},
		{hb, cp, true}, // earlier event wins
		{cp, hb, false},
	}
	for _, tt := range tests {
		if got := Replaces(tt.cur, tt.next); got != tt.want {
			t.Errorf("Replaces(%s, %s) = %v", tt.cur.Reason, tt.next.Reason, got)
		}
	}
	// A manual suppression survives a soft-bounce run and its lifting.
	cur, st := man, SoftBounceState{}
	for i := int64(1); i <= 6; i++ {
		cur, st = ApplySuppression(cur, st, SuppressionEvent{Signal: SignalSoftBounce, EventID: fmt.Sprint(i), At: i}, 5)
	}
	cur, _ = ApplySuppression(cur, st, SuppressionEvent{Signal: SignalReset, At: 99}, 5)
	if cur != man {
		t.Fatalf("manual suppression changed to %+v", cur)
	}
}

func TestSoftBounceStateBounded(t *testing.T) {
	var st SoftBounceState
	for i := 0; i < 100; i++ {
		st = st.Add(SoftBounce{At: int64(100 - i), EventID: fmt.Sprint(i)})
	}
	if len(st.Bounces) != MaxSoftBounceLimit || st.Bounces[0].At != 100-MaxSoftBounceLimit+1 {
		t.Fatalf("state not the newest %d: %+v", MaxSoftBounceLimit, st.Bounces[:2])
	}
}

// randomSuppressionHistory is one recipient's events over a short period, so that
// soft-bounce runs, resets and ties happen often.
func randomSuppressionHistory(r *rand.Rand) []sev {
	n := 1 + r.IntN(16)
	out := make([]sev, n)
	for i := range out {
		e := sev{min: int64(r.IntN(20)), id: fmt.Sprintf("e%02d", i)}
		switch p := r.IntN(100); {
		case p < 55:
			e.typ = mailtrail.EventBounced
			e.hard = r.IntN(12) == 0
		case p < 70:
			e.typ = mailtrail.EventDelivered
		case p < 80:
			e.typ = mailtrail.EventOpened
			e.class = []mailtrail.Classification{"", mailtrail.Human, mailtrail.Machine}[r.IntN(3)]
		case p < 90:
			e.typ = mailtrail.EventClicked
			e.class = []mailtrail.Classification{"", mailtrail.Human, mailtrail.Bot}[r.IntN(3)]
		case p < 93:
			e.typ = mailtrail.EventComplained
		case p < 95:
			e.typ = mailtrail.EventUnsubscribed
		default:
			e.typ = mailtrail.EventSent
		}
		out[i] = e
	}
	return out
}

// recount decides from the whole history at once, the way a person would read it in time
// order: the earliest immediate event if any, else soft_bounce when at least limit soft
// bounces come after the latest reset.
func recount(evs []sev, limit int) string {
	var imm *sev
	var reset int64 = -1
	for i := range evs {
		e := &evs[i]
		s := SuppressionSignal(e.event())
		if s == SignalImmediate && (imm == nil || e.min < imm.min || (e.min == imm.min && e.id < imm.id)) {
			imm = e
		}
		if s == SignalReset && e.min > reset {
			reset = e.min
		}
	}
	if imm != nil {
		return imm.id
	}
	seen := map[string]bool{}
	for _, e := range evs {
		if SuppressionSignal(e.event()) == SignalSoftBounce && e.min > reset {
			seen[e.id] = true
		}
	}
	if len(seen) >= limit {
		return "soft"
	}
	return ""
}

// TestSuppressionOrderIndependence: a recipient's history, permuted and with events
// duplicated, gives the same suppression and soft-bounce state, equal to a recount.
func TestSuppressionOrderIndependence(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	suppressed := 0
	for iter := 0; iter < 20000; iter++ {
		evs := randomSuppressionHistory(r)
		limit := 1 + r.IntN(6)
		c1, s1 := foldSuppression(evs, limit)
		perm := append([]sev(nil), evs...)
		for d := r.IntN(4); d > 0; d-- {
			perm = append(perm, evs[r.IntN(len(evs))])
		}
		r.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		c2, s2 := foldSuppression(perm, limit)
		if c1 != c2 || !reflect.DeepEqual(normalize(s1), normalize(s2)) {
			t.Fatalf("order changed the outcome:\n%+v %+v\n%+v %+v\nhistory %+v\npermuted %+v", c1, s1, c2, s2, evs, perm)
		}
		want := recount(evs, limit)
		got := c1.EventID
		if c1.Reason == mailtrail.ReasonSoftBounce {
			got = "soft"
		}
		if got != want {
			t.Fatalf("got %+v, recount says %q (limit %d) for %+v", c1, want, limit, evs)
		}
		if c1.Reason != "" {
			suppressed++
		}
	}
	if suppressed < 2000 {
		t.Fatalf("only %d suppressed histories: the generator is too weak", suppressed)
	}
}

func normalize(s SoftBounceState) SoftBounceState {
	if len(s.Bounces) == 0 {
		s.Bounces = nil
	}
	return s
}
