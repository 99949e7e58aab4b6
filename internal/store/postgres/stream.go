package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/mailtrail/mailtrail"
)

// The event stream (the SSE stream, the subscriptions' outbox, the segment index's tail
// and an API node's feed), as the SQLite store reads it (stream.go there): an
// organization's events in the order of their row id. Row ids are drawn from a sequence
// as rows are inserted, so with several writers at once (partitions, streamTx) a
// transaction may commit an id below one already committed. A reader that passed that
// id would never see it. So every transaction that inserts events first takes a shared
// advisory lock that says where its ids start (markInsert), and readers read only up to
// the stream's end: below every id a transaction still inserting may hold (StreamEnd).

// markInsert marks tx as inserting events, before it draws any id: a shared advisory
// lock (streamTag, the low 32 bits of the last id drawn, offset into int4), held to the
// end of tx. Every id tx draws is above that value, and the value is at or above the
// stream's end when the mark is taken, so the end never moves back. Shared locks never
// wait for each other.
func (db *DB) markInsert(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock_shared($1::int4,
		(((CASE WHEN is_called THEN last_value ELSE last_value - 1 END) & 4294967295) - 2147483648)::int4) FROM events_id_seq`,
		db.streamTag); err != nil {
		return fmt.Errorf("postgres: mark the event insert: %w", err)
	}
	return nil
}

// StreamEnd returns the stream's end: the largest position up to which every event is
// committed, or never will be (no transaction still inserting events can commit an id
// at or below it); 0 when there is none. It reads the sequence's last value first, then
// the marks of the transactions inserting (markInsert): a transaction that drew an id
// before the first read had marked itself before, so the second read sees its mark
// unless it has ended; one that draws after draws above the last value.
func (db *DB) StreamEnd(ctx context.Context) (int64, error) {
	var top int64
	if err := db.pool.QueryRow(ctx, `SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM events_id_seq`).Scan(&top); err != nil {
		return 0, fmt.Errorf("postgres: stream end: %w", err)
	}
	rows, err := db.pool.Query(ctx, `SELECT objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2 AND classid = $1::bigint::oid
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`, int64(db.streamTag))
	if err != nil {
		return 0, fmt.Errorf("postgres: stream end: %w", err)
	}
	marks, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return 0, fmt.Errorf("postgres: stream end: %w", err)
	}
	end := top
	for _, m := range marks {
		end = min(end, markedBelow(top, m))
	}
	return max(end, 0), nil
}

// markedBelow returns the value a mark stands for: the largest value at or below top
// whose low 32 bits are the mark's (objid, the int4 key read as an oid). Marks are of
// transactions in progress, whose values are within 2^32 ids of the sequence's top.
func markedBelow(top, objid int64) int64 {
	low := (int64(int32(uint32(objid))) + 1<<31) & (1<<32 - 1)
	return top - ((top-low)%(1<<32)+1<<32)%(1<<32)
}

// StreamHead returns the stream position of the organization's latest stored event, at
// most the stream's end (0 when it has none): a stream or subscription starting now
// reads past it.
func (db *DB) StreamHead(ctx context.Context, orgID string) (int64, error) {
	org, err := db.orgInternal(ctx, db.pool, orgID)
	if err != nil {
		return 0, err
	}
	end, err := db.StreamEnd(ctx)
	if err != nil {
		return 0, err
	}
	var head int64
	if err := db.pool.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM events WHERE org_id = $1 AND id <= $2`, org, end).Scan(&head); err != nil {
		return 0, fmt.Errorf("postgres: stream head: %w", err)
	}
	return head, nil
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

// Generation returns the store's generation: it moves with every erasure (see the
// SQLite store's).
func (db *DB) Generation(ctx context.Context) (int64, error) {
	var g int64
	if err := db.pool.QueryRow(ctx, `SELECT generation FROM store_generation`).Scan(&g); err != nil {
		return 0, fmt.Errorf("postgres: generation: %w", err)
	}
	return g, nil
}

// RenameKeep is how long the store keeps the rename of an erased customer for the API
// nodes' segment indexes (Renames) and for a retried erasure (ErasedAs): it names the
// customer's former id.
const RenameKeep = time.Hour

// ErasedAs returns the id the latest erasure of the organization's customer customerID
// gave it, when that erasure is less than RenameKeep old: a retry of an erasure whose
// answer was lost finds the customer gone, and gives the other store the same id.
func (db *DB) ErasedAs(ctx context.Context, orgID, customerID string) (string, bool, error) {
	var newID string
	err := db.pool.QueryRow(ctx, `SELECT new_id FROM erasure_renames WHERE org = $1 AND old_id = $2 AND at >= $3
		ORDER BY generation DESC LIMIT 1`, orgID, customerID, db.now().Add(-RenameKeep).UnixMilli()).Scan(&newID)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("postgres: erased customer: %w", err)
	}
	return newID, true, nil
}

