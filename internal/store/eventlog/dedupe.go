package eventlog

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// dedupeIndex remembers the ids of the appends of the last window: those in flight (a
// retry waits for the first attempt) and those stored (a retry answers its position).
// Open fills it from the messages of the window, so it survives a restart. Its memory is
// about 100 bytes per remembered id: appends without an id (pixel hits, clicks) cost
// nothing.
type dedupeIndex struct {
	window time.Duration
	mu     sync.Mutex
	byID   map[string]*dedupeEntry
	fifo   []fifoEntry // stored ids in the order they were stored, for expiry
	head   int
}

type dedupeEntry struct {
	req *request // in flight; nil once stored
	pos Position
	at  time.Time
}

type fifoEntry struct {
	id string
	at time.Time
}

func newDedupeIndex(window time.Duration) *dedupeIndex {
	return &dedupeIndex{window: window, byID: map[string]*dedupeEntry{}}
}

// claim registers r under id unless the id is known. It returns the stored position
// (found, inflight nil), or the request in flight under id, or found false after
// registering r.
func (d *dedupeIndex) claim(id string, r *request) (pos Position, inflight *request, found bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.expire(time.Now())
	if e, ok := d.byID[id]; ok {
		if e.req != nil {
			return Position{}, e.req, true
		}
		return e.pos, nil, true
	}
	d.byID[id] = &dedupeEntry{req: r}
	return Position{}, nil, false
}

// forget drops id's claim when r holds it (r failed or was withdrawn).
func (d *dedupeIndex) forget(id string, r *request) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if e, ok := d.byID[id]; ok && e.req == r {
		delete(d.byID, id)
	}
}

// stored records that r, holding id, is in the log at pos.
func (d *dedupeIndex) stored(id string, r *request, pos Position, at time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	e, ok := d.byID[id]
	if !ok || e.req != r {
		return
	}
	e.req, e.pos, e.at = nil, pos, at
	d.fifo = append(d.fifo, fifoEntry{id: id, at: at})
}

// expire forgets stored ids older than the window. Called with d.mu held.
func (d *dedupeIndex) expire(now time.Time) {
	cut := now.Add(-d.window)
	for d.head < len(d.fifo) && d.fifo[d.head].at.Before(cut) {
		f := d.fifo[d.head]
		if e, ok := d.byID[f.id]; ok && e.req == nil && !e.at.After(f.at) {
			delete(d.byID, f.id)
		}
		d.fifo[d.head] = fifoEntry{}
		d.head++
	}
	if d.head > 1024 && d.head*2 > len(d.fifo) {
		d.fifo = append(d.fifo[:0], d.fifo[d.head:]...)
		d.head = 0
	}
}

// load reads the messages stored within the window, newest first until one is older,
// and remembers their appends' ids. It decodes only the messages' headers.
func (d *dedupeIndex) load(ctx context.Context, l *Log) error {
	_, stream := l.handles()
	info, err := stream.Info(ctx)
	if err != nil {
		return fmt.Errorf("eventlog: stream info: %w", err)
	}
	cut := time.Now().Add(-d.window)
	type stored struct {
		id  string
		pos Position
		at  time.Time
	}
	var found []stored
	for seq := info.State.LastSeq; seq >= info.State.FirstSeq && seq > 0; seq-- {
		msg, err := stream.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue // deleted
		}
		if err != nil {
			return fmt.Errorf("eventlog: read message %d: %w", seq, err)
		}
		if msg.Time.Before(cut) {
			break
		}
		appends, _, err := decodeGroupHeader(msg.Data)
		if err != nil {
			return fmt.Errorf("eventlog: message %d: %w", seq, err)
		}
		index := 0
		for _, a := range appends {
			if a.id != "" {
				found = append(found, stored{id: a.id, pos: Position{Seq: seq, Index: index}, at: msg.Time})
			}
			index += a.n
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := len(found) - 1; i >= 0; i-- { // oldest first
		s := found[i]
		if _, ok := d.byID[s.id]; ok {
			continue // the first append of an id keeps its position
		}
		d.byID[s.id] = &dedupeEntry{pos: s.pos, at: s.at}
		d.fifo = append(d.fifo, fifoEntry{id: s.id, at: s.at})
	}
	return nil
}
