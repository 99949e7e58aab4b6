package httpd

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/mailtrail/mailtrail"
)

// readBounded decodes a body with decodeBody, and toEvent an event's metadata with
// decodeMetadata (segmentio/encoding's decoder), because they answer as encoding/json
// does. This holds them to that: for the same text, the same values (case-insensitive
// keys, the last of a repeated key, escapes, invalid UTF-8 replaced, null, unknown keys
// ignored or, in metadata, kept in Extra, raw metadata kept as sent), and the same error
// exactly when encoding/json errs.
func FuzzDecodeLikeEncodingJSON(f *testing.F) {
	for _, s := range []string{
		`{"events":[{"event_type":"sent","campaign_id":"c1","customer_id":"u1","customer_email":"a@example.com","occurred_at":"2026-11-21T10:11:12Z","idempotency_key":"k1"}]}`,
		`{"events":[{"Event_Type":"opened","CAMPAIGN_ID":"c","customer_id":"u","customer_id":"v"}]}`,
		`{"event_type":"clicked","metadata":{"link_url":"https://example.com/a","x":[1,2,{"y":null}]}}`,
		`{"events":[{"event_type":"sent","campaign_id":"\u00e9\ud83d\ude00\n\"q\"\\","customer_id":"\xff\xfe bad utf8","metadata":null}]}`,
		`{"events":[{"event_type":"sent","campaign_id":"\ud800 lone surrogate"}]}`,
		`{"events":null,"event_type":"sent","unknown":{"deep":[[[]]]},"source":"import"}`,
		`{"events":[{"event_type":1}]}`,
		`{"events":[{"event_type":"sent","campaign_id":true}]}`,
		`{"events":{"event_type":"sent"}}`,
		`{"events":[{"event_type":"sent"}],}`,
		`{"events":[{"event_type":"sent"}]} trailing`,
		`{"events":[{"event_type":"sent","metadata":{"a":1e999}}]}`,
		`{"events":[{"event_type":"sent","metadata":{"a":01}}]}`,
		`{"campaign_id":"c","html":"<p>hi</p>","track_opens":false,"track_clicks":null,"recipients":[{"customer_id":"u","customer_email":"a@example.com"}]}`,
		`{"recipients":[{"customer_id":5}]}`,
		`{"track_opens":"yes"}`,
		`[]`, `null`, ``, `{`, `{"events":[`, `"str"`, `{"a":"\x01"}`, `{"a" : "b" , "events" : [ ] }`,
	} {
		f.Add([]byte(s))
	}
	for _, s := range []string{
		`{"link_url":"https://example.com/a","link_index":2,"bounce_type":"hard","extra":{"a":1}}`,
		`{"Link_URL":"https://example.com/a"}`, `{"link_url":"a","mine":[1,"x",{"y":null}],"raw":{"v":1}}`,
		`{"link_index":1.5}`, `{"link_index":"1"}`, `{"topic":null,"reason":"\u00e9\n"}`, `{"extra":[1]}`, `null`, `{} {}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		// b as an event's metadata object.
		var want, got mailtrail.Metadata
		werr := json.Unmarshal(b, &want)
		gerr := decodeMetadata(b, &got)
		if (werr == nil) != (gerr == nil) || (werr != nil && werr.Error() != gerr.Error()) {
			t.Fatalf("metadata %q: encoding/json says %v, decodeMetadata says %v", b, werr, gerr)
		}
		if werr == nil && !reflect.DeepEqual(want, got) {
			t.Fatalf("metadata %q: encoding/json gives %+v, decodeMetadata %+v", b, want, got)
		}
		// b as a whole body.
		for _, newV := range []func() any{
			func() any { return new(eventsRequest) },
			func() any { return new(messagesRequest) },
		} {
			want, got := newV(), newV()
			werr := json.Unmarshal(b, want)
			gerr := decodeBody(b, got)
			if (werr == nil) != (gerr == nil) || (werr != nil && werr.Error() != gerr.Error()) {
				t.Fatalf("%q into %T: encoding/json says %v, decodeBody says %v", b, want, werr, gerr)
			}
			if werr == nil && !reflect.DeepEqual(want, got) {
				t.Fatalf("%q into %T: encoding/json gives %+v, decodeBody %+v", b, want, want, got)
			}
		}
	})
}
