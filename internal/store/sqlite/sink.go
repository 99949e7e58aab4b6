package sqlite

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/derive"
	"github.com/mailtrail/mailtrail/internal/ingest"
	"github.com/mailtrail/mailtrail/internal/rules"
	"github.com/mailtrail/mailtrail/internal/storekit"
)

var _ ingest.Sink = (*DB)(nil)

// Write stores a batch of events and everything derived from them in one transaction:
// raw events (duplicates skipped by their dedupe key), message state, campaign counters,
// link counters, customer activity and automatic suppressions. It returns the change-set:
// which events were duplicates, the others in order, and the stored clicks whose label the
// batch changed. An event naming a message that does not exist in its organization is
// dropped (the API validates this before submitting) and reported as a duplicate.
//
// The store decides none of it: internal/derive plans the batch from the state the store
// loads by key, and the store applies the plan.
func (db *DB) Write(ctx context.Context, batch []*mailtrail.Event) (ingest.ChangeSet, error) {
	return db.writeBatch(ctx, batch, nil)
}

// writeBatch is Write, and WriteAt when at is set: then the stream's position is moved
// to at first, in the batch's transaction, or nothing is written (see position.go).
func (db *DB) writeBatch(ctx context.Context, batch []*mailtrail.Event, at *logPosition) (ingest.ChangeSet, error) {
	var tx *txc
	var done func()
	var err error
	if at != nil {
		tx, done, err = db.projectionTx(ctx)
	} else {
		tx, done, err = db.writeTx(ctx)
	}
	if err != nil {
		return ingest.ChangeSet{}, err
	}
	defer done()
	if at != nil {
		if err := at.claim(tx, db.now()); err != nil {
			return ingest.ChangeSet{}, err
		}
	}
	w := &batchWriter{db: db, ctx: ctx, tx: tx,
		camps: map[string]int64{}, urls: map[string]int64{}, custs: map[string]*custEntry{},
		msgs: map[[12]byte]*msgEntry{}, st: derive.NewState(),
	}
	dup, err := w.write(batch)
	if err != nil {
		return ingest.ChangeSet{}, err
	}
	if err := tx.commit(); err != nil {
		return ingest.ChangeSet{}, err
	}
	db.tail.add(w.tailAdds)
	db.boundWAL(ctx)
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
	cs := ingest.ChangeSet{Duplicate: dup, Relabels: w.relabels, Events: make([]*mailtrail.Event, 0, len(batch))}
	for i, ev := range batch {
		if !dup[i] {
			cs.Events = append(cs.Events, ev)
		}
	}
	return cs, nil
}

type batchWriter struct {
	db  *DB
	ctx context.Context
	tx  *txc

	camps, urls map[string]int64
	custs       map[string]*custEntry
	msgs        map[[12]byte]*msgEntry // copies of committed state, changed by this batch
	st          *derive.State
	tailAdds    [][2]int64               // (customer, event row id) of the events stored
	relabels    []mailtrail.ClickRelabel // clicks moved between human and not, for the change-set
}

