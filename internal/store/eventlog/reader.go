package eventlog

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/mailtrail/mailtrail/internal/projector"
	"github.com/nats-io/nats.go/jetstream"
)

// ErrPurged is returned by Reader.Read when the log no longer holds a message the reader
// has not read yet: it was purged (the log's retention, an erasure) before this reader's
// projection applied it. Going on would leave its events out, so the reader stops there.
var ErrPurged = errors.New("eventlog: the log no longer holds a message this reader has not applied")

// ErrNoStream is returned by OpenReader when the stream does not exist (yet): the
// writers create it.
var ErrNoStream = errors.New("eventlog: no such stream")

// ReaderOptions configure OpenReader. Stream and SubjectPrefix default as Options'.
type ReaderOptions struct {
	// URL is the external JetStream: one or more comma-separated nats:// URLs.
	URL string
	// Creds, when set, is a NATS credentials file the connection authenticates with.
	Creds string
	// TLS names the files of a TLS connection, as Options.TLS.
	TLS TLSFiles
	// Stream and SubjectPrefix name the stream and its subjects, as the writers' Options.
	Stream        string
	SubjectPrefix string
	// HeadEvery is how often Head asks the server for the stream's last sequence, at
	// most; default 1 s.
	HeadEvery time.Duration
	// Partitioned makes the reader read partition Partition only (its messages keep the
	// stream's sequences, with the gaps other partitions' messages leave); otherwise it
	// reads every partition.
	Partitioned bool
	Partition   int
}

// Reader is the event log on an external JetStream as a process that only reads it sees
// (a worker projecting it into another store): no directory, no appends, no dedupe
// window. It is a projector.Log and a projector.HeadReader; it is not a
// projector.Waiter (another process appends), so a projector polls it.
type Reader struct {
	l         *Log
	headEvery time.Duration

	hmu    sync.Mutex
	headAt time.Time
}

var (
	_ projector.Log        = (*Reader)(nil)
	_ projector.HeadReader = (*Reader)(nil)
)

// OpenReader connects to the external JetStream of opts.URL and finds the stream. The
// stream must exist (the writers create it); the connection reconnects by itself after a
// server or the network fails.
func OpenReader(ctx context.Context, opts ReaderOptions) (*Reader, error) {
	if opts.URL == "" {
		return nil, errors.New("eventlog: a reader needs the URL of an external JetStream")
	}
	o := Options{URL: opts.URL, Creds: opts.Creds, TLS: opts.TLS, Stream: opts.Stream, SubjectPrefix: opts.SubjectPrefix}
	o.defaults()
	l := &Log{opts: o, grew: make(chan struct{}), failed: make(chan struct{})}
	if opts.Partitioned {
		if opts.Partition < 0 {
			return nil, fmt.Errorf("eventlog: partition %d", opts.Partition)
		}
		l.only = o.SubjectPrefix + "." + strconv.Itoa(opts.Partition)
	}
	nc, err := l.connectExternal()
	if err != nil {
		return nil, err
	}
	l.nc = nc
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("eventlog: jetstream: %w", err)
	}
	st, err := js.Stream(ctx, o.Stream)
	if err != nil {
		nc.Close()
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			return nil, fmt.Errorf("%w: stream %s does not exist on %s (serve --event-log-url creates it at its first start)", ErrNoStream, o.Stream, redactURL(o.URL))
		}
		return nil, fmt.Errorf("eventlog: stream %s: %w", o.Stream, err)
	}
	l.js, l.stream = js, st
	if n := StreamPartitions(st.CachedInfo()); opts.Partitioned && opts.Partition >= n {
		nc.Close()
		return nil, fmt.Errorf("%w: partition %d of stream %s, which has %d", ErrPartitions, opts.Partition, o.Stream, n)
	}
	if l.only == "" {
		l.seen(st.CachedInfo().State.LastSeq)
	}
	if opts.HeadEvery <= 0 {
		opts.HeadEvery = time.Second
	}
	r := &Reader{l: l, headEvery: opts.HeadEvery, headAt: time.Now()}
	if l.only != "" {
		r.headAt = time.Time{} // the stream's info says nothing of the partition: ask at the first Head
	}
	return r, nil
}

// Read returns up to max messages from sequence from on, as Projection.Read does, and
// ErrPurged (with the records before the gap) when the stream no longer holds a message
// between from and the next one it holds. A stream's sequences have no holes but those
// a purge leaves, so a record whose position is past the one expected means lost events.
//
// A reader of one partition meets holes all the time (the other partitions' messages)
// and cannot tell a purged message of its own among them: there the guard is the purge's
// (serve purges only below every partition's next unapplied message, see
// Log.NextInPartition), not the reader's.
func (r *Reader) Read(ctx context.Context, from uint64, max int) ([]projector.Record, error) {
	recs, err := r.l.Projection().Read(ctx, from, max)
	if r.l.only != "" {
		return recs, err
	}
	want := from
	if want == 0 {
		want = 1
	}
	for i, rec := range recs {
		if rec.Pos != want {
			return recs[:i], fmt.Errorf("%w: message %d (the next one held is %d): it was purged before it was applied here; keep the log longer (serve --event-log-retention) than this reader may lag", ErrPurged, want, rec.Pos)
		}
		want++
	}
	return recs, err
}

// Head returns the sequence of the last message of the stream (of its partition, for a
// reader of one), as the server told it at most HeadEvery ago (or as far as Read has
// seen).
func (r *Reader) Head(ctx context.Context) (uint64, error) {
	if r.l.isClosed() {
		return 0, ErrClosed
	}
	r.hmu.Lock()
	stale := time.Since(r.headAt) >= r.headEvery
	if stale {
		r.headAt = time.Now()
	}
	r.hmu.Unlock()
	if stale && r.l.only != "" {
		// A partition's head is its last message, not the stream's.
		_, st := r.l.handles()
		msg, err := st.GetLastMsgForSubject(ctx, r.l.only)
		switch {
		case err == nil:
			r.l.seen(msg.Sequence)
		case !errors.Is(err, jetstream.ErrMsgNotFound):
			return r.l.lastSeq.Load(), fmt.Errorf("eventlog: last message of %s: %w", r.l.only, err)
		}
	} else if stale {
		_, st := r.l.handles()
		info, err := st.Info(ctx)
		if err != nil {
			return r.l.lastSeq.Load(), fmt.Errorf("eventlog: stream info: %w", err)
		}
		r.l.seen(info.State.LastSeq)
	}
	return r.l.lastSeq.Load(), nil
}

// Partitions returns the number of partitions of the stream, as it was when the reader
// opened it.
func (r *Reader) Partitions() int {
	_, st := r.l.handles()
	return StreamPartitions(st.CachedInfo())
}

// NextInPartition is Log.NextInPartition on the reader's stream.
func (r *Reader) NextInPartition(ctx context.Context, partition int, from uint64) (uint64, bool, error) {
	return r.l.NextInPartition(ctx, partition, from)
}

// Close closes the connection.
func (r *Reader) Close() error {
	r.l.mu.Lock()
	if r.l.closed {
		r.l.mu.Unlock()
		return ErrClosed
	}
	r.l.closed = true
	r.l.mu.Unlock()
	return r.l.shutdown()
}
