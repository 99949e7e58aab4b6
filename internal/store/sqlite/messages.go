package sqlite

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail"
)

// CreateMessages records instrumented messages of one organization, with their links, in
// one transaction. Message ids are chosen by the caller (random, see internal/token); a
// message id that exists already is an ECONFLICT error and nothing is written.
func (db *DB) CreateMessages(ctx context.Context, orgID string, msgs []*mailtrail.Message) error {
	org, err := db.orgInternal(ctx, orgID)
	if err != nil {
		return err
	}
	tx, done, err := db.writeTx(ctx)
	if err != nil {
		return err
	}
	defer done()
	camps, urls, custs := map[string]int64{}, map[string]int64{}, map[string]*custEntry{}
	named := map[int64]bool{} // campaigns whose name and subject this batch set
	now := db.now().UnixMilli()
	for _, m := range msgs {
		ref, ok := parseRef(m.ID)
		if !ok {
			return mailtrail.Errorf(mailtrail.EINVALID, "invalid message id %q", m.ID)
		}
		camp, err := campaignID(tx, db.cache, camps, org, m.CampaignID)
		if err != nil {
			return err
		}
		if (m.CampaignName != "" || m.Subject != "") && !named[camp] {
			named[camp] = true
			if _, err := tx.exec(`UPDATE campaigns SET title = CASE WHEN ?1 <> '' THEN ?1 ELSE title END,
				subject = CASE WHEN ?2 <> '' THEN ?2 ELSE subject END WHERE id = ?3`, m.CampaignName, m.Subject, camp); err != nil {
				return fmt.Errorf("sqlite: campaign name: %w", err)
			}
		}
		cust, err := customer(tx, db.cache, custs, org, m.CustomerID, m.CustomerEmail)
		if err != nil {
			return err
		}
		var links []byte
		for _, u := range m.Links {
			id, err := urlID(tx, db.cache, urls, org, u)
			if err != nil {
				return err
			}
			links = binary.AppendUvarint(links, uint64(id))
		}
		var esp any
		if m.ESPMessageID != "" {
			esp = m.ESPMessageID
		}
		if _, err := tx.exec(`INSERT INTO messages (ref, org_id, campaign_id, customer_id, email, esp_message_id, track_opens, track_clicks, links, created_at, topic)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, ref[:], org, camp, cust.id, m.CustomerEmail, esp, m.TrackOpens, m.TrackClicks, links, now, m.Topic); err != nil {
			if isUniqueViolation(err) {
				return mailtrail.Errorf(mailtrail.ECONFLICT, "message %q exists", m.ID)
			}
			return fmt.Errorf("sqlite: create messages: %w", err)
		}
		m.OrgID = orgID
		m.CreatedAt = time.UnixMilli(now).UTC()
	}
	if err := tx.commit(); err != nil {
		return err
	}
	db.cache.trim()
	for k, v := range camps {
		db.cache.campaigns[k] = v
	}
	for k, v := range urls {
		db.cache.urls[k] = v
	}
	return nil
}

func isUniqueViolation(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// Message returns a message of the organization by its public id, with its links, or
// ENOTFOUND. An empty orgID looks the message up in any organization (the tracking
// endpoints, whose signed token is the credential).
func (db *DB) Message(ctx context.Context, orgID, id string) (*mailtrail.Message, error) {
	ref, ok := parseRef(id)
	if !ok {
		return nil, mailtrail.Errorf(mailtrail.ENOTFOUND, "message not found")
	}
	var (
		m                       mailtrail.Message
		org                     int64
		esp                     sql.NullString
		links                   []byte
		created                 int64
		trackOpens, trackClicks bool
	)
	err := db.rrow(ctx, `SELECT m.org_id, c.name, u.ext_id, m.email, m.esp_message_id, m.track_opens, m.track_clicks, m.links, m.created_at, m.topic
		FROM messages m JOIN campaigns c ON c.id = m.campaign_id JOIN customers u ON u.id = m.customer_id WHERE m.ref = ?`, []any{ref[:]}, &org, &m.CampaignID, &m.CustomerID, &m.CustomerEmail, &esp, &trackOpens, &trackClicks, &links, &created, &m.Topic)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, mailtrail.Errorf(mailtrail.ENOTFOUND, "message not found")
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: message: %w", err)
	}
	public, err := db.orgPublicID(ctx, db.r, org)
	if err != nil {
		return nil, err
	}
	if orgID != "" && public != orgID {
		return nil, mailtrail.Errorf(mailtrail.ENOTFOUND, "message not found")
	}
	m.ID, m.OrgID, m.ESPMessageID, m.TrackOpens, m.TrackClicks, m.CreatedAt = id, public, esp.String, trackOpens, trackClicks, fromMS(created)
	for len(links) > 0 {
		v, n := binary.Uvarint(links)
		if n <= 0 {
			return nil, fmt.Errorf("sqlite: message %s: corrupt links", id)
		}
		links = links[n:]
		u, err := db.url(ctx, int64(v))
		if err != nil {
			return nil, err
		}
		m.Links = append(m.Links, u)
	}
	return &m, nil
}

// MessagesAfter returns up to limit of an organization's messages whose row id is
// greater than after, in row id order (the order they were created in), each with its
// links, its campaign's display name and subject, and the last row id returned (after
// when none): what `mailtrail cluster copy-messages` pages through. ENOTFOUND for an
// unknown organization.
func (db *DB) MessagesAfter(ctx context.Context, orgID string, after int64, limit int) ([]*mailtrail.Message, int64, error) {
	org, err := db.orgInternal(ctx, orgID)
	if err != nil {
		return nil, after, err
	}
	rows, err := db.rquery(ctx, `SELECT m.id, m.ref, c.name, c.title, c.subject, u.ext_id, m.email, m.esp_message_id, m.track_opens, m.track_clicks,
		m.links, m.created_at, m.topic
		FROM messages m JOIN campaigns c ON c.id = m.campaign_id JOIN customers u ON u.id = m.customer_id
		WHERE m.org_id = ? AND m.id > ? ORDER BY m.id LIMIT ?`, org, after, limit)
	if err != nil {
		return nil, after, fmt.Errorf("sqlite: messages: %w", err)
	}
	type row struct {
		m     mailtrail.Message
		links []byte
	}
	var page []row
	last := after
	for rows.Next() {
		var r row
		var ref []byte
		var esp sql.NullString
		var created int64
		if err := rows.Scan(&last, &ref, &r.m.CampaignID, &r.m.CampaignName, &r.m.Subject, &r.m.CustomerID, &r.m.CustomerEmail, &esp,
			&r.m.TrackOpens, &r.m.TrackClicks, &r.links, &created, &r.m.Topic); err != nil {
			rows.Close()
			return nil, after, fmt.Errorf("sqlite: messages: %w", err)
		}
		r.m.ID, r.m.OrgID, r.m.ESPMessageID, r.m.CreatedAt = refString(ref), orgID, esp.String, fromMS(created)
		page = append(page, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, after, fmt.Errorf("sqlite: messages: %w", err)
	}
	out := make([]*mailtrail.Message, len(page))
	for i := range page {
		m := &page[i].m
		for links := page[i].links; len(links) > 0; {
			v, n := binary.Uvarint(links)
			if n <= 0 {
				return nil, after, fmt.Errorf("sqlite: message %s: corrupt links", m.ID)
			}
			links = links[n:]
			u, err := db.url(ctx, int64(v))
			if err != nil {
				return nil, after, err
			}
			m.Links = append(m.Links, u)
		}
		out[i] = m
	}
	return out, last, nil
}

// ClickTarget returns the URL recorded for link index idx of a message, and the message's
// organization; ENOTFOUND when the message or the index does not exist.
func (db *DB) ClickTarget(ctx context.Context, id string, idx int) (orgID, target string, err error) {
	ref, ok := parseRef(id)
	if !ok || idx < 0 {
		return "", "", mailtrail.Errorf(mailtrail.ENOTFOUND, "link not found")
	}
	org, links, err := db.messageLinks(ctx, ref)
	if err != nil {
		return "", "", err
	}
	for i := 0; ; i++ {
		v, n := binary.Uvarint(links)
		if n <= 0 {
			return "", "", mailtrail.Errorf(mailtrail.ENOTFOUND, "link not found")
		}
		links = links[n:]
		if i == idx {
			if target, err = db.url(ctx, int64(v)); err != nil {
				return "", "", err
			}
			break
		}
	}
	orgID, err = db.orgPublicID(ctx, db.r, org)
	return orgID, target, err
}

// url returns a link URL by its id; URLs never change, so they are cached.
func (db *DB) url(ctx context.Context, id int64) (string, error) {
	if u, ok := db.urls.Load(id); ok {
		return u.(string), nil
	}
	var u string
	if err := db.rrow(ctx, `SELECT url FROM link_urls WHERE id = ?`, []any{id}, &u); err != nil {
		return "", fmt.Errorf("sqlite: link url: %w", err)
	}
	if db.urlCount.Add(1) > maxCachedSmall {
		db.urls.Clear()
		db.urlCount.Store(0)
	}
	db.urls.Store(id, u)
	return u, nil
}

// linkSet is a message's organization and encoded link ids: immutable once instrumented.
type linkSet struct {
	org   int64
	links []byte
}

// messageLinks returns a message's organization and link ids, cached (bounded) because
// every click of a message needs them and they never change.
func (db *DB) messageLinks(ctx context.Context, ref [12]byte) (int64, []byte, error) {
	if v, ok := db.linkSets.Load(ref); ok {
		ls := v.(linkSet)
		return ls.org, ls.links, nil
	}
	var ls linkSet
	err := db.rrow(ctx, `SELECT org_id, links FROM messages WHERE ref = ?`, []any{ref[:]}, &ls.org, &ls.links)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, mailtrail.Errorf(mailtrail.ENOTFOUND, "link not found")
	}
	if err != nil {
		return 0, nil, fmt.Errorf("sqlite: click target: %w", err)
	}
	if db.linkSetCount.Add(1) > maxCachedMessages/2 {
		db.linkSets.Clear()
		db.linkSetCount.Store(0)
	}
	db.linkSets.Store(ref, ls)
	return ls.org, ls.links, nil
}
