package segment

import (
	"time"

	"github.com/RoaringBitmap/roaring/v2"
)

// span is a condition resolved at one instant: its series, the range [from, to) in unix
// ms, the days it touches and the campaign and link ids it filters on.
type span struct {
	c          *Cond
	none       bool // names a campaign or link the organization never had: matches nothing
	series     map[int32]*roaring.Bitmap
	camp, link uint32
	from, to   int64
	d0, d1     int32
}

// resolve prepares c at now. The caller holds o.mu for reading.
func (o *Org) resolve(c *Cond, now time.Time) span {
	s := span{c: c}
	s.from, s.to = c.Range(now)
	if c.Campaign != "" {
		id, ok := o.camps[c.Campaign]
		if !ok {
			s.none = true
			return s
		}
		s.camp = id
	}
	if c.Link != "" {
		id, ok := o.links[c.Link]
		if !ok {
			s.none = true
			return s
		}
		s.link = id
	}
	s.series = o.series[skey{c.Type, c.Human, s.camp, s.link}]
	if s.series == nil || o.maxDay < o.minDay {
		s.none = true
		return s
	}
	lo := max(s.from/dayMS-1, int64(o.minDay))
	hi := min((s.to-1)/dayMS+1, int64(o.maxDay))
	if lo > hi {
		s.none = true
		return s
	}
	s.d0, s.d1 = int32(lo), int32(hi)
	return s
}

// full reports whether day d lies wholly inside the range.
func (s *span) full(d int32) bool {
	start := int64(d) * dayMS
	return start >= s.from && start+dayMS <= s.to
}

// match reports whether an entry of day d satisfies the condition (type aside).
func (o *Org) match(s *span, d int32, e entry) bool {
	at := int64(d)*dayMS + int64(e.off&^humanBit)
	if at < s.from || at >= s.to {
		return false
	}
	if s.c.Human && e.off&humanBit == 0 {
		return false
	}
	if s.camp == 0 && s.link == 0 {
		return true
	}
	camp, link := o.refOf(s.c.Type, e.ref)
	return (s.camp == 0 || s.camp == camp) && (s.link == 0 || s.link == link)
}

// condSet returns the customers who have done the condition (Negated ignored).
func (o *Org) condSet(s *span) *roaring.Bitmap {
	if s.none {
		return roaring.New()
	}
	if s.c.AtLeast > 1 {
		return o.countSet(s)
	}
	var whole []*roaring.Bitmap
	edge := roaring.New()
	for d := s.d0; d <= s.d1; d++ {
		b := s.series[d]
		if b == nil {
			continue
		}
		if s.full(d) {
			whole = append(whole, b)
			continue
		}
		l := o.logs[lkey{s.c.Type, d}]
		for _, part := range [2][]entry{l.sorted, l.tail} {
			for _, e := range part {
				if o.match(s, d, e) {
					edge.Add(e.cust)
				}
			}
		}
	}
	if len(whole) == 0 {
		return edge
	}
	return roaring.FastOr(append(whole, edge)...)
}

// countSet answers "at least N times" by counting the day logs' events per customer.
func (o *Org) countSet(s *span) *roaring.Bitmap {
	counts := make([]uint16, len(o.ext))
	n := uint16(min(s.c.AtLeast, MaxAtLeast))
	for d := s.d0; d <= s.d1; d++ {
		if s.series[d] == nil {
			continue
		}
		l := o.logs[lkey{s.c.Type, d}]
		for _, part := range [2][]entry{l.sorted, l.tail} {
			for _, e := range part {
				if counts[e.cust] < n && o.match(s, d, e) {
					counts[e.cust]++
				}
			}
		}
	}
	out := roaring.New()
	for i, c := range counts {
		if c >= n {
			out.Add(uint32(i))
		}
	}
	return out
}

