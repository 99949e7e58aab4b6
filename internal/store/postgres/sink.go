package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/derive"
	"github.com/mailtrail/mailtrail/internal/ingest"
	"github.com/mailtrail/mailtrail/internal/projector"
	"github.com/mailtrail/mailtrail/internal/storekit"
)

var (
	_ ingest.Sink     = (*DB)(nil)
	_ projector.Store = (*DB)(nil)
)

// Write stores a batch of events and everything derived from them in one transaction:
// raw events (duplicates skipped by their dedupe and idempotency keys), message state,
// campaign counters, link counters, customer activity and automatic suppressions. It
// returns the change-set: which events were duplicates, the others in order, and the
// stored clicks whose label the batch changed. An event naming a message that does not
// exist in its organization is dropped and reported as a duplicate. The store decides
// none of it: internal/derive plans the batch from the state loaded by key.
func (db *DB) Write(ctx context.Context, batch []*mailtrail.Event) (ingest.ChangeSet, error) {
	return db.writeBatch(ctx, batch, nil)
}

// WriteAt writes batch exactly as Write does and, in the same transaction, moves the
// position of stream from after to pos: batch holds the log's records after position
// after up to and including pos, and the store holds the batch and its position, or
// neither. It writes nothing when the stored position is not after:
// ingest.ErrApplied when it is pos or past it, ingest.ErrPositionMoved when it is
// another position before pos. EINVALID without a stream, or unless after < pos ≤ 2^63-1.
func (db *DB) WriteAt(ctx context.Context, stream string, after, pos uint64, batch []*mailtrail.Event) (ingest.ChangeSet, error) {
	if stream == "" || pos <= after || pos > math.MaxInt64 {
		return ingest.ChangeSet{}, mailtrail.Errorf(mailtrail.EINVALID, "a projection write needs a stream and positions after < pos ≤ 2^63-1")
	}
	return db.writeBatch(ctx, batch, &logPosition{stream: stream, after: after, pos: pos})
}

// AppliedEvent returns the largest event id the transactions of the streams inserted
// (recorded with their positions; 0 for none): every event their positions hold has an
// id at or below it.
func (db *DB) AppliedEvent(ctx context.Context, streams []string) (int64, error) {
	var id int64
	if err := db.pool.QueryRow(ctx, `SELECT coalesce(max(last_event), 0) FROM projection_positions WHERE stream = ANY($1)`, streams).Scan(&id); err != nil {
		return 0, fmt.Errorf("postgres: applied event: %w", err)
	}
	return id, nil
}

// Position returns the position of the last record of stream written with WriteAt, 0
// when none was.
func (db *DB) Position(ctx context.Context, stream string) (uint64, error) {
	var pos int64
	err := db.pool.QueryRow(ctx, `SELECT pos FROM projection_positions WHERE stream = $1`, stream).Scan(&pos)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: projection position: %w", err)
	}
	return uint64(pos), nil
}

// logPosition is where in a log the batch of a WriteAt comes from: the records after
// position after, up to and including pos.
type logPosition struct {
	stream     string
	after, pos uint64
}

