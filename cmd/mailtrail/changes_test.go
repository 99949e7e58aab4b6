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
// the store stops after it. With --event-log the projector stops after the pipeline
// drained into the log (it applies all of it first) and before the segment index writes
// its snapshot; the log's retention runs beside it. The parts that follow the store
// subscribe to the publisher of what the store commits: the pipeline, or with the log the
// projector (the pipeline then only acknowledges: a subscriber of it would hear of events
// before the store holds them).
func TestServePartsOrder(t *testing.T) {
	h := newHarness(t)
	onLog := testEventLog()
	if got := h.app.logged != nil; got != onLog {
		t.Fatalf("event log wired %v, want %v", got, onLog)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	g := serveParts(h.app, &http.Server{}, ln, ln)
	want := []string{"indexer", "retention", "outbound", "segments", "pipeline", "mailbox", "metrics", "http"}
	if onLog {
		want = []string{"indexer", "retention", "outbound", "segments", "projector", "eventlog-retention", "pipeline", "mailbox", "metrics", "http"}
	}
	if got := g.Names(); !slices.Equal(got, want) {
		t.Fatalf("serve's parts %q, want %q", got, want)
	}
	if got := serveParts(h.app, &http.Server{}, ln, nil).Names(); slices.Contains(got, "metrics") {
		t.Fatalf("a metrics part without --metrics-addr: %q", got)
	}
	want = []string{"metrics", "segments", "stream", "outbound", "journeys"}
	pipeSubs := h.app.pipeline.Subscribers()
	if !onLog {
		if h.app.pub != publisher(h.app.pipeline) {
			t.Fatalf("the publisher is %T, want the pipeline", h.app.pub)
		}
		if !slices.Equal(pipeSubs, want) {
			t.Fatalf("subscribers %q, want %q", pipeSubs, want)
		}
		return
	}
	if h.app.pub != publisher(h.app.logged.proj) {
		t.Fatalf("the publisher is %T, want the projector", h.app.pub)
	}
	if got := h.app.logged.proj.Subscribers(); !slices.Equal(got, want) {
		t.Fatalf("the projector's subscribers %q, want %q", got, want)
	}
	if len(pipeSubs) != 0 {
		t.Fatalf("the pipeline's subscribers %q with the event log, want none", pipeSubs)
	}
}

// An erasure through the API is published once, as a change-set naming the customer's old
// and new ids and nothing else, and the segment index (a subscriber) renames the customer;
// a batch of events is published with its events. An erasure that fails publishes nothing.
// The change-sets are the publisher's the service's parts subscribe to (TestServePartsOrder):
// the pipeline's, or with --event-log the projector's, which publishes a batch once the
// store applied it, and the erasure (which first waits for that) after it.
func TestErasurePublished(t *testing.T) {
	h := newHarness(t)
	orgID, key := h.org("acme")
	var mu sync.Mutex
	var sets []ingest.ChangeSet
	h.app.pub.Subscribe("test", func(cs ingest.ChangeSet) {
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
