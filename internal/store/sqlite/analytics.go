package sqlite

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/derive"
	"github.com/mailtrail/mailtrail/internal/storekit"
)

// CampaignBreakdowns returns a campaign's opens and clicks by client, device, country and
// city, at most limit values per dimension, the most frequent first. It reads the
// pre-aggregated campaign_dims rows only: its cost follows the number of distinct values,
// not the campaign's size.
func (s *snap) CampaignBreakdowns(ctx context.Context, orgID, campaign string, limit int) (*mailtrail.Breakdowns, error) {
	camp, err := s.campaign(ctx, orgID, campaign)
	if err != nil {
		return nil, err
	}
	out := &mailtrail.Breakdowns{}
	for _, kind := range []mailtrail.EventType{mailtrail.EventOpened, mailtrail.EventClicked} {
		b := &out.Opens
		if kind == mailtrail.EventClicked {
			b = &out.Clicks
		}
		dst := [derive.NumDims]*[]mailtrail.DimValue{&b.Client, &b.Device, &b.Country, &b.City}
		for d := 0; d < derive.NumDims; d++ {
			vals, err := s.dimValues(ctx, camp.id, kind, d, limit)
			if err != nil {
				return nil, err
			}
			*dst[d] = vals
		}
	}
	return out, nil
}

