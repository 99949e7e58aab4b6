// Package segment answers segment rules — trees of has_done / has_not_done conditions on
// a customer's email events, combined with AND, OR and NOT — from an in-memory
// engagement index per organization: roaring bitmaps of customers per (event type,
// human-only, campaign, link, UTC day) and, per (event type, day), a compact log of the
// events themselves for the exact edges of windows and for "at least N times". The index
// is built from the store (Source) and kept current with committed events (Observe).
// Rules are pure data; evaluating one does no I/O.
package segment

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail"
)

// Limits of a rule: they bound the cost of one evaluation.
const (
	MaxDepth   = 64
	MaxNodes   = 1000
	MaxAtLeast = 65535
)

// Unit is a window unit.
type Unit string

// The window units. MONTH and YEAR are calendar months and years (UTC), the others fixed
// durations.
const (
	Minute Unit = "MINUTE"
	Hour   Unit = "HOUR"
	Day    Unit = "DAY"
	Week   Unit = "WEEK" // seven days
	Month  Unit = "MONTH"
	Year   Unit = "YEAR"
)

// Window is "within the last Value Units".
type Window struct {
	Value int  `json:"value"`
	Unit  Unit `json:"unit"`
}

// Since returns the start of the window ending at now: now minus the window, in UTC
// calendar terms for MONTH and YEAR (time.AddDate).
func (w Window) Since(now time.Time) time.Time {
	now = now.UTC()
	switch w.Unit {
	case Minute:
		return now.Add(-time.Duration(w.Value) * time.Minute)
	case Hour:
		return now.Add(-time.Duration(w.Value) * time.Hour)
	case Day:
		return now.Add(-time.Duration(w.Value) * 24 * time.Hour)
	case Week:
		return now.Add(-time.Duration(w.Value) * 7 * 24 * time.Hour)
	case Month:
		return now.AddDate(0, -w.Value, 0)
	default:
		return now.AddDate(-w.Value, 0, 0)
	}
}

// Cond is one event condition: the customer has (or, Negated, has not) done Type at least
// AtLeast times in the time range, for Campaign and Link when set, counting only human
// opens and clicks when Human.
type Cond struct {
	Negated  bool
	Type     mailtrail.EventType
	Campaign string // "" = any campaign
	Link     string // clicks only; "" = any link
	Human    bool   // opens and clicks only
	AtLeast  int    // ≥ 1
	Within   *Window
	From     time.Time // since / between: From ≤ occurred_at; zero = no bound
	To       time.Time // between: occurred_at < To; zero = no bound
}

// Range returns the condition's time range at now as unix milliseconds, [from, to); to is
// 1<<62 when the range has no end. A window ends nowhere: an event stamped after now
// (clock skew) is inside "the last 30 days".
func (c *Cond) Range(now time.Time) (from, to int64) {
	from, to = -1<<62, 1<<62
	switch {
	case c.Within != nil:
		from = c.Within.Since(now).UnixMilli()
	default:
		if !c.From.IsZero() {
			from = c.From.UnixMilli()
		}
		if !c.To.IsZero() {
			to = c.To.UnixMilli()
		}
	}
	return from, to
}

type kind uint8

const (
	kCond kind = iota
	kAnd
	kOr
	kNot
)

// Rule is a validated rule tree.
type Rule struct{ root *node }

type node struct {
	kind kind
	kids []*node
	cond *Cond
}

// Conds returns the rule's conditions in document order.
func (r *Rule) Conds() []*Cond {
	var out []*Cond
	var walk func(n *node)
	walk = func(n *node) {
		if n.cond != nil {
			out = append(out, n.cond)
		}
		for _, k := range n.kids {
			walk(k)
		}
	}
	walk(r.root)
	return out
}

// Parse validates a rule in its JSON form. A bad rule gives an EINVALID error whose
// message starts with the JSON pointer of the failing node (e.g.
// "/and/1/not/has_done/within/unit") and whose first detail carries it as Field.
func Parse(b []byte) (*Rule, error) { return ParseAt(b, "") }

