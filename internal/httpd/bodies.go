package httpd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"runtime"
	"sync"
	"time"

	fastjson "github.com/segmentio/encoding/json"

	"github.com/mailtrail/mailtrail"
)

// bodyGate bounds the request bodies the large JSON routes (events, messages) decode at
// once, weighted by their bytes, and their number: a request reserves its declared length
// (the route's limit when it declares none) before it reads, and releases it once what it
// decoded is no longer needed. Decoding costs a small multiple of the body (the bytes, the
// strings they hold, the structures: see readBounded), so the memory and the CPU these
// routes take are bounded whatever the number of clients (the CPU bound keeps health
// checks and tracking answered under an ingest flood); a request that waits longer than
// the gate's wait gets 503 with Retry-After. Health checks and the tracking routes never
// pass through it.
type bodyGate struct {
	capacity int64
	holders  int // requests in the gate at most
	wait     time.Duration

	mu   sync.Mutex
	used int64
	in   int
	room chan struct{} // closed when bytes are released, then replaced
}

func newBodyGate(capacity int64, wait time.Duration) *bodyGate {
	return &bodyGate{capacity: capacity, holders: max(4, 4*runtime.GOMAXPROCS(0)), wait: wait, room: make(chan struct{})}
}

var errBodiesBusy = mailtrail.Errorf(mailtrail.EUNAVAILABLE, "too many large requests in progress; retry later")

// acquire reserves n bytes (a request larger than the whole gate is admitted alone) and
// returns the func that releases them (safe to call more than once), or errBodiesBusy.
func (g *bodyGate) acquire(ctx context.Context, n int64) (func(), error) {
	timer := time.NewTimer(g.wait)
	defer timer.Stop()
	for {
		g.mu.Lock()
		if (g.used == 0 || g.used+n <= g.capacity) && g.in < g.holders {
			g.used += n
			g.in++
			g.mu.Unlock()
			var once sync.Once
			return func() { once.Do(func() { g.release(n) }) }, nil
		}
		room := g.room
		g.mu.Unlock()
		select {
		case <-room:
		case <-timer.C:
			return nil, errBodiesBusy
		case <-ctx.Done():
			return nil, errBodiesBusy
		}
	}
}

func (g *bodyGate) release(n int64) {
	g.mu.Lock()
	g.used -= n
	g.in--
	close(g.room)
	g.room = make(chan struct{})
	g.mu.Unlock()
}

// admitBody reserves factor × r's body in the gate: its declared length, or limit when
// it has none or declares more (the read stops at limit anyway). The factor is what the
// route holds per body byte beyond decoding (messages: instrumented copies and their
// encoding while the answer streams).
func (s *Server) admitBody(r *http.Request, limit, factor int64) (func(), error) {
	n := r.ContentLength
	if n < 0 || n > limit {
		n = limit
	}
	return s.bodies.acquire(r.Context(), n*factor)
}

// readBounded reads a JSON body of at most limit bytes and decodes it into v, refusing
// before decoding any array of more than maxItems items (EINVALID), so that a body of
// many tiny items cannot turn into far more memory than its bytes (each item of a typed
// array is a whole struct). Too large → ETOOLARGE; malformed → EINVALID.
func readBounded(w http.ResponseWriter, r *http.Request, limit int64, maxItems int, v any) error {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	var buf bytes.Buffer
	if r.ContentLength > 0 && r.ContentLength <= limit {
		buf.Grow(int(r.ContentLength) + bytes.MinRead) // one allocation, not doublings
	}
	if _, err := buf.ReadFrom(r.Body); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return mailtrail.Errorf(mailtrail.ETOOLARGE, "request body over %d bytes", limit)
		}
		return mailtrail.Errorf(mailtrail.EINVALID, "request body could not be read")
	}
	b := buf.Bytes()
	if err := checkArrays(b, maxItems); err != nil {
		return err
	}
	if err := decodeBody(b, v); err != nil {
		return mailtrail.Errorf(mailtrail.EINVALID, "malformed JSON body: %v", sanitizeJSONError(err))
	}
	return nil
}

// decodeBody is json.Unmarshal of encoding/json, by segmentio/encoding's decoder, which
// decodes as encoding/json does (FuzzDecodeLikeEncodingJSON holds it to that on the bodies
// readBounded reads) at about a fifth of the CPU: on the events API, encoding/json took a
// fifth of the server's CPU. Its error messages differ (they quote the rest of the input
// and Go's type names), so a body it refuses is decoded again by encoding/json, into a
// zeroed v, whose answer stands: the errors clients see are as before.
func decodeBody(b []byte, v any) error {
	if fastjson.Unmarshal(b, v) == nil {
		return nil
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && !rv.IsNil() {
		rv.Elem().SetZero()
	}
	return json.Unmarshal(b, v)
}

// plainMetadata is mailtrail.Metadata without its UnmarshalJSON.
type plainMetadata mailtrail.Metadata

// decodeMetadata is json.Unmarshal of an event's metadata object into m, which
// mailtrail.Metadata's UnmarshalJSON does in two passes of encoding/json and more. When
// every key of b is one of Metadata's own, spelled exactly as its field names it,
// segmentio's decoder fills the fields in one pass: that is what the UnmarshalJSON gives
// then (no key for Extra). Any other object, or an error, is left to the UnmarshalJSON.
// FuzzDecodeLikeEncodingJSON holds the two to the same answers.
func decodeMetadata(b []byte, m *mailtrail.Metadata) error {
	var p plainMetadata
	if rest, err := fastjson.Parse(b, &p, fastjson.DisallowUnknownFields|fastjson.DontMatchCaseInsensitiveStructFields); err == nil && len(rest) == 0 {
		*m = mailtrail.Metadata(p)
		return nil
	}
	return json.Unmarshal(b, m) // m is as it was: the fast path decoded into p
}

// maxDepth bounds the nesting of a body read by readBounded.
const maxDepth = 64

// checkArrays returns EINVALID when an array of the JSON text b (at any depth) holds more
// than max items. It only counts separators outside strings; malformed text is left to the
// decoder. A string is skipped to its closing quote (the first one after an even run of
// backslashes) with bytes.IndexByte: a body is mostly strings, and a loop over their
// every byte took 6 % of the server's CPU under the events API.
func checkArrays(b []byte, max int) error {
	var stack []int // per open bracket: commas seen in an array, -1 for an object
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '"':
			end := stringEnd(b, i)
			if end < 0 {
				return nil // unterminated: malformed, the decoder says so
			}
			i = end
		case '[', '{':
			if len(stack) == maxDepth {
				return mailtrail.Errorf(mailtrail.EINVALID, "the body nests arrays and objects more than %d deep", maxDepth)
			}
			if b[i] == '[' {
				stack = append(stack, 0)
			} else {
				stack = append(stack, -1)
			}
		case ']', '}':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case ',':
			if n := len(stack); n > 0 && stack[n-1] >= 0 {
				stack[n-1]++
				if stack[n-1]+1 > max {
					return mailtrail.Errorf(mailtrail.EINVALID, "an array of the body holds more than %d items", max)
				}
			}
		}
	}
	return nil
}

// stringEnd returns the index of the quote that closes the string opened by the quote at
// b[open], or -1 when none does.
func stringEnd(b []byte, open int) int {
	for from := open + 1; ; {
		k := bytes.IndexByte(b[from:], '"')
		if k < 0 {
			return -1
		}
		q := from + k
		slashes := 0
		for p := q - 1; p > open && b[p] == '\\'; p-- {
			slashes++
		}
		if slashes%2 == 0 {
			return q
		}
		from = q + 1
	}
}
