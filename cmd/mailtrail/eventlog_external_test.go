package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/internal/store/eventlog/natstest"
)

// serve --event-log-url: the log on an external JetStream cluster (three servers, the
// stream with three replicas). A store that ran on the embedded log moves to it with the
// embedded log's unapplied tail applied first; events acknowledged on the cluster and not
// applied when the process stopped are applied at the next start, a retry of them is a
// duplicate with the acknowledged id, and the figures count every event once. A store that
// follows the cluster's stream refuses to start without it (or on another stream): its
// tail there would be left out.
func TestEventLogOnExternalJetStream(t *testing.T) {
	url := natstest.URL(t)
	stream := natstest.Stream(t, url)
	dir := t.TempDir()
	embedded := baseCfg(dir)
	embedded.EventLog, embedded.ReadWait = true, 300*time.Millisecond
	first, project := startHeld(t, embedded)
	project()
	_, key := first.org("acme")
	ev := func(n string) map[string]any {
		return map[string]any{"event_type": "sent", "campaign_id": "ext", "customer_id": "c" + n, "idempotency_key": "ext-" + n}
	}
	first.stop()
	held, _ := startHeld(t, embedded)
	tail, _ := held.postEventsAt(key, ev("1")) // acknowledged on the embedded log, not applied
	held.abandon()

	ext := embedded
	ext.EventLog, ext.EventLogURL, ext.EventLogStream, ext.EventLogReplicas = false, url, stream, 3
	h, _ := startHeld(t, ext) // the embedded tail is applied before the cluster's log opens
	if again, _ := h.postEventsAt(key, ev("1")); again.Duplicates != 1 || again.EventIDs[0] != tail.EventIDs[0] {
		t.Fatalf("retry of the embedded log's tail on the cluster's log: %+v, want a duplicate of %v", again, tail.EventIDs)
	}
	acked, _ := h.postEventsAt(key, ev("2"), ev("3")) // acknowledged on the cluster, not applied
	if acked.Accepted != 2 {
		t.Fatalf("post on the cluster's log: %+v", acked)
	}
	h.abandon()

	info, err := natstest.Info(url, stream)
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.Replicas != 3 || info.State.Msgs == 0 {
		t.Fatalf("stream %s on the cluster: %d replicas, %d messages; want 3 replicas holding the acknowledged events", stream, info.Config.Replicas, info.State.Msgs)
	}

	// Without the cluster's log (or on another stream) the store refuses to start.
	for _, c := range []struct {
		name string
		mut  func(*Config)
	}{
		{"store only", func(c *Config) { c.EventLog, c.EventLogURL = false, "" }},
		{"embedded log", func(c *Config) { c.EventLog, c.EventLogURL = true, "" }},
		{"another stream", func(c *Config) { c.EventLogStream = stream + "x" }},
	} {
		cfg := ext
		c.mut(&cfg)
		a, err := newApp(context.Background(), cfg, io.Discard)
		if err == nil {
			a.close()
			t.Fatalf("%s: a store following stream %s started without it", c.name, stream)
		}
		if !strings.Contains(err.Error(), "follows the event log on an external JetStream, stream "+stream) {
			t.Fatalf("%s: %v", c.name, err)
		}
	}

	// The offline verbs refuse it too (they do not connect to the cluster).
	offline := ext
	offline.EventLogURL = ""
	if st, err := openOffline(context.Background(), &offline, "customer erase"); err == nil {
		st.Close()
		t.Fatal("an offline verb opened a store that follows a stream")
	} else if !strings.Contains(err.Error(), "follows the event log on an external JetStream") {
		t.Fatalf("offline verb: %v", err)
	}

	// Another store (or this one restored from a backup) on a stream that holds messages it
	// never followed would apply them again: refused.
	other := ext
	other.DataDir = t.TempDir()
	if a, err := newApp(context.Background(), other, io.Discard); err == nil {
		a.close()
		t.Fatal("a second store started on a stream another store follows")
	} else if !strings.Contains(err.Error(), "never followed") {
		t.Fatalf("a second store on the stream: %v", err)
	}

	h, project = startHeld(t, ext)
	if again, _ := h.postEventsAt(key, ev("2")); again.Duplicates != 1 || again.EventIDs[0] != acked.EventIDs[0] {
		t.Fatalf("retry of the cluster log's unapplied tail after a restart: %+v, want a duplicate of %s", again, acked.EventIDs[0])
	}
	project()
	last, pos := h.postEventsAt(key, ev("4"))
	if last.Accepted != 1 {
		t.Fatalf("post after the restart: %+v", last)
	}
	if rep := h.reportAfter(key, "ext", pos, 50); rep.Counts.Sent != 4 {
		t.Fatalf("report on the cluster's log: %d sent, want 4 (each event once)", rep.Counts.Sent)
	}
	h.stop()
}

// quietRetries logs a retried error once until it changes (or 10 s pass), not at every
// attempt: a serve or worker waiting a minute for the cluster writes a few lines, not 60.
func TestQuietRetries(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	var q quietRetries
	for range 5 {
		q.warn(log, "retrying", errors.New("nats: no servers available for connection"))
	}
	q.warn(log, "retrying", errors.New("context deadline exceeded"))
	q.warn(log, "retrying", errors.New("context deadline exceeded"))
	if n := strings.Count(buf.String(), "retrying"); n != 2 {
		t.Fatalf("%d lines for 7 attempts of 2 errors, want 2:\n%s", n, buf.String())
	}
}
