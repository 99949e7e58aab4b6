package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mailtrail/mailtrail/internal/segment"
)

// nodeSegments keeps an API node's segment index across its restarts, as serve's
// segmentSnapshot does: <data-dir>/segments.snapshot, loaded at the start when
// PostgreSQL has the generation it was written at (the events since are read from
// PostgreSQL), else the index is built. The follow loop writes it every
// --segment-snapshot-interval and at a clean stop, at a position the index has followed
// for every organization, and removes it as soon as it sees an erasure (the file names
// the customer's former id).
type nodeSegments struct {
	a    *app
	n    *apiNode
	path string
	// writing: a snapshot is being written, the index is paused; the follow loop neither
	// follows nor renames meanwhile (it would wait for the write).
	writing atomic.Bool
}

func newNodeSegments(a *app) *nodeSegments {
	return &nodeSegments{a: a, n: a.node, path: filepath.Join(a.cfg.DataDir, segmentSnapshotFile)}
}

// load loads the snapshot into the index; false when there is none or it cannot be
// used (then the index must be built). A snapshot of another generation is removed.
func (s *nodeSegments) load(ctx context.Context) bool {
	log := s.a.log
	f, err := os.Open(s.path)
	if errors.Is(err, os.ErrNotExist) {
		log.Info("segment index: no snapshot; building from PostgreSQL")
		return false
	}
	if err != nil {
		log.Warn("segment index: snapshot not readable; building from PostgreSQL", "err", err.Error())
		return false
	}
	defer f.Close()
	gen, err := s.n.pg.Generation(ctx)
	var end int64
	if err == nil {
		end, err = s.n.pg.StreamEnd(ctx)
	}
	if err != nil {
		log.Warn("segment index: snapshot not used; building from PostgreSQL", "reason", err.Error())
		return false
	}
	t0 := time.Now()
	tail, err := s.a.segments.LoadSnapshot(ctx, f, segment.Position{LastEventID: end, Generation: gen})
	if err != nil {
		log.Warn("segment index: snapshot not used; building from PostgreSQL", "reason", err.Error())
		if errors.Is(err, segment.ErrSnapshotStale) {
			s.remove()
		}
		return false
	}
	s.a.segmentsFromSnapshot.Store(true)
	log.Info("segment index loaded from snapshot", "last_event_id", end, "generation", gen, "events_since_snapshot", tail,
		"took", time.Since(t0).Round(time.Millisecond).String())
	return true
}

// remove removes the snapshot (it names the former id of a customer erased since).
func (s *nodeSegments) remove() { removeSegmentSnapshot(s.a.cfg.DataDir, s.a.log) }

// write writes the snapshot at pos: the index holds every event up to pos.LastEventID
// of every organization, and the renames of the erasures up to pos.Generation. With
// wait false the write runs in a goroutine (counted by done) while the index is paused;
// a generation that moved meanwhile removes the file.
func (s *nodeSegments) write(pos segment.Position, wait bool, done *sync.WaitGroup) {
	resume := s.a.segments.Pause()
	s.writing.Store(true)
	run := func() {
		defer s.writing.Store(false)
		err := s.a.writeSegmentSnapshot(s.path, pos)
		resume()
		if err != nil {
			return
		}
		if g, err := s.n.pg.Generation(context.Background()); err != nil || g != pos.Generation {
			s.remove()
		}
	}
	if wait {
		run()
		return
	}
	done.Add(1)
	go func() {
		defer done.Done()
		run()
	}()
}
