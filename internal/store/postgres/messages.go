package postgres

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/mailtrail/mailtrail"
)

// CreateMessages records instrumented messages of one organization, with their links, in
// one transaction of a few statements whatever the number of messages. Message ids are
// chosen by the caller (random, see internal/token); a message id that exists already is
// an ECONFLICT error and nothing is written; EINVALID for an id that is not one.
func (db *DB) CreateMessages(ctx context.Context, orgID string, msgs []*mailtrail.Message) error {
	_, err := db.insertMessages(ctx, orgID, msgs, false)
	return err
}

// AdoptMessages records messages created in another store (serve's, before it ran with
// --postgres-dsn) under their ids and creation times, with their campaigns, customers
// and links: `mailtrail cluster copy-messages`. A message PostgreSQL has already keeps
// what it has, so copying twice changes nothing. It returns how many were new.
func (db *DB) AdoptMessages(ctx context.Context, orgID string, msgs []*mailtrail.Message) (int, error) {
	return db.insertMessages(ctx, orgID, msgs, true)
}

// insertMessages is CreateMessages, or with adopt AdoptMessages; it returns how many
// messages it inserted.
func (db *DB) insertMessages(ctx context.Context, orgID string, msgs []*mailtrail.Message, adopt bool) (int, error) {
	org, err := db.orgInternal(ctx, db.pool, orgID)
	if err != nil {
		return 0, err
	}
	refs := make([][]byte, len(msgs))
	var campNames []string
	custEmail := map[string]string{} // the email a new customer is created with: its first message's
	var custExt []string
	var urls []string
	for i, m := range msgs {
		ref, ok := parseRef(m.ID)
		if !ok {
			return 0, mailtrail.Errorf(mailtrail.EINVALID, "invalid message id %q", m.ID)
		}
		refs[i] = ref[:]
		campNames = append(campNames, m.CampaignID)
		if _, ok := custEmail[m.CustomerID]; !ok {
			custEmail[m.CustomerID] = m.CustomerEmail
			custExt = append(custExt, m.CustomerID)
		}
		urls = append(urls, m.Links...)
	}
	now := db.now().UnixMilli()
	inserted := 0
	err = pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		camps, err := campaignIDs(ctx, tx, org, campNames)
		if err != nil {
			return err
		}
		// A campaign's display name and subject: the first message that names them.
		named := map[int64]bool{}
		var nID []int64
		var nTitle, nSubject []string
		for _, m := range msgs {
			if c := camps[m.CampaignID]; (m.CampaignName != "" || m.Subject != "") && !named[c] {
				named[c] = true
				nID, nTitle, nSubject = append(nID, c), append(nTitle, m.CampaignName), append(nSubject, m.Subject)
			}
		}
		if len(nID) > 0 {
			if _, err := tx.Exec(ctx, `UPDATE campaigns c SET title = CASE WHEN v.title <> '' THEN v.title ELSE c.title END,
				subject = CASE WHEN v.subject <> '' THEN v.subject ELSE c.subject END
				FROM unnest($1::bigint[], $2::text[], $3::text[]) AS v(id, title, subject) WHERE c.id = v.id`, nID, nTitle, nSubject); err != nil {
				return fmt.Errorf("postgres: campaign name: %w", err)
			}
		}
		emails := make([]string, len(custExt))
		for i, ext := range custExt {
			emails[i] = custEmail[ext]
		}
		custs, err := customerIDs(ctx, tx, org, custExt, emails)
		if err != nil {
			return err
		}
		pairs := make([]urlKey, len(urls))
		for i, u := range urls {
			pairs[i] = urlKey{org, u}
		}
		urlIDs, err := linkURLIDs(ctx, tx, pairs)
		if err != nil {
			return err
		}
		n := len(msgs)
		mc, mu := make([]int64, n), make([]int64, n)
		email, topic := make([]string, n), make([]string, n)
		esp := make([]*string, n)
		opens, clicks := make([]bool, n), make([]bool, n)
		links := make([][]byte, n)
		for i, m := range msgs {
			mc[i], mu[i], email[i], topic[i] = camps[m.CampaignID], custs[m.CustomerID], m.CustomerEmail, m.Topic
			opens[i], clicks[i] = m.TrackOpens, m.TrackClicks
			if m.ESPMessageID != "" {
				esp[i] = &m.ESPMessageID
			}
			var b []byte
			for _, u := range m.Links {
				b = binary.AppendUvarint(b, uint64(urlIDs[urlKey{org, u}]))
			}
			links[i] = b
		}
		created := make([]int64, n)
		for i, m := range msgs {
			created[i] = now
			if adopt {
				created[i] = m.CreatedAt.UnixMilli()
			}
		}
		conflict := ""
		if adopt {
			conflict = " ON CONFLICT (ref) DO NOTHING"
		}
		tag, err := tx.Exec(ctx, `INSERT INTO messages (ref, org_id, campaign_id, customer_id, email, esp_message_id, track_opens, track_clicks, links, topic, created_at)
			SELECT r, $2, c, u, e, esp, o, k, l, t, at FROM unnest($1::bytea[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::boolean[], $8::boolean[],
				$9::bytea[], $10::text[], $11::bigint[]) AS v(r, c, u, e, esp, o, k, l, t, at)`+conflict, refs, org, mc, mu, email, esp, opens, clicks, links, topic, created)
		if isUniqueViolation(err) {
			return mailtrail.Errorf(mailtrail.ECONFLICT, "a message id exists")
		}
		if err != nil {
			return fmt.Errorf("postgres: create messages: %w", err)
		}
		inserted = int(tag.RowsAffected())
		if !adopt {
			for _, m := range msgs {
				m.OrgID = orgID
				m.CreatedAt = time.UnixMilli(now).UTC()
			}
		}
		return nil
	})
	return inserted, err
}

