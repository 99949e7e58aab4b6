package esp

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/mailtrail/mailtrail"
)

// The vendors' Parse as it was before hookEach: json.Unmarshal of the body into
// []json.RawMessage, then hookDecodeObject of each element. Kept to compare the two on
// every input (hookSameAsOld).

func hookDecodeArrayOld(vendor string, body []byte, max int) ([]json.RawMessage, error) {
	b := bytes.TrimSpace(body)
	if len(b) == 0 || b[0] != '[' {
		return nil, errMalformed(vendor)
	}
	var items []json.RawMessage
	if err := json.Unmarshal(b, &items); err != nil {
		return nil, errMalformed(vendor)
	}
	if len(items) == 0 {
		return nil, mailtrail.Errorf(mailtrail.EINVALID, "empty %s batch", vendor)
	}
	if max > 0 && len(items) > max {
		return nil, mailtrail.Errorf(mailtrail.EINVALID, "%s batch of %d events is over the limit of %d", vendor, len(items), max)
	}
	return items, nil
}

func sendgridParseOld(body []byte) (*Result, error) {
	items, err := hookDecodeArrayOld("sendgrid", body, 0)
	if err != nil {
		return nil, err
	}
	res := hookNewResult()
	for _, raw := range items {
		var ev sendgridEvent
		if err := hookDecodeObject("sendgrid", raw, &ev); err != nil {
			return nil, err
		}
		if ev.Event == "group_resubscribe" && ev.ASMGroupID != "" && ev.Email != "" && !ev.Timestamp.IsZero() {
			res.Resubscribes = append(res.Resubscribes, mailtrail.Resubscribe{Email: string(ev.Email), Topic: string(ev.ASMGroupID), At: ev.Timestamp.Time.UTC()})
			continue
		}
		e, ok, err := sendgridMap(&ev, raw)
		if err != nil {
			return nil, err
		}
		if !ok {
			hookIgnore(res, string(ev.Event))
			continue
		}
		res.Events = append(res.Events, e)
	}
	return res, nil
}

func smtpcomParseOld(body []byte) (*Result, error) {
	items, err := hookDecodeArrayOld("smtpcom", body, smtpcomMaxEvents)
	if err != nil {
		return nil, err
	}
	res := hookNewResult()
	for _, raw := range items {
		var ev smtpcomEvent
		if err := hookDecodeObject("smtpcom", raw, &ev); err != nil {
			return nil, err
		}
		e, ok, err := smtpcomMap(&ev, raw)
		if err != nil {
			return nil, err
		}
		if !ok {
			hookIgnore(res, string(ev.Label))
			continue
		}
		res.Events = append(res.Events, e)
	}
	return res, nil
}

func sparkpostParseOld(body []byte) (*Result, error) {
	items, err := hookDecodeArrayOld("sparkpost", body, 0)
	if err != nil {
		return nil, err
	}
	res := hookNewResult()
	for _, item := range items {
		var w sparkpostWrapper
		if err := hookDecodeObject("sparkpost", item, &w); err != nil {
			return nil, err
		}
		for _, class := range slices.Sorted(maps.Keys(w.Msys)) {
			raw := w.Msys[class]
			var ev sparkpostEvent
			if err := hookDecodeObject("sparkpost", raw, &ev); err != nil {
				return nil, err
			}
			e, kind, err := sparkpostMap(&ev, raw)
			if err != nil {
				return nil, err
			}
			if kind != "" {
				hookIgnore(res, kind)
				continue
			}
			res.Events = append(res.Events, e)
		}
	}
	return res, nil
}

// hookArrayVendors are the vendors whose Parse reads a JSON array with hookEach, with
// their Parse as it was.
var hookArrayVendors = []struct {
	v   Vendor
	old func([]byte) (*Result, error)
}{
	{NewSendGrid(), sendgridParseOld},
	{NewSMTPCom(), smtpcomParseOld},
	{NewSparkPost(), sparkpostParseOld},
}

// hookSameAsOld fails unless every array vendor's Parse gives for body what it gave
// before hookEach: the same result, or an error of the same code and message.
func hookSameAsOld(t *testing.T, body []byte) {
	t.Helper()
	for _, c := range hookArrayVendors {
		res, err := c.v.Parse(context.Background(), &Request{Body: body})
		want, wantErr := c.old(body)
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("%s %q: error %v, before %v", c.v.Name(), hookClip(body), err, wantErr)
		}
		if err != nil {
			if err.Error() != wantErr.Error() || mailtrail.ErrorCode(err) != mailtrail.ErrorCode(wantErr) {
				t.Fatalf("%s %q: error %v, before %v", c.v.Name(), hookClip(body), err, wantErr)
			}
			continue
		}
		if !reflect.DeepEqual(res, want) {
			t.Fatalf("%s %q:\n got %+v\nbefore %+v", c.v.Name(), hookClip(body), res, want)
		}
	}
}