// Renames returns the renames of the customers erased from generation after to upTo, in
// generation order, and whether they are all there: false when some were removed
// already (RenameKeep) and an index that wants them must be built again.
func (db *DB) Renames(ctx context.Context, after, upTo int64) ([]mailtrail.ErasedCustomer, bool, error) {
	if upTo <= after {
		return nil, true, nil
	}
	rows, err := db.pool.Query(ctx, `SELECT org, old_id, new_id FROM erasure_renames WHERE generation > $1 AND generation <= $2 ORDER BY generation`, after, upTo)
	if err != nil {
		return nil, false, fmt.Errorf("postgres: renames: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (mailtrail.ErasedCustomer, error) {
		var e mailtrail.ErasedCustomer
		err := r.Scan(&e.OrgID, &e.OldID, &e.NewID)
		return e, err
	})
	if err != nil {
		return nil, false, fmt.Errorf("postgres: renames: %w", err)
	}
	return out, int64(len(out)) == upTo-after, nil
}

// Feed returns the events of every organization with after < position ≤ upTo (upTo at
// most StreamEnd), in stream order, at most limit of them, and the position it read up
// to: the last event's when it returns limit, else upTo. An API node follows what the
// workers commit with it.
func (db *DB) Feed(ctx context.Context, after, upTo int64, limit int) ([]*mailtrail.Event, int64, error) {
	if upTo <= after {
		return nil, after, nil
	}
	rows, err := db.pool.Query(ctx, `SELECT e.org_id, `+eventCols+` FROM events e`+eventJoins+` WHERE e.id > $1 AND e.id <= $2 ORDER BY e.id LIMIT $3`,
		after, upTo, limit)
	if err != nil {
		return nil, after, fmt.Errorf("postgres: feed: %w", err)
	}
	defer rows.Close()
	var out []*mailtrail.Event
	var orgs []int64
	last := after
	for rows.Next() {
		ev := &mailtrail.Event{}
		var org int64
		id, _, err := scanEvent(orgRow{rows, &org}, "", ev)
		if err != nil {
			return nil, after, fmt.Errorf("postgres: feed: %w", err)
		}
		out, orgs, last = append(out, ev), append(orgs, org), id
	}
	if err := rows.Err(); err != nil {
		return nil, after, fmt.Errorf("postgres: feed: %w", err)
	}
	rows.Close()
	for i, ev := range out {
		if ev.OrgID, err = db.orgPublicID(ctx, db.pool, orgs[i]); err != nil {
			return nil, after, err
		}
	}
	if len(out) < limit {
		last = upTo
	}
	return out, last, nil
}

// FeedOrgs is Feed without the events: the organizations (public ids, each once, in the
// order first met) of the events with after < position ≤ upTo, at most limit events read,
// and the position it read up to. An API node follows with it while no journey wait
// needs the events themselves: one index range of two columns, no joins, no metadata.
func (db *DB) FeedOrgs(ctx context.Context, after, upTo int64, limit int) ([]string, int64, error) {
	if upTo <= after {
		return nil, after, nil
	}
	rows, err := db.pool.Query(ctx, `SELECT id, org_id FROM events WHERE id > $1 AND id <= $2 ORDER BY id LIMIT $3`, after, upTo, limit)
	if err != nil {
		return nil, after, fmt.Errorf("postgres: feed: %w", err)
	}
	defer rows.Close()
	var ids []int64
	last, n := after, 0
	for rows.Next() {
		var org int64
		if err := rows.Scan(&last, &org); err != nil {
			return nil, after, fmt.Errorf("postgres: feed: %w", err)
		}
		if n++; !slices.Contains(ids, org) {
			ids = append(ids, org)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, after, fmt.Errorf("postgres: feed: %w", err)
	}
	rows.Close()
	orgs := make([]string, len(ids))
	for i, id := range ids {
		if orgs[i], err = db.orgPublicID(ctx, db.pool, id); err != nil {
			return nil, after, err
		}
	}
	if n < limit {
		last = upTo
	}
	return orgs, last, nil
}

// orgRow is a row whose first column, the organization's row id, goes to org before the
// columns scanEvent reads.
type orgRow struct {
	r   pgx.Row
	org *int64
}

func (o orgRow) Scan(dest ...any) error { return o.r.Scan(append([]any{o.org}, dest...)...) }

// Listen calls fn after each commit of a projection write (WriteAt) on any connection
// to the schema, until ctx ends or the connection fails (its error is returned; the
// caller listens again). Notifications that arrive together may call fn once. A
// connection of its own listens; fn must not block.
func (db *DB) Listen(ctx context.Context, fn func()) error {
	conn, err := pgx.ConnectConfig(ctx, db.pool.Config().ConnConfig.Copy())
	if err != nil {
		return fmt.Errorf("postgres: listen: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `LISTEN `+pgx.Identifier{db.channel}.Sanitize()); err != nil {
		return fmt.Errorf("postgres: listen: %w", err)
	}
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("postgres: listen: %w", err)
		}
		fn()
	}
}
