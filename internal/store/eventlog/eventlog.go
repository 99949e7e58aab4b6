// Package eventlog is the durable event log: a JetStream stream, served by an embedded,
// in-process NATS server whose file store syncs every write, and written in group
// commits (every append that arrives while the previous publish runs goes into the next
// message, one publish acknowledgement for all of them). An acknowledged Append is on
// disk. Positions are stream sequences; Read returns records in log order with theirs.
//
// It is an adapter like a store: only cmd/ (and bench/) import it. The design, the record
// format and the measurements are in docs/eventlog.md.
package eventlog

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mailtrail/mailtrail/internal/flock"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
)

// Defaults of Options.
const (
	DefaultStream          = "EVENTS"
	DefaultSubjectPrefix   = "events"
	DefaultPartitions      = 1
	DefaultDedupeWindow    = 2 * time.Minute
	DefaultMaxMessageBytes = 1 << 20
	DefaultPublishTimeout  = 5 * time.Second
)

// lockFileName is the file in the log's directory whose exclusive lock makes one process
// its owner. The lock, not the file, is the ownership: the kernel drops it with the
// process, so a crashed owner leaves nothing to clean up by hand.
const lockFileName = "eventlog.lock"

// ErrLocked is returned by Open when another process (or another Log of this process)
// owns the directory.
var ErrLocked = errors.New("eventlog: directory in use by another owner")

// ErrClosed is returned by Append, Read and Last after Close.
var ErrClosed = errors.New("eventlog: closed")

// Options configure Open. Zero values take the defaults above.
type Options struct {
	// Partitions is the number of partitions; partition p's messages have the subject
	// SubjectPrefix.p. Appends to one partition are ordered, each partition has its own
	// group commit.
	Partitions int
	// Stream and SubjectPrefix name the JetStream stream and its subjects.
	Stream        string
	SubjectPrefix string
	// DedupeWindow is how long an append id is remembered (a retried append with the
	// same id returns the first one's position and stores nothing) and the stream's
	// Nats-Msg-Id window for retried publishes.
	DedupeWindow time.Duration
	// MaxMessageBytes bounds one group message: a group closes before it would pass
	// it. One append larger than this is refused (ErrTooLarge); it is never split.
	MaxMessageBytes int
	// PublishTimeout bounds one publish attempt; a publish that times out is retried
	// with the same Nats-Msg-Id, so a stored message is not stored twice.
	PublishTimeout time.Duration
	// Listen, when set (host:port, port 0 for any), also opens a TCP listener for other
	// NATS clients. Empty: in-process connections only.
	Listen string
	// Logf, when set, receives the embedded server's warnings and errors.
	Logf func(format string, args ...any)
	// URL, when set, is an external JetStream (one or more comma-separated nats://
	// URLs of a cluster's servers) used in place of the embedded server: the stream is
	// created there with Replicas replicas, and the directory passed to Open is only
	// owned (locked), not written. The servers must sync every write before they
	// acknowledge it (`sync_interval: always`) and take messages of MaxMessageBytes plus
	// 64 KiB (`max_payload`).
	URL string
	// Creds, when set, is a NATS credentials file (a user JWT and its NKey seed, as
	// `nsc` writes them) the connection to URL authenticates with.
	Creds string
	// TLS names the files of a TLS connection to URL (a tls:// URL, or servers that
	// require TLS): the authorities to trust and a client certificate.
	TLS TLSFiles
	// Replicas is the stream's number of replicas on an external JetStream (1 when 0;
	// 3 on a production cluster). The embedded server keeps one.
	Replicas int
	// OnCommit, when set, is told of each group message a partition published (or
	// failed to), on that partition's writer goroutine, before its appends are answered:
	// it must not block.
	OnCommit func(Commit)
}

// Commit is one group message's publish, for metrics: the appends and records it
// carried, its size, how long the publish took (the server's sync included) and its
// error (nil when stored).
type Commit struct {
	Appends, Records, Bytes int
	Took                    time.Duration
	Err                     error
}

