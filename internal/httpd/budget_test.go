package httpd

import (
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/internal/token"
)

func TestTrackBudget(t *testing.T) {
	now := time.Date(2026, 11, 28, 10, 59, 0, 0, time.UTC)
	b := newTrackBudget(3, func() time.Time { return now })
	a, c := token.Ref{1}, token.Ref{2}
	for i := range 3 {
		if !b.allow(a, -1) {
			t.Fatalf("hit %d refused", i+1)
		}
	}
	if b.allow(a, -1) {
		t.Fatal("the 4th open of the hour was allowed")
	}
	if !b.allow(a, 0) || !b.allow(c, -1) {
		t.Fatal("another link or message shares the budget")
	}
	now = now.Add(time.Minute) // the next clock hour
	if !b.allow(a, -1) {
		t.Fatal("the budget did not renew with the hour")
	}
	if newTrackBudget(0, time.Now) != nil || !(*trackBudget)(nil).allow(a, -1) {
		t.Fatal("no budget must allow everything")
	}
}

func TestTrackBudgetBounded(t *testing.T) {
	now := time.Now()
	b := newTrackBudget(1, func() time.Time { return now })
	for i := range maxBudgetKeys + 5000 {
		b.allow(token.Ref{byte(i), byte(i >> 8), byte(i >> 16), byte(i >> 24)}, -1)
	}
	n := 0
	for i := range b.shards {
		n += len(b.shards[i].n)
	}
	if n > maxBudgetKeys {
		t.Fatalf("%d tokens counted, bound %d", n, maxBudgetKeys)
	}
	// Past the bound, a new token is recorded (never refused for lack of room).
	if !b.allow(token.Ref{9, 9, 9, 9, 9}, -1) || !b.allow(token.Ref{9, 9, 9, 9, 9}, -1) {
		t.Fatal("a token beyond the bound was refused")
	}
}
