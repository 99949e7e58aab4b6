package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/storekit"
)

// didQuery lists the matching events of one customer from the customer index (range
// customer, occurred_at ≥ since) plus the customer's events past the indexer's watermark
// (listed in memory, see tail.go, read by primary key), in one statement so that an event
// is seen exactly once whatever the indexer does meanwhile. Each candidate is then read by
// primary key and filtered. Its cost grows with the customer's events since the time
// asked, never with the organization's events or the indexer's lag.
const didQuery = `SELECT e.id, e.uid, e.occurred_at FROM (
		SELECT event_id AS id FROM customer_events WHERE customer_id = ? AND occurred_at >= ?
		UNION ALL
		SELECT id FROM events WHERE id IN (SELECT value FROM json_each(?)) AND org_id = ?
			AND id > (SELECT last_id FROM indexer_state WHERE name = 'customer_events') AND customer_id = ? AND occurred_at >= ?
	) x JOIN events e ON e.id = x.id
	WHERE e.type = ? AND e.counted = 1
		AND (? = 0 OR e.campaign_id = ?) AND (? = 0 OR e.message_id = ?)
		AND (? = 0 OR e.class IN ('', 'human'))
		AND (? = '' OR json_extract(e.meta, '$.link_url') = ?)`

// Did answers a journey condition for a customer of the organization from the customer
// index: whether the customer has a counted event of c.Type (of c.CampaignID or
// c.MessageID, at or after c.Since, human only, of c.LinkURL), how many, the first and the
// last, and the first in full. A customer, campaign or message the organization does not
// have gives Did false (journeys ask about customers who did nothing); an unknown
// organization ENOTFOUND; an invalid condition EINVALID.
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
	err = s.row(ctx, `SELECT id FROM customers WHERE org_id = ? AND ext_id = ?`, []any{org, c.CustomerID}, &cust)
	if errors.Is(err, sql.ErrNoRows) {
		return out, nil
	} else if err != nil {
		return nil, fmt.Errorf("sqlite: customer: %w", err)
	}
	switch {
	case c.CampaignID != "":
		var cr campRow
		cr, err = s.campaignRow(ctx, org, orgID, c.CampaignID)
		camp = cr.id
		if mailtrail.ErrorCode(err) == mailtrail.ENOTFOUND {
			return out, nil
		} else if err != nil {
			return nil, err
		}
	case c.MessageID != "":
		ref, ok := parseRef(c.MessageID)
		if !ok {
			return out, nil
		}
		err = s.row(ctx, `SELECT id FROM messages WHERE ref = ? AND org_id = ? AND customer_id = ?`, []any{ref[:], org, cust}, &msg)
		if errors.Is(err, sql.ErrNoRows) {
			return out, nil // not this customer's message, or none of the organization's
		} else if err != nil {
			return nil, fmt.Errorf("sqlite: message: %w", err)
		}
	}
	since := ms(c.Since)
	if c.Since.IsZero() {
		since = -1 << 62 // every event, whatever its time
	}
	rows, err := s.query(ctx, didQuery, cust, since, s.db.tail.ids(cust), org, cust, since, int(c.Type),
		camp, camp, msg, msg, b2i(c.HumanOnly), c.LinkURL, c.LinkURL)
	if err != nil {
		return nil, fmt.Errorf("sqlite: did: %w", err)
	}
	defer rows.Close()
	var did storekit.Did
	for rows.Next() {
		var id, at int64
		var uid string
		if err := rows.Scan(&id, &uid, &at); err != nil {
			return nil, fmt.Errorf("sqlite: did: %w", err)
		}
		did.Add(id, at, uid)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: did: %w", err)
	}
	firstID, ok := did.Fill(out)
	if !ok {
		return out, nil
	}
	if out.Event, err = s.eventByRow(ctx, orgID, firstID); err != nil {
		return nil, err
	}
	return out, nil
}

// eventByRow returns the stored event with row id id in full, or nil when it is gone (a
// retention delete since the caller saw it).
func (s *snap) eventByRow(ctx context.Context, orgID string, id int64) (*mailtrail.Event, error) {
	var (
		ev                mailtrail.Event
		typ, occ, recv    int64
		ref               []byte
		src, class, meta  string
		reasons, campName string
		sent              int64
	)
	err := s.row(ctx, `SELECT e.uid, c.name, u.ext_id, e.email, m.ref, e.type, e.occurred_at, e.received_at,
		e.esp_message_id, e.source, e.class, e.reasons, e.counted, coalesce(e.meta, ''), m.f_sent
		FROM events e JOIN campaigns c ON c.id = e.campaign_id JOIN customers u ON u.id = e.customer_id JOIN messages m ON m.id = e.message_id
		WHERE e.id = ?`, []any{id}, &ev.ID, &campName, &ev.CustomerID, &ev.CustomerEmail, &ref, &typ, &occ, &recv,
		&ev.ESPMessageID, &src, &class, &reasons, &ev.Counted, &meta, &sent)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("sqlite: event: %w", err)
	}
	ev.CampaignID = campName
	if err := fillEvent(&ev, orgID, id, ref, typ, occ, recv, src, class, reasons, meta, sent); err != nil {
		return nil, err
	}
	return &ev, nil
}
