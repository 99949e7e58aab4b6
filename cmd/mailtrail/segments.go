package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/mailtrail/mailtrail/internal/segment"
)

// runSegmentIndex builds the index, then applies committed events until ctx ends (a
// build that shutdown cancels is not an error to log).
func runSegmentIndex(ctx context.Context, idx *segment.Index, log *slog.Logger) {
	log.Info("segment index loading")
	if err := idx.Build(ctx, 0); err != nil {
		if ctx.Err() != nil {
			return
		}
		log.Error("segment index failed to load; segment requests answer 503", "err", err.Error())
		return
	}
	idx.Run(ctx)
}

// segmentSnapshotFile is the segment index's snapshot in the data directory: written at
// a clean shutdown, read (and removed) at the next start.
const segmentSnapshotFile = "segments.snapshot"

// segmentSnapshot is serve's use of the snapshot: loaded at start when the store is
// exactly where it was written (same last event id, same generation), written at a clean
// shutdown. Any doubt means the full build.
type segmentSnapshot struct {
	a    *app
	path string

	gen     int64 // the store's generation read before the index was built or loaded
	genOK   bool
	loaded  bool        // the index came from the snapshot
	drained atomic.Bool // the pipeline drained: every committed batch reached the index
}

func newSegmentSnapshot(a *app) *segmentSnapshot {
	return &segmentSnapshot{a: a, path: filepath.Join(a.cfg.DataDir, segmentSnapshotFile)}
}

// start runs before the pipeline does (no batch is committed meanwhile). It reads the
// store's generation, then loads the snapshot when there is one at the store's position.
// The file is removed before it is read, so a crash later never finds an old snapshot.
func (s *segmentSnapshot) start(ctx context.Context) {
	log := s.a.log
	gen, err := s.a.db.Generation(ctx)
	if err != nil {
		log.Error("segment index: store generation; no snapshot is written at shutdown", "err", err.Error())
	} else {
		s.gen, s.genOK = gen, true
	}
	f, err := os.Open(s.path)
	if errors.Is(err, os.ErrNotExist) {
		log.Info("segment index: no snapshot; building from the store")
		return
	}
	if err != nil {
		log.Warn("segment index: snapshot not readable; building from the store", "err", err.Error())
		s.remove()
		return
	}
	defer f.Close()
	if !s.remove() || !s.genOK {
		return
	}
	last, err := s.a.db.LastEventID(ctx)
	if err != nil {
		log.Warn("segment index: snapshot not used; building from the store", "reason", err.Error())
		return
	}
	t0 := time.Now()
	if err := s.a.segments.LoadSnapshot(f, segment.Position{LastEventID: last, Generation: gen}); err != nil {
		log.Warn("segment index: snapshot not used; building from the store", "reason", err.Error())
		return
	}
	s.loaded = true
	s.a.segmentsFromSnapshot.Store(true)
	log.Info("segment index loaded from snapshot", "last_event_id", last, "generation", gen,
		"took", time.Since(t0).Round(time.Millisecond).String())
}

// remove removes the snapshot file; false (logged) when it could not, and then the
// snapshot must not be used.
func (s *segmentSnapshot) remove() bool {
	if err := os.Remove(s.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		s.a.log.Error("segment index: cannot remove the snapshot; building from the store", "err", err.Error())
		return false
	}
	if err := syncDir(filepath.Dir(s.path)); err != nil {
		s.a.log.Warn("segment index: sync of the data directory", "err", err.Error())
	}
	return true
}

// run builds the index (unless start loaded it), then applies committed events until
// ctx ends; after a clean stop it writes the snapshot.
func (s *segmentSnapshot) run(ctx context.Context) {
	if s.loaded {
		s.a.segments.Run(ctx)
	} else {
		runSegmentIndex(ctx, s.a.segments, s.a.log)
	}
	s.write()
}

// write writes the snapshot when the shutdown is clean: the pipeline drained, the index
// ready, the store's generation unchanged since the index was built (an erasure or a
// retention delete meanwhile means the next start must build). The file is written
// beside its place, synced, then renamed over it.
func (s *segmentSnapshot) write() {
	log := s.a.log
	switch {
	case !s.drained.Load():
		log.Info("segment index snapshot not written: the ingest pipeline did not drain")
		return
	case !s.a.segments.Ready():
		return
	case !s.genOK:
		return
	}
	ctx := context.Background()
	gen, err := s.a.db.Generation(ctx)
	if err != nil {
		log.Warn("segment index snapshot not written", "err", err.Error())
		return
	}
	if gen != s.gen {
		log.Info("segment index snapshot not written: erasures or retention changed the store since the index was built; the next start builds it")
		return
	}
	last, err := s.a.db.LastEventID(ctx)
	if err != nil {
		log.Warn("segment index snapshot not written", "err", err.Error())
		return
	}
	t0 := time.Now()
	size, err := s.writeFile(segment.Position{LastEventID: last, Generation: gen})
	if err != nil {
		log.Warn("segment index snapshot not written", "err", err.Error())
		return
	}
	log.Info("segment index snapshot written", "bytes", size, "last_event_id", last, "took", time.Since(t0).Round(time.Millisecond).String())
}

func (s *segmentSnapshot) writeFile(pos segment.Position) (int64, error) {
	tmp := s.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return 0, err
	}
	fail := func(err error) (int64, error) {
		f.Close()
		os.Remove(tmp)
		return 0, err
	}
	if err := s.a.segments.WriteSnapshot(f, pos); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(fmt.Errorf("sync: %w", err))
	}
	st, err := f.Stat()
	if err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return 0, err
	}
	if err := os.Rename(tmp, s.path); err != nil {
		os.Remove(tmp)
		return 0, err
	}
	return st.Size(), syncDir(filepath.Dir(s.path))
}
