// Package storekit is what every store does the same way with the rows it reads: the
// domain values a row becomes and the cursors of its pages. The stores (SQLite,
// PostgreSQL) differ in their SQL, not in what a row means, so an answer reads the same
// whichever store gave it.
package storekit

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/rules"
)

// FromMS returns the UTC time of Unix milliseconds v; 0 is the zero time.
func FromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// OptTime returns the time of Unix milliseconds ms, nil for 0 (never).
func OptTime(ms int64) *time.Time {
	if ms == 0 {
		return nil
	}
	t := FromMS(ms)
	return &t
}

// RefString is the public id of a message's stored reference.
func RefString(r []byte) string { return base64.RawURLEncoding.EncodeToString(r) }

// Bucket returns the campaign bucket of a row of campaign stats: its number, its unique
// fields and its totals (rules' order). ok is false for a bucket whose uniques all moved
// to earlier buckets and that holds no total: it is left out of the answer.
func Bucket(b int64, u [rules.NumFields]int64, t [rules.NumTotals]int64) (bucket mailtrail.CampaignBucket, ok bool) {
	if u == ([rules.NumFields]int64{}) && t == ([rules.NumTotals]int64{}) {
		return bucket, false
	}
	return mailtrail.CampaignBucket{
		Start: FromMS(b * rules.BucketWidth.Milliseconds()),
		Counts: mailtrail.Counts{
			Sent: u[rules.FSent], Delivered: u[rules.FDelivered],
			OpensUnique: u[rules.FOpen], HumanOpensUnique: u[rules.FHumanOpen],
			ClicksUnique: u[rules.FClick], HumanClicksUnique: u[rules.FHumanClick],
			Bounced: u[rules.FBounce], BouncedHard: u[rules.FHardBounce], BouncedSoft: u[rules.FBounce] - u[rules.FHardBounce],
			Complained: u[rules.FComplaint], Unsubscribed: u[rules.FUnsub],
			OpensTotal: t[rules.TOpens], HumanOpensTotal: t[rules.THumanOpens],
			ClicksTotal: t[rules.TClicks], HumanClicksTotal: t[rules.THumanClicks],
		},
	}, true
}

// ScanBucket reads one row of campaign stats (bucket, the unique fields, the totals) with
// scan, a driver's Rows.Scan.
func ScanBucket(scan func(dest ...any) error) (mailtrail.CampaignBucket, bool, error) {
	var b int64
	var u [rules.NumFields]int64
	var t [rules.NumTotals]int64
	if err := scan(&b, &u[0], &u[1], &u[2], &u[3], &u[4], &u[5], &u[6], &u[7], &u[8], &u[9], &t[0], &t[1], &t[2], &t[3]); err != nil {
		return mailtrail.CampaignBucket{}, false, err
	}
	bucket, ok := Bucket(b, u, t)
	return bucket, ok, nil
}

// ScanRecipient reads one row of a campaign's recipient list with scan, a driver's
// Rows.Scan: the message's row id (the page's cursor), its reference, customer and
// address, its first open, human open, click, human click, bounce, hard bounce,
// complaint and unsubscribe (ms, 0 never), its clicks and human clicks on the link asked
// for (kept when withLink), and the suppression's reason.
func ScanRecipient(scan func(dest ...any) error, withLink bool) (r mailtrail.Recipient, id int64, err error) {
	var (
		ref              []byte
		fo, fho, fc, fhc int64
		fb, fh, fcp, fu  int64
		clicks, hclicks  int64
	)
	if err := scan(&id, &ref, &r.CustomerID, &r.Email, &fo, &fho, &fc, &fhc, &fb, &fh, &fcp, &fu, &clicks, &hclicks, &r.Reason); err != nil {
		return r, 0, err
	}
	r.Bounced, r.Complained, r.Unsubscribed = OptTime(fb), OptTime(fcp), OptTime(fu)
	switch {
	case fh > 0:
		r.BounceType = mailtrail.BounceHard
	case fb > 0:
		r.BounceType = mailtrail.BounceSoft
	}
	r.MessageID = RefString(ref)
	r.FirstOpen, r.FirstHumanOpen, r.FirstClick, r.FirstHumanClick = OptTime(fo), OptTime(fho), OptTime(fc), OptTime(fhc)
	if withLink {
		r.Clicks, r.HumanClicks = &clicks, &hclicks
	}
	return r, id, nil
}

// RecipientCursor is the cursor of the recipient page after the message of row id.
func RecipientCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(id, 10)))
}

// Did gathers the events matching a journey condition, in any order: how many, and the
// first and last by time (then row).
type Did struct {
	n                 int64
	firstID, firstAt  int64
	lastID, lastAt    int64
	firstUID, lastUID string
}

