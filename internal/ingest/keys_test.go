package ingest_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/ingest"
)

// The keys as they were defined before they were computed without allocating: stores
// hold keys computed so, so the new code must give the same bytes.
func idempotencyKeyAsDefined(ev *mailtrail.Event) []byte {
	k, ok := strings.CutPrefix(ev.DedupeKey, ingest.IdempotencyPrefix)
	if !ok {
		return nil
	}
	sum := sha256.Sum256([]byte("mailtrail idempotency key\x00" + k))
	return sum[:16]
}

func dedupeKeyAsDefined(ev *mailtrail.Event) []byte {
	if ev.DedupeKey == "" {
		return nil
	}
	var b [16]byte
	if !strings.HasPrefix(ev.DedupeKey, ingest.OncePrefix) {
		binary.BigEndian.PutUint64(b[:8], uint64(ev.OccurredAt.UnixMilli()))
	}
	h := sha256.New()
	h.Write([]byte(ev.OrgID))
	h.Write([]byte{0, byte(ev.Type), 0})
	h.Write([]byte(ev.DedupeKey))
	copy(b[8:], h.Sum(nil)[:8])
	return b[:]
}

// IdempotencyKey and DedupeKey (and their Into forms) give the bytes they always gave,
// for keys short and long (past the stack buffers), once: keys, no key, any type; the
// Into forms allocate nothing.
func TestKeysAsDefined(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	word := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return string(b)
	}
	for i := range 5000 {
		ev := &mailtrail.Event{OrgID: word(r.IntN(40)), Type: mailtrail.EventType(r.IntN(12)),
			OccurredAt: time.UnixMilli(r.Int64N(1 << 42))}
		switch n := []int{0, 1, 30, 250, 600}[i%5]; r.IntN(4) {
		case 0:
			ev.DedupeKey = ingest.IdempotencyPrefix + word(n)
		case 1:
			ev.DedupeKey = ingest.OncePrefix + word(n)
		case 2:
			ev.DedupeKey = word(n)
		}
		var k [16]byte
		if got, want := ingest.IdempotencyKey(ev), idempotencyKeyAsDefined(ev); !bytes.Equal(got, want) {
			t.Fatalf("IdempotencyKey(%q) = %x, want %x", ev.DedupeKey, got, want)
		}
		if ok := ingest.IdempotencyKeyInto(ev, &k); ok != (idempotencyKeyAsDefined(ev) != nil) || ok && !bytes.Equal(k[:], idempotencyKeyAsDefined(ev)) {
			t.Fatalf("IdempotencyKeyInto(%q) = %x, %v", ev.DedupeKey, k, ok)
		}
		if got, want := ingest.DedupeKey(ev), dedupeKeyAsDefined(ev); !bytes.Equal(got, want) {
			t.Fatalf("DedupeKey(%q) = %x, want %x", ev.DedupeKey, got, want)
		}
		if ok := ingest.DedupeKeyInto(ev, &k); ok != (dedupeKeyAsDefined(ev) != nil) || ok && !bytes.Equal(k[:], dedupeKeyAsDefined(ev)) {
			t.Fatalf("DedupeKeyInto(%q) = %x, %v", ev.DedupeKey, k, ok)
		}
	}
	ev := &mailtrail.Event{OrgID: "org_1", DedupeKey: ingest.IdempotencyPrefix + "order-1234"}
	var k [16]byte
	if n := testing.AllocsPerRun(100, func() { ingest.IdempotencyKeyInto(ev, &k); ingest.DedupeKeyInto(ev, &k) }); n != 0 {
		t.Errorf("the Into forms allocate %.0f times per call, want 0", n)
	}
}
