package segment

import (
	"slices"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/mailtrail/mailtrail"
)

// dayMS is the width of a bucket: one UTC day in milliseconds.
const dayMS = 86_400_000

// humanBit marks, in entry.off, an open or click classified human (or unclassified).
const humanBit = 1 << 31

// tailMax is how many events a day's log takes unsorted before they are merged in.
const tailMax = 4096

// skey names a series of day bitmaps: customers with at least one counted event of typ,
// human only or not, for one campaign (0 = any) and one link (0 = any; clicks only).
type skey struct {
	typ   mailtrail.EventType
	human bool
	camp  uint32
	link  uint32
}

// lkey names the log of one event type on one day.
type lkey struct {
	typ mailtrail.EventType
	day int32
}

// entry is one counted event in a day's log: 12 bytes. off is the milliseconds since the
// day's start, with humanBit; ref is the campaign, or for clicks a (campaign, link) pair.
type entry struct{ cust, off, ref uint32 }

// dayLog holds a day's events of one type, sorted by (customer, time), plus a small
// unsorted tail of recent arrivals.
type dayLog struct {
	sorted []entry
	tail   []entry
}

func cmpEntry(a, b entry) int {
	if a.cust != b.cust {
		return int(int64(a.cust) - int64(b.cust))
	}
	return int(int64(a.off&^humanBit) - int64(b.off&^humanBit))
}

// merge sorts the tail into the sorted part.
func (l *dayLog) merge() {
	if len(l.tail) == 0 {
		return
	}
	slices.SortFunc(l.tail, cmpEntry)
	out := make([]entry, 0, len(l.sorted)+len(l.tail))
	i, j := 0, 0
	for i < len(l.sorted) && j < len(l.tail) {
		if cmpEntry(l.sorted[i], l.tail[j]) <= 0 {
			out = append(out, l.sorted[i])
			i++
		} else {
			out = append(out, l.tail[j])
			j++
		}
	}
	out = append(out, l.sorted[i:]...)
	out = append(out, l.tail[j:]...)
	l.sorted, l.tail = out, nil
}

// of returns the customer's entries: a run of the sorted part, and the tail to filter.
func (l *dayLog) of(cust uint32) []entry {
	i, _ := slices.BinarySearchFunc(l.sorted, cust, func(e entry, c uint32) int { return int(int64(e.cust) - int64(c)) })
	j := i
	for j < len(l.sorted) && l.sorted[j].cust == cust {
		j++
	}
	return l.sorted[i:j]
}

// Org is the engagement index of one organization. Customers have dense ids in the order
// the index first saw them.
type Org struct {
	mu       sync.RWMutex
	ext      []string          // dense id → the CRM's customer id
	byExt    map[string]uint32 // the CRM's customer id → dense id
	camps    map[string]uint32 // campaign → 1-based id
	links    map[string]uint32 // link URL → 1-based id
	pairs    map[[2]uint32]uint32
	pairList [][2]uint32 // (campaign, link) of click refs, by ref-1
	universe *roaring.Bitmap
	series   map[skey]map[int32]*roaring.Bitmap
	logs     map[lkey]*dayLog
	minDay   int32
	maxDay   int32
	first    int32 // the first day kept (see Horizon): events of earlier days are not added
	events   int64
	bulk     bool // while loading: tails are merged once at the end
}

func newOrg() *Org {
	return &Org{byExt: map[string]uint32{}, camps: map[string]uint32{}, links: map[string]uint32{},
		pairs: map[[2]uint32]uint32{}, universe: roaring.New(), series: map[skey]map[int32]*roaring.Bitmap{},
		logs: map[lkey]*dayLog{}, minDay: 1<<31 - 1, maxDay: -1 << 31, first: NoFloor}
}

// customer returns the dense id of a CRM customer id, adding it when new.
func (o *Org) customer(ext string) uint32 {
	if id, ok := o.byExt[ext]; ok {
		return id
	}
	id := uint32(len(o.ext))
	o.ext = append(o.ext, ext)
	o.byExt[ext] = id
	return id
}