// ParseAt is Parse for a rule found at the JSON pointer base of a larger document: error
// pointers start with base.
func ParseAt(b []byte, base string) (*Rule, error) {
	p := parser{}
	n, err := p.node(b, base, 0)
	if err != nil {
		return nil, err
	}
	return &Rule{root: n}, nil
}

type parser struct{ nodes int }

func invalid(ptr, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if ptr == "" {
		ptr = "/"
	}
	return &mailtrail.Error{Code: mailtrail.EINVALID, Message: ptr + ": " + msg,
		Details: []mailtrail.ItemError{{Field: ptr, Code: mailtrail.EINVALID, Message: msg}}}
}

// object decodes b as a JSON object, keeping its keys' order.
func object(b []byte, ptr string) (map[string]json.RawMessage, []string, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return nil, nil, invalid(ptr, "expected an object")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	m := map[string]json.RawMessage{}
	var keys []string
	if _, err := dec.Token(); err != nil {
		return nil, nil, invalid(ptr, "malformed JSON")
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, nil, invalid(ptr, "malformed JSON")
		}
		k, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, invalid(ptr+"/"+escape(k), "malformed JSON")
		}
		if _, dup := m[k]; dup {
			return nil, nil, invalid(ptr+"/"+escape(k), "duplicate key")
		}
		m[k] = v
		keys = append(keys, k)
	}
	return m, keys, nil
}

// escape encodes a key as a JSON pointer token (RFC 6901).
func escape(k string) string {
	return strings.ReplaceAll(strings.ReplaceAll(k, "~", "~0"), "/", "~1")
}

func (p *parser) node(b []byte, ptr string, depth int) (*node, error) {
	if depth > MaxDepth {
		return nil, invalid(ptr, "rule nested deeper than %d", MaxDepth)
	}
	if p.nodes++; p.nodes > MaxNodes {
		return nil, invalid(ptr, "rule has more than %d nodes", MaxNodes)
	}
	m, keys, err := object(b, ptr)
	if err != nil {
		return nil, err
	}
	if len(keys) != 1 {
		return nil, invalid(ptr, "a node has exactly one key: and, or, not, has_done or has_not_done")
	}
	k := keys[0]
	v := m[k]
	here := ptr + "/" + escape(k)
	switch k {
	case "and", "or":
		var list []json.RawMessage
		if err := json.Unmarshal(v, &list); err != nil {
			return nil, invalid(here, "expected an array of rules")
		}
		if len(list) == 0 {
			return nil, invalid(here, "empty list")
		}
		n := &node{kind: kAnd}
		if k == "or" {
			n.kind = kOr
		}
		for i, item := range list {
			kid, err := p.node(item, here+"/"+strconv.Itoa(i), depth+1)
			if err != nil {
				return nil, err
			}
			n.kids = append(n.kids, kid)
		}
		return n, nil
	case "not":
		kid, err := p.node(v, here, depth+1)
		if err != nil {
			return nil, err
		}
		return &node{kind: kNot, kids: []*node{kid}}, nil
	case "has_done", "has_not_done":
		c, err := parseCond(v, here)
		if err != nil {
			return nil, err
		}
		c.Negated = k == "has_not_done"
		return &node{kind: kCond, cond: c}, nil
	}
	return nil, invalid(here, "unknown operator %q (and, or, not, has_done, has_not_done)", k)
}

