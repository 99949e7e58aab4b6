package postgres_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
)

// A session stored by one node is read by another (two stores on one schema), replaced
// in place, removed; an expired one is swept when the next is stored.
func TestDashboardSessions(t *testing.T) {
	ctx := context.Background()
	schema := newSchema(t)
	a, b := openIn(t, schema), openIn(t, schema)
	now := time.Now().Truncate(time.Millisecond)
	id, old := []byte("id-1-hash-of-a-cookie-32-bytes.."), []byte("id-0-an-expired-session-32-byte")
	if err := a.PutSession(ctx, old, []byte("sealed-0"), now.Add(-time.Minute), now.Add(-2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := a.PutSession(ctx, id, []byte("sealed-1"), now.Add(time.Hour), now); err != nil {
		t.Fatal(err)
	}
	data, exp, err := b.GetSession(ctx, id)
	if err != nil || !bytes.Equal(data, []byte("sealed-1")) || !exp.Equal(now.Add(time.Hour)) {
		t.Fatalf("GetSession on the other node = %q, %v, %v", data, exp, err)
	}
	if _, _, err := b.GetSession(ctx, old); mailtrail.ErrorCode(err) != mailtrail.ENOTFOUND {
		t.Fatalf("the expired session: %v, want ENOTFOUND (swept when the next was stored)", err)
	}
	if err := b.PutSession(ctx, id, []byte("sealed-2"), now.Add(2*time.Hour), now); err != nil {
		t.Fatal(err)
	}
	if data, exp, err := a.GetSession(ctx, id); err != nil || !bytes.Equal(data, []byte("sealed-2")) || !exp.Equal(now.Add(2*time.Hour)) {
		t.Fatalf("after the replacement: %q, %v, %v", data, exp, err)
	}
	if err := a.DeleteSession(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.GetSession(ctx, id); mailtrail.ErrorCode(err) != mailtrail.ENOTFOUND {
		t.Fatalf("a deleted session: %v, want ENOTFOUND", err)
	}
}

// An import's status written by one node is read by another, for its organization only;
// replaced in place; gone once expired.
func TestDashboardImports(t *testing.T) {
	ctx := context.Background()
	schema := newSchema(t)
	a, b := openIn(t, schema), openIn(t, schema)
	now := time.Now()
	if err := a.PutImport(ctx, "job1", "org_a", []byte(`{"state":"running"}`), now.Add(time.Hour), now); err != nil {
		t.Fatal(err)
	}
	if got, err := b.GetImport(ctx, "job1", "org_a"); err != nil || string(got) != `{"state":"running"}` {
		t.Fatalf("GetImport on the other node = %s, %v", got, err)
	}
	if _, err := b.GetImport(ctx, "job1", "org_b"); mailtrail.ErrorCode(err) != mailtrail.ENOTFOUND {
		t.Fatalf("another organization's import: %v, want ENOTFOUND", err)
	}
	if err := b.PutImport(ctx, "job1", "org_a", []byte(`{"state":"done"}`), now.Add(time.Hour), now); err != nil {
		t.Fatal(err)
	}
	if got, err := a.GetImport(ctx, "job1", "org_a"); err != nil || string(got) != `{"state":"done"}` {
		t.Fatalf("after the replacement: %s, %v", got, err)
	}
	if err := a.PutImport(ctx, "job2", "org_a", []byte(`{}`), now.Add(-time.Second), now); err != nil {
		t.Fatal(err)
	}
	if _, err := b.GetImport(ctx, "job2", "org_a"); mailtrail.ErrorCode(err) != mailtrail.ENOTFOUND {
		t.Fatalf("an expired import: %v, want ENOTFOUND", err)
	}
}
