package eventlog

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Position is where a record is in the log: the stream sequence of the message (group
// commit) that carries it, and the record's index within that message. Positions grow
// in log order; the zero Position is before every record.
type Position struct {
	Seq   uint64
	Index int
}

// Less reports whether p comes before q in the log.
func (p Position) Less(q Position) bool {
	return p.Seq < q.Seq || (p.Seq == q.Seq && p.Index < q.Index)
}

// Next returns the position right after p: where a Read continues after reading p.
func (p Position) Next() Position { return Position{Seq: p.Seq, Index: p.Index + 1} }

// String returns p as "seq:index".
func (p Position) String() string {
	return strconv.FormatUint(p.Seq, 10) + ":" + strconv.Itoa(p.Index)
}

// Receipt is the answer to an Append.
type Receipt struct {
	// Pos is the position of the append's first record; record i is at
	// Position{Pos.Seq, Pos.Index+i}: an append is never split between messages.
	Pos Position
	// Duplicate says an append with the same id was already in the log (within the
	// dedupe window): nothing was stored, Pos is the first one's.
	Duplicate bool
}

// ErrTooLarge is returned by Append for an append that does not fit in one message.
var ErrTooLarge = errors.New("eventlog: append larger than the largest message")

// Request states: a queued request is either taken by its partition's writer or withdrawn
// by its caller, never both.
const (
	stateQueued int32 = iota
	stateTaken
	stateWithdrawn
)

// request is one append waiting for its group commit.
type request struct {
	id    string
	recs  [][]byte // encoded on the caller's goroutine
	size  int      // bytes the records take in a group message
	state atomic.Int32
	done  chan struct{}
	pos   Position // set before done is closed
	err   error
}

// Append adds events to partition as one append and returns once the message that
// carries them is acknowledged by the stream, that is, on disk. Appends that arrive
// while the partition's previous publish runs share the next message. id, when not
// empty, makes the append idempotent within the dedupe window: a retry with the same id
// (while the first is still in flight, or after it was stored, even by an earlier Open)
// answers the first one's position with Duplicate set.
//
// It returns ctx's error when ctx ends first: an append not yet taken into a message is
// withdrawn and never stored, one already taken may be stored (a retry with the same id
// then answers its position). Other errors: ErrClosed, ErrTooLarge, an invalid
// partition, an event that cannot be encoded, or the publish's failure.
func (l *Log) Append(ctx context.Context, partition int, id string, events []*mailtrail.Event) (Receipt, error) {
	if partition < 0 || partition >= len(l.parts) {
		return Receipt{}, fmt.Errorf("eventlog: partition %d out of range [0, %d)", partition, len(l.parts))
	}
	r := &request{id: id, done: make(chan struct{}), recs: make([][]byte, len(events))}
	r.size = groupAppendOverhead + len(id)
	for i, e := range events {
		b, err := EncodeEvent(e)
		if err != nil {
			return Receipt{}, err
		}
		r.recs[i] = b
		r.size += len(b) + 5
	}
	if r.size+groupOverhead > l.opts.MaxMessageBytes {
		return Receipt{}, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, r.size, l.opts.MaxMessageBytes-groupOverhead)
	}
	for {
		if id != "" {
			pos, inflight, found := l.dedupe.claim(id, r)
			if found && inflight == nil {
				return Receipt{Pos: pos, Duplicate: true}, nil
			}
			if inflight != nil {
				// The same append is on its way: its outcome is ours.
				select {
				case <-inflight.done:
				case <-ctx.Done():
					return Receipt{}, ctx.Err()
				}
				if inflight.err == nil {
					return Receipt{Pos: inflight.pos, Duplicate: true}, nil
				}
				continue // it failed or was withdrawn and released its claim: try ours
			}
		}
		break
	}
	if err := l.enqueue(ctx, partition, r); err != nil {
		l.release(r)
		return Receipt{}, err
	}
	select {
	case <-r.done:
	case <-ctx.Done():
		if r.state.CompareAndSwap(stateQueued, stateWithdrawn) {
			l.release(r)
			return Receipt{}, ctx.Err()
		}
		return Receipt{}, &InFlightError{err: ctx.Err(), r: r}
	}
	if r.err != nil {
		return Receipt{}, r.err
	}
	return Receipt{Pos: r.pos}, nil
}

// InFlightError is Append's error when ctx ended after the append was taken into a
// message being published: it is ctx's error (errors.Is finds it), and the append may
// still be stored. Wait tells how it ended.
type InFlightError struct {
	err error
	r   *request
}

func (e *InFlightError) Error() string {
	return "eventlog: the append was being published when its context ended (it may still be stored): " + e.err.Error()
}

func (e *InFlightError) Unwrap() error { return e.err }

// Wait waits until the message holding the append is acknowledged or failed (its
// publish is bounded: Options.PublishTimeout per attempt, a few attempts) and returns
// what Append would have, or ctx's error first.
func (e *InFlightError) Wait(ctx context.Context) (Receipt, error) {
	select {
	case <-e.r.done:
	case <-ctx.Done():
		return Receipt{}, ctx.Err()
	}
	if e.r.err != nil {
		return Receipt{}, e.r.err
	}
	return Receipt{Pos: e.r.pos}, nil
}

// release drops the dedupe claim of a request that will not be stored (withdrawn, or
// never queued) and wakes any retry waiting on it.
func (l *Log) release(r *request) {
	if r.id != "" {
		l.dedupe.forget(r.id, r)
	}
	if r.err == nil {
		r.err = errWithdrawn
	}
	select {
	case <-r.done:
	default:
		close(r.done)
	}
}