func (s *snap) dimValues(ctx context.Context, camp int64, kind mailtrail.EventType, dim, limit int) ([]mailtrail.DimValue, error) {
	rows, err := s.query(ctx, `SELECT value, total, human_total FROM campaign_dims WHERE campaign_id = ? AND kind = ? AND dim = ?
		AND (total != 0 OR human_total != 0) ORDER BY total DESC, value LIMIT `+limitSQL(limit), camp, int(kind), dim)
	if err != nil {
		return nil, fmt.Errorf("sqlite: breakdowns: %w", err)
	}
	defer rows.Close()
	out := []mailtrail.DimValue{}
	for rows.Next() {
		var v mailtrail.DimValue
		if err := rows.Scan(&v.Value, &v.Total, &v.HumanTotal); err != nil {
			return nil, fmt.Errorf("sqlite: breakdowns: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// LinkTopClickers returns the n recipients of a campaign with the most human clicks on
// the link whose URL has id link (ties: the latest message first), from the link_clicks
// index.
func (s *snap) LinkTopClickers(ctx context.Context, orgID, campaign string, link int64, n int) ([]mailtrail.Clicker, error) {
	camp, err := s.campaign(ctx, orgID, campaign)
	if err != nil {
		return nil, err
	}
	rows, err := s.query(ctx, `SELECT u.ext_id, m.ref, l.clicks, l.human_clicks FROM link_clicks l
		JOIN messages m ON m.id = l.message_id JOIN customers u ON u.id = m.customer_id
		WHERE l.campaign_id = ? AND l.url_id = ? AND l.human_clicks > 0
		ORDER BY l.human_clicks DESC, l.message_id DESC LIMIT `+limitSQL(n), camp.id, link)
	if err != nil {
		return nil, fmt.Errorf("sqlite: top clickers: %w", err)
	}
	defer rows.Close()
	out := []mailtrail.Clicker{}
	for rows.Next() {
		var c mailtrail.Clicker
		var ref []byte
		if err := rows.Scan(&c.CustomerID, &ref, &c.Clicks, &c.HumanClicks); err != nil {
			return nil, fmt.Errorf("sqlite: top clickers: %w", err)
		}
		c.MessageID = refString(ref)
		out = append(out, c)
	}
	return out, rows.Err()
}

func (s *snap) linkURLID(ctx context.Context, orgID, url string) (int64, bool, error) {
	org, err := s.org(ctx, orgID)
	if err != nil {
		return 0, false, err
	}
	var id int64
	err = s.row(ctx, `SELECT id FROM link_urls WHERE org_id = ? AND url = ?`, []any{org, url}, &id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("sqlite: link url: %w", err)
	}
	return id, true, nil
}

// Recipients lists who opened or clicked a campaign (optionally people only, optionally
// one link's clickers), in message order, a page at a time.
func (s *snap) Recipients(ctx context.Context, orgID, campaign string, f mailtrail.RecipientFilter) (*mailtrail.RecipientPage, error) {
	camp, err := s.campaign(ctx, orgID, campaign)
	if err != nil {
		return nil, err
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	f.Limit = min(f.Limit, 1000)
	var after int64
	if f.Cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(f.Cursor)
		if err == nil {
			after, err = strconv.ParseInt(string(b), 10, 64)
		}
		if err != nil || after < 0 {
			return nil, mailtrail.Errorf(mailtrail.EINVALID, "invalid cursor")
		}
	}
	const cols = `m.id, m.ref, u.ext_id, m.email, m.f_open, m.f_hopen, m.f_click, m.f_hclick, m.f_bounce, m.f_hard, m.f_complaint, m.f_unsub`
	var rows *sql.Rows
	withLink := f.LinkURL != ""
	switch {
	case withLink:
		if f.Activity != mailtrail.EventClicked {
			return nil, mailtrail.Errorf(mailtrail.EINVALID, "a link filter needs activity=clicked")
		}
		urlID, ok, err := s.linkURLID(ctx, orgID, f.LinkURL)
		if err != nil {
			return nil, err
		}
		if !ok {
			return &mailtrail.RecipientPage{Recipients: []mailtrail.Recipient{}}, nil
		}
		rows, err = s.query(ctx, `SELECT `+cols+`, l.clicks, l.human_clicks, '' FROM link_clicks l
			JOIN messages m ON m.id = l.message_id JOIN customers u ON u.id = m.customer_id
			WHERE l.campaign_id = ? AND l.url_id = ? AND l.message_id > ? AND (l.human_clicks > 0 OR NOT ?)
			ORDER BY l.message_id LIMIT ?`, camp.id, urlID, after, f.HumanOnly, f.Limit+1)
		if err != nil {
			return nil, fmt.Errorf("sqlite: recipients: %w", err)
		}
	case f.Activity == mailtrail.EventOpened || f.Activity == mailtrail.EventClicked:
		all, human := "m.f_open", "m.f_hopen"
		if f.Activity == mailtrail.EventClicked {
			all, human = "m.f_click", "m.f_hclick"
		}
		col := all
		if f.HumanOnly {
			col = human
		}
		rows, err = s.query(ctx, `SELECT `+cols+`, 0, 0, '' FROM messages m JOIN customers u ON u.id = m.customer_id
			WHERE m.campaign_id = ? AND m.id > ? AND `+col+` > 0 ORDER BY m.id LIMIT ?`, camp.id, after, f.Limit+1)
		if err != nil {
			return nil, fmt.Errorf("sqlite: recipients: %w", err)
		}
	case f.Activity == mailtrail.EventBounced || f.Activity == mailtrail.EventComplained || f.Activity == mailtrail.EventUnsubscribed:
		where, reason := "m.f_unsub > 0", "''"
		switch f.Activity {
		case mailtrail.EventBounced:
			where = map[mailtrail.BounceType]string{"": "m.f_bounce > 0", mailtrail.BounceHard: "m.f_hard > 0",
				mailtrail.BounceSoft: "m.f_bounce > 0 AND m.f_hard = 0"}[f.Bounce]
			if where == "" {
				return nil, mailtrail.Errorf(mailtrail.EINVALID, "bounce must be hard or soft")
			}
			// The reason of the message's bounce: its hard one if any, else the latest; read
			// from the raw event while retention keeps it (a customer's events are few).
			reason = `COALESCE((SELECT TRIM(COALESCE(json_extract(e.meta, '$.smtp_code'), '') || ' ' || COALESCE(json_extract(e.meta, '$.reason'), ''))
				FROM events e WHERE e.customer_id = m.customer_id AND e.message_id = m.id AND e.type = 5
				ORDER BY COALESCE(json_extract(e.meta, '$.bounce_type'), '') = 'hard' DESC, e.occurred_at DESC LIMIT 1), '')`
		case mailtrail.EventComplained:
			where = "m.f_complaint > 0"
			reason = `COALESCE((SELECT COALESCE(json_extract(e.meta, '$.feedback_type'), '') FROM events e
				WHERE e.customer_id = m.customer_id AND e.message_id = m.id AND e.type = 6 ORDER BY e.occurred_at LIMIT 1), '')`
		}
		rows, err = s.query(ctx, `SELECT `+cols+`, 0, 0, `+reason+` FROM messages m JOIN customers u ON u.id = m.customer_id
			WHERE m.campaign_id = ? AND m.id > ? AND `+where+` ORDER BY m.id LIMIT ?`, camp.id, after, f.Limit+1)
		if err != nil {
			return nil, fmt.Errorf("sqlite: recipients: %w", err)
		}
	default:
		return nil, mailtrail.Errorf(mailtrail.EINVALID, "activity must be opened, clicked, bounced, complained or unsubscribed")
	}
	defer rows.Close()
	page := &mailtrail.RecipientPage{Recipients: []mailtrail.Recipient{}}
	var last int64
	for rows.Next() {
		if len(page.Recipients) == f.Limit {
			page.NextCursor = storekit.RecipientCursor(last)
			break
		}
		r, id, err := storekit.ScanRecipient(rows.Scan, withLink)
		if err != nil {
			return nil, fmt.Errorf("sqlite: recipients: %w", err)
		}
		page.Recipients = append(page.Recipients, r)
		last = id
	}
	return page, rows.Err()
}

func optTime(ms int64) *time.Time { return storekit.OptTime(ms) }
