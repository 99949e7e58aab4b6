package journey

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func ev(typ mailtrail.EventType, mut ...func(*mailtrail.Event)) *mailtrail.Event {
	e := &mailtrail.Event{OrgID: "o1", CampaignID: "spring", CustomerID: "c1", MessageID: "m1", Type: typ,
		OccurredAt: t0, Counted: true}
	for _, m := range mut {
		m(e)
	}
	return e
}

func TestWakes(t *testing.T) {
	opened := mailtrail.Condition{CustomerID: "c1", Type: mailtrail.EventOpened}
	with := func(c mailtrail.Condition, f func(*mailtrail.Condition)) mailtrail.Condition { f(&c); return c }
	machine := func(e *mailtrail.Event) { e.Classification = mailtrail.Machine }
	cases := []struct {
		name string
		c    mailtrail.Condition
		ev   *mailtrail.Event
		want bool
	}{
		{"same type", opened, ev(mailtrail.EventOpened), true},
		{"other type", opened, ev(mailtrail.EventClicked), false},
		{"other customer", opened, ev(mailtrail.EventOpened, func(e *mailtrail.Event) { e.CustomerID = "c2" }), false},
		{"campaign", with(opened, func(c *mailtrail.Condition) { c.CampaignID = "spring" }), ev(mailtrail.EventOpened), true},
		{"other campaign", with(opened, func(c *mailtrail.Condition) { c.CampaignID = "summer" }), ev(mailtrail.EventOpened), false},
		{"message", with(opened, func(c *mailtrail.Condition) { c.MessageID = "m1" }), ev(mailtrail.EventOpened), true},
		{"other message", with(opened, func(c *mailtrail.Condition) { c.MessageID = "m2" }), ev(mailtrail.EventOpened), false},
		{"since is inclusive", with(opened, func(c *mailtrail.Condition) { c.Since = t0 }), ev(mailtrail.EventOpened), true},
		{"before since", with(opened, func(c *mailtrail.Condition) { c.Since = t0.Add(time.Millisecond) }), ev(mailtrail.EventOpened), false},
		{"uncounted", opened, ev(mailtrail.EventOpened, func(e *mailtrail.Event) { e.Counted = false }), false},
		{"machine open, all", opened, ev(mailtrail.EventOpened, machine), true},
		{"machine open, human only", with(opened, func(c *mailtrail.Condition) { c.HumanOnly = true }), ev(mailtrail.EventOpened, machine), false},
		{"human open, human only", with(opened, func(c *mailtrail.Condition) { c.HumanOnly = true }),
			ev(mailtrail.EventOpened, func(e *mailtrail.Event) { e.Classification = mailtrail.Human }), true},
		{"link", mailtrail.Condition{CustomerID: "c1", Type: mailtrail.EventClicked, LinkURL: "https://a"},
			ev(mailtrail.EventClicked, func(e *mailtrail.Event) { e.Metadata.LinkURL = "https://a" }), true},
		{"other link", mailtrail.Condition{CustomerID: "c1", Type: mailtrail.EventClicked, LinkURL: "https://a"},
			ev(mailtrail.EventClicked, func(e *mailtrail.Event) { e.Metadata.LinkURL = "https://b" }), false},
		// Human clicks: the click rules may relabel on any click, delivery or send.
		{"bot click, human clicks", mailtrail.Condition{CustomerID: "c1", Type: mailtrail.EventClicked, HumanOnly: true},
			ev(mailtrail.EventClicked, func(e *mailtrail.Event) { e.Classification = mailtrail.Bot }), true},
		{"delivery, human clicks", mailtrail.Condition{CustomerID: "c1", Type: mailtrail.EventClicked, HumanOnly: true}, ev(mailtrail.EventDelivered), true},
		{"delivery of another campaign, human clicks", mailtrail.Condition{CustomerID: "c1", Type: mailtrail.EventClicked, HumanOnly: true, CampaignID: "summer"},
			ev(mailtrail.EventDelivered), false},
		{"open, human clicks", mailtrail.Condition{CustomerID: "c1", Type: mailtrail.EventClicked, HumanOnly: true}, ev(mailtrail.EventOpened), false},
	}
	for _, tc := range cases {
		if got := Wakes(&tc.c, tc.ev); got != tc.want {
			t.Errorf("%s: Wakes = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func woken(w *Waiter) bool {
	select {
	case <-w.Woken():
		return true
	default:
		return false
	}
}

func TestRegistry(t *testing.T) {
	r := NewRegistry(Options{MaxPerOrg: 2})
	a, err := r.Register("o1", mailtrail.Condition{CustomerID: "c1", Type: mailtrail.EventOpened})
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.Register("o1", mailtrail.Condition{CustomerID: "c1", Type: mailtrail.EventClicked})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Register("o1", mailtrail.Condition{CustomerID: "c3", Type: mailtrail.EventOpened}); !errors.Is(err, ErrTooMany) {
		t.Fatalf("third wait of o1: %v, want ErrTooMany", err)
	}
	other, err := r.Register("o2", mailtrail.Condition{CustomerID: "c1", Type: mailtrail.EventOpened})
	if err != nil {
		t.Fatalf("the limit is per organization: %v", err)
	}
	if r.Len() != 3 {
		t.Fatalf("Len = %d", r.Len())
	}
	// An open of o1's c1, twice in one batch and again: a is woken once, b and o2 not, and
	// Notify never blocks on a wake-up nobody has read.
	r.Notify([]*mailtrail.Event{ev(mailtrail.EventOpened), ev(mailtrail.EventOpened)})
	r.Notify([]*mailtrail.Event{ev(mailtrail.EventOpened)})
	if !woken(a) || woken(a) || woken(b) || woken(other) {
		t.Fatal("wrong wake-ups")
	}
	r.Remove(a)
	r.Remove(a)
	if r.Len() != 2 {
		t.Fatalf("Len after Remove = %d", r.Len())
	}
	if _, err := r.Register("o1", mailtrail.Condition{CustomerID: "c3", Type: mailtrail.EventOpened}); err != nil {
		t.Fatalf("after Remove: %v", err)
	}
	r.Close()
	r.Close()
	select {
	case <-b.Done():
	default:
		t.Fatal("Done not closed by Close")
	}
	if _, err := r.Register("o9", mailtrail.Condition{CustomerID: "c1", Type: mailtrail.EventOpened}); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

// TestRegistryConcurrent runs Notify beside Register and Remove (for the race detector)
// and checks the registry ends empty.
func TestRegistryConcurrent(t *testing.T) {
	r := NewRegistry(Options{})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
				r.Notify([]*mailtrail.Event{ev(mailtrail.EventOpened)})
			}
		}
	}()
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				w, err := r.Register("o1", mailtrail.Condition{CustomerID: fmt.Sprintf("c%d", (g+i)%3), Type: mailtrail.EventOpened})
				if err != nil {
					t.Error(err)
					return
				}
				r.Remove(w)
			}
		}()
	}
	wg.Wait()
	close(stop)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Len() != 0 || len(r.waiters) != 0 || len(r.perOrg) != 0 {
		t.Fatalf("registry not empty: %d %d %d", r.Len(), len(r.waiters), len(r.perOrg))
	}
}
