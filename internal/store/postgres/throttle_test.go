package postgres_test

import (
	"context"
	"testing"
	"time"
)

// Refused sign-ins counted by two nodes add up under one key; another key is apart; a
// window that ended starts over at 1, and its row is removed by the next failure of any
// key once it ended.
func TestSignInFailures(t *testing.T) {
	ctx := context.Background()
	schema := newSchema(t)
	a, b := openIn(t, schema), openIn(t, schema)
	const window = 15 * time.Minute
	start := time.Now().Truncate(time.Millisecond)
	k1, k2 := []byte("digest-of-range-1"), []byte("digest-of-range-2")
	for i := range 6 {
		db := a
		if i%2 == 1 {
			db = b
		}
		if err := db.SignInFailed(ctx, k1, start.Add(time.Duration(i)*time.Second), window); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.SignInFailed(ctx, k2, start.Add(time.Minute), window); err != nil {
		t.Fatal(err)
	}
	if n, at, err := b.SignInFailures(ctx, k1); err != nil || n != 6 || !at.Equal(start) {
		t.Fatalf("k1 after 6 failures on two nodes: %d since %v (%v), want 6 since %v", n, at, err, start)
	}
	if n, _, err := a.SignInFailures(ctx, k2); err != nil || n != 1 {
		t.Fatalf("k2: %d (%v), want 1", n, err)
	}
	if n, _, err := a.SignInFailures(ctx, []byte("never")); err != nil || n != 0 {
		t.Fatalf("an unknown key: %d (%v), want 0", n, err)
	}
	// k1's window ends: its next failure starts a new one.
	later := start.Add(window)
	if err := a.SignInFailed(ctx, k1, later, window); err != nil {
		t.Fatal(err)
	}
	if n, at, err := b.SignInFailures(ctx, k1); err != nil || n != 1 || !at.Equal(later) {
		t.Fatalf("k1 after its window: %d since %v (%v), want 1 since %v", n, at, err, later)
	}
	// k2's window has ended by then too: any failure removes its row.
	if err := a.SignInFailed(ctx, k1, later.Add(time.Minute), window); err != nil {
		t.Fatal(err)
	}
	if n, _, err := b.SignInFailures(ctx, k2); err != nil || n != 0 {
		t.Fatalf("k2 after its window ended: %d (%v), want its row removed", n, err)
	}
}
