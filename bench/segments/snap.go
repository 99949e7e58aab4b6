package main

import (
	"context"
	"log"
	"log/slog"
	"os"
	"runtime"
	"time"

	"github.com/mailtrail/mailtrail/internal/segment"
)

// writeSnap writes idx's snapshot at pos to path, synced, and returns how long it took
// and the file's size.
func writeSnap(idx *segment.Index, path string, pos segment.Position) (time.Duration, int64) {
	t0 := time.Now()
	f, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	if err := idx.WriteSnapshot(f, pos); err != nil {
		log.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
	took := time.Since(t0)
	fi, err := os.Stat(path)
	if err != nil {
		log.Fatal(err)
	}
	return took, fi.Size()
}

// loadSnaps loads the snapshot at path 3 times at pos into new indexes over src, as a
// start does, and returns how long each load took. check is called with each loaded index
// and the number of events it read since the snapshot.
func loadSnaps(ctx context.Context, src segment.Source, path string, pos segment.Position, check func(x *segment.Index, since int)) []time.Duration {
	var out []time.Duration
	for range 3 {
		x := segment.New(src, nil)
		t0 := time.Now()
		f, err := os.Open(path)
		if err != nil {
			log.Fatal(err)
		}
		n, err := x.LoadSnapshot(ctx, f, pos)
		if err != nil {
			log.Fatal(err)
		}
		out = append(out, time.Since(t0))
		f.Close()
		check(x, n)
	}
	return out
}

// build builds an index over src as a start does (chunk: Build's; 0 its default) and
// returns it, how long the build took and the Go heap it added, in MiB.
func build(ctx context.Context, src segment.Source, chunk int) (*segment.Index, time.Duration, float64) {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	idx := segment.New(src, slog.New(slog.NewTextHandler(os.Stderr, nil)))
	t0 := time.Now()
	if err := idx.Build(ctx, chunk); err != nil {
		log.Fatal(err)
	}
	took := time.Since(t0)
	runtime.GC()
	runtime.ReadMemStats(&after)
	return idx, took, float64(after.HeapAlloc-before.HeapAlloc) / (1 << 20)
}
