package postgres

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/storekit"
)

// Recipients lists who opened, clicked (optionally one link's clickers), bounced,
// complained or unsubscribed, in message order, a page at a time, as the SQLite store
// does; ENOTFOUND for an unknown campaign, EINVALID for a bad filter or cursor.
func (s *snap) Recipients(ctx context.Context, orgID, campaign string, f mailtrail.RecipientFilter) (*mailtrail.RecipientPage, error) {
	c, err := s.campaign(ctx, orgID, campaign)
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
	var rows pgx.Rows
	withLink := f.LinkURL != ""
	switch {
	case withLink:
		if f.Activity != mailtrail.EventClicked {
			return nil, mailtrail.Errorf(mailtrail.EINVALID, "a link filter needs activity=clicked")
		}
		org, err := s.org(ctx, orgID)
		if err != nil {
			return nil, err
		}
		var urlID int64
		err = s.tx.QueryRow(ctx, `SELECT id FROM link_urls WHERE org_id = $1 AND url = $2`, org, f.LinkURL).Scan(&urlID)
		if errors.Is(err, pgx.ErrNoRows) {
			return &mailtrail.RecipientPage{Recipients: []mailtrail.Recipient{}}, nil
		} else if err != nil {
			return nil, fmt.Errorf("postgres: link url: %w", err)
		}
		rows, err = s.tx.Query(ctx, `SELECT `+cols+`, l.clicks, l.human_clicks, '' FROM link_clicks l
			JOIN messages m ON m.id = l.message_id JOIN customers u ON u.id = m.customer_id
			WHERE l.campaign_id = $1 AND l.url_id = $2 AND l.message_id > $3 AND (l.human_clicks > 0 OR NOT $4)
			ORDER BY l.message_id LIMIT $5`, c.id, urlID, after, f.HumanOnly, f.Limit+1)
		if err != nil {
			return nil, fmt.Errorf("postgres: recipients: %w", err)
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
		rows, err = s.tx.Query(ctx, `SELECT `+cols+`, 0::bigint, 0::bigint, '' FROM messages m JOIN customers u ON u.id = m.customer_id
			WHERE m.campaign_id = $1 AND m.id > $2 AND `+col+` > 0 ORDER BY m.id LIMIT $3`, c.id, after, f.Limit+1)
		if err != nil {
			return nil, fmt.Errorf("postgres: recipients: %w", err)
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
			// The reason of the message's bounce: its hard one if any, else the latest.
			reason = `coalesce((SELECT trim(coalesce(e.meta::jsonb ->> 'smtp_code', '') || ' ' || coalesce(e.meta::jsonb ->> 'reason', ''))
				FROM events e WHERE e.customer_id = m.customer_id AND e.message_id = m.id AND e.type = 5
				ORDER BY coalesce(e.meta::jsonb ->> 'bounce_type', '') = 'hard' DESC, e.occurred_at DESC LIMIT 1), '')`
		case mailtrail.EventComplained:
			where = "m.f_complaint > 0"
			reason = `coalesce((SELECT coalesce(e.meta::jsonb ->> 'feedback_type', '') FROM events e
				WHERE e.customer_id = m.customer_id AND e.message_id = m.id AND e.type = 6 ORDER BY e.occurred_at LIMIT 1), '')`
		}
		rows, err = s.tx.Query(ctx, `SELECT `+cols+`, 0::bigint, 0::bigint, `+reason+` FROM messages m JOIN customers u ON u.id = m.customer_id
			WHERE m.campaign_id = $1 AND m.id > $2 AND `+where+` ORDER BY m.id LIMIT $3`, c.id, after, f.Limit+1)
		if err != nil {
			return nil, fmt.Errorf("postgres: recipients: %w", err)
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
			return nil, fmt.Errorf("postgres: recipients: %w", err)
		}
		page.Recipients = append(page.Recipients, r)
		last = id
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: recipients: %w", err)
	}
	return page, nil
}

func optTime(ms int64) *time.Time { return storekit.OptTime(ms) }

// Did answers a journey condition for a customer of the organization from the events'
// (customer, time) index: whether the customer has a counted event of c.Type (of
// c.CampaignID or c.MessageID, at or after c.Since, human only, of c.LinkURL), how many,
// the first and the last, and the first in full. A customer, campaign or message the
// organization does not have gives Did false; an unknown organization ENOTFOUND; an
// invalid condition EINVALID.
func (s *snap) Did(ctx context.Context, orgID string, c mailtrail.Condition) (*mailtrail.Did, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	org, err := s.org(ctx, orgID)
	if err != nil {
		return nil, err
	}
	out := &mailtrail.Did{CustomerID: c.CustomerID, Type: c.Type}
	var cust, camp, msg int64
	err = s.tx.QueryRow(ctx, `SELECT id FROM customers WHERE org_id = $1 AND ext_id = $2`, org, c.CustomerID).Scan(&cust)
	if errors.Is(err, pgx.ErrNoRows) {
		return out, nil
	} else if err != nil {
		return nil, fmt.Errorf("postgres: customer: %w", err)
	}
	switch {
	case c.CampaignID != "":
		cr, err := s.campaignRow(ctx, org, orgID, c.CampaignID)
		if mailtrail.ErrorCode(err) == mailtrail.ENOTFOUND {
			return out, nil
		} else if err != nil {
			return nil, err
		}
		camp = cr.id
	case c.MessageID != "":
		ref, ok := parseRef(c.MessageID)
		if !ok {
			return out, nil
		}
		err = s.tx.QueryRow(ctx, `SELECT id FROM messages WHERE ref = $1 AND org_id = $2 AND customer_id = $3`, ref[:], org, cust).Scan(&msg)
		if errors.Is(err, pgx.ErrNoRows) {
			return out, nil // not this customer's message, or none of the organization's
		} else if err != nil {
			return nil, fmt.Errorf("postgres: message: %w", err)
		}
	}
	since := int64(-1 << 62) // every event, whatever its time
	if !c.Since.IsZero() {
		since = c.Since.UnixMilli()
	}
	rows, err := s.tx.Query(ctx, `SELECT e.id, e.uid, e.occurred_at FROM events e WHERE e.customer_id = $1 AND e.occurred_at >= $2
		AND e.type = $3 AND e.counted AND ($4 = 0 OR e.campaign_id = $4) AND ($5 = 0 OR e.message_id = $5)
		AND (NOT $6 OR e.class IN ('', 'human')) AND ($7 = '' OR e.meta::jsonb ->> 'link_url' = $7)`,
		cust, since, int16(c.Type), camp, msg, c.HumanOnly, c.LinkURL)
	if err != nil {
		return nil, fmt.Errorf("postgres: did: %w", err)
	}
	defer rows.Close()
	var did storekit.Did
	for rows.Next() {
		var id, at int64
		var uid string
		if err := rows.Scan(&id, &uid, &at); err != nil {
			return nil, fmt.Errorf("postgres: did: %w", err)
		}
		did.Add(id, at, uid)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: did: %w", err)
	}
	firstID, ok := did.Fill(out)
	if !ok {
		return out, nil
	}
	var ev mailtrail.Event
	_, _, err = scanEvent(s.tx.QueryRow(ctx, `SELECT `+eventCols+` FROM events e`+eventJoins+` WHERE e.id = $1`, firstID), orgID, &ev)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: did: %w", err)
	}
	if err == nil {
		out.Event = &ev
	}
	return out, nil
}
