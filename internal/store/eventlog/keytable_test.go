package eventlog

import (
	"math/rand/v2"
	"testing"
)

// The dedupe index's table answers as the Go map it replaced did, through segments
// appended and pruned by the thousand: keys new and keys appended again in a later
// segment (the later place wins; pruning the earlier segment keeps it), growth, runs that
// wrap around the table's end, and removal shifting later slots back.
func TestKeyTableLikeAMap(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var (
		tab   keyTable
		segs  []segment
		base  uint64
		model = map[key]pending{}
	)
	newKey := func() key {
		k := key{kind: kindDedupe}
		if r.IntN(2) == 0 {
			k = key{kind: kindIdem, org: uint32(r.IntN(3))}
		}
		for i := range k.b {
			k.b[i] = byte(r.Uint32())
		}
		return k
	}
	check := func(step int) {
		t.Helper()
		if tab.n != len(model) {
			t.Fatalf("step %d: the table holds %d keys, the map %d", step, tab.n, len(model))
		}
		for k, p := range model {
			i := tab.find(k.hash(), k, segs, base)
			if i < 0 {
				t.Fatalf("step %d: a key the map holds is not found", step)
			}
			if sl := tab.slots[i]; sl.seg-1 != p.seg || sl.idx != p.idx {
				t.Fatalf("step %d: a key at segment %d, event %d; the map has %d, %d", step, sl.seg-1, sl.idx, p.seg, p.idx)
			}
		}
		for range 200 {
			if k := newKey(); tab.find(k.hash(), k, segs, base) >= 0 {
				t.Fatalf("step %d: a key never put is found", step)
			}
		}
	}
	for step := range 400 {
		if r.IntN(3) > 0 || len(segs) == 0 {
			no := base + uint64(len(segs))
			segs = append(segs, segment{seq: no})
			seg := &segs[len(segs)-1]
			live := make([]key, 0, len(model))
			for k := range model {
				live = append(live, k)
			}
			for i := range r.IntN(600) {
				k := newKey()
				if len(live) > 0 && r.IntN(10) == 0 {
					k = live[r.IntN(len(live))] // appended again, as after an erasure
				}
				if tab.find(k.hash(), k, segs, base) >= 0 && model[k].seg == no {
					continue // twice in one segment: the index never puts that
				}
				seg.keys = append(seg.keys, k)
				seg.ids = append(seg.ids, "")
				tab.put(k.hash(), k, no, uint32(len(seg.keys)-1), uint32(i), segs, base)
				model[k] = pending{seg: no, idx: uint32(i)}
			}
		} else {
			n := 1 + r.IntN(len(segs))
			for j := range n {
				no := base + uint64(j)
				for _, k := range segs[j].keys {
					tab.remove(k.hash(), k, no, segs, base)
					if model[k].seg == no {
						delete(model, k)
					}
				}
			}
			m := copy(segs, segs[n:])
			clear(segs[m:])
			segs = segs[:m]
			base += uint64(n)
		}
		check(step)
	}
	if len(tab.slots) <= minKeyTable {
		t.Fatalf("the table never grew (%d slots): the test no longer covers growth", len(tab.slots))
	}
}

// pending is where the map put a key: the model of what keyTable must answer.
type pending struct {
	seg uint64
	idx uint32
}

// BenchmarkKeyIndex appends segments of 2,000 new keys and prunes the oldest past 2
// million live keys (the index of a sink whose store is a few seconds behind at full
// speed), with the Go map the index was and with keyTable as the Sink uses it (a
// window's slots fetched first), in the same run:
//
//	go test -run '^$' -bench KeyIndex -count 5 ./internal/store/eventlog
func BenchmarkKeyIndex(b *testing.B) {
	const segKeys, live = 2000, 2 << 20
	r := rand.New(rand.NewPCG(7, 8))
	keys := make([]key, segKeys*2100) // twice the live keys, then again
	for i := range keys {
		keys[i] = key{kind: kindDedupe}
		for j := range keys[i].b {
			keys[i].b[j] = byte(r.Uint32())
		}
	}
	b.Run("map", func(b *testing.B) {
		m := map[key]pending{}
		var segs [][]key
		next, base := 0, uint64(0)
		for b.Loop() {
			no := base + uint64(len(segs))
			seg := keys[next : next+segKeys]
			next = (next + segKeys) % len(keys)
			for i, k := range seg {
				m[k] = pending{seg: no, idx: uint32(i)}
			}
			segs = append(segs, seg)
			for len(m) > live {
				for _, k := range segs[0] {
					if p, ok := m[k]; ok && p.seg == base {
						delete(m, k)
					}
				}
				segs = segs[1:]
				base++
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*segKeys), "ns/key")
	})
	b.Run("keyTable", func(b *testing.B) {
		var tab keyTable
		var segs []segment
		var hs []uint64
		next, base := 0, uint64(0)
		for b.Loop() {
			no := base + uint64(len(segs))
			segs = append(segs, segment{seq: no, keys: keys[next : next+segKeys]})
			next = (next + segKeys) % len(keys)
			hs = hs[:0]
			for _, k := range segs[len(segs)-1].keys {
				hs = append(hs, k.hash())
			}
			for i, k := range segs[len(segs)-1].keys {
				if i%filterWindow == 0 {
					tab.fetch(hs[i:min(len(hs), i+filterWindow)])
				}
				tab.put(hs[i], k, no, uint32(i), uint32(i), segs, base)
			}
			for tab.n > live {
				hs = hs[:0]
				for _, k := range segs[0].keys {
					hs = append(hs, k.hash())
				}
				for i, k := range segs[0].keys {
					if i%filterWindow == 0 {
						tab.fetch(hs[i:min(len(hs), i+filterWindow)])
					}
					tab.remove(hs[i], k, base, segs, base)
				}
				segs = segs[1:]
				base++
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*segKeys), "ns/key")
	})
}
