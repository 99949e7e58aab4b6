package load

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"time"
)

// KeyDigits is the width of the counter inside each idempotency key.
const KeyDigits = 12

// eventMix is the share (in thousandths) of each event type in ingest
// batches, roughly what a CRM sends after a campaign.
var eventMix = []struct {
	typ    string
	permil int
	meta   map[string]string
}{
	{"sent", 400, nil},
	{"delivered", 380, nil},
	{"opened", 150, nil},
	{"clicked", 40, map[string]string{"link_url": "https://example.com/a"}},
	{"bounced", 20, map[string]string{"bounce_type": "soft"}},
	{"complained", 5, nil},
	{"unsubscribed", 5, nil},
}

// IngestEvent is one item of a POST /api/v1/events body.
type IngestEvent struct {
	EventType      string            `json:"event_type"`
	CampaignID     string            `json:"campaign_id"`
	CustomerID     string            `json:"customer_id"`
	CustomerEmail  string            `json:"customer_email"`
	ESPMessageID   string            `json:"esp_message_id"`
	OccurredAt     string            `json:"occurred_at"`
	IdempotencyKey string            `json:"idempotency_key"`
	Metadata       map[string]string `json:"metadata,omitempty"`
}

// Bodies holds pre-encoded POST /api/v1/events bodies whose
// idempotency keys are stamped with a fresh counter on every use, so that
// keys never repeat within a run while encoding costs nothing during it.
type Bodies struct {
	size      int
	templates [][]byte
	keyAt     [][]int // offsets of each event's key counter in its template
}

// NewEventBodies encodes count templates of size events each, drawn with a
// fixed seed: customers among 100,000, times spread over seven days, types
// as in eventMix. runID makes the keys unique to this run.
func NewEventBodies(size, count int, runID string) *Bodies {
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	placeholder := fmt.Sprintf("k-%s-%0*d", runID, KeyDigits, 0)
	b := &Bodies{size: size}
	for range count {
		buf := []byte(`{"events":[`)
		offsets := make([]int, 0, size)
		for j := range size {
			if j > 0 {
				buf = append(buf, ',')
			}
			typ, meta := drawType(rng)
			c := rng.IntN(100_000) + 1
			ev, _ := json.Marshal(IngestEvent{
				EventType:      typ,
				CampaignID:     "bench-2",
				CustomerID:     "c" + strconv.Itoa(c),
				CustomerEmail:  "c" + strconv.Itoa(c) + "@example.com",
				ESPMessageID:   "esp-" + strconv.Itoa(c),
				OccurredAt:     start.Add(time.Duration(rng.IntN(7*24*3600)) * time.Second).Format(time.RFC3339),
				IdempotencyKey: placeholder,
				Metadata:       meta,
			})
			at := bytes.Index(ev, []byte(placeholder)) + len(placeholder) - KeyDigits
			offsets = append(offsets, len(buf)+at)
			buf = append(buf, ev...)
		}
		buf = append(buf, "]}"...)
		b.templates = append(b.templates, buf)
		b.keyAt = append(b.keyAt, offsets)
	}
	return b
}

func drawType(rng *rand.Rand) (string, map[string]string) {
	n := rng.IntN(1000)
	for _, m := range eventMix {
		if n < m.permil {
			return m.typ, m.meta
		}
		n -= m.permil
	}
	return "sent", nil
}

// stream returns a function that hands out body after body, each with new
// keys. Two streams of the same Bodies hand out the same sequence of
// bodies, so both servers receive identical requests.
func (b *Bodies) Stream() func() []byte {
	var seq atomic.Uint64
	return func() []byte {
		n := seq.Add(1) - 1
		t := int(n % uint64(len(b.templates)))
		body := bytes.Clone(b.templates[t])
		first := n * uint64(b.size)
		for j, off := range b.keyAt[t] {
			putDigits(body[off:off+KeyDigits], first+uint64(j))
		}
		return body
	}
}

// putDigits writes v in decimal, zero-padded, into all of dst.
func putDigits(dst []byte, v uint64) {
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = byte('0' + v%10)
		v /= 10
	}
}

// Add appends a template of b.Size events whose key counters start at the offsets keyAt
// (each KeyDigits wide), for bodies of another shape (an ESP's webhook batches).
func (b *Bodies) Add(template []byte, keyAt []int) {
	b.templates = append(b.templates, template)
	b.keyAt = append(b.keyAt, keyAt)
}

// NewBodies returns an empty set of bodies of size events each, filled with Add.
func NewBodies(size int) *Bodies { return &Bodies{size: size} }

// Size returns the number of events per body.
func (b *Bodies) Size() int { return b.size }
