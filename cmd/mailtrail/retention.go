package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/mailtrail/mailtrail/internal/ingest"
	"github.com/mailtrail/mailtrail/internal/metrics"
	"github.com/mailtrail/mailtrail/internal/store/sqlite"
)

// retentionJob deletes the raw events that are past their organization's retention
// (retention_days), and the idempotency keys past their horizon; aggregates are kept. Owned by serve, which stops it before the store
// closes.
type retentionJob struct {
	db      retentionStore
	log     *slog.Logger
	now     func() time.Time
	deleted *metrics.CounterVec
}

// retentionStore is where a retention job deletes: serve's store, or the cluster's
// PostgreSQL for mailtrail worker.
type retentionStore interface {
	DeleteExpiredEvents(ctx context.Context, now time.Time, chunk int) (int, error)
	PruneIdempotencyKeys(ctx context.Context, cutoff time.Time, chunk int) (int, error)
}

func newRetentionJob(a *app) *retentionJob {
	return &retentionJob{db: a.db, log: a.log, now: time.Now,
		deleted: a.metrics.NewCounter("mailtrail_retention_deleted_events_total", "Raw events deleted because they were past their organization's retention.")}
}

// once deletes every raw event expired at r.now(), then the idempotency keys past their
// horizon, and returns how many of each it deleted and the error that stopped it (also
// logged). Each chunk is its own transaction, so ingest goes on meanwhile.
func (r *retentionJob) once(ctx context.Context) (events, keys int, err error) {
	start := time.Now()
	events, err = r.db.DeleteExpiredEvents(ctx, r.now(), sqlite.DefaultRetentionChunk)
	r.deleted.Add(int64(events))
	if err != nil {
		if ctx.Err() == nil {
			r.log.LogAttrs(ctx, slog.LevelError, "retention failed", slog.Int("deleted_events", events), slog.String("err", err.Error()))
		}
		return events, 0, err
	}
	// Idempotency keys are kept for their horizon only, whatever the events' retention.
	keys, err = r.db.PruneIdempotencyKeys(ctx, r.now().Add(-ingest.IdempotencyHorizon), sqlite.DefaultRetentionChunk)
	if err != nil {
		if ctx.Err() == nil {
			r.log.LogAttrs(ctx, slog.LevelError, "idempotency key pruning failed", slog.Int("pruned_keys", keys), slog.String("err", err.Error()))
		}
		return events, keys, err
	}
	r.log.LogAttrs(ctx, slog.LevelInfo, "retention run", slog.Int("deleted_events", events), slog.Int("pruned_keys", keys), slog.Duration("took", time.Since(start)))
	return events, keys, nil
}

// run runs once at start, then every interval, until ctx ends.
func (r *retentionJob) run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		_, _, _ = r.once(ctx) // logged
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
