package sqlite

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/ingest"
	"github.com/mailtrail/mailtrail/internal/rules"
)

var _ ingest.Sink = (*DB)(nil)

// statRow is one campaign_stats row's changes: u0..u9 then t0..t3.
type statRow [int(rules.NumFields) + int(rules.NumTotals)]int64

type statKey struct{ campaign, bucket int64 }

type linkKey struct{ campaign, url int64 }

type linkRow struct{ total, human, uniq, humanUniq int64 }

// syntheticRef identifies the message of an event that names no message id: the one email
// of a campaign to a customer.
func syntheticRef(orgPublic, campaign, customer string) [12]byte {
	h := sha256.Sum256([]byte("mailtrail synthetic message\x00" + orgPublic + "\x00" + campaign + "\x00" + customer))
	var r [12]byte
	copy(r[:], h[:12])
	return r
}

// Write stores a batch of events and everything derived from them in one transaction:
// raw events (duplicates skipped by their dedupe key), message state, campaign counters,
// link counters, customer activity and automatic suppressions. It returns which events
// were duplicates. An event naming a message that does not exist in its organization is
// dropped (the API validates this before submitting) and reported as a duplicate.
func (db *DB) Write(ctx context.Context, batch []*mailtrail.Event) ([]bool, error) {
	tx, done, err := db.writeTx(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	w := &batchWriter{db: db, ctx: ctx, tx: tx,
		camps: map[string]int64{}, urls: map[string]int64{}, custs: map[string]*custEntry{},
		msgs: map[[12]byte]*msgEntry{}, dirtyMsgs: map[int64]*msgEntry{},
		stats: map[statKey]*statRow{}, links: map[linkKey]*linkRow{}, dirtyCusts: map[int64]*custEntry{},
		dims: map[dimKey]*dimRow{}, reclass: map[int64]*relabelJob{},
	}
	dup, err := w.write(batch)
	if err != nil {
		return nil, err
	}
	if err := tx.commit(); err != nil {
		return nil, err
	}
	db.tail.add(w.tailAdds)
	db.boundWAL(ctx)
	if db.onRelabel != nil && len(w.relabels) > 0 {
		db.onRelabel(w.relabels)
	}
	// Committed: now the cache may learn the new state.
	c := db.cache
	c.trim()
	for k, v := range w.camps {
		c.campaigns[k] = v
	}
	for k, v := range w.urls {
		c.urls[k] = v
	}
	for k, v := range w.custs {
		c.customers[k] = v
	}
	for k, v := range w.msgs {
		c.messages[k] = v
	}
	return dup, nil
}

type batchWriter struct {
	db  *DB
	ctx context.Context
	tx  *txc

	camps, urls map[string]int64
	custs       map[string]*custEntry
	msgs        map[[12]byte]*msgEntry // copies of committed state, changed by this batch
	dirtyMsgs   map[int64]*msgEntry
	stats       map[statKey]*statRow
	links       map[linkKey]*linkRow
	dirtyCusts  map[int64]*custEntry
	dims        map[dimKey]*dimRow
	reclass     map[int64]*relabelJob // messages whose clicks the click rules must look at again
	tailAdds    [][2]int64            // (customer, event row id) of the events stored
	relabels    []ClickRelabel        // clicks moved between human and not, for OnClickRelabel
}

func (w *batchWriter) write(batch []*mailtrail.Event) ([]bool, error) {
	refs := make([][12]byte, len(batch))
	skip := make([]bool, len(batch))
	if err := w.resolveMessages(batch, refs, skip); err != nil {
		return nil, err
	}
	dup := make([]bool, len(batch))
	var changes []rules.Change
	for i, ev := range batch {
		if skip[i] {
			dup[i] = true
			continue
		}
		m := w.msgs[refs[i]]
		ev.Counted = rules.Counted(ev, m.trackOpens, m.trackClicks)
		if ev.Metadata.IP != "" {
			keep, err := w.keepFullIP(m.org)
			if err != nil {
				return nil, err
			}
			if !keep {
				ev.Metadata.IP = mailtrail.TruncateIP(ev.Metadata.IP)
			}
		}
		var meta any
		if b, err := json.Marshal(ev.Metadata); err != nil {
			return nil, fmt.Errorf("sqlite: metadata: %w", err)
		} else if string(b) != "{}" {
			meta = string(b)
		}
		var dk any
		if k := ingest.DedupeKey(ev); k != nil {
			dk = k
		}
		ik := ingest.IdempotencyKey(ev)
		if ik != nil {
			if found, err := w.idempotent(m.org, ik, ev); err != nil {
				return nil, err
			} else if found {
				dup[i] = true
				continue
			}
		}
		res, err := w.tx.exec(`INSERT OR IGNORE INTO events (uid, org_id, campaign_id, customer_id, message_id, type, occurred_at, received_at,
			source, class, reasons, counted, email, esp_message_id, meta, dedupe) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, ev.ID, m.org, m.campaign, m.customer, m.id, int(ev.Type), ev.OccurredAt.UnixMilli(), ev.ReceivedAt.UnixMilli(),
			string(ev.Source), string(ev.Classification), strings.Join(ev.Reasons, ","), ev.Counted, ev.CustomerEmail, ev.ESPMessageID, meta, dk)
		if err != nil {
			return nil, fmt.Errorf("sqlite: insert event: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			dup[i] = true
			// Answer with the id of the event stored before, not this arrival's.
			if err := w.tx.scan(`SELECT uid FROM events WHERE dedupe = ?`, []any{dk}, &ev.ID); err != nil {
				return nil, fmt.Errorf("sqlite: duplicate's event: %w", err)
			}
			if ik != nil {
				if err := w.keepIdempotencyKey(m.org, ik, ev); err != nil {
					return nil, err
				}
			}
			continue
		}
		if ik != nil {
			if err := w.keepIdempotencyKey(m.org, ik, ev); err != nil {
				return nil, err
			}
		}
		if id, err := res.LastInsertId(); err == nil {
			w.tailAdds = append(w.tailAdds, [2]int64{m.customer, id})
		}
		if err := w.derive(ev, m, &changes); err != nil {
			return nil, err
		}
	}
	for _, j := range w.reclass {
		if err := w.reclassify(j); err != nil {
			return nil, err
		}
	}
	if err := w.flush(); err != nil {
		return nil, err
	}
	return dup, nil
}

// derive folds one stored event into the batch's derived state.
func (w *batchWriter) derive(ev *mailtrail.Event, m *msgEntry, changes *[]rules.Change) error {
	in := rules.Input{Type: ev.Type, OccurredAt: ev.OccurredAt.UnixMilli(), Human: ev.IsHuman(),
		Hard: ev.Metadata.BounceType == mailtrail.BounceHard, Counted: ev.Counted}
	before := m.state
	*changes = (*changes)[:0]
	m.state, *changes = rules.Apply(m.state, in, *changes)
	if m.state != before {
		w.dirtyMsgs[m.id] = m
	}
	for _, c := range *changes {
		row := w.stat(m.campaign, c.Bucket)
		if c.IsTotal {
			row[int(rules.NumFields)+int(c.Total)] += c.Delta
		} else {
			row[c.Field] += c.Delta
		}
	}
	// The clicks whose labels this event may change (see rules.ClassifyClicks): those near
	// a new click, or up to a moved delivery (or send) reference.
	near := rules.NearDelivery.Milliseconds()
	switch {
	case ev.Type == mailtrail.EventDelivered && ev.Counted && (m.dAt == 0 || in.OccurredAt < m.dAt):
		ref := max(m.dAt, m.state[rules.FSent], in.OccurredAt)
		m.dAt = in.OccurredAt
		w.dirtyMsgs[m.id] = m
		if m.state.Set(rules.FClick) {
			w.relabel(m, math.MinInt64, ref+near)
		}
	case ev.Type == mailtrail.EventSent && m.dAt == 0 && m.state != before && m.state.Set(rules.FClick):
		w.relabel(m, math.MinInt64, max(before[rules.FSent], m.state[rules.FSent])+near)
	case ev.Type == mailtrail.EventClicked && ev.Counted:
		reach := rules.ClickReach.Milliseconds()
		w.relabel(m, in.OccurredAt-reach, in.OccurredAt+reach)
	}
	if ev.Counted && (ev.Type == mailtrail.EventOpened || ev.Type == mailtrail.EventClicked) {
		w.addDims(m.campaign, ev.Type, &ev.Metadata, 1, b2i(ev.IsHuman()))
	}
	if ev.ESPMessageID != "" && m.esp == "" {
		m.esp = ev.ESPMessageID
		w.dirtyMsgs[m.id] = m
	}
	if ev.Counted {
		if err := w.deriveCustomer(m, in); err != nil {
			return err
		}
		if ev.Type == mailtrail.EventClicked && ev.Metadata.LinkURL != "" {
			if err := w.deriveLink(ev, m); err != nil {
				return err
			}
		}
	}
	if err := w.db.suppressFromEvent(w.tx, m.org, m.customerExt, m.email, ev); err != nil {
		return err
	}
	return nil
}

func (w *batchWriter) deriveCustomer(m *msgEntry, in rules.Input) error {
	var e *custEntry
	if e = w.dirtyCusts[m.customer]; e == nil {
		var err error
		if e, err = customer(w.tx, w.db.cache, w.custs, m.org, m.customerExt, m.email); err != nil {
			return err
		}
	}
	a := rules.ApplyCustomer(e.activity, in)
	if a != e.activity {
		e.activity = a
		w.dirtyCusts[e.id] = e
	}
	return nil
}

func (w *batchWriter) deriveLink(ev *mailtrail.Event, m *msgEntry) error {
	url, err := urlID(w.tx, w.db.cache, w.urls, m.org, ev.Metadata.LinkURL)
	if err != nil {
		return err
	}
	return w.addLinkClick(m, url, 1, b2i(ev.IsHuman()))
}

// addLinkClick adds clicks and human clicks of message m to one link of its campaign, and
// moves the link's unique and human-unique counts when the message's counts cross zero.
func (w *batchWriter) addLinkClick(m *msgEntry, url int64, clicks, human int64) error {
	var nowC, nowH int64
	if err := w.tx.scan(`INSERT INTO link_clicks (campaign_id, url_id, message_id, clicks, human_clicks) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (campaign_id, url_id, message_id) DO UPDATE SET clicks = clicks + excluded.clicks, human_clicks = human_clicks + excluded.human_clicks
		RETURNING clicks, human_clicks`, []any{m.campaign, url, m.id, clicks, human}, &nowC, &nowH); err != nil {
		return fmt.Errorf("sqlite: link clicks: %w", err)
	}
	oldC, oldH := nowC-clicks, nowH-human
	row := rowOf(w.links, linkKey{m.campaign, url})
	row.total += clicks
	row.human += human
	row.uniq += crossing(oldC, oldC+clicks)
	row.humanUniq += crossing(oldH, oldH+human)
	return nil
}

// rowOf returns m[k], adding a zero row first when there is none.
func rowOf[K comparable, V any](m map[K]*V, k K) *V {
	r := m[k]
	if r == nil {
		r = new(V)
		m[k] = r
	}
	return r
}

// crossing is +1 when a count goes from zero to positive, -1 back, else 0.
func crossing(old, now int64) int64 {
	switch {
	case old <= 0 && now > 0:
		return 1
	case old > 0 && now <= 0:
		return -1
	}
	return 0
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// flush writes each changed key once, in key order.
func (w *batchWriter) flush() error {
	ids := make([]int64, 0, len(w.dirtyMsgs))
	for id := range w.dirtyMsgs {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	if len(ids) > 0 {
		for _, id := range ids {
			m := w.dirtyMsgs[id]
			s := m.state
			var esp any
			if m.esp != "" {
				esp = m.esp
			}
			if _, err := w.tx.exec(`UPDATE messages SET f_sent=?, f_delivered=?, f_open=?, f_hopen=?, f_click=?, f_hclick=?,
				f_bounce=?, f_hard=?, f_complaint=?, f_unsub=?, esp_message_id=?, d_at=? WHERE id=?`, s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8], s[9], esp, m.dAt, id); err != nil {
				return fmt.Errorf("sqlite: update message: %w", err)
			}
		}
	}
	keys := make([]statKey, 0, len(w.stats))
	for k := range w.stats {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].campaign != keys[j].campaign {
			return keys[i].campaign < keys[j].campaign
		}
		return keys[i].bucket < keys[j].bucket
	})
	if len(keys) > 0 {
		cols := make([]string, 0, 14)
		for i := 0; i < int(rules.NumFields); i++ {
			cols = append(cols, fmt.Sprintf("u%d", i))
		}
		for i := 0; i < int(rules.NumTotals); i++ {
			cols = append(cols, fmt.Sprintf("t%d", i))
		}
		sets := make([]string, len(cols))
		for i, c := range cols {
			sets[i] = c + " = " + c + " + excluded." + c
		}
		q := `INSERT INTO campaign_stats (campaign_id, bucket, ` + strings.Join(cols, ", ") + `)
			VALUES (?, ?` + strings.Repeat(", ?", len(cols)) + `) ON CONFLICT (campaign_id, bucket) DO UPDATE SET ` + strings.Join(sets, ", ")
		args := make([]any, 2+len(cols))
		for _, k := range keys {
			row := w.stats[k]
			args[0], args[1] = k.campaign, k.bucket
			for i, v := range row {
				args[2+i] = v
			}
			if _, err := w.tx.exec(q, args...); err != nil {
				return fmt.Errorf("sqlite: campaign stats: %w", err)
			}
		}
	}
	for k, r := range w.links {
		_, err := w.tx.exec(`INSERT INTO link_stats (campaign_id, url_id, total, human_total, uniq, human_uniq) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (campaign_id, url_id) DO UPDATE SET total = total + excluded.total, human_total = human_total + excluded.human_total,
			uniq = uniq + excluded.uniq, human_uniq = human_uniq + excluded.human_uniq`, k.campaign, k.url, r.total, r.human, r.uniq, r.humanUniq)
		if err != nil {
			return fmt.Errorf("sqlite: link stats: %w", err)
		}
	}
	if err := w.flushDims(); err != nil {
		return err
	}
	for id, e := range w.dirtyCusts {
		a := e.activity
		if _, err := w.tx.exec(`UPDATE customers SET last_sent = ?, last_open = ?, last_click = ? WHERE id = ?`,
			a.LastSent, a.LastOpen, a.LastClick, id); err != nil {
			return fmt.Errorf("sqlite: customer activity: %w", err)
		}
	}
	return nil
}

// resolveMessages finds (or, for events that name none, creates) the message of every
// event, fills the event's organization, campaign, customer and email from it, and marks
// events whose message does not exist in their organization to be skipped.
func (w *batchWriter) resolveMessages(batch []*mailtrail.Event, refs [][12]byte, skip []bool) error {
	c := w.db.cache
	var missing []string
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
			refs[i] = syntheticRef(ev.OrgID, ev.CampaignID, ev.CustomerID)
		}
		if _, ok := w.msgs[refs[i]]; ok || seen[refs[i]] {
			continue
		}
		if e, ok := c.messages[refs[i]]; ok {
			cp := *e
			w.msgs[refs[i]] = &cp
			continue
		}
		seen[refs[i]] = true
		missing = append(missing, hex.EncodeToString(refs[i][:]))
	}
	if len(missing) > 0 {
		list, _ := json.Marshal(missing)
		rows, err := w.tx.query(`SELECT m.ref, m.id, m.org_id, m.campaign_id, m.customer_id, c.name, u.ext_id, m.email, coalesce(m.esp_message_id, ''),
			m.track_opens, m.track_clicks, m.f_sent, m.f_delivered, m.f_open, m.f_hopen, m.f_click, m.f_hclick, m.f_bounce, m.f_hard,
			m.f_complaint, m.f_unsub, m.d_at FROM messages m JOIN campaigns c ON c.id = m.campaign_id JOIN customers u ON u.id = m.customer_id
			WHERE m.ref IN (SELECT unhex(value) FROM json_each(?))`, string(list))
		if err != nil {
			return fmt.Errorf("sqlite: load messages: %w", err)
		}
		for rows.Next() {
			var ref []byte
			e := &msgEntry{}
			s := &e.state
			if err := rows.Scan(&ref, &e.id, &e.org, &e.campaign, &e.customer, &e.campaignName, &e.customerExt, &e.email, &e.esp, &e.trackOpens, &e.trackClicks,
				&s[0], &s[1], &s[2], &s[3], &s[4], &s[5], &s[6], &s[7], &s[8], &s[9], &e.dAt); err != nil {
				rows.Close()
				return fmt.Errorf("sqlite: load messages: %w", err)
			}
			var r [12]byte
			copy(r[:], ref)
			w.msgs[r] = e
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlite: load messages: %w", err)
		}
	}
	for i, ev := range batch {
		if skip[i] {
			continue
		}
		m := w.msgs[refs[i]]
		if m == nil {
			if ev.MessageID != "" {
				skip[i] = true // names a message we never issued
				continue
			}
			var err error
			if m, err = w.createMessage(ev, refs[i]); err != nil {
				return err
			}
			w.msgs[refs[i]] = m
		}
		public, err := w.db.orgPublicID(w.ctx, w.db.wc, m.org)
		if err != nil {
			return err
		}
		if ev.OrgID != "" && ev.OrgID != public {
			skip[i] = true // never let an event reach another organization's message
			continue
		}
		ev.OrgID = public
		ev.CampaignID, ev.CustomerID = m.campaignName, m.customerExt
		ev.MessageID = refString(refs[i][:])
		if ev.CustomerEmail == "" {
			ev.CustomerEmail = m.email
		}
	}
	return nil
}

func (w *batchWriter) createMessage(ev *mailtrail.Event, ref [12]byte) (*msgEntry, error) {
	org, err := w.db.orgInternal(w.ctx, ev.OrgID)
	if err != nil {
		return nil, err
	}
	camp, err := campaignID(w.tx, w.db.cache, w.camps, org, ev.CampaignID)
	if err != nil {
		return nil, err
	}
	cust, err := customer(w.tx, w.db.cache, w.custs, org, ev.CustomerID, ev.CustomerEmail)
	if err != nil {
		return nil, err
	}
	var esp any
	if ev.ESPMessageID != "" {
		esp = ev.ESPMessageID
	}
	res, err := w.tx.exec(`INSERT INTO messages (ref, org_id, campaign_id, customer_id, email, esp_message_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		ref[:], org, camp, cust.id, ev.CustomerEmail, esp, ev.ReceivedAt.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("sqlite: create message: %w", err)
	}
	id, _ := res.LastInsertId()
	return &msgEntry{id: id, org: org, campaign: camp, customer: cust.id, campaignName: ev.CampaignID, customerExt: ev.CustomerID,
		email: ev.CustomerEmail, esp: ev.ESPMessageID}, nil
}