// write stores the batch's raw events, loads the state they touch, plans with
// internal/derive and applies the plan.
func (w *batchWriter) write(batch []*mailtrail.Event) ([]bool, error) {
	refs := make([][12]byte, len(batch))
	skip := make([]bool, len(batch))
	if err := w.resolveMessages(batch, refs, skip); err != nil {
		return nil, err
	}
	dup := make([]bool, len(batch))
	stored := make([]int, 0, len(batch))
	for i, ev := range batch {
		if skip[i] {
			dup[i] = true
			continue
		}
		m := w.msgs[refs[i]]
		org, err := w.org(m.Org)
		if err != nil {
			return nil, err
		}
		derive.Prepare(ev, m, org)
		isDup, err := w.insert(ev, m)
		if err != nil {
			return nil, err
		}
		if isDup {
			dup[i] = true
			continue
		}
		stored = append(stored, i)
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
	for _, win := range p.Windows() {
		clicks, err := w.clicks(win)
		if err != nil {
			return nil, err
		}
		if err := p.Relabel(win, clicks, func() (int64, error) { return w.firstHumanOutside(win) }); err != nil {
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

// insert stores one raw event unless its dedupe or idempotency key is stored already; a
// duplicate takes the id of the event stored before.
func (w *batchWriter) insert(ev *mailtrail.Event, m *msgEntry) (dup bool, err error) {
	var meta any
	if b, err := json.Marshal(ev.Metadata); err != nil {
		return false, fmt.Errorf("sqlite: metadata: %w", err)
	} else if string(b) != "{}" {
		meta = string(b)
	}
	var dk any
	if k := ingest.DedupeKey(ev); k != nil {
		dk = k
	}
	ik := ingest.IdempotencyKey(ev)
	claimed := false
	if ik != nil {
		// One statement when the key is new (nearly always): the key is recorded for this
		// event first, in the same transaction, and settled below if the event turns out
		// to be a duplicate by its dedupe key. A key already held makes it a duplicate.
		if claimed, err = w.claimIdempotencyKey(m.Org, ik, ev); err != nil {
			return false, err
		}
		if !claimed {
			if found, err := w.idempotent(m.Org, ik, ev); err != nil || found {
				return found, err
			}
		}
	}
	res, err := w.tx.exec(`INSERT OR IGNORE INTO events (uid, org_id, campaign_id, customer_id, message_id, type, occurred_at, received_at,
		source, class, reasons, counted, email, esp_message_id, meta, dedupe) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, ev.ID, m.Org, m.Campaign, m.Customer, m.ID, int(ev.Type), ev.OccurredAt.UnixMilli(), ev.ReceivedAt.UnixMilli(),
		string(ev.Source), string(ev.Classification), strings.Join(ev.Reasons, ","), ev.Counted, ev.CustomerEmail, ev.ESPMessageID, meta, dk)
	if err != nil {
		return false, fmt.Errorf("sqlite: insert event: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		// Answer with the id of the event stored before, not this arrival's.
		if err := w.tx.scan(`SELECT uid FROM events WHERE dedupe = ?`, []any{dk}, &ev.ID); err != nil {
			return false, fmt.Errorf("sqlite: duplicate's event: %w", err)
		}
		dup = true
	} else if id, err := res.LastInsertId(); err == nil {
		w.tailAdds = append(w.tailAdds, [2]int64{m.Customer, id})
	}
	switch {
	case ik == nil:
	case !claimed:
		if err := w.keepIdempotencyKey(m.Org, ik, ev); err != nil {
			return false, err
		}
	case dup:
		if err := w.settleIdempotencyKey(m.Org, ik, ev); err != nil {
			return false, err
		}
	}
	return dup, nil
}

// load reads the state the stored events touch into w.st: customer activity and the
// suppression rows, soft-bounce runs and topic state of their addresses.
func (w *batchWriter) load(batch []*mailtrail.Event, refs [][12]byte, stored []int) error {
	st := w.st
	needs := make([]derive.SuppressionNeed, len(stored))
	has := make([]bool, len(stored))
	for j, i := range stored {
		needs[j], has[j] = derive.SuppressionNeeds(batch[i], w.msgs[refs[i]])
	}
	if err := w.loadSoftBounces(needs, has); err != nil {
		return err
	}
	ifRun := map[derive.Addr]bool{}
	for j, i := range stored {
		ev, m := batch[i], w.msgs[refs[i]]
		if ev.Counted {
			if _, ok := st.Customers[m.Customer]; !ok {
				e, err := customer(w.tx, w.db.cache, w.custs, m.Org, m.CustomerExt, m.Email)
				if err != nil {
					return err
				}
				st.Customers[m.Customer] = e.activity
			}
		}
		n := needs[j]
		if !has[j] {
			continue
		}
		if n.Topic != "" {
			if err := w.loadTopic(derive.TopicAddr{Addr: n.Addr, Topic: n.Topic}); err != nil {
				return err
			}
			continue
		}
		switch {
		case n.Suppression:
			if err := w.loadSuppression(n.Addr); err != nil {
				return err
			}
		case n.SuppressionIfRun:
			ifRun[n.Addr] = true
		}
	}
	for a := range ifRun {
		if st.SoftBounces[a] != "" {
			if err := w.loadSuppression(a); err != nil {
				return err
			}
		}
	}
	return nil
}

// loadSoftBounces reads into w.st the soft-bounce runs of the addresses whose needs say
// Soft (every delivery, human open and click resets its address's run), one statement per
// organization for the batch instead of one per event. An address without a run is
// loaded as "". The addresses travel hex-encoded, so they are compared byte for byte as
// bound text would be.
func (w *batchWriter) loadSoftBounces(needs []derive.SuppressionNeed, has []bool) error {
	byOrg := map[int64][]string{}
	for j, n := range needs {
		if !has[j] || n.Topic != "" || !n.Soft {
			continue
		}
		if _, ok := w.st.SoftBounces[n.Addr]; ok {
			continue
		}
		w.st.SoftBounces[n.Addr] = "" // unless a row is found below
		byOrg[n.Org] = append(byOrg[n.Org], hex.EncodeToString([]byte(n.Email)))
	}
	orgs := make([]int64, 0, len(byOrg))
	for org := range byOrg {
		orgs = append(orgs, org)
	}
	sort.Slice(orgs, func(i, j int) bool { return orgs[i] < orgs[j] })
	for _, org := range orgs {
		list, _ := json.Marshal(byOrg[org])
		rows, err := w.tx.query(`SELECT email, state FROM soft_bounces
			WHERE org_id = ? AND email IN (SELECT CAST(unhex(value) AS TEXT) FROM json_each(?))`, org, string(list))
		if err != nil {
			return fmt.Errorf("sqlite: soft bounces: %w", err)
		}
		for rows.Next() {
			var email, state string
			if err := rows.Scan(&email, &state); err != nil {
				rows.Close()
				return fmt.Errorf("sqlite: soft bounces: %w", err)
			}
			w.st.SoftBounces[derive.Addr{Org: org, Email: email}] = state
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlite: soft bounces: %w", err)
		}
	}
	return nil
}

func (w *batchWriter) loadSuppression(a derive.Addr) error {
	if _, ok := w.st.Suppressions[a]; ok {
		return nil
	}
	r, err := loadSuppression(w.tx, a.Org, a.Email)
	if err != nil {
		return err
	}
	w.st.Suppressions[a] = derive.Suppression{S: r.s, CustomerID: r.customerID, Found: r.found}
	return nil
}

func (w *batchWriter) loadTopic(k derive.TopicAddr) error {
	if _, ok := w.st.Topics[k]; ok {
		return nil
	}
	r, err := loadTopicSuppression(w.tx, k.Org, k.Email, k.Topic)
	if err != nil {
		return err
	}
	var resub int64
	if err := w.tx.scan(`SELECT at FROM topic_resubscribes WHERE org_id = ? AND email = ? AND topic = ?`, []any{k.Org, k.Email, k.Topic}, &resub); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlite: topic resubscribes: %w", err)
	}
	w.st.Topics[k] = derive.Suppression{S: r.s, CustomerID: r.customerID, Found: r.found}
	w.st.Resubscribes[k] = resub
	return nil
}

// org returns an organization's settings the planner reads.
func (w *batchWriter) org(id int64) (derive.Org, error) {
	if o, ok := w.st.Orgs[id]; ok {
		return o, nil
	}
	o, ok := w.db.cache.orgSettings[id]
	if !ok {
		if err := w.tx.scan(`SELECT keep_full_ip, soft_bounce_limit FROM orgs WHERE id = ?`, []any{id}, &o.KeepFullIP, &o.SoftBounceLimit); err != nil {
			return o, fmt.Errorf("sqlite: org settings: %w", err)
		}
		// Settings are committed state, not this batch's: safe to cache at once.
		w.db.cache.orgSettings[id] = o
	}
	w.st.Orgs[id] = o
	return o, nil
}

// applyLinkClicks adds the plan's per-message link clicks and returns the counts before.
func (w *batchWriter) applyLinkClicks(p *derive.Planner) (map[derive.LinkClickKey]derive.LinkClicks, error) {
	keys := p.LinkClickKeys()
	before := make(map[derive.LinkClickKey]derive.LinkClicks, len(keys))
	for _, k := range keys {
		d := p.LinkClickDelta(k)
		url, err := urlID(w.tx, w.db.cache, w.urls, k.Org, k.URL)
		if err != nil {
			return nil, err
		}
		var nowC, nowH int64
		if err := w.tx.scan(`INSERT INTO link_clicks (campaign_id, url_id, message_id, clicks, human_clicks) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (campaign_id, url_id, message_id) DO UPDATE SET clicks = clicks + excluded.clicks, human_clicks = human_clicks + excluded.human_clicks
			RETURNING clicks, human_clicks`, []any{k.Campaign, url, k.Message, d.Clicks, d.Human}, &nowC, &nowH); err != nil {
			return nil, fmt.Errorf("sqlite: link clicks: %w", err)
		}
		before[k] = derive.LinkClicks{Clicks: nowC - d.Clicks, Human: nowH - d.Human}
	}
	return before, nil
}

// apply writes the plan, each changed key once, in key order.
func (w *batchWriter) apply(plan *derive.Plan) error {
	for _, r := range plan.Relabels {
		if _, err := w.tx.exec(`UPDATE events SET class = ?, reasons = ? WHERE id = ?`, string(r.Class), r.Reasons, r.Row); err != nil {
			return fmt.Errorf("sqlite: reclassify click: %w", err)
		}
	}
	w.relabels = append(w.relabels, plan.ClickRelabels...)
	for _, m := range plan.Messages {
		s := m.State
		var esp any
		if m.ESPMessageID != "" {
			esp = m.ESPMessageID
		}
		if _, err := w.tx.exec(`UPDATE messages SET f_sent=?, f_delivered=?, f_open=?, f_hopen=?, f_click=?, f_hclick=?,
			f_bounce=?, f_hard=?, f_complaint=?, f_unsub=?, esp_message_id=?, d_at=? WHERE id=?`, s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8], s[9], esp, m.DeliveredAt, m.ID); err != nil {
			return fmt.Errorf("sqlite: update message: %w", err)
		}
	}
	if err := w.applyStats(plan.Stats); err != nil {
		return err
	}
	for k, r := range plan.Links {
		url, err := urlID(w.tx, w.db.cache, w.urls, k.Org, k.URL)
		if err != nil {
			return err
		}
		_, err = w.tx.exec(`INSERT INTO link_stats (campaign_id, url_id, total, human_total, uniq, human_uniq) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (campaign_id, url_id) DO UPDATE SET total = total + excluded.total, human_total = human_total + excluded.human_total,
			uniq = uniq + excluded.uniq, human_uniq = human_uniq + excluded.human_uniq`, k.Campaign, url, r.Total, r.Human, r.Uniq, r.HumanUniq)
		if err != nil {
			return fmt.Errorf("sqlite: link stats: %w", err)
		}
	}
	if err := w.applyDims(plan.Dims); err != nil {
		return err
	}
	for id, a := range plan.Customers {
		if _, err := w.tx.exec(`UPDATE customers SET last_sent = ?, last_open = ?, last_click = ? WHERE id = ?`,
			a.LastSent, a.LastOpen, a.LastClick, id); err != nil {
			return fmt.Errorf("sqlite: customer activity: %w", err)
		}
	}
	for _, e := range w.custs {
		if a, ok := plan.Customers[e.id]; ok {
			e.activity = a
		}
	}
	return w.applySuppressions(plan)
}

func (w *batchWriter) applyStats(stats map[derive.StatKey]*derive.StatRow) error {
	if len(stats) == 0 {
		return nil
	}
	keys := make([]derive.StatKey, 0, len(stats))
	for k := range stats {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].Campaign != keys[j].Campaign {
			return keys[i].Campaign < keys[j].Campaign
		}
		return keys[i].Bucket < keys[j].Bucket
	})
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
		row := stats[k]
		args[0], args[1] = k.Campaign, k.Bucket
		for i, v := range row {
			args[2+i] = v
		}
		if _, err := w.tx.exec(q, args...); err != nil {
			return fmt.Errorf("sqlite: campaign stats: %w", err)
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
			refs[i] = storekit.SyntheticRef(ev.OrgID, ev.CampaignID, ev.CustomerID)
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
			s := &e.State
			if err := rows.Scan(&ref, &e.ID, &e.Org, &e.Campaign, &e.Customer, &e.CampaignName, &e.CustomerExt, &e.Email, &e.ESPMessageID, &e.TrackOpens, &e.TrackClicks,
				&s[0], &s[1], &s[2], &s[3], &s[4], &s[5], &s[6], &s[7], &s[8], &s[9], &e.DeliveredAt); err != nil {
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
		public, err := w.db.orgPublicID(w.ctx, w.db.wc, m.Org)
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
	return &msgEntry{ID: id, Org: org, Campaign: camp, Customer: cust.id, CampaignName: ev.CampaignID, CustomerExt: ev.CustomerID,
		Email: ev.CustomerEmail, ESPMessageID: ev.ESPMessageID}, nil
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