// campaignIDs returns the ids of an organization's campaigns by name, creating those it
// does not have, in tx.
func campaignIDs(ctx context.Context, tx pgx.Tx, org int64, names []string) (map[string]int64, error) {
	names = distinct(names)
	if _, err := tx.Exec(ctx, `INSERT INTO campaigns (org_id, name) SELECT $1, n FROM unnest($2::text[]) AS n ON CONFLICT (org_id, name) DO NOTHING`, org, names); err != nil {
		return nil, fmt.Errorf("postgres: campaigns: %w", err)
	}
	rows, err := tx.Query(ctx, `SELECT c.name, c.id FROM unnest($2::text[]) AS k(name) JOIN campaigns c ON c.org_id = $1 AND c.name = k.name`, org, names)
	return collectIDs(rows, err, "campaigns")
}

// customerIDs returns the ids of an organization's customers by external id, creating
// those it does not have with the email of the same index, in tx.
func customerIDs(ctx context.Context, tx pgx.Tx, org int64, ext, emails []string) (map[string]int64, error) {
	if _, err := tx.Exec(ctx, `INSERT INTO customers (org_id, ext_id, email) SELECT $1, x, e FROM unnest($2::text[], $3::text[]) AS v(x, e)
		ORDER BY x ON CONFLICT (org_id, ext_id) DO NOTHING`, org, ext, emails); err != nil {
		return nil, fmt.Errorf("postgres: customers: %w", err)
	}
	rows, err := tx.Query(ctx, `SELECT u.ext_id, u.id FROM unnest($2::text[]) AS k(ext) JOIN customers u ON u.org_id = $1 AND u.ext_id = k.ext`, org, ext)
	return collectIDs(rows, err, "customers")
}

// urlKey is a URL of an organization's dictionary.
type urlKey struct {
	org int64
	url string
}

