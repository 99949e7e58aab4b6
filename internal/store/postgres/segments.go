package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/segment"
)

// What the segment index reads at start (segment.Source), as the SQLite store reads it
// (segments.go there): an API node of the cluster builds its index from PostgreSQL.

var _ segment.Source = (*DB)(nil)

// Orgs lists the organizations, oldest first.
func (db *DB) Orgs(ctx context.Context) ([]mailtrail.Organization, error) {
	out, err := collect(ctx, db.pool, func(r pgx.CollectableRow) (mailtrail.Organization, error) {
		var o mailtrail.Organization
		var created int64
		err := r.Scan(&o.ID, &o.Name, &o.Timezone, &created)
		o.CreatedAt = fromMS(created)
		return o, err
	}, `SELECT public_id, name, timezone, created_at FROM orgs ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: organizations: %w", err)
	}
	return out, nil
}

// SegmentCustomers calls fn for an organization's customers with a row id above after, in
// row id order.
func (db *DB) SegmentCustomers(ctx context.Context, orgID string, after int64, fn func(row int64, ext string)) error {
	org, err := db.orgInternal(ctx, db.pool, orgID)
	if err != nil {
		return err
	}
	rows, err := db.pool.Query(ctx, `SELECT id, ext_id FROM customers WHERE org_id = $1 AND id > $2 ORDER BY id`, org, after)
	if err != nil {
		return fmt.Errorf("postgres: segment customers: %w", err)
	}
	var id int64
	var ext string
	_, err = pgx.ForEachRow(rows, []any{&id, &ext}, func() error { fn(id, ext); return nil })
	if err != nil {
		return fmt.Errorf("postgres: segment customers: %w", err)
	}
	return nil
}

// SegmentCampaigns calls fn for every campaign of an organization.
func (db *DB) SegmentCampaigns(ctx context.Context, orgID string, fn func(row int64, name string)) error {
	org, err := db.orgInternal(ctx, db.pool, orgID)
	if err != nil {
		return err
	}
	rows, err := db.pool.Query(ctx, `SELECT id, name FROM campaigns WHERE org_id = $1`, org)
	if err != nil {
		return fmt.Errorf("postgres: segment campaigns: %w", err)
	}
	var id int64
	var name string
	_, err = pgx.ForEachRow(rows, []any{&id, &name}, func() error { fn(id, name); return nil })
	if err != nil {
		return fmt.Errorf("postgres: segment campaigns: %w", err)
	}
	return nil
}

// segmentLink is the link of a click event e, ” for other events.
const segmentLink = `CASE WHEN e.type = 4 THEN coalesce(e.meta::jsonb ->> 'link_url', '') ELSE '' END`

// SegmentEvents calls fn for at most limit counted events of an organization with
// after < id ≤ upTo, in id order, read on events_org. It returns how many rows it read
// and the last id.
func (db *DB) SegmentEvents(ctx context.Context, orgID string, after, upTo int64, limit int, fn func(*segment.StoredEvent)) (int, int64, error) {
	org, err := db.orgInternal(ctx, db.pool, orgID)
	if err != nil {
		return 0, 0, err
	}
	rows, err := db.pool.Query(ctx, `SELECT e.id, e.customer_id, e.campaign_id, e.type, e.occurred_at, e.counted AND e.occurred_at <= e.received_at + $5,
		e.class IN ('', 'human'), `+segmentLink+`
		FROM events e WHERE e.org_id = $1 AND e.id > $2 AND e.id <= $3 ORDER BY e.id LIMIT $4`, org, after, upTo, limit, segment.MaxLead)
	if err != nil {
		return 0, 0, fmt.Errorf("postgres: segment events: %w", err)
	}
	n := 0
	var last int64
	var e segment.StoredEvent
	var typ int16
	var counted bool
	_, err = pgx.ForEachRow(rows, []any{&e.ID, &e.Customer, &e.Campaign, &typ, &e.At, &counted, &e.Human, &e.Link}, func() error {
		n++
		last = e.ID
		e.Type = mailtrail.EventType(typ)
		if counted && e.Type.Valid() {
			fn(&e)
		}
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("postgres: segment events: %w", err)
	}
	return n, last, nil
}

// SegmentTail calls fn with an organization's counted events of after < id ≤ upTo in id
// order, then with the counted clicks of id ≤ after of the messages those events belong
// to (Relabel set), labelled as they are now; see segment.Source.
func (db *DB) SegmentTail(ctx context.Context, orgID string, after, upTo int64, fn func(*segment.TailEvent)) error {
	org, err := db.orgInternal(ctx, db.pool, orgID)
	if err != nil {
		return err
	}
	// Both reads run in one transaction without parallel workers: the relabel read's
	// DISTINCT over a tail of a few hundred thousand events, aggregated in parallel and
	// spilled at the default work_mem, was seen to take minutes where a plan without
	// workers takes seconds (docs/cluster.md, "An API node's index from PostgreSQL").
	return pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL max_parallel_workers_per_gather = 0`); err != nil {
			return fmt.Errorf("postgres: segment tail: %w", err)
		}
		return db.segmentTail(ctx, tx, org, after, upTo, fn)
	})
}

