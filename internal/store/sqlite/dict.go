package sqlite

import (
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"

	"github.com/mailtrail/mailtrail/internal/derive"
	"github.com/mailtrail/mailtrail/internal/rules"
	"github.com/mailtrail/mailtrail/internal/storekit"
)

// Cache bounds: past them a map is dropped and refilled on demand.
const (
	maxCachedMessages  = 500_000
	maxCachedCustomers = 500_000
	maxCachedSmall     = 100_000
)

// msgEntry is the committed state of a message, as the writer needs it.
type msgEntry = derive.Message

// custEntry is the committed activity of a customer.
type custEntry struct {
	id       int64
	email    string
	activity rules.CustomerActivity
}

// writeCache holds committed state for the single writer. It is only changed after a
// commit succeeds, so it never holds state that is not durable.
type writeCache struct {
	orgs        map[string]int64 // public id → row id
	orgPublic   map[int64]string
	campaigns   map[string]int64 // org\x00name → id
	customers   map[string]*custEntry
	urls        map[string]int64 // org\x00url → id
	messages    map[[12]byte]*msgEntry
	orgSettings map[int64]derive.Org // what the planner reads of an organization (cleared when settings change)
}

func newWriteCache() *writeCache {
	return &writeCache{
		orgs: map[string]int64{}, orgPublic: map[int64]string{}, campaigns: map[string]int64{},
		customers: map[string]*custEntry{}, urls: map[string]int64{}, messages: map[[12]byte]*msgEntry{},
		orgSettings: map[int64]derive.Org{},
	}
}

func (c *writeCache) trim() {
	if len(c.messages) > maxCachedMessages {
		c.messages = map[[12]byte]*msgEntry{}
	}
	if len(c.customers) > maxCachedCustomers {
		c.customers = map[string]*custEntry{}
	}
	if len(c.campaigns) > maxCachedSmall {
		c.campaigns = map[string]int64{}
	}
	if len(c.urls) > maxCachedSmall {
		c.urls = map[string]int64{}
	}
}

func dictKey(org int64, s string) string { return fmt.Sprintf("%d\x00%s", org, s) }

// parseRef decodes a public message id (16 base64url characters) to its 12 bytes.
func parseRef(s string) ([12]byte, bool) {
	var r [12]byte
	if len(s) != 16 {
		return r, false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != 12 {
		return r, false
	}
	copy(r[:], b)
	return r, true
}

func refString(r []byte) string { return storekit.RefString(r) }

// campaignID returns the id of an organization's campaign, creating it inside tx. New ids
// go to pending and reach the cache only after commit.
func campaignID(tx *txc, c *writeCache, pending map[string]int64, org int64, name string) (int64, error) {
	k := dictKey(org, name)
	if id, ok := c.campaigns[k]; ok {
		return id, nil
	}
	if id, ok := pending[k]; ok {
		return id, nil
	}
	if _, err := tx.exec(`INSERT OR IGNORE INTO campaigns (org_id, name) VALUES (?, ?)`, org, name); err != nil {
		return 0, fmt.Errorf("sqlite: campaign: %w", err)
	}
	var id int64
	if err := tx.scan(`SELECT id FROM campaigns WHERE org_id = ? AND name = ?`, []any{org, name}, &id); err != nil {
		return 0, fmt.Errorf("sqlite: campaign: %w", err)
	}
	pending[k] = id
	return id, nil
}

// urlID returns the id of a URL in the organization's dictionary, creating it inside tx.
func urlID(tx *txc, c *writeCache, pending map[string]int64, org int64, u string) (int64, error) {
	k := dictKey(org, u)
	if id, ok := c.urls[k]; ok {
		return id, nil
	}
	if id, ok := pending[k]; ok {
		return id, nil
	}
	if _, err := tx.exec(`INSERT OR IGNORE INTO link_urls (org_id, url) VALUES (?, ?)`, org, u); err != nil {
		return 0, fmt.Errorf("sqlite: url: %w", err)
	}
	var id int64
	if err := tx.scan(`SELECT id FROM link_urls WHERE org_id = ? AND url = ?`, []any{org, u}, &id); err != nil {
		return 0, fmt.Errorf("sqlite: url: %w", err)
	}
	pending[k] = id
	return id, nil
}

// customer returns an organization's customer, creating it inside tx.
func customer(tx *txc, c *writeCache, pending map[string]*custEntry, org int64, ext, email string) (*custEntry, error) {
	k := dictKey(org, ext)
	if e, ok := pending[k]; ok {
		return e, nil
	}
	if e, ok := c.customers[k]; ok {
		cp := *e
		pending[k] = &cp
		return &cp, nil
	}
	e := &custEntry{}
	err := tx.scan(`SELECT id, email, last_sent, last_open, last_click FROM customers WHERE org_id = ? AND ext_id = ?`, []any{org, ext},
		&e.id, &e.email, &e.activity.LastSent, &e.activity.LastOpen, &e.activity.LastClick)
	if err == sql.ErrNoRows {
		res, err := tx.exec(`INSERT INTO customers (org_id, ext_id, email) VALUES (?, ?, ?)`, org, ext, email)
		if err != nil {
			return nil, fmt.Errorf("sqlite: customer: %w", err)
		}
		e.id, _ = res.LastInsertId()
		e.email = email
	} else if err != nil {
		return nil, fmt.Errorf("sqlite: customer: %w", err)
	}
	pending[k] = e
	return e, nil
}

// orgPublicID maps a row id back to the public organization id.
func (db *DB) orgPublicID(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, id int64) (string, error) {
	db.mu.Lock()
	p, ok := db.cache.orgPublic[id]
	db.mu.Unlock()
	if ok {
		return p, nil
	}
	if err := q.QueryRowContext(ctx, `SELECT public_id FROM orgs WHERE id = ?`, id).Scan(&p); err != nil {
		return "", fmt.Errorf("sqlite: org: %w", err)
	}
	db.mu.Lock()
	db.cache.orgPublic[id] = p
	db.cache.orgs[p] = id
	db.mu.Unlock()
	return p, nil
}
