package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/storekit"
)

// deliveryLogSize is how many attempts the delivery log keeps per subscription.
const deliveryLogSize = 100

const subCols = `s.public_id, o.public_id, s.url, s.types, s.campaign, s.secret, s.created_at, s.position, s.failures,
	s.failing_since, s.next_attempt_at, s.last_delivered_at, s.disabled_at, s.disabled_reason`

func (db *DB) subscriptions(ctx context.Context, where string, args ...any) ([]mailtrail.Subscription, error) {
	rows, err := db.rquery(ctx, `SELECT `+subCols+` FROM subscriptions s JOIN orgs o ON o.id = s.org_id WHERE `+where+` ORDER BY s.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: subscriptions: %w", err)
	}
	defer rows.Close()
	out := []mailtrail.Subscription{}
	for rows.Next() {
		s, err := storekit.ScanSubscription(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: subscriptions: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// CreateSubscription stores a new subscription of s.OrgID (s.ID, URL, EventTypes,
// CampaignID and Sealed are the caller's). It starts at the organization's latest event:
// events committed after it are delivered. It sets CreatedAt and Position. ENOTFOUND for
// an unknown organization, ECONFLICT when the id exists.
func (db *DB) CreateSubscription(ctx context.Context, s *mailtrail.Subscription) error {
	org, err := db.orgInternal(ctx, s.OrgID)
	if err != nil {
		return err
	}
	types := make([]string, len(s.EventTypes))
	for i, t := range s.EventTypes {
		types[i] = strconv.Itoa(int(t))
	}
	now := db.now().UTC().Truncate(time.Millisecond)
	db.wmu.Lock()
	defer db.wmu.Unlock()
	// Under the writer lock: no batch commits between reading the head and inserting.
	if err := db.wc.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM events WHERE org_id = ?`, org).Scan(&s.Position); err != nil {
		return fmt.Errorf("sqlite: create subscription: %w", err)
	}
	_, err = db.wc.ExecContext(ctx, `INSERT INTO subscriptions (public_id, org_id, url, types, campaign, secret, created_at, position)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, s.ID, org, s.URL, strings.Join(types, ","), s.CampaignID, s.Sealed, ms(now), s.Position)
	err = db.autocommit(err)
	if isUniqueViolation(err) {
		return mailtrail.Errorf(mailtrail.ECONFLICT, "subscription %q exists", s.ID)
	}
	if err != nil {
		return fmt.Errorf("sqlite: create subscription: %w", err)
	}
	s.CreatedAt = now
	return nil
}

// Subscriptions returns the organization's subscriptions, oldest first.
func (db *DB) Subscriptions(ctx context.Context, orgID string) ([]mailtrail.Subscription, error) {
	org, err := db.orgInternal(ctx, orgID)
	if err != nil {
		return nil, err
	}
	return db.subscriptions(ctx, `s.org_id = ?`, org)
}

// Subscription returns a subscription of the organization, or ENOTFOUND.
func (db *DB) Subscription(ctx context.Context, orgID, id string) (*mailtrail.Subscription, error) {
	org, err := db.orgInternal(ctx, orgID)
	if err != nil {
		return nil, err
	}
	subs, err := db.subscriptions(ctx, `s.org_id = ? AND s.public_id = ?`, org, id)
	if err != nil {
		return nil, err
	}
	if len(subs) == 0 {
		return nil, mailtrail.Errorf(mailtrail.ENOTFOUND, "subscription %q not found", id)
	}
	return &subs[0], nil
}

// ActiveSubscriptions returns every subscription that is not disabled, of every organization.
func (db *DB) ActiveSubscriptions(ctx context.Context) ([]mailtrail.Subscription, error) {
	return db.subscriptions(ctx, `s.disabled_at = 0`)
}

// subWrite runs one write statement on the writer, returning the rows it changed.
func (db *DB) subWrite(ctx context.Context, q string, args ...any) (int64, error) {
	db.wmu.Lock()
	defer db.wmu.Unlock()
	res, err := db.wc.ExecContext(ctx, q, args...)
	if err = db.autocommit(err); err != nil {
		return 0, fmt.Errorf("sqlite: subscription: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// DeleteSubscription deletes a subscription of the organization and its delivery log;
// ENOTFOUND when it has none by that id.
func (db *DB) DeleteSubscription(ctx context.Context, orgID, id string) error {
	org, err := db.orgInternal(ctx, orgID)
	if err != nil {
		return err
	}
	tx, done, err := db.writeTx(ctx)
	if err != nil {
		return err
	}
	defer done()
	var row int64
	err = tx.scan(`SELECT id FROM subscriptions WHERE org_id = ? AND public_id = ?`, []any{org, id}, &row)
	if errors.Is(err, sql.ErrNoRows) {
		return mailtrail.Errorf(mailtrail.ENOTFOUND, "subscription %q not found", id)
	} else if err != nil {
		return fmt.Errorf("sqlite: delete subscription: %w", err)
	}
	if _, err := tx.exec(`DELETE FROM subscription_deliveries WHERE subscription_id = ?`, row); err != nil {
		return fmt.Errorf("sqlite: delete subscription: %w", err)
	}
	if _, err := tx.exec(`DELETE FROM subscriptions WHERE id = ?`, row); err != nil {
		return fmt.Errorf("sqlite: delete subscription: %w", err)
	}
	return tx.commit()
}

// EnableSubscription clears a subscription's failures and disabled state, so delivery
// resumes from its position (the events it had not delivered come first) or, with
// skipBacklog, from the organization's latest event. ENOTFOUND for an unknown id.
func (db *DB) EnableSubscription(ctx context.Context, orgID, id string, skipBacklog bool) (*mailtrail.Subscription, error) {
	org, err := db.orgInternal(ctx, orgID)
	if err != nil {
		return nil, err
	}
	n, err := db.subWrite(ctx, `UPDATE subscriptions SET disabled_at = 0, disabled_reason = '', failures = 0, failing_since = 0,
		next_attempt_at = 0, position = CASE WHEN ? THEN max(position, (SELECT coalesce(max(id), 0) FROM events WHERE org_id = ?)) ELSE position END
		WHERE org_id = ? AND public_id = ?`, skipBacklog, org, org, id)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, mailtrail.Errorf(mailtrail.ENOTFOUND, "subscription %q not found", id)
	}
	return db.Subscription(ctx, orgID, id)
}

// AdvanceSubscription moves a subscription's position forward to pos (never back).
func (db *DB) AdvanceSubscription(ctx context.Context, id string, pos int64) error {
	_, err := db.subWrite(ctx, `UPDATE subscriptions SET position = max(position, ?) WHERE public_id = ?`, pos, id)
	return err
}

// RecordDelivery logs a delivery attempt (keeping the last deliveryLogSize) and applies
// its outcome to the subscription, in one transaction. The position never moves back.
// A subscription deleted meanwhile is left deleted.
func (db *DB) RecordDelivery(ctx context.Context, id string, d mailtrail.Delivery, st mailtrail.SubscriptionState) error {
	tx, done, err := db.writeTx(ctx)
	if err != nil {
		return err
	}
	defer done()
	var row int64
	err = tx.scan(`SELECT id FROM subscriptions WHERE public_id = ?`, []any{id}, &row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	} else if err != nil {
		return fmt.Errorf("sqlite: record delivery: %w", err)
	}
	var disabledAt int64
	if st.DisabledReason != "" {
		disabledAt = ms(d.At)
	}
	if _, err := tx.exec(`UPDATE subscriptions SET position = max(position, ?), failures = ?, failing_since = ?, next_attempt_at = ?,
		last_delivered_at = CASE WHEN ? > 0 THEN ? ELSE last_delivered_at END, disabled_at = ?, disabled_reason = ? WHERE id = ?`,
		st.Position, st.ConsecutiveFailures, ms(st.FailingSince), ms(st.NextAttemptAt), ms(st.LastDeliveredAt), ms(st.LastDeliveredAt),
		disabledAt, st.DisabledReason, row); err != nil {
		return fmt.Errorf("sqlite: record delivery: %w", err)
	}
	if _, err := tx.exec(`INSERT INTO subscription_deliveries (subscription_id, delivery_id, at, events, status, ok, duration_ms, error, retry_in_ms)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, row, d.ID, ms(d.At), d.Events, d.Status, d.OK, d.DurationMS, d.Error, d.RetryInMS); err != nil {
		return fmt.Errorf("sqlite: record delivery: %w", err)
	}
	if _, err := tx.exec(`DELETE FROM subscription_deliveries WHERE subscription_id = ? AND id <= (SELECT id FROM subscription_deliveries
		WHERE subscription_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`, row, row, deliveryLogSize); err != nil {
		return fmt.Errorf("sqlite: record delivery: %w", err)
	}
	return tx.commit()
}

