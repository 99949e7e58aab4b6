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

	"github.com/mailtrail/mailtrail/internal/ingest"
	"github.com/mailtrail/mailtrail/internal/segment"
)

// buildSegmentIndex builds the index from the store; false when it failed (logged; a
// build that shutdown cancels is not an error to log).
func buildSegmentIndex(ctx context.Context, idx *segment.Index, log *slog.Logger) bool {
	log.Info("segment index loading")
	if err := idx.Build(ctx, 0); err != nil {
		if ctx.Err() == nil {
			log.Error("segment index failed to load; segment requests answer 503", "err", err.Error())
		}
		return false
	}
	return true
}

// runSegmentIndex builds the index, then applies committed events until ctx ends.
func runSegmentIndex(ctx context.Context, idx *segment.Index, log *slog.Logger) {
	if buildSegmentIndex(ctx, idx, log) {
		idx.Run(ctx)
	}
}

// segmentSnapshotFile is the segment index's snapshot in the data directory: written
// every --segment-snapshot-interval while serve runs and at a clean shutdown, loaded at
// the next start (with the events committed since read from the store).
const segmentSnapshotFile = "segments.snapshot"

// errGenerationMoved: the store's generation moved since the index was built or loaded
// (an erasure, or a retention delete of the store's last event): the index may hold what
// the store no longer does, so no snapshot is written until the next start builds it.
var errGenerationMoved = errors.New("an erasure or a retention delete changed the store since the index was built")

// segmentSnapshot is serve's use of the snapshot: loaded at start when the store has the
// same generation and is where the snapshot was written or past it (the events since are
// read from the store), written while serve runs and at a clean shutdown. Any doubt
// means the full build.
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

// start runs before the pipeline (and the projector) do: no batch is committed
// meanwhile. It reads the store's generation, then loads the snapshot when there is one
// of that generation at or before the store's last event, and applies the events
// committed since it was written.
func (s *segmentSnapshot) start(ctx context.Context) {
	log := s.a.log
	gen, err := s.a.db.Generation(ctx)
	if err != nil {
		log.Error("segment index: store generation; no snapshot is written", "err", err.Error())
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
		return
	}
	defer f.Close()
	if !s.genOK {
		return
	}
	last, err := s.a.db.LastEventID(ctx)
	if err != nil {
		log.Warn("segment index: snapshot not used; building from the store", "reason", err.Error())
		return
	}
	t0 := time.Now()
	tail, err := s.a.segments.LoadSnapshot(ctx, f, segment.Position{LastEventID: last, Generation: gen})
	if err != nil {
		log.Warn("segment index: snapshot not used; building from the store", "reason", err.Error())
		return
	}
	s.loaded = true
	s.a.segmentsFromSnapshot.Store(true)
	log.Info("segment index loaded from snapshot", "last_event_id", last, "generation", gen, "events_since_snapshot", tail,
		"took", time.Since(t0).Round(time.Millisecond).String())
}

// remove removes the snapshot file (it may name a customer an erasure renamed).
func (s *segmentSnapshot) remove() { removeSegmentSnapshot(s.a.cfg.DataDir, s.a.log) }

// removeSegmentSnapshot removes the data directory's segment snapshot: after an erasure
// it names the customer's former id (and a start would refuse it, the generation having
// moved).
func removeSegmentSnapshot(dataDir string, log *slog.Logger) {
	path := filepath.Join(dataDir, segmentSnapshotFile)
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		log.Error("segment index: cannot remove the snapshot", "err", err.Error())
		return
	}
	if err := syncDir(dataDir); err != nil {
		log.Warn("segment index: sync of the data directory", "err", err.Error())
	}
}

// run builds the index (unless start loaded it), then applies committed events until
// ctx ends, writing the snapshot every --segment-snapshot-interval; after a clean stop
// it writes it once more.
func (s *segmentSnapshot) run(ctx context.Context) {
	if !s.loaded && !buildSegmentIndex(ctx, s.a.segments, s.a.log) {
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.periodic(ctx)
	}()
	s.a.segments.Run(ctx)
	<-done
	s.write()
}