// hookClip shortens a body for a failure message.
func hookClip(b []byte) []byte {
	if len(b) > 300 {
		return append(b[:300:300], "…"...)
	}
	return b
}

// TestHookEachSameAsOld: array bodies at the edges of the decoder give what they gave
// before, result or error, for every vendor that reads arrays.
func TestHookEachSameAsOld(t *testing.T) {
	const (
		sg  = `{"event":"bounce","type":"bounce","email":"a@example.com","timestamp":1717000000,"sg_event_id":"e1","status":"5.1.1"}`
		sg2 = `{"event":"open","email":"b@example.com","timestamp":1717000001,"sg_event_id":"e2"}`
		sp  = `{"msys":{"message_event":{"type":"bounce","bounce_class":"10","event_id":"1","timestamp":"1717000000","rcpt_to":"a@example.com"}}}`
		sc  = `{"id":"b1","event_label":"bounce","rcpt_to":"a@example.com","time_finished":1717000000,"resp_code":550}`
		bad = `{"event":"delivered"}` // no timestamp: sendgrid's own error
	)
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	bodies := []string{
		// shapes of the array
		`[` + sg + `]`, `[` + sg + `,` + sg2 + `]`, " \t\r\n[ " + sg + " ,\n" + sg2 + " ]\n\t ",
		`[` + sp + `]`, `[` + sc + `]`, `[` + sg + `,` + sp + `,` + sc + `]`,
		"\u00a0[" + sg + "]\u0085", // Unicode spaces: trimmed as before (bytes.TrimSpace)
		`[]`, `[ ]`, ` [] `, `[`, `]`, `[,]`, `[` + sg + `,]`, `[,` + sg + `]`, `[` + sg + ` ` + sg2 + `]`,
		`[` + sg + `,,` + sg2 + `]`, `[` + sg + `}`, `{` + sg + `]`, `[` + sg + `]]`,
		// trailing data after the array
		`[` + sg + `]x`, `[` + sg + `][]`, `[` + sg + `]{}`, `[` + sg + `] 1`, `[` + sg + `]"`, "[" + sg + "]\x00",
		`[` + sg + `]` + `[` + sg2 + `]`,
		// elements that are not objects, or do not decode
		`[1]`, `[null]`, `[true]`, `["x"]`, `[[]]`, `[{}]`, `[{},1]`, `[` + sg + `,null]`, `[` + sg + `,"{}"]`,
		`[{"event":{}}]`, `[{"email":[]}]`, `[{"timestamp":"x","event":"open"}]`,
		// nested values and strings with brackets, quotes and escapes inside elements
		`[{"event":"open","timestamp":1717000000,"x":{"y":[1,{"z":"]"}],"w":"[{"},"email":"a\"]b@example.com"}]`,
		`[{"event":"open","timestamp":1717000000,"email":"\\","url":"\"]\"","sg_event_id":"\u005d\ud83d\ude00"}]`,
		`[{"event":"bounce","timestamp":1717000000,"reason":"a \"quoted\" ] [ , } { reason","status":"5.0.0"}]`,
		`[{"event":"open","timestamp":1717000000,"email":"bad\xffutf8"}]`,
		`[{"event":"open","timestamp":1717000000,"email":"ctl` + "\x01" + `"}]`,
		`[{"event":"open","timestamp":1717000000,"a":1e400}]`, `[{"event":"open","timestamp":01}]`,
		`[{"event":"open","timestamp":1717000000,"a":tru}]`, `[{"event":"open","timestamp":1717000000,"a":"\x"}]`,
		// which error wins: syntax anywhere, then empty / over the limit, then the first element
		`[` + bad + `,` + sg + `]`, `[` + bad + `,1]`, `[1,` + bad + `]`, `[` + bad + `,` + sg + `,x]`,
		`[` + bad + `,{"event":]`, `[` + sg + `,` + bad + `]`, `[` + bad + `,` + sg + `] x`,
		`[{"msys":{"message_event":1}},` + sg + `]`, `[{"msys":{"a":{"type":"open"}}},` + sg + `]`,
		// nesting at encoding/json's limit (10,000 levels including the array's own)
		`[{"event":"open","timestamp":1717000000,"x":` + deep(9998) + `}]`,
		`[{"event":"open","timestamp":1717000000,"x":` + deep(9999) + `}]`,
		`[{"event":"open","timestamp":1717000000,"x":` + deep(10000) + `}]`,
		`[` + deep(9999) + `]`, `[` + deep(10000) + `]`, `[1,` + deep(9999) + `]`,
		`[{"x":"` + strings.Repeat("[", 10001) + `"}]`,
		`[{"x":"` + strings.Repeat(`\"[`, 10001) + `"}]`,
		strings.Repeat("[", 20000),
	}
	for _, b := range bodies {
		hookSameAsOld(t, []byte(b))
	}
	for _, v := range []string{"sendgrid", "sparkpost", "smtpcom"} {
		files, _ := filepath.Glob(filepath.Join("testdata", v, "*.json"))
		for _, p := range files {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			hookSameAsOld(t, b)
		}
	}
	hookSameAsOld(t, hookBenchSendGrid(1000))
}

