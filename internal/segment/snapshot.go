package segment

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/mailtrail/mailtrail"
)

// Position is what the store must still say for a snapshot of the index to be valid: its
// last event id and its generation (which the store bumps whenever it changes data
// outside the pipeline's change-sets: an erasure, a retention delete of its last event;
// the index forgets what other retention deletes remove by itself, see Horizon).
type Position struct {
	LastEventID int64
	Generation  int64
}

// The snapshot format: a header (magic, version, position), the body, then the sha256 of
// header and body. A file whose checksum does not match is refused before anything of it
// is used.
const (
	snapMagic   = "MTSEGIDX"
	snapVersion = 2 // 2: the first day kept (Horizon), and no events dated after their arrival
)

// Errors of LoadSnapshot: the file is of another version, names another position, or is
// torn or corrupt. Whatever the error, the index is unchanged.
var (
	ErrSnapshotVersion = errors.New("segment snapshot: unknown version")
	ErrSnapshotStale   = errors.New("segment snapshot: the store changed since it was written")
	ErrSnapshotCorrupt = errors.New("segment snapshot: corrupt or truncated")
)

// Limits a corrupt file cannot get past to make a decoder allocate without end. Counts
// are also checked against the bytes left in the file when the reader tells its size
// (an *os.File, a bytes.Reader); the customer table is then preallocated up to
// snapMaxPreallocCustomers, and a day's log whole.
const (
	snapMaxString            = 1 << 20
	snapMaxPrealloc          = 1 << 16
	snapMaxPreallocCustomers = 1 << 22
)

// WriteSnapshot writes the whole index, at position pos, to w. pos must be what the index
// holds: every event up to pos.LastEventID applied, none after. Either the caller paused
// the index at pos (Pause; serve does, inside the publisher's commit order, while
// commits go on) or nothing is committed meanwhile and WriteSnapshot pauses it itself.
// Queries keep answering while it writes (an organization is locked for writing only
// while the tails of its logs are merged). It fails when the index is not ready.
func (x *Index) WriteSnapshot(w io.Writer, pos Position) error {
	x.mu.RLock()
	ready, failed := x.ready, x.failed
	x.mu.RUnlock()
	if !ready || failed != nil {
		return errors.New("segment snapshot: the index is not ready")
	}
	if !x.paused.Load() {
		resume := x.Pause()
		defer resume()
	}
	h := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(w, h), 1<<16)
	e := &snapEncoder{w: bw}
	e.raw([]byte(snapMagic))
	e.u32(snapVersion)
	e.i64(pos.LastEventID)
	e.i64(pos.Generation)
	x.mu.RLock()
	ids := slices.Sorted(maps.Keys(x.orgs))
	orgs := make([]*Org, len(ids))
	for i, id := range ids {
		orgs[i] = x.orgs[id]
	}
	x.mu.RUnlock()
	e.uv(uint64(len(ids)))
	for i, id := range ids {
		e.str(id)
		o := orgs[i]
		o.mu.Lock() // the logs' tails are merged in; nothing else writes while paused
		for _, l := range o.logs {
			l.merge()
		}
		o.mu.Unlock()
		o.mu.RLock()
		e.org(o)
		o.mu.RUnlock()
	}
	if e.err != nil {
		return fmt.Errorf("segment snapshot: %w", e.err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("segment snapshot: %w", err)
	}
	if _, err := w.Write(h.Sum(nil)); err != nil {
		return fmt.Errorf("segment snapshot: %w", err)
	}
	return nil
}

