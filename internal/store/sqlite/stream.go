package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/mailtrail/mailtrail"
)

// StreamHead returns the stream position of the organization's latest stored event (0
// when it has none): a stream or subscription starting now reads past it.
func (db *DB) StreamHead(ctx context.Context, orgID string) (int64, error) {
	org, err := db.orgInternal(ctx, orgID)
	if err != nil {
		return 0, err
	}
	var head int64
	if err := db.rrow(ctx, `SELECT coalesce(max(id), 0) FROM events WHERE org_id = ?`, []any{org}, &head); err != nil {
		return 0, fmt.Errorf("sqlite: stream head: %w", err)
	}
	return head, nil
}

// StreamEnd returns the position of the latest stored event of any organization (0 when
// there is none).
func (db *DB) StreamEnd(ctx context.Context) (int64, error) {
	var end int64
	if err := db.rrow(ctx, `SELECT coalesce(max(id), 0) FROM events`, nil, &end); err != nil {
		return 0, fmt.Errorf("sqlite: stream end: %w", err)
	}
	return end, nil
}

// streamWhere is the WHERE clause (joined with AND) and its arguments of the events of
// org in (after, upTo] that pass f, over events e joined with their campaign c.
func streamWhere(org int64, f mailtrail.StreamFilter, after, upTo int64) ([]string, []any) {
	where := []string{"e.org_id = ?", "e.id > ?", "e.id <= ?"}
	args := []any{org, after, upTo}
	where, args = typeIn(where, args, f.Types)
	if f.CampaignID != "" {
		// By name, not by row: a campaign that does not exist yet may begin mid-stream.
		where, args = append(where, "c.name = ?"), append(args, f.CampaignID)
	}
	return where, args
}

// typeIn adds "e.type IN (…)" of types (none: no condition) to a WHERE clause.
func typeIn(where []string, args []any, types []mailtrail.EventType) ([]string, []any) {
	if len(types) == 0 {
		return where, args
	}
	ph := make([]string, len(types))
	for i, t := range types {
		ph[i] = "?"
		args = append(args, int(t))
	}
	return append(where, "e.type IN ("+strings.Join(ph, ",")+")"), args
}

// recentWindow bounds how far back StreamRecent looks, in stream positions.
const recentWindow = 100000

// StreamRecent returns the position a stream starts after to begin with the
// organization's last n events that pass f: the position just before the n-th most
// recent of them. It looks back over the last 100,000 positions of the store at most;
// with fewer than n matching events there, it returns the start of that window (all of
// them). ENOTFOUND for an unknown organization.
func (db *DB) StreamRecent(ctx context.Context, orgID string, f mailtrail.StreamFilter, n int) (int64, error) {
	head, err := db.StreamHead(ctx, orgID)
	if err != nil || head == 0 || n <= 0 {
		return head, err
	}
	org, _ := db.orgInternal(ctx, orgID)
	floor := max(0, head-recentWindow)
	where, args := streamWhere(org, f, floor, head)
	var nth int64
	err = db.rrow(ctx, `SELECT e.id FROM events e INDEXED BY events_org JOIN campaigns c ON c.id = e.campaign_id
		WHERE `+strings.Join(where, " AND ")+` ORDER BY e.id DESC LIMIT 1 OFFSET ?`, append(args, n-1), &nth)
	if errors.Is(err, sql.ErrNoRows) {
		return floor, nil
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: stream recent: %w", err)
	}
	return nth - 1, nil
}

// EventsAfter returns, in stream order, at most limit events of the organization past
// position after that pass f, and the position up to which it looked: the last event's
// when it returns limit of them, else the organization's head when it read (so a caller
// skips events the filter refused without reading them again). The position is the
// events' rowid, read on the (org_id, id) index: one writer assigns it in commit order,
// so an event committed later never has a smaller one. ENOTFOUND for an unknown
// organization.
func (db *DB) EventsAfter(ctx context.Context, orgID string, after int64, f mailtrail.StreamFilter, limit int) ([]mailtrail.SeqEvent, int64, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	head, err := db.StreamHead(ctx, orgID)
	if err != nil {
		return nil, after, err
	}
	if head <= after {
		return nil, after, nil
	}
	org, _ := db.orgInternal(ctx, orgID)
	where, args := streamWhere(org, f, after, head)
	args = append(args, limit)
	rows, err := db.rquery(ctx, `SELECT e.id, e.uid, c.name, u.ext_id, e.email, m.ref, e.type, e.occurred_at, e.received_at,
		e.esp_message_id, e.source, e.class, e.reasons, e.counted, coalesce(e.meta, ''), m.f_sent
		FROM events e INDEXED BY events_org JOIN campaigns c ON c.id = e.campaign_id JOIN customers u ON u.id = e.customer_id
		JOIN messages m ON m.id = e.message_id
		WHERE `+strings.Join(where, " AND ")+` ORDER BY e.id LIMIT ?`, args...)
	if err != nil {
		return nil, after, fmt.Errorf("sqlite: events after: %w", err)
	}
	defer rows.Close()
	var out []mailtrail.SeqEvent
	for rows.Next() {
		var (
			se                        mailtrail.SeqEvent
			typ, occ, recv            int64
			ref                       []byte
			src, class, reasons, meta string
			sent                      int64
		)
		ev := &se.Event
		if err := rows.Scan(&se.Seq, &ev.ID, &ev.CampaignID, &ev.CustomerID, &ev.CustomerEmail, &ref, &typ, &occ, &recv,
			&ev.ESPMessageID, &src, &class, &reasons, &ev.Counted, &meta, &sent); err != nil {
			return nil, after, fmt.Errorf("sqlite: events after: %w", err)
		}
		if err := fillEvent(ev, orgID, se.Seq, ref, typ, occ, recv, src, class, reasons, meta, sent); err != nil {
			return nil, after, err
		}
		out = append(out, se)
	}
	if err := rows.Err(); err != nil {
		return nil, after, fmt.Errorf("sqlite: events after: %w", err)
	}
	if len(out) == limit {
		return out, out[len(out)-1].Seq, nil
	}
	return out, head, nil
}
