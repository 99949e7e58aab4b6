package clickhouse

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mailtrail/mailtrail/internal/projector"
)

// ShipperOptions configure a Shipper. Zero values take the defaults.
type ShipperOptions struct {
	// Stream names the log in ship_positions; default "events".
	Stream string
	// MaxEvents is how many events one block holds at most (soft: a record of the log is
	// never split, and a block holds at least one); default 50,000. A shipper that is
	// behind merges as many records as fit into one block.
	MaxEvents int
	// ReadMax is how many records one read of the log asks for; default 256.
	ReadMax int
	// PollMin and PollMax bound the pause between reads of a log that is not a
	// projector.Waiter and has nothing new; defaults 1 ms and 100 ms.
	PollMin, PollMax time.Duration
	// RetryMin and RetryMax bound the pause before a block is shipped again after an
	// error; it doubles while errors last; defaults 50 ms and 5 s.
	RetryMin, RetryMax time.Duration
	// OnError, when set, is told of every error the shipper retries after (an
	// *IncompleteError when a staged block did not add up). It must not block.
	OnError func(error)
	// OnShipped, when set, is told of every block once its position is stored. It must
	// not block.
	OnShipped func(Block)
	// AfterCopy, when set, is called after a block's copy into events and before its
	// position is stored; an error it returns fails the attempt there, as a crash at that
	// point would (tests: the same block copied twice).
	AfterCopy func(Block) error
}

// Block is one shipment: the log's records First…Last (positions), Events events.
type Block struct {
	First, Last uint64
	Events      int
}

// ID returns the block's identity, derived from its positions alone: "first-last".
func (b Block) ID() string {
	return strconv.FormatUint(b.First, 10) + "-" + strconv.FormatUint(b.Last, 10)
}

// IncompleteError says a staged block did not add up to what was sent (an upload cut
// short whose rows the server committed): it was not copied, and is uploaded again.
type IncompleteError struct {
	Block        Block
	Sent, Staged uint64 // rows
	Detail       string // which check failed
}

func (e *IncompleteError) Error() string {
	return fmt.Sprintf("clickhouse: block %s staged incomplete (%s: %d rows sent, %d staged): not copied", e.Block.ID(), e.Detail, e.Sent, e.Staged)
}

// Shipper ships a log's events to a DB. Create it with NewShipper, then call Run.
type Shipper struct {
	db  *DB
	log projector.Log
	opt ShipperOptions

	pos  atomic.Uint64 // the last position ClickHouse holds, as far as the shipper knows
	head atomic.Uint64 // the last position known in the log
	buf  bytes.Buffer
}

// NewShipper returns a Shipper of log into db.
func NewShipper(db *DB, log projector.Log, opt ShipperOptions) *Shipper {
	if opt.Stream == "" {
		opt.Stream = "events"
	}
	if opt.MaxEvents <= 0 {
		opt.MaxEvents = 50_000
	}
	if opt.ReadMax <= 0 {
		opt.ReadMax = 256
	}
	if opt.PollMin <= 0 {
		opt.PollMin = time.Millisecond
	}
	if opt.PollMax < opt.PollMin {
		opt.PollMax = max(100*time.Millisecond, opt.PollMin)
	}
	if opt.RetryMin <= 0 {
		opt.RetryMin = 50 * time.Millisecond
	}
	if opt.RetryMax < opt.RetryMin {
		opt.RetryMax = max(5*time.Second, opt.RetryMin)
	}
	return &Shipper{db: db, log: log, opt: opt}
}

// Position returns the last log position ClickHouse holds as far as the shipper knows:
// 0 before Run read it.
func (s *Shipper) Position() uint64 { return s.pos.Load() }

// Head returns the last position the shipper knows in the log (the log's Head when it is
// a projector.HeadReader).
func (s *Shipper) Head() uint64 { return max(s.head.Load(), s.pos.Load()) }

// Lag returns how many positions of the log are past the last one shipped.
func (s *Shipper) Lag() uint64 { return s.Head() - s.Position() }