// LoadSnapshot reads a snapshot written by WriteSnapshot and, when the whole file checks
// out and the store is where it was or past it with the same generation, makes it the
// index: the events committed since (after the snapshot's LastEventID up to want's) are
// read from the store and applied, with the labels the clicks of their messages have now
// (SegmentTail), and the index is ready at once, as after Build. Otherwise it returns
// ErrSnapshotVersion, ErrSnapshotStale (another generation: an erasure or a retention
// delete of the store's last event since; or a store behind the snapshot),
// ErrSnapshotCorrupt, or the reader's or the store's error, and the index is unchanged:
// Build must then run. It returns how many events of the tail it applied.
func (x *Index) LoadSnapshot(ctx context.Context, r io.Reader, want Position) (int, error) {
	d := newSnapDecoder(r)
	defer d.close()
	var magic [len(snapMagic)]byte
	d.raw(magic[:])
	if d.err != nil || string(magic[:]) != snapMagic {
		return 0, d.corrupt()
	}
	if v := d.u32(); d.err != nil {
		return 0, d.corrupt()
	} else if v != snapVersion {
		return 0, fmt.Errorf("%w %d (this build reads %d)", ErrSnapshotVersion, v, snapVersion)
	}
	got := Position{LastEventID: d.i64(), Generation: d.i64()}
	if d.err != nil {
		return 0, d.corrupt()
	}
	if got.Generation != want.Generation || got.LastEventID > want.LastEventID {
		return 0, fmt.Errorf("%w (snapshot at event %d, generation %d; store at %d, %d)", ErrSnapshotStale,
			got.LastEventID, got.Generation, want.LastEventID, want.Generation)
	}
	if err := x.readHorizons(ctx); err != nil {
		return 0, err
	}
	// The events since are read from the store while the file is decoded.
	tail := x.readTail(ctx, got.LastEventID, want.LastEventID)
	defer tail.stop()
	orgs := map[string]*Org{}
	n := d.count(1)
	for i := uint64(0); i < n && d.err == nil; i++ {
		id := d.str()
		if _, dup := orgs[id]; dup {
			d.fail()
		}
		orgs[id] = d.org()
	}
	if d.err != nil {
		return 0, d.corrupt()
	}
	// What is left must be the checksum, exactly, of all that came before.
	if d.fill(sha256.Size+1) || d.n-d.pos != sha256.Size || d.rerr != nil {
		return 0, d.corrupt()
	}
	trailer := slices.Clone(d.buf[d.pos:d.n])
	if h := d.close(); !bytes.Equal(trailer, h.sum) || !bytes.Equal(trailer, h.last) {
		return 0, ErrSnapshotCorrupt
	}
	applied, err := tail.apply(orgs)
	if err != nil {
		return 0, fmt.Errorf("segment snapshot: the events since it was written: %w", err)
	}
	now := x.now()
	for id, o := range orgs {
		o.forget(x.horizon(id).FirstDay(now))
	}
	x.install(orgs, want.LastEventID)
	return applied, nil
}

// corrupt is the error of a file that could not be decoded: the reader's, or
// ErrSnapshotCorrupt.
func (d *snapDecoder) corrupt() error {
	if d.rerr != nil {
		return fmt.Errorf("segment snapshot: %w", d.rerr)
	}
	return ErrSnapshotCorrupt
}

// tailBatch is a run of one organization's events read by SegmentTail; end marks the
// end of its events, err a failed read (the last message).
type tailBatch struct {
	org  string
	evs  []TailEvent
	orgs []string // the first message: every organization of the store
	end  bool
	err  error
}

// Up to tailAhead events (tailBatchLen per message) are read ahead of their application.
const (
	tailBatchLen = 4096
	tailAhead    = 1 << 20
)

// tailReader reads what the store committed after a snapshot, in a goroutine.
type tailReader struct {
	ctx      context.Context
	ch       chan tailBatch
	cancel   context.CancelFunc
	done     chan struct{}
	finished bool // set before ch is closed: every organization was read
}

// readTail starts reading, for every organization, the events of after < ID ≤ upTo and
// the older clicks of their messages (SegmentTail), up to tailAhead events ahead of
// apply. Nothing is read when after ≥ upTo.
func (x *Index) readTail(ctx context.Context, after, upTo int64) *tailReader {
	ctx, cancel := context.WithCancel(ctx)
	t := &tailReader{ctx: ctx, ch: make(chan tailBatch, tailAhead/tailBatchLen), cancel: cancel, done: make(chan struct{})}
	if after >= upTo {
		t.finished = true
		close(t.ch)
		close(t.done)
		return t
	}
	go func() {
		defer close(t.done)
		defer close(t.ch)
		send := func(b tailBatch) bool {
			select {
			case t.ch <- b:
				return true
			case <-ctx.Done():
				return false
			}
		}
		list, err := x.src.Orgs(ctx)
		if err != nil {
			send(tailBatch{err: fmt.Errorf("segment: organizations: %w", err)})
			return
		}
		ids := make([]string, len(list))
		for i, org := range list {
			ids[i] = org.ID
		}
		if !send(tailBatch{orgs: ids}) {
			return
		}
		for _, id := range ids {
			b := tailBatch{org: id, evs: make([]TailEvent, 0, tailBatchLen)}
			ok := true
			err := x.src.SegmentTail(ctx, id, after, upTo, func(e *TailEvent) {
				if !ok {
					return
				}
				b.evs = append(b.evs, *e)
				if len(b.evs) == tailBatchLen {
					ok = send(b)
					b.evs = make([]TailEvent, 0, tailBatchLen)
				}
			})
			if !ok {
				return
			}
			b.end, b.err = true, err
			if !send(b) || err != nil {
				return
			}
		}
		t.finished = true
	}()
	return t
}

