package clickhouse

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/attribute"
)

// EraseCustomer gives every event of org's customer oldID the customer id newID (the
// "erased:" id the SQLite store gave the customer): ClickHouse keeps no address, IP or
// user agent, so the CRM's id is all of the customer's personal data it holds. The
// events themselves, and so every count, are kept.
//
// It is one mutation (ALTER TABLE … UPDATE), which rewrites the customer column of the
// parts holding the customer's rows in the background, and it returns once the server
// has applied it to every part: reads never see the old id again. Rows inserted after
// it returns are untouched, so a new customer who reuses the CRM's id keeps it; so are
// rows the shipper copies later, which is why the caller erases once the shipment has
// passed the customer's events in the log. It is idempotent: a second call, or a
// customer without events, changes nothing. When ctx ends first the error says so; the
// mutation stays queued on the server, and calling again is safe.
//
// It refuses empty arguments and attribute.UnknownCustomer (the placeholder of
// unattributed webhook events, not a customer) as oldID, with EINVALID.
func (db *DB) EraseCustomer(ctx context.Context, org, oldID, newID string) error {
	return db.EraseCustomers(ctx, org, []Rename{{Old: oldID, New: newID}})
}

// Rename is one erased customer: its CRM id, its new id, and the last log position
// (pos) whose events it renames; 0 renames them all.
type Rename struct {
	Old, New string
	UpTo     uint64
}

// EraseCustomers is EraseCustomer for several customers of org at once, in one mutation:
// the worker carries the erasures that queued up since its last look together, so they
// cost the table one rewrite. A rename with UpTo leaves the customer's events past that
// log position alone: they belong to a customer the CRM created again with the same id
// after the erasure.
func (db *DB) EraseCustomers(ctx context.Context, org string, rs []Rename) error {
	if org == "" || len(rs) == 0 {
		return mailtrail.Errorf(mailtrail.EINVALID, "an organization, a customer id and its new id are needed to erase a customer")
	}
	var conds, cases []string
	for _, r := range rs {
		switch {
		case r.Old == "" || r.New == "":
			return mailtrail.Errorf(mailtrail.EINVALID, "an organization, a customer id and its new id are needed to erase a customer")
		case r.Old == attribute.UnknownCustomer:
			return mailtrail.Errorf(mailtrail.EINVALID, "%s is the placeholder of unattributed webhook events, not a customer", attribute.UnknownCustomer)
		}
		c := "customer = " + Quote(r.Old)
		if r.UpTo > 0 {
			c += fmt.Sprintf(" AND pos <= %d", r.UpTo)
		}
		conds = append(conds, "("+c+")")
		cases = append(cases, "("+c+")", Quote(r.New))
	}
	return db.mutate(ctx, "erase customer", fmt.Sprintf("ALTER TABLE %s UPDATE customer = multiIf(%s, customer) WHERE org = %s AND (%s)",
		db.table("events"), strings.Join(cases, ", "), Quote(org), strings.Join(conds, " OR ")))
}

// DeleteExpired deletes org's events received before cutoff (its retention), leaving
// every other organization's and the newer ones. received_at holds whole seconds: a
// cutoff within a second keeps that second's events, which go at the next cutoff past
// it; no event received at or after cutoff is ever deleted.
//
// It is one mutation (ALTER TABLE … DELETE), which rewrites the parts holding expired
// rows in the background, and it returns once the server has applied it to every part:
// CountsByType and Rows then count none of the deleted events. Rows inserted after it
// returns are untouched, even when received before cutoff (events a lagging shipper
// copies late go at the next call). It is idempotent. When ctx ends first the error
// says so; the mutation stays queued on the server, and calling again is safe. An
// empty org is refused with EINVALID.
func (db *DB) DeleteExpired(ctx context.Context, org string, cutoff time.Time) error {
	if org == "" {
		return mailtrail.Errorf(mailtrail.EINVALID, "an organization is needed to delete its expired events")
	}
	// The cutoff goes as Unix seconds: a number compares with a DateTime whatever the
	// server's time zone, where a date and time in a string would be read in it.
	return db.mutate(ctx, "delete expired", fmt.Sprintf("ALTER TABLE %s DELETE WHERE org = %s AND received_at < toDateTime(%d)",
		db.table("events"), Quote(org), seconds(cutoff)))
}