// claim moves the stream's position from p.after to p.pos in tx (which holds the write
// lock), or answers ingest.ErrApplied / ErrPositionMoved as WriteAt says.
func (p *logPosition) claim(ctx context.Context, tx pgx.Tx, now time.Time) error {
	var stored int64
	err := tx.QueryRow(ctx, `SELECT pos FROM projection_positions WHERE stream = $1 FOR UPDATE`, p.stream).Scan(&stored)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("postgres: projection position: %w", err)
	}
	switch {
	case uint64(stored) >= p.pos:
		return ingest.ErrApplied
	case uint64(stored) != p.after:
		return fmt.Errorf("%w: stored %d, the write starts after %d", ingest.ErrPositionMoved, stored, p.after)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO projection_positions (stream, pos, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (stream) DO UPDATE SET pos = EXCLUDED.pos, updated_at = EXCLUDED.updated_at`, p.stream, int64(p.pos), now.UnixMilli()); err != nil {
		return fmt.Errorf("postgres: projection position: %w", err)
	}
	return nil
}

// writeBatch is Write, and WriteAt when at is set (the position is claimed first, in the
// batch's transaction, which then holds its stream's lock: see streamTx). A transaction
// that lost a race with another stream's (conflicted) runs again, from copies of the
// events as they came: the write fills in their fields.
func (db *DB) writeBatch(ctx context.Context, batch []*mailtrail.Event, at *logPosition) (ingest.ChangeSet, error) {
	for attempt := 1; ; attempt++ {
		evs := batch
		if at != nil {
			evs = make([]*mailtrail.Event, len(batch))
			for i, ev := range batch {
				c := *ev
				c.Reasons = slices.Clone(ev.Reasons)
				evs[i] = &c
			}
		}
		cs, err := db.writeOnce(ctx, evs, at)
		if err != nil && at != nil && conflicted(err) && attempt < 8 {
			continue
		}
		if err == nil && at != nil {
			cs.Events = cs.Events[:0]
			for i, c := range evs {
				*batch[i] = *c
				if !cs.Duplicate[i] {
					cs.Events = append(cs.Events, batch[i])
				}
			}
		}
		return cs, err
	}
}

// writeOnce is one transaction of writeBatch.
func (db *DB) writeOnce(ctx context.Context, batch []*mailtrail.Event, at *logPosition) (ingest.ChangeSet, error) {
	var w *batchWriter
	var dup []bool
	body := func(tx pgx.Tx) error {
		if at != nil {
			if err := at.claim(ctx, tx, db.now()); err != nil {
				return err
			}
		}
		w = &batchWriter{db: db, ctx: ctx, tx: tx, msgs: map[[12]byte]*derive.Message{}, st: derive.NewState(), shared: at != nil}
		var err error
		if dup, err = w.write(batch); err != nil || at == nil {
			return err
		}
		// One statement: the position records the last event id the batch inserted (the
		// last this session drew), and whoever follows the store (Listen) hears of the
		// commit.
		if _, err := tx.Exec(ctx, `WITH last AS (UPDATE projection_positions SET last_event = currval('events_id_seq') WHERE stream = $1 AND $2)
			SELECT pg_notify($3, '')`, at.stream, w.inserted, db.channel); err != nil {
			return fmt.Errorf("postgres: projection position: %w", err)
		}
		return nil
	}
	var err error
	if at != nil {
		err = db.streamTx(ctx, at.stream, body)
	} else {
		err = db.writeTx(ctx, body)
	}
	if err != nil {
		return ingest.ChangeSet{}, err
	}
	cs := ingest.ChangeSet{Duplicate: dup, Relabels: w.relabels, Events: make([]*mailtrail.Event, 0, len(batch))}
	for i, ev := range batch {
		if !dup[i] {
			cs.Events = append(cs.Events, ev)
		}
	}
	return cs, nil
}

// batchWriter writes one batch in its transaction.
type batchWriter struct {
	db  *DB
	ctx context.Context
	tx  pgx.Tx

	msgs     map[[12]byte]*derive.Message // the batch's messages, changed by the planner
	st       *derive.State
	urls     map[urlKey]int64
	relabels []mailtrail.ClickRelabel // clicks moved between human and not, for the change-set
	shared   bool                     // other streams' batches may run at once (streamTx): lock the addresses
	inserted bool                     // insertRows inserted events
}

// write stores the batch's raw events, loads the state they touch, plans with
// internal/derive and applies the plan; it returns the duplicate flags.
func (w *batchWriter) write(batch []*mailtrail.Event) ([]bool, error) {
	refs := make([][12]byte, len(batch))
	skip := make([]bool, len(batch))
	if err := w.resolveMessages(batch, refs, skip); err != nil {
		return nil, err
	}
	var orgs []int64
	for i := range batch {
		if !skip[i] {
			orgs = append(orgs, w.msgs[refs[i]].Org)
		}
	}
	settings, err := orgSettings(w.ctx, w.tx, orgs)
	if err != nil {
		return nil, err
	}
	for id, o := range settings {
		w.st.Orgs[id] = o
	}
	for i, ev := range batch {
		if !skip[i] {
			m := w.msgs[refs[i]]
			derive.Prepare(ev, m, w.st.Orgs[m.Org])
		}
	}
	if w.shared {
		if err := w.lockAddresses(batch, refs, skip); err != nil {
			return nil, err
		}
	}
	dup, stored, err := w.insertEvents(batch, refs, skip)
	if err != nil {
		return nil, err
	}
	if err := w.load(batch, refs, stored); err != nil {
		return nil, err
	}
	p := derive.New(w.st)
	for _, i := range stored {
		if err := p.Add(batch[i], w.msgs[refs[i]]); err != nil {
			return nil, err
		}
	}
	wins := p.Windows()
	clicks, err := w.clicks(wins)
	if err != nil {
		return nil, err
	}
	for j, win := range wins {
		if err := p.Relabel(win, clicks[j], func() (int64, error) { return w.firstHumanOutside(win) }); err != nil {
			return nil, err
		}
	}
	before, err := w.applyLinkClicks(p)
	if err != nil {
		return nil, err
	}
	if err := w.apply(p.Finish(before)); err != nil {
		return nil, err
	}
	return dup, nil
}

// resolveMessages finds (or, for events that name none, creates) the message of every
// event in one statement, fills the event's organization, campaign, customer and email
// from it, and marks events whose message does not exist in their organization to be
// skipped.
func (w *batchWriter) resolveMessages(batch []*mailtrail.Event, refs [][12]byte, skip []bool) error {
	var want [][]byte
	seen := map[[12]byte]bool{}
	for i, ev := range batch {
		if ev.MessageID != "" {
			r, ok := parseRef(ev.MessageID)
			if !ok {
				skip[i] = true
				continue
			}
			refs[i] = r
		} else {
			refs[i] = storekit.SyntheticRef(ev.OrgID, ev.CampaignID, ev.CustomerID)
		}
		if !seen[refs[i]] {
			seen[refs[i]] = true
			want = append(want, refs[i][:])
		}
	}
	if len(want) > 0 {
		rows, err := w.tx.Query(w.ctx, `SELECT m.ref, m.id, m.org_id, m.campaign_id, m.customer_id, c.name, u.ext_id, m.email, coalesce(m.esp_message_id, ''),
			m.track_opens, m.track_clicks, m.f_sent, m.f_delivered, m.f_open, m.f_hopen, m.f_click, m.f_hclick, m.f_bounce, m.f_hard,
			m.f_complaint, m.f_unsub, m.d_at FROM unnest($1::bytea[]) AS k(ref) JOIN messages m ON m.ref = k.ref
			JOIN campaigns c ON c.id = m.campaign_id JOIN customers u ON u.id = m.customer_id`, want)
		if err != nil {
			return fmt.Errorf("postgres: load messages: %w", err)
		}
		for rows.Next() {
			var ref []byte
			e := &derive.Message{}
			s := &e.State
			if err := rows.Scan(&ref, &e.ID, &e.Org, &e.Campaign, &e.Customer, &e.CampaignName, &e.CustomerExt, &e.Email, &e.ESPMessageID, &e.TrackOpens, &e.TrackClicks,
				&s[0], &s[1], &s[2], &s[3], &s[4], &s[5], &s[6], &s[7], &s[8], &s[9], &e.DeliveredAt); err != nil {
				rows.Close()
				return fmt.Errorf("postgres: load messages: %w", err)
			}
			var r [12]byte
			copy(r[:], ref)
			w.msgs[r] = e
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("postgres: load messages: %w", err)
		}
	}
	var create []int // the first event of each message to create
	made := map[[12]byte]bool{}
	for i, ev := range batch {
		if skip[i] || w.msgs[refs[i]] != nil {
			continue
		}
		if ev.MessageID != "" {
			skip[i] = true // names a message we never issued
			continue
		}
		if !made[refs[i]] {
			made[refs[i]] = true
			create = append(create, i)
		}
	}
	if err := w.createMessages(batch, refs, create); err != nil {
		return err
	}
	for i, ev := range batch {
		if skip[i] {
			continue
		}
		m := w.msgs[refs[i]]
		public, err := w.db.orgPublicID(w.ctx, w.tx, m.Org)
		if err != nil {
			return err
		}
		if ev.OrgID != "" && ev.OrgID != public {
			skip[i] = true // never let an event reach another organization's message
			continue
		}
		ev.OrgID = public
		m.OrgPublic = public
		ev.CampaignID, ev.CustomerID = m.CampaignName, m.CustomerExt
		ev.MessageID = refString(refs[i][:])
		if ev.CustomerEmail == "" {
			ev.CustomerEmail = m.Email
		}
	}
	return nil
}

// createMessages creates the messages of events that name none, one for each event of
// first (the first event of each message), with their campaigns and customers when new,
// in a few statements per organization; ENOTFOUND when an event's organization does not
// exist (the batch is refused, as the SQLite store refuses it).
func (w *batchWriter) createMessages(batch []*mailtrail.Event, refs [][12]byte, first []int) error {
	byOrg := map[int64][]int{}
	var orgs []int64
	for _, i := range first {
		org, err := w.db.orgInternal(w.ctx, w.tx, batch[i].OrgID)
		if err != nil {
			return err
		}
		if byOrg[org] == nil {
			orgs = append(orgs, org)
		}
		byOrg[org] = append(byOrg[org], i)
	}
	slices.Sort(orgs)
	for _, org := range orgs {
		idx := byOrg[org]
		names := make([]string, len(idx))
		var exts, emails []string
		seen := map[string]bool{}
		for j, i := range idx {
			ev := batch[i]
			names[j] = ev.CampaignID
			if !seen[ev.CustomerID] {
				seen[ev.CustomerID] = true
				exts, emails = append(exts, ev.CustomerID), append(emails, ev.CustomerEmail)
			}
		}
		camps, err := campaignIDs(w.ctx, w.tx, org, names)
		if err != nil {
			return err
		}
		custs, err := customerIDs(w.ctx, w.tx, org, exts, emails)
		if err != nil {
			return err
		}
		n := len(idx)
		rs, email := make([][]byte, n), make([]string, n)
		camp, cust, created := make([]int64, n), make([]int64, n), make([]int64, n)
		esp := make([]*string, n)
		for j, i := range idx {
			ev := batch[i]
			m := &derive.Message{Org: org, Campaign: camps[ev.CampaignID], Customer: custs[ev.CustomerID], CampaignName: ev.CampaignID,
				CustomerExt: ev.CustomerID, Email: ev.CustomerEmail, ESPMessageID: ev.ESPMessageID}
			w.msgs[refs[i]] = m
			rs[j], camp[j], cust[j], email[j], created[j] = refs[i][:], m.Campaign, m.Customer, ev.CustomerEmail, ev.ReceivedAt.UnixMilli()
			if ev.ESPMessageID != "" {
				esp[j] = &ev.ESPMessageID
			}
		}
		rows, err := w.tx.Query(w.ctx, `INSERT INTO messages (ref, org_id, campaign_id, customer_id, email, esp_message_id, created_at)
			SELECT r, $2, c, u, e, esp, t FROM unnest($1::bytea[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::bigint[]) AS v(r, c, u, e, esp, t)
			RETURNING ref, id`, rs, org, camp, cust, email, esp, created)
		if err != nil {
			return fmt.Errorf("postgres: create messages: %w", err)
		}
		for rows.Next() {
			var ref []byte
			var id int64
			if err := rows.Scan(&ref, &id); err != nil {
				rows.Close()
				return fmt.Errorf("postgres: create messages: %w", err)
			}
			w.msgs[[12]byte(ref)].ID = id
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("postgres: create messages: %w", err)
		}
	}
	return nil
}
