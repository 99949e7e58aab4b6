package eventlog

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/mailtrail/mailtrail"
	"github.com/nats-io/nats.go/jetstream"
)

// Record is one event read from the log.
type Record struct {
	Pos       Position
	Partition int
	Event     *mailtrail.Event
}

// Read returns up to max records at positions from on, in log order (all partitions).
// Reading again from the last record's Next() continues where it stopped; a from past a
// message's last record continues with the next message. It returns no records (and no
// error) at the end of the log, ErrClosed after Close, and an error when a message
// cannot be read or decoded.
func (l *Log) Read(ctx context.Context, from Position, max int) ([]Record, error) {
	if l.isClosed() {
		return nil, ErrClosed
	}
	seq := from.Seq
	if seq == 0 {
		seq = 1
	}
	var out []Record
	filter := l.opts.SubjectPrefix + ".*"
	for len(out) < max {
		msg, err := l.stream.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(filter))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			break
		}
		if err != nil {
			return out, fmt.Errorf("eventlog: read message %d: %w", seq, err)
		}
		part, err := strconv.Atoi(strings.TrimPrefix(msg.Subject, l.opts.SubjectPrefix+"."))
		if err != nil {
			return out, fmt.Errorf("eventlog: message %d: subject %q", msg.Sequence, msg.Subject)
		}
		appends, body, err := decodeGroupHeader(msg.Data)
		if err != nil {
			return out, fmt.Errorf("eventlog: message %d: %w", msg.Sequence, err)
		}
		n := 0
		for _, a := range appends {
			n += a.n
		}
		recs, err := decodeGroupRecords(body, n)
		if err != nil {
			return out, fmt.Errorf("eventlog: message %d: %w", msg.Sequence, err)
		}
		first := 0
		if msg.Sequence == from.Seq {
			first = from.Index
		}
		for i := first; i < len(recs) && len(out) < max; i++ {
			e, err := DecodeEvent(recs[i])
			if err != nil {
				return out, fmt.Errorf("eventlog: record %d:%d: %w", msg.Sequence, i, err)
			}
			out = append(out, Record{Pos: Position{Seq: msg.Sequence, Index: i}, Partition: part, Event: e})
		}
		seq = msg.Sequence + 1
	}
	return out, nil
}
