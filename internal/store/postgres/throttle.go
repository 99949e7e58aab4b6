package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// The dashboard's sign-in throttle (dashboard.ThrottleStore): refused sign-ins counted
// for every API node at once, so that a client cannot multiply its tries by the nodes.

// SignInFailed counts one refused sign-in under key at now. A count whose window
// (window long, from its first failure) had ended starts over at 1. Rows of windows that
// ended are removed.
func (db *DB) SignInFailed(ctx context.Context, key []byte, now time.Time, window time.Duration) error {
	ms, ended := now.UnixMilli(), now.Add(-window).UnixMilli()
	b := &pgx.Batch{}
	b.Queue(`DELETE FROM signin_failures WHERE started_at <= $1`, ended)
	b.Queue(`INSERT INTO signin_failures AS s (key, failures, started_at) VALUES ($1, 1, $2)
		ON CONFLICT (key) DO UPDATE SET
			failures   = CASE WHEN s.started_at <= $3 THEN 1 ELSE s.failures + 1 END,
			started_at = CASE WHEN s.started_at <= $3 THEN excluded.started_at ELSE s.started_at END`, key, ms, ended)
	if err := db.pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("postgres: sign-in failed: %w", err)
	}
	return nil
}

// SignInFailures returns the refused sign-ins counted under key and when their window
// started; 0 when there are none.
func (db *DB) SignInFailures(ctx context.Context, key []byte) (int, time.Time, error) {
	var n int
	var start int64
	err := db.pool.QueryRow(ctx, `SELECT failures, started_at FROM signin_failures WHERE key = $1`, key).Scan(&n, &start)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, time.Time{}, nil
	}
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("postgres: sign-in failures: %w", err)
	}
	return n, time.UnixMilli(start), nil
}
