package eventlog

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/nats-io/nats.go/jetstream"
)

// A Write whose context ends while its message is being published fails (the client is
// answered 503), and its events may still be stored: a retry of them waits for that
// publish, then is answered as duplicates with the ids the log holds. It is not appended
// a second time under other ids (found by TestClusterNodeCutOffStopsAcknowledging: a
// retry after a network partition was acknowledged with ids the store did not hold).
func TestSinkRetryDuringAPublishInFlight(t *testing.T) {
	l, g := openGated(t)
	sink := NewSink(l, SinkOptions{})
	first := []*mailtrail.Event{{ID: "ev-first", Type: mailtrail.EventDelivered, OrgID: "o", DedupeKey: "k1"}}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := sink.Write(ctx, first)
		errc <- err
	}()
	<-g.entered // the message is being published
	cancel()
	err := <-errc
	var inflight *InFlightError
	if !errors.Is(err, context.Canceled) || !errors.As(err, &inflight) {
		t.Fatalf("a Write whose context ended during its publish: %v, want context.Canceled as an InFlightError", err)
	}

	retry := []*mailtrail.Event{{ID: "ev-retry", Type: mailtrail.EventDelivered, OrgID: "o", DedupeKey: "k1"}}
	type result struct {
		dup bool
		err error
	}
	done := make(chan result, 1)
	go func() {
		cs, err := sink.Write(context.Background(), retry)
		done <- result{len(cs.Duplicate) == 1 && cs.Duplicate[0], err}
	}()
	select {
	case r := <-done:
		t.Fatalf("the retry did not wait for the publish in flight: %+v", r)
	case <-time.After(200 * time.Millisecond): // it waits (a state, checked once: not a timing assertion on speed)
	}
	close(g.release)
	r := <-done
	if r.err != nil || !r.dup {
		t.Fatalf("the retry after the publish stored the first: duplicate %v, %v", r.dup, r.err)
	}
	if retry[0].ID != "ev-first" {
		t.Fatalf("the retry was answered with id %q, the log holds ev-first", retry[0].ID)
	}
	if n := messages(t, l); n != 1 {
		t.Fatalf("the log holds %d messages, want 1 (the retry is not appended again)", n)
	}

	// The keys leave flying once the publish ended.
	sink.mu.Lock()
	n := len(sink.flying)
	sink.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d keys still flying after the publish ended", n)
	}
}

// A publish retries while the cluster elects a leader (JetStream temporarily unavailable)
// and while an earlier attempt of the same message id is still in process; a start that
// meets them waits (Transient). A refusal is neither.
func TestTransientClusterErrors(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("eventlog: stream S: %w", &jetstream.APIError{Code: 503, ErrorCode: 10008, Description: "JetStream system temporarily unavailable"}), true},
		{&jetstream.APIError{Code: 409, ErrorCode: 10158, Description: "duplicate message id is in process"}, true},
		{context.DeadlineExceeded, true},
		{&jetstream.APIError{Code: 400, ErrorCode: 10052, Description: "stream name already in use with a different configuration"}, false},
		{errors.New("nats: authorization violation"), false},
	} {
		if got := Transient(c.err); got != c.want {
			t.Errorf("Transient(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// An append that failed may still reach the stream (a publish that timed out can be
// delivered later): a retry of its events takes the ids of the failed attempt, so that
// whichever copy the log holds first, the stored event has the id the client is
// answered.
func TestSinkRetryTakesTheIDsOfAFailedAppend(t *testing.T) {
	l, g := openGated(t)
	sink := NewSink(l, SinkOptions{})
	go sink.log.Append(context.Background(), 0, "", ev(1)) // holds the publisher at the gate
	<-g.entered
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := sink.Write(ctx, []*mailtrail.Event{{ID: "ev-try1", Type: mailtrail.EventDelivered, OrgID: "o", DedupeKey: "k2"}})
		errc <- err
	}()
	waitQueued(l, 1)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("the first attempt: %v, want context.Canceled", err)
	}
	close(g.release)
	retry := []*mailtrail.Event{{ID: "ev-try2", Type: mailtrail.EventDelivered, OrgID: "o", DedupeKey: "k2"}}
	cs, err := sink.Write(context.Background(), retry)
	if err != nil || len(cs.Events) != 1 {
		t.Fatalf("the retry: %v, %d events accepted", err, len(cs.Events))
	}
	if retry[0].ID != "ev-try1" {
		t.Fatalf("the retry was stored as %q, want the failed attempt's id ev-try1", retry[0].ID)
	}
	// Once stored, the key is the index's: a third attempt is a duplicate of it.
	again := []*mailtrail.Event{{ID: "ev-try3", Type: mailtrail.EventDelivered, OrgID: "o", DedupeKey: "k2"}}
	if cs, err := sink.Write(context.Background(), again); err != nil || !cs.Duplicate[0] || again[0].ID != "ev-try1" {
		t.Fatalf("a third attempt: %v, duplicate %v, id %q", err, cs.Duplicate, again[0].ID)
	}
}
