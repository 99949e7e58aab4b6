package postgres

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/derive"
	"github.com/mailtrail/mailtrail/internal/rules"
)

// load reads the state the stored events touch into w.st: customer activity, and the
// suppression rows, soft-bounce runs and topic state of their addresses. One statement
// per kind of state for the whole batch; the suppression rows last, since a reset reads
// its address's row only when the address has a run.
func (w *batchWriter) load(batch []*mailtrail.Event, refs [][12]byte, stored []int) error {
	st := w.st
	var custs []int64
	var soft, sups []derive.Addr
	var topics []derive.TopicAddr
	ifRun := map[derive.Addr]bool{}
	wantCust := map[int64]bool{}
	wantSoft := map[derive.Addr]bool{}
	wantSup := map[derive.Addr]bool{}
	wantTopic := map[derive.TopicAddr]bool{}
	for _, i := range stored {
		ev, m := batch[i], w.msgs[refs[i]]
		if ev.Counted && !wantCust[m.Customer] {
			wantCust[m.Customer] = true
			custs = append(custs, m.Customer)
		}
		n, ok := derive.SuppressionNeeds(ev, m)
		if !ok {
			continue
		}
		if n.Topic != "" {
			if k := (derive.TopicAddr{Addr: n.Addr, Topic: n.Topic}); !wantTopic[k] {
				wantTopic[k] = true
				topics = append(topics, k)
			}
			continue
		}
		if n.Soft && !wantSoft[n.Addr] {
			wantSoft[n.Addr] = true
			soft = append(soft, n.Addr)
		}
		switch {
		case n.Suppression:
			if !wantSup[n.Addr] {
				wantSup[n.Addr] = true
				sups = append(sups, n.Addr)
			}
		case n.SuppressionIfRun:
			ifRun[n.Addr] = true
		}
	}
	if err := w.loadCustomers(custs); err != nil {
		return err
	}
	if err := w.loadSoftBounces(soft); err != nil {
		return err
	}
	if err := w.loadTopics(topics); err != nil {
		return err
	}
	for a := range ifRun {
		if st.SoftBounces[a] != "" && !wantSup[a] {
			wantSup[a] = true
			sups = append(sups, a)
		}
	}
	return w.loadSuppressions(sups)
}