func (o *Options) defaults() {
	if o.Partitions <= 0 {
		o.Partitions = DefaultPartitions
	}
	if o.Stream == "" {
		o.Stream = DefaultStream
	}
	if o.SubjectPrefix == "" {
		o.SubjectPrefix = DefaultSubjectPrefix
	}
	if o.DedupeWindow <= 0 {
		o.DedupeWindow = DefaultDedupeWindow
	}
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if o.PublishTimeout <= 0 {
		o.PublishTimeout = DefaultPublishTimeout
	}
}

// Log is an open event log. Its methods are safe for concurrent use.
type Log struct {
	opts   Options
	only   string // the subject a Reader of one partition reads ("": every partition's)
	dir    string
	lock   *os.File
	srv    *server.Server
	nc     *nats.Conn
	js     jetstream.JetStream
	stream jetstream.Stream

	writerID string // prefix of this Log's Nats-Msg-Ids: unique per Open
	parts    []*partition
	dedupe   *dedupeIndex

	mu     sync.RWMutex // held for reading while enqueuing; Close takes it to stop appends
	closed bool
	wg     sync.WaitGroup // the partitions' writers

	// beforePublish, when set (tests only), runs in a partition's writer before each
	// publish.
	beforePublish func()

	gmu     sync.Mutex
	grew    chan struct{} // closed when a message is stored, then replaced
	lastSeq atomic.Uint64 // the last message's sequence as this Log knows it

	hmu         sync.RWMutex // guards srv, nc, js and stream: restart replaces them
	recoverMu   sync.Mutex   // one restart at a time
	lastRecover time.Time
	broken      atomic.Bool // a publish failed: the next one restarts the server first
	fmu         sync.Mutex
	failed      chan struct{} // closed when the server reports a failed write, then replaced
}

// storeFailed is the server's report of a failed write: the publishes waiting for their
// acknowledgement stop waiting (the server does not answer them) and the server is
// restarted before the next one.
func (l *Log) storeFailed() {
	l.broken.Store(true)
	l.fmu.Lock()
	close(l.failed)
	l.failed = make(chan struct{})
	l.fmu.Unlock()
}

// failures returns the channel closed at the next failed write.
func (l *Log) failures() <-chan struct{} {
	l.fmu.Lock()
	defer l.fmu.Unlock()
	return l.failed
}

// seen raises lastSeq to seq.
func (l *Log) seen(seq uint64) { raise(&l.lastSeq, seq) }

// raise sets v to seq unless it already holds seq or more.
func raise(v *atomic.Uint64, seq uint64) {
	for {
		cur := v.Load()
		if seq <= cur || v.CompareAndSwap(cur, seq) {
			return
		}
	}
}

// recoverInterval is how often, at most, a failing log restarts its server.
const recoverInterval = 250 * time.Millisecond

// handles returns the client handles of the running server (replaced by restart).
func (l *Log) handles() (jetstream.JetStream, jetstream.Stream) {
	l.hmu.RLock()
	defer l.hmu.RUnlock()
	return l.js, l.stream
}

