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
