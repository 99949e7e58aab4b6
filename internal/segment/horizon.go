package segment

import (
	"context"
	"fmt"
	"maps"
	"math"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/mailtrail/mailtrail"
)

// The index forgets by itself what an organization's retention lets the store delete, so
// that every index answers the same whenever and from whatever it was built: one that has
// run for months, one loaded from a snapshot, one built afresh from the store.
//
// The store deletes raw events by received_at (older than the retention); the index
// keeps events by occurred_at, in UTC days. The index keeps the days from FirstDay on: the
// first day that starts a full day or more after the retention window does, so that every
// event it keeps was received after the window's start (an event is indexed only when
// dated at most mailtrail.MaxFutureSkew after it was received, see Indexed), with a day
// of margin for the clocks of the machines that delete and that answer. An event of an earlier day (a backdated import)
// is not indexed, wherever it comes from.
//
// When an organization raises its retention (or turns it off) the store keeps a floor,
// Horizon.Floor, at the first day the index may have kept under the old one: days an
// index forgot stay forgotten, and an index built afresh forgets them too, until the
// longer window passes the floor.

// NoFloor is Horizon.Floor when the organization's retention was never raised.
const NoFloor int32 = math.MinInt32

// Horizon is what an organization's retention lets the index keep.
type Horizon struct {
	RetentionDays int   // 0: raw events are kept forever
	Floor         int32 // the first UTC day (days since 1970-01-01) kept whatever the retention; NoFloor
}

// RetentionFirstDay is the first UTC day (days since 1970-01-01) the index keeps at now
// under a retention of days (> 0): the day that starts at least one full day after the
// retention window does.
func RetentionFirstDay(now time.Time, days int) int32 {
	return floorDay(now.UnixMilli()-int64(days)*dayMS) + 2
}

// FirstDay is the first UTC day the index keeps at now; NoFloor: every day.
func (h Horizon) FirstDay(now time.Time) int32 {
	d := h.Floor
	if h.RetentionDays > 0 {
		d = max(d, RetentionFirstDay(now, h.RetentionDays))
	}
	return d
}

// RaisedFloor is the Floor a store keeps when an organization's retention changes from
// old to new days (0: forever) at now, given the floor it had: when the retention grows,
// the first day any index may have kept under the old one (one day later than
// RetentionFirstDay, for the clocks of other machines); otherwise floor unchanged.
func RaisedFloor(floor int32, old, new int, now time.Time) int32 {
	if old > 0 && (new == 0 || new > old) {
		return max(floor, RetentionFirstDay(now, old)+1)
	}
	return floor
}

// Indexed reports whether an event that occurred at at and was received at received (unix
// ms) is one the index holds: not dated more than MaxLead after it was received. (A
// later date is a sender's clock gone wrong; such an event would outlive its deletion by
// retention in the index.) A Source's reads apply the same test in SQL, with MaxLead.
func Indexed(at, received int64) bool { return at <= received+MaxLead }

// MaxLead is how far after its arrival, in milliseconds, an event the index holds may be
// dated: mailtrail.MaxFutureSkew, what the events API allows.
const MaxLead = int64(mailtrail.MaxFutureSkew / time.Millisecond)

// forget drops the days before first and the customers left with no event. The caller
// holds o.mu for writing, or owns o alone.
func (o *Org) forget(first int32) {
	if first <= o.first {
		return
	}
	o.first = first
	if o.minDay >= first {
		return
	}
	dropped := false
	for k, l := range o.logs {
		if k.day < first {
			o.events -= int64(len(l.sorted) + len(l.tail))
			delete(o.logs, k)
			dropped = true
		}
	}
	for _, s := range o.series {
		for day := range s {
			if day < first {
				delete(s, day)
				dropped = true
			}
		}
	}
	o.minDay = first
	if !dropped {
		return
	}
	// The universe: customers with at least one event held.
	var all []*roaring.Bitmap
	for k, s := range o.series {
		if k.human || k.camp != 0 || k.link != 0 {
			continue
		}
		for _, b := range s {
			all = append(all, b)
		}
	}
	o.universe = roaring.FastOr(all...)
}

// horizon returns the organization's horizon as last read from the store.
func (x *Index) horizon(orgID string) Horizon {
	x.hmu.RLock()
	defer x.hmu.RUnlock()
	if h, ok := x.horizons[orgID]; ok {
		return h
	}
	return Horizon{Floor: NoFloor}
}

// forgetAt makes o forget what the organization's horizon drops at now. It takes o.mu
// for writing only when there is something to forget.
func (x *Index) forgetAt(orgID string, o *Org, now time.Time) {
	first := x.horizon(orgID).FirstDay(now)
	o.mu.RLock()
	done := first <= o.first
	o.mu.RUnlock()
	if done {
		return
	}
	o.mu.Lock()
	o.forget(first)
	o.mu.Unlock()
}

// RefreshHorizons reads every organization's retention and floor from the store, then
// makes every organization's index forget what they drop now. Run calls it every
// HorizonInterval; Build and LoadSnapshot read them before they load anything.
func (x *Index) RefreshHorizons(ctx context.Context) error {
	if err := x.readHorizons(ctx); err != nil {
		return err
	}
	x.mu.RLock()
	orgs := maps.Clone(x.orgs)
	x.mu.RUnlock()
	now := x.now()
	for id, o := range orgs {
		x.forgetAt(id, o, now)
	}
	return nil
}

// readHorizons reads them; an index without a store keeps every day.
func (x *Index) readHorizons(ctx context.Context) error {
	if x.src == nil {
		return nil
	}
	h, err := x.src.SegmentHorizons(ctx)
	if err != nil {
		return fmt.Errorf("segment: retention of the organizations: %w", err)
	}
	x.hmu.Lock()
	x.horizons = h
	x.hmu.Unlock()
	return nil
}

// HorizonInterval is how often Run reads the organizations' retention again: a change of
// retention made on another node (or by the CLI) reaches this index's answers within it;
// a change made through this process's API reaches them at once (RefreshHorizons).
const HorizonInterval = 30 * time.Second