// restart stops the embedded server and starts it again on the same directory. After a
// write found the disk full, the server's file store keeps failing every write (a
// "critical write error"; or JetStream turns itself off) even once space is free, until
// the stream is loaded again: without this, every append after a full disk would fail
// until the process restarts. Loading checks the stored blocks and drops a torn tail (a
// message that was never acknowledged). At most once per recoverInterval (it waits for
// it); it reports whether the server runs again.
func (l *Log) restart() bool {
	if l.opts.URL != "" {
		return true // an external server recovers by itself; the client reconnects
	}
	l.recoverMu.Lock()
	defer l.recoverMu.Unlock()
	if wait := recoverInterval - time.Since(l.lastRecover); wait > 0 {
		time.Sleep(wait) // a disk still full fails the restart again: not in a tight loop
	}
	l.lastRecover = time.Now()
	l.hmu.RLock()
	nc, srv := l.nc, l.srv
	l.hmu.RUnlock()
	if nc != nil {
		nc.Close()
	}
	if srv != nil {
		srv.Shutdown()
		srv.WaitForShutdown()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := l.start(ctx); err != nil {
		if l.opts.Logf != nil {
			l.opts.Logf("eventlog: restarting the server after failed writes: %v", err)
		}
		return false
	}
	if l.opts.Logf != nil {
		l.opts.Logf("eventlog: the server was restarted after failed writes (a full disk?)")
	}
	return true
}

// stored records that the message seq is in the stream and wakes Wait.
func (l *Log) stored(seq uint64) {
	l.seen(seq)
	l.gmu.Lock()
	close(l.grew)
	l.grew = make(chan struct{})
	l.gmu.Unlock()
}

// Open takes ownership of dir (created if needed), starts an embedded NATS server with
// JetStream storing its files under dir and syncing every write (or, with Options.URL,
// connects to an external JetStream instead), connects to it in process, creates or
// updates the stream, and loads the ids of appends within the dedupe window. It returns ErrLocked when dir has another owner, and an error when dir cannot
// be used or the server does not start.
func Open(ctx context.Context, dir string, opts Options) (*Log, error) {
	opts.defaults()
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("eventlog: directory: %w", err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("eventlog: directory: %w", err)
	}
	lock, err := lockDir(abs)
	if err != nil {
		return nil, err
	}
	l := &Log{opts: opts, dir: abs, lock: lock, writerID: nuid.Next(), dedupe: newDedupeIndex(opts.DedupeWindow), grew: make(chan struct{}), failed: make(chan struct{})}
	if err := l.start(ctx); err != nil {
		l.shutdown()
		return nil, err
	}
	l.parts = make([]*partition, opts.Partitions)
	for p := range l.parts {
		l.parts[p] = newPartition(l, p)
		l.wg.Add(1)
		go l.parts[p].run()
	}
	return l, nil
}

func lockDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, lockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("eventlog: lock: %w", err)
	}
	if err := flock.TryExclusive(f); err != nil {
		f.Close()
		if errors.Is(err, flock.ErrLocked) {
			return nil, fmt.Errorf("%w: %s", ErrLocked, path)
		}
		return nil, fmt.Errorf("eventlog: lock %s: %w", path, err)
	}
	return f, nil
}

// start runs the server (or connects to the external one), connects and creates the
// stream.
func (l *Log) start(ctx context.Context) error {
	var nc *nats.Conn
	var err error
	replicas := 1
	if l.opts.URL != "" {
		if nc, err = l.connectExternal(); err != nil {
			return err
		}
		replicas = max(l.opts.Replicas, 1)
	} else if nc, err = l.startEmbedded(); err != nil {
		return err
	}
	l.hmu.Lock()
	l.nc = nc
	l.hmu.Unlock()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("eventlog: jetstream: %w", err)
	}
	cfg := jetstream.StreamConfig{
		Name:        l.opts.Stream,
		Subjects:    []string{l.opts.SubjectPrefix + ".*"},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardNew,
		Replicas:    replicas,
		Duplicates:  l.opts.DedupeWindow,
		MaxMsgSize:  int32(l.opts.MaxMessageBytes + 64<<10),
		AllowDirect: true,
	}
	cfg.Metadata = map[string]string{partitionsKey: strconv.Itoa(l.opts.Partitions)}
	if old, err := js.Stream(ctx, cfg.Name); err == nil {
		if n := StreamPartitions(old.CachedInfo()); n != l.opts.Partitions {
			return fmt.Errorf("%w: stream %s was created with %d partitions, this log has %d (the partition of a message's events would change, and with it their order): keep %d, or start a new stream", ErrPartitions, cfg.Name, n, l.opts.Partitions, n)
		}
	} else if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("eventlog: stream %s: %w", cfg.Name, err)
	}
	st, err := js.CreateOrUpdateStream(ctx, cfg)
	if err != nil {
		return fmt.Errorf("eventlog: stream %s: %w", cfg.Name, err)
	}
	l.hmu.Lock()
	l.js, l.stream = js, st
	l.hmu.Unlock()
	l.seen(st.CachedInfo().State.LastSeq)
	if err := l.dedupe.load(ctx, l); err != nil {
		return err
	}
	return nil
}

