package main

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mailtrail/mailtrail"
)

// checkTopics posts a check with topics and returns the answer by address as sent.
func (h *harness) checkTopics(key string, emails, topics []string) map[string]topicCheck {
	h.t.Helper()
	var out struct {
		Checked    int          `json:"checked"`
		Suppressed []topicCheck `json:"suppressed"`
	}
	body := map[string]any{"emails": emails}
	if topics != nil {
		body["topics"] = topics
	}
	if r := h.do("POST", "/api/v1/suppressions/check", key, body, &out); r.StatusCode != 200 || out.Checked != len(emails) {
		h.t.Fatalf("check: %d %+v", r.StatusCode, out)
	}
	m := map[string]topicCheck{}
	for _, s := range out.Suppressed {
		m[s.Email] = s
	}
	return m
}

type topicCheck struct {
	Email  string   `json:"email"`
	Reason string   `json:"reason"`
	Topic  string   `json:"topic"`
	Topics []string `json:"topics"`
}

func (c topicCheck) topics() string { return strings.Join(c.Topics, ",") }

// A message that names a topic: its unsubscribe link (one-click, or the page's default
// button) leaves that topic only; the check answers per topic; the page's "all emails"
// suppresses the address for everything, which wins for every topic.
func TestTopicUnsubscribe(t *testing.T) {
	h := newHarness(t)
	_, key := h.org("acme")
	const addr = "Topic.Person@Example.com"
	var m instrumented
	if r := h.do("POST", "/api/v1/messages", key, map[string]any{"campaign_id": "weekly", "customer_id": "tp", "customer_email": addr,
		"html": emailHTML, "topic": "newsletter"}, &m); r.StatusCode != 200 {
		t.Fatalf("instrument: %d", r.StatusCode)
	}
	if r := h.do("POST", "/api/v1/messages", key, map[string]any{"campaign_id": "weekly", "customer_id": "tp", "customer_email": addr,
		"html": emailHTML, "topic": strings.Repeat("x", 201)}, nil); r.StatusCode != 400 {
		t.Fatalf("topic too long: %d", r.StatusCode)
	}

	// The page offers the topic and everything; a GET changes nothing.
	resp, err := h.client.Get(m.Tracking.UnsubscribeURL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "Unsubscribe from newsletter") || !strings.Contains(string(page), `name="scope" value="all"`) {
		t.Fatalf("page: %d\n%s", resp.StatusCode, page)
	}

	// RFC 8058 one-click: the topic only.
	if r := h.postForm(m.Tracking.UnsubscribeURL, true); r.StatusCode != 200 {
		t.Fatalf("one-click: %d", r.StatusCode)
	}
	got := h.checkTopics(key, []string{addr}, []string{"offers", "newsletter"})
	if c, ok := got[addr]; !ok || c.topics() != "newsletter" || c.Topic != "newsletter" || c.Reason != mailtrail.ReasonUnsubscribed {
		t.Fatalf("check per topic: %+v", got)
	}
	if got := h.checkTopics(key, []string{"topic.person@example.com"}, []string{"offers"}); len(got) != 0 {
		t.Fatalf("another topic: %+v", got)
	}
	if got := h.checkTopics(key, []string{addr}, nil); len(got) != 0 {
		t.Fatalf("a check without topics asks about every email: %+v", got)
	}
	evs := h.events(key, "type=unsubscribed")
	if len(evs) != 1 || evs[0].Metadata.Topic != "newsletter" {
		t.Fatalf("unsubscribed events: %+v", evs)
	}
	var list mailtrail.SuppressionPage
	if h.do("GET", "/api/v1/suppressions", key, nil, &list); len(list.Suppressions) != 1 || list.Suppressions[0].Topic != "newsletter" || list.Suppressions[0].Email != addr {
		t.Fatalf("list: %+v", list)
	}
	if csv := h.export(key, ""); !strings.HasSuffix(strings.SplitN(csv, "\n", 2)[0], ",topic") || !strings.Contains(csv, ",newsletter\n") {
		t.Fatalf("export:\n%s", csv)
	}
	if hist := h.history(key, addr); len(hist.History) != 1 || hist.History[0].Topic != "newsletter" || hist.Suppression != nil {
		t.Fatalf("history: %+v", hist)
	}

	// The page's second button: every email. Organization-wide wins for every topic.
	resp, err = h.client.PostForm(m.Tracking.UnsubscribeURL, url.Values{"List-Unsubscribe": {"One-Click"}, "scope": {"all"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("unsubscribe from all: %d", resp.StatusCode)
	}
	got = h.checkTopics(key, []string{addr}, []string{"offers", "newsletter"})
	if c := got[addr]; c.topics() != "offers,newsletter" || c.Topic != "" || c.Reason != mailtrail.ReasonUnsubscribed {
		t.Fatalf("after all: %+v", got)
	}
	if got := h.checkReasons(key, addr); got[addr] != mailtrail.ReasonUnsubscribed {
		t.Fatalf("check without topics after all: %v", got)
	}

	// Removing the scoped one (audited) leaves the organization-wide one.
	if r := h.do("DELETE", "/api/v1/suppressions/"+url.PathEscape(addr)+"?reason=asked&topic=newsletter", key, nil, nil); r.StatusCode != 200 {
		t.Fatalf("remove topic: %d", r.StatusCode)
	}
	if r := h.do("DELETE", "/api/v1/suppressions/"+url.PathEscape(addr)+"?reason=asked&topic=newsletter", key, nil, nil); r.StatusCode != http.StatusNotFound {
		t.Fatalf("remove topic twice: %d", r.StatusCode)
	}
	if hist := h.history(key, addr); actions(hist.History) != "added:unsubscribed,added:unsubscribed,removed:unsubscribed" || hist.History[2].Topic != "newsletter" {
		t.Fatalf("history: %+v", hist.History)
	}
	if got := h.checkTopics(key, []string{addr}, []string{"newsletter"}); got[addr].topics() != "newsletter" || got[addr].Topic != "" {
		t.Fatalf("after removing the topic: %+v", got)
	}
	if r := h.do("POST", "/api/v1/suppressions/check", key, map[string]any{"emails": []string{addr}, "topics": []string{" "}}, nil); r.StatusCode != 400 {
		t.Fatalf("empty topic: %d", r.StatusCode)
	}

	// Erasing the customer keeps a scoped suppression under the address's hash.
	var m2 instrumented
	h.do("POST", "/api/v1/messages", key, map[string]any{"campaign_id": "weekly", "customer_id": "tq", "customer_email": "q@example.com", "html": emailHTML, "topic": "offers"}, &m2)
	if r := h.postForm(m2.Tracking.UnsubscribeURL, false); r.StatusCode != 200 {
		t.Fatalf("one-click: %d", r.StatusCode)
	}
	if r := h.do("DELETE", "/api/v1/customers/tq", key, nil, nil); r.StatusCode != 200 {
		t.Fatalf("erase: %d", r.StatusCode)
	}
	if got := h.checkTopics(key, []string{"Q@example.com"}, []string{"offers"}); got["Q@example.com"].topics() != "offers" {
		t.Fatalf("erased address's topic: %+v", got)
	}
	if csv := h.export(key, ""); strings.Contains(csv, "q@example.com") || !strings.Contains(csv, mailtrail.EmailHash("q@example.com")+",offers\n") {
		t.Fatalf("export after erasure:\n%s", csv)
	}
}
