package sqlite

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/storekit"
)

// campaignRow returns the row id of an organization's campaign, or ENOTFOUND.
func (db *DB) campaignRow(ctx context.Context, org int64, name string) (int64, error) {
	var id int64
	err := db.rrow(ctx, `SELECT id FROM campaigns WHERE org_id = ? AND name = ?`, []any{org, name}, &id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, mailtrail.Errorf(mailtrail.ENOTFOUND, "campaign %q not found", name)
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: campaign: %w", err)
	}
	return id, nil
}

// campaignOf returns the row id of a campaign of the organization with the public id;
// ENOTFOUND for an unknown organization or campaign.
func (db *DB) campaignOf(ctx context.Context, orgID, campaign string) (int64, error) {
	org, err := db.orgInternal(ctx, orgID)
	if err != nil {
		return 0, err
	}
	return db.campaignRow(ctx, org, campaign)
}

// CampaignBuckets returns the counters of a campaign per quarter hour, in time order;
// ENOTFOUND for a campaign the organization does not have. Its cost grows with the
// campaign's duration, not with its number of events.
func (s *snap) CampaignBuckets(ctx context.Context, orgID, campaign string) ([]mailtrail.CampaignBucket, error) {
	camp, err := s.campaign(ctx, orgID, campaign)
	if err != nil {
		return nil, err
	}
	rows, err := s.query(ctx, `SELECT bucket, u0, u1, u2, u3, u4, u5, u6, u7, u8, u9, t0, t1, t2, t3
		FROM campaign_stats WHERE campaign_id = ? ORDER BY bucket`, camp.id)
	if err != nil {
		return nil, fmt.Errorf("sqlite: campaign stats: %w", err)
	}
	defer rows.Close()
	var out []mailtrail.CampaignBucket
	for rows.Next() {
		b, ok, err := storekit.ScanBucket(rows.Scan)
		if err != nil {
			return nil, fmt.Errorf("sqlite: campaign stats: %w", err)
		}
		if ok {
			out = append(out, b)
		}
	}
	return out, rows.Err()
}

// CampaignLinks returns the clicks per URL of a campaign, most clicked first, at most
// limit, each with its URL's id.
func (s *snap) CampaignLinks(ctx context.Context, orgID, campaign string, limit int) ([]mailtrail.LinkStats, error) {
	camp, err := s.campaign(ctx, orgID, campaign)
	if err != nil {
		return nil, err
	}
	rows, err := s.query(ctx, `SELECT u.id, u.url, s.total, s.uniq, s.human_total, s.human_uniq FROM link_stats s
		JOIN link_urls u ON u.id = s.url_id WHERE s.campaign_id = ? ORDER BY s.total DESC, u.url LIMIT `+limitSQL(limit), camp.id)
	if err != nil {
		return nil, fmt.Errorf("sqlite: links: %w", err)
	}
	defer rows.Close()
	out := []mailtrail.LinkStats{}
	for rows.Next() {
		var l mailtrail.LinkStats
		if err := rows.Scan(&l.ID, &l.URL, &l.Total, &l.Unique, &l.HumanTotal, &l.HumanUnique); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

func encodeCursor(at, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(at, 10) + "." + strconv.FormatInt(id, 10)))
}

func decodeCursor(s string) (at, id int64, err error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		a, i, ok := strings.Cut(string(b), ".")
		if ok {
			if at, err = strconv.ParseInt(a, 10, 64); err == nil {
				if id, err = strconv.ParseInt(i, 10, 64); err == nil {
					return at, id, nil
				}
			}
		}
	}
	return 0, 0, mailtrail.Errorf(mailtrail.EINVALID, "invalid cursor")
}

