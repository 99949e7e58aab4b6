package sqlite

import (
	"encoding/json"
	"fmt"
	"math"
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
		row := rowOf(w.dims, dimKey{campaign, kind, d, v})
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
	id        int64
	at        int64
	class     mailtrail.Classification
	reasons   string
	rawMeta   string
	linkURL   string
	linkIndex int // -1: none
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

// relabelJob is the span of one message's clicks whose labels the batch may have changed.
type relabelJob struct {
	m      *msgEntry
	lo, hi int64 // occurred_at, unix ms, inclusive
}

// relabel asks for the labels of message m's clicks in [lo, hi] to be decided again.
func (w *batchWriter) relabel(m *msgEntry, lo, hi int64) {
	if j := w.reclass[m.id]; j != nil {
		j.lo, j.hi = min(j.lo, lo), max(j.hi, hi)
		return
	}
	w.reclass[m.id] = &relabelJob{m: m, lo: lo, hi: hi}
}

// reclassify runs the click rules over the clicks of one message that the batch may have
// relabelled, and for each click whose label changes, rewrites its class and reasons and
// moves it between the human and the non-human figures: campaign totals, the first human
// click, link counters and breakdowns.
//
// A click's label depends only on the message's delivery and send times and on its clicks
// within rules.ClickReach, so reading the clicks within ClickReach of the span gives the
// same labels as reading them all; the cost stays bounded when a message has many clicks.
// Because the rules see every click that can matter, labels and figures do not depend on
// the order events arrived in.
func (w *batchWriter) reclassify(j *relabelJob) error {
	m := j.m
	reach := rules.ClickReach.Milliseconds()
	from, to := j.lo, j.hi
	if from > math.MinInt64+reach {
		from -= reach
	}
	to += reach
	// The link is read by SQLite's JSON functions; the whole metadata is decoded only for
	// the clicks whose label changes (a message can have many clicks in reach).
	rows, err := w.tx.query(`SELECT id, occurred_at, class, reasons, coalesce(meta, '{}'),
		coalesce(json_extract(meta, '$.link_url'), ''), coalesce(json_extract(meta, '$.link_index'), -1) FROM events
		WHERE message_id = ? AND type = 4 AND occurred_at BETWEEN ? AND ? AND counted = 1 ORDER BY occurred_at, id LIMIT ?`,
		m.id, from, to, rules.MaxClicksClassified+1)
	if err != nil {
		return fmt.Errorf("sqlite: message clicks: %w", err)
	}
	var clicks []storedClick
	for rows.Next() {
		var c storedClick
		var class string
		if err := rows.Scan(&c.id, &c.at, &class, &c.reasons, &c.rawMeta, &c.linkURL, &c.linkIndex); err != nil {
			rows.Close()
			return fmt.Errorf("sqlite: message clicks: %w", err)
		}
		c.class = mailtrail.Classification(class)
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
		link := c.linkURL
		if link == "" && c.linkIndex >= 0 {
			link = "#" + strconv.Itoa(c.linkIndex)
		}
		in[i] = rules.Click{At: c.at, Link: link,
			Honeypot:   c.linkIndex == mailtrail.HoneypotLink && c.linkURL == "",
			RequestBot: len(requestReasons(c.reasons)) > 0 && c.class != mailtrail.Human && c.class != ""}
	}
	verdicts := rules.ClassifyClicks(m.dAt, m.state[rules.FSent], in)
	first := m.state[rules.FHumanClick]
	lostFirst := false
	for i, c := range clicks {
		if c.at < j.lo || c.at > j.hi {
			continue // context only: its own neighbours were not all read
		}
		v := verdicts[i]
		class := mailtrail.Human
		switch {
		case in[i].RequestBot:
			class = c.class
		case v.Bot:
			class = mailtrail.Bot
		}
		reasons := strings.Join(append(requestReasons(c.reasons), v.Reasons...), ",")
		if class == mailtrail.Human && reasons == "" && c.class == "" {
			class = "" // stored as it came: empty means human
		}
		if class == c.class && reasons == c.reasons {
			continue
		}
		if _, err := w.tx.exec(`UPDATE events SET class = ?, reasons = ? WHERE id = ?`, string(class), reasons, c.id); err != nil {
			return fmt.Errorf("sqlite: reclassify click: %w", err)
		}
		wasHuman := c.class == "" || c.class == mailtrail.Human
		isHuman := class == "" || class == mailtrail.Human
		if wasHuman == isHuman {
			continue
		}
		if w.db.onRelabel != nil {
			public, err := w.db.orgPublicID(w.ctx, w.db.wc, m.org)
			if err != nil {
				return err
			}
			w.relabels = append(w.relabels, ClickRelabel{OrgID: public, CampaignID: m.campaignName, CustomerID: m.customerExt,
				LinkURL: c.linkURL, At: c.at, Human: isHuman})
		}
		d := int64(1)
		if isHuman {
			if first == 0 || c.at < first {
				first = c.at
			}
		} else {
			d = -1
			lostFirst = lostFirst || c.at == first
		}
		w.stat(m.campaign, rules.Bucket(c.at))[int(rules.NumFields)+int(rules.THumanClicks)] += d
		var md mailtrail.Metadata
		if err := json.Unmarshal([]byte(c.rawMeta), &md); err != nil {
			return fmt.Errorf("sqlite: click metadata: %w", err)
		}
		w.addDims(m.campaign, mailtrail.EventClicked, &md, 0, d)
		if c.linkURL != "" {
			url, err := urlID(w.tx, w.db.cache, w.urls, m.org, c.linkURL)
			if err != nil {
				return err
			}
			if err := w.addLinkClick(m, url, 0, d); err != nil {
				return err
			}
		}
	}
	if lostFirst {
		// The first human click is a bot's now: the next human click, as relabelled.
		if err := w.tx.scan(`SELECT coalesce(min(occurred_at), 0) FROM events WHERE message_id = ? AND type = 4 AND counted = 1
			AND class IN ('', 'human')`, []any{m.id}, &first); err != nil {
			return fmt.Errorf("sqlite: first human click: %w", err)
		}
	}
	if old := m.state[rules.FHumanClick]; old != first {
		if old != 0 {
			w.stat(m.campaign, rules.Bucket(old))[rules.FHumanClick]--
		}
		if first != 0 {
			w.stat(m.campaign, rules.Bucket(first))[rules.FHumanClick]++
		}
		m.state[rules.FHumanClick] = first
		w.dirtyMsgs[m.id] = m
	}
	return nil
}

// stat returns the batch's pending changes to one campaign bucket.
func (w *batchWriter) stat(campaign, bucket int64) *statRow {
	return rowOf(w.stats, statKey{campaign, bucket})
}