// Run ships the log from the position after the stored one until ctx ends, then returns
// nil. Errors of the log or of ClickHouse are reported to OnError and retried after a
// pause, the same block again: a record is never skipped. It returns an error only when
// the log answers out of order.
func (s *Shipper) Run(ctx context.Context) error {
	retry := s.opt.RetryMin
	fail := func(err error) {
		if ctx.Err() != nil {
			return
		}
		if s.opt.OnError != nil {
			s.opt.OnError(err)
		}
		sleep(ctx, retry)
		retry = min(2*retry, s.opt.RetryMax)
	}
	for ctx.Err() == nil {
		pos, err := s.start(ctx)
		if err != nil {
			fail(err)
			continue
		}
		s.pos.Store(pos)
		break
	}
	retry = s.opt.RetryMin
	poll := s.opt.PollMin
	dirty := true // the first block's staging partition may hold a dead attempt's rows
	for ctx.Err() == nil {
		pos := s.pos.Load()
		recs, err := s.read(ctx, pos)
		if err != nil {
			if errors.Is(err, errOutOfOrder) {
				return err
			}
			fail(err)
			continue
		}
		s.readHead(ctx)
		if len(recs) == 0 {
			if w, ok := s.log.(projector.Waiter); ok {
				if err := w.Wait(ctx, pos); err != nil {
					fail(fmt.Errorf("clickhouse: wait for the log: %w", err))
				}
				continue
			}
			sleep(ctx, poll)
			poll = min(2*poll, s.opt.PollMax)
			continue
		}
		poll = s.opt.PollMin
		b := Block{First: recs[0].Pos, Last: recs[len(recs)-1].Pos}
		for _, r := range recs {
			b.Events += len(r.Events)
		}
		// The same block until it is shipped or ctx ends.
		for ctx.Err() == nil {
			if err := s.ship(ctx, b, recs, dirty); err != nil {
				dirty = true
				fail(err)
				continue
			}
			dirty = false
			retry = s.opt.RetryMin
			s.pos.Store(b.Last)
			if s.opt.OnShipped != nil {
				s.opt.OnShipped(b)
			}
			break
		}
	}
	return nil
}

var errOutOfOrder = errors.New("clickhouse: the log answered out of order")

// start creates the schema, reads the stored position and drops the staging partitions
// of blocks at or before it (left by a crash after a position was stored).
func (s *Shipper) start(ctx context.Context) (uint64, error) {
	if err := s.db.Schema(ctx); err != nil {
		return 0, err
	}
	pos, err := s.db.ShippedPosition(ctx, s.opt.Stream)
	if err != nil {
		return 0, err
	}
	out, err := s.db.do(ctx, fmt.Sprintf(`SELECT DISTINCT partition_id FROM system.parts
		WHERE database = %s AND table = 'events_stage' AND active`, Quote(s.db.database)), nil)
	if err != nil {
		return 0, fmt.Errorf("clickhouse: staging partitions: %w", err)
	}
	for _, f := range strings.Fields(out) {
		first, err := strconv.ParseUint(f, 10, 64)
		if err != nil || first > pos {
			continue // a block not shipped yet: dropped before its next upload
		}
		if err := s.dropStage(ctx, first); err != nil {
			return 0, err
		}
	}
	return pos, nil
}

// read returns the records after pos, up to MaxEvents events (at least one record when
// the log holds one).
func (s *Shipper) read(ctx context.Context, pos uint64) ([]projector.Record, error) {
	var out []projector.Record
	events, from := 0, pos
	for events < s.opt.MaxEvents {
		recs, err := s.log.Read(ctx, from+1, s.opt.ReadMax)
		if err != nil {
			if len(out) > 0 {
				return out, nil // ship what was read; the next read meets the error again
			}
			return nil, fmt.Errorf("clickhouse: read the log after %d: %w", from, err)
		}
		more := len(recs) >= s.opt.ReadMax
		for _, r := range recs {
			if r.Pos <= from {
				if r.Pos <= pos {
					continue // a log may answer from before the position asked
				}
				return nil, fmt.Errorf("%w: position %d after %d", errOutOfOrder, r.Pos, from)
			}
			if events > 0 && events+len(r.Events) > s.opt.MaxEvents {
				return out, nil
			}
			out = append(out, r)
			events += len(r.Events)
			from = r.Pos
		}
		if !more {
			break
		}
	}
	return out, nil
}

func (s *Shipper) readHead(ctx context.Context) {
	if h, ok := s.log.(projector.HeadReader); ok {
		if head, err := h.Head(ctx); err == nil {
			s.head.Store(head)
		}
	}
}

