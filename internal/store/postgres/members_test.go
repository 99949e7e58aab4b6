package postgres_test

import (
	"context"
	"testing"
)

// Members counts the live memberships of a group, of any process on the schema, and
// nothing of another group or schema; a membership left (or whose session ends) is not
// counted. A Lease takes a free lock and refuses a held one without waiting, and is taken
// again on the same connection after its release.
func TestMembersAndLeases(t *testing.T) {
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

	la, lb := a.NewLease("partition 0"), b.NewLease("partition 0")
	defer la.Close()
	defer lb.Close()
	if ok, err := la.Try(ctx); err != nil || !ok {
		t.Fatalf("Try of a free lease: %v, %v", ok, err)
	}
	if ok, err := lb.Try(ctx); err != nil || ok {
		t.Fatalf("Try of a held lease: %v, %v; want refused", ok, err)
	}
	la.Release()
	if ok, err := lb.Try(ctx); err != nil || !ok {
		t.Fatalf("Try after the release: %v, %v", ok, err)
	}
	if ok, err := la.Try(ctx); err != nil || ok {
		t.Fatalf("Try on the released lease's connection while the other holds it: %v, %v; want refused", ok, err)
	}
	lb.Close()
	if ok, err := la.Try(ctx); err != nil || !ok {
		t.Fatalf("Try after the holder's session ended: %v, %v", ok, err)
	}
}
