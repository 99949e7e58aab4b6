package eventlog_test

import (
	"context"
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/ingest"
	"github.com/mailtrail/mailtrail/internal/store/eventlog"
)

// The filter answers "maybe" for every key added, and for few others at its capacity;
// keys that differ only in their kind or organization are different keys.
func TestKeyFilterFalsePositives(t *testing.T) {
	const n = 100000
	f := eventlog.NewKeyFilter(n)
	random := func() [16]byte {
		var b [16]byte
		rand.Read(b[8:])
		b[7] = byte(len(b)) // a dedupe key's first bytes are a time: few distinct values
		return b
	}
	type k = [16]byte
	added := make([]k, n)
	for i := range added {
		added[i] = random()
		f.Add(eventlog.MakeKey(added[i], uint32(i%3), i%2 == 0))
	}
	for i, b := range added {
		if !f.MayHold(eventlog.MakeKey(b, uint32(i%3), i%2 == 0)) {
			t.Fatalf("a key added is answered as never added")
		}
	}
	count := func(mk func(i int) [16]byte, org func(i int) uint32, idem func(i int) bool) float64 {
		fp := 0
		const tries = 100000
		for i := range tries {
			if f.MayHold(eventlog.MakeKey(mk(i), org(i), idem(i))) {
				fp++
			}
		}
		return float64(fp) / tries
	}
	same := func(i int) uint32 { return uint32(i % 3) }
	// Expected about 0.5 % (12 bits per key, 8 in one 512-bit block).
	for what, rate := range map[string]float64{
		"new keys": count(func(int) k { return random() }, same, func(i int) bool { return i%2 == 0 }),
		"an added idempotency key in another organization": count(func(i int) k { return added[i&^1] },
			func(i int) uint32 { return uint32((i&^1)%3 + 7) }, func(int) bool { return true }),
		"added bytes as the other kind": count(func(i int) k { return added[i] }, same, func(i int) bool { return i%2 == 1 }),
	} {
		if rate > 0.02 {
			t.Errorf("%s: false positives %.2f %% at capacity, want under 2 %%", what, 100*rate)
		}
		t.Logf("%s: false positives at capacity %.3f %%", what, 100*rate)
	}
}

// filteredSinkEnv is a sinkEnv whose Sink keeps a filter of the store's keys.
func filteredSinkEnv(t *testing.T) (e *sinkEnv, lookups func() (store, filter int)) {
	var mu sync.Mutex
	var st, fi int
	e = newSinkEnvWith(t, eventlog.Options{}, func(e *sinkEnv, o *eventlog.SinkOptions) {
		o.Keys = e.db
		o.OnLookup = func(store, filter int) {
			mu.Lock()
			st, fi = st+store, fi+filter
			mu.Unlock()
		}
	})
	return e, func() (int, int) {
		mu.Lock()
		defer mu.Unlock()
		return st, fi
	}
}

