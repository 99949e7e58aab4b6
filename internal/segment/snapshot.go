package segment

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"maps"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/mailtrail/mailtrail"
)

// Position is what the store must still say for a snapshot of the index to be valid: its
// last event id and its generation (which the store bumps whenever it changes data
// outside the pipeline's change-sets: an erasure, a retention delete).
type Position struct {
	LastEventID int64
	Generation  int64
}

// The snapshot format: a header (magic, version, position), the body, then the sha256 of
// header and body. A file whose checksum does not match is refused before anything of it
// is used.
const (
	snapMagic   = "MTSEGIDX"
	snapVersion = 1
)

// Errors of LoadSnapshot: the file is of another version, names another position, or is
// torn or corrupt. Whatever the error, the index is unchanged.
var (
	ErrSnapshotVersion = errors.New("segment snapshot: unknown version")
	ErrSnapshotStale   = errors.New("segment snapshot: the store changed since it was written")
	ErrSnapshotCorrupt = errors.New("segment snapshot: corrupt or truncated")
)

// Limits a corrupt file cannot get past to make a decoder allocate without end.
const (
	snapMaxString   = 1 << 20
	snapMaxPrealloc = 1 << 16
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
// delete since; or a store behind the snapshot), ErrSnapshotCorrupt, or the reader's or
// the store's error, and the index is unchanged: Build must then run. It returns how
// many events of the tail it applied.
func (x *Index) LoadSnapshot(ctx context.Context, r io.Reader, want Position) (int, error) {
	d := &snapDecoder{br: bufio.NewReaderSize(r, 1<<16), h: sha256.New()}
	var magic [len(snapMagic)]byte
	d.raw(magic[:])
	if d.err != nil || string(magic[:]) != snapMagic {
		return 0, ErrSnapshotCorrupt
	}
	if v := d.u32(); d.err != nil {
		return 0, ErrSnapshotCorrupt
	} else if v != snapVersion {
		return 0, fmt.Errorf("%w %d (this build reads %d)", ErrSnapshotVersion, v, snapVersion)
	}
	got := Position{LastEventID: d.i64(), Generation: d.i64()}
	if d.err != nil {
		return 0, ErrSnapshotCorrupt
	}
	if got.Generation != want.Generation || got.LastEventID > want.LastEventID {
		return 0, fmt.Errorf("%w (snapshot at event %d, generation %d; store at %d, %d)", ErrSnapshotStale,
			got.LastEventID, got.Generation, want.LastEventID, want.Generation)
	}
	orgs := map[string]*Org{}
	n := d.count()
	for i := uint64(0); i < n && d.err == nil; i++ {
		id := d.str()
		if _, dup := orgs[id]; dup {
			d.fail()
		}
		orgs[id] = d.org()
	}
	if d.err != nil {
		return 0, ErrSnapshotCorrupt
	}
	var trailer [sha256.Size]byte // not hashed: read from under the decoder
	if _, err := io.ReadFull(d.br, trailer[:]); err != nil || !bytes.Equal(trailer[:], d.h.Sum(nil)) {
		return 0, ErrSnapshotCorrupt
	}
	if _, err := d.br.ReadByte(); err != io.EOF {
		return 0, ErrSnapshotCorrupt
	}
	applied, err := x.catchUp(ctx, orgs, got.LastEventID, want.LastEventID)
	if err != nil {
		return 0, fmt.Errorf("segment snapshot: the events since it was written: %w", err)
	}
	x.install(orgs, want.LastEventID)
	return applied, nil
}

// catchUp applies to orgs (an index at event after) what the store committed up to upTo:
// the events, then the current labels of the older clicks of their messages (a click's
// label changes only with a later event of its message: a click near it, a delivery, a
// send). Organizations created since start empty.
func (x *Index) catchUp(ctx context.Context, orgs map[string]*Org, after, upTo int64) (int, error) {
	if after >= upTo {
		return 0, nil
	}
	list, err := x.src.Orgs(ctx)
	if err != nil {
		return 0, fmt.Errorf("segment: organizations: %w", err)
	}
	total := 0
	for _, org := range list {
		o := orgs[org.ID]
		if o == nil {
			o = newOrg()
			orgs[org.ID] = o
		}
		// The labels the clicks of the touched messages have now, by what the index keys
		// a click on; the tail's own clicks count too (they share keys with older ones
		// only when a click repeats at the same millisecond).
		type ckey struct {
			cust, camp, link uint32
			at               int64
		}
		type labels struct{ humans int }
		var order []ckey
		now := map[ckey]*labels{}
		relabelled := map[ckey]bool{}
		err := x.src.SegmentTail(ctx, org.ID, after, upTo, func(e *TailEvent) {
			cust, camp := o.customer(e.Customer), o.campaign(e.Campaign)
			var link uint32
			if e.Link != "" {
				link = o.link(e.Link)
			}
			if !e.Relabel {
				o.add(cust, camp, link, e.Type, e.At, e.Human)
				total++
			}
			if e.Type != mailtrail.EventClicked {
				return
			}
			k := ckey{cust, camp, link, e.At}
			l := now[k]
			if l == nil {
				l = &labels{}
				now[k] = l
				order = append(order, k)
			}
			if e.Human {
				l.humans++
			}
			if e.Relabel {
				relabelled[k] = true
			}
		})
		if err != nil {
			return 0, err
		}
		for _, k := range order {
			if relabelled[k] {
				o.setHumans(k.cust, k.camp, k.link, k.at, now[k].humans)
			}
		}
	}
	return total, nil
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

// snapDecoder reads the header and body, hashing every byte it reads.
type snapDecoder struct {
	br  *bufio.Reader
	h   hash.Hash
	err error
}

func (d *snapDecoder) Read(b []byte) (int, error) {
	n, err := d.br.Read(b)
	d.h.Write(b[:n])
	return n, err
}

func (d *snapDecoder) ReadByte() (byte, error) {
	c, err := d.br.ReadByte()
	if err == nil {
		d.h.Write([]byte{c})
	}
	return c, err
}

func (d *snapDecoder) fail() {
	if d.err == nil {
		d.err = ErrSnapshotCorrupt
	}
}

func (d *snapDecoder) raw(b []byte) {
	if d.err == nil {
		if _, err := io.ReadFull(d, b); err != nil {
			d.err = ErrSnapshotCorrupt
		}
	}
}

func (d *snapDecoder) u32() uint32 {
	var b [4]byte
	d.raw(b[:])
	return binary.LittleEndian.Uint32(b[:])
}

func (d *snapDecoder) i64() int64 {
	var b [8]byte
	d.raw(b[:])
	return int64(binary.LittleEndian.Uint64(b[:]))
}

func (d *snapDecoder) uv() uint64 {
	if d.err != nil {
		return 0
	}
	v, err := binary.ReadUvarint(d)
	if err != nil {
		d.fail()
	}
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
	v, err := binary.ReadVarint(d)
	if err != nil {
		d.fail()
	}
	return v
}

func (d *snapDecoder) i32v() int32 {
	v := d.sv()
	if v < -1<<31 || v > 1<<31-1 {
		d.fail()
	}
	return int32(v)
}

// count reads a length; a slice made for it is preallocated up to snapMaxPrealloc only.
func (d *snapDecoder) count() uint64 {
	v := d.uv()
	if v > 1<<40 {
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
	b := make([]byte, n)
	d.raw(b)
	return string(b)
}

func (d *snapDecoder) bitmap() *roaring.Bitmap {
	n := d.uv()
	if n > 1<<34 {
		d.fail()
	}
	b := roaring.New()
	if d.err != nil {
		return b
	}
	buf := make([]byte, 0, min(n, snapMaxPrealloc))
	buf, err := readN(d, buf, n)
	if err != nil {
		d.fail()
		return b
	}
	if !readBitmap(b, buf) {
		d.fail()
	}
	return b
}

// readBitmap decodes buf into b; a corrupt buf is false, not a panic.
func readBitmap(b *roaring.Bitmap, buf []byte) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	n, err := b.ReadFrom(bytes.NewReader(buf))
	return err == nil && n == int64(len(buf))
}

// readN appends exactly n bytes of r to buf, growing it as they come.
func readN(r io.Reader, buf []byte, n uint64) ([]byte, error) {
	var err error
	var chunk [1 << 15]byte
	for n > 0 && err == nil {
		k := min(n, uint64(len(chunk)))
		var got int
		got, err = io.ReadFull(r, chunk[:k])
		buf = append(buf, chunk[:got]...)
		n -= uint64(got)
	}
	return buf, err
}

func (d *snapDecoder) org() *Org {
	o := newOrg()
	o.minDay, o.maxDay, o.events = d.i32v(), d.i32v(), d.sv()
	n := d.count()
	o.ext = make([]string, 0, min(n, snapMaxPrealloc))
	for i := uint64(0); i < n && d.err == nil; i++ {
		s := d.str()
		if _, dup := o.byExt[s]; dup {
			d.fail()
		}
		o.byExt[s] = uint32(len(o.ext))
		o.ext = append(o.ext, s)
	}
	named := func(m map[string]uint32) {
		n := d.count()
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
	n = d.count()
	for i := uint64(0); i < n && d.err == nil; i++ {
		p := [2]uint32{d.u32v(), d.u32v()}
		o.pairList = append(o.pairList, p)
		o.pairs[p] = uint32(len(o.pairList))
	}
	o.universe = d.bitmap()
	n = d.count()
	for i := uint64(0); i < n && d.err == nil; i++ {
		typ := d.u32v()
		human := d.u32v()
		k := skey{typ: mailtrail.EventType(typ), human: human == 1, camp: d.u32v(), link: d.u32v()}
		if typ > 255 || human > 1 || !k.typ.Valid() {
			d.fail()
		}
		days := d.count()
		s := map[int32]*roaring.Bitmap{}
		for j := uint64(0); j < days && d.err == nil; j++ {
			day := d.i32v()
			s[day] = d.bitmap()
		}
		o.series[k] = s
	}
	n = d.count()
	for i := uint64(0); i < n && d.err == nil; i++ {
		typ := d.u32v()
		k := lkey{typ: mailtrail.EventType(typ), day: d.i32v()}
		if typ > 255 || !k.typ.Valid() {
			d.fail()
		}
		m := d.count()
		l := &dayLog{sorted: make([]entry, 0, min(m, snapMaxPrealloc))}
		for j := uint64(0); j < m && d.err == nil; j++ {
			en := entry{d.u32(), d.u32(), d.u32()}
			if int(en.cust) >= len(o.ext) || en.ref == 0 || k.typ == mailtrail.EventClicked && int(en.ref) > len(o.pairList) {
				d.fail()
			}
			l.sorted = append(l.sorted, en)
		}
		o.logs[k] = l
	}
	return o
}