// stop ends the reading and waits for it.
func (t *tailReader) stop() {
	t.cancel()
	<-t.done
}

// apply applies to orgs (an index at the tail's after) what the store committed up to
// its upTo: the events, then the current labels of the older clicks of their messages
// (a click's label changes only with a later event of its message: a click near it, a
// delivery, a send). Organizations created since start empty. It returns how many
// events it applied.
func (t *tailReader) apply(orgs map[string]*Org) (int, error) {
	var (
		ta    *tailApplier
		total int
	)
	for b := range t.ch {
		if b.err != nil {
			return 0, b.err
		}
		for _, id := range b.orgs {
			if orgs[id] == nil {
				orgs[id] = newOrg()
			}
		}
		if b.org == "" {
			continue
		}
		if ta == nil {
			o := orgs[b.org]
			if o == nil {
				o = newOrg()
				orgs[b.org] = o
			}
			ta = newTailApplier(o)
		}
		ta.add(b.evs)
		if b.end {
			total += ta.finish()
			ta = nil
		}
	}
	if !t.finished {
		if err := t.ctx.Err(); err != nil {
			return 0, err
		}
		return 0, errors.New("segment: reading the store's tail ended early")
	}
	return total, nil
}

// tailApplier applies one organization's tail (SegmentTail's events, in order, in any
// number of adds) to o: the events at once, the current labels of the clicks the tail
// restates at finish.
type tailApplier struct {
	o          *Org
	order      []ckey
	now        map[ckey]int // humans among the clicks at a key, as the tail tells them
	relabelled map[ckey]bool
	total      int
}

// ckey is what the index keys a click on; the tail's own clicks count too (they share
// keys with older ones only when a click repeats at the same millisecond).
type ckey struct {
	cust, camp, link uint32
	at               int64
}

func newTailApplier(o *Org) *tailApplier {
	return &tailApplier{o: o, now: map[ckey]int{}, relabelled: map[ckey]bool{}}
}

func (ta *tailApplier) add(evs []TailEvent) {
	o := ta.o
	for i := range evs {
		e := &evs[i]
		cust, camp := o.customer(e.Customer), o.campaign(e.Campaign)
		var link uint32
		if e.Link != "" {
			link = o.link(e.Link)
		}
		if !e.Relabel {
			o.add(cust, camp, link, e.Type, e.At, e.Human)
			ta.total++
		}
		if e.Type != mailtrail.EventClicked {
			continue
		}
		k := ckey{cust, camp, link, e.At}
		if _, seen := ta.now[k]; !seen {
			ta.now[k] = 0
			ta.order = append(ta.order, k)
		}
		if e.Human {
			ta.now[k]++
		}
		if e.Relabel {
			ta.relabelled[k] = true
		}
	}
}

// finish sets the labels of the restated clicks and returns how many events it added.
func (ta *tailApplier) finish() int {
	for _, k := range ta.order {
		if ta.relabelled[k] {
			ta.o.setHumans(k.cust, k.camp, k.link, k.at, ta.now[k])
		}
	}
	return ta.total
}

