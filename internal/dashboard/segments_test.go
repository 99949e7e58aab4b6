package dashboard

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/mailtrail/mailtrail/internal/segment"
)

// The simple builder writes the rule the API takes: one condition bare, several under and
// or or; rows without an event are skipped.
func TestBuiltRule(t *testing.T) {
	for _, tc := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"event0": {"opened"}, "value0": {"30"}, "unit0": {"DAY"}, "human0": {"1"}},
			`{"has_done":{"event":"opened","human_only":true,"within":{"unit":"DAY","value":30}}}`},
		{url.Values{"combine": {"or"}, "event1": {"clicked"}, "campaign1": {"spring"}, "mode2": {"has_not_done"}, "event2": {"sent"}, "at_least2": {"2"}},
			`{"or":[{"has_done":{"campaign_id":"spring","event":"clicked"}},{"has_not_done":{"at_least":2,"event":"sent"}}]}`},
	} {
		r := httptest.NewRequest("POST", "/dashboard/segments", strings.NewReader(tc.form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		_ = r.ParseForm()
		d := (&Handler{}).newSegmentsData(r)
		b, err := d.builtRule()
		if err != nil || string(b) != tc.want {
			t.Errorf("%v: %s %v", tc.form, b, err)
			continue
		}
		if _, err := segment.Parse(b); err != nil {
			t.Errorf("%s: %v", b, err)
		}
	}
	r := httptest.NewRequest("POST", "/dashboard/segments", nil)
	_ = r.ParseForm()
	d := (&Handler{}).newSegmentsData(r)
	if _, err := d.builtRule(); err == nil {
		t.Error("no condition: no error")
	}
}

// A saved rule the builder can show comes back into the rows that build the same rule;
// one it cannot show (nested, not, a link, too many conditions) is refused.
func TestRowsOf(t *testing.T) {
	for _, rule := range []string{
		`{"has_done":{"event":"opened","human_only":true,"within":{"unit":"WEEK","value":2}}}`,
		`{"or":[{"has_done":{"campaign_id":"spring","event":"clicked"}},{"has_not_done":{"at_least":2,"event":"sent"}}]}`,
		`{"and":[{"has_done":{"event":"opened"}},{"has_done":{"event":"delivered","within":{"unit":"DAY","value":30}}}]}`,
	} {
		combine, rows, ok := rowsOf([]byte(rule))
		if !ok {
			t.Errorf("%s: not shown in rows", rule)
			continue
		}
		d := segmentsData{Combine: combine}
		for i := range maxConditions {
			d.Rows = append(d.Rows, condRow{Index: i, Mode: "has_done", Unit: "DAY"})
			if i < len(rows) {
				rows[i].Index = i
				d.Rows[i] = rows[i]
			}
		}
		if b, err := d.builtRule(); err != nil || string(b) != rule {
			t.Errorf("%s: rebuilt as %s %v", rule, b, err)
		}
	}
	for _, rule := range []string{
		`{"not":{"has_done":{"event":"opened"}}}`,
		`{"and":[{"or":[{"has_done":{"event":"opened"}}]}]}`,
		`{"has_done":{"event":"clicked","link_url":"https://a.example/"}}`,
		`{"has_done":{"event":"opened","since":"2026-01-01T00:00:00Z"}}`,
		`{"or":[{"has_done":{"event":"sent"}},{"has_done":{"event":"sent"}},{"has_done":{"event":"sent"}},{"has_done":{"event":"sent"}},{"has_done":{"event":"sent"}},{"has_done":{"event":"sent"}}]}`,
	} {
		if _, _, ok := rowsOf([]byte(rule)); ok {
			t.Errorf("%s: shown in rows", rule)
		}
	}
}