// With the filter built from the store, a new event whose keys the store cannot hold is
// answered without asking the store; a retry of an event the store held before the Sink
// existed (a store upgraded to the log: old events and "once:" keys included), or of one
// applied since, is still found there, with the id it was given. Every answer is the
// store's Write's.
func TestSinkFilterAnswersNewEventsWithoutTheStore(t *testing.T) {
	ctx := context.Background()
	e, lookups := filteredSinkEnv(t)
	api := ingest.IdempotencyPrefix
	before := func(org, org2 string) []*mailtrail.Event {
		return []*mailtrail.Event{
			mk(org, "s1", 0, mailtrail.EventSent, 0, "sent-0"),
			mk(org, "s2", 1, mailtrail.EventDelivered, 0, api+"k1"),
			mk(org, "s3", 2, mailtrail.EventUnsubscribed, 0, ingest.OncePrefix+"unsub-2"),
			mk(org, "s4", 3, mailtrail.EventSent, -30*24*time.Hour, "sent-3-old"),
		}
	}
	// Stored before the log: in both stores, never through the Sink.
	if _, err := e.db.Write(ctx, before(e.org, e.org2)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.oracle.Write(ctx, before(e.oracleOrg, e.oOrg2)); err != nil {
		t.Fatal(err)
	}
	if e.sink.Filter().Ready {
		t.Fatal("the filter is ready before it was built")
	}
	// Before the filter is built every keyed event is looked up.
	cs, b := e.write(t, func(org, org2 string) []*mailtrail.Event {
		return []*mailtrail.Event{mk(org, "a1", 4, mailtrail.EventSent, 0, "sent-4")}
	})
	wantAnswers(t, "before the filter", cs, b, "new a1")
	if !e.wasAsked("a1") {
		t.Fatal("the store was not asked about a1 before the filter was built")
	}
	if err := e.sink.BuildFilter(ctx); err != nil {
		t.Fatal(err)
	}
	if f := e.sink.Filter(); !f.Ready || f.Keys < 4 || f.Capacity < f.Keys || f.Bytes <= 0 {
		t.Fatalf("filter after its build: %+v, want ready with at least the store's 4 keys and a1's", f)
	}
	e.apply(t) // a1 applied: the index forgets it, the store and the filter hold it
	st0, fi0 := lookups()
	cs, b = e.write(t, func(org, org2 string) []*mailtrail.Event {
		return []*mailtrail.Event{
			mk(org, "r1", 0, mailtrail.EventSent, 0, "sent-0"),                                    // s1 again
			mk(org, "r2", 1, mailtrail.EventBounced, time.Hour, api+"k1"),                         // s2's idempotency key
			mk(org, "r3", 2, mailtrail.EventUnsubscribed, time.Hour, ingest.OncePrefix+"unsub-2"), // s3's once key
			mk(org, "r4", 3, mailtrail.EventSent, -30*24*time.Hour, "sent-3-old"),                 // s4, a month old
			mk(org, "r5", 4, mailtrail.EventSent, 0, "sent-4"),                                    // a1, applied
			mk(org, "n1", 5, mailtrail.EventSent, 0, "sent-5"),                                    // new
			mk(org, "n2", 6, mailtrail.EventDelivered, 0, api+"k2"),                               // new
			mk(org2, "n3", other+1, mailtrail.EventDelivered, 0, api+"k1"),                        // s2's key, another organization
			mk(org, "n4", 6, mailtrail.EventSent, -40*24*time.Hour, "sent-6-old"),                 // new, old
			mk(org, "n5", 7, mailtrail.EventUnsubscribed, 0, ingest.OncePrefix+"unsub-7"),         // new, once
			mk(org, "n6", 7, mailtrail.EventOpened, 0, ""),                                        // no key
		}
	})
	wantAnswers(t, "with the filter", cs, b, "dup s1", "dup s2", "dup s3", "dup s4", "dup a1",
		"new n1", "new n2", "new n3", "new n4", "new n5", "new n6")
	for _, id := range []string{"r1", "r2", "r3", "r4", "r5"} {
		if !e.wasAsked(id) {
			t.Errorf("the store was not asked about %s: the filter must not answer for a key it may hold", id)
		}
	}
	for _, id := range []string{"n1", "n2", "n3", "n4", "n5", "n6"} {
		if e.wasAsked(id) {
			t.Errorf("the store was asked about %s: the filter knows the store holds none of its keys", id)
		}
	}
	if st, fi := lookups(); st-st0 != 5 || fi-fi0 != 5 {
		t.Errorf("OnLookup told %d store lookups and %d filter answers, want 5 and 5 (n6 has no key)", st-st0, fi-fi0)
	}
	// Appended since the build: in the filter, answered by the index, then the store.
	retry := func(org, org2 string) []*mailtrail.Event {
		return []*mailtrail.Event{mk(org, "x1", 5, mailtrail.EventSent, 0, "sent-5"), mk(org2, "x2", other+2, mailtrail.EventSent, 0, api+"k1")}
	}
	cs, b = e.write(t, retry)
	wantAnswers(t, "retry pending", cs, b, "dup n1", "dup n3")
	e.apply(t)
	cs, b = e.write(t, retry)
	wantAnswers(t, "retry applied", cs, b, "dup n1", "dup n3")
	e.apply(t)
	e.wantFigures(t)
}

// A filter that fills up is built again, larger, while events are appended and applied
// concurrently; no duplicate is missed across the builds (each answer is the store's
// Write's), and every event counts once.
func TestSinkFilterRebuiltAsItFills(t *testing.T) {
	defer eventlog.SetMinFilterKeys(16)()
	e, _ := filteredSinkEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); e.sink.KeepFilter(ctx) }()
	go func() { defer wg.Done(); _ = e.proj.Run(ctx) }()
	stop := func() { cancel(); wg.Wait() }
	defer stop()

	key := func(i int) string { return fmt.Sprintf("sent-%d", i) }
	caps := map[int]bool{}
	for round := range 40 {
		r := round
		e.write(t, func(org, org2 string) []*mailtrail.Event {
			var evs []*mailtrail.Event
			for j := range 6 {
				i := r*6 + j
				evs = append(evs, mk(org, fmt.Sprintf("e%d", i), i%sinkMsgs, mailtrail.EventSent, time.Duration(i)*time.Second, key(i)))
				evs = append(evs, mk(org2, fmt.Sprintf("f%d", i), other+i%sinkMsgs, mailtrail.EventDelivered, 0, fmt.Sprintf("%sk%d", ingest.IdempotencyPrefix, i)))
			}
			if r > 0 { // retries of the previous rounds' events
				i := (r * 7) % (r * 6)
				evs = append(evs, mk(org, fmt.Sprintf("r%d", r), i%sinkMsgs, mailtrail.EventSent, time.Duration(i)*time.Second, key(i)))
				evs = append(evs, mk(org2, fmt.Sprintf("q%d", r), other+1, mailtrail.EventBounced, time.Hour, fmt.Sprintf("%sk%d", ingest.IdempotencyPrefix, i)))
			}
			return evs
		})
		if f := e.sink.Filter(); f.Ready {
			caps[f.Capacity] = true
		}
	}
	// The filter holds 480 keys by now: built again at least once past 16.
	deadline := time.Now().Add(time.Minute)
	for e.sink.Filter().Capacity < 100 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if f := e.sink.Filter(); f.Capacity < 100 || f.Keys < 480 {
		t.Fatalf("filter %+v after 480 keys from a minimum of 16: it was not built again as it filled", f)
	}
	t.Logf("capacities seen: %v", caps)
	// Every key again, after the builds: each a duplicate.
	e.write(t, func(org, org2 string) []*mailtrail.Event {
		var evs []*mailtrail.Event
		for i := range 240 {
			evs = append(evs, mk(org, fmt.Sprintf("z%d", i), i%sinkMsgs, mailtrail.EventSent, time.Duration(i)*time.Second, key(i)))
		}
		return evs
	})
	stop()
	e.apply(t)
	e.wantFigures(t)
}

