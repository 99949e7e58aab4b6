package postgres

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/ingest"
)

// insertEvents stores the batch's new raw events in one statement, and the idempotency
// keys they hold in another. An event is a duplicate when its organization holds its
// idempotency key, or when an event with its dedupe key is stored (both looked up for the
// whole batch at once, then decided in batch order, so a key repeated within the batch
// is the first event's); a duplicate takes the id of the event stored before, and a key
// first seen on a duplicate by its dedupe key points at that event. It returns the
// duplicate flags and the indexes of the stored events, in batch order.
func (w *batchWriter) insertEvents(batch []*mailtrail.Event, refs [][12]byte, skip []bool) ([]bool, []int, error) {
	dup := make([]bool, len(batch))
	dks := make([][]byte, len(batch))
	iks := make([][]byte, len(batch))
	var lookDK [][]byte
	var lookOrg []int64
	var lookIK [][]byte
	for i, ev := range batch {
		if skip[i] {
			continue
		}
		if k := ingest.DedupeKey(ev); k != nil {
			dks[i] = k
			lookDK = append(lookDK, k)
		}
		if k := ingest.IdempotencyKey(ev); k != nil {
			iks[i] = k
			lookOrg, lookIK = append(lookOrg, w.msgs[refs[i]].Org), append(lookIK, k)
		}
	}
	ikKey := func(org int64, k []byte) string { return fmt.Sprintf("%d\x00%s", org, k) }
	byIK, byDK := map[string]string{}, map[string]string{}
	if len(lookIK) > 0 {
		rows, err := w.tx.Query(w.ctx, `SELECT i.org_id, i.key, i.event_uid FROM idempotency_keys i
			JOIN unnest($1::bigint[], $2::bytea[]) AS k(org, key) ON i.org_id = k.org AND i.key = k.key`, lookOrg, lookIK)
		if err := scanKeys(rows, err, func(org int64, k []byte, uid string) { byIK[ikKey(org, k)] = uid }, true); err != nil {
			return nil, nil, err
		}
	}
	if len(lookDK) > 0 {
		// Keys are looked up as a set joined on the index (here and in every lookup of the
		// write path), never as "= ANY(array)": on a table the planner has no statistics of
		// yet (a new store) that scans it, comparing each row with the whole array (7.7 ms
		// for 200 keys against 4,000 events on this machine, 0.7 ms joined).
		rows, err := w.tx.Query(w.ctx, `SELECT 0::bigint, e.dedupe, e.uid FROM unnest($1::bytea[]) AS k(key) JOIN events e ON e.dedupe = k.key`, lookDK)
		if err := scanKeys(rows, err, func(_ int64, k []byte, uid string) { byDK[string(k)] = uid }, false); err != nil {
			return nil, nil, err
		}
	}
	var stored []int
	var kOrg []int64
	var kKey [][]byte
	var kUID []string
	var kAt []int64
	keep := func(org int64, k []byte, ev *mailtrail.Event) {
		byIK[ikKey(org, k)] = ev.ID
		kOrg, kKey, kUID, kAt = append(kOrg, org), append(kKey, k), append(kUID, ev.ID), append(kAt, ev.ReceivedAt.UnixMilli())
	}
	for i, ev := range batch {
		if skip[i] {
			dup[i] = true
			continue
		}
		org := w.msgs[refs[i]].Org
		if iks[i] != nil {
			if uid, ok := byIK[ikKey(org, iks[i])]; ok {
				ev.ID, dup[i] = uid, true
				continue
			}
		}
		if dks[i] != nil {
			if uid, ok := byDK[string(dks[i])]; ok {
				ev.ID, dup[i] = uid, true
				if iks[i] != nil {
					keep(org, iks[i], ev)
				}
				continue
			}
			byDK[string(dks[i])] = ev.ID
		}
		if iks[i] != nil {
			keep(org, iks[i], ev)
		}
		stored = append(stored, i)
	}
	if len(stored) > 0 {
		if err := w.insertRows(batch, refs, stored, dks); err != nil {
			return nil, nil, err
		}
	}
	if len(kOrg) > 0 {
		if _, err := w.tx.Exec(w.ctx, `INSERT INTO idempotency_keys (org_id, key, event_uid, created_at)
			SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::text[], $4::bigint[])`, kOrg, kKey, kUID, kAt); err != nil {
			return nil, nil, fmt.Errorf("postgres: idempotency keys: %w", err)
		}
	}
	return dup, stored, nil
}

