package sqlite

import (
	"fmt"
	"sort"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/derive"
	"github.com/mailtrail/mailtrail/internal/rules"
)

// applyDims adds to the breakdown counters, in key order.
func (w *batchWriter) applyDims(dims map[derive.DimKey]*derive.DimRow) error {
	keys := make([]derive.DimKey, 0, len(dims))
	for k, r := range dims {
		if r.Total != 0 || r.Human != 0 {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.Campaign != b.Campaign {
			return a.Campaign < b.Campaign
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Dim != b.Dim {
			return a.Dim < b.Dim
		}
		return a.Value < b.Value
	})
	for _, k := range keys {
		r := dims[k]
		if _, err := w.tx.exec(`INSERT INTO campaign_dims (campaign_id, kind, dim, value, total, human_total) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (campaign_id, kind, dim, value) DO UPDATE SET total = total + excluded.total, human_total = human_total + excluded.human_total`,
			k.Campaign, int(k.Kind), k.Dim, k.Value, r.Total, r.Human); err != nil {
			return fmt.Errorf("sqlite: breakdowns: %w", err)
		}
	}
	return nil
}

// clicks reads the counted clicks of a window's message in its range, at most
// rules.MaxClicksClassified+1 (derive.Planner.Relabel leaves more alone). The link is read
// by SQLite's JSON functions; the whole metadata is decoded only for the clicks whose label
// changes (a message can have many clicks in reach).
func (w *batchWriter) clicks(win *derive.Window) ([]derive.Click, error) {
	rows, err := w.tx.query(`SELECT id, occurred_at, class, reasons, coalesce(meta, '{}'),
		coalesce(json_extract(meta, '$.link_url'), ''), coalesce(json_extract(meta, '$.link_index'), -1) FROM events
		WHERE message_id = ? AND type = 4 AND occurred_at BETWEEN ? AND ? AND counted = 1 ORDER BY occurred_at, id LIMIT ?`,
		win.Msg.ID, win.From, win.To, rules.MaxClicksClassified+1)
	if err != nil {
		return nil, fmt.Errorf("sqlite: message clicks: %w", err)
	}
	defer rows.Close()
	var clicks []derive.Click
	for rows.Next() {
		var c derive.Click
		var class string
		if err := rows.Scan(&c.Row, &c.At, &class, &c.Reasons, &c.RawMeta, &c.LinkURL, &c.LinkIndex); err != nil {
			return nil, fmt.Errorf("sqlite: message clicks: %w", err)
		}
		c.Class = mailtrail.Classification(class)
		clicks = append(clicks, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: message clicks: %w", err)
	}
	return clicks, nil
}

// firstHumanOutside is the time of a window's message's first counted human click outside
// the window's range, 0 if none.
func (w *batchWriter) firstHumanOutside(win *derive.Window) (int64, error) {
	var first int64
	if err := w.tx.scan(`SELECT coalesce(min(occurred_at), 0) FROM events WHERE message_id = ? AND type = 4 AND counted = 1
		AND class IN ('', 'human') AND (occurred_at < ? OR occurred_at > ?)`, []any{win.Msg.ID, win.From, win.To}, &first); err != nil {
		return 0, fmt.Errorf("sqlite: first human click: %w", err)
	}
	return first, nil
}