// CountExpired returns how many rows of org's events were received before cutoff: what
// DeleteExpired would delete. A mutation rewrites the parts it touches, so a caller asks
// this first and mutates only when there is something to delete.
func (db *DB) CountExpired(ctx context.Context, org string, cutoff time.Time) (int64, error) {
	out, err := db.do(ctx, fmt.Sprintf("SELECT count() FROM %s WHERE org = %s AND received_at < toDateTime(%d)",
		db.table("events"), Quote(org), seconds(cutoff)), nil)
	if err != nil {
		return 0, fmt.Errorf("clickhouse: count expired: %w", err)
	}
	var n int64
	if _, err := fmt.Sscan(out, &n); err != nil {
		return 0, fmt.Errorf("clickhouse: count expired: answer %q", out)
	}
	return n, nil
}

// mutationPoll bounds the wait between two looks at a mutation's progress: the first
// look comes soon (a small mutation is done in milliseconds), later ones less often.
const (
	mutationPollMin = 10 * time.Millisecond
	mutationPollMax = time.Second
)

// mutate runs alter, an ALTER TABLE … UPDATE or DELETE of the events table, and waits
// until the server has applied it, within ctx. what names the operation in errors.
//
// The server applies a table's mutations in order and gives none an id its ALTER
// returns (18.16 has no mutations_sync either), so the wait is for the table to have no
// mutation left to do: the one just added is done then, and so is every earlier one.
// On releases whose system.mutations has latest_fail_reason (18.16's has not: there a
// mutation that fails stays to do, with no reason, until ctx ends), a failure is
// reported as soon as the server records it, as ClickHouse's own mutations_sync does;
// the server keeps retrying the mutation.
func (db *DB) mutate(ctx context.Context, what, alter string) error {
	reason := "''"
	out, err := db.do(ctx, `SELECT count() FROM system.columns
		WHERE database = 'system' AND table = 'mutations' AND name = 'latest_fail_reason'`, nil)
	if err != nil {
		return fmt.Errorf("clickhouse: %s: %w", what, err)
	}
	if strings.TrimSpace(out) == "1" {
		reason = "latest_fail_reason"
	}
	if err := db.exec(ctx, alter); err != nil {
		return fmt.Errorf("clickhouse: %s: %w", what, err)
	}
	status := fmt.Sprintf(`SELECT mutation_id, parts_to_do, %s FROM system.mutations
		WHERE database = %s AND table = 'events' AND is_done = 0 ORDER BY create_time, mutation_id FORMAT TabSeparated`,
		reason, Quote(db.database))
	for wait := mutationPollMin; ; wait = min(2*wait, mutationPollMax) {
		out, err := db.do(ctx, status, nil)
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("clickhouse: %s: mutation of %s not seen done (it stays queued on the server): %w",
					what, db.table("events"), ctx.Err())
			}
			return fmt.Errorf("clickhouse: %s: mutation status: %w", what, err)
		}
		if out == "" {
			return nil
		}
		var first []string // the oldest mutation to do: the one the others wait for
		for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
			f := strings.Split(line, "\t") // TabSeparated escapes the tabs and newlines of a value
			if len(f) != 3 {
				return fmt.Errorf("clickhouse: %s: mutation status: answer %q", what, line)
			}
			if first == nil {
				first = f
			}
			if fail := f[2]; fail != "" {
				if db.password != "" {
					fail = strings.ReplaceAll(fail, db.password, "xxxxx")
				}
				if len(fail) > 300 {
					fail = fail[:300] + "…"
				}
				return fmt.Errorf("clickhouse: %s: mutation %s of %s failed, %s parts to do (the server retries it): %s",
					what, f[0], db.table("events"), f[1], fail)
			}
		}
		sleep(ctx, wait)
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("clickhouse: %s: mutation %s of %s not done, %s parts to do (it stays queued on the server): %w",
				what, first[0], db.table("events"), first[1], err)
		}
	}
}