// ship makes one attempt at block b: clear its staging partition (dirty: an earlier
// attempt may have left rows), upload, check, copy, store the position, clear.
func (s *Shipper) ship(ctx context.Context, b Block, recs []projector.Record, dirty bool) error {
	if dirty {
		if err := s.dropStage(ctx, b.First); err != nil {
			return err
		}
	}
	// A fresh attempt number: rows of another upload of this block (one cut short that
	// the server commits late) are never counted or copied with this one's.
	attempt := rand.Uint64() >> 1
	s.buf.Reset()
	want := encodeBlock(&s.buf, recs, b.First, attempt)
	stage := s.db.table("events_stage")
	if _, err := s.db.do(ctx, "INSERT INTO "+stage+" FORMAT TabSeparated", bytes.NewReader(s.buf.Bytes())); err != nil {
		return fmt.Errorf("clickhouse: block %s: upload: %w", b.ID(), err)
	}
	where := fmt.Sprintf("first = %d AND attempt = %d", b.First, attempt)
	out, err := s.db.do(ctx, `SELECT count(), sum(n), uniqExact(n), countIf(row_end = '`+rowEnd+`'),
		sum(length(org) + length(id) + length(campaign) + length(message) + length(customer))
		FROM `+stage+` WHERE `+where, nil)
	if err != nil {
		return fmt.Errorf("clickhouse: block %s: check: %w", b.ID(), err)
	}
	if err := checkStaged(b, want, out); err != nil {
		return err
	}
	// In the order of the block, so that a copy of the same block again is the same
	// insert, which Replicated tables drop (WithReplicated).
	if err := s.db.exec(ctx, "INSERT INTO "+s.db.table("events")+" ("+eventColumns+") SELECT "+eventColumns+" FROM "+stage+" WHERE "+where+" ORDER BY n"); err != nil {
		return fmt.Errorf("clickhouse: block %s: copy: %w", b.ID(), err)
	}
	if s.opt.AfterCopy != nil {
		if err := s.opt.AfterCopy(b); err != nil {
			return err
		}
	}
	if err := s.db.exec(ctx, fmt.Sprintf("INSERT INTO %s (stream, pos, block, at) SELECT %s, %d, %s, now()",
		s.db.table("ship_positions"), Quote(s.opt.Stream), b.Last, Quote(b.ID()))); err != nil {
		return fmt.Errorf("clickhouse: block %s: position: %w", b.ID(), err)
	}
	// Shipped. A failure to clear is not the block's: start drops what is left.
	if err := s.dropStage(ctx, b.First); err != nil && s.opt.OnError != nil && ctx.Err() == nil {
		s.opt.OnError(err)
	}
	return nil
}

// checkStaged compares the server's sums of a staged attempt (count, sum(n),
// uniqExact(n), complete rows, bytes; one TSV line) with what was sent.
func checkStaged(b Block, want sums, answer string) error {
	f := strings.Fields(answer)
	if len(f) != 5 {
		return fmt.Errorf("clickhouse: block %s: check answered %q", b.ID(), answer)
	}
	var got [5]uint64
	for i, v := range f {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return fmt.Errorf("clickhouse: block %s: check answered %q", b.ID(), answer)
		}
		got[i] = n
	}
	bad := func(what string) error {
		return &IncompleteError{Block: b, Sent: want.rows, Staged: got[0], Detail: what}
	}
	switch {
	case got[0] != want.rows:
		return bad("rows")
	case got[1] != want.n || got[2] != want.rows:
		return bad("row numbers")
	case got[3] != want.rows:
		return bad("rows cut in their last field")
	case got[4] != want.bytes:
		return bad("bytes")
	}
	return nil
}

// dropStage removes every staged row of the block starting at first, whatever its
// attempt (DROP PARTITION is synchronous, unlike a DELETE mutation).
func (s *Shipper) dropStage(ctx context.Context, first uint64) error {
	if err := s.db.exec(ctx, fmt.Sprintf("ALTER TABLE %s DROP PARTITION %d", s.db.table("events_stage"), first)); err != nil {
		return fmt.Errorf("clickhouse: clear staged block %d: %w", first, err)
	}
	return nil
}

// ShippedPosition returns the last log position of stream whose block is in events, 0
// when none is.
func (db *DB) ShippedPosition(ctx context.Context, stream string) (uint64, error) {
	out, err := db.do(ctx, fmt.Sprintf("SELECT max(pos) FROM %s WHERE stream = %s", db.table("ship_positions"), Quote(stream)), nil)
	if err != nil {
		return 0, fmt.Errorf("clickhouse: position: %w", err)
	}
	pos, err := strconv.ParseUint(strings.TrimSpace(out), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("clickhouse: position: answer %q", out)
	}
	return pos, nil
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// InsertEvents writes the records' events straight into events in one INSERT: no
// staging, no check, no position. It is not exactly once (a cut upload commits a
// prefix, a retry adds copies); bench/clickhouse measures the shipper against it.
func (db *DB) InsertEvents(ctx context.Context, recs []projector.Record) error {
	var buf bytes.Buffer
	for _, r := range recs {
		for i, ev := range r.Events {
			writeEvent(&buf, ev, r.Pos, i)
			buf.WriteByte('\n')
		}
	}
	_, err := db.do(ctx, "INSERT INTO "+db.table("events")+" ("+eventColumns+") FORMAT TabSeparated", &buf)
	return err
}
