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

// message is one stored group message, its records still encoded.
type message struct {
	seq  uint64
	part int
	recs [][]byte
}

// readMessage returns the first message at sequence seq or after; ok is false at the end
// of the log.
func (l *Log) readMessage(ctx context.Context, seq uint64) (m message, ok bool, err error) {
	_, stream := l.handles()
	msg, err := stream.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(l.subjects()))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return message{}, false, nil
	}
	if err != nil {
		return message{}, false, fmt.Errorf("eventlog: read message %d: %w", seq, err)
	}
	part, err := strconv.Atoi(strings.TrimPrefix(msg.Subject, l.opts.SubjectPrefix+"."))
	if err != nil {
		return message{}, false, fmt.Errorf("eventlog: message %d: subject %q", msg.Sequence, msg.Subject)
	}
	appends, body, err := decodeGroupHeader(msg.Data)
	if err != nil {
		return message{}, false, fmt.Errorf("eventlog: message %d: %w", msg.Sequence, err)
	}
	n := 0
	for _, a := range appends {
		n += a.n
	}
	recs, err := decodeGroupRecords(body, n)
	if err != nil {
		return message{}, false, fmt.Errorf("eventlog: message %d: %w", msg.Sequence, err)
	}
	return message{seq: msg.Sequence, part: part, recs: recs}, true, nil
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
	for len(out) < max {
		m, ok, err := l.readMessage(ctx, seq)
		if err != nil {
			return out, err
		}
		if !ok {
			break
		}
		first := 0
		if m.seq == from.Seq {
			first = from.Index
		}
		for i := first; i < len(m.recs) && len(out) < max; i++ {
			e, err := DecodeEvent(m.recs[i])
			if err != nil {
				return out, fmt.Errorf("eventlog: record %d:%d: %w", m.seq, i, err)
			}
			out = append(out, Record{Pos: Position{Seq: m.seq, Index: i}, Partition: m.part, Event: e})
		}
		seq = m.seq + 1
	}
	return out, nil
}

// subjects is the subject filter of the log's reads: every partition's, or the one
// partition a Reader opened with ReaderOptions.Partition reads.
func (l *Log) subjects() string {
	if l.only != "" {
		return l.only
	}
	return l.opts.SubjectPrefix + ".*"
}

// NextInPartition returns the sequence of partition's first message at sequence from or
// after, and ok false when the log holds none (yet). A reader of that partition that has
// applied up to from-1 has applied every message of it before the one returned, so the
// messages before it may go (see the purge of serve's log).
func (l *Log) NextInPartition(ctx context.Context, partition int, from uint64) (seq uint64, ok bool, err error) {
	if l.isClosed() {
		return 0, false, ErrClosed
	}
	_, stream := l.handles()
	msg, err := stream.GetMsg(ctx, max(from, 1), jetstream.WithGetMsgSubject(l.opts.SubjectPrefix+"."+strconv.Itoa(partition)))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("eventlog: next message of partition %d: %w", partition, err)
	}
	return msg.Sequence, true, nil
}
