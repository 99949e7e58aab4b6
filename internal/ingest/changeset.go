package ingest

import "github.com/mailtrail/mailtrail"

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
}

// Empty reports whether the change-set holds nothing to publish.
func (c ChangeSet) Empty() bool {
	return len(c.Events) == 0 && len(c.Relabels) == 0 && len(c.Erased) == 0
}

// subscriber is one of the pipeline's subscribers, with its name (for Subscribers).
type subscriber struct {
	name string
	f    func(ChangeSet)
}

// Subscribe adds f to the subscribers of what is committed. After each commit that
// changed something (see ChangeSet.Empty), every subscriber is called once with its
// change-set, in the order they subscribed, on the committing goroutine, after the
// batch's submitters were released; change-sets come one at a time, in commit order. f
// must not block for long (the next batch waits for it), must not submit to the pipeline
// or Publish, and must not change the change-set's slices. A subscriber added while the
// pipeline runs sees the change-sets published after it.
func (p *Pipeline) Subscribe(name string, f func(ChangeSet)) {
	p.pub.Lock()
	defer p.pub.Unlock()
	p.subs = append(p.subs, subscriber{name: name, f: f})
}

// Subscribers returns the names of the subscribers in the order they are called.
func (p *Pipeline) Subscribers() []string {
	p.pub.Lock()
	defer p.pub.Unlock()
	names := make([]string, len(p.subs))
	for i, s := range p.subs {
		names[i] = s.name
	}
	return names
}

// Publish runs commit, a change made durable outside the pipeline's batches (an
// erasure), and publishes the change-set it returns to the subscribers as the committer
// does its batches': no batch is written while commit runs, so subscribers see every
// change-set in commit order. It returns commit's error, and then publishes nothing.
// commit must not submit to the pipeline.
func (p *Pipeline) Publish(commit func() (ChangeSet, error)) error {
	p.pub.Lock()
	defer p.pub.Unlock()
	cs, err := commit()
	if err != nil {
		return err
	}
	cs.Duplicate = nil
	p.deliver(cs)
	return nil
}

// deliver calls every subscriber with cs. The caller holds p.pub.
func (p *Pipeline) deliver(cs ChangeSet) {
	if cs.Empty() {
		return
	}
	for _, s := range p.subs {
		s.f(cs)
	}
}

func countTrue(bs []bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}
