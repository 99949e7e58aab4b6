package rules

import (
	"sort"

	"github.com/mailtrail/mailtrail"
)

// Soft-bounce limits of an organization: DefaultSoftBounceLimit consecutive soft bounces
// suppress an address unless the organization sets another number in 1..MaxSoftBounceLimit.
const (
	DefaultSoftBounceLimit = 5
	MaxSoftBounceLimit     = 20
)

// Signal is what an event means for the suppression of its address.
type Signal uint8

// The signals.
const (
	SignalNone       Signal = iota // changes nothing
	SignalReset                    // delivered, or a human open or click: ends a soft-bounce run
	SignalSoftBounce               // one more soft bounce in the run
	SignalImmediate                // hard bounce, complaint, unsubscribe: suppress at once
)

// SuppressionSignal classifies an event. Machine opens and bot clicks are SignalNone: they
// neither suppress nor end a soft-bounce run. A bounce that is not hard counts as soft.
func SuppressionSignal(ev *mailtrail.Event) Signal {
	switch ev.Type {
	case mailtrail.EventDelivered:
		return SignalReset
	case mailtrail.EventOpened, mailtrail.EventClicked:
		if ev.IsHuman() {
			return SignalReset
		}
	case mailtrail.EventBounced:
		if ev.Metadata.BounceType == mailtrail.BounceHard {
			return SignalImmediate
		}
		return SignalSoftBounce
	case mailtrail.EventComplained, mailtrail.EventUnsubscribed:
		return SignalImmediate
	}
	return SignalNone
}

// suppressSource is the suppression source of an event's door.
func suppressSource(ev *mailtrail.Event) string {
	switch ev.Source {
	case mailtrail.SourceTracking:
		return mailtrail.SuppressSourceTrackingLink
	case mailtrail.SourceAPI, mailtrail.SourceImport:
		return mailtrail.SuppressSourceAPI
	}
	return mailtrail.SuppressSourceWebhook
}

// Suppress is an address's suppression as the rules see it; a zero Reason means none.
type Suppress struct {
	Reason  string
	Source  string
	EventID string // "" for manual and imported suppressions
	Detail  string // the vendor's reason text
	At      int64  // unix ms: the causing event's time, or when it was added
}

// SuppressionEvent is what the suppression rules need of one event.
type SuppressionEvent struct {
	Signal  Signal
	Reason  string // SignalImmediate: hard_bounce, complaint or unsubscribed
	Source  string
	EventID string
	Detail  string
	At      int64 // occurred_at, unix ms
}

// SuppressionEventOf returns what ev means for its address's suppression.
func SuppressionEventOf(ev *mailtrail.Event) SuppressionEvent {
	e := SuppressionEvent{Signal: SuppressionSignal(ev), Source: suppressSource(ev), EventID: ev.ID,
		Detail: ev.Metadata.Reason, At: ev.OccurredAt.UnixMilli()}
	if e.Signal == SignalImmediate {
		e.Reason, _ = Suppressing(ev)
	}
	if e.Detail == "" {
		e.Detail = ev.Metadata.FeedbackType
	}
	if len(e.Detail) > 500 {
		e.Detail = e.Detail[:500]
	}
	return e
}

// Rank orders suppression reasons: a suppression is replaced only by one of a higher rank
// (and, between event-caused ones of rank 3, by an earlier event). Soft bounces rank
// lowest because a later delivery lifts them; people's decisions (manual, list_import)
// come next; hard bounces, complaints and unsubscribes rank highest: removing a stale
// manual entry must never silently drop a complaint.
func Rank(reason string) int {
	switch reason {
	case mailtrail.ReasonSoftBounce:
		return 1
	case mailtrail.ReasonManual, mailtrail.ReasonListImport:
		return 2
	case mailtrail.ReasonHardBounce, mailtrail.ReasonComplaint, mailtrail.ReasonUnsubscribed:
		return 3
	}
	return 0
}

// Replaces reports whether next should replace cur as an address's suppression. A higher
// rank wins. Between hard bounces, complaints and unsubscribes the earliest event wins
// (ties by event id), so the outcome does not depend on arrival order. A manual or
// imported suppression keeps the first one added. A soft-bounce suppression is always
// re-decided from the run, so a new one replaces the old.
func Replaces(cur, next Suppress) bool {
	if cur.Reason == "" {
		return next.Reason != ""
	}
	rc, rn := Rank(cur.Reason), Rank(next.Reason)
	if rc != rn {
		return rn > rc
	}
	switch rn {
	case 3:
		if next.At != cur.At {
			return next.At < cur.At
		}
		return next.EventID < cur.EventID
	case 1:
		return next != cur
	}
	return false
}

// SoftBounce is one soft bounce of a run.
type SoftBounce struct {
	At      int64  `json:"t"`
	EventID string `json:"id"`
	Source  string `json:"s,omitempty"`
	Detail  string `json:"d,omitempty"`
}

