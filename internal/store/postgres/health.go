package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/connection"
)

// The connections' webhook health as every API node sees it (connection.HealthStore).

// healthErrorsKept is how many of a connection's newest errors are kept.
const healthErrorsKept = 20

var _ connection.HealthStore = (*DB)(nil)

// AddHealth adds what nodes recorded of connections' webhooks, in one transaction.
func (db *DB) AddHealth(ctx context.Context, deltas []connection.HealthDelta) error {
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		for _, d := range deltas {
			c := d.Counts
			last := map[string]int64{}
			for k, at := range d.LastErrorAt {
				last[k] = at.UnixMilli()
			}
			lastJSON, _ := json.Marshal(last)
			// The later time of each kind: the stored object's keys, overwritten by the
			// delta's where they are later.
			b.Queue(`INSERT INTO webhook_health AS h (conn_id, since, accepted_requests, accepted_events, duplicate_events, unattributed_events,
					replayed_requests, signature_failures, invalid_payloads, too_large, unavailable, internal_errors, last_error_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
				ON CONFLICT (conn_id) DO UPDATE SET since = least(h.since, excluded.since),
					accepted_requests = h.accepted_requests + excluded.accepted_requests,
					accepted_events = h.accepted_events + excluded.accepted_events,
					duplicate_events = h.duplicate_events + excluded.duplicate_events,
					unattributed_events = h.unattributed_events + excluded.unattributed_events,
					replayed_requests = h.replayed_requests + excluded.replayed_requests,
					signature_failures = h.signature_failures + excluded.signature_failures,
					invalid_payloads = h.invalid_payloads + excluded.invalid_payloads,
					too_large = h.too_large + excluded.too_large,
					unavailable = h.unavailable + excluded.unavailable,
					internal_errors = h.internal_errors + excluded.internal_errors,
					last_error_at = h.last_error_at || (SELECT coalesce(jsonb_object_agg(k, v), '{}') FROM jsonb_each(excluded.last_error_at) AS n(k, v)
						WHERE (h.last_error_at->>k) IS NULL OR (h.last_error_at->>k)::bigint < v::text::bigint)`,
				d.ConnID, d.First.UnixMilli(), c.AcceptedRequests, c.AcceptedEvents, c.DuplicateEvents, c.UnattributedEvents,
				c.ReplayedRequests, c.SignatureFailures, c.InvalidPayloads, c.TooLarge, c.Unavailable, c.InternalErrors, lastJSON)
			if len(d.Errors) == 0 {
				continue
			}
			at, kind, msg := make([]int64, len(d.Errors)), make([]string, len(d.Errors)), make([]string, len(d.Errors))
			for i, e := range d.Errors {
				at[i], kind[i], msg[i] = e.At.UnixMilli(), e.Kind, e.Message
			}
			b.Queue(`INSERT INTO webhook_errors (conn_id, at, kind, message)
				SELECT $1, a, k, m FROM unnest($2::bigint[], $3::text[], $4::text[]) WITH ORDINALITY AS v(a, k, m, i) ORDER BY i`, d.ConnID, at, kind, msg)
			b.Queue(`DELETE FROM webhook_errors WHERE conn_id = $1 AND id < (SELECT min(id) FROM
				(SELECT id FROM webhook_errors WHERE conn_id = $1 ORDER BY id DESC LIMIT $2) AS newest)`, d.ConnID, healthErrorsKept)
		}
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("postgres: webhook health: %w", err)
		}
		return nil
	})
}

// ConnectionHealth returns what the nodes recorded of connection connID's webhooks;
// false when nothing was.
func (db *DB) ConnectionHealth(ctx context.Context, connID string) (mailtrail.ConnectionHealth, bool, error) {
	out := mailtrail.ConnectionHealth{LastErrorAt: map[string]time.Time{}, RecentErrors: []mailtrail.ConnectionError{}}
	var since int64
	var lastJSON []byte
	c := &out.Counts
	err := db.pool.QueryRow(ctx, `SELECT since, accepted_requests, accepted_events, duplicate_events, unattributed_events, replayed_requests,
		signature_failures, invalid_payloads, too_large, unavailable, internal_errors, last_error_at FROM webhook_health WHERE conn_id = $1`, connID).
		Scan(&since, &c.AcceptedRequests, &c.AcceptedEvents, &c.DuplicateEvents, &c.UnattributedEvents, &c.ReplayedRequests,
			&c.SignatureFailures, &c.InvalidPayloads, &c.TooLarge, &c.Unavailable, &c.InternalErrors, &lastJSON)
	if errors.Is(err, pgx.ErrNoRows) {
		return out, false, nil
	}
	if err != nil {
		return out, false, fmt.Errorf("postgres: webhook health: %w", err)
	}
	out.Since = fromMS(since)
	var last map[string]int64
	if err := json.Unmarshal(lastJSON, &last); err != nil {
		return out, false, fmt.Errorf("postgres: webhook health: %w", err)
	}
	for k, ms := range last {
		out.LastErrorAt[k] = fromMS(ms)
	}
	rows, err := db.pool.Query(ctx, `SELECT at, kind, message FROM webhook_errors WHERE conn_id = $1 ORDER BY id DESC LIMIT $2`, connID, healthErrorsKept)
	if err != nil {
		return out, false, fmt.Errorf("postgres: webhook errors: %w", err)
	}
	var at int64
	var e mailtrail.ConnectionError
	if _, err := pgx.ForEachRow(rows, []any{&at, &e.Kind, &e.Message}, func() error {
		e.At = fromMS(at)
		out.RecentErrors = append(out.RecentErrors, e)
		return nil
	}); err != nil {
		return out, false, fmt.Errorf("postgres: webhook errors: %w", err)
	}
	return out, true, nil
}