// A build adds the index's keys a few at a time, with the Sink appending and the store
// applying between two chunks: keys pending when the build began and applied before it
// reached them come from the store's scan, keys appended meanwhile from the build's
// filter. Every retry afterwards is still a duplicate (each answer is the store's
// Write's), and every event counts once.
func TestSinkFilterBuiltBetweenAppends(t *testing.T) {
	e, _ := filteredSinkEnv(t)
	key := func(i int) string { return fmt.Sprintf("sent-%d", i) }
	batch := func(from, n int, prefix string) func(org, org2 string) []*mailtrail.Event {
		return func(org, org2 string) []*mailtrail.Event {
			var evs []*mailtrail.Event
			for i := from; i < from+n; i++ {
				evs = append(evs, mk(org, fmt.Sprintf("%s%d", prefix, i), i%sinkMsgs, mailtrail.EventSent, time.Duration(i)*time.Second, key(i)))
			}
			return evs
		}
	}
	for r := range 10 { // ten appends, none applied: ten segments of the index, 30 keys
		e.write(t, batch(r*3, 3, "e"))
	}
	chunks := 0
	restore := eventlog.SetBuildChunk(3, func() {
		chunks++
		if chunks == 2 {
			e.apply(t)                    // every pending key is in the store now
			e.write(t, batch(30, 3, "n")) // the index forgets them; these enter the build
		}
	})
	err := e.sink.BuildFilter(context.Background())
	restore()
	if err != nil {
		t.Fatal(err)
	}
	if chunks < 2 {
		t.Fatalf("the build added the index's 30 keys in %d chunks of 3, want several", chunks)
	}
	if f := e.sink.Filter(); !f.Ready || f.Keys < 33 {
		t.Fatalf("filter after the build: %+v, want ready with at least the 33 keys", f)
	}
	cs, b := e.write(t, batch(0, 33, "r"))
	for i, dup := range cs.Duplicate {
		if !dup {
			t.Fatalf("the retry of %s was answered as new: the filter lost its key", b[i].ID)
		}
	}
	e.apply(t)
	e.wantFigures(t)
}

