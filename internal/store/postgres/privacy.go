package postgres

// Privacy: erasing a customer's personal data, the retention of raw events and the
// pruning of idempotency keys, as the SQLite store does them (internal/store/sqlite,
// privacy.go; docs/privacy.md). None touches an aggregate: figures stay what they were
// when the raw events they were counted from are scrubbed or gone. Each runs in write
// transactions of the projection (writeTx), so it serializes with the workers' batches.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/attribute"
	"github.com/mailtrail/mailtrail/internal/rules"
	"github.com/mailtrail/mailtrail/internal/storekit"
)

// DefaultRetentionChunk is how many rows one retention or pruning transaction deletes at
// most.
const DefaultRetentionChunk = 5000

// EraseCustomer erases the personal data of an organization's customer in one
// transaction, keeping every aggregate as it is, exactly as the SQLite store does:
//   - raw events: the address is emptied and the metadata keys of
//     storekit.ErasedMetaKeys are removed; the address is cut out of the reason text;
//   - messages and the customer: the address is emptied; the customer's id becomes
//     "erased:" and 16 random hex characters, so the CRM's id no longer finds anything;
//   - suppressions (organization-wide and per topic), their history, soft-bounce runs and
//     resubscribes of every address the customer had are kept under
//     mailtrail.EmailHash of the address, so it stays suppressed without being stored.
//
// ENOTFOUND for a customer the organization does not have (an erased one included) and
// for an unknown organization.
func (db *DB) EraseCustomer(ctx context.Context, orgID, customerID string) (*mailtrail.EraseResult, error) {
	return db.Erase(ctx, orgID, customerID, Erasure{})
}

// Erasure is how serve erases a customer in the cluster's PostgreSQL: under the id it
// gives the customer in its own store, and for the raw events in ClickHouse too.
type Erasure struct {
	// NewID is the erased customer's new id; "" draws one (storekit.NewErasedID).
	NewID string
	// ForClickHouse queues the erasure for the raw events in ClickHouse, in the same
	// transaction (the erasures table): the worker renames the customer there once it
	// has shipped the log up to LogPosition (PendingErasures, ErasureShipped).
	ForClickHouse bool
	LogPosition   uint64
}

