package segment

import (
	"bytes"
	"context"
	"io"
	"maps"
	"slices"
	"testing"
)

// sameOrg fails unless a and b hold the same index.
func sameOrg(t *testing.T, a, b *Org) {
	t.Helper()
	if !slices.Equal(a.ext, b.ext) || !maps.Equal(a.byExt, b.byExt) || !maps.Equal(a.camps, b.camps) ||
		!maps.Equal(a.links, b.links) || !maps.Equal(a.pairs, b.pairs) || !slices.Equal(a.pairList, b.pairList) {
		t.Fatal("the id tables differ")
	}
	if a.minDay != b.minDay || a.maxDay != b.maxDay || a.events != b.events || !a.universe.Equals(b.universe) {
		t.Fatal("the days, the event count or the universe differ")
	}
	if len(a.series) != len(b.series) {
		t.Fatalf("%d series, want %d", len(b.series), len(a.series))
	}
	for k, s := range a.series {
		if len(s) != len(b.series[k]) {
			t.Fatalf("series %+v: %d days, want %d", k, len(b.series[k]), len(s))
		}
		for day, bm := range s {
			if x := b.series[k][day]; x == nil || !bm.Equals(x) {
				t.Fatalf("series %+v, day %d differs", k, day)
			}
		}
	}
	if len(a.logs) != len(b.logs) {
		t.Fatalf("%d logs, want %d", len(b.logs), len(a.logs))
	}
	for k, l := range a.logs {
		l.merge()
		if x := b.logs[k]; x == nil || len(x.tail) != 0 || !slices.Equal(l.sorted, x.sorted) {
			t.Fatalf("log %+v differs", k)
		}
	}
}

// onlyReader hides a reader's size (and any other method).
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(b []byte) (int, error) { return o.r.Read(b) }

// A snapshot loads to the same index whatever the size of the chunks it is read in (values
// and bitmaps across chunk boundaries, buffers reused) and whether the reader tells its
// size; a truncated one is refused at any length.
func TestSnapshotLoadInChunks(t *testing.T) {
	x := New(nil, nil)
	x.install(map[string]*Org{"a": benchOrg(3000, 6), "b": newOrg()}, 1)
	pos := Position{LastEventID: 1, Generation: 1}
	var buf bytes.Buffer
	if err := x.WriteSnapshot(&buf, pos); err != nil {
		t.Fatal(err)
	}
	snap := buf.Bytes()
	defer func(c, n int) { snapChunk, snapBuffers = c, n }(snapChunk, snapBuffers)
	for _, c := range []struct{ chunk, bufs int }{{1 << 20, 8}, {4096, 2}, {37, 3}, {13, 1}} {
		snapChunk, snapBuffers = c.chunk, c.bufs
		for _, sized := range []bool{true, false} {
			var r io.Reader = bytes.NewReader(snap)
			if !sized {
				r = onlyReader{r}
			}
			y := New(nil, nil)
			if _, err := y.LoadSnapshot(context.Background(), r, pos); err != nil {
				t.Fatalf("chunks of %d, sized %v: %v", c.chunk, sized, err)
			}
			if len(y.orgs) != 2 {
				t.Fatalf("%d organizations loaded", len(y.orgs))
			}
			for id, o := range x.orgs {
				sameOrg(t, o, y.orgs[id])
			}
		}
	}
	snapChunk, snapBuffers = 64, 2
	for n := 0; n < len(snap); n += 1 + n/7 {
		for _, sized := range []bool{true, false} {
			var r io.Reader = bytes.NewReader(snap[:n])
			if !sized {
				r = onlyReader{r}
			}
			if _, err := New(nil, nil).LoadSnapshot(context.Background(), r, pos); err != ErrSnapshotCorrupt {
				t.Fatalf("truncated to %d bytes (sized %v): %v", n, sized, err)
			}
		}
	}
}
