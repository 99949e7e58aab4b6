package main

import (
	"context"
	"log/slog"
	"slices"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/ingest"
	"github.com/mailtrail/mailtrail/internal/store/sqlite"
	"github.com/mailtrail/mailtrail/internal/storekit"
)

// subscribe makes every part that follows the store a subscriber of the pipeline, the one
// publisher of what is committed (batches of events, and erasures through erasingStore).
// They are called in this order, on the committing goroutine, and none of them blocks.
func (a *app) subscribe(obs *ingestMetrics) {
	p := a.pub
	p.Subscribe("metrics", func(cs ingest.ChangeSet) { obs.committed(cs.Events) })
	p.Subscribe("segments", func(cs ingest.ChangeSet) {
		a.segments.Observe(cs.Events, cs.Relabels)
		for _, e := range cs.Erased {
			a.segments.Rename(e.OrgID, e.OldID, e.NewID)
		}
	})
	// The event streams and the webhook dispatcher read what is new from the store.
	p.Subscribe("stream", func(cs ingest.ChangeSet) {
		if len(cs.Events) > 0 {
			a.hub.Notify(orgsOf(cs.Events)...)
		}
	})
	p.Subscribe("outbound", func(cs ingest.ChangeSet) {
		if len(cs.Events) > 0 {
			a.outbound.Wake()
		}
	})
	p.Subscribe("journeys", func(cs ingest.ChangeSet) {
		if len(cs.Events) > 0 {
			a.journeys.Notify(cs.Events)
		}
	})
}

// orgsOf returns the distinct organizations of a batch of events.
func orgsOf(evs []*mailtrail.Event) []string {
	var orgs []string
	for _, ev := range evs {
		if !slices.Contains(orgs, ev.OrgID) {
			orgs = append(orgs, ev.OrgID)
		}
	}
	return orgs
}

// erasingStore is the store the service's handlers use: an erasure is committed through
// the pipeline's Publish, so its change-set (the customer's old and new ids) reaches the
// subscribers in commit order with the batches of events.
type erasingStore struct {
	*sqlite.DB
	pub publisher
	// before, when set, runs first: with --event-log it waits until the store has applied
	// every event acknowledged so far, so none of the customer's is applied after the
	// erasure.
	before func(ctx context.Context) error
	// after, when set, runs once the erasure is committed: with --event-log it removes
	// the applied messages, the erased customer's among them, from the log.
	after func(ctx context.Context) error
	// mirror, when set, runs after before: in the cluster mode it erases the customer
	// in the workers' PostgreSQL (and queues it for ClickHouse) and returns the id it gave
	// the customer there, which the store then gives too.
	mirror  func(ctx context.Context, orgID, customerID string) (newID string, err error)
	log     *slog.Logger
	dataDir string // its segment snapshot names the customer's former id: it goes
}

// erasing returns the store the handlers use.
func (a *app) erasing() erasingStore {
	s := erasingStore{DB: a.db, pub: a.pub, log: a.log, dataDir: a.cfg.DataDir}
	if l := a.logged; l != nil {
		s.before = func(ctx context.Context) error { return l.caughtUp(ctx, a.cfg.ReadWait, "the erasure") }
		s.after = l.forget
		if r := l.readers; r != nil && a.cfg.PostgresDSN != "" {
			s.mirror = func(ctx context.Context, orgID, customerID string) (string, error) {
				return r.erase(ctx, l.Written(), a.cfg.ReadWait, orgID, customerID)
			}
		}
	}
	return s
}

// EraseCustomer erases the customer (see sqlite.DB.EraseCustomer) and publishes the
// erasure; its errors are the store's.
func (s erasingStore) EraseCustomer(ctx context.Context, orgID, customerID string) (*mailtrail.EraseResult, error) {
	if s.before != nil {
		if err := s.before(ctx); err != nil {
			return nil, err
		}
	}
	newID := storekit.NewErasedID()
	if s.mirror != nil {
		var err error
		if newID, err = s.mirror(ctx, orgID, customerID); err != nil {
			return nil, err
		}
	}
	var res *mailtrail.EraseResult
	err := s.pub.Publish(func() (ingest.ChangeSet, error) {
		var err error
		if res, err = s.DB.EraseCustomerAs(ctx, orgID, customerID, newID); err != nil {
			return ingest.ChangeSet{}, err
		}
		return ingest.ChangeSet{Erased: []mailtrail.ErasedCustomer{res.Customer}}, nil
	})
	if err == nil {
		removeSegmentSnapshot(s.dataDir, s.log)
	}
	if err == nil && s.after != nil {
		// The erasure is committed; a log that keeps the events a while longer loses them
		// at its retention (--event-log-retention) instead.
		if ferr := s.after(context.WithoutCancel(ctx)); ferr != nil {
			s.log.Warn("erasure: the event log still holds the customer's events until its retention", "err", ferr.Error())
		}
	}
	return res, err
}
