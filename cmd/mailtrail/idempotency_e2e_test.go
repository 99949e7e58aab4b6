package main

import (
	"context"
	"testing"
	"time"
)

type postAnswer struct {
	Accepted   int      `json:"accepted"`
	Duplicates int      `json:"duplicates"`
	EventIDs   []string `json:"event_ids"`
}

func (h *harness) post(key string, evs ...map[string]any) postAnswer {
	h.t.Helper()
	var a postAnswer
	if r := h.do("POST", "/api/v1/events", key, map[string]any{"events": evs}, &a); r.StatusCode != 200 {
		h.t.Fatalf("post events: %d", r.StatusCode)
	}
	return a
}

// An idempotency key alone identifies an API event within its organization: a retry
// without occurred_at (defaulted to its own arrival), with another time, another type or
// other content is a duplicate, answered with the id of the event already stored.
func TestIdempotencyKeyIsTheIdentity(t *testing.T) {
	h := newHarness(t)
	_, key := h.org("A")
	_, keyB := h.org("B")
	ev := func(typ, at string, meta map[string]any) map[string]any {
		m := map[string]any{"event_type": typ, "campaign_id": "idem", "customer_id": "u1", "idempotency_key": "send-1"}
		if at != "" {
			m["occurred_at"] = at
		}
		if meta != nil {
			m["metadata"] = meta
		}
		return m
	}
	first := h.post(key, ev("sent", "", nil))
	if first.Accepted != 1 || len(first.EventIDs) != 1 {
		t.Fatalf("first post: %+v", first)
	}
	id := first.EventIDs[0]
	time.Sleep(5 * time.Millisecond) // a retry's default occurred_at is a later arrival
	retries := []map[string]any{
		ev("sent", "", nil), // the client timed out and posts again
		ev("sent", time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), nil),
		ev("delivered", "", nil),
		ev("sent", "", map[string]any{"reason": "other content"}),
	}
	for i, r := range retries {
		a := h.post(key, r)
		if a.Accepted != 0 || a.Duplicates != 1 || len(a.EventIDs) != 1 || a.EventIDs[0] != id {
			t.Fatalf("retry %d: %+v, want a duplicate of %s", i, a, id)
		}
	}
	// Twice in one batch: stored once, both answered with the stored id.
	two := h.post(key, map[string]any{"event_type": "sent", "campaign_id": "idem", "customer_id": "u2", "idempotency_key": "send-2"},
		map[string]any{"event_type": "sent", "campaign_id": "idem", "customer_id": "u2", "idempotency_key": "send-2"})
	if two.Accepted != 1 || two.Duplicates != 1 || two.EventIDs[0] != two.EventIDs[1] {
		t.Fatalf("same key twice in a batch: %+v", two)
	}
	if evs := h.events(key, "campaign_id=idem"); len(evs) != 2 {
		t.Fatalf("stored %d events, want 2: %+v", len(evs), evs)
	} else {
		for _, e := range evs {
			if e.CustomerID == "u1" && e.ID != id {
				t.Fatalf("stored id %s, answered %s", e.ID, id)
			}
		}
	}
	if rep := h.report(key, "idem"); rep.Counts.Sent != 2 || rep.Counts.Delivered != 0 {
		t.Fatalf("report counts %+v, want 2 sent and nothing delivered", rep.Counts)
	}
	// Keys belong to their organization.
	if a := h.post(keyB, ev("sent", "", nil)); a.Accepted != 1 {
		t.Fatalf("the same key in another organization: %+v", a)
	}
}

// The retention job forgets idempotency keys past their 7-day horizon, whatever the
// organization's retention; until then a retry is a duplicate.
func TestIdempotencyKeysPrunedByRetentionJob(t *testing.T) {
	h := newHarness(t)
	_, key := h.org("A")
	ev := map[string]any{"event_type": "sent", "campaign_id": "idem", "customer_id": "u1", "idempotency_key": "k"}
	h.post(key, ev)
	job := newRetentionJob(h.app)
	job.now = func() time.Time { return time.Now().Add(6 * 24 * time.Hour) }
	if _, keys, err := job.once(context.Background()); err != nil || keys != 0 {
		t.Fatalf("6 days later: pruned %d keys (%v), want none", keys, err)
	}
	if a := h.post(key, ev); a.Duplicates != 1 {
		t.Fatalf("6 days later: %+v, want a duplicate", a)
	}
	job.now = func() time.Time { return time.Now().Add(8 * 24 * time.Hour) }
	if _, keys, err := job.once(context.Background()); err != nil || keys != 1 {
		t.Fatalf("8 days later: pruned %d keys (%v), want the one", keys, err)
	}
	// Once the key is forgotten, the retry is identified by its dedupe key, whose time is
	// its default occurred_at (its arrival, in milliseconds): on a fast machine the three
	// posts can fall in one millisecond, which would make it the same event again.
	time.Sleep(5 * time.Millisecond)
	if a := h.post(key, ev); a.Accepted != 1 {
		t.Fatalf("8 days later: %+v, want the key forgotten", a)
	}
}
