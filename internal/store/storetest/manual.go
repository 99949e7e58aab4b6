package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
)

// testManualAndEvents: suppressions written by hand and those the write path decides
// act on the same rows under the same rules (rules.Replaces), and one address's history
// records both in order. A manual entry replaces a soft-bounce suppression and is
// replaced by a hard bounce; an address repeated in one list counts once as added; a
// resubscribe lifts a topic unsubscribe only when it is not earlier, once, and keeps an
// older unsubscribe that arrives later from suppressing again.
func testManualAndEvents(t *testing.T, s Operational, norm Normalizer) {
	o, _ := newOrg(t, s, "acme")
	set := must[*mailtrail.OrgSettings](t)(s.OrgSettings(ctx, o.ID))
	set.SoftBounceLimit = 2
	check(t, s.UpdateOrgSettings(ctx, o.ID, *set))
	seedMessages(t, s, o.ID, 4)
	soft := func(msg int, at time.Duration, key string) *mailtrail.Event {
		e := ev(o.ID, msg, mailtrail.EventBounced, at, key)
		e.Metadata.BounceType = mailtrail.BounceSoft
		return e
	}
	write(t, s, norm, []*mailtrail.Event{soft(1, time.Hour, "s1a"), soft(1, 2*time.Hour, "s1b")})
	if sup := must[*mailtrail.Suppression](t)(s.Suppressed(ctx, o.ID, "u1@example.com")); sup == nil || sup.Reason != mailtrail.ReasonSoftBounce {
		t.Fatalf("after two soft bounces: %+v", sup)
	}
	in := []mailtrail.SuppressionInput{{Email: "u1@example.com", Note: "by hand"}, {Email: "U1@EXAMPLE.com", Reason: mailtrail.ReasonListImport},
		{Email: "u2@example.com", CustomerID: "u2"}, {Email: "U2@example.com", Reason: mailtrail.ReasonListImport}}
	if res := must[mailtrail.AddResult](t)(s.AddSuppressions(ctx, o.ID, in, mailtrail.SuppressSourceAPI, "tester")); res != (mailtrail.AddResult{Added: 1, Existing: 3}) {
		t.Fatalf("add: %+v", res)
	}
	write(t, s, norm, []*mailtrail.Event{ev(o.ID, 2, mailtrail.EventBounced, 3*time.Hour, "h2")}) // message 2 bounces hard
	found := must[map[string]mailtrail.Suppression](t)(s.CheckSuppressions(ctx, o.ID, []string{"u1@example.com", "u2@example.com", "u3@example.com"}))
	if len(found) != 2 || found["u1@example.com"].Reason != mailtrail.ReasonManual || found["u1@example.com"].Note != "by hand" ||
		found["u2@example.com"].Reason != mailtrail.ReasonHardBounce {
		t.Fatalf("check: %+v", found)
	}
	must[*mailtrail.Suppression](t)(s.RemoveSuppression(ctx, o.ID, "u1@example.com", "tester", "asked"))

	unsub := func(at time.Duration, key string) *mailtrail.Event {
		e := ev(o.ID, 3, mailtrail.EventUnsubscribed, at, key)
		e.Metadata.Topic = "news"
		return e
	}
	write(t, s, norm, []*mailtrail.Event{unsub(time.Hour, "n1")})
	lifted := must[int](t)(s.Resubscribe(ctx, o.ID, []mailtrail.Resubscribe{{Email: "u3@example.com", Topic: "news", At: base.Add(30 * time.Minute)},
		{Email: "U3@example.com", Topic: "news", At: base.Add(3 * time.Hour)}, {Email: "u3@example.com", Topic: "news", At: base.Add(2 * time.Hour)}}, "vendor"))
	if lifted != 1 {
		t.Fatalf("lifted %d, want 1", lifted)
	}
	write(t, s, norm, []*mailtrail.Event{unsub(150*time.Minute, "n2")})
	if got := must[map[string][]mailtrail.Suppression](t)(s.CheckTopicSuppressions(ctx, o.ID, []string{"u3@example.com"}, []string{"news"})); len(got) != 0 {
		t.Fatalf("an unsubscribe older than the resubscribe suppressed again: %+v", got)
	}
	write(t, s, norm, []*mailtrail.Event{unsub(4*time.Hour, "n3")})
	if got := must[map[string][]mailtrail.Suppression](t)(s.CheckTopicSuppressions(ctx, o.ID, []string{"u3@example.com"}, []string{"news"})); len(got["u3@example.com"]) != 1 {
		t.Fatalf("a later unsubscribe: %+v", got)
	}

	for email, want := range map[string]string{
		"u1@example.com": "added soft_bounce event u1; replaced manual tester u1 by hand; removed manual tester u1 asked",
		"u2@example.com": "added manual tester u2; replaced hard_bounce event u2",
		"u3@example.com": "added unsubscribed event u3 news; lifted unsubscribed vendor u3 news resubscribed; added unsubscribed event u3 news",
	} {
		hist, _, err := s.SuppressionHistory(ctx, o.ID, strings.ToUpper(email))
		check(t, err)
		var got []string
		for _, h := range hist {
			got = append(got, strings.Join(strings.Fields(fmt.Sprintf("%s %s %s %s %s %s", h.Action, h.Reason, h.Actor, h.CustomerID, h.Topic, h.Note)), " "))
		}
		if strings.Join(got, "; ") != want {
			t.Errorf("history of %s:\n got %s\nwant %s", email, strings.Join(got, "; "), want)
		}
	}
	if n := must[int](t)(s.CountSuppressions(ctx, o.ID, mailtrail.SuppressionFilter{})); n != 2 {
		t.Fatalf("count %d, want u2's and u3's topic", n)
	}
}
