package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/segment"
	"github.com/mailtrail/mailtrail/internal/store/clickhouse"
)

// chSQL translates segment rules into ClickHouse SQL over the raw events table, as
// plain SQL that runs on 18.16 and on current releases (no groupBitmap, no arrays):
// every node becomes a SELECT of distinct customer ids, combined with IN, NOT IN and
// UNION ALL. The rule's conditions are parsed by segment.ParseAt (windows, validation);
// only and / or / not are read here.
//
// What the raw table holds decides what it can answer: the universe of not and
// has_not_done is the organization's distinct customers in events (the index's is those
// with any counted event; ClickHouse has no customers table), human is class ” or
// 'human' as the store reads it (segment.StoredEvent), and "at least N times" counts
// distinct event ids, since a block copied twice holds its rows twice until merges.
type chSQL struct {
	table string // database.events
	org   string
	now   time.Time
}

// sets returns the SELECT of rule's customers (column customer) as one SELECT per
// condition, combined with IN, NOT IN and UNION ALL.
func (q chSQL) sets(rule []byte) (string, error) { return q.node(rule, "") }

// universe returns the organization's distinct customers.
func (q chSQL) universe() string {
	return "SELECT DISTINCT customer FROM " + q.table + " WHERE org = " + clickhouse.Quote(q.org)
}

// ruleKey returns a rule node's one key (an operator or a condition), its value, and
// for "and" and "or" the list of nodes it holds.
func ruleKey(b []byte, ptr string) (k string, v json.RawMessage, kids []json.RawMessage, err error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil || len(m) != 1 {
		return "", nil, nil, fmt.Errorf("%s: a node has exactly one key", ptr)
	}
	for k, v = range m {
	}
	if k == "and" || k == "or" {
		if err := json.Unmarshal(v, &kids); err != nil || len(kids) == 0 {
			return "", nil, nil, fmt.Errorf("%s/%s: expected a list", ptr, k)
		}
	}
	return k, v, kids, nil
}

// node returns the SELECT of the distinct customers for whom the rule node b holds.
func (q chSQL) node(b []byte, ptr string) (string, error) {
	k, v, kids, err := ruleKey(b, ptr)
	if err != nil {
		return "", err
	}
	here := ptr + "/" + k
	switch k {
	case "and", "or":
		if k == "or" {
			parts := make([]string, len(kids))
			for i, kid := range kids {
				s, err := q.node(kid, fmt.Sprintf("%s/%d", here, i))
				if err != nil {
					return "", err
				}
				parts[i] = "SELECT customer FROM (" + s + ")"
			}
			return "SELECT DISTINCT customer FROM (" + strings.Join(parts, " UNION ALL ") + ")", nil
		}
		return q.and(kids, here)
	case "not":
		s, err := q.node(v, here)
		if err != nil {
			return "", err
		}
		return q.minus(q.universe(), s), nil
	case "has_done", "has_not_done":
		c, err := q.cond(b, ptr)
		if err != nil {
			return "", err
		}
		s := q.condSet(c)
		if c.Negated {
			return q.minus(q.universe(), s), nil
		}
		return s, nil
	}
	return "", fmt.Errorf("%s: unknown operator", here)
}

// and intersects the positive terms and subtracts the negated ones, as the index does:
// the universe is read only when every term is negated.
func (q chSQL) and(kids []json.RawMessage, ptr string) (string, error) {
	var pos, neg []string
	for i, kid := range kids {
		here := fmt.Sprintf("%s/%d", ptr, i)
		var m map[string]json.RawMessage
		json.Unmarshal(kid, &m)
		switch {
		case m["not"] != nil:
			s, err := q.node(m["not"], here+"/not")
			if err != nil {
				return "", err
			}
			neg = append(neg, s)
		case m["has_not_done"] != nil:
			c, err := q.cond(kid, here)
			if err != nil {
				return "", err
			}
			neg = append(neg, q.condSet(c))
		default:
			s, err := q.node(kid, here)
			if err != nil {
				return "", err
			}
			pos = append(pos, s)
		}
	}
	base := q.universe()
	if len(pos) > 0 {
		base, pos = pos[0], pos[1:]
	}
	var where []string
	for _, s := range pos {
		where = append(where, "customer IN ("+s+")")
	}
	for _, s := range neg {
		where = append(where, "customer NOT IN ("+s+")")
	}
	if len(where) == 0 {
		return base, nil
	}
	return "SELECT customer FROM (" + base + ") WHERE " + strings.Join(where, " AND "), nil
}

// minus returns the customers of set a not in set b.
func (q chSQL) minus(a, b string) string {
	return "SELECT customer FROM (" + a + ") WHERE customer NOT IN (" + b + ")"
}

