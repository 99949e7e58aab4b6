package postgres_test

import (
	"context"
	"testing"
)

// Members counts the live memberships of a group, of any process on the schema, and
// nothing of another group or schema; a membership left (or whose session ends) is not
// counted. TryHold takes a free lease and refuses a held one without waiting.
func TestMembersAndTryHold(t *testing.T) {
	ctx := context.Background()
	schema := newSchema(t)
	a, b := openIn(t, schema), openIn(t, schema)
	other := openIn(t, newSchema(t))
	count := func(what string, want int) {
		t.Helper()
		if n, err := b.Members(ctx, "workers"); err != nil || n != want {
			t.Fatalf("%s: %d members, %v; want %d", what, n, err, want)
		}
	}
	count("none", 0)
	m1, err := a.Join(ctx, "workers")
	if err != nil {
		t.Fatal(err)
	}
	m2, err := b.Join(ctx, "workers")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Join(ctx, "others"); err != nil {
		t.Fatal(err)
	}
	m3, err := other.Join(ctx, "workers") // another schema
	if err != nil {
		t.Fatal(err)
	}
	defer m3.Leave()
	count("two joined", 2)
	if err := m1.Ping(ctx); err != nil {
		t.Fatalf("a live membership's ping: %v", err)
	}
	m1.Leave()
	count("one left", 1)
	m2.Leave()
	count("both left", 0)

	release, ok, err := a.TryHold(ctx, "partition 0")
	if err != nil || !ok {
		t.Fatalf("TryHold of a free lease: %v, %v", ok, err)
	}
	if _, ok, err := b.TryHold(ctx, "partition 0"); err != nil || ok {
		t.Fatalf("TryHold of a held lease: %v, %v; want refused", ok, err)
	}
	release()
	r2, ok, err := b.TryHold(ctx, "partition 0")
	if err != nil || !ok {
		t.Fatalf("TryHold after the release: %v, %v", ok, err)
	}
	r2()
}
