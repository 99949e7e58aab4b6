package postgres

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/derive"
	"github.com/mailtrail/mailtrail/internal/rules"
)

// ActorEvent is the actor of the history entries that events cause (as the SQLite
// store's).
const ActorEvent = "event"

// statSet is the assignments that add a campaign_stats row's excluded values to it.
var statSet = func() string {
	var sets []string
	for i := 0; i < int(rules.NumFields); i++ {
		sets = append(sets, fmt.Sprintf("u%d = campaign_stats.u%d + EXCLUDED.u%d", i, i, i))
	}
	for i := 0; i < int(rules.NumTotals); i++ {
		sets = append(sets, fmt.Sprintf("t%d = campaign_stats.t%d + EXCLUDED.t%d", i, i, i))
	}
	return strings.Join(sets, ", ")
}()

// apply writes the plan, each changed key once, in key order: one statement per table
// (rows as arrays), and one or two per suppression change, in the order they happened,
// all sent in one round trip.
func (w *batchWriter) apply(plan *derive.Plan) error {
	b := &pgx.Batch{}
	if n := len(plan.Relabels); n > 0 {
		ids, class, reasons := make([]int64, n), make([]string, n), make([]string, n)
		for i, r := range plan.Relabels {
			ids[i], class[i], reasons[i] = r.Row, string(r.Class), r.Reasons
		}
		b.Queue(`UPDATE events e SET class = v.class, reasons = v.reasons FROM unnest($1::bigint[], $2::text[], $3::text[]) AS v(id, class, reasons)
			WHERE e.id = v.id`, ids, class, reasons)
	}
	w.relabels = append(w.relabels, plan.ClickRelabels...)
	if n := len(plan.Messages); n > 0 {
		ids, dAt := make([]int64, n), make([]int64, n)
		var f [rules.NumFields][]int64
		for j := range f {
			f[j] = make([]int64, n)
		}
		esp := make([]*string, n)
		for i, m := range plan.Messages {
			ids[i], dAt[i] = m.ID, m.DeliveredAt
			for j := range f {
				f[j][i] = m.State[j]
			}
			if m.ESPMessageID != "" {
				esp[i] = &m.ESPMessageID
			}
		}
		b.Queue(`UPDATE messages m SET f_sent = v.f0, f_delivered = v.f1, f_open = v.f2, f_hopen = v.f3, f_click = v.f4, f_hclick = v.f5,
			f_bounce = v.f6, f_hard = v.f7, f_complaint = v.f8, f_unsub = v.f9, esp_message_id = v.esp, d_at = v.d
			FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[],
				$10::bigint[], $11::bigint[], $12::text[], $13::bigint[]) AS v(id, f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, esp, d)
			WHERE m.id = v.id`, ids, f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], esp, dAt)
	}
	queueStats(b, plan.Stats)
	if err := w.queueLinks(b, plan.Links); err != nil {
		return err
	}
	queueDims(b, plan.Dims)
	if n := len(plan.Customers); n > 0 {
		ids := make([]int64, 0, n)
		for id := range plan.Customers {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		ls, lo, lc := make([]int64, n), make([]int64, n), make([]int64, n)
		for i, id := range ids {
			a := plan.Customers[id]
			ls[i], lo[i], lc[i] = a.LastSent, a.LastOpen, a.LastClick
		}
		b.Queue(`UPDATE customers c SET last_sent = greatest(c.last_sent, v.s), last_open = greatest(c.last_open, v.o), last_click = greatest(c.last_click, v.c)
			FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[]) AS v(id, s, o, c) WHERE c.id = v.id`, ids, ls, lo, lc)
	}
	for _, s := range plan.Suppressions {
		queueSuppression(b, s)
	}
	if n := len(plan.SoftBounces); n > 0 {
		addrs := make([]derive.Addr, 0, n)
		for a := range plan.SoftBounces {
			addrs = append(addrs, a)
		}
		slices.SortFunc(addrs, func(x, y derive.Addr) int {
			return cmp.Or(cmp.Compare(x.Org, y.Org), strings.Compare(x.Email, y.Email))
		})
		orgs, emails := addrArrays(addrs)
		states := make([]string, n)
		for i, a := range addrs {
			states[i] = plan.SoftBounces[a]
		}
		b.Queue(`INSERT INTO soft_bounces (org_id, email, state) SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[])
			ON CONFLICT (org_id, email) DO UPDATE SET state = EXCLUDED.state`, orgs, emails, states)
	}
	return sendAll(w, b, "apply")
}

