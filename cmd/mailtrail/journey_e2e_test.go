package main

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
)

// didAnswer is the body of GET /api/v1/customers/{customer}/did (and of a 200 of /wait).
type didAnswer struct {
	mailtrail.Did
	Error *mailtrail.Error `json:"error"`
}

// did asks GET /api/v1/customers/{cust}/did?query and returns the status and the answer.
func (h *harness) did(key, cust, query string) (int, didAnswer) {
	h.t.Helper()
	var out didAnswer
	r := h.do("GET", "/api/v1/customers/"+url.PathEscape(cust)+"/did?"+query, key, nil, &out)
	return r.StatusCode, out
}

// hit GETs a tracking URL with a user agent (a person's mail client, or a bot's).
func (h *harness) hit(u, ua string) {
	h.t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("User-Agent", ua)
	resp, err := h.client.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
}

const botUA = "Go-http-client/1.1"

func TestJourneyDid(t *testing.T) {
	h := newHarness(t)
	_, key := h.org("acme")
	_, otherKey := h.org("other")
	spring := h.instrument(key, "spring", "cust-1")
	summer := h.instrument(key, "summer", "cust-1")
	h.instrument(otherKey, "spring", "cust-1")
	sentAt := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	h.postEvents(key, map[string]any{"event_type": "sent", "message_id": spring.MessageID, "occurred_at": sentAt.Format(time.RFC3339)},
		map[string]any{"event_type": "sent", "message_id": summer.MessageID, "occurred_at": sentAt.Format(time.RFC3339)})

	// Before anything happened, and for customers nobody knows: 200, did false.
	for _, c := range []struct{ key, cust, q string }{
		{key, "cust-1", "event=opened"},
		{key, "nobody", "event=opened"},
		{otherKey, "cust-1", "event=sent"},
	} {
		if st, d := h.did(c.key, c.cust, c.q); st != 200 || d.Did.Did || d.Count != 0 || d.CustomerID != c.cust {
			t.Fatalf("%s %s: %d %+v", c.cust, c.q, st, d)
		}
	}
	// A bot's open, indexed; then a person's open and click, left in the indexer's tail.
	h.hit(spring.Tracking.OpenURL, botUA)
	if _, err := h.app.db.IndexCustomerEvents(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.hit(spring.Tracking.OpenURL, desktopUA)
	h.hit(spring.Tracking.ClickURLs[0], desktopUA)

	q := func(kv ...string) string {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v.Encode()
	}
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	cases := []struct {
		name  string
		query string
		count int64
		class mailtrail.Classification // of the first matching event
	}{
		{"sent", q("event", "sent"), 2, ""},
		{"sent of spring", q("event", "sent", "campaign_id", "spring"), 1, ""},
		{"opened", q("event", "opened"), 2, mailtrail.Bot},
		{"opened by a person", q("event", "opened", "human_only", "true"), 1, mailtrail.Human},
		{"opened, message", q("event", "opened", "message_id", spring.MessageID), 2, mailtrail.Bot},
		{"opened, other message", q("event", "opened", "message_id", summer.MessageID), 0, ""},
		{"opened, other campaign", q("event", "opened", "campaign_id", "summer"), 0, ""},
		{"opened since the future", q("event", "opened", "since", future), 0, ""},
		{"opened since the send", q("event", "opened", "since", sentAt.Format(time.RFC3339)), 2, mailtrail.Bot},
		{"clicked link", q("event", "clicked", "link", spring.Links[0], "human_only", "1"), 1, mailtrail.Human},
		{"clicked other link", q("event", "clicked", "link", spring.Links[1]), 0, ""},
		{"delivered", q("event", "delivered"), 0, ""},
		{"unsubscribed", q("event", "unsubscribed", "campaign_id", "spring"), 0, ""},
	}
	for _, c := range cases {
		st, d := h.did(key, "cust-1", c.query)
		if st != 200 || d.Count != c.count || d.Did.Did != (c.count > 0) {
			t.Errorf("%s: %d %+v, want count %d", c.name, st, d.Did, c.count)
			continue
		}
		if c.count > 0 && (d.Event == nil || d.Event.Classification != c.class || d.Event.ID != d.FirstEventID || d.FirstAt == nil || d.LastAt == nil) {
			t.Errorf("%s: first event %+v, want class %q", c.name, d.Event, c.class)
		}
	}
	// The other organization's cust-1 sees none of acme's events, even by message id.
	if st, d := h.did(otherKey, "cust-1", q("event", "opened", "message_id", spring.MessageID)); st != 200 || d.Did.Did {
		t.Errorf("other org: %d %+v", st, d)
	}
	for _, bad := range []string{"", "event=read", q("event", "opened", "campaign_id", "a", "message_id", "b"),
		q("event", "opened", "since", "yesterday"), q("event", "opened", "human_only", "maybe"), q("event", "opened", "link", "https://x")} {
		if st, d := h.did(key, "cust-1", bad); st != 400 || d.Error == nil || d.Error.Code != mailtrail.EINVALID {
			t.Errorf("%q: %d %+v", bad, st, d.Error)
		}
	}
	if st, _ := h.did("", "cust-1", "event=opened"); st != 401 {
		t.Errorf("no key: %d", st)
	}
}
