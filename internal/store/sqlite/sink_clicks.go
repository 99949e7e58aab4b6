package sqlite

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/rules"
)

// The breakdown dimensions of campaign_dims.dim.
const (
	dimClient = iota
	dimDevice
	dimCountry
	dimCity
	numDims
)

// dimNames are the API names of the dimensions, by dim.
var dimNames = [numDims]string{"client", "device", "country", "city"}

type dimKey struct {
	campaign int64
	kind     mailtrail.EventType // opened or clicked
	dim      int
	value    string
}

type dimRow struct{ total, human int64 }

func dimValues(md *mailtrail.Metadata) [numDims]string {
	city := md.City
	if city != "" && md.Country != "" {
		city = md.Country + "/" + city // "Paris" alone is ambiguous (France, Texas)
	}
	return [numDims]string{md.Client, md.Device, md.Country, city}
}

// addDims adds to the breakdown counters of one open or click.
func (w *batchWriter) addDims(campaign int64, kind mailtrail.EventType, md *mailtrail.Metadata, total, human int64) {
	for d, v := range dimValues(md) {
		k := dimKey{campaign, kind, d, v}
		row := w.dims[k]
		if row == nil {
			row = &dimRow{}
			w.dims[k] = row
		}
		row.total += total
		row.human += human
	}
}

func (w *batchWriter) flushDims() error {
	keys := make([]dimKey, 0, len(w.dims))
	for k, r := range w.dims {
		if r.total != 0 || r.human != 0 {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.campaign != b.campaign {
			return a.campaign < b.campaign
		}
		if a.kind != b.kind {
			return a.kind < b.kind
		}
		if a.dim != b.dim {
			return a.dim < b.dim
		}
		return a.value < b.value
	})
	for _, k := range keys {
		r := w.dims[k]
		if _, err := w.tx.exec(`INSERT INTO campaign_dims (campaign_id, kind, dim, value, total, human_total) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (campaign_id, kind, dim, value) DO UPDATE SET total = total + excluded.total, human_total = human_total + excluded.human_total`,
			k.campaign, int(k.kind), k.dim, k.value, r.total, r.human); err != nil {
			return fmt.Errorf("sqlite: breakdowns: %w", err)
		}
	}
	return nil
}

// keepFullIP reports whether an organization keeps full client addresses.
func (w *batchWriter) keepFullIP(org int64) (bool, error) {
	if v, ok := w.db.cache.keepIP[org]; ok {
		return v, nil
	}
	var keep bool
	if err := w.tx.scan(`SELECT keep_full_ip FROM orgs WHERE id = ?`, []any{org}, &keep); err != nil {
		return false, fmt.Errorf("sqlite: org settings: %w", err)
	}
	// Settings are committed state, not this batch's: safe to cache at once.
	w.db.cache.keepIP[org] = keep
	return keep, nil
}

// storedClick is one counted click of a message as stored.
type storedClick struct {
	id      int64
	at      int64
	class   mailtrail.Classification
	reasons string
	meta    mailtrail.Metadata
}

// requestReasons returns the reasons of a stored click that came from the request itself
// (not from the click rules).
func requestReasons(reasons string) []string {
	var out []string
	for _, r := range strings.Split(reasons, ",") {
		if r != "" && !rules.IsClickRuleReason(r) {
			out = append(out, r)
		}
	}
	return out
}

