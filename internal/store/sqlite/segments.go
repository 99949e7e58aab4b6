package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/segment"
)

var _ segment.Source = (*DB)(nil)

// SegmentCustomers calls fn for an organization's customers with a row id above after, in
// row id order (the primary key: no sort).
func (db *DB) SegmentCustomers(ctx context.Context, orgID string, after int64, fn func(row int64, ext string)) error {
	org, err := db.orgInternal(ctx, orgID)
	if err != nil {
		return err
	}
	rows, err := db.r.QueryContext(ctx, `SELECT id, ext_id FROM customers WHERE id > ? AND org_id = ? ORDER BY id`, after, org)
	if err != nil {
		return fmt.Errorf("sqlite: segment customers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var ext string
		if err := rows.Scan(&id, &ext); err != nil {
			return fmt.Errorf("sqlite: segment customers: %w", err)
		}
		fn(id, ext)
	}
	return rows.Err()
}

// SegmentCampaigns calls fn for every campaign of an organization.
func (db *DB) SegmentCampaigns(ctx context.Context, orgID string, fn func(row int64, name string)) error {
	org, err := db.orgInternal(ctx, orgID)
	if err != nil {
		return err
	}
	rows, err := db.r.QueryContext(ctx, `SELECT id, name FROM campaigns WHERE org_id = ?`, org)
	if err != nil {
		return fmt.Errorf("sqlite: segment campaigns: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return fmt.Errorf("sqlite: segment campaigns: %w", err)
		}
		fn(id, name)
	}
	return rows.Err()
}

// SegmentEvents calls fn for at most limit counted events of an organization with
// after < id ≤ upTo, in id order, read on the (org_id, id) index. It returns how many
// rows it read and the last id.
func (db *DB) SegmentEvents(ctx context.Context, orgID string, after, upTo int64, limit int, fn func(*segment.StoredEvent)) (int, int64, error) {
	org, err := db.orgInternal(ctx, orgID)
	if err != nil {
		return 0, 0, err
	}
	rows, err := db.rquery(ctx, `SELECT id, customer_id, campaign_id, type, occurred_at, counted AND occurred_at <= received_at + ?, class IN ('', 'human'),
		CASE WHEN type = 4 THEN coalesce(json_extract(meta, '$.link_url'), '') ELSE '' END
		FROM events WHERE org_id = ? AND id > ? AND id <= ? ORDER BY id LIMIT ?`, segment.MaxLead, org, after, upTo, limit)
	if err != nil {
		return 0, 0, fmt.Errorf("sqlite: segment events: %w", err)
	}
	defer rows.Close()
	n := 0
	var last int64
	var e segment.StoredEvent
	for rows.Next() {
		var typ int
		var counted bool
		if err := rows.Scan(&e.ID, &e.Customer, &e.Campaign, &typ, &e.At, &counted, &e.Human, &e.Link); err != nil {
			return 0, 0, fmt.Errorf("sqlite: segment events: %w", err)
		}
		n++
		last = e.ID
		e.Type = mailtrail.EventType(typ)
		if counted && e.Type.Valid() {
			fn(&e)
		}
	}
	return n, last, rows.Err()
}

// SegmentTail calls fn with an organization's counted events of after < id ≤ upTo in id
// order, then with the counted clicks of id ≤ after of the messages those events belong
// to (Relabel set), labelled as they are now; see segment.Source. The tail is read on the
// (org_id, id) index, the clicks on events_message_clicks.
func (db *DB) SegmentTail(ctx context.Context, orgID string, after, upTo int64, fn func(*segment.TailEvent)) error {
	org, err := db.orgInternal(ctx, orgID)
	if err != nil {
		return err
	}
	scan := func(q string, relabel bool, args ...any) error {
		rows, err := db.rquery(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("sqlite: segment tail: %w", err)
		}
		defer rows.Close()
		e := segment.TailEvent{Relabel: relabel}
		for rows.Next() {
			var typ int
			if err := rows.Scan(&typ, &e.At, &e.Human, &e.Link, &e.Customer, &e.Campaign); err != nil {
				return fmt.Errorf("sqlite: segment tail: %w", err)
			}
			e.Type = mailtrail.EventType(typ)
			if e.Type.Valid() {
				fn(&e)
			}
		}
		return rows.Err()
	}
	const cols = `e.type, e.occurred_at, e.class IN ('', 'human'),
		CASE WHEN e.type = 4 THEN coalesce(json_extract(e.meta, '$.link_url'), '') ELSE '' END, cu.ext_id, cp.name`
	err = scan(`SELECT `+cols+` FROM events e JOIN customers cu ON cu.id = e.customer_id JOIN campaigns cp ON cp.id = e.campaign_id
		WHERE e.org_id = ? AND e.id > ? AND e.id <= ? AND e.counted = 1 AND e.occurred_at <= e.received_at + ? ORDER BY e.id`, false, org, after, upTo, segment.MaxLead)
	if err != nil {
		return err
	}
	return scan(`SELECT `+cols+` FROM (SELECT DISTINCT message_id FROM events WHERE org_id = ? AND id > ? AND id <= ?) t
		JOIN events e ON e.message_id = t.message_id AND e.type = 4
		JOIN customers cu ON cu.id = e.customer_id JOIN campaigns cp ON cp.id = e.campaign_id
		WHERE e.id <= ? AND e.counted = 1 AND e.occurred_at <= e.received_at + ? ORDER BY e.id`, true, org, after, upTo, after, segment.MaxLead)
}

// SegmentHorizons returns the retention and segment floor of every organization that has
// either, by public id (see segment.Horizon).
func (db *DB) SegmentHorizons(ctx context.Context) (map[string]segment.Horizon, error) {
	rows, err := db.rquery(ctx, `SELECT public_id, retention_days, segment_floor FROM orgs WHERE retention_days > 0 OR segment_floor > ?`, segment.NoFloor)
	if err != nil {
		return nil, fmt.Errorf("sqlite: segment horizons: %w", err)
	}
	defer rows.Close()
	out := map[string]segment.Horizon{}
	for rows.Next() {
		var id string
		var h segment.Horizon
		if err := rows.Scan(&id, &h.RetentionDays, &h.Floor); err != nil {
			return nil, fmt.Errorf("sqlite: segment horizons: %w", err)
		}
		out[id] = h
	}
	return out, rows.Err()
}

// LastEventID returns the largest event row id committed (0 when there is none).
func (db *DB) LastEventID(ctx context.Context) (int64, error) {
	var id sql.NullInt64
	if err := db.rrow(ctx, `SELECT max(id) FROM events`, nil, &id); err != nil {
		return 0, fmt.Errorf("sqlite: last event id: %w", err)
	}
	return id.Int64, nil
}

// Generation returns the store's generation: a counter bumped in the transaction of every
// erasure, and of a retention delete that removes the store's last event (migration 019):
// the changes to stored events and customers that do not come through the ingest
// pipeline's change-sets and that the segment index does not follow by itself.
func (db *DB) Generation(ctx context.Context) (int64, error) {
	var gen int64
	if err := db.rrow(ctx, `SELECT gen FROM store_generation WHERE id = 1`, nil, &gen); err != nil {
		return 0, fmt.Errorf("sqlite: store generation: %w", err)
	}
	return gen, nil
}

// bumpGeneration adds one to the store's generation, in tx.
func bumpGeneration(tx *txc) error {
	if _, err := tx.exec(`UPDATE store_generation SET gen = gen + 1 WHERE id = 1`); err != nil {
		return fmt.Errorf("sqlite: store generation: %w", err)
	}
	return nil
}
