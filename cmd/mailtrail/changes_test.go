package main

import (
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/internal/ingest"
)

// The order serve starts its background parts in, and so (reversed) the order it stops
// them: the HTTP server and the mailboxes stop before the pipeline drains, and what reads
// the store stops after it.
func TestServePartsOrder(t *testing.T) {
	h := newHarness(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	g := serveParts(h.app, &http.Server{}, ln, ln)
	want := []string{"indexer", "retention", "outbound", "segments", "pipeline", "mailbox", "metrics", "http"}
	if got := g.Names(); !slices.Equal(got, want) {
		t.Fatalf("serve's parts %q, want %q", got, want)
	}
	if got := serveParts(h.app, &http.Server{}, ln, nil).Names(); slices.Contains(got, "metrics") {
		t.Fatalf("a metrics part without --metrics-addr: %q", got)
	}
	want = []string{"metrics", "segments", "stream", "outbound", "journeys"}
	if got := h.app.pipeline.Subscribers(); !slices.Equal(got, want) {
		t.Fatalf("subscribers %q, want %q", got, want)
	}
}

// An erasure through the API is published once, as a change-set naming the customer's old
// and new ids and nothing else, and the segment index (a subscriber) renames the customer;
// a batch of events is published with its events. An erasure that fails publishes nothing.
func TestErasurePublished(t *testing.T) {
	h := newHarness(t)
	orgID, key := h.org("acme")
	var mu sync.Mutex
	var sets []ingest.ChangeSet
	h.app.pipeline.Subscribe("test", func(cs ingest.ChangeSet) {
		mu.Lock()
		defer mu.Unlock()
		sets = append(sets, cs)
	})
	h.buildSegmentIndex()
	h.postEvents(key, segEvent("sent", "spring", "cust-1", time.Hour, nil), segEvent("sent", "spring", "cust-2", time.Hour, nil))
	if r := h.do("DELETE", "/api/v1/customers/nobody", key, nil, nil); r.StatusCode != 404 {
		t.Fatalf("erase an unknown customer: %d", r.StatusCode)
	}
	if r := h.do("DELETE", "/api/v1/customers/cust-1", key, nil, nil); r.StatusCode != 200 {
		t.Fatalf("erase: %d", r.StatusCode)
	}
	mu.Lock()
	got := slices.Clone(sets)
	mu.Unlock()
	if len(got) != 2 || len(got[0].Events) != 2 || len(got[0].Erased) != 0 || got[0].Duplicate != nil {
		t.Fatalf("change-sets %+v, want the batch then the erasure", got)
	}
	er := got[1]
	if len(er.Events) != 0 || len(er.Relabels) != 0 || len(er.Erased) != 1 ||
		er.Erased[0].OrgID != orgID || er.Erased[0].OldID != "cust-1" || !strings.HasPrefix(er.Erased[0].NewID, "erased:") {
		t.Fatalf("erasure change-set %+v", er)
	}
	seg := h.segJSON(key, "", `{"has_done":{"event":"sent"}}`)
	if !slices.Equal(seg.CustomerIDs, []string{"cust-2", er.Erased[0].NewID}) && !slices.Equal(seg.CustomerIDs, []string{er.Erased[0].NewID, "cust-2"}) {
		t.Fatalf("segment after the erasure: %+v, want cust-2 and %s", seg, er.Erased[0].NewID)
	}
}