// connectExternal connects to the external JetStream of Options.URL. The client
// reconnects by itself after a server or the network fails; publishes meanwhile time out
// and are retried (with the same Nats-Msg-Id), then answered as failed.
func (l *Log) connectExternal() (*nats.Conn, error) {
	opts := []nats.Option{nats.Name("mailtrail-eventlog"), nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond), nats.Timeout(5 * time.Second)}
	if l.opts.Creds != "" {
		opts = append(opts, nats.UserCredentials(l.opts.Creds))
	}
	opts = append(opts, l.opts.TLS.NATSOptions()...)
	nc, err := nats.Connect(l.opts.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("eventlog: connect to %s: %w", redactURL(l.opts.URL), err)
	}
	return nc, nil
}

// TLSFiles are the PEM files of a TLS connection to the servers. Empty fields are not
// used: without CA the system's authorities are trusted, without Cert no client
// certificate is sent.
type TLSFiles struct {
	// CA is a bundle of the certificate authorities that sign the servers' certificates.
	CA string
	// Cert and Key are a client certificate and its private key, for servers that verify
	// their clients (mutual TLS).
	Cert, Key string
}

// NATSOptions returns the nats.go options that use f.
func (f TLSFiles) NATSOptions() []nats.Option {
	var opts []nats.Option
	if f.CA != "" {
		opts = append(opts, nats.RootCAs(f.CA))
	}
	if f.Cert != "" {
		opts = append(opts, nats.ClientCert(f.Cert, f.Key))
	}
	return opts
}

// redactURL returns the URLs without their user information (credentials stay out of
// errors and logs).
func redactURL(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		if u, err := url.Parse(strings.TrimSpace(p)); err == nil && u.User != nil {
			u.User = nil
			parts[i] = u.String()
		}
	}
	return strings.Join(parts, ",")
}

// startEmbedded runs the embedded server on the log's directory and connects to it in
// process.
func (l *Log) startEmbedded() (*nats.Conn, error) {
	logger := &serverLogger{logf: l.opts.Logf, onStoreError: l.storeFailed}
	sopts := &server.Options{
		ServerName: "mailtrail-eventlog",
		JetStream:  true,
		StoreDir:   l.dir,
		SyncAlways: true,
		NoSigs:     true,
		// A group message plus headers must fit; the server refuses larger ones.
		MaxPayload: int32(l.opts.MaxMessageBytes + 64<<10),
		DontListen: l.opts.Listen == "",
	}
	if l.opts.Listen != "" {
		host, port, err := net.SplitHostPort(l.opts.Listen)
		if err != nil {
			return nil, fmt.Errorf("eventlog: listen address: %w", err)
		}
		p, err := strconv.Atoi(port)
		if err != nil {
			return nil, fmt.Errorf("eventlog: listen port: %w", err)
		}
		if p == 0 {
			p = server.RANDOM_PORT
		}
		sopts.Host, sopts.Port = host, p
	}
	srv, err := server.NewServer(sopts)
	if err != nil {
		return nil, fmt.Errorf("eventlog: server: %w", err)
	}
	srv.SetLogger(logger, false, false)
	l.hmu.Lock()
	l.srv = srv
	l.hmu.Unlock()
	srv.Start()
	if !srv.ReadyForConnections(30 * time.Second) {
		return nil, fmt.Errorf("eventlog: server not ready: %s", logger.lastError())
	}
	if !srv.JetStreamEnabled() {
		return nil, fmt.Errorf("eventlog: jetstream did not start: %s", logger.lastError())
	}
	nc, err := nats.Connect("", nats.InProcessServer(srv), nats.Name("mailtrail-eventlog"), nats.MaxReconnects(-1))
	if err != nil {
		return nil, fmt.Errorf("eventlog: connect: %w", err)
	}
	return nc, nil
}

// Dir returns the directory the log owns.
func (l *Log) Dir() string { return l.dir }

// partitionsKey is the stream's metadata that records its number of partitions.
const partitionsKey = "mailtrail_partitions"

// ErrPartitions is returned by Open when the stream exists with another number of
// partitions than Options.Partitions.
var ErrPartitions = errors.New("eventlog: the stream's number of partitions differs")