var errWithdrawn = errors.New("eventlog: append withdrawn")

func (l *Log) enqueue(ctx context.Context, partition int, r *request) error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return ErrClosed
	}
	select {
	case l.parts[partition].reqs <- r:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Sizes of a group message's framing, over-estimated: a version byte and the append
// count; per append its id length and record count.
const (
	groupOverhead       = 1 + 10
	groupAppendOverhead = 10 + 10
)

// partition is one partition's writer: it takes every queued request, publishes them as
// one message and hands each its position.
type partition struct {
	l       *Log
	num     int
	subject string
	reqs    chan *request
	count   uint64 // messages published by this writer: the Nats-Msg-Id suffix
}

func newPartition(l *Log, num int) *partition {
	return &partition{l: l, num: num, subject: l.opts.SubjectPrefix + "." + strconv.Itoa(num), reqs: make(chan *request, 4096)}
}

func (p *partition) run() {
	defer p.l.wg.Done()
	var carry *request // the request that did not fit in the previous group
	var group []*request
	var buf []byte
	for {
		group = group[:0]
		size := groupOverhead
		if carry != nil {
			group, size, carry = append(group, carry), size+carry.size, nil
		} else {
			r, ok := <-p.reqs
			if !ok {
				return
			}
			group, size = append(group, r), size+r.size
		}
	collect:
		for {
			select {
			case r, ok := <-p.reqs:
				if !ok {
					break collect
				}
				if size+r.size > p.l.opts.MaxMessageBytes {
					carry = r
					break collect
				}
				group, size = append(group, r), size+r.size
			default:
				break collect
			}
		}
		taken := group[:0]
		for _, r := range group {
			if r.state.CompareAndSwap(stateQueued, stateTaken) {
				taken = append(taken, r)
			}
		}
		if len(taken) == 0 {
			continue
		}
		buf = p.commit(taken, buf[:0])
	}
}

// commit publishes one group message and releases its requests; it returns the buffer
// for reuse.
func (p *partition) commit(group []*request, buf []byte) []byte {
	appends := make([]groupAppend, len(group))
	for i, r := range group {
		appends[i] = groupAppend{id: r.id, n: len(r.recs)}
	}
	buf = appendGroupHeader(buf, appends)
	for _, r := range group {
		for _, rec := range r.recs {
			buf = appendGroupRecord(buf, rec)
		}
	}
	if p.l.beforePublish != nil {
		p.l.beforePublish()
	}
	p.count++
	msgID := p.l.writerID + "." + strconv.Itoa(p.num) + "." + strconv.FormatUint(p.count, 10)
	t0 := time.Now()
	seq, err := p.l.publish(p.subject, msgID, buf)
	if err == nil {
		p.l.stored(seq)
	}
	now := time.Now()
	if f := p.l.opts.OnCommit; f != nil {
		records := 0
		for _, a := range appends {
			records += a.n
		}
		f(Commit{Appends: len(group), Records: records, Bytes: len(buf), Took: now.Sub(t0), Err: err})
	}
	index := 0
	for _, r := range group {
		if err != nil {
			r.err = err
			if r.id != "" {
				p.l.dedupe.forget(r.id, r)
			}
		} else {
			r.pos = Position{Seq: seq, Index: index}
			if r.id != "" {
				p.l.dedupe.stored(r.id, r, r.pos, now)
			}
		}
		index += len(r.recs)
		close(r.done)
	}
	return buf
}

// publish sends one message and waits for its acknowledgement, retrying with the same
// Nats-Msg-Id while the stream does not answer (the stream stores a retried message
// once and answers the first sequence). It returns the message's stream sequence.
func (l *Log) publish(subject, msgID string, data []byte) (uint64, error) {
	msg := &nats.Msg{Subject: subject, Data: data, Header: nats.Header{}}
	const attempts = 5
	var err error
	for attempt := range attempts {
		if attempt > 0 {
			time.Sleep(time.Duration(attempt) * 100 * time.Millisecond)
		}
		if l.broken.Load() && l.restart() {
			l.broken.Store(false)
		}
		js, _ := l.handles()
		ctx, cancel := context.WithTimeout(context.Background(), l.opts.PublishTimeout)
		failed := l.failures()
		go func() {
			select {
			case <-failed: // the server could not write: it will not answer
				cancel()
			case <-ctx.Done():
			}
		}()
		var ack *jetstream.PubAck
		ack, err = js.PublishMsg(ctx, msg, jetstream.WithMsgID(msgID))
		cancel()
		if err == nil {
			return ack.Sequence, nil
		}
		if !retryable(err) && !errors.Is(err, context.Canceled) {
			break
		}
	}
	l.broken.Store(true)
	return 0, fmt.Errorf("eventlog: publish: %w", err)
}

func retryable(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, jetstream.ErrNoStreamResponse) ||
		errors.Is(err, nats.ErrNoResponders) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, nats.ErrConnectionClosed) || // a restart replaced the connection
		apiCode(err, 10158) || // the same message id still in process (an earlier attempt of this publish, after a leader change)
		apiCode(err, 10008) // JetStream temporarily unavailable (a leader being elected)
}

// apiCode reports whether err is a JetStream API error with that error code.
func apiCode(err error, code int) bool {
	var ae *jetstream.APIError
	return errors.As(err, &ae) && int(ae.ErrorCode) == code
}

// Transient reports whether err (of Open, OpenReader or a publish) says the cluster does
// not answer for now (a leader election, a server restarting), not that it refuses.
func Transient(err error) bool { return retryable(err) }
