package rules

import (
	"math/rand"
	"reflect"
	"testing"
)

const sec = int64(1000)

func TestClassifyClicks(t *testing.T) {
	d := int64(1_700_000_000_000) // delivered
	cases := []struct {
		name          string
		delivered     int64
		sent          int64
		clicks        []Click
		bot           []bool
		firstReasonOf []string
	}{
		{"human click hours later", d, d - sec, []Click{{At: d + 3*3600*sec, Link: "a"}}, []bool{false}, []string{""}},
		{"before delivery", d, 0, []Click{{At: d - sec, Link: "a"}}, []bool{true}, []string{ReasonBeforeDelivery}},
		{"seconds after delivery", d, 0, []Click{{At: d + 3*sec, Link: "a"}}, []bool{true}, []string{ReasonNearDelivery}},
		{"just past the delivery window", d, 0, []Click{{At: d + 10*sec, Link: "a"}}, []bool{false}, []string{""}},
		{"seconds after send, no delivery", 0, d, []Click{{At: d + 2*sec, Link: "a"}}, []bool{true}, []string{ReasonNearSend}},
		{"no times known", 0, 0, []Click{{At: d, Link: "a"}}, []bool{false}, []string{""}},
		{"burst of three links", d, 0, []Click{
			{At: d + 60*sec, Link: "a"}, {At: d + 61*sec, Link: "b"}, {At: d + 62*sec, Link: "c"},
			{At: d + 3600*sec, Link: "a"}, // the person, an hour later
		}, []bool{true, true, true, false}, []string{ReasonBurst, ReasonBurst, ReasonBurst, ""}},
		{"two links quickly is not a burst", d, 0, []Click{{At: d + 60*sec, Link: "a"}, {At: d + 61*sec, Link: "b"}, {At: d + 62*sec, Link: "a"}},
			[]bool{false, false, false}, []string{"", "", ""}},
		{"burst window edge", d, 0, []Click{{At: d + 60*sec, Link: "a"}, {At: d + 62*sec, Link: "b"}, {At: d + 66*sec, Link: "c"}},
			[]bool{false, false, false}, []string{"", "", ""}},
		{"honeypot and its neighbours", d, 0, []Click{
			{At: d + 120*sec, Link: "#65535", Honeypot: true}, {At: d + 150*sec, Link: "a"}, {At: d + 7200*sec, Link: "a"},
		}, []bool{true, true, false}, []string{ReasonHoneypot, ReasonNearHoneypot, ""}},
		{"request bot stays a bot", d, 0, []Click{{At: d + 3600*sec, Link: "a", RequestBot: true}}, []bool{true}, []string{""}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := ClassifyClicks(c.delivered, c.sent, c.clicks)
			for i := range c.clicks {
				if got[i].Bot != c.bot[i] {
					t.Errorf("click %d: bot = %v, want %v (reasons %v)", i, got[i].Bot, c.bot[i], got[i].Reasons)
				}
				first := ""
				if len(got[i].Reasons) > 0 {
					first = got[i].Reasons[0]
				}
				if first != c.firstReasonOf[i] {
					t.Errorf("click %d: first reason %q, want %q (all %v)", i, first, c.firstReasonOf[i], got[i].Reasons)
				}
			}
		})
	}
}

// The labels are a function of the set of clicks: any order gives the same verdict per click.
func TestClassifyClicksOrderIndependent(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	links := []string{"a", "b", "c", "d", "#65535"}
	for round := 0; round < 2000; round++ {
		d := int64(0)
		if rng.Intn(3) > 0 {
			d = 1_000_000 + rng.Int63n(20*sec)
		}
		n := 1 + rng.Intn(8)
		clicks := make([]Click, n)
		for i := range clicks {
			l := links[rng.Intn(len(links))]
			clicks[i] = Click{At: 1_000_000 + rng.Int63n(300*sec), Link: l, Honeypot: l == "#65535", RequestBot: rng.Intn(10) == 0}
		}
		want := ClassifyClicks(d, 1_000_000, clicks)
		perm := rng.Perm(n)
		shuffled := make([]Click, n)
		for i, p := range perm {
			shuffled[i] = clicks[p]
		}
		got := ClassifyClicks(d, 1_000_000, shuffled)
		for i, p := range perm {
			if !reflect.DeepEqual(got[i], want[p]) {
				t.Fatalf("round %d: click %+v: %+v in one order, %+v in another", round, clicks[p], want[p], got[i])
			}
		}
	}
}