// cond parses the condition node b with the service's own parser.
func (q chSQL) cond(b []byte, ptr string) (*segment.Cond, error) {
	r, err := segment.ParseAt(b, ptr)
	if err != nil {
		return nil, err
	}
	return r.Conds()[0], nil
}

// condSet returns the customers who have done c (Negated ignored).
func (q chSQL) condSet(c *segment.Cond) string {
	where := append([]string{"org = " + clickhouse.Quote(q.org)}, q.rowFilter(c)...)
	s := "SELECT customer FROM " + q.table + " WHERE " + strings.Join(where, " AND ") + " GROUP BY customer"
	if c.AtLeast > 1 {
		s += fmt.Sprintf(" HAVING uniqExact(id) >= %d", c.AtLeast)
	}
	return s
}

// rowFilter returns the terms an event row of c meets (the organization aside).
func (q chSQL) rowFilter(c *segment.Cond) []string {
	where := []string{fmt.Sprintf("type = %d", c.Type)}
	if c.Campaign != "" {
		where = append(where, "campaign = "+clickhouse.Quote(c.Campaign))
	}
	if c.Link != "" {
		where = append(where, "link_url = "+clickhouse.Quote(c.Link))
	}
	if c.Human && (c.Type == mailtrail.EventOpened || c.Type == mailtrail.EventClicked) {
		where = append(where, "class IN ('', 'human')")
	}
	from, to := c.Range(q.now)
	if from > 0 {
		where = append(where, timeBound(from, ">"))
	}
	if to < 1<<62 {
		where = append(where, timeBound(to, "<"))
	}
	return where
}

// timeBound returns the condition occurred_at + occurred_ms ≥ ms (op ">") or < ms (op
// "<"), exact to the millisecond, on the DateTime column first so that the sorting key
// serves it.
func timeBound(ms int64, op string) string {
	sec, rest := ms/1000, ms%1000
	at := fmt.Sprintf("toDateTime(%d)", sec)
	switch {
	case op == ">" && rest == 0:
		return "occurred_at >= " + at
	case op == ">":
		return fmt.Sprintf("(occurred_at > %s OR (occurred_at = %s AND occurred_ms >= %d))", at, at, rest)
	case rest == 0:
		return "occurred_at < " + at
	}
	return fmt.Sprintf("(occurred_at < %s OR (occurred_at = %s AND occurred_ms < %d))", at, at, rest)
}

// scan is the other plan: one pass over the organization's events, grouped by customer,
// each condition an aggregate (countIf, or uniqExactIf of the id for "at least N times")
// and the rule the HAVING expression over them. The universe is the groups themselves; a
// rule without a negation reads only the rows some condition takes.
func (q chSQL) scan(rule []byte) (string, error) {
	var conds []string
	negated := false
	having, err := q.expr(rule, "", &conds, &negated)
	if err != nil {
		return "", err
	}
	where := "org = " + clickhouse.Quote(q.org)
	if !negated {
		where += " AND (" + strings.Join(conds, " OR ") + ")"
	}
	return "SELECT customer FROM " + q.table + " WHERE " + where + " GROUP BY customer HAVING " + having, nil
}

// expr returns the HAVING expression of the rule node b, adding each condition's row
// filter to conds and setting negated when a not or has_not_done is met.
func (q chSQL) expr(b []byte, ptr string, conds *[]string, negated *bool) (string, error) {
	k, v, kids, err := ruleKey(b, ptr)
	if err != nil {
		return "", err
	}
	here := ptr + "/" + k
	switch k {
	case "and", "or":
		parts := make([]string, len(kids))
		for i, kid := range kids {
			s, err := q.expr(kid, fmt.Sprintf("%s/%d", here, i), conds, negated)
			if err != nil {
				return "", err
			}
			parts[i] = s
		}
		return "(" + strings.Join(parts, " "+strings.ToUpper(k)+" ") + ")", nil
	case "not":
		*negated = true
		s, err := q.expr(v, here, conds, negated)
		if err != nil {
			return "", err
		}
		return "NOT " + s, nil
	case "has_done", "has_not_done":
		c, err := q.cond(b, ptr)
		if err != nil {
			return "", err
		}
		f := strings.Join(q.rowFilter(c), " AND ")
		*conds = append(*conds, "("+f+")")
		agg := "countIf(" + f + ") > 0"
		if c.AtLeast > 1 {
			agg = fmt.Sprintf("uniqExactIf(id, %s) >= %d", f, c.AtLeast)
		}
		if c.Negated {
			*negated = true
			return "NOT (" + agg + ")", nil
		}
		return "(" + agg + ")", nil
	}
	return "", fmt.Errorf("%s: unknown operator", here)
}