// Add counts the event of row id, public id uid, at at (ms).
func (d *Did) Add(id, at int64, uid string) {
	if d.n == 0 || at < d.firstAt || at == d.firstAt && id < d.firstID {
		d.firstID, d.firstAt, d.firstUID = id, at, uid
	}
	if d.n == 0 || at > d.lastAt || at == d.lastAt && id > d.lastID {
		d.lastID, d.lastAt, d.lastUID = id, at, uid
	}
	d.n++
}

// Fill writes what was gathered into out, and returns the row of the first event (the
// one out.Event describes), ok false when none matched (out then says so).
func (d *Did) Fill(out *mailtrail.Did) (firstRow int64, ok bool) {
	out.Count = d.n
	if d.n == 0 {
		return 0, false
	}
	f, l := FromMS(d.firstAt), FromMS(d.lastAt)
	out.Did, out.FirstAt, out.FirstEventID, out.LastAt, out.LastEventID = true, &f, d.firstUID, &l, d.lastUID
	return d.firstID, true
}

// SuppressionCursor is the cursor of a suppression page after the row at at (ms) of
// address email and topic ("" and no "\n" for an organization-wide row, as cursors made
// before topics).
func SuppressionCursor(at int64, email, topic string) string {
	c := strconv.FormatInt(at, 10) + "." + email
	if topic != "" {
		c += "\n" + topic
	}
	return base64.RawURLEncoding.EncodeToString([]byte(c))
}

// ParseSuppressionCursor reads a SuppressionCursor; anything else is EINVALID.
func ParseSuppressionCursor(c string) (at int64, email, topic string, err error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil {
		if a, rest, ok := strings.Cut(string(b), "."); ok {
			if at, err := strconv.ParseInt(a, 10, 64); err == nil {
				email, topic, _ := strings.Cut(rest, "\n")
				return at, email, topic, nil
			}
		}
	}
	return 0, "", "", mailtrail.Errorf(mailtrail.EINVALID, "invalid cursor")
}

// TrackingHost returns the host (lower case, with its port) of an organization's
// tracking URL, "" for none; EINVALID when it has no host. Stores keep it beside the URL
// to find the organization of a tracking request, unique among organizations.
func TrackingHost(trackingURL string) (string, error) {
	if trackingURL == "" {
		return "", nil
	}
	u, err := url.Parse(trackingURL)
	if err != nil || u.Host == "" {
		return "", mailtrail.Errorf(mailtrail.EINVALID, "tracking_url must be scheme://host")
	}
	return strings.ToLower(u.Host), nil
}

// campaignOrder maps a campaign sort (mailtrail.CampaignSorts) to its SQL expression
// over the aggregated columns of a campaign listing; REAL stands for the engine's
// floating-point type.
var campaignOrder = map[string]string{
	"last_active":                "last_bucket",
	"name":                       "lower(CASE WHEN c.title <> '' THEN c.title ELSE c.name END)",
	"sent_at":                    "first_sent",
	"delivery_rate":              "COALESCE(CAST(delivered AS REAL) / NULLIF(sent, 0), 0)",
	"unsubscribe_rate":           "COALESCE(CAST(unsub AS REAL) / NULLIF(sent, 0), 0)",
	"delivered_open_rate":        "COALESCE(CAST(opens AS REAL) / NULLIF(delivered, 0), 0)",
	"delivered_human_open_rate":  "COALESCE(CAST(human_opens AS REAL) / NULLIF(delivered, 0), 0)",
	"delivered_click_rate":       "COALESCE(CAST(clicks AS REAL) / NULLIF(delivered, 0), 0)",
	"delivered_human_click_rate": "COALESCE(CAST(human_clicks AS REAL) / NULLIF(delivered, 0), 0)",
	"delivered_bounce_rate":      "COALESCE(CAST(bounced AS REAL) / NULLIF(delivered, 0), 0)",
	"delivered_complaint_rate":   "COALESCE(CAST(complained AS REAL) / NULLIF(delivered, 0), 0)",
	"delivered_unsubscribe_rate": "COALESCE(CAST(unsub AS REAL) / NULLIF(delivered, 0), 0)",
	"sent":                       "sent",
	"delivered":                  "delivered",
	"open_rate":                  "COALESCE(CAST(opens AS REAL) / NULLIF(sent, 0), 0)",
	"human_open_rate":            "COALESCE(CAST(human_opens AS REAL) / NULLIF(sent, 0), 0)",
	"click_rate":                 "COALESCE(CAST(clicks AS REAL) / NULLIF(sent, 0), 0)",
	"human_click_rate":           "COALESCE(CAST(human_clicks AS REAL) / NULLIF(sent, 0), 0)",
	"bounce_rate":                "COALESCE(CAST(bounced AS REAL) / NULLIF(sent, 0), 0)",
	"complaint_rate":             "COALESCE(CAST(complained AS REAL) / NULLIF(sent, 0), 0)",
}