func (o *Org) campaign(name string) uint32 {
	if id, ok := o.camps[name]; ok {
		return id
	}
	id := uint32(len(o.camps) + 1)
	o.camps[name] = id
	return id
}

func (o *Org) link(url string) uint32 {
	if id, ok := o.links[url]; ok {
		return id
	}
	id := uint32(len(o.links) + 1)
	o.links[url] = id
	return id
}

func (o *Org) pair(camp, link uint32) uint32 {
	k := [2]uint32{camp, link}
	if id, ok := o.pairs[k]; ok {
		return id
	}
	o.pairList = append(o.pairList, k)
	id := uint32(len(o.pairList))
	o.pairs[k] = id
	return id
}

// refOf returns the campaign and link of an entry of type t.
func (o *Org) refOf(t mailtrail.EventType, ref uint32) (camp, link uint32) {
	if t == mailtrail.EventClicked {
		p := o.pairList[ref-1]
		return p[0], p[1]
	}
	return ref, 0
}

func floorDay(ms int64) int32 {
	d := ms / dayMS
	if ms%dayMS < 0 {
		d--
	}
	return int32(d)
}

// add folds one counted event into the index, unless its day is one the index forgot
// (before o.first). The caller holds o.mu for writing.
func (o *Org) add(cust, camp, link uint32, t mailtrail.EventType, at int64, human bool) {
	day := floorDay(at)
	if day < o.first {
		return
	}
	o.minDay, o.maxDay = min(o.minDay, day), max(o.maxDay, day)
	o.events++
	humanable := t == mailtrail.EventOpened || t == mailtrail.EventClicked
	human = human && humanable
	o.mark(skey{t, false, 0, 0}, day, cust)
	o.mark(skey{t, false, camp, 0}, day, cust)
	if human {
		o.mark(skey{t, true, 0, 0}, day, cust)
		o.mark(skey{t, true, camp, 0}, day, cust)
	}
	ref := camp
	if t == mailtrail.EventClicked {
		ref = o.pair(camp, link)
		if link != 0 {
			o.mark(skey{t, false, 0, link}, day, cust)
			o.mark(skey{t, false, camp, link}, day, cust)
			if human {
				o.mark(skey{t, true, 0, link}, day, cust)
				o.mark(skey{t, true, camp, link}, day, cust)
			}
		}
	}
	o.universe.Add(cust) // known to the service: any counted event, ever
	off := uint32(at - int64(day)*dayMS)
	if human {
		off |= humanBit
	}
	k := lkey{t, day}
	l := o.logs[k]
	if l == nil {
		l = &dayLog{}
		o.logs[k] = l
	}
	l.tail = append(l.tail, entry{cust, off, ref})
	if !o.bulk && len(l.tail) >= tailMax {
		l.merge()
	}
}

func (o *Org) mark(k skey, day int32, cust uint32) {
	s := o.series[k]
	if s == nil {
		s = map[int32]*roaring.Bitmap{}
		o.series[k] = s
	}
	b := s[day]
	if b == nil {
		b = roaring.New()
		s[day] = b
	}
	b.Add(cust)
}

// finish ends a bulk load: merges every log's tail and compacts the bitmaps.
func (o *Org) finish() {
	o.bulk = false
	for _, l := range o.logs {
		l.merge()
		l.sorted = slices.Clip(l.sorted)
	}
	for _, s := range o.series {
		for _, b := range s {
			b.RunOptimize()
		}
	}
}

// Stats describe the size of an organization's index.
type Stats struct {
	Customers int   `json:"customers"`
	Universe  int   `json:"universe"`
	Events    int64 `json:"events"`
	Bitmaps   int   `json:"bitmaps"`
	Days      int   `json:"days"`
}

