package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/connection"
	"github.com/mailtrail/mailtrail/internal/ingest"
	"github.com/mailtrail/mailtrail/internal/store/postgres"
	"github.com/mailtrail/mailtrail/internal/store/storetest"
)

// Two nodes record webhook requests of one connection; once each has shared them, either
// answers the sum: counts added, since the first request, the later time of each kind of
// error, the newest 20 errors newest first. An unseen connection has nothing.
func TestWebhookHealthOfTwoNodes(t *testing.T) {
	ctx := context.Background()
	schema := newSchema(t)
	dbA, dbB := openIn(t, schema), openIn(t, schema)
	a := connection.New(dbA, connection.Options{HealthStore: dbA})
	b := connection.New(dbB, connection.Options{HealthStore: dbB})
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	share := func(s *connection.Service) {
		sctx, cancel := context.WithCancel(ctx)
		cancel() // ShareHealth flushes once more at its context's end
		s.ShareHealth(sctx, time.Hour, func(err error) { t.Fatal(err) })
	}
	a.HealthRecord().Record("conn_1", t0, connection.Request{Accepted: 3, Duplicates: 1})
	a.HealthRecord().Record("conn_1", t0.Add(time.Second), connection.Request{Refused: mailtrail.HealthSignature, Err: errors.New("bad signature")})
	share(a)
	b.HealthRecord().Record("conn_1", t0.Add(-time.Minute), connection.Request{Accepted: 2, Unattributed: 1})
	for i := range 25 {
		b.HealthRecord().Record("conn_1", t0.Add(time.Duration(10+i)*time.Second), connection.Request{Refused: mailtrail.HealthInvalid,
			Err: mailtrail.Errorf(mailtrail.EINVALID, "payload %d", i)})
	}
	share(b)
	for name, s := range map[string]*connection.Service{"A": a, "B": b} {
		h := s.Health("conn_1")
		c := h.Counts
		if c.AcceptedRequests != 2 || c.AcceptedEvents != 5 || c.DuplicateEvents != 1 || c.UnattributedEvents != 1 || c.SignatureFailures != 1 || c.InvalidPayloads != 25 {
			t.Fatalf("node %s: counts %+v", name, c)
		}
		if !h.Since.Equal(t0.Add(-time.Minute)) {
			t.Errorf("node %s: since %v, want the first request's %v", name, h.Since, t0.Add(-time.Minute))
		}
		if !h.LastErrorAt[mailtrail.HealthSignature].Equal(t0.Add(time.Second)) || !h.LastErrorAt[mailtrail.HealthInvalid].Equal(t0.Add(34*time.Second)) {
			t.Errorf("node %s: last errors %v", name, h.LastErrorAt)
		}
		if len(h.RecentErrors) != 20 || h.RecentErrors[0].Message != "payload 24" || h.RecentErrors[19].Message != "payload 5" {
			t.Fatalf("node %s: %d recent errors, first %+v", name, len(h.RecentErrors), h.RecentErrors[:min(1, len(h.RecentErrors))])
		}
	}
	if h := a.Health("conn_other"); h.Counts != (mailtrail.HealthCounts{}) || len(h.RecentErrors) != 0 {
		t.Fatalf("an unseen connection: %+v", h)
	}
	// A later error of a kind moves its time; an earlier one does not.
	a.HealthRecord().Record("conn_1", t0.Add(time.Hour), connection.Request{Refused: mailtrail.HealthSignature, Err: errors.New("x")})
	b.HealthRecord().Record("conn_1", t0.Add(-time.Hour), connection.Request{Refused: mailtrail.HealthInvalid, Err: errors.New("y")})
	share(a)
	share(b)
	h := b.Health("conn_1")
	if !h.LastErrorAt[mailtrail.HealthSignature].Equal(t0.Add(time.Hour)) || !h.LastErrorAt[mailtrail.HealthInvalid].Equal(t0.Add(34*time.Second)) {
		t.Errorf("last errors after more: %v", h.LastErrorAt)
	}
}

// StoredKeys and CountStoredKeys (storetest.StoredKeys) across pages of 3 keys.
func TestStoredKeysInPages(t *testing.T) {
	defer postgres.SetStoredKeysChunk(3)()
	storetest.StoredKeys(t, openIn(t, newSchema(t)), ingest.Normalize)
}