// periodic writes the snapshot every --segment-snapshot-interval until ctx ends, or until
// the store's generation moved (the next start builds).
func (s *segmentSnapshot) periodic(ctx context.Context) {
	every := s.a.cfg.SegmentSnapshotInterval
	if every <= 0 || !s.genOK {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := s.writeLive(); errors.Is(err, errGenerationMoved) {
			s.a.log.Info("segment index snapshots stop until the next start: " + err.Error())
			s.remove()
			return
		}
	}
}

// writeLive writes the snapshot while commits go on: inside the publisher's commit order
// (no batch is committed or delivered meanwhile) the index applies everything observed,
// the store's position is read and the index pauses there; then the file is written
// while batches queue for the index and queries answer from it, and the index resumes.
func (s *segmentSnapshot) writeLive() error {
	var pos segment.Position
	var resume func()
	err := s.a.pub.Publish(func() (ingest.ChangeSet, error) {
		ctx := context.Background()
		s.a.segments.Flush()
		gen, err := s.a.db.Generation(ctx)
		if err != nil {
			return ingest.ChangeSet{}, err
		}
		if gen != s.gen {
			return ingest.ChangeSet{}, errGenerationMoved
		}
		last, err := s.a.db.LastEventID(ctx)
		if err != nil {
			return ingest.ChangeSet{}, err
		}
		pos = segment.Position{LastEventID: last, Generation: gen}
		resume = s.a.segments.Pause()
		return ingest.ChangeSet{}, nil
	})
	if err != nil {
		if !errors.Is(err, errGenerationMoved) {
			s.a.segmentSnapshots.Inc("failed")
			s.a.log.Warn("segment index snapshot not written", "err", err.Error())
		}
		return err
	}
	err = s.writeAt(pos)
	resume()
	// An erasure committed after the cut removed the file before this one was renamed
	// into place: the file it names the customer's former id in goes too.
	if gen, gerr := s.a.db.Generation(context.Background()); err == nil && (gerr != nil || gen != s.gen) {
		s.remove()
	}
	return err
}

// writeAt writes the file at pos and logs it.
func (s *segmentSnapshot) writeAt(pos segment.Position) error {
	return s.a.writeSegmentSnapshot(s.path, pos)
}

// writeSegmentSnapshot writes the segment index's snapshot at pos to path (atomically:
// a temporary file, synced, renamed), counts and logs it.
func (a *app) writeSegmentSnapshot(path string, pos segment.Position) error {
	t0 := time.Now()
	size, err := writeSnapshotFile(a.segments, path, pos)
	if err != nil {
		a.segmentSnapshots.Inc("failed")
		a.log.Warn("segment index snapshot not written", "err", err.Error())
		return err
	}
	a.segmentSnapshots.Inc("written")
	a.log.Info("segment index snapshot written", "bytes", size, "last_event_id", pos.LastEventID, "took", time.Since(t0).Round(time.Millisecond).String())
	return nil
}

// write writes the snapshot at a clean shutdown: the pipeline drained, the index ready,
// the store's generation unchanged since the index was built (an erasure or a retention
// delete meanwhile means the next start must build, and the file goes).
func (s *segmentSnapshot) write() {
	log := s.a.log
	switch {
	case !s.drained.Load():
		log.Info("segment index snapshot not written at shutdown: the ingest pipeline did not drain")
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
		log.Info("segment index snapshot not written: " + errGenerationMoved.Error() + "; the next start builds it")
		s.remove()
		return
	}
	last, err := s.a.db.LastEventID(ctx)
	if err != nil {
		log.Warn("segment index snapshot not written", "err", err.Error())
		return
	}
	_ = s.writeAt(segment.Position{LastEventID: last, Generation: gen})
}

func writeSnapshotFile(idx *segment.Index, path string, pos segment.Position) (int64, error) {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return 0, err
	}
	fail := func(err error) (int64, error) {
		f.Close()
		os.Remove(tmp)
		return 0, err
	}
	if err := idx.WriteSnapshot(f, pos); err != nil {
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
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return 0, err
	}
	return st.Size(), syncDir(filepath.Dir(path))
}