// reclassify runs the click rules over every counted click of message m and, for each
// click whose label changes, rewrites its class and reasons and moves it between the
// human and the non-human figures: campaign totals, the first human click, link counters
// and breakdowns. Because the rules see the whole set of the message's clicks, the labels
// and figures do not depend on the order events arrived in.
func (w *batchWriter) reclassify(m *msgEntry) error {
	rows, err := w.tx.query(`SELECT id, occurred_at, class, reasons, coalesce(meta, '{}') FROM events
		WHERE message_id = ? AND type = 4 AND counted = 1 ORDER BY id LIMIT ?`, m.id, rules.MaxClicksClassified+1)
	if err != nil {
		return fmt.Errorf("sqlite: message clicks: %w", err)
	}
	var clicks []storedClick
	for rows.Next() {
		var c storedClick
		var class, meta string
		if err := rows.Scan(&c.id, &c.at, &class, &c.reasons, &meta); err != nil {
			rows.Close()
			return fmt.Errorf("sqlite: message clicks: %w", err)
		}
		c.class = mailtrail.Classification(class)
		if err := json.Unmarshal([]byte(meta), &c.meta); err != nil {
			rows.Close()
			return fmt.Errorf("sqlite: click metadata: %w", err)
		}
		clicks = append(clicks, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: message clicks: %w", err)
	}
	if len(clicks) > rules.MaxClicksClassified {
		return nil // labelled by their requests alone; see rules.MaxClicksClassified
	}
	in := make([]rules.Click, len(clicks))
	for i, c := range clicks {
		link := c.meta.LinkURL
		if link == "" && c.meta.LinkIndex != nil {
			link = "#" + strconv.Itoa(*c.meta.LinkIndex)
		}
		in[i] = rules.Click{At: c.at, Link: link,
			Honeypot:   c.meta.LinkIndex != nil && *c.meta.LinkIndex == mailtrail.HoneypotLink && c.meta.LinkURL == "",
			RequestBot: len(requestReasons(c.reasons)) > 0 && c.class != mailtrail.Human && c.class != ""}
	}
	verdicts := rules.ClassifyClicks(m.dAt, m.state[rules.FSent], in)
	var firstHuman int64
	oldest := clicks[0].at // clicks is never empty: the caller saw one
	for _, c := range clicks {
		oldest = min(oldest, c.at)
	}
	for i, c := range clicks {
		v := verdicts[i]
		reqReasons := requestReasons(c.reasons)
		class := mailtrail.Human
		switch {
		case in[i].RequestBot:
			class = c.class
		case v.Bot:
			class = mailtrail.Bot
		}
		reasons := strings.Join(append(reqReasons, v.Reasons...), ",")
		if class == mailtrail.Human && reasons == "" && c.class == "" {
			class = "" // stored as it came: empty means human
		}
		wasHuman := c.class == "" || c.class == mailtrail.Human
		isHuman := class == "" || class == mailtrail.Human
		if isHuman && (firstHuman == 0 || c.at < firstHuman) {
			firstHuman = c.at
		}
		if class == c.class && reasons == c.reasons {
			continue
		}
		if _, err := w.tx.exec(`UPDATE events SET class = ?, reasons = ? WHERE id = ?`, string(class), reasons, c.id); err != nil {
			return fmt.Errorf("sqlite: reclassify click: %w", err)
		}
		if wasHuman == isHuman {
			continue
		}
		if w.db.onRelabel != nil {
			public, err := w.db.orgPublicID(w.ctx, w.db.wc, m.org)
			if err != nil {
				return err
			}
			w.relabels = append(w.relabels, ClickRelabel{OrgID: public, CampaignID: m.campaignName, CustomerID: m.customerExt,
				LinkURL: c.meta.LinkURL, At: c.at, Human: isHuman})
		}
		d := int64(1)
		if !isHuman {
			d = -1
		}
		w.stat(m.campaign, rules.Bucket(c.at))[int(rules.NumFields)+int(rules.THumanClicks)] += d
		w.addDims(m.campaign, mailtrail.EventClicked, &c.meta, 0, d)
		if c.meta.LinkURL != "" {
			url, err := urlID(w.tx, w.db.cache, w.urls, m.org, c.meta.LinkURL)
			if err != nil {
				return err
			}
			if err := w.addLinkClick(m, url, 0, d); err != nil {
				return err
			}
		}
	}
	// A first human click older than every stored click was deleted by retention: the
	// rules cannot see it, so it stays.
	if old := m.state[rules.FHumanClick]; old != firstHuman && !(old != 0 && old < oldest) {
		if old != 0 {
			w.stat(m.campaign, rules.Bucket(old))[rules.FHumanClick]--
		}
		if firstHuman != 0 {
			w.stat(m.campaign, rules.Bucket(firstHuman))[rules.FHumanClick]++
		}
		m.state[rules.FHumanClick] = firstHuman
		w.dirtyMsgs[m.id] = m
	}
	return nil
}

// stat returns the batch's pending changes to one campaign bucket.
func (w *batchWriter) stat(campaign, bucket int64) *statRow {
	k := statKey{campaign, bucket}
	row := w.stats[k]
	if row == nil {
		row = new(statRow)
		w.stats[k] = row
	}
	return row
}