func queueStats(b *pgx.Batch, stats map[derive.StatKey]*derive.StatRow) {
	if len(stats) == 0 {
		return
	}
	keys := make([]derive.StatKey, 0, len(stats))
	for k := range stats {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y derive.StatKey) int {
		return cmp.Or(cmp.Compare(x.Campaign, y.Campaign), cmp.Compare(x.Bucket, y.Bucket))
	})
	n := len(keys)
	camp, bucket := make([]int64, n), make([]int64, n)
	var cols [len(derive.StatRow{})][]int64
	for j := range cols {
		cols[j] = make([]int64, n)
	}
	for i, k := range keys {
		camp[i], bucket[i] = k.Campaign, k.Bucket
		for j, v := range stats[k] {
			cols[j][i] = v
		}
	}
	args := []any{camp, bucket}
	names, casts := []string{"campaign_id", "bucket"}, []string{"$1::bigint[]", "$2::bigint[]"}
	for j := range cols {
		args = append(args, cols[j])
		casts = append(casts, fmt.Sprintf("$%d::bigint[]", j+3))
		if j < int(rules.NumFields) {
			names = append(names, fmt.Sprintf("u%d", j))
		} else {
			names = append(names, fmt.Sprintf("t%d", j-int(rules.NumFields)))
		}
	}
	b.Queue(`INSERT INTO campaign_stats (`+strings.Join(names, ", ")+`) SELECT * FROM unnest(`+strings.Join(casts, ", ")+`)
		ON CONFLICT (campaign_id, bucket) DO UPDATE SET `+statSet, args...)
}

func (w *batchWriter) queueLinks(b *pgx.Batch, links map[derive.LinkKey]*derive.LinkRow) error {
	if len(links) == 0 {
		return nil
	}
	keys := make([]derive.LinkKey, 0, len(links))
	uk := make([]urlKey, 0, len(links))
	for k := range links {
		keys = append(keys, k)
		uk = append(uk, urlKey{k.Org, k.URL})
	}
	if err := w.urlIDs(uk); err != nil {
		return err
	}
	slices.SortFunc(keys, func(x, y derive.LinkKey) int {
		return cmp.Or(cmp.Compare(x.Campaign, y.Campaign), cmp.Compare(w.urls[urlKey{x.Org, x.URL}], w.urls[urlKey{y.Org, y.URL}]))
	})
	n := len(keys)
	camp, url, total, human, uniq, humanUniq := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	for i, k := range keys {
		r := links[k]
		camp[i], url[i], total[i], human[i], uniq[i], humanUniq[i] = k.Campaign, w.urls[urlKey{k.Org, k.URL}], r.Total, r.Human, r.Uniq, r.HumanUniq
	}
	b.Queue(`INSERT INTO link_stats (campaign_id, url_id, total, human_total, uniq, human_uniq)
		SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[])
		ON CONFLICT (campaign_id, url_id) DO UPDATE SET total = link_stats.total + EXCLUDED.total, human_total = link_stats.human_total + EXCLUDED.human_total,
			uniq = link_stats.uniq + EXCLUDED.uniq, human_uniq = link_stats.human_uniq + EXCLUDED.human_uniq`, camp, url, total, human, uniq, humanUniq)
	return nil
}