// StreamPartitions returns the number of partitions a stream was created with (1 for a
// stream created before partitions were recorded).
func StreamPartitions(info *jetstream.StreamInfo) int {
	if info != nil {
		if n, err := strconv.Atoi(info.Config.Metadata[partitionsKey]); err == nil && n > 0 {
			return n
		}
	}
	return 1
}

// Partitions returns the number of partitions Append accepts.
func (l *Log) Partitions() int { return l.opts.Partitions }

// Close stops taking appends, publishes those already queued (their callers get their
// positions), closes the connection and shuts the server down, then releases the
// directory. It returns the first error of these steps.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	l.closed = true
	for _, p := range l.parts {
		close(p.reqs)
	}
	l.mu.Unlock()
	l.wg.Wait()
	return l.shutdown()
}

// shutdown drains the connection, stops the server and unlocks the directory.
func (l *Log) shutdown() error {
	var first error
	l.recoverMu.Lock() // no restart meanwhile
	defer l.recoverMu.Unlock()
	l.hmu.RLock()
	nc, srv := l.nc, l.srv
	l.hmu.RUnlock()
	if nc != nil {
		if err := nc.Drain(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
			first = fmt.Errorf("eventlog: drain: %w", err)
		}
		for !nc.IsClosed() {
			time.Sleep(time.Millisecond)
		}
	}
	if srv != nil {
		srv.Shutdown()
		srv.WaitForShutdown()
	}
	if l.lock != nil {
		if err := l.lock.Close(); err != nil && first == nil {
			first = fmt.Errorf("eventlog: unlock: %w", err)
		}
	}
	return first
}

// ClientURL returns the URL other NATS clients reach the embedded server at, or "" when
// Options.Listen was empty.
func (l *Log) ClientURL() string {
	if l.opts.Listen == "" {
		return ""
	}
	l.hmu.RLock()
	defer l.hmu.RUnlock()
	return l.srv.ClientURL()
}

// Last returns the position of the last record in the log, or the zero Position when the
// log is empty.
func (l *Log) Last(ctx context.Context) (Position, error) {
	if l.isClosed() {
		return Position{}, ErrClosed
	}
	_, stream := l.handles()
	info, err := stream.Info(ctx)
	if err != nil {
		return Position{}, fmt.Errorf("eventlog: stream info: %w", err)
	}
	if info.State.LastSeq == 0 || info.State.Msgs == 0 {
		return Position{}, nil
	}
	msg, err := stream.GetMsg(ctx, info.State.LastSeq)
	if err != nil {
		return Position{}, fmt.Errorf("eventlog: last message: %w", err)
	}
	appends, _, err := decodeGroupHeader(msg.Data)
	if err != nil {
		return Position{}, fmt.Errorf("eventlog: message %d: %w", msg.Sequence, err)
	}
	n := 0
	for _, a := range appends {
		n += a.n
	}
	return Position{Seq: msg.Sequence, Index: max(n-1, 0)}, nil
}

func (l *Log) isClosed() bool {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.closed
}

// PurgeBefore removes every message whose sequence is below seq from the stream (the
// caller knows they were applied and are past the log's retention). The stream keeps its
// last sequence: later appends continue after it, and Head still answers it.
func (l *Log) PurgeBefore(ctx context.Context, seq uint64) error {
	if l.isClosed() {
		return ErrClosed
	}
	if seq <= 1 {
		return nil
	}
	_, stream := l.handles()
	if err := stream.Purge(ctx, jetstream.WithPurgeSequence(seq)); err != nil {
		return fmt.Errorf("eventlog: purge before %d: %w", seq, err)
	}
	return nil
}

// FirstSeq returns the sequence of the oldest message the stream holds (the last
// sequence + 1 when it holds none).
func (l *Log) FirstSeq(ctx context.Context) (uint64, error) {
	if l.isClosed() {
		return 0, ErrClosed
	}
	_, stream := l.handles()
	info, err := stream.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("eventlog: stream info: %w", err)
	}
	return info.State.FirstSeq, nil
}