func (w *batchWriter) loadCustomers(ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	rows, err := w.tx.Query(w.ctx, `SELECT u.id, u.last_sent, u.last_open, u.last_click FROM unnest($1::bigint[]) AS k(id) JOIN customers u ON u.id = k.id`, ids)
	if err != nil {
		return fmt.Errorf("postgres: customers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var a rules.CustomerActivity
		if err := rows.Scan(&id, &a.LastSent, &a.LastOpen, &a.LastClick); err != nil {
			return fmt.Errorf("postgres: customers: %w", err)
		}
		w.st.Customers[id] = a
	}
	return rows.Err()
}

// addrArrays returns the organizations and addresses of addrs as two arrays.
func addrArrays(addrs []derive.Addr) ([]int64, []string) {
	orgs, emails := make([]int64, len(addrs)), make([]string, len(addrs))
	for i, a := range addrs {
		orgs[i], emails[i] = a.Org, a.Email
	}
	return orgs, emails
}

// loadSoftBounces reads the soft-bounce runs of addrs; an address without a run is
// loaded as "".
func (w *batchWriter) loadSoftBounces(addrs []derive.Addr) error {
	if len(addrs) == 0 {
		return nil
	}
	for _, a := range addrs {
		w.st.SoftBounces[a] = ""
	}
	orgs, emails := addrArrays(addrs)
	rows, err := w.tx.Query(w.ctx, `SELECT s.org_id, s.email, s.state FROM soft_bounces s
		JOIN unnest($1::bigint[], $2::text[]) AS k(org, email) ON s.org_id = k.org AND s.email = k.email`, orgs, emails)
	if err != nil {
		return fmt.Errorf("postgres: soft bounces: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a derive.Addr
		var state string
		if err := rows.Scan(&a.Org, &a.Email, &state); err != nil {
			return fmt.Errorf("postgres: soft bounces: %w", err)
		}
		w.st.SoftBounces[a] = state
	}
	return rows.Err()
}

// loadSuppressions reads the organization-wide suppression rows of addrs; an address
// without one is loaded as not found.
func (w *batchWriter) loadSuppressions(addrs []derive.Addr) error {
	if len(addrs) == 0 {
		return nil
	}
	for _, a := range addrs {
		w.st.Suppressions[a] = derive.Suppression{}
	}
	orgs, emails := addrArrays(addrs)
	rows, err := w.tx.Query(w.ctx, `SELECT s.org_id, s.email, s.reason, s.source, s.event_id, s.detail, s.occurred_at, s.customer_id FROM suppressions s
		JOIN unnest($1::bigint[], $2::text[]) AS k(org, email) ON s.org_id = k.org AND s.email = k.email`, orgs, emails)
	if err != nil {
		return fmt.Errorf("postgres: suppressions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a derive.Addr
		r := derive.Suppression{Found: true}
		if err := rows.Scan(&a.Org, &a.Email, &r.S.Reason, &r.S.Source, &r.S.EventID, &r.S.Detail, &r.S.At, &r.CustomerID); err != nil {
			return fmt.Errorf("postgres: suppressions: %w", err)
		}
		w.st.Suppressions[a] = r
	}
	return rows.Err()
}

// loadTopics reads the scoped suppressions and the latest resubscribes of keys (absent:
// not found, 0).
func (w *batchWriter) loadTopics(keys []derive.TopicAddr) error {
	if len(keys) == 0 {
		return nil
	}
	orgs, emails, topics := make([]int64, len(keys)), make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		orgs[i], emails[i], topics[i] = k.Org, k.Email, k.Topic
		w.st.Topics[k] = derive.Suppression{}
		w.st.Resubscribes[k] = 0
	}
	rows, err := w.tx.Query(w.ctx, `SELECT k.org, k.email, k.topic, s.reason, s.source, s.event_id, s.detail, s.occurred_at, s.customer_id,
		r.at FROM unnest($1::bigint[], $2::text[], $3::text[]) AS k(org, email, topic)
		LEFT JOIN topic_suppressions s ON s.org_id = k.org AND s.email = k.email AND s.topic = k.topic
		LEFT JOIN topic_resubscribes r ON r.org_id = k.org AND r.email = k.email AND r.topic = k.topic`, orgs, emails, topics)
	if err != nil {
		return fmt.Errorf("postgres: topic suppressions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k derive.TopicAddr
		var reason, source, eventID, detail, cust *string
		var at, resub *int64
		if err := rows.Scan(&k.Org, &k.Email, &k.Topic, &reason, &source, &eventID, &detail, &at, &cust, &resub); err != nil {
			return fmt.Errorf("postgres: topic suppressions: %w", err)
		}
		if reason != nil {
			w.st.Topics[k] = derive.Suppression{Found: true, CustomerID: *cust,
				S: rules.Suppress{Reason: *reason, Source: *source, EventID: *eventID, Detail: *detail, At: *at}}
		}
		if resub != nil {
			w.st.Resubscribes[k] = *resub
		}
	}
	return rows.Err()
}

// clicks reads the counted clicks of every window's message in its range (at most
// rules.MaxClicksClassified+1 each, ordered by time then row), in one statement: by
// window, in the order of wins.
func (w *batchWriter) clicks(wins []*derive.Window) ([][]derive.Click, error) {
	out := make([][]derive.Click, len(wins))
	if len(wins) == 0 {
		return out, nil
	}
	msgs, from, to := make([]int64, len(wins)), make([]int64, len(wins)), make([]int64, len(wins))
	for i, win := range wins {
		msgs[i], from[i], to[i] = win.Msg.ID, win.From, win.To
	}
	rows, err := w.tx.Query(w.ctx, `SELECT v.i, e.id, e.occurred_at, e.class, e.reasons, coalesce(e.meta, '{}'),
		coalesce(e.meta::jsonb ->> 'link_url', ''), coalesce((e.meta::jsonb ->> 'link_index')::integer, -1)
		FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) WITH ORDINALITY AS v(msg, lo, hi, i)
		CROSS JOIN LATERAL (SELECT id, occurred_at, class, reasons, meta FROM events
			WHERE message_id = v.msg AND type = 4 AND occurred_at BETWEEN v.lo AND v.hi AND counted
			ORDER BY occurred_at, id LIMIT $4) AS e
		ORDER BY v.i, e.occurred_at, e.id`, msgs, from, to, rules.MaxClicksClassified+1)
	if err != nil {
		return nil, fmt.Errorf("postgres: message clicks: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var i int64
		var c derive.Click
		var class string
		if err := rows.Scan(&i, &c.Row, &c.At, &class, &c.Reasons, &c.RawMeta, &c.LinkURL, &c.LinkIndex); err != nil {
			return nil, fmt.Errorf("postgres: message clicks: %w", err)
		}
		c.Class = mailtrail.Classification(class)
		out[i-1] = append(out[i-1], c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: message clicks: %w", err)
	}
	return out, nil
}

// firstHumanOutside is the time of a window's message's first counted human click outside
// the window's range, 0 if none.
func (w *batchWriter) firstHumanOutside(win *derive.Window) (int64, error) {
	var first int64
	if err := w.tx.QueryRow(w.ctx, `SELECT coalesce(min(occurred_at), 0) FROM events WHERE message_id = $1 AND type = 4 AND counted
		AND class IN ('', 'human') AND (occurred_at < $2 OR occurred_at > $3)`, win.Msg.ID, win.From, win.To).Scan(&first); err != nil {
		return 0, fmt.Errorf("postgres: first human click: %w", err)
	}
	return first, nil
}

// urlIDs returns the dictionary ids of the URLs of keys, remembered for the batch.
func (w *batchWriter) urlIDs(keys []urlKey) error {
	var missing []urlKey
	for _, k := range keys {
		if _, ok := w.urls[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	ids, err := linkURLIDs(w.ctx, w.tx, missing)
	if err != nil {
		return err
	}
	if w.urls == nil {
		w.urls = map[urlKey]int64{}
	}
	for k, v := range ids {
		w.urls[k] = v
	}
	return nil
}

// applyLinkClicks adds the plan's per-message link clicks in one statement and returns the
// counts before.
func (w *batchWriter) applyLinkClicks(p *derive.Planner) (map[derive.LinkClickKey]derive.LinkClicks, error) {
	keys := p.LinkClickKeys()
	before := make(map[derive.LinkClickKey]derive.LinkClicks, len(keys))
	if len(keys) == 0 {
		return before, nil
	}
	uk := make([]urlKey, len(keys))
	for i, k := range keys {
		uk[i] = urlKey{k.Org, k.URL}
	}
	if err := w.urlIDs(uk); err != nil {
		return nil, err
	}
	type row struct{ camp, url, msg int64 }
	byRow := make(map[row]derive.LinkClickKey, len(keys))
	camp, url, msg, clicks, human := make([]int64, len(keys)), make([]int64, len(keys)), make([]int64, len(keys)), make([]int64, len(keys)), make([]int64, len(keys))
	for i, k := range keys {
		d := p.LinkClickDelta(k)
		camp[i], url[i], msg[i], clicks[i], human[i] = k.Campaign, w.urls[uk[i]], k.Message, d.Clicks, d.Human
		byRow[row{camp[i], url[i], msg[i]}] = k
	}
	rows, err := w.tx.Query(w.ctx, `INSERT INTO link_clicks (campaign_id, url_id, message_id, clicks, human_clicks)
		SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[])
		ON CONFLICT (campaign_id, url_id, message_id) DO UPDATE SET clicks = link_clicks.clicks + EXCLUDED.clicks,
			human_clicks = link_clicks.human_clicks + EXCLUDED.human_clicks
		RETURNING campaign_id, url_id, message_id, clicks, human_clicks`, camp, url, msg, clicks, human)
	if err != nil {
		return nil, fmt.Errorf("postgres: link clicks: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r row
		var nowC, nowH int64
		if err := rows.Scan(&r.camp, &r.url, &r.msg, &nowC, &nowH); err != nil {
			return nil, fmt.Errorf("postgres: link clicks: %w", err)
		}
		k := byRow[r]
		d := p.LinkClickDelta(k)
		before[k] = derive.LinkClicks{Clicks: nowC - d.Clicks, Human: nowH - d.Human}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: link clicks: %w", err)
	}
	return before, nil
}

// sendAll runs the statements of b in one round trip and returns the first error.
func sendAll(w *batchWriter, b *pgx.Batch, what string) error {
	if b.Len() == 0 {
		return nil
	}
	br := w.tx.SendBatch(w.ctx, b)
	for i := 0; i < b.Len(); i++ {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return fmt.Errorf("postgres: %s: %w", what, err)
		}
	}
	if err := br.Close(); err != nil {
		return fmt.Errorf("postgres: %s: %w", what, err)
	}
	return nil
}

// lockAddresses locks, in key order, the rows of address_locks of every address the
// batch's events may decide on (derive.SuppressionNeeds: bounces, complaints,
// unsubscribes), creating the missing ones, before the batch loads their state: a batch of
// another stream deciding on one of them waits for this one's commit, and no two
// batches lock two addresses in opposite orders.
func (w *batchWriter) lockAddresses(batch []*mailtrail.Event, refs [][12]byte, skip []bool) error {
	type key struct{ org, h int64 }
	seen := map[key]bool{}
	var keys []key
	for i, ev := range batch {
		if skip[i] {
			continue
		}
		n, ok := derive.SuppressionNeeds(ev, w.msgs[refs[i]])
		if !ok {
			continue
		}
		h := fnv.New64a()
		h.Write([]byte(n.Addr.Email))
		k := key{n.Addr.Org, int64(h.Sum64())}
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	slices.SortFunc(keys, func(x, y key) int { return cmp.Or(cmp.Compare(x.org, y.org), cmp.Compare(x.h, y.h)) })
	orgs, hs := make([]int64, len(keys)), make([]int64, len(keys))
	for i, k := range keys {
		orgs[i], hs[i] = k.org, k.h
	}
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO address_locks (org_id, h) SELECT * FROM unnest($1::bigint[], $2::bigint[]) ON CONFLICT DO NOTHING`, orgs, hs)
	b.Queue(`SELECT 1 FROM address_locks a JOIN unnest($1::bigint[], $2::bigint[]) AS k(org, h) ON a.org_id = k.org AND a.h = k.h
		ORDER BY a.org_id, a.h FOR UPDATE OF a`, orgs, hs)
	return sendAll(w, b, "lock addresses")
}