// Follow applies to the index what the store committed for the organizations orgs since
// the index read each last, up to upTo (at most LastEventID read after the commits): the
// events and the labels the older clicks of their messages have now (SegmentTail), as a
// snapshot's tail is applied. An index whose store other processes write (an API node of
// the cluster mode: the workers commit, nothing is observed) follows it this way instead
// of Observe, with the organizations whose events it saw. Each organization's tail is
// read whole before any of it is applied. It does nothing before the index is built,
// and returns how many events it applied.
func (x *Index) Follow(ctx context.Context, orgs []string, upTo int64) (int, error) {
	if !x.Ready() {
		return 0, nil
	}
	x.fmu.Lock()
	defer x.fmu.Unlock()
	total := 0
	for _, id := range orgs {
		x.mu.RLock()
		after := x.upTo[id]
		x.mu.RUnlock()
		if after >= upTo {
			continue
		}
		var evs []TailEvent
		if err := x.src.SegmentTail(ctx, id, after, upTo, func(e *TailEvent) { evs = append(evs, *e) }); err != nil {
			return total, fmt.Errorf("segment: follow %s: %w", id, err)
		}
		o := x.org(id)
		o.mu.Lock()
		ta := newTailApplier(o)
		ta.add(evs)
		total += ta.finish()
		o.mu.Unlock()
		x.mu.Lock()
		x.upTo[id] = upTo
		x.mu.Unlock()
	}
	return total, nil
}

