package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/storekit"
)

// Outbound webhook subscriptions and the event stream they read, as the SQLite store
// keeps them (subscriptions.go and stream.go there): what a cluster's API nodes share, so
// a subscription created through one is delivered and reported through any.

// deliveryLogSize is how many attempts the delivery log keeps per subscription.
const deliveryLogSize = 100

const subCols = `s.public_id, o.public_id, s.url, s.types, s.campaign, s.secret, s.created_at, s.position, s.failures,
	s.failing_since, s.next_attempt_at, s.last_delivered_at, s.disabled_at, s.disabled_reason`

func (db *DB) subscriptions(ctx context.Context, where string, args ...any) ([]mailtrail.Subscription, error) {
	out, err := collect(ctx, db.pool, func(r pgx.CollectableRow) (mailtrail.Subscription, error) { return storekit.ScanSubscription(r) }, `SELECT `+subCols+` FROM subscriptions s JOIN orgs o ON o.id = s.org_id WHERE `+where+` ORDER BY s.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: subscriptions: %w", err)
	}
	if out == nil {
		out = []mailtrail.Subscription{}
	}
	return out, nil
}

// ms is t in unix milliseconds, 0 for the zero time.
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// CreateSubscription stores a new subscription of s.OrgID (s.ID, URL, EventTypes,
// CampaignID and Sealed are the caller's). It starts at the organization's latest event:
// events committed after it are delivered. It sets CreatedAt and Position. ENOTFOUND for
// an unknown organization, ECONFLICT when the id exists.
func (db *DB) CreateSubscription(ctx context.Context, s *mailtrail.Subscription) error {
	org, err := db.orgInternal(ctx, db.pool, s.OrgID)
	if err != nil {
		return err
	}
	types := make([]string, len(s.EventTypes))
	for i, t := range s.EventTypes {
		types[i] = strconv.Itoa(int(t))
	}
	now := db.now().UTC().Truncate(time.Millisecond)
	// Under the projection's write lock: no batch commits between reading the head and
	// inserting.
	err = db.writeTx(ctx, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `INSERT INTO subscriptions (public_id, org_id, url, types, campaign, secret, created_at, position)
			VALUES ($1, $2, $3, $4, $5, $6, $7, (SELECT coalesce(max(id), 0) FROM events WHERE org_id = $2)) RETURNING position`,
			s.ID, org, s.URL, strings.Join(types, ","), s.CampaignID, s.Sealed, now.UnixMilli()).Scan(&s.Position)
	})
	if isUniqueViolation(err) {
		return mailtrail.Errorf(mailtrail.ECONFLICT, "subscription %q exists", s.ID)
	}
	if err != nil {
		return fmt.Errorf("postgres: create subscription: %w", err)
	}
	s.CreatedAt = now
	return nil
}

// Subscriptions returns the organization's subscriptions, oldest first.
func (db *DB) Subscriptions(ctx context.Context, orgID string) ([]mailtrail.Subscription, error) {
	org, err := db.orgInternal(ctx, db.pool, orgID)
	if err != nil {
		return nil, err
	}
	return db.subscriptions(ctx, `s.org_id = $1`, org)
}

// Subscription returns a subscription of the organization, or ENOTFOUND.
func (db *DB) Subscription(ctx context.Context, orgID, id string) (*mailtrail.Subscription, error) {
	org, err := db.orgInternal(ctx, db.pool, orgID)
	if err != nil {
		return nil, err
	}
	subs, err := db.subscriptions(ctx, `s.org_id = $1 AND s.public_id = $2`, org, id)
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

// DeleteSubscription deletes a subscription of the organization and its delivery log;
// ENOTFOUND when it has none by that id.
func (db *DB) DeleteSubscription(ctx context.Context, orgID, id string) error {
	org, err := db.orgInternal(ctx, db.pool, orgID)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var row int64
		err := tx.QueryRow(ctx, `DELETE FROM subscriptions WHERE org_id = $1 AND public_id = $2 RETURNING id`, org, id).Scan(&row)
		if errors.Is(err, pgx.ErrNoRows) {
			return mailtrail.Errorf(mailtrail.ENOTFOUND, "subscription %q not found", id)
		} else if err != nil {
			return fmt.Errorf("postgres: delete subscription: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM subscription_deliveries WHERE subscription_id = $1`, row); err != nil {
			return fmt.Errorf("postgres: delete subscription: %w", err)
		}
		return nil
	})
}

