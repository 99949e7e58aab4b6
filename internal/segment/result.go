package segment

import (
	"strconv"
	"strings"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/mailtrail/mailtrail"
)

// Result is the answer to a set query: customers the index knows, in dense-id order, then
// candidates it has never seen (when the rule holds for a customer with no events), in
// the order they were given.
type Result struct {
	known   *roaring.Bitmap
	ext     []string // snapshot of the organization's dense → CRM id table
	unknown []string
}

// Count returns the number of customers in the result.
func (r *Result) Count() int { return int(r.known.GetCardinality()) + len(r.unknown) }

// Evaluate answers r at now over the organization's universe (candidates nil: the
// customers it knows: any counted event) or over the candidates (CRM customer ids). Observed events
// are applied first, so an answer includes every event Observe was given before the call.
func (x *Index) Evaluate(orgID string, r *Rule, now time.Time, candidates []string) (*Result, error) {
	o, err := x.Org(orgID)
	if err != nil {
		return nil, err
	}
	x.Flush()
	x.forgetAt(orgID, o, now)
	o.mu.RLock()
	defer o.mu.RUnlock()
	res := &Result{ext: o.ext}
	var universe *roaring.Bitmap
	if candidates != nil {
		universe = roaring.New()
		empty := r.MatchesNothingDone()
		seen := map[string]bool{}
		for _, c := range candidates {
			if id, ok := o.byExt[c]; ok {
				universe.Add(id)
			} else if empty && !seen[c] {
				seen[c] = true
				res.unknown = append(res.unknown, c)
			}
		}
	}
	res.known = o.eval(r, now, universe)
	return res, nil
}

// Match answers r at now for one customer (CRM id).
func (x *Index) Match(orgID string, r *Rule, now time.Time, customer string) (bool, error) {
	o, err := x.Org(orgID)
	if err != nil {
		return false, err
	}
	x.forgetAt(orgID, o, now)
	return o.Match(r, now, customer), nil
}

// Cursor is a position in a Result: "" is the start.
type Cursor string

// parse decodes a cursor: phase 'k' (after dense id n) or 'u' (from unknown index n).
func (c Cursor) parse() (phase byte, n uint64, err error) {
	if c == "" {
		return 'k', 0, nil
	}
	s := string(c)
	if len(s) < 2 || (s[0] != 'k' && s[0] != 'u') {
		return 0, 0, mailtrail.Errorf(mailtrail.EINVALID, "invalid cursor")
	}
	n, perr := strconv.ParseUint(s[1:], 36, 64)
	if perr != nil {
		return 0, 0, mailtrail.Errorf(mailtrail.EINVALID, "invalid cursor")
	}
	return s[0], n, nil
}

// Page calls fn for at most limit customers from cursor on (limit ≤ 0: all of them) and
// returns the cursor of the next page, "" at the end. EINVALID for a malformed cursor.
func (r *Result) Page(cur Cursor, limit int, fn func(customerID string) error) (Cursor, error) {
	phase, n, err := cur.parse()
	if err != nil {
		return "", err
	}
	count := 0
	full := func() bool { return limit > 0 && count >= limit }
	if phase == 'k' {
		it := r.known.Iterator()
		if cur != "" {
			if n >= 1<<32-1 {
				it = roaring.New().Iterator()
			} else {
				it.AdvanceIfNeeded(uint32(n) + 1)
			}
		}
		var last uint32
		for it.HasNext() {
			if full() {
				return Cursor("k" + strconv.FormatUint(uint64(last), 36)), nil
			}
			last = it.Next()
			if err := fn(r.ext[last]); err != nil {
				return "", err
			}
			count++
		}
		n = 0
	}
	for i := int(n); i < len(r.unknown); i++ {
		if full() {
			return Cursor("u" + strconv.FormatUint(uint64(i), 36)), nil
		}
		if err := fn(r.unknown[i]); err != nil {
			return "", err
		}
		count++
	}
	return "", nil
}

// String describes a cursor for logs without exposing ids.
func (c Cursor) String() string { return strings.Repeat("*", min(len(c), 3)) }
