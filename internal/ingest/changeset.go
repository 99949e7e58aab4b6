package ingest

import (
	"sync"

	"github.com/mailtrail/mailtrail"
)

// ChangeSet is what one commit changed, as the parts that keep copies or wait for news
// (the segment index, event streams, outbound webhooks, journeys, metrics) need to know
// it. A Sink's Write returns the change-set of its batch; the Pipeline publishes it to its
// subscribers (see Subscribe), and so does Publish for a change made outside the
// pipeline's batches (an erasure).
type ChangeSet struct {
	// Events are the events newly stored, in commit order (duplicates excluded).
	Events []*mailtrail.Event
	// Duplicate tells, for each event of the batch given to Sink.Write in order, whether
	// it was already stored. The pipeline answers its submitters with it; subscribers get
	// nil.
	Duplicate []bool
	// Relabels are the stored clicks whose human label the commit changed.
	Relabels []mailtrail.ClickRelabel
	// Erased are the customers the commit erased.
	Erased []mailtrail.ErasedCustomer
	// Position is where the batch is in the event log when the Sink writes to one (the
	// log's position of its last record, see Result.Position); 0 otherwise. Subscribers
	// of a projector get the position the projection reached.
	Position uint64
}

// Empty reports whether the change-set holds nothing to publish.
func (c ChangeSet) Empty() bool {
	return len(c.Events) == 0 && len(c.Relabels) == 0 && len(c.Erased) == 0
}

// subscriber is a named subscriber of change-sets.
type subscriber struct {
	name string
	f    func(ChangeSet)
}

// Subscribers is the list of who hears of committed change-sets, in the order they
// subscribed: the pipeline's, and the projector's. Its publisher calls Deliver one
// change-set at a time, in commit order.
type Subscribers struct {
	mu   sync.Mutex
	list []subscriber

	// order is held by the publisher from a commit to the end of its change-set's
	// delivery (Hold, Release, Publish): change-sets reach subscribers one at a time, in
	// commit order.
	order sync.Mutex
}

// Hold takes the commit-order lock before a commit whose change-set is then delivered;
// Release gives it back after the delivery.
func (s *Subscribers) Hold() { s.order.Lock() }

// Release gives back the lock Hold took.
func (s *Subscribers) Release() { s.order.Unlock() }

// Publish runs commit, a change made durable outside the publisher's own writes (an
// erasure), under the commit-order lock, and delivers the change-set it returns. It
// returns commit's error, and then delivers nothing.
func (s *Subscribers) Publish(commit func() (ChangeSet, error)) error {
	s.Hold()
	defer s.Release()
	cs, err := commit()
	if err != nil {
		return err
	}
	s.Deliver(cs)
	return nil
}

// Subscribe adds f under name. A subscriber added while change-sets are delivered sees
// the ones delivered after it.
func (s *Subscribers) Subscribe(name string, f func(ChangeSet)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.list = append(s.list, subscriber{name: name, f: f})
}

// Names returns the subscribers' names in the order they are called.
func (s *Subscribers) Names() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, len(s.list))
	for i, sub := range s.list {
		names[i] = sub.name
	}
	return names
}

// Deliver calls every subscriber with cs, without its Duplicate flags (the submitters'
// business); a change-set that changed nothing (Empty) is not delivered.
func (s *Subscribers) Deliver(cs ChangeSet) {
	cs.Duplicate = nil
	if cs.Empty() {
		return
	}
	s.mu.Lock()
	list := s.list
	s.mu.Unlock()
	for _, sub := range list {
		sub.f(cs)
	}
}

// Subscribe adds f to the subscribers of what is committed. After each commit that
// changed something (see ChangeSet.Empty), every subscriber is called once with its
// change-set, in the order they subscribed, on the committing goroutine, after the
// batch's submitters were released; change-sets come one at a time, in commit order. f
// must not block for long (the next batch waits for it), must not submit to the pipeline
// or Publish, and must not change the change-set's slices. A subscriber added while the
// pipeline runs sees the change-sets published after it.
func (p *Pipeline) Subscribe(name string, f func(ChangeSet)) { p.subs.Subscribe(name, f) }

// Subscribers returns the names of the subscribers in the order they are called.
func (p *Pipeline) Subscribers() []string { return p.subs.Names() }

// Publish runs commit, a change made durable outside the pipeline's batches (an
// erasure), and publishes the change-set it returns to the subscribers as the committer
// does its batches': no batch is written while commit runs, so subscribers see every
// change-set in commit order. It returns commit's error, and then publishes nothing.
// commit must not submit to the pipeline.
func (p *Pipeline) Publish(commit func() (ChangeSet, error)) error { return p.subs.Publish(commit) }

func countTrue(bs []bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}