func parseCond(b []byte, ptr string) (*Cond, error) {
	m, keys, err := object(b, ptr)
	if err != nil {
		return nil, err
	}
	c := &Cond{AtLeast: 1}
	for _, k := range keys {
		v := m[k]
		here := ptr + "/" + escape(k)
		switch k {
		case "event":
			var s string
			if json.Unmarshal(v, &s) != nil {
				return nil, invalid(here, "expected a string")
			}
			t, err := mailtrail.ParseEventType(s)
			if err != nil {
				return nil, invalid(here, "unknown event type %q ("+mailtrail.EventTypeNames+")", s)
			}
			c.Type = t
		case "campaign_id", "link_url":
			var s string
			if json.Unmarshal(v, &s) != nil || s == "" {
				return nil, invalid(here, "expected a non-empty string")
			}
			if k == "campaign_id" {
				c.Campaign = s
			} else {
				c.Link = s
			}
		case "human_only":
			if json.Unmarshal(v, &c.Human) != nil {
				return nil, invalid(here, "expected true or false")
			}
		case "at_least":
			var n int
			if json.Unmarshal(v, &n) != nil || n < 1 || n > MaxAtLeast {
				return nil, invalid(here, "expected an integer from 1 to %d", MaxAtLeast)
			}
			c.AtLeast = n
		case "within":
			w, err := parseWindow(v, here)
			if err != nil {
				return nil, err
			}
			c.Within = w
		case "since":
			t, err := parseTime(v, here)
			if err != nil {
				return nil, err
			}
			c.From = t
		case "between":
			bm, _, err := object(v, here)
			if err != nil {
				return nil, err
			}
			for bk := range bm {
				if bk != "from" && bk != "to" {
					return nil, invalid(here+"/"+escape(bk), "unknown field (from, to)")
				}
			}
			for _, f := range []string{"from", "to"} {
				if bm[f] == nil {
					return nil, invalid(here+"/"+f, "required")
				}
			}
			if c.From, err = parseTime(bm["from"], here+"/from"); err != nil {
				return nil, err
			}
			if c.To, err = parseTime(bm["to"], here+"/to"); err != nil {
				return nil, err
			}
			if !c.From.Before(c.To) {
				return nil, invalid(here+"/to", "must be after from")
			}
		default:
			return nil, invalid(here, "unknown field")
		}
	}
	switch {
	case c.Type == mailtrail.EventUnknown:
		return nil, invalid(ptr+"/event", "required")
	case c.Human && c.Type != mailtrail.EventOpened && c.Type != mailtrail.EventClicked:
		return nil, invalid(ptr+"/human_only", "only opens and clicks have a human-only figure")
	case c.Link != "" && c.Type != mailtrail.EventClicked:
		return nil, invalid(ptr+"/link_url", "only clicks have a link")
	}
	n := 0
	for _, k := range keys {
		if k == "within" || k == "since" || k == "between" {
			if n++; n > 1 {
				return nil, invalid(ptr+"/"+k, "within, since and between exclude each other")
			}
		}
	}
	return c, nil
}

// maxWindow bounds a window's value per unit (about a century).
var maxWindow = map[Unit]int{Minute: 100 * 366 * 24 * 60, Hour: 100 * 366 * 24, Day: 100 * 366, Week: 100 * 53, Month: 1200, Year: 100}

func parseWindow(b []byte, ptr string) (*Window, error) {
	m, _, err := object(b, ptr)
	if err != nil {
		return nil, err
	}
	for k := range m {
		if k != "value" && k != "unit" {
			return nil, invalid(ptr+"/"+escape(k), "unknown field (value, unit)")
		}
	}
	w := &Window{}
	var unit string
	if m["unit"] == nil {
		return nil, invalid(ptr+"/unit", "required")
	}
	if json.Unmarshal(m["unit"], &unit) != nil {
		return nil, invalid(ptr+"/unit", "expected a string")
	}
	w.Unit = Unit(strings.ToUpper(unit))
	limit, ok := maxWindow[w.Unit]
	if !ok {
		return nil, invalid(ptr+"/unit", "unknown unit %q (MINUTE, HOUR, DAY, WEEK, MONTH, YEAR)", unit)
	}
	if m["value"] == nil {
		return nil, invalid(ptr+"/value", "required")
	}
	if json.Unmarshal(m["value"], &w.Value) != nil || w.Value < 1 || w.Value > limit {
		return nil, invalid(ptr+"/value", "expected an integer from 1 to %d", limit)
	}
	return w, nil
}

func parseTime(b []byte, ptr string) (time.Time, error) {
	var s string
	if json.Unmarshal(b, &s) != nil {
		return time.Time{}, invalid(ptr, "expected an RFC 3339 time")
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, invalid(ptr, "expected an RFC 3339 time, e.g. 2026-01-31T00:00:00Z")
	}
	return t.UTC(), nil
}
