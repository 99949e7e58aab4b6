package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/mailtrail/mailtrail"
)

// The event stream (the SSE stream and the subscriptions' outbox), as the SQLite store
// reads it (stream.go there): an organization's events in the order of their row id,
// which grows in commit order because the projection's writers serialize on the schema's
// write lock.

// StreamHead returns the stream position of the organization's latest stored event (0
// when it has none): a stream or subscription starting now reads past it.
func (db *DB) StreamHead(ctx context.Context, orgID string) (int64, error) {
	org, err := db.orgInternal(ctx, db.pool, orgID)
	if err != nil {
		return 0, err
	}
	var head int64
	if err := db.pool.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM events WHERE org_id = $1`, org).Scan(&head); err != nil {
		return 0, fmt.Errorf("postgres: stream head: %w", err)
	}
	return head, nil
}

// StreamEnd returns the position of the latest stored event of any organization (0 when
// there is none).
func (db *DB) StreamEnd(ctx context.Context) (int64, error) {
	var end int64
	if err := db.pool.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM events`).Scan(&end); err != nil {
		return 0, fmt.Errorf("postgres: stream end: %w", err)
	}
	return end, nil
}

// streamWhere is the WHERE clause (joined with AND) and its arguments ($1, $2, …) of the
// events of org in (after, upTo] that pass f, over events e joined with their campaign c.
func streamWhere(org int64, f mailtrail.StreamFilter, after, upTo int64) ([]string, []any) {
	where := []string{"e.org_id = $1", "e.id > $2", "e.id <= $3"}
	args := []any{org, after, upTo}
	if len(f.Types) > 0 {
		types := make([]int16, len(f.Types))
		for i, t := range f.Types {
			types[i] = int16(t)
		}
		args = append(args, types)
		where = append(where, "e.type = ANY($"+strconv.Itoa(len(args))+"::smallint[])")
	}
	if f.CampaignID != "" {
		// By name, not by row: a campaign that does not exist yet may begin mid-stream.
		args = append(args, f.CampaignID)
		where = append(where, "c.name = $"+strconv.Itoa(len(args)))
	}
	return where, args
}

// recentWindow bounds how far back StreamRecent looks, in stream positions.
const recentWindow = 100000

// StreamRecent returns the position a stream starts after to begin with the
// organization's last n events that pass f: the position just before the n-th most
// recent of them. It looks back over the last 100,000 positions at most; with fewer than
// n matching events there, it returns the start of that window (all of them). ENOTFOUND
// for an unknown organization.
func (db *DB) StreamRecent(ctx context.Context, orgID string, f mailtrail.StreamFilter, n int) (int64, error) {
	head, err := db.StreamHead(ctx, orgID)
	if err != nil || head == 0 || n <= 0 {
		return head, err
	}
	org, _ := db.orgInternal(ctx, db.pool, orgID)
	floor := max(0, head-recentWindow)
	where, args := streamWhere(org, f, floor, head)
	args = append(args, n-1)
	var nth int64
	err = db.pool.QueryRow(ctx, `SELECT e.id FROM events e JOIN campaigns c ON c.id = e.campaign_id
		WHERE `+strings.Join(where, " AND ")+` ORDER BY e.id DESC LIMIT 1 OFFSET $`+strconv.Itoa(len(args)), args...).Scan(&nth)
	if errors.Is(err, pgx.ErrNoRows) {
		return floor, nil
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: stream recent: %w", err)
	}
	return nth - 1, nil
}

// EventsAfter returns, in stream order, at most limit events of the organization past
// position after that pass f, and the position up to which it looked: the last event's
// when it returns limit of them, else the organization's head when it read (so a caller
// skips events the filter refused without reading them again). ENOTFOUND for an unknown
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
	org, _ := db.orgInternal(ctx, db.pool, orgID)
	where, args := streamWhere(org, f, after, head)
	args = append(args, limit)
	out, err := collect(ctx, db.pool, func(r pgx.CollectableRow) (mailtrail.SeqEvent, error) {
		var se mailtrail.SeqEvent
		id, _, err := scanEvent(r, orgID, &se.Event)
		se.Seq = id
		return se, err
	}, `SELECT `+eventCols+` FROM events e`+eventJoins+` WHERE `+strings.Join(where, " AND ")+` ORDER BY e.id LIMIT $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return nil, after, fmt.Errorf("postgres: events after: %w", err)
	}
	if len(out) == limit {
		return out, out[len(out)-1].Seq, nil
	}
	return out, head, nil
}