// ListEvents returns a page of an organization's events. With a campaign or a customer
// the events come in occurred_at order from that index; otherwise in arrival order from
// the organization's index. Unknown campaigns and customers give an empty page.
func (s *snap) ListEvents(ctx context.Context, orgID string, f mailtrail.EventFilter) (*mailtrail.EventPage, error) {
	org, err := s.org(ctx, orgID)
	if err != nil {
		return nil, err
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	if f.Limit > 1000 {
		f.Limit = 1000
	}
	var where []string
	var args, fromArgs []any
	from := "events e"
	byTime := true
	switch {
	case f.CampaignID != "":
		camp, err := s.campaignRow(ctx, org, orgID, f.CampaignID)
		if mailtrail.ErrorCode(err) == mailtrail.ENOTFOUND {
			return &mailtrail.EventPage{Events: []mailtrail.Event{}}, nil
		} else if err != nil {
			return nil, err
		}
		where, args = append(where, "e.campaign_id = ?"), append(args, camp.id)
		if f.CustomerID != "" {
			where, args = append(where, "u.ext_id = ?"), append(args, f.CustomerID)
		}
	case f.CustomerID != "":
		var cust int64
		err := s.row(ctx, `SELECT id FROM customers WHERE org_id = ? AND ext_id = ?`, []any{org, f.CustomerID}, &cust)
		if errors.Is(err, sql.ErrNoRows) {
			return &mailtrail.EventPage{Events: []mailtrail.Event{}}, nil
		} else if err != nil {
			return nil, fmt.Errorf("sqlite: customer: %w", err)
		}
		// The customer index is kept by a background indexer (see indexer.go): the indexed
		// part plus the customer's events past its watermark, listed in memory (tail.go),
		// read in one statement (one snapshot).
		from = `(SELECT ev.* FROM customer_events ce JOIN events ev ON ev.id = ce.event_id WHERE ce.customer_id = ?
			UNION ALL SELECT ev.* FROM events ev WHERE ev.id IN (SELECT value FROM json_each(?)) AND ev.org_id = ? AND ev.customer_id = ?
				AND ev.id > (SELECT last_id FROM indexer_state WHERE name = 'customer_events')) e`
		fromArgs = []any{cust, s.db.tail.ids(cust), org, cust}
	default:
		byTime = false
		where, args = append(where, "e.org_id = ?"), append(args, org)
	}
	if !f.Since.IsZero() {
		where, args = append(where, "e.occurred_at >= ?"), append(args, f.Since.UnixMilli())
	}
	if !f.Until.IsZero() {
		where, args = append(where, "e.occurred_at < ?"), append(args, f.Until.UnixMilli())
	}
	where, args = typeIn(where, args, f.Types)
	if f.Cursor != "" {
		at, id, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, err
		}
		if byTime {
			where, args = append(where, "(e.occurred_at, e.id) > (?, ?)"), append(args, at, id)
		} else {
			where, args = append(where, "e.id > ?"), append(args, id)
		}
	}
	order := "e.occurred_at, e.id"
	if !byTime {
		order = "e.id"
	}
	args = append(args, f.Limit+1)
	rows, err := s.query(ctx, `SELECT e.id, e.uid, c.name, u.ext_id, e.email, m.ref, e.type, e.occurred_at, e.received_at,
		e.esp_message_id, e.source, e.class, e.reasons, e.counted, coalesce(e.meta, ''), m.f_sent
		FROM `+from+` JOIN campaigns c ON c.id = e.campaign_id JOIN customers u ON u.id = e.customer_id JOIN messages m ON m.id = e.message_id
		WHERE `+strings.Join(append(where, "1"), " AND ")+` ORDER BY `+order+` LIMIT ?`, append(fromArgs, args...)...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list events: %w", err)
	}
	defer rows.Close()
	page := &mailtrail.EventPage{Events: []mailtrail.Event{}}
	var lastAt, lastID int64
	for rows.Next() {
		if len(page.Events) == f.Limit {
			page.NextCursor = encodeCursor(lastAt, lastID)
			break
		}
		var (
			ev                 mailtrail.Event
			id, typ, occ, recv int64
			ref                []byte
			src, class, meta   string
			reasons            string
			sent               int64
		)
		if err := rows.Scan(&id, &ev.ID, &ev.CampaignID, &ev.CustomerID, &ev.CustomerEmail, &ref, &typ, &occ, &recv,
			&ev.ESPMessageID, &src, &class, &reasons, &ev.Counted, &meta, &sent); err != nil {
			return nil, fmt.Errorf("sqlite: list events: %w", err)
		}
		if err := fillEvent(&ev, orgID, id, ref, typ, occ, recv, src, class, reasons, meta, sent); err != nil {
			return nil, err
		}
		page.Events = append(page.Events, ev)
		lastAt, lastID = occ, id
	}
	return page, rows.Err()
}

// Suppressed returns the suppression of an address in the organization, or nil.
func (db *DB) Suppressed(ctx context.Context, orgID, email string) (*mailtrail.Suppression, error) {
	org, err := db.orgInternal(ctx, orgID)
	if err != nil {
		return nil, err
	}
	s := mailtrail.Suppression{OrgID: orgID}
	var created int64
	err = db.rrow(ctx, `SELECT coalesce(nullif(display_email, ''), email), customer_id, reason, source, event_id, created_at FROM suppressions WHERE org_id = ? AND email = ?`, []any{org, mailtrail.NormalizeEmail(email)}, &s.Email, &s.CustomerID, &s.Reason, &s.Source, &s.EventID, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return db.erasedSuppression(ctx, org, orgID, email)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: suppression: %w", err)
	}
	s.CreatedAt = fromMS(created)
	return &s, nil
}

// fillEvent completes an event read from a row of events: its organization, message,
// type, times, source, classification, metadata, and whether it is dated before its
// message's send (sent: the message's f_sent, ms; 0 when unknown).
func fillEvent(ev *mailtrail.Event, orgID string, id int64, ref []byte, typ, occ, recv int64, src, class, reasons, meta string, sent int64) error {
	ev.OrgID, ev.MessageID, ev.Type = orgID, refString(ref), mailtrail.EventType(typ)
	ev.OccurredAt, ev.ReceivedAt = fromMS(occ), fromMS(recv)
	ev.BeforeSend = mailtrail.IsBeforeSend(ev.OccurredAt, fromMS(sent))
	ev.Source, ev.Classification = mailtrail.Source(src), mailtrail.Classification(class)
	if reasons != "" {
		ev.Reasons = strings.Split(reasons, ",")
	}
	if meta != "" {
		if err := json.Unmarshal([]byte(meta), &ev.Metadata); err != nil {
			return fmt.Errorf("sqlite: event %d metadata: %w", id, err)
		}
	}
	return nil
}