// Erase is EraseCustomer as e says.
func (db *DB) Erase(ctx context.Context, orgID, customerID string, e Erasure) (*mailtrail.EraseResult, error) {
	newID := e.NewID
	if newID == "" {
		newID = storekit.NewErasedID()
	}
	org, err := db.orgInternal(ctx, db.pool, orgID)
	if err != nil {
		return nil, err
	}
	if customerID == attribute.UnknownCustomer {
		return nil, mailtrail.Errorf(mailtrail.EINVALID, "%s is the placeholder of unattributed webhook events, not a customer", attribute.UnknownCustomer)
	}
	res := &mailtrail.EraseResult{Customer: mailtrail.ErasedCustomer{OrgID: orgID, OldID: customerID, NewID: newID}}
	err = db.writeTx(ctx, func(tx pgx.Tx) error {
		var cust int64
		var email string
		err := tx.QueryRow(ctx, `SELECT id, email FROM customers WHERE org_id = $1 AND ext_id = $2`, org, customerID).Scan(&cust, &email)
		if errors.Is(err, pgx.ErrNoRows) {
			return mailtrail.Errorf(mailtrail.ENOTFOUND, "customer %q not found", customerID)
		}
		if err != nil {
			return fmt.Errorf("postgres: erase customer: %w", err)
		}
		addrs := []string{email}

		msgAddrs, err := collect(ctx, tx, pgx.RowTo[string], `SELECT DISTINCT email FROM messages WHERE customer_id = $1`, cust)
		if err != nil {
			return fmt.Errorf("postgres: erase messages: %w", err)
		}
		addrs = append(addrs, msgAddrs...)
		tag, err := tx.Exec(ctx, `UPDATE messages SET email = '' WHERE customer_id = $1`, cust)
		if err != nil {
			return fmt.Errorf("postgres: erase messages: %w", err)
		}
		res.Messages = int(tag.RowsAffected())

		// Events (events_customer): read them all, then rewrite them in one statement.
		type rawEvent struct {
			ID    int64
			Email string
			Meta  string
		}
		evs, err := collect(ctx, tx, pgx.RowToStructByPos[rawEvent], `SELECT id, email, coalesce(meta, '') FROM events WHERE customer_id = $1 ORDER BY id`, cust)
		if err != nil {
			return fmt.Errorf("postgres: erase events: %w", err)
		}
		for _, e := range evs {
			addrs = append(addrs, e.Email)
		}
		norm, scrub := storekit.ErasedAddresses(addrs)
		ids, metas := make([]int64, len(evs)), make([]*string, len(evs))
		for i, e := range evs {
			m, err := storekit.ScrubMeta(e.Meta, scrub)
			if err != nil {
				return fmt.Errorf("postgres: erase event %d: %w", e.ID, err)
			}
			ids[i] = e.ID
			if s, ok := m.(string); ok {
				metas[i] = &s
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE events e SET email = '', meta = v.meta FROM unnest($1::bigint[], $2::text[]) AS v(id, meta)
			WHERE e.id = v.id`, ids, metas); err != nil {
			return fmt.Errorf("postgres: erase events: %w", err)
		}
		res.Events = len(evs)

		if _, err := tx.Exec(ctx, `UPDATE customers SET email = '', ext_id = $1 WHERE id = $2`, newID, cust); err != nil {
			return fmt.Errorf("postgres: erase customer: %w", err)
		}
		var gen int64
		if err := tx.QueryRow(ctx, `UPDATE store_generation SET generation = generation + 1 RETURNING generation`).Scan(&gen); err != nil {
			return fmt.Errorf("postgres: erase customer: %w", err)
		}
		now := db.now()
		if _, err := tx.Exec(ctx, `DELETE FROM erasure_renames WHERE at < $1`, now.Add(-RenameKeep).UnixMilli()); err != nil {
			return fmt.Errorf("postgres: erase customer: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO erasure_renames (generation, org, old_id, new_id, at) VALUES ($1, $2, $3, $4, $5)`,
			gen, orgID, customerID, newID, now.UnixMilli()); err != nil {
			return fmt.Errorf("postgres: erase customer: %w", err)
		}
		if e.ForClickHouse {
			if _, err := tx.Exec(ctx, `INSERT INTO erasures (org_id, old_id, new_id, pos, at) VALUES ($1, $2, $3, $4, $5)`,
				org, customerID, newID, int64(e.LogPosition), db.now().UnixMilli()); err != nil {
				return fmt.Errorf("postgres: erase customer: %w", err)
			}
		}
		custID := func(c string) string {
			if c == customerID {
				return newID
			}
			return c
		}
		for _, a := range norm {
			moved, err := hashSuppression(ctx, tx, org, a, custID, scrub)
			if err != nil {
				return err
			}
			if moved {
				res.Suppressions++
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// PendingErasure is an erasure the raw events in ClickHouse have yet to follow.
type PendingErasure struct {
	ID           int64
	OrgID        string // public
	OldID, NewID string
	LogPosition  uint64
}

// PendingErasures returns, oldest first, the erasures queued for ClickHouse whose log
// position is at most shipped (every event they concern is there), at most limit.
func (db *DB) PendingErasures(ctx context.Context, shipped uint64, limit int) ([]PendingErasure, error) {
	out, err := collect(ctx, db.pool, func(row pgx.CollectableRow) (PendingErasure, error) {
		var p PendingErasure
		var pos int64
		err := row.Scan(&p.ID, &p.OrgID, &p.OldID, &p.NewID, &pos)
		p.LogPosition = uint64(pos)
		return p, err
	}, `SELECT e.id, o.public_id, e.old_id, e.new_id, e.pos FROM erasures e JOIN orgs o ON o.id = e.org_id
		WHERE e.pos <= $1 ORDER BY e.id LIMIT $2`, int64(shipped), limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: pending erasures: %w", err)
	}
	return out, nil
}

// PendingErasureCount returns how many erasures are queued for ClickHouse, whatever
// their position: the worker's gauge.
func (db *DB) PendingErasureCount(ctx context.Context) (int64, error) {
	var n int64
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM erasures`).Scan(&n); err != nil {
		return 0, fmt.Errorf("postgres: pending erasures: %w", err)
	}
	return n, nil
}

// ErasureShipped forgets a queued erasure once ClickHouse has it.
func (db *DB) ErasureShipped(ctx context.Context, id int64) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM erasures WHERE id = $1`, id); err != nil {
		return fmt.Errorf("postgres: erasure shipped: %w", err)
	}
	return nil
}

// collect runs a query with q and returns its rows, each read by fn.
func collect[T any](ctx context.Context, q querier, fn pgx.RowToFunc[T], sql string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, fn)
}

// hashSuppression moves an address's suppression (organization-wide and per topic), its
// history, its soft-bounce run and its resubscribes to the address's hash, cutting the
// address out of their texts and renaming the erased customer. When the hash holds a
// suppression already (another customer with the address was erased before), the one
// that ranks higher (rules.Replaces) is kept. It reports whether the address had an
// organization-wide suppression.
func hashSuppression(ctx context.Context, tx pgx.Tx, org int64, addr string, custID, scrub func(string) string) (bool, error) {
	h := mailtrail.EmailHash(addr)
	rows, err := loadSuppressionRows(ctx, tx, org, []string{addr, h})
	if err != nil {
		return false, err
	}
	cur, prev := rows[addr], rows[h]
	b := &pgx.Batch{}
	if cur.found {
		if prev.found && !rules.Replaces(prev.s, cur.s) {
			b.Queue(`DELETE FROM suppressions WHERE org_id = $1 AND email = $2`, org, addr)
		} else {
			var note string
			if err := tx.QueryRow(ctx, `SELECT note FROM suppressions WHERE org_id = $1 AND email = $2`, org, addr).Scan(&note); err != nil {
				return false, fmt.Errorf("postgres: erase suppression: %w", err)
			}
			if prev.found {
				b.Queue(`DELETE FROM suppressions WHERE org_id = $1 AND email = $2`, org, h)
			}
			b.Queue(`UPDATE suppressions SET email = $1, display_email = '', customer_id = $2, detail = $3, note = $4 WHERE org_id = $5 AND email = $6`,
				h, custID(cur.customerID), scrub(cur.s.Detail), scrub(note), org, addr)
		}
	}

	// Per topic: the address's rows, and the hash's where a topic has both.
	type topicRow struct {
		Email, Topic, Customer, Detail, Note, Reason, Source, EventID string
		At                                                            int64
	}
	trs, err := collect(ctx, tx, pgx.RowToStructByPos[topicRow], `SELECT email, topic, customer_id, detail, note, reason, source, event_id, occurred_at
		FROM topic_suppressions WHERE org_id = $1 AND email IN ($2, $3)`, org, addr, h)
	if err != nil {
		return false, fmt.Errorf("postgres: erase topic suppressions: %w", err)
	}
	hashed := map[string]rules.Suppress{}
	for _, r := range trs {
		if r.Email == h {
			hashed[r.Topic] = rules.Suppress{Reason: r.Reason, Source: r.Source, EventID: r.EventID, Detail: r.Detail, At: r.At}
		}
	}
	for _, r := range trs {
		if r.Email != addr {
			continue
		}
		s := rules.Suppress{Reason: r.Reason, Source: r.Source, EventID: r.EventID, Detail: r.Detail, At: r.At}
		if p, ok := hashed[r.Topic]; ok && !rules.Replaces(p, s) {
			b.Queue(`DELETE FROM topic_suppressions WHERE org_id = $1 AND email = $2 AND topic = $3`, org, addr, r.Topic)
			continue
		}
		if _, ok := hashed[r.Topic]; ok {
			b.Queue(`DELETE FROM topic_suppressions WHERE org_id = $1 AND email = $2 AND topic = $3`, org, h, r.Topic)
		}
		b.Queue(`UPDATE topic_suppressions SET email = $1, display_email = '', customer_id = $2, detail = $3, note = $4
			WHERE org_id = $5 AND email = $6 AND topic = $7`, h, custID(r.Customer), scrub(r.Detail), scrub(r.Note), org, addr, r.Topic)
	}
	// A resubscribe under the hash is replaced by the address's, as SQLite's UPDATE OR
	// REPLACE does.
	b.Queue(`INSERT INTO topic_resubscribes (org_id, email, topic, at) SELECT org_id, $3, topic, at FROM topic_resubscribes
		WHERE org_id = $1 AND email = $2 ON CONFLICT (org_id, email, topic) DO UPDATE SET at = EXCLUDED.at`, org, addr, h)
	b.Queue(`DELETE FROM topic_resubscribes WHERE org_id = $1 AND email = $2`, org, addr)

	// History, in the order it was written.
	type histRow struct {
		ID                     int64
		Customer, Detail, Note string
	}
	hist, err := collect(ctx, tx, pgx.RowToStructByPos[histRow], `SELECT id, customer_id, detail, note FROM suppression_history WHERE org_id = $1 AND email = $2 ORDER BY id`,
		org, addr)
	if err != nil {
		return false, fmt.Errorf("postgres: erase suppression history: %w", err)
	}
	for _, r := range hist {
		b.Queue(`UPDATE suppression_history SET email = $1, customer_id = $2, detail = $3, note = $4 WHERE id = $5`,
			h, custID(r.Customer), scrub(r.Detail), scrub(r.Note), r.ID)
	}

	// The soft-bounce run: the address's replaces the hash's.
	b.Queue(`INSERT INTO soft_bounces (org_id, email, state) SELECT org_id, $3, state FROM soft_bounces WHERE org_id = $1 AND email = $2
		ON CONFLICT (org_id, email) DO UPDATE SET state = EXCLUDED.state`, org, addr, h)
	b.Queue(`DELETE FROM soft_bounces WHERE org_id = $1 AND email = $2`, org, addr)
	if err := sendBatch(ctx, tx, b, "erase suppressions"); err != nil {
		return false, err
	}
	return cur.found, nil
}

// checkErased adds to found the organization-wide suppressions of the addresses of raw
// (as given) whose key found lacks and that are kept under their hash
// (storekit.ErasedHashes), by key, as the SQLite store's checkErased: one statement, and
// only when an address was not found.
func (db *DB) checkErased(ctx context.Context, org int64, orgID string, raw []string, found map[string]mailtrail.Suppression) error {
	look := storekit.NewErasedLookup(raw, found)
	if len(look.Hashes) == 0 {
		return nil
	}
	rows, err := db.pool.Query(ctx, `SELECT `+fmt.Sprintf(suppressionColsS, "''")+` FROM unnest($2::text[]) AS k(email)
		JOIN suppressions s ON s.org_id = $1 AND s.email = k.email`, org, look.Hashes)
	return scanSuppressions(rows, err, orgID, "check erased suppressions", func(s mailtrail.Suppression, key string) { look.Add(found, key, s) })
}

// DeleteExpiredEvents deletes, for every organization with a retention (retention_days
// > 0), its raw events received more than that many days before now. It walks each
// organization's events oldest first on events_org, at most chunk (default
// DefaultRetentionChunk) per transaction so the workers' batches go on between chunks,
// and stops at the first event not past the cutoff (ids grow with the log's order).
// Aggregates are kept. It returns how many events it deleted, also when it stops on an
// error or when ctx ends.
func (db *DB) DeleteExpiredEvents(ctx context.Context, now time.Time, chunk int) (int, error) {
	if chunk <= 0 {
		chunk = DefaultRetentionChunk
	}
	type orgRetention struct{ ID, Days int64 }
	orgs, err := collect(ctx, db.pool, pgx.RowToStructByPos[orgRetention], `SELECT id, retention_days FROM orgs WHERE retention_days > 0 ORDER BY id`)
	if err != nil {
		return 0, fmt.Errorf("postgres: retention: %w", err)
	}
	total := 0
	for _, o := range orgs {
		cutoff := now.Add(-time.Duration(o.Days) * 24 * time.Hour).UnixMilli()
		for {
			if err := ctx.Err(); err != nil {
				return total, err
			}
			var n int64
			err := db.writeTx(ctx, func(tx pgx.Tx) error {
				tag, err := tx.Exec(ctx, `WITH c AS (SELECT id, received_at FROM events WHERE org_id = $1 ORDER BY id LIMIT $2),
					stop AS (SELECT coalesce(min(id), 9223372036854775807) AS id FROM c WHERE received_at >= $3)
					DELETE FROM events e USING c, stop WHERE e.id = c.id AND c.id < stop.id`, o.ID, chunk, cutoff)
				n = tag.RowsAffected()
				return err
			})
			total += int(n)
			if err != nil {
				return total, fmt.Errorf("postgres: retention: %w", err)
			}
			if n < int64(chunk) {
				break
			}
		}
	}
	return total, nil
}

// Retentions returns the retention in days of every organization that has one
// (retention_days > 0), by public id: what the worker deletes from ClickHouse.
func (db *DB) Retentions(ctx context.Context) (map[string]int, error) {
	type row struct {
		ID   string
		Days int
	}
	rows, err := collect(ctx, db.pool, pgx.RowToStructByPos[row], `SELECT public_id, retention_days FROM orgs WHERE retention_days > 0`)
	if err != nil {
		return nil, fmt.Errorf("postgres: retentions: %w", err)
	}
	out := make(map[string]int, len(rows))
	for _, r := range rows {
		out[r.ID] = r.Days
	}
	return out, nil
}

// PruneIdempotencyKeys forgets the idempotency keys of events received before the cutoff
// (callers pass now minus ingest.IdempotencyHorizon), at most chunk per transaction, and
// returns how many it removed, also when it stops on an error.
func (db *DB) PruneIdempotencyKeys(ctx context.Context, cutoff time.Time, chunk int) (int, error) {
	if chunk <= 0 {
		chunk = DefaultRetentionChunk
	}
	total := 0
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		var n int64
		err := db.writeTx(ctx, func(tx pgx.Tx) error {
			tag, err := tx.Exec(ctx, `DELETE FROM idempotency_keys WHERE (org_id, key) IN
				(SELECT org_id, key FROM idempotency_keys WHERE created_at < $1 ORDER BY created_at LIMIT $2)`, cutoff.UnixMilli(), chunk)
			n = tag.RowsAffected()
			return err
		})
		total += int(n)
		if err != nil {
			return total, fmt.Errorf("postgres: prune idempotency keys: %w", err)
		}
		if n < int64(chunk) {
			return total, nil
		}
	}
}