// EnableSubscription clears a subscription's failures and disabled state, so delivery
// resumes from its position (the events it had not delivered come first) or, with
// skipBacklog, from the organization's latest event. ENOTFOUND for an unknown id.
func (db *DB) EnableSubscription(ctx context.Context, orgID, id string, skipBacklog bool) (*mailtrail.Subscription, error) {
	org, err := db.orgInternal(ctx, db.pool, orgID)
	if err != nil {
		return nil, err
	}
	tag, err := db.pool.Exec(ctx, `UPDATE subscriptions SET disabled_at = 0, disabled_reason = '', failures = 0, failing_since = 0,
		next_attempt_at = 0, position = CASE WHEN $1 THEN greatest(position, (SELECT coalesce(max(id), 0) FROM events WHERE org_id = $2)) ELSE position END
		WHERE org_id = $2 AND public_id = $3`, skipBacklog, org, id)
	if err != nil {
		return nil, fmt.Errorf("postgres: enable subscription: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return nil, mailtrail.Errorf(mailtrail.ENOTFOUND, "subscription %q not found", id)
	}
	return db.Subscription(ctx, orgID, id)
}

// AdvanceSubscription moves a subscription's position forward to pos (never back).
func (db *DB) AdvanceSubscription(ctx context.Context, id string, pos int64) error {
	if _, err := db.pool.Exec(ctx, `UPDATE subscriptions SET position = greatest(position, $1) WHERE public_id = $2`, pos, id); err != nil {
		return fmt.Errorf("postgres: advance subscription: %w", err)
	}
	return nil
}

// RecordDelivery logs a delivery attempt (keeping the last deliveryLogSize) and applies
// its outcome to the subscription, in one transaction. The position never moves back.
// A subscription deleted meanwhile is left deleted.
func (db *DB) RecordDelivery(ctx context.Context, id string, d mailtrail.Delivery, st mailtrail.SubscriptionState) error {
	var disabledAt int64
	if st.DisabledReason != "" {
		disabledAt = ms(d.At)
	}
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var row int64
		err := tx.QueryRow(ctx, `UPDATE subscriptions SET position = greatest(position, $1), failures = $2, failing_since = $3, next_attempt_at = $4,
			last_delivered_at = CASE WHEN $5::bigint > 0 THEN $5 ELSE last_delivered_at END, disabled_at = $6, disabled_reason = $7
			WHERE public_id = $8 RETURNING id`,
			st.Position, st.ConsecutiveFailures, ms(st.FailingSince), ms(st.NextAttemptAt), ms(st.LastDeliveredAt), disabledAt, st.DisabledReason, id).Scan(&row)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		} else if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO subscription_deliveries (subscription_id, delivery_id, at, events, status, ok, duration_ms, error, retry_in_ms)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, row, d.ID, ms(d.At), d.Events, d.Status, d.OK, d.DurationMS, d.Error, d.RetryInMS); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM subscription_deliveries WHERE subscription_id = $1 AND id <= (SELECT id FROM subscription_deliveries
			WHERE subscription_id = $1 ORDER BY id DESC LIMIT 1 OFFSET $2)`, row, deliveryLogSize)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: record delivery: %w", err)
	}
	return nil
}

// SubscriptionDeliveries returns the last attempts of a subscription of the organization,
// newest first, at most limit; ENOTFOUND for an unknown subscription.
func (db *DB) SubscriptionDeliveries(ctx context.Context, orgID, id string, limit int) ([]mailtrail.Delivery, error) {
	org, err := db.orgInternal(ctx, db.pool, orgID)
	if err != nil {
		return nil, err
	}
	var row int64
	err = db.pool.QueryRow(ctx, `SELECT id FROM subscriptions WHERE org_id = $1 AND public_id = $2`, org, id).Scan(&row)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, mailtrail.Errorf(mailtrail.ENOTFOUND, "subscription %q not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("postgres: deliveries: %w", err)
	}
	out, err := collect(ctx, db.pool, func(r pgx.CollectableRow) (mailtrail.Delivery, error) {
		var d mailtrail.Delivery
		var at int64
		err := r.Scan(&d.ID, &at, &d.Events, &d.Status, &d.OK, &d.DurationMS, &d.Error, &d.RetryInMS)
		d.At = fromMS(at)
		return d, err
	}, `SELECT delivery_id, at, events, status, ok, duration_ms, error, retry_in_ms FROM subscription_deliveries
		WHERE subscription_id = $1 ORDER BY id DESC LIMIT $2`, row, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: deliveries: %w", err)
	}
	if out == nil {
		out = []mailtrail.Delivery{}
	}
	return out, nil
}

// ResealSubscriptions passes every subscription's sealed secret to f and stores the ones f
// changed, in one transaction that holds their rows; it returns how many it stored, and
// nothing when f fails.
func (db *DB) ResealSubscriptions(ctx context.Context, f func(*mailtrail.Subscription) (bool, error)) (int, error) {
	n := 0
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		type row struct {
			id  int64
			sub mailtrail.Subscription
		}
		all, err := collect(ctx, tx, func(r pgx.CollectableRow) (row, error) {
			var x row
			err := r.Scan(&x.id, &x.sub.ID, &x.sub.OrgID, &x.sub.Sealed)
			return x, err
		}, `SELECT s.id, s.public_id, o.public_id, s.secret FROM subscriptions s JOIN orgs o ON o.id = s.org_id ORDER BY s.id FOR UPDATE OF s`)
		if err != nil {
			return fmt.Errorf("postgres: reseal subscriptions: %w", err)
		}
		var ids []int64
		var sealed [][]byte
		for i := range all {
			changed, err := f(&all[i].sub)
			if err != nil {
				return err
			}
			if changed {
				ids, sealed = append(ids, all[i].id), append(sealed, all[i].sub.Sealed)
			}
		}
		if len(ids) == 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE subscriptions s SET secret = v.s FROM unnest($1::bigint[], $2::bytea[]) AS v(id, s) WHERE s.id = v.id`,
			ids, sealed); err != nil {
			return fmt.Errorf("postgres: reseal subscriptions: %w", err)
		}
		n = len(ids)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