// Stats returns the index's size.
func (o *Org) Stats() Stats {
	o.mu.RLock()
	defer o.mu.RUnlock()
	n := 0
	for _, s := range o.series {
		n += len(s)
	}
	days := 0
	if o.maxDay >= o.minDay {
		days = int(o.maxDay-o.minDay) + 1
	}
	return Stats{Customers: len(o.ext), Universe: int(o.universe.GetCardinality()), Events: o.events, Bitmaps: n, Days: days}
}

// clickAt returns the day log of the clicks at at (nil when there are none), the day,
// and the ref and offset a click of campaign camp and link at at has in it.
func (o *Org) clickAt(camp, link uint32, at int64) (*dayLog, int32, uint32, uint32) {
	day := floorDay(at)
	l := o.logs[lkey{mailtrail.EventClicked, day}]
	if l == nil {
		return nil, day, 0, 0
	}
	return l, day, o.pair(camp, link), uint32(at - int64(day)*dayMS)
}

// relabel sets the human label of one stored click of cust (campaign camp, link, at) and
// moves the customer in or out of that day's human click bitmaps. The caller holds o.mu
// for writing.
func (o *Org) relabel(cust, camp, link uint32, at int64, human bool) {
	l, day, ref, off := o.clickAt(camp, link, at)
	if l == nil {
		return
	}
	flip := func(part []entry) bool {
		for i := range part {
			e := &part[i]
			if e.cust == cust && e.ref == ref && e.off&^humanBit == off && (e.off&humanBit != 0) != human {
				e.off ^= humanBit
				return true
			}
		}
		return false
	}
	if !flip(l.of(cust)) && !flip(l.tail) {
		return
	}
	keys := []skey{{mailtrail.EventClicked, true, 0, 0}, {mailtrail.EventClicked, true, camp, 0}}
	if link != 0 {
		keys = append(keys, skey{mailtrail.EventClicked, true, 0, link}, skey{mailtrail.EventClicked, true, camp, link})
	}
	if human {
		for _, k := range keys {
			o.mark(k, day, cust)
		}
		return
	}
	// Still in a human bitmap only if another human click of the day fits its key.
	var still [4]bool
	for _, part := range [2][]entry{l.of(cust), l.tail} {
		for _, e := range part {
			if e.cust != cust || e.off&humanBit == 0 {
				continue
			}
			c, lk := o.refOf(mailtrail.EventClicked, e.ref)
			for i, k := range keys {
				if (k.camp == 0 || k.camp == c) && (k.link == 0 || k.link == lk) {
					still[i] = true
				}
			}
		}
	}
	for i, k := range keys {
		if b := o.series[k][day]; b != nil && !still[i] {
			b.Remove(cust)
		}
	}
}

// setHumans makes exactly humans of the clicks the index holds for cust (campaign camp,
// link, at) human and the others not: the labels the store gives them now. (Clicks of
// two messages at the same millisecond, customer, campaign and link share that key.)
// The caller holds o.mu for writing, or owns o alone.
func (o *Org) setHumans(cust, camp, link uint32, at int64, humans int) {
	l, _, ref, off := o.clickAt(camp, link, at)
	if l == nil {
		return
	}
	held, heldHumans := 0, 0
	for _, part := range [2][]entry{l.of(cust), l.tail} {
		for _, e := range part {
			if e.cust == cust && e.ref == ref && e.off&^humanBit == off {
				held++
				if e.off&humanBit != 0 {
					heldHumans++
				}
			}
		}
	}
	want := min(humans, held)
	for ; heldHumans < want; heldHumans++ {
		o.relabel(cust, camp, link, at, true)
	}
	for ; heldHumans > want; heldHumans-- {
		o.relabel(cust, camp, link, at, false)
	}
}

// rename gives the customer old the id new. The id table is copied, not changed in
// place: results being streamed hold the previous one. The caller holds o.mu for writing.
func (o *Org) rename(old, new string) {
	id, ok := o.byExt[old]
	if !ok {
		return
	}
	delete(o.byExt, old)
	o.byExt[new] = id
	o.ext = slices.Clone(o.ext)
	o.ext[id] = new
}