func (b SoftBounce) less(o SoftBounce) bool {
	if b.At != o.At {
		return b.At < o.At
	}
	return b.EventID < o.EventID
}

// SoftBounceState is the compact, order-independent summary of an address's soft bounces:
// the time of the latest reset event and the newest (at most MaxSoftBounceLimit) soft
// bounces after it, oldest first. It is a function of the set of events seen, whatever
// their order or repetition: a reset at R keeps only bounces after R, and keeping the
// newest ones is enough because a later reset can only drop the oldest.
type SoftBounceState struct {
	ResetAt int64        `json:"r,omitempty"`
	Bounces []SoftBounce `json:"b,omitempty"`
}

// Reset records a reset event (delivery, human open or click) at time at. A bounce at the
// same millisecond as a reset does not count: the address is given the benefit of the doubt.
func (s SoftBounceState) Reset(at int64) SoftBounceState {
	if at <= s.ResetAt {
		return s
	}
	i := sort.Search(len(s.Bounces), func(i int) bool { return s.Bounces[i].At > at })
	return SoftBounceState{ResetAt: at, Bounces: s.Bounces[i:len(s.Bounces):len(s.Bounces)]}
}

// Add records a soft bounce. A bounce not after the latest reset, or already present,
// changes nothing.
func (s SoftBounceState) Add(b SoftBounce) SoftBounceState {
	if b.At <= s.ResetAt {
		return s
	}
	i := sort.Search(len(s.Bounces), func(i int) bool { return !s.Bounces[i].less(b) })
	if i < len(s.Bounces) && s.Bounces[i].At == b.At && s.Bounces[i].EventID == b.EventID {
		return s
	}
	out := make([]SoftBounce, 0, len(s.Bounces)+1)
	out = append(out, s.Bounces[:i]...)
	out = append(out, b)
	out = append(out, s.Bounces[i:]...)
	if len(out) > MaxSoftBounceLimit {
		out = out[len(out)-MaxSoftBounceLimit:]
	}
	return SoftBounceState{ResetAt: s.ResetAt, Bounces: out}
}

// Decide reports whether the run suppresses the address under limit (clamped to
// 1..MaxSoftBounceLimit), and the newest soft bounce of the run as its cause.
func (s SoftBounceState) Decide(limit int) (bool, SoftBounce) {
	limit = ClampSoftBounceLimit(limit)
	if len(s.Bounces) < limit {
		return false, SoftBounce{}
	}
	return true, s.Bounces[len(s.Bounces)-1]
}

// ClampSoftBounceLimit returns limit within 1..MaxSoftBounceLimit, DefaultSoftBounceLimit
// for 0 or less.
func ClampSoftBounceLimit(limit int) int {
	if limit <= 0 {
		return DefaultSoftBounceLimit
	}
	return min(limit, MaxSoftBounceLimit)
}

// ApplySuppression folds one event into an address's suppression and soft-bounce state
// and returns both. Hard bounces, complaints and unsubscribes suppress at once; soft
// bounces suppress while the current run (bounces after the latest reset) holds at least
// limit of them, so a late delivery inside the run lifts a soft-bounce suppression, as if
// the events had arrived in order. A soft-bounce decision never replaces a suppression of
// a higher rank (see Rank): it never masks a hard bounce or a complaint.
func ApplySuppression(cur Suppress, soft SoftBounceState, e SuppressionEvent, limit int) (Suppress, SoftBounceState) {
	switch e.Signal {
	case SignalImmediate:
		next := Suppress{Reason: e.Reason, Source: e.Source, EventID: e.EventID, Detail: e.Detail, At: e.At}
		if Replaces(cur, next) {
			cur = next
		}
		return cur, soft
	case SignalSoftBounce:
		soft = soft.Add(SoftBounce{At: e.At, EventID: e.EventID, Source: e.Source, Detail: e.Detail})
	case SignalReset:
		soft = soft.Reset(e.At)
	default:
		return cur, soft
	}
	return DecideSoft(cur, soft, limit), soft
}

// DecideSoft returns cur as the soft-bounce run decides it: a soft_bounce suppression
// when the run reaches limit and nothing ranks higher, none when the run no longer
// reaches it and cur was a soft-bounce one; otherwise cur unchanged.
func DecideSoft(cur Suppress, soft SoftBounceState, limit int) Suppress {
	ok, cause := soft.Decide(limit)
	if !ok {
		if cur.Reason == mailtrail.ReasonSoftBounce {
			return Suppress{}
		}
		return cur
	}
	next := Suppress{Reason: mailtrail.ReasonSoftBounce, Source: cause.Source, EventID: cause.EventID, Detail: cause.Detail, At: cause.At}
	if Replaces(cur, next) {
		return next
	}
	return cur
}
