package eventlog

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mailtrail/mailtrail"
)

// fill sets every exported field of the struct v points to (recursively) to a random
// value, by reflection: a field added to mailtrail.Event or Metadata later is filled too,
// so the round trip below fails until the record format carries it.
func fill(r *rand.Rand, v reflect.Value) {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() || r.IntN(4) == 0 { // leave some fields empty
			continue
		}
		fillValue(r, v.Field(i), f.Name)
	}
}

func fillValue(r *rand.Rand, v reflect.Value, name string) {
	switch {
	case v.Type() == reflect.TypeFor[time.Time]():
		sec := r.Int64N(1<<40) - 1<<39
		loc := []*time.Location{time.UTC, time.FixedZone("x", 19800), time.Local}[r.IntN(3)]
		v.Set(reflect.ValueOf(time.Unix(sec, r.Int64N(1e9)).In(loc)))
		return
	case v.Type() == reflect.TypeFor[json.RawMessage]():
		v.SetBytes(randBytes(r))
		return
	case v.Type() == reflect.TypeFor[map[string]any]():
		v.Set(reflect.ValueOf(randJSONObject(r, 2)))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(randString(r))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Uint8:
		v.SetUint(uint64(r.IntN(256)))
	case reflect.Int:
		v.SetInt(r.Int64N(1<<40) - 1<<39)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fillValue(r, p.Elem(), name)
		v.Set(p)
	case reflect.Slice:
		n := 1 + r.IntN(4)
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			fillValue(r, s.Index(i), name)
		}
		v.Set(s)
	case reflect.Struct:
		fill(r, v)
	default:
		panic("fill: no generator for field " + name + " of kind " + v.Kind().String() + ": teach the record format and this test about it")
	}
}

func randString(r *rand.Rand) string {
	switch r.IntN(4) {
	case 0:
		return string(randBytes(r)) // any bytes, not only UTF-8
	case 1:
		return "héllo, wörld ✉ " + string(rune('a'+r.IntN(26)))
	}
	b := make([]byte, 1+r.IntN(40))
	for i := range b {
		b[i] = byte('a' + r.IntN(26))
	}
	return string(b)
}

func randBytes(r *rand.Rand) []byte {
	b := make([]byte, 1+r.IntN(50))
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return b
}

// randJSONObject returns what encoding/json decodes an object into: Metadata.Extra only
// ever holds such values.
func randJSONObject(r *rand.Rand, depth int) map[string]any {
	m := map[string]any{}
	for range 1 + r.IntN(4) {
		k := randString(r)
		if !utf8.ValidString(k) {
			k = "k" + k[:0]
		}
		switch r.IntN(6) {
		case 0:
			m[k] = r.NormFloat64() * math.Pow(10, float64(r.IntN(30)-15))
		case 1:
			m[k] = "v<&>x"
		case 2:
			m[k] = r.IntN(2) == 0
		case 3:
			m[k] = nil
		case 4:
			m[k] = []any{float64(r.IntN(100)), "a"}
		case 5:
			if depth > 0 {
				m[k] = randJSONObject(r, depth-1)
			}
		}
	}
	return m
}

// normalize maps what the format does not keep to what it reads back: times in UTC.
func normalize(e *mailtrail.Event) {
	if !e.OccurredAt.IsZero() {
		e.OccurredAt = e.OccurredAt.UTC()
	}
	if !e.ReceivedAt.IsZero() {
		e.ReceivedAt = e.ReceivedAt.UTC()
	}
}

func TestRecordRoundTripsEveryField(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	full := 0
	for i := range 5000 {
		var e mailtrail.Event
		fill(r, reflect.ValueOf(&e).Elem())
		b, err := EncodeEvent(&e)
		if err != nil {
			t.Fatalf("event %d: encode: %v", i, err)
		}
		got, err := DecodeEvent(b)
		if err != nil {
			t.Fatalf("event %d: decode: %v", i, err)
		}
		normalize(&e)
		if !reflect.DeepEqual(got, &e) {
			t.Fatalf("event %d does not round-trip:\n got %#v\nwant %#v", i, got, &e)
		}
		if e.ID != "" && e.Metadata.LinkIndex != nil && e.Metadata.Extra != nil && e.Reasons != nil {
			full++
		}
	}
	if full == 0 {
		t.Fatal("no event had its optional fields all set")
	}
	// The empty event is an empty record.
	b, _ := EncodeEvent(&mailtrail.Event{})
	if len(b) != 0 {
		t.Fatalf("empty event encodes to %d bytes", len(b))
	}
}

// TestRecordSkipsUnknownFields: a field written by a later version is skipped.
func TestRecordSkipsUnknownFields(t *testing.T) {
	e := &mailtrail.Event{ID: "e1", Type: mailtrail.EventClicked}
	b, _ := EncodeEvent(e)
	b = appendField(b, 999, []byte("from the future"))
	got, err := DecodeEvent(b)
	if err != nil || !reflect.DeepEqual(got, e) {
		t.Fatalf("decode with an unknown field = %+v, %v", got, err)
	}
}

func TestGroupRejectsAnotherVersion(t *testing.T) {
	b := appendGroupHeader(nil, []groupAppend{{id: "a", n: 0}})
	b[0] = groupVersion + 1
	if _, _, err := decodeGroupHeader(b); err == nil {
		t.Fatal("a group of an unknown version was read")
	}
}

// FuzzDecodeEvent: any bytes either fail to decode or decode to an event that encodes
// and decodes to itself.
func FuzzDecodeEvent(f *testing.F) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 20 {
		var e mailtrail.Event
		fill(r, reflect.ValueOf(&e).Elem())
		b, _ := EncodeEvent(&e)
		f.Add(b)
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := DecodeEvent(b)
		if err != nil {
			return
		}
		b2, err := EncodeEvent(e)
		if err != nil {
			t.Fatalf("decoded event does not encode: %v", err)
		}
		e2, err := DecodeEvent(b2)
		if err != nil || !reflect.DeepEqual(e, e2) {
			t.Fatalf("re-encoded event differs: %v\n%#v\n%#v", err, e, e2)
		}
	})
}

// FuzzRecordRoundTrip drives the random event from the fuzzer's seed and strings.
func FuzzRecordRoundTrip(f *testing.F) {
	f.Add(uint64(1), "ev-1", "ana@example.com", "Mozilla/5.0", []byte(`{"a":1}`))
	f.Fuzz(func(t *testing.T, seed uint64, id, email, ua string, raw []byte) {
		r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
		var e mailtrail.Event
		fill(r, reflect.ValueOf(&e).Elem())
		e.ID, e.CustomerEmail, e.Metadata.UserAgent = id, email, ua
		e.Metadata.Raw = raw
		if len(raw) == 0 {
			e.Metadata.Raw = nil
		}
		b, err := EncodeEvent(&e)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeEvent(b)
		if err != nil {
			t.Fatal(err)
		}
		normalize(&e)
		if !reflect.DeepEqual(got, &e) {
			t.Fatalf("round trip:\n got %#v\nwant %#v", got, &e)
		}
		if !bytes.Equal(got.Metadata.Raw, e.Metadata.Raw) {
			t.Fatal("raw differs")
		}
	})
}