// copyMin is the number of events from which insertRows sends them with COPY: faster per
// row (about half the time of an INSERT from arrays at 5,000 events, bench/postgres), but
// one more round trip (pgx asks for the columns' types first), which small batches (a
// projector that keeps up) would pay for nothing.
const copyMin = 256

// eventColumns are the columns insertRows writes; the id is the column's default, drawn
// from the events sequence as the rows are inserted, so in batch order (an
// organization's events are listed in that order).
var eventColumns = []string{"uid", "org_id", "campaign_id", "customer_id", "message_id", "type", "occurred_at", "received_at",
	"source", "class", "reasons", "counted", "email", "esp_message_id", "meta", "dedupe"}

// insertRows inserts the stored events in one statement: COPY for copyMin events or more,
// else an INSERT from arrays in their order.
func (w *batchWriter) insertRows(batch []*mailtrail.Event, refs [][12]byte, stored []int, dks [][]byte) error {
	n := len(stored)
	uid, source, class, reasons, email, esp := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	org, camp, cust, msg, occ, recv := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	typ := make([]int16, n)
	counted := make([]bool, n)
	meta := make([]*string, n)
	dedupe := make([][]byte, n)
	for j, i := range stored {
		ev, m := batch[i], w.msgs[refs[i]]
		b, err := json.Marshal(ev.Metadata)
		if err != nil {
			return fmt.Errorf("postgres: metadata: %w", err)
		}
		if s := string(b); s != "{}" {
			meta[j] = &s
		}
		uid[j], org[j], camp[j], cust[j], msg[j], typ[j] = ev.ID, m.Org, m.Campaign, m.Customer, m.ID, int16(ev.Type)
		occ[j], recv[j], source[j], class[j], reasons[j] = ev.OccurredAt.UnixMilli(), ev.ReceivedAt.UnixMilli(), string(ev.Source), string(ev.Classification), strings.Join(ev.Reasons, ",")
		counted[j], email[j], esp[j], dedupe[j] = ev.Counted, ev.CustomerEmail, ev.ESPMessageID, dks[i]
	}
	if err := w.db.markInsert(w.ctx, w.tx); err != nil {
		return err
	}
	w.inserted = true
	if n >= copyMin {
		// COPY inserts its rows in the order it reads them.
		if _, err := w.tx.CopyFrom(w.ctx, pgx.Identifier{"events"}, eventColumns, pgx.CopyFromSlice(n, func(j int) ([]any, error) {
			return []any{uid[j], org[j], camp[j], cust[j], msg[j], typ[j], occ[j], recv[j], source[j], class[j], reasons[j], counted[j],
				email[j], esp[j], meta[j], dedupe[j]}, nil
		})); err != nil {
			return fmt.Errorf("postgres: insert events: %w", err)
		}
		return nil
	}
	if _, err := w.tx.Exec(w.ctx, `INSERT INTO events (`+strings.Join(eventColumns, ", ")+`)
		SELECT u, o, c, cu, m, t, oc, r, s, cl, re, co, e, es, me, d FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[],
			$6::smallint[], $7::bigint[], $8::bigint[], $9::text[], $10::text[], $11::text[], $12::boolean[], $13::text[], $14::text[], $15::text[], $16::bytea[])
			WITH ORDINALITY AS v(u, o, c, cu, m, t, oc, r, s, cl, re, co, e, es, me, d, i) ORDER BY i`,
		uid, org, camp, cust, msg, typ, occ, recv, source, class, reasons, counted, email, esp, meta, dedupe); err != nil {
		return fmt.Errorf("postgres: insert events: %w", err)
	}
	return nil
}

// scanKeys reads (org, key, uid) rows.
func scanKeys(rows pgx.Rows, err error, f func(org int64, k []byte, uid string), idem bool) error {
	what := "dedupe keys"
	if idem {
		what = "idempotency keys"
	}
	if err != nil {
		return fmt.Errorf("postgres: %s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		var org int64
		var k []byte
		var uid string
		if err := rows.Scan(&org, &k, &uid); err != nil {
			return fmt.Errorf("postgres: %s: %w", what, err)
		}
		f(org, k, uid)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgres: %s: %w", what, err)
	}
	return nil
}
