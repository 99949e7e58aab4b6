package segment

import (
	"errors"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
)

func TestParseErrorsPointAtTheNode(t *testing.T) {
	cases := []struct{ rule, ptr string }{
		{`[]`, "/"},
		{`{}`, "/"},
		{`{"and":[],"or":[]}`, "/"},
		{`{"xor":[]}`, "/xor"},
		{`{"and":[]}`, "/and"},
		{`{"and":{"has_done":{"event":"opened"}}}`, "/and"},
		{`{"and":[{"has_done":{"event":"opened"}},{"not":{"has_done":{"event":"opened","within":{"value":3,"unit":"FORTNIGHT"}}}}]}`, "/and/1/not/has_done/within/unit"},
		{`{"has_done":{"event":"opened","within":{"value":0,"unit":"DAY"}}}`, "/has_done/within/value"},
		{`{"has_done":{"event":"opened","within":{"unit":"DAY"}}}`, "/has_done/within/value"},
		{`{"has_done":{"event":"opened","within":{"value":1,"unit":"DAY","x":1}}}`, "/has_done/within/x"},
		{`{"has_done":{"within":{"value":1,"unit":"DAY"}}}`, "/has_done/event"},
		{`{"has_done":{"event":"read"}}`, "/has_done/event"},
		{`{"has_not_done":{"event":"sent","human_only":true}}`, "/has_not_done/human_only"},
		{`{"has_done":{"event":"opened","link_url":"https://x/"}}`, "/has_done/link_url"},
		{`{"has_done":{"event":"opened","at_least":0}}`, "/has_done/at_least"},
		{`{"has_done":{"event":"opened","campaign_id":""}}`, "/has_done/campaign_id"},
		{`{"has_done":{"event":"opened","since":"yesterday"}}`, "/has_done/since"},
		{`{"has_done":{"event":"opened","between":{"from":"2026-01-02T00:00:00Z","to":"2026-01-01T00:00:00Z"}}}`, "/has_done/between/to"},
		{`{"has_done":{"event":"opened","between":{"from":"2026-01-02T00:00:00Z"}}}`, "/has_done/between/to"},
		{`{"has_done":{"event":"opened","since":"2026-01-02T00:00:00Z","within":{"value":1,"unit":"DAY"}}}`, "/has_done/within"},
		{`{"has_done":{"event":"opened","colour":"red"}}`, "/has_done/colour"},
		{`{"or":[{"has_done":{"event":"opened"}},{"and":[{"not":{"a/b":1}}]}]}`, "/or/1/and/0/not/a~1b"},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.rule))
		var e *mailtrail.Error
		if !errors.As(err, &e) || e.Code != mailtrail.EINVALID || len(e.Details) != 1 || e.Details[0].Field != c.ptr {
			t.Errorf("%s: got %v, want EINVALID at %s", c.rule, err, c.ptr)
		}
	}
}

func TestParseLimits(t *testing.T) {
	deep := `{"has_done":{"event":"opened"}}`
	for range MaxDepth + 1 {
		deep = `{"not":` + deep + `}`
	}
	if _, err := Parse([]byte(deep)); err == nil {
		t.Fatal("a rule deeper than MaxDepth was accepted")
	}
	ok := `{"and":[{"not":{"or":[{"has_done":{"event":"opened","within":{"value":30,"unit":"day"},"human_only":true,"at_least":2}},{"has_not_done":{"event":"clicked","campaign_id":"x","link_url":"https://a/"}}]}}]}`
	r, err := Parse([]byte(ok))
	if err != nil {
		t.Fatal(err)
	}
	if cs := r.Conds(); len(cs) != 2 || cs[0].Within.Unit != Day || !cs[1].Negated || cs[0].AtLeast != 2 {
		t.Fatalf("parsed %+v", cs)
	}
}

func TestWindowSince(t *testing.T) {
	now := time.Date(2026, 3, 31, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		w    Window
		want time.Time
	}{
		{Window{15, Minute}, now.Add(-15 * time.Minute)},
		{Window{2, Hour}, now.Add(-2 * time.Hour)},
		{Window{30, Day}, now.Add(-30 * 24 * time.Hour)},
		{Window{1, Month}, time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC)}, // 31 February normalizes
		{Window{1, Year}, time.Date(2025, 3, 31, 10, 0, 0, 0, time.UTC)},
	}
	for _, c := range cases {
		if got := c.w.Since(now); !got.Equal(c.want) {
			t.Errorf("%v: %v, want %v", c.w, got, c.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"has_done":{"event":"opened","within":{"value":30,"unit":"DAY"}}}`,
		`{"and":[{"not":{"has_not_done":{"event":"clicked","link_url":"https://a/","human_only":true,"at_least":2}}},{"or":[{"has_done":{"event":"sent","between":{"from":"2026-01-01T00:00:00Z","to":"2026-02-01T00:00:00Z"}}}]}]}`,
		`{"has_done":{"event":"bounced","since":"2026-01-01T00:00:00.5+02:00","campaign_id":"x"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Parse(b)
		if err != nil {
			var e *mailtrail.Error
			if !errors.As(err, &e) || e.Code != mailtrail.EINVALID || len(e.Details) != 1 || e.Details[0].Field == "" || e.Details[0].Field[0] != '/' {
				t.Fatalf("%q: error without a pointer: %v", b, err)
			}
			return
		}
		r.MatchesNothingDone()
		o := newOrg()
		o.eval(r, time.Now(), nil)
	})
}