// linkURLIDs returns the ids of URLs in their organizations' dictionaries, adding those
// missing, in tx.
func linkURLIDs(ctx context.Context, tx pgx.Tx, keys []urlKey) (map[urlKey]int64, error) {
	out := map[urlKey]int64{}
	if len(keys) == 0 {
		return out, nil
	}
	seen := map[urlKey]bool{}
	var orgs []int64
	var urls []string
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			orgs, urls = append(orgs, k.org), append(urls, k.url)
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO link_urls (org_id, url) SELECT o, u FROM unnest($1::bigint[], $2::text[]) AS v(o, u)
		ORDER BY o, u ON CONFLICT (org_id, url) DO NOTHING`, orgs, urls); err != nil {
		return nil, fmt.Errorf("postgres: link urls: %w", err)
	}
	rows, err := tx.Query(ctx, `SELECT l.org_id, l.url, l.id FROM link_urls l JOIN unnest($1::bigint[], $2::text[]) AS v(o, u) ON l.org_id = v.o AND l.url = v.u`, orgs, urls)
	if err != nil {
		return nil, fmt.Errorf("postgres: link urls: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k urlKey
		var id int64
		if err := rows.Scan(&k.org, &k.url, &id); err != nil {
			return nil, fmt.Errorf("postgres: link urls: %w", err)
		}
		out[k] = id
	}
	return out, rows.Err()
}

// collectIDs reads (name, id) rows into a map.
func collectIDs(rows pgx.Rows, err error, what string) (map[string]int64, error) {
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", what, err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var name string
		var id int64
		if err := rows.Scan(&name, &id); err != nil {
			return nil, fmt.Errorf("postgres: %s: %w", what, err)
		}
		out[name] = id
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", what, err)
	}
	return out, nil
}

// distinct returns the distinct strings of s, sorted (so that rows are locked in one
// order by every writer).
func distinct(s []string) []string {
	seen := map[string]bool{}
	out := make([]string, 0, len(s))
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	sort.Strings(out)
	return out
}

// Message returns a message of the organization by its public id, with its links, or
// ENOTFOUND. An empty orgID looks the message up in any organization (the tracking
// endpoints, whose signed token is the credential).
func (db *DB) Message(ctx context.Context, orgID, id string) (*mailtrail.Message, error) {
	ref, ok := parseRef(id)
	if !ok {
		return nil, mailtrail.Errorf(mailtrail.ENOTFOUND, "message not found")
	}
	m := mailtrail.Message{ID: id}
	var links []byte
	var created int64
	err := db.pool.QueryRow(ctx, `SELECT o.public_id, c.name, u.ext_id, m.email, coalesce(m.esp_message_id, ''), m.track_opens, m.track_clicks,
			m.links, m.created_at, m.topic
		FROM messages m JOIN orgs o ON o.id = m.org_id JOIN campaigns c ON c.id = m.campaign_id JOIN customers u ON u.id = m.customer_id
		WHERE m.ref = $1`, ref[:]).Scan(&m.OrgID, &m.CampaignID, &m.CustomerID, &m.CustomerEmail, &m.ESPMessageID, &m.TrackOpens, &m.TrackClicks,
		&links, &created, &m.Topic)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && orgID != "" && m.OrgID != orgID) {
		return nil, mailtrail.Errorf(mailtrail.ENOTFOUND, "message not found")
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: message: %w", err)
	}
	m.CreatedAt = fromMS(created)
	ids, err := linkIDs(links)
	if err != nil {
		return nil, fmt.Errorf("postgres: message %s: %w", id, err)
	}
	if m.Links, err = db.urls(ctx, ids); err != nil {
		return nil, err
	}
	return &m, nil
}

// ClickTarget returns the URL recorded for link index idx of a message, and the message's
// organization; ENOTFOUND when the message or the index does not exist.
func (db *DB) ClickTarget(ctx context.Context, id string, idx int) (orgID, target string, err error) {
	if t, ok := db.cache.click(id, idx); ok {
		return t.org, t.url, nil
	}
	defer func() {
		if err == nil {
			db.cache.keepClick(id, idx, clickTarget{org: orgID, url: target})
		}
	}()
	ref, ok := parseRef(id)
	if !ok || idx < 0 {
		return "", "", mailtrail.Errorf(mailtrail.ENOTFOUND, "link not found")
	}
	var links []byte
	err = db.pool.QueryRow(ctx, `SELECT o.public_id, m.links FROM messages m JOIN orgs o ON o.id = m.org_id WHERE m.ref = $1`, ref[:]).Scan(&orgID, &links)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", mailtrail.Errorf(mailtrail.ENOTFOUND, "link not found")
	}
	if err != nil {
		return "", "", fmt.Errorf("postgres: click target: %w", err)
	}
	ids, err := linkIDs(links)
	if err != nil {
		return "", "", fmt.Errorf("postgres: message %s: %w", id, err)
	}
	if idx >= len(ids) {
		return "", "", mailtrail.Errorf(mailtrail.ENOTFOUND, "link not found")
	}
	urls, err := db.urls(ctx, ids[idx:idx+1])
	if err != nil {
		return "", "", err
	}
	return orgID, urls[0], nil
}

// linkIDs decodes a message's links: link ids as uvarints.
func linkIDs(b []byte) ([]int64, error) {
	var ids []int64
	for len(b) > 0 {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return nil, errors.New("corrupt links")
		}
		ids, b = append(ids, int64(v)), b[n:]
	}
	return ids, nil
}

// urls returns the URLs of link ids, in their order, in one statement.
func (db *DB) urls(ctx context.Context, ids []int64) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := db.pool.Query(ctx, `SELECT l.id, l.url FROM (SELECT DISTINCT unnest($1::bigint[]) AS id) AS k JOIN link_urls l ON l.id = k.id`, ids)
	if err != nil {
		return nil, fmt.Errorf("postgres: link urls: %w", err)
	}
	byID := map[int64]string{}
	for rows.Next() {
		var id int64
		var u string
		if err := rows.Scan(&id, &u); err != nil {
			rows.Close()
			return nil, fmt.Errorf("postgres: link urls: %w", err)
		}
		byID[id] = u
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: link urls: %w", err)
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		u, ok := byID[id]
		if !ok {
			return nil, fmt.Errorf("postgres: link url %d missing", id)
		}
		out[i] = u
	}
	return out, nil
}