// evalSet returns the customers of universe for whom n holds (possibly with extra
// customers outside universe, which the caller intersects away).
func (o *Org) evalSet(n *node, now time.Time, universe *roaring.Bitmap) *roaring.Bitmap {
	switch n.kind {
	case kCond:
		s := o.resolve(n.cond, now)
		b := o.condSet(&s)
		if n.cond.Negated {
			return roaring.AndNot(universe, b)
		}
		return b
	case kNot:
		return roaring.AndNot(universe, o.evalSet(n.kids[0], now, universe))
	case kOr:
		bs := make([]*roaring.Bitmap, len(n.kids))
		for i, k := range n.kids {
			bs[i] = o.evalSet(k, now, universe)
		}
		return roaring.FastOr(bs...)
	}
	// AND: intersect the positive terms, then subtract the negated ones (no complement
	// of the universe is ever built for them).
	var pos, neg []*roaring.Bitmap
	for _, k := range n.kids {
		switch {
		case k.kind == kNot:
			neg = append(neg, o.evalSet(k.kids[0], now, universe))
		case k.kind == kCond && k.cond.Negated:
			s := o.resolve(k.cond, now)
			neg = append(neg, o.condSet(&s))
		default:
			pos = append(pos, o.evalSet(k, now, universe))
		}
	}
	var out *roaring.Bitmap
	if len(pos) == 0 {
		out = universe.Clone()
	} else {
		out = roaring.FastAnd(pos...)
	}
	for _, b := range neg {
		out.AndNot(b)
	}
	return out
}

// Eval returns the customers of universe (nil: the organization's universe, those it
// has any counted event of) for whom r holds at now. The caller must not modify universe meanwhile.
func (o *Org) Eval(r *Rule, now time.Time, universe *roaring.Bitmap) *roaring.Bitmap {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.eval(r, now, universe)
}

func (o *Org) eval(r *Rule, now time.Time, universe *roaring.Bitmap) *roaring.Bitmap {
	if universe == nil {
		universe = o.universe
	}
	out := o.evalSet(r.root, now, universe)
	out.And(universe)
	return out
}

// condHas reports whether customer cust has done the condition (Negated ignored).
func (o *Org) condHas(s *span, cust uint32) bool {
	if s.none {
		return false
	}
	count := 0
	for d := s.d1; d >= s.d0; d-- {
		b := s.series[d]
		if b == nil || !b.Contains(cust) {
			continue
		}
		if s.c.AtLeast == 1 && s.full(d) {
			return true
		}
		l := o.logs[lkey{s.c.Type, d}]
		for _, e := range l.of(cust) {
			if o.match(s, d, e) {
				if count++; count >= s.c.AtLeast {
					return true
				}
			}
		}
		for _, e := range l.tail {
			if e.cust == cust && o.match(s, d, e) {
				if count++; count >= s.c.AtLeast {
					return true
				}
			}
		}
	}
	return false
}

func (o *Org) has(n *node, now time.Time, cust uint32, known bool) bool {
	switch n.kind {
	case kCond:
		done := false
		if known {
			s := o.resolve(n.cond, now)
			done = o.condHas(&s, cust)
		}
		return done != n.cond.Negated
	case kNot:
		return !o.has(n.kids[0], now, cust, known)
	case kOr:
		for _, k := range n.kids {
			if o.has(k, now, cust, known) {
				return true
			}
		}
		return false
	}
	for _, k := range n.kids {
		if !o.has(k, now, cust, known) {
			return false
		}
	}
	return true
}

// Match reports whether r holds at now for the customer with the CRM id ext. A customer
// the index has never seen has done nothing: has_not_done holds for them.
func (o *Org) Match(r *Rule, now time.Time, ext string) bool {
	o.mu.RLock()
	defer o.mu.RUnlock()
	id, known := o.byExt[ext]
	return o.has(r.root, now, id, known)
}

// MatchesNothingDone reports whether r holds for a customer with no events at all: the
// answer for candidates the index has never seen.
func (r *Rule) MatchesNothingDone() bool {
	var o Org
	return o.has(r.root, time.Time{}, 0, false)
}
