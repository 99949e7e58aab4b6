// Package rules derives the state mailtrail keeps beside raw events: per message (when it
// was sent, delivered, first opened, …), per campaign (totals and uniques per time bucket,
// per link) and per customer (last activity). The functions here are pure: given the
// committed state and a new event they return the new state and the changes to apply.
//
// Every field of a message's state is the minimum occurred_at of the events that set it,
// so applying the same events in any order, any number of times, gives the same state; a
// late event that moves a "first" time earlier moves its unique count from the old bucket
// to the new one. This is what makes every figure equal a recount from raw events.
package rules

import (
	"time"

	"github.com/mailtrail/mailtrail"
)

// Field indexes the "first time" fields of a message's state.
type Field uint8

// The fields. Each is the unique count of the same name in a campaign's figures.
const (
	FSent Field = iota
	FDelivered
	FOpen
	FHumanOpen
	FClick
	FHumanClick
	FBounce
	FHardBounce
	FComplaint
	FUnsub
	NumFields
)

// MessageState is what is known of one message: for each field the earliest occurred_at
// (unix milliseconds) of an event that set it, 0 when none did.
type MessageState [NumFields]int64

// Set reports whether field f is set.
func (s *MessageState) Set(f Field) bool { return s[f] != 0 }

// Total counters (non-unique) kept per bucket besides the uniques.
type Total uint8

// The totals.
const (
	TOpens Total = iota
	THumanOpens
	TClicks
	THumanClicks
	NumTotals
)

// BucketWidth is the width of a campaign's time buckets. A quarter of an hour, because
// every time zone in use has an offset that is a multiple of it, so hourly and daily
// timelines in any zone are exact sums of buckets.
const BucketWidth = 15 * time.Minute

// Bucket returns the bucket (unix ms / width) of a unix-millisecond time.
func Bucket(ms int64) int64 { return floorDiv(ms, BucketWidth.Milliseconds()) }

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// Change is one counter change of a campaign: Delta added to a unique field's count
// (IsTotal false) or to a total (IsTotal true) in a bucket.
type Change struct {
	Bucket  int64
	IsTotal bool
	Field   Field
	Total   Total
	Delta   int64
}

// Input is what the rules need of an event beyond its type and time.
type Input struct {
	Type       mailtrail.EventType
	OccurredAt int64 // unix ms
	Human      bool  // opens and clicks: classified human
	Hard       bool  // bounces: hard
	Counted    bool  // false: kept but out of the figures (ESP open of a pixel-tracked message)
}

// Counted decides whether an event adds to the figures. An ESP's own open (click) of a
// message that our pixel (links) track is kept but never counted: our tracking already
// counts it. For a message we do not track, the ESP's events are the figures.
func Counted(ev *mailtrail.Event, trackOpens, trackClicks bool) bool {
	if ev.Source != mailtrail.SourceWebhook {
		return true
	}
	switch ev.Type {
	case mailtrail.EventOpened:
		return !trackOpens
	case mailtrail.EventClicked:
		return !trackClicks
	}
	return true
}

// fieldsOf lists the fields an event sets.
func fieldsOf(in Input, buf []Field) []Field {
	buf = buf[:0]
	switch in.Type {
	case mailtrail.EventSent:
		buf = append(buf, FSent)
	case mailtrail.EventDelivered:
		buf = append(buf, FDelivered)
	case mailtrail.EventOpened:
		// An open implies the message was delivered.
		buf = append(buf, FDelivered, FOpen)
		if in.Human {
			buf = append(buf, FHumanOpen)
		}
	case mailtrail.EventClicked:
		buf = append(buf, FDelivered, FClick)
		if in.Human {
			buf = append(buf, FHumanClick)
		}
	case mailtrail.EventBounced:
		buf = append(buf, FBounce)
		if in.Hard {
			buf = append(buf, FHardBounce)
		}
	case mailtrail.EventComplained:
		buf = append(buf, FComplaint)
	case mailtrail.EventUnsubscribed:
		buf = append(buf, FUnsub)
	}
	return buf
}

// Apply folds one new (not duplicate) event into a message's state. It returns the new
// state and appends to changes the counter changes it causes. An uncounted event changes
// nothing.
func Apply(s MessageState, in Input, changes []Change) (MessageState, []Change) {
	if !in.Counted || in.OccurredAt == 0 {
		return s, changes
	}
	t := in.OccurredAt
	b := Bucket(t)
	switch in.Type {
	case mailtrail.EventOpened:
		changes = append(changes, Change{Bucket: b, IsTotal: true, Total: TOpens, Delta: 1})
		if in.Human {
			changes = append(changes, Change{Bucket: b, IsTotal: true, Total: THumanOpens, Delta: 1})
		}
	case mailtrail.EventClicked:
		changes = append(changes, Change{Bucket: b, IsTotal: true, Total: TClicks, Delta: 1})
		if in.Human {
			changes = append(changes, Change{Bucket: b, IsTotal: true, Total: THumanClicks, Delta: 1})
		}
	}
	var buf [4]Field
	for _, f := range fieldsOf(in, buf[:]) {
		old := s[f]
		if old != 0 && old <= t {
			continue
		}
		if old != 0 {
			// A late event moves the first time earlier: move the unique.
			changes = append(changes, Change{Bucket: Bucket(old), Field: f, Delta: -1})
		}
		changes = append(changes, Change{Bucket: b, Field: f, Delta: 1})
		s[f] = t
	}
	return s, changes
}

// CustomerActivity is the last activity of one customer (unix ms, 0 = never).
type CustomerActivity struct {
	LastSent, LastOpen, LastClick int64
}

// ApplyCustomer folds a counted event into a customer's activity.
func ApplyCustomer(a CustomerActivity, in Input) CustomerActivity {
	if !in.Counted {
		return a
	}
	switch in.Type {
	case mailtrail.EventSent:
		a.LastSent = max(a.LastSent, in.OccurredAt)
	case mailtrail.EventOpened:
		a.LastOpen = max(a.LastOpen, in.OccurredAt)
	case mailtrail.EventClicked:
		a.LastClick = max(a.LastClick, in.OccurredAt)
	}
	return a
}

// Suppressing returns the suppression reason an event causes at once, or "" when it causes
// none. Machine opens and bot clicks never suppress anything, and neither do they here:
// only bounces, complaints and unsubscribes suppress.
func Suppressing(ev *mailtrail.Event) (reason, source string) {
	src := mailtrail.SuppressSourceWebhook
	if ev.Source == mailtrail.SourceTracking {
		src = mailtrail.SuppressSourceTrackingLink
	} else if ev.Source == mailtrail.SourceAPI || ev.Source == mailtrail.SourceImport {
		src = mailtrail.SuppressSourceAPI
	}
	switch ev.Type {
	case mailtrail.EventBounced:
		if ev.Metadata.BounceType == mailtrail.BounceHard {
			return mailtrail.ReasonHardBounce, src
		}
	case mailtrail.EventComplained:
		return mailtrail.ReasonComplaint, src
	case mailtrail.EventUnsubscribed:
		return mailtrail.ReasonUnsubscribed, src
	}
	return "", ""
}