// segmentTail is SegmentTail's two reads in q.
func (db *DB) segmentTail(ctx context.Context, q querier, org, after, upTo int64, fn func(*segment.TailEvent)) error {
	scan := func(sql string, relabel bool, args ...any) error {
		rows, err := q.Query(ctx, sql, args...)
		if err != nil {
			return fmt.Errorf("postgres: segment tail: %w", err)
		}
		e := segment.TailEvent{Relabel: relabel}
		var typ int16
		_, err = pgx.ForEachRow(rows, []any{&typ, &e.At, &e.Human, &e.Link, &e.Customer, &e.Campaign}, func() error {
			e.Type = mailtrail.EventType(typ)
			if e.Type.Valid() {
				fn(&e)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("postgres: segment tail: %w", err)
		}
		return nil
	}
	const cols = `e.type, e.occurred_at, e.class IN ('', 'human'), ` + segmentLink + `, cu.ext_id, cp.name`
	err := scan(`SELECT `+cols+` FROM events e JOIN customers cu ON cu.id = e.customer_id JOIN campaigns cp ON cp.id = e.campaign_id
		WHERE e.org_id = $1 AND e.id > $2 AND e.id <= $3 AND e.counted AND e.occurred_at <= e.received_at + $4 ORDER BY e.id`, false, org, after, upTo, segment.MaxLead)
	if err != nil {
		return err
	}
	return scan(`SELECT `+cols+` FROM (SELECT DISTINCT message_id FROM events WHERE org_id = $1 AND id > $2 AND id <= $3) t
		JOIN events e ON e.message_id = t.message_id AND e.type = 4
		JOIN customers cu ON cu.id = e.customer_id JOIN campaigns cp ON cp.id = e.campaign_id
		WHERE e.id <= $2 AND e.counted AND e.occurred_at <= e.received_at + $4 ORDER BY e.id`, true, org, after, upTo, segment.MaxLead)
}

// SegmentHorizons returns the retention and segment floor of every organization that has
// either, by public id (see segment.Horizon).
func (db *DB) SegmentHorizons(ctx context.Context) (map[string]segment.Horizon, error) {
	type row struct {
		ID    string
		Days  int
		Floor int32
	}
	rows, err := collect(ctx, db.pool, pgx.RowToStructByPos[row], `SELECT public_id, retention_days, segment_floor FROM orgs
		WHERE retention_days > 0 OR segment_floor > $1`, segment.NoFloor)
	if err != nil {
		return nil, fmt.Errorf("postgres: segment horizons: %w", err)
	}
	out := make(map[string]segment.Horizon, len(rows))
	for _, r := range rows {
		out[r.ID] = segment.Horizon{RetentionDays: r.Days, Floor: r.Floor}
	}
	return out, nil
}

// LastEventID returns the largest event row id committed (0 when there is none).
func (db *DB) LastEventID(ctx context.Context) (int64, error) {
	return db.StreamEnd(ctx)
}