// The windowed operations (a window's blocks fetched together) set and test exactly the
// bits the one-key ones do, for any count of keys, a window's size or not.
func TestKeyFilterWindowsLikeOneKeyAtATime(t *testing.T) {
	r := mrand.New(mrand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 15, 16, 17, 100, 4099} {
		hs := make([]uint64, n)
		for i := range hs {
			hs[i] = r.Uint64()
		}
		windowed, single := eventlog.NewKeyFilter(n+1), eventlog.NewKeyFilter(n+1)
		windowed.AddHashes(hs[:n/2])
		for _, h := range hs[:n/2] {
			single.AddHash(h)
		}
		if !windowed.SameBits(single) {
			t.Fatalf("%d keys: the windowed adds set other bits than one key at a time", n/2)
		}
		// Half the hashes were added, half not: both answers occur.
		out := make([]bool, n)
		windowed.HoldHashes(hs, out)
		for i, h := range hs {
			if out[i] != single.HoldsHash(h) {
				t.Fatalf("%d keys: key %d answered %v windowed, %v alone", n, i, out[i], !out[i])
			}
			if i < n/2 && !out[i] {
				t.Fatalf("%d keys: an added key answered as never added", n)
			}
		}
	}
}

// BenchmarkKeyFilter adds and tests keys in a filter of 32 million keys' capacity (48 MB,
// far larger than the caches), one key at a time and by windows, in the same run:
//
//	go test -run '^$' -bench KeyFilter -count 5 ./internal/store/eventlog
func BenchmarkKeyFilter(b *testing.B) {
	const capacity, chunk = 1 << 25, 1 << 14
	r := mrand.New(mrand.NewPCG(3, 4))
	all := make([]uint64, 1<<22) // each call takes the next chunk: blocks not in the cache
	for i := range all {
		all[i] = r.Uint64()
	}
	out := make([]bool, chunk)
	for _, bc := range []struct {
		name string
		run  func(f *eventlog.KeyFilter, hs []uint64)
	}{
		{"add/one-at-a-time", func(f *eventlog.KeyFilter, hs []uint64) {
			for _, h := range hs {
				f.AddHash(h)
			}
		}},
		{"add/windowed", func(f *eventlog.KeyFilter, hs []uint64) { f.AddHashes(hs) }},
		{"hold/one-at-a-time", func(f *eventlog.KeyFilter, hs []uint64) {
			for i, h := range hs {
				out[i] = f.HoldsHash(h)
			}
		}},
		{"hold/windowed", func(f *eventlog.KeyFilter, hs []uint64) { f.HoldHashes(hs, out) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			f := eventlog.NewKeyFilter(capacity)
			f.AddHashes(all[:capacity/16]) // every block's page touched before timing
			b.ResetTimer()
			next := 0
			for b.Loop() {
				bc.run(f, all[next:next+chunk])
				next = (next + chunk) % len(all)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*chunk), "ns/key")
		})
	}
}