// SubscriptionDeliveries returns the last attempts of a subscription of the organization,
// newest first, at most limit; ENOTFOUND for an unknown subscription.
func (db *DB) SubscriptionDeliveries(ctx context.Context, orgID, id string, limit int) ([]mailtrail.Delivery, error) {
	org, err := db.orgInternal(ctx, orgID)
	if err != nil {
		return nil, err
	}
	var row int64
	err = db.rrow(ctx, `SELECT id FROM subscriptions WHERE org_id = ? AND public_id = ?`, []any{org, id}, &row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, mailtrail.Errorf(mailtrail.ENOTFOUND, "subscription %q not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("sqlite: deliveries: %w", err)
	}
	rows, err := db.rquery(ctx, `SELECT delivery_id, at, events, status, ok, duration_ms, error, retry_in_ms FROM subscription_deliveries
		WHERE subscription_id = ? ORDER BY id DESC LIMIT ?`, row, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: deliveries: %w", err)
	}
	defer rows.Close()
	out := []mailtrail.Delivery{}
	for rows.Next() {
		var d mailtrail.Delivery
		var at int64
		if err := rows.Scan(&d.ID, &at, &d.Events, &d.Status, &d.OK, &d.DurationMS, &d.Error, &d.RetryInMS); err != nil {
			return nil, fmt.Errorf("sqlite: deliveries: %w", err)
		}
		d.At = fromMS(at)
		out = append(out, d)
	}
	return out, rows.Err()
}