// queueDims adds to the breakdown counters that change, in key order.
func queueDims(b *pgx.Batch, dims map[derive.DimKey]*derive.DimRow) {
	keys := make([]derive.DimKey, 0, len(dims))
	for k, r := range dims {
		if r.Total != 0 || r.Human != 0 {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return
	}
	slices.SortFunc(keys, func(x, y derive.DimKey) int {
		return cmp.Or(cmp.Compare(x.Campaign, y.Campaign), cmp.Compare(x.Kind, y.Kind), cmp.Compare(x.Dim, y.Dim), strings.Compare(x.Value, y.Value))
	})
	n := len(keys)
	camp, total, human := make([]int64, n), make([]int64, n), make([]int64, n)
	kind, dim := make([]int16, n), make([]int16, n)
	value := make([]string, n)
	for i, k := range keys {
		r := dims[k]
		camp[i], kind[i], dim[i], value[i], total[i], human[i] = k.Campaign, int16(k.Kind), int16(k.Dim), k.Value, r.Total, r.Human
	}
	b.Queue(`INSERT INTO campaign_dims (campaign_id, kind, dim, value, total, human_total)
		SELECT * FROM unnest($1::bigint[], $2::smallint[], $3::smallint[], $4::text[], $5::bigint[], $6::bigint[])
		ON CONFLICT (campaign_id, kind, dim, value) DO UPDATE SET total = campaign_dims.total + EXCLUDED.total,
			human_total = campaign_dims.human_total + EXCLUDED.human_total`, camp, kind, dim, value, total, human)
}

// queueSuppression queues one suppression change of a plan and its history entry, as the
// SQLite store writes them (writeSuppression, writeTopicSuppression): the row moves from
// s.Cur to s.Next (Next.Reason "" deletes it), recorded with the actor "event".
func queueSuppression(b *pgx.Batch, s derive.SuppressionWrite) {
	cust := cmp.Or(s.CustomerID, s.Cur.CustomerID)
	next := s.Next
	action := s.Action
	if s.Topic != "" {
		if s.Cur.Found {
			b.Queue(`UPDATE topic_suppressions SET reason = $1, source = $2, event_id = $3, detail = $4, occurred_at = $5, customer_id = $6, created_at = $7
				WHERE org_id = $8 AND email = $9 AND topic = $10`, next.Reason, next.Source, next.EventID, next.Detail, next.At, cust, s.At, s.Org, s.Email, s.Topic)
		} else {
			b.Queue(`INSERT INTO topic_suppressions (org_id, email, topic, display_email, customer_id, reason, source, event_id, detail, occurred_at, created_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, s.Org, s.Email, s.Topic, displayOf(s.Email, s.Display), cust, next.Reason, next.Source,
				next.EventID, next.Detail, next.At, s.At)
		}
	} else {
		switch {
		case next.Reason == "":
			action = mailtrail.ActionLifted
			next = s.Cur.S
			b.Queue(`DELETE FROM suppressions WHERE org_id = $1 AND email = $2`, s.Org, s.Email)
		case s.Cur.Found:
			action = mailtrail.ActionReplaced
			b.Queue(`UPDATE suppressions SET reason = $1, source = $2, event_id = $3, detail = $4, occurred_at = $5, customer_id = $6,
				note = '', created_at = $7 WHERE org_id = $8 AND email = $9`, next.Reason, next.Source, next.EventID, next.Detail, next.At, cust, s.At, s.Org, s.Email)
		default:
			action = mailtrail.ActionAdded
			b.Queue(`INSERT INTO suppressions (org_id, email, display_email, customer_id, reason, source, event_id, detail, note, occurred_at, created_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, '', $9, $10)`, s.Org, s.Email, displayOf(s.Email, s.Display), cust, next.Reason, next.Source,
				next.EventID, next.Detail, next.At, s.At)
		}
	}
	b.Queue(`INSERT INTO suppression_history (org_id, email, topic, action, reason, source, event_id, detail, customer_id, actor, note, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, '', $11)`, s.Org, s.Email, s.Topic, action, next.Reason, next.Source, next.EventID, next.Detail,
		cust, ActorEvent, s.At)
}

// displayOf returns the display_email to store for key when spelled as spelling: "" when
// the spelling adds nothing to the key or is not the key's.
func displayOf(key, spelling string) string {
	spelling = strings.TrimSpace(spelling)
	if spelling == key || mailtrail.NormalizeEmail(spelling) != key {
		return ""
	}
	return spelling
}
