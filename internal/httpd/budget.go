package httpd

import (
	"sync"
	"time"

	"github.com/mailtrail/mailtrail/internal/token"
)

// trackBudget bounds how many opens and clicks of one tracking token are stored in an
// hour (Options.TrackingBudget): a token replayed in a flood still gets its pixel or
// redirect, but past the budget its hits are only counted
// (mailtrail_tracking_over_budget_total), so a flood can neither inflate totals without
// bound nor drive the store's write rate. Uniques are unaffected (the first hits are
// stored). Windows are clock hours; each process keeps its own counts. Memory is bounded:
// past maxBudgetKeys tokens in an hour, new tokens are recorded without being counted
// (a flood of many valid tokens is bounded by the messages that exist).
type trackBudget struct {
	limit  int
	now    func() time.Time
	shards [16]budgetShard
}

type budgetShard struct {
	mu   sync.Mutex
	hour int64
	n    map[budgetKey]uint32
}

type budgetKey struct {
	ref  token.Ref
	link int32 // -1 for an open
}

const maxBudgetKeys = 1 << 20 // tokens counted per hour, over all shards

func newTrackBudget(limit int, now func() time.Time) *trackBudget {
	if limit <= 0 {
		return nil
	}
	b := &trackBudget{limit: limit, now: now}
	for i := range b.shards {
		b.shards[i].n = map[budgetKey]uint32{}
	}
	return b
}

// allow counts one hit of the token (ref, link; link -1 for the open pixel) and tells
// whether it may be stored. A nil budget allows everything.
func (b *trackBudget) allow(ref token.Ref, link int) bool {
	if b == nil {
		return true
	}
	hour := b.now().Unix() / 3600
	sh := &b.shards[ref[0]%uint8(len(b.shards))]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.hour != hour {
		clear(sh.n)
		sh.hour = hour
	}
	k := budgetKey{ref, int32(link)}
	c, ok := sh.n[k]
	if !ok && len(sh.n) >= maxBudgetKeys/len(b.shards) {
		return true
	}
	if int(c) >= b.limit {
		return false
	}
	sh.n[k] = c + 1
	return true
}
