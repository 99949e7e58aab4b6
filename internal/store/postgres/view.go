package postgres

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/derive"
	"github.com/mailtrail/mailtrail/internal/query"
	"github.com/mailtrail/mailtrail/internal/storekit"
)

var _ query.Reader = (*DB)(nil)

// View runs fn in one read-only REPEATABLE READ transaction, so every read of the
// snapshot sees the same commits; the transaction ends (rolled back) when fn returns.
// It returns fn's error, or the store's when the transaction cannot begin.
func (db *DB) View(ctx context.Context, fn func(query.Snapshot) error) error {
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("postgres: view: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	return fn(&snap{db: db, tx: tx})
}

// snap is the snapshot of one View: its transaction and the campaigns it has looked up
// (read once per answer).
type snap struct {
	db    *DB
	tx    pgx.Tx
	camps map[[2]string]campRow
}

var _ query.Snapshot = (*snap)(nil)

type campRow struct {
	id             int64
	title, subject string
}

// org maps a public organization id to its row id; ENOTFOUND for an unknown one.
func (s *snap) org(ctx context.Context, public string) (int64, error) {
	return s.db.orgInternal(ctx, s.tx, public)
}

// campaignRow returns an organization's campaign; ENOTFOUND for one it does not have.
func (s *snap) campaignRow(ctx context.Context, org int64, orgID, name string) (campRow, error) {
	k := [2]string{orgID, name}
	if c, ok := s.camps[k]; ok {
		return c, nil
	}
	var c campRow
	err := s.tx.QueryRow(ctx, `SELECT id, title, subject FROM campaigns WHERE org_id = $1 AND name = $2`, org, name).Scan(&c.id, &c.title, &c.subject)
	if errors.Is(err, pgx.ErrNoRows) {
		return campRow{}, mailtrail.Errorf(mailtrail.ENOTFOUND, "campaign %q not found", name)
	}
	if err != nil {
		return campRow{}, fmt.Errorf("postgres: campaign: %w", err)
	}
	if s.camps == nil {
		s.camps = map[[2]string]campRow{}
	}
	s.camps[k] = c
	return c, nil
}

func (s *snap) campaign(ctx context.Context, orgID, name string) (campRow, error) {
	org, err := s.org(ctx, orgID)
	if err != nil {
		return campRow{}, err
	}
	return s.campaignRow(ctx, org, orgID, name)
}

// CampaignInfo returns a campaign's name and subject; ENOTFOUND for a campaign the
// organization does not have.
func (s *snap) CampaignInfo(ctx context.Context, orgID, campaign string) (*mailtrail.CampaignInfo, error) {
	c, err := s.campaign(ctx, orgID, campaign)
	if err != nil {
		return nil, err
	}
	return &mailtrail.CampaignInfo{ID: campaign, Name: c.title, Subject: c.subject}, nil
}

// CampaignBuckets returns the counters of a campaign per quarter hour, in time order
// (buckets whose counters are all zero left out); ENOTFOUND for an unknown campaign.
func (s *snap) CampaignBuckets(ctx context.Context, orgID, campaign string) ([]mailtrail.CampaignBucket, error) {
	c, err := s.campaign(ctx, orgID, campaign)
	if err != nil {
		return nil, err
	}
	rows, err := s.tx.Query(ctx, `SELECT bucket, u0, u1, u2, u3, u4, u5, u6, u7, u8, u9, t0, t1, t2, t3
		FROM campaign_stats WHERE campaign_id = $1 ORDER BY bucket`, c.id)
	if err != nil {
		return nil, fmt.Errorf("postgres: campaign stats: %w", err)
	}
	defer rows.Close()
	var out []mailtrail.CampaignBucket
	for rows.Next() {
		b, ok, err := storekit.ScanBucket(rows.Scan)
		if err != nil {
			return nil, fmt.Errorf("postgres: campaign stats: %w", err)
		}
		if ok {
			out = append(out, b)
		}
	}
	return out, rows.Err()
}

// limit is n as a LIMIT's value: NULL (no limit) when negative, as SQLite reads LIMIT -1.
func limit(n int) *int {
	if n < 0 {
		return nil
	}
	return &n
}

// CampaignLinks returns the clicks per URL of a campaign, most clicked first, at most
// limit, each with its URL's id; ENOTFOUND for an unknown campaign.
func (s *snap) CampaignLinks(ctx context.Context, orgID, campaign string, n int) ([]mailtrail.LinkStats, error) {
	c, err := s.campaign(ctx, orgID, campaign)
	if err != nil {
		return nil, err
	}
	rows, err := s.tx.Query(ctx, `SELECT u.id, u.url, s.total, s.uniq, s.human_total, s.human_uniq FROM link_stats s
		JOIN link_urls u ON u.id = s.url_id WHERE s.campaign_id = $1 ORDER BY s.total DESC, u.url LIMIT $2`, c.id, limit(n))
	if err != nil {
		return nil, fmt.Errorf("postgres: links: %w", err)
	}
	defer rows.Close()
	out := []mailtrail.LinkStats{}
	for rows.Next() {
		var l mailtrail.LinkStats
		if err := rows.Scan(&l.ID, &l.URL, &l.Total, &l.Unique, &l.HumanTotal, &l.HumanUnique); err != nil {
			return nil, fmt.Errorf("postgres: links: %w", err)
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// LinkTopClickers returns the n recipients of a campaign with the most human clicks on
// the link whose URL has id link (ties: the latest message first); ENOTFOUND for an
// unknown campaign.
func (s *snap) LinkTopClickers(ctx context.Context, orgID, campaign string, link int64, n int) ([]mailtrail.Clicker, error) {
	c, err := s.campaign(ctx, orgID, campaign)
	if err != nil {
		return nil, err
	}
	rows, err := s.tx.Query(ctx, `SELECT u.ext_id, m.ref, l.clicks, l.human_clicks FROM link_clicks l
		JOIN messages m ON m.id = l.message_id JOIN customers u ON u.id = m.customer_id
		WHERE l.campaign_id = $1 AND l.url_id = $2 AND l.human_clicks > 0
		ORDER BY l.human_clicks DESC, l.message_id DESC LIMIT $3`, c.id, link, limit(n))
	if err != nil {
		return nil, fmt.Errorf("postgres: top clickers: %w", err)
	}
	defer rows.Close()
	out := []mailtrail.Clicker{}
	for rows.Next() {
		var cl mailtrail.Clicker
		var ref []byte
		if err := rows.Scan(&cl.CustomerID, &ref, &cl.Clicks, &cl.HumanClicks); err != nil {
			return nil, fmt.Errorf("postgres: top clickers: %w", err)
		}
		cl.MessageID = refString(ref)
		out = append(out, cl)
	}
	return out, rows.Err()
}

// CampaignBreakdowns returns a campaign's opens and clicks by client, device, country and
// city, at most limit values per dimension, the most frequent first, in one statement;
// ENOTFOUND for an unknown campaign.
func (s *snap) CampaignBreakdowns(ctx context.Context, orgID, campaign string, n int) (*mailtrail.Breakdowns, error) {
	c, err := s.campaign(ctx, orgID, campaign)
	if err != nil {
		return nil, err
	}
	out := &mailtrail.Breakdowns{}
	dst := func(kind int16, dim int16) *[]mailtrail.DimValue {
		b := &out.Opens
		if mailtrail.EventType(kind) == mailtrail.EventClicked {
			b = &out.Clicks
		}
		return [derive.NumDims]*[]mailtrail.DimValue{&b.Client, &b.Device, &b.Country, &b.City}[dim]
	}
	for _, kind := range []mailtrail.EventType{mailtrail.EventOpened, mailtrail.EventClicked} {
		for d := 0; d < derive.NumDims; d++ {
			*dst(int16(kind), int16(d)) = []mailtrail.DimValue{}
		}
	}
	rows, err := s.tx.Query(ctx, `SELECT kind, dim, value, total, human_total FROM (
		SELECT kind, dim, value, total, human_total, row_number() OVER (PARTITION BY kind, dim ORDER BY total DESC, value) AS r
		FROM campaign_dims WHERE campaign_id = $1 AND kind IN (3, 4) AND (total <> 0 OR human_total <> 0)) AS d
		WHERE $2::integer IS NULL OR r <= $2 ORDER BY kind, dim, r`, c.id, limit(n))
	if err != nil {
		return nil, fmt.Errorf("postgres: breakdowns: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind, dim int16
		var v mailtrail.DimValue
		if err := rows.Scan(&kind, &dim, &v.Value, &v.Total, &v.HumanTotal); err != nil {
			return nil, fmt.Errorf("postgres: breakdowns: %w", err)
		}
		if dim < 0 || int(dim) >= derive.NumDims {
			continue
		}
		p := dst(kind, dim)
		*p = append(*p, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: breakdowns: %w", err)
	}
	return out, nil
}

func encodeCursor(at, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(at, 10) + "." + strconv.FormatInt(id, 10)))
}

func decodeCursor(s string) (at, id int64, err error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		if a, i, ok := strings.Cut(string(b), "."); ok {
			if at, err = strconv.ParseInt(a, 10, 64); err == nil {
				if id, err = strconv.ParseInt(i, 10, 64); err == nil {
					return at, id, nil
				}
			}
		}
	}
	return 0, 0, mailtrail.Errorf(mailtrail.EINVALID, "invalid cursor")
}

// eventCols are the columns scanEvent reads, of events e joined with their campaign c,
// customer u and message m.
const eventCols = `e.id, e.uid, c.name, u.ext_id, e.email, m.ref, e.type, e.occurred_at, e.received_at,
	e.esp_message_id, e.source, e.class, e.reasons, e.counted, coalesce(e.meta, ''), m.f_sent`

const eventJoins = ` JOIN campaigns c ON c.id = e.campaign_id JOIN customers u ON u.id = e.customer_id JOIN messages m ON m.id = e.message_id`

// scanEvent reads eventCols into an event of the organization orgID and returns its row
// id and time.
func scanEvent(r pgx.Row, orgID string, ev *mailtrail.Event) (id, occ int64, err error) {
	var (
		typ               int16
		recv, sent        int64
		ref               []byte
		src, class, meta  string
		reasons, campName string
	)
	if err := r.Scan(&id, &ev.ID, &campName, &ev.CustomerID, &ev.CustomerEmail, &ref, &typ, &occ, &recv,
		&ev.ESPMessageID, &src, &class, &reasons, &ev.Counted, &meta, &sent); err != nil {
		return 0, 0, err
	}
	ev.OrgID, ev.CampaignID, ev.MessageID, ev.Type = orgID, campName, refString(ref), mailtrail.EventType(typ)
	ev.OccurredAt, ev.ReceivedAt = fromMS(occ), fromMS(recv)
	ev.BeforeSend = mailtrail.IsBeforeSend(ev.OccurredAt, fromMS(sent))
	ev.Source, ev.Classification = mailtrail.Source(src), mailtrail.Classification(class)
	if reasons != "" {
		ev.Reasons = strings.Split(reasons, ",")
	}
	if meta != "" {
		if err := json.Unmarshal([]byte(meta), &ev.Metadata); err != nil {
			return 0, 0, fmt.Errorf("event %d metadata: %w", id, err)
		}
	}
	return id, occ, nil
}

// ListEvents returns a page of an organization's events: a campaign's or a customer's
// in time order, else all of them in arrival order. Unknown campaigns and customers give
// an empty page; EINVALID for a bad cursor.
func (s *snap) ListEvents(ctx context.Context, orgID string, f mailtrail.EventFilter) (*mailtrail.EventPage, error) {
	org, err := s.org(ctx, orgID)
	if err != nil {
		return nil, err
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	f.Limit = min(f.Limit, 1000)
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	var where []string
	byTime := true
	empty := &mailtrail.EventPage{Events: []mailtrail.Event{}}
	switch {
	case f.CampaignID != "":
		c, err := s.campaignRow(ctx, org, orgID, f.CampaignID)
		if mailtrail.ErrorCode(err) == mailtrail.ENOTFOUND {
			return empty, nil
		} else if err != nil {
			return nil, err
		}
		where = append(where, "e.campaign_id = "+arg(c.id))
		if f.CustomerID != "" {
			where = append(where, "u.ext_id = "+arg(f.CustomerID))
		}
	case f.CustomerID != "":
		var cust int64
		err := s.tx.QueryRow(ctx, `SELECT id FROM customers WHERE org_id = $1 AND ext_id = $2`, org, f.CustomerID).Scan(&cust)
		if errors.Is(err, pgx.ErrNoRows) {
			return empty, nil
		} else if err != nil {
			return nil, fmt.Errorf("postgres: customer: %w", err)
		}
		where = append(where, "e.customer_id = "+arg(cust))
	default:
		byTime = false
		where = append(where, "e.org_id = "+arg(org))
	}
	if !f.Since.IsZero() {
		where = append(where, "e.occurred_at >= "+arg(f.Since.UnixMilli()))
	}
	if !f.Until.IsZero() {
		where = append(where, "e.occurred_at < "+arg(f.Until.UnixMilli()))
	}
	if len(f.Types) > 0 {
		types := make([]int16, len(f.Types))
		for i, t := range f.Types {
			types[i] = int16(t)
		}
		where = append(where, "e.type = ANY("+arg(types)+"::smallint[])")
	}
	if f.Cursor != "" {
		at, id, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, err
		}
		if byTime {
			where = append(where, "(e.occurred_at, e.id) > ("+arg(at)+", "+arg(id)+")")
		} else {
			where = append(where, "e.id > "+arg(id))
		}
	}
	order := "e.occurred_at, e.id"
	if !byTime {
		order = "e.id"
	}
	rows, err := s.tx.Query(ctx, `SELECT `+eventCols+` FROM events e`+eventJoins+` WHERE `+strings.Join(where, " AND ")+
		` ORDER BY `+order+` LIMIT `+arg(f.Limit+1), args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: list events: %w", err)
	}
	defer rows.Close()
	page := &mailtrail.EventPage{Events: []mailtrail.Event{}}
	var lastAt, lastID int64
	for rows.Next() {
		if len(page.Events) == f.Limit {
			page.NextCursor = encodeCursor(lastAt, lastID)
			break
		}
		var ev mailtrail.Event
		id, occ, err := scanEvent(rows, orgID, &ev)
		if err != nil {
			return nil, fmt.Errorf("postgres: list events: %w", err)
		}
		page.Events = append(page.Events, ev)
		lastAt, lastID = occ, id
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list events: %w", err)
	}
	return page, nil
}
