package eventlog

import (
	"context"
	"fmt"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/projector"
)

// Projection is the log as a projector reads it (projector.Log, Waiter and HeadReader):
// one projector.Record per stored message, at its stream sequence, with the events of
// every append in it. A message is the unit a projection applies: its sequence is the
// position a projection store keeps, and a read that waits for an append's position
// (Receipt.Pos.Seq) waits for its whole message.
type Projection struct{ l *Log }

// Projection returns the projector's view of l.
func (l *Log) Projection() Projection { return Projection{l: l} }

var (
	_ projector.Log        = Projection{}
	_ projector.Waiter     = Projection{}
	_ projector.HeadReader = Projection{}
)

// Read returns up to max messages from sequence from on, decoded afresh at every call.
func (p Projection) Read(ctx context.Context, from uint64, max int) ([]projector.Record, error) {
	l := p.l
	if l.isClosed() {
		return nil, ErrClosed
	}
	if from == 0 {
		from = 1
	}
	var out []projector.Record
	for len(out) < max {
		m, ok, err := l.readMessage(ctx, from)
		if err != nil {
			return out, err
		}
		if !ok {
			break
		}
		evs := make([]*mailtrail.Event, len(m.recs))
		for i, b := range m.recs {
			if evs[i], err = DecodeEvent(b); err != nil {
				return out, fmt.Errorf("eventlog: record %d:%d: %w", m.seq, i, err)
			}
		}
		out = append(out, projector.Record{Pos: m.seq, Events: evs})
		from = m.seq + 1
	}
	return out, nil
}

// waitPoll bounds a Wait: appends of other writers (another process on the same stream)
// do not wake it, so it returns after this long at the latest and the projector reads.
const waitPoll = time.Second

// Wait returns once a message past after is stored by this Log, after waitPoll, or with
// ctx's error.
func (p Projection) Wait(ctx context.Context, after uint64) error {
	l := p.l
	l.gmu.Lock()
	grew := l.grew
	l.gmu.Unlock()
	if l.lastSeq.Load() > after {
		return nil
	}
	t := time.NewTimer(waitPoll)
	defer t.Stop()
	select {
	case <-grew:
		return nil
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Head returns the sequence of the last message stored, as this Log knows it.
func (p Projection) Head(context.Context) (uint64, error) {
	if p.l.isClosed() {
		return 0, ErrClosed
	}
	return p.l.lastSeq.Load(), nil
}

// StreamHead returns the stream's last sequence as the server has it now, every
// writer's appends included (Head answers what this Log appended or read). An API node of
// the cluster mode, one writer among several, reads the log's progress with it.
func (l *Log) StreamHead(ctx context.Context) (uint64, error) {
	if l.isClosed() {
		return 0, ErrClosed
	}
	_, st := l.handles()
	info, err := st.Info(ctx)
	if err != nil {
		return l.lastSeq.Load(), fmt.Errorf("eventlog: stream info: %w", err)
	}
	l.seen(info.State.LastSeq)
	return l.lastSeq.Load(), nil
}