// CampaignOrder returns the SQL expression a campaign listing sorts by for sort, with
// real the engine's floating-point type ("REAL" in SQLite, "double precision" in
// PostgreSQL); ok is false for a sort that is not one of mailtrail.CampaignSorts.
func CampaignOrder(sort, real string) (expr string, ok bool) {
	e, ok := campaignOrder[sort]
	return strings.ReplaceAll(e, "AS REAL", "AS "+real), ok
}

// CampaignSummary fills a campaign's rates and its first-sent and last-active times from
// its counts and the first and last quarter-hour buckets of its counters (-1: none).
func CampaignSummary(cs *mailtrail.CampaignSummary, first, last int64) {
	c := &cs.Counts
	c.BouncedSoft = c.Bounced - c.BouncedHard
	rep := mailtrail.Report{Counts: *c}
	rep.ComputeRates()
	cs.Rates, cs.HumanRates = rep.Rates, rep.HumanRates
	if last >= 0 {
		t := FromMS(last * rules.BucketWidth.Milliseconds())
		cs.LastActive = &t
	}
	if first >= 0 {
		t := FromMS(first * rules.BucketWidth.Milliseconds())
		cs.SentAt = &t
	}
}

// CampaignQuery checks a campaign listing's filter and fills its defaults (sort
// last_active, limit 50), as both stores list campaigns. It returns the sort expression
// (CampaignOrder, with real the engine's floating-point type) and, when f bounds the send
// date, the bounds as quarter-hour buckets: a campaign is kept when its first sent bucket
// is in [lo, hi) (bucket*width >= from ⇔ bucket >= ceil(from/width)). EINVALID for a bad
// sort, limit or offset.
func CampaignQuery(f *mailtrail.CampaignFilter, real string) (order string, lo, hi int64, dated bool, err error) {
	if f.Sort == "" {
		f.Sort = "last_active"
	}
	order, ok := CampaignOrder(f.Sort, real)
	if !ok || !slices.Contains(mailtrail.CampaignSorts, f.Sort) {
		return "", 0, 0, false, mailtrail.Errorf(mailtrail.EINVALID, "sort must be one of %s", strings.Join(mailtrail.CampaignSorts, ", "))
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	if f.Limit > 1000 || f.Offset < 0 {
		return "", 0, 0, false, mailtrail.Errorf(mailtrail.EINVALID, "limit must be 1 to 1000 and offset at least 0")
	}
	lo, hi = math.MinInt64, math.MaxInt64
	if f.SentFrom.IsZero() && f.SentTo.IsZero() {
		return order, lo, hi, false, nil
	}
	w := rules.BucketWidth.Milliseconds()
	ceil := func(ms int64) int64 { return int64(math.Ceil(float64(ms) / float64(w))) }
	if !f.SentFrom.IsZero() {
		lo = ceil(f.SentFrom.UnixMilli())
	}
	if !f.SentTo.IsZero() {
		hi = ceil(f.SentTo.UnixMilli())
	}
	return order, lo, hi, true, nil
}

// ScanSubscription reads a subscription row in the column order both stores select:
// public id, organization's public id, URL, types (comma-separated type numbers),
// campaign, sealed secret, created_at, position, failures, failing_since,
// next_attempt_at, last_delivered_at, disabled_at (unix ms, 0 for none), disabled reason.
func ScanSubscription(r interface{ Scan(dest ...any) error }) (mailtrail.Subscription, error) {
	var (
		s                                           mailtrail.Subscription
		types                                       string
		created, failing, next, delivered, disabled int64
	)
	if err := r.Scan(&s.ID, &s.OrgID, &s.URL, &types, &s.CampaignID, &s.Sealed, &created, &s.Position, &s.ConsecutiveFailures,
		&failing, &next, &delivered, &disabled, &s.DisabledReason); err != nil {
		return s, err
	}
	s.EventTypes = []mailtrail.EventType{}
	for _, t := range strings.Split(types, ",") {
		if n, err := strconv.Atoi(t); err == nil {
			s.EventTypes = append(s.EventTypes, mailtrail.EventType(n))
		}
	}
	s.CreatedAt = FromMS(created)
	s.FailingSince, s.NextAttemptAt, s.LastDeliveredAt, s.DisabledAt = OptTime(failing), OptTime(next), OptTime(delivered), OptTime(disabled)
	return s, nil
}

// CampaignAggregate is the statement both stores list campaigns from: per campaign of
// those where selects (over campaigns c2), its counts summed over its quarter-hour
// counters (campaign_stats s), its last bucket and its first sent bucket (-1: none),
// keeping those having allows (a HAVING clause or ""). Its columns are
// CampaignListColumns' after the joined campaign's.
func CampaignAggregate(where, having string) string {
	return fmt.Sprintf(`SELECT c2.id AS cid,
			COALESCE(SUM(s.u%d), 0) AS sent, COALESCE(SUM(s.u%d), 0) AS delivered,
			COALESCE(SUM(s.u%d), 0) AS opens, COALESCE(SUM(s.u%d), 0) AS human_opens,
			COALESCE(SUM(s.u%d), 0) AS clicks, COALESCE(SUM(s.u%d), 0) AS human_clicks,
			COALESCE(SUM(s.u%d), 0) AS bounced, COALESCE(SUM(s.u%d), 0) AS bounced_hard,
			COALESCE(SUM(s.u%d), 0) AS complained, COALESCE(SUM(s.u%d), 0) AS unsub,
			COALESCE(SUM(s.t%d), 0) AS t_opens, COALESCE(SUM(s.t%d), 0) AS t_human_opens,
			COALESCE(SUM(s.t%d), 0) AS t_clicks, COALESCE(SUM(s.t%d), 0) AS t_human_clicks,
			COALESCE(MAX(s.bucket), -1) AS last_bucket, COALESCE(MIN(CASE WHEN s.u%d > 0 THEN s.bucket END), -1) AS first_sent
			FROM campaigns c2 LEFT JOIN campaign_stats s ON s.campaign_id = c2.id
			WHERE %s GROUP BY c2.id%s`,
		rules.FSent, rules.FDelivered, rules.FOpen, rules.FHumanOpen, rules.FClick, rules.FHumanClick,
		rules.FBounce, rules.FHardBounce, rules.FComplaint, rules.FUnsub,
		rules.TOpens, rules.THumanOpens, rules.TClicks, rules.THumanClicks, rules.FSent, where, having)
}

// CampaignListColumns are what a campaign listing selects from campaigns c joined with
// CampaignAggregate's rows, in ScanCampaignSummary's order.
const CampaignListColumns = `c.name, c.title, c.subject, first_sent, sent, delivered, opens, human_opens, clicks, human_clicks, bounced,
	bounced_hard, complained, unsub, t_opens, t_human_opens, t_clicks, t_human_clicks, last_bucket`

// CampaignHaving is the HAVING clause of a send-date filter, with lo and hi the
// placeholders of its bounds (CampaignQuery's).
func CampaignHaving(lo, hi string) string {
	return fmt.Sprintf(` HAVING MIN(CASE WHEN s.u%[1]d > 0 THEN s.bucket END) >= %[2]s AND MIN(CASE WHEN s.u%[1]d > 0 THEN s.bucket END) < %[3]s`,
		rules.FSent, lo, hi)
}

// ScanCampaignSummary reads a row of CampaignListColumns into a campaign summary with its
// rates and times.
func ScanCampaignSummary(r interface{ Scan(dest ...any) error }) (mailtrail.CampaignSummary, error) {
	var cs mailtrail.CampaignSummary
	c := &cs.Counts
	var last, first int64
	if err := r.Scan(&cs.ID, &cs.Name, &cs.Subject, &first, &c.Sent, &c.Delivered, &c.OpensUnique, &c.HumanOpensUnique, &c.ClicksUnique,
		&c.HumanClicksUnique, &c.Bounced, &c.BouncedHard, &c.Complained, &c.Unsubscribed, &c.OpensTotal, &c.HumanOpensTotal, &c.ClicksTotal,
		&c.HumanClicksTotal, &last); err != nil {
		return cs, err
	}
	CampaignSummary(&cs, first, last)
	return cs, nil
}

// SyntheticRef identifies the message of an event that names no message id: the one
// email of a campaign to a customer. Both stores give such an event this message.
func SyntheticRef(orgPublic, campaign, customer string) [12]byte {
	h := sha256.Sum256([]byte("mailtrail synthetic message\x00" + orgPublic + "\x00" + campaign + "\x00" + customer))
	var r [12]byte
	copy(r[:], h[:12])
	return r
}

// Partition returns the partition of the event log, of n, that holds ev: the one of its
// message (the message id it names, or SyntheticRef's when it names none), so that every
// event of one message is in one partition, in order, and a message's state, clicks and
// keys are one partition's. What messages share (an address's suppression, a campaign's
// counters) the projection locks or only adds to.
func Partition(ev *mailtrail.Event, n int) int {
	if n <= 1 {
		return 0
	}
	var key []byte
	if b, err := base64.RawURLEncoding.Strict().DecodeString(ev.MessageID); ev.MessageID != "" && err == nil && len(b) == 12 {
		key = b
	} else if ev.MessageID != "" {
		key = []byte(ev.MessageID) // names no message we issued: it is dropped, wherever it goes
	} else {
		r := SyntheticRef(ev.OrgID, ev.CampaignID, ev.CustomerID)
		key = r[:]
	}
	h := fnv.New32a()
	h.Write(key)
	return int(h.Sum32() % uint32(n))
}