// TestHookEachLimit: SMTP.com's 1,000 events are accepted, 1,001 are over the limit even
// when an element before or after the limit is bad, and a syntax error past the limit
// is still the error.
func TestHookEachLimit(t *testing.T) {
	ev := `{"id":"d1","event_label":"delivered","rcpt_to":"a@example.com","time_finished":1717000000}`
	batch := func(n int, extra ...string) []byte {
		items := slices.Repeat([]string{ev}, n)
		return []byte("[" + strings.Join(append(items, extra...), ",") + "]")
	}
	res, err := NewSMTPCom().Parse(context.Background(), &Request{Body: batch(smtpcomMaxEvents)})
	if err != nil || len(res.Events) != smtpcomMaxEvents {
		t.Fatalf("at the limit: %d events, %v", len(res.Events), err)
	}
	badFirst := append([]byte("[1,"), batch(smtpcomMaxEvents)[1:]...)
	for _, b := range [][]byte{
		batch(smtpcomMaxEvents), batch(smtpcomMaxEvents + 1), batch(smtpcomMaxEvents, "1"), batch(smtpcomMaxEvents-1, "1"),
		batch(3, "1", ev), badFirst, batch(smtpcomMaxEvents+5, "x"),
	} {
		hookSameAsOld(t, b)
	}
	_, err = NewSMTPCom().Parse(context.Background(), &Request{Body: badFirst})
	if err == nil || err.Error() != "mailtrail: invalid: smtpcom batch of 1001 events is over the limit of 1000" {
		t.Errorf("a bad element before the limit: %v, want the limit's error", err)
	}
}

// TestHookEachRaw: Metadata.Raw is the element's JSON as sent, not the decoder's buffer
// (later elements do not overwrite it).
func TestHookEachRaw(t *testing.T) {
	el := func(i int) string {
		return `{"event":"bounce","type":"bounce","email":"a` + strings.Repeat("x", i*100) + `@example.com","timestamp":1717000000,"status":"5.1.1"}`
	}
	var items []string
	for i := range 40 {
		items = append(items, el(i))
	}
	res, err := NewSendGrid().Parse(context.Background(), &Request{Body: []byte("[\n  " + strings.Join(items, " ,\n  ") + "\n]")})
	if err != nil || len(res.Events) != len(items) {
		t.Fatalf("%d events, %v", len(res.Events), err)
	}
	for i, e := range res.Events {
		if string(e.Metadata.Raw) != items[i] {
			t.Fatalf("event %d raw %.80s, want %.80s", i, e.Metadata.Raw, items[i])
		}
	}
}

// FuzzHookEach compares every array vendor's Parse with what it was before hookEach.
func FuzzHookEach(f *testing.F) {
	for _, v := range []string{"sendgrid", "sparkpost", "smtpcom"} {
		hookSeed(f, v)
	}
	for _, s := range []string{`[1]`, `[{}] x`, `[{},]`, `[{"a":"]"},{"b":"\"]"}]`, `[{"event":"delivered"},1]`, "[{}]\u00a0"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) { hookSameAsOld(t, body) })
}

// hookEachFast holds one T per element at once: it takes a vendor's batch, but leaves a
// body of many tiny objects (which would take many times its size) to hookEach's reading
// of one element at a time.
func TestHookEachFastBoundsMemory(t *testing.T) {
	if _, _, ok := hookEachFast[sendgridEvent](hookBenchSendGrid(1000), 0); !ok {
		t.Error("a SendGrid batch of 1,000 events is not read by hookEachFast")
	}
	// Fewer than hookMaxDepth brackets, which hookEachFast refuses on their own.
	tiny := []byte("[{}" + strings.Repeat(",{}", 8_999) + "]")
	if _, _, ok := hookEachFast[sendgridEvent](tiny, 0); ok {
		t.Error("a body of 9,000 empty objects is read by hookEachFast")
	}
	res, err := NewSendGrid().Parse(context.Background(), &Request{Body: tiny})
	if err != nil || len(res.Events) != 0 {
		t.Fatalf("the tiny objects: %v, %d events", err, len(res.Events))
	}
}