// Renamed gives the erased customer oldID its new id now, as Rename does later, for an
// index that follows a store other processes write (an API node: the erasure may have
// been another node's). It returns false when it cannot: the index holds newID already
// (a tail read after the erasure named the customer by its new id while the index held
// the old one), and only a build gives the right index then. A customer the index does
// not hold under oldID needs nothing. It applies what was observed first, and does
// nothing (true) before the index is built.
func (x *Index) Renamed(orgID, oldID, newID string) bool {
	if !x.Ready() {
		return true
	}
	x.Flush()
	x.fmu.Lock()
	defer x.fmu.Unlock()
	x.mu.RLock()
	o := x.orgs[orgID]
	x.mu.RUnlock()
	if o == nil {
		return true
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, ok := o.byExt[oldID]; !ok {
		return true
	}
	if _, ok := o.byExt[newID]; ok {
		return false
	}
	o.rename(oldID, newID)
	return true
}

// install makes orgs the index, built up to event lastID, and marks it ready.
func (x *Index) install(orgs map[string]*Org, lastID int64) {
	x.mu.Lock()
	x.orgs = orgs
	x.upTo = map[string]int64{}
	for id := range orgs {
		x.upTo[id] = lastID
	}
	x.ready = true
	x.mu.Unlock()
	x.pmu.Lock()
	x.live = true
	x.pmu.Unlock()
	x.Flush()
}

type snapEncoder struct {
	w   *bufio.Writer
	err error
	buf [binary.MaxVarintLen64]byte
}

func (e *snapEncoder) raw(b []byte) {
	if e.err == nil {
		_, e.err = e.w.Write(b)
	}
}
func (e *snapEncoder) u32(v uint32) { e.raw(binary.LittleEndian.AppendUint32(e.buf[:0], v)) }
func (e *snapEncoder) i64(v int64)  { e.raw(binary.LittleEndian.AppendUint64(e.buf[:0], uint64(v))) }
func (e *snapEncoder) uv(v uint64)  { e.raw(binary.AppendUvarint(e.buf[:0], v)) }
func (e *snapEncoder) sv(v int64)   { e.raw(binary.AppendVarint(e.buf[:0], v)) }
func (e *snapEncoder) str(s string) {
	e.uv(uint64(len(s)))
	if e.err == nil {
		_, e.err = e.w.WriteString(s)
	}
}
func (e *snapEncoder) bitmap(b *roaring.Bitmap) {
	e.uv(b.GetSerializedSizeInBytes())
	if e.err == nil {
		_, e.err = b.WriteTo(e.w)
	}
}

// org writes one organization; the caller holds o.mu for writing.
func (e *snapEncoder) org(o *Org) {
	e.sv(int64(o.minDay))
	e.sv(int64(o.maxDay))
	e.sv(int64(o.first))
	e.sv(o.events)
	e.uv(uint64(len(o.ext)))
	for _, s := range o.ext {
		e.str(s)
	}
	named := func(m map[string]uint32) {
		e.uv(uint64(len(m)))
		for _, k := range slices.Sorted(maps.Keys(m)) {
			e.str(k)
			e.uv(uint64(m[k]))
		}
	}
	named(o.camps)
	named(o.links)
	e.uv(uint64(len(o.pairList)))
	for _, p := range o.pairList {
		e.uv(uint64(p[0]))
		e.uv(uint64(p[1]))
	}
	e.bitmap(o.universe)
	e.uv(uint64(len(o.series)))
	for k, s := range o.series {
		e.uv(uint64(k.typ))
		e.uv(uint64(boolByte(k.human)))
		e.uv(uint64(k.camp))
		e.uv(uint64(k.link))
		e.uv(uint64(len(s)))
		for day, b := range s {
			e.sv(int64(day))
			e.bitmap(b)
		}
	}
	e.uv(uint64(len(o.logs)))
	for k, l := range o.logs {
		l.merge()
		e.uv(uint64(k.typ))
		e.sv(int64(k.day))
		e.uv(uint64(len(l.sorted)))
		for _, en := range l.sorted {
			e.u32(en.cust)
			e.u32(en.off)
			e.u32(en.ref)
		}
	}
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// The decoder reads the file in chunks of snapChunk bytes into a few reused buffers; a
// goroutine hashes each chunk once it is decoded, on the other core, while decoding goes
// on.
// (variables: a test reads through tiny chunks).
var (
	snapChunk   = 1 << 20
	snapBuffers = 8
)

// snapDecoder decodes the header and body from chunks of the file and has every byte
// hashed, in order, exactly once: the bytes of a chunk go to the hasher when the decoder
// leaves it (what it had not decoded yet is copied to the next chunk, already counted).
type snapDecoder struct {
	r      io.Reader
	buf    []byte // the current chunk: buf[pos:n] not decoded yet
	pos, n int
	hashed int   // buf[:hashed] was handed to the hasher with the previous chunk
	eof    bool  // r has no more bytes
	rerr   error // r failed (not io.EOF)
	left   int64 // bytes of the file not yet read into a chunk, when r tells its size; -1 unknown
	err    error

	nbufs int
	free  chan []byte
	toH   chan hashPart
	sum   chan hashResult
}

// hashPart is buf[from:to], to be hashed; buf is reused once it is.
type hashPart struct {
	buf      []byte
	from, to int
}

// hashResult is the hasher's answer: the sha256 of every byte but the last 32, and the
// last 32 (the trailer, when the file is whole).
type hashResult struct {
	sum, last []byte
}

func newSnapDecoder(r io.Reader) *snapDecoder {
	nbufs := max(snapBuffers, 2) // the current chunk is handed over after the next is taken
	d := &snapDecoder{r: r, left: -1, free: make(chan []byte, nbufs), toH: make(chan hashPart, nbufs), sum: make(chan hashResult, 1)}
	if s, ok := r.(interface{ Stat() (fs.FileInfo, error) }); ok {
		if fi, err := s.Stat(); err == nil && fi.Mode().IsRegular() {
			d.left = fi.Size()
		}
	} else if l, ok := r.(interface{ Len() int }); ok {
		d.left = int64(l.Len())
	}
	go hashChunks(d.toH, d.free, d.sum)
	return d
}

// hashChunks hashes the chunks it is given but the stream's last sha256.Size bytes, and
// returns the buffers for reuse.
func hashChunks(in <-chan hashPart, free chan<- []byte, out chan<- hashResult) {
	h := sha256.New()
	var held [2 * sha256.Size]byte // the stream's last bytes, not hashed yet
	nh := 0
	for p := range in {
		c := p.buf[p.from:p.to]
		if len(c) >= sha256.Size {
			h.Write(held[:nh])
			h.Write(c[:len(c)-sha256.Size])
			nh = copy(held[:], c[len(c)-sha256.Size:])
		} else {
			nh += copy(held[nh:], c)
			if k := nh - sha256.Size; k > 0 {
				h.Write(held[:k])
				nh = copy(held[:], held[k:nh])
			}
		}
		if len(p.buf) == snapChunk {
			select {
			case free <- p.buf:
			default:
			}
		}
	}
	out <- hashResult{sum: h.Sum(nil), last: slices.Clone(held[:nh])}
}

// close hands the current chunk to the hasher, ends it, and returns its result.
func (d *snapDecoder) close() hashResult {
	if d.toH == nil {
		return hashResult{}
	}
	if d.buf != nil {
		d.toH <- hashPart{d.buf, d.hashed, d.n}
		d.buf = nil
	}
	close(d.toH)
	d.toH = nil
	return <-d.sum
}

// chunk returns a buffer of at least size bytes.
func (d *snapDecoder) chunk(size int) []byte {
	if size > snapChunk {
		return make([]byte, size)
	}
	select {
	case b := <-d.free:
		return b
	default:
	}
	if d.nbufs < cap(d.free) {
		d.nbufs++
		return make([]byte, snapChunk)
	}
	return <-d.free
}

// fill makes at least k undecoded bytes available in buf[pos:n] and says whether it
// could; it reads as much as a chunk holds.
func (d *snapDecoder) fill(k int) bool {
	if d.n-d.pos >= k {
		return true
	}
	if d.eof || d.err != nil {
		return false
	}
	nb := d.chunk(max(snapChunk, k))
	rest := copy(nb, d.buf[d.pos:d.n])
	if d.buf != nil {
		d.toH <- hashPart{d.buf, d.hashed, d.n}
	}
	d.buf, d.pos, d.n, d.hashed = nb, 0, rest, rest
	for d.n < len(d.buf) {
		m, err := d.r.Read(d.buf[d.n:])
		d.n += m
		if d.left >= 0 {
			d.left -= int64(m)
		}
		if err == io.EOF {
			d.eof = true
			break
		}
		if err != nil {
			d.eof, d.rerr = true, err
			break
		}
	}
	return d.n-d.pos >= k
}

func (d *snapDecoder) fail() {
	if d.err == nil {
		d.err = ErrSnapshotCorrupt
	}
}

// rest is how many bytes of the file are not decoded yet, or -1 when r did not tell its
// size.
func (d *snapDecoder) rest() int64 {
	if d.left < 0 {
		return -1
	}
	return d.left + int64(d.n-d.pos)
}

// prealloc is how many of n items (a count the rest of the file holds) a slice or map
// may be made for up front: n up to limit when the file's size is known, else up to
// snapMaxPrealloc.
func (d *snapDecoder) prealloc(n uint64, limit int) int {
	if d.left < 0 {
		limit = snapMaxPrealloc
	}
	return int(min(n, uint64(limit)))
}

// bytes returns the next k bytes, valid until the next read; nil when the file ends.
func (d *snapDecoder) bytes(k int) []byte {
	if d.err != nil || !d.fill(k) {
		d.fail()
		return nil
	}
	b := d.buf[d.pos : d.pos+k : d.pos+k]
	d.pos += k
	return b
}

func (d *snapDecoder) raw(b []byte) {
	if src := d.bytes(len(b)); src != nil {
		copy(b, src)
	}
}

func (d *snapDecoder) u32() uint32 {
	if b := d.bytes(4); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

func (d *snapDecoder) i64() int64 {
	if b := d.bytes(8); b != nil {
		return int64(binary.LittleEndian.Uint64(b))
	}
	return 0
}

func (d *snapDecoder) uv() uint64 {
	if d.err != nil {
		return 0
	}
	d.fill(binary.MaxVarintLen64) // near the end of the file fewer may be there
	v, k := binary.Uvarint(d.buf[d.pos:d.n])
	if k <= 0 {
		d.fail()
		return 0
	}
	d.pos += k
	return v
}

// u32v reads a uvarint that must fit 32 bits.
func (d *snapDecoder) u32v() uint32 {
	v := d.uv()
	if v > 1<<32-1 {
		d.fail()
	}
	return uint32(v)
}

func (d *snapDecoder) sv() int64 {
	if d.err != nil {
		return 0
	}
	d.fill(binary.MaxVarintLen64)
	v, k := binary.Varint(d.buf[d.pos:d.n])
	if k <= 0 {
		d.fail()
		return 0
	}
	d.pos += k
	return v
}

func (d *snapDecoder) i32v() int32 {
	v := d.sv()
	if v < -1<<31 || v > 1<<31-1 {
		d.fail()
	}
	return int32(v)
}

// count reads a length: of items of at least size bytes each in the file. A count the
// rest of the file cannot hold is corrupt.
func (d *snapDecoder) count(size int) uint64 {
	v := d.uv()
	if rest := d.rest(); v > 1<<40 || rest >= 0 && v > uint64(rest)/uint64(size) {
		d.fail()
		return 0
	}
	return v
}

func (d *snapDecoder) str() string {
	n := d.uv()
	if n > snapMaxString {
		d.fail()
	}
	if d.err != nil {
		return ""
	}
	return string(d.bytes(int(n)))
}

func (d *snapDecoder) bitmap() *roaring.Bitmap {
	n := d.uv()
	if rest := d.rest(); n > 1<<34 || rest >= 0 && n > uint64(rest) {
		d.fail()
	}
	b := roaring.New()
	if d.err != nil {
		return b
	}
	buf := d.bytes(int(n))
	if buf == nil || !readBitmap(b, buf) {
		d.fail()
	}
	return b
}

// readBitmap decodes buf into b (a copy: buf is not referenced); a corrupt buf is false,
// not a panic.
func readBitmap(b *roaring.Bitmap, buf []byte) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	n, err := b.ReadFrom(bytes.NewReader(buf))
	return err == nil && n == int64(len(buf))
}

// entries reads m log entries (12 bytes each) into l.sorted, checking each names a
// customer of o and a campaign, or for clicks a (campaign, link) pair, of o.
func (d *snapDecoder) entries(o *Org, typ mailtrail.EventType, m uint64, l *dayLog) {
	l.sorted = make([]entry, 0, d.prealloc(m, 1<<40))
	ncust, maxRef := uint32(len(o.ext)), uint32(1<<32-1)
	if typ == mailtrail.EventClicked {
		maxRef = uint32(min(len(o.pairList), 1<<32-1))
	}
	bad := false
	for left := m; left > 0 && d.err == nil; {
		if !d.fill(12) {
			d.fail()
			break
		}
		k := min(uint64((d.n-d.pos)/12), left)
		b := d.buf[d.pos : d.pos+int(k)*12]
		for i := 0; i+12 <= len(b); i += 12 {
			en := entry{binary.LittleEndian.Uint32(b[i:]), binary.LittleEndian.Uint32(b[i+4:]), binary.LittleEndian.Uint32(b[i+8:])}
			bad = bad || en.cust >= ncust || en.ref == 0 || en.ref > maxRef
			l.sorted = append(l.sorted, en)
		}
		d.pos += len(b)
		left -= k
	}
	if bad {
		d.fail()
	}
}

func (d *snapDecoder) org() *Org {
	o := newOrg()
	o.minDay, o.maxDay, o.first, o.events = d.i32v(), d.i32v(), d.i32v(), d.sv()
	n := d.count(1)
	o.ext = make([]string, 0, d.prealloc(n, snapMaxPreallocCustomers))
	o.byExt = make(map[string]uint32, d.prealloc(n, snapMaxPreallocCustomers))
	for i := uint64(0); i < n && d.err == nil; i++ {
		s := d.str()
		if _, dup := o.byExt[s]; dup {
			d.fail()
		}
		o.byExt[s] = uint32(len(o.ext))
		o.ext = append(o.ext, s)
	}
	named := func(m map[string]uint32) {
		n := d.count(2)
		seen := map[uint32]bool{}
		for i := uint64(0); i < n && d.err == nil; i++ {
			k, v := d.str(), d.u32v()
			if v == 0 || v > uint32(n) || seen[v] {
				d.fail()
			}
			seen[v] = true
			m[k] = v
		}
	}
	named(o.camps)
	named(o.links)
	n = d.count(2)
	for i := uint64(0); i < n && d.err == nil; i++ {
		p := [2]uint32{d.u32v(), d.u32v()}
		o.pairList = append(o.pairList, p)
		o.pairs[p] = uint32(len(o.pairList))
	}
	o.universe = d.bitmap()
	n = d.count(5)
	for i := uint64(0); i < n && d.err == nil; i++ {
		typ := d.u32v()
		human := d.u32v()
		k := skey{typ: mailtrail.EventType(typ), human: human == 1, camp: d.u32v(), link: d.u32v()}
		if typ > 255 || human > 1 || !k.typ.Valid() {
			d.fail()
		}
		days := d.count(2)
		s := make(map[int32]*roaring.Bitmap, d.prealloc(days, snapMaxPrealloc))
		for j := uint64(0); j < days && d.err == nil; j++ {
			day := d.i32v()
			s[day] = d.bitmap()
		}
		o.series[k] = s
	}
	n = d.count(3)
	for i := uint64(0); i < n && d.err == nil; i++ {
		typ := d.u32v()
		k := lkey{typ: mailtrail.EventType(typ), day: d.i32v()}
		if typ > 255 || !k.typ.Valid() {
			d.fail()
		}
		l := &dayLog{}
		d.entries(o, k.typ, d.count(12), l)
		o.logs[k] = l
	}
	return o
}
