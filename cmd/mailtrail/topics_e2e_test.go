package main

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

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

// The whole round of a scoped unsubscribe with vendors: a message naming SendGrid's
// unsubscribe group 42 → its unsubscribe link → the check per topic → SendGrid's
// group_resubscribe lifts it (audited) → the check again; a group_unsubscribe is scoped;
// a Postmark stream reactivation lifts the stream's suppression; an organization-wide
// suppression (a hard bounce) is never lifted by a resubscribe and wins for every topic.
func TestTopicResubscribe(t *testing.T) {
	h := newHookHarness(t)
	_, key := h.org("acme")
	sg := newSGKey(t)
	c := h.connection(key, map[string]any{"vendor": "sendgrid", "name": "sg", "signing_key": sg.pub})
	pm := h.connection(key, map[string]any{"vendor": "postmark", "name": "pm", "username": "pm", "password": "pm-pass"})
	const addr = "Grace@Example.com"
	var m instrumented
	if r := h.do("POST", "/api/v1/messages", key, map[string]any{"campaign_id": "promo", "customer_id": "g", "customer_email": addr,
		"html": emailHTML, "topic": "42"}, &m); r.StatusCode != 200 {
		t.Fatalf("instrument: %d", r.StatusCode)
	}
	if r := h.postForm(m.Tracking.UnsubscribeURL, false); r.StatusCode != 200 {
		t.Fatalf("unsubscribe: %d", r.StatusCode)
	}
	if got := h.checkTopics(key, []string{addr}, []string{"42", "43"}); got[addr].topics() != "42" {
		t.Fatalf("after the link: %+v", got)
	}
	now := h.clock.now()
	send := func(evs ...map[string]any) hookResult {
		t.Helper()
		b := mustJSON(evs)
		return h.hookOK(c.WebhookURL, b, sg.headers(t, h.clock.now(), b))
	}
	// A resubscribe older than the unsubscribe changes nothing.
	send(map[string]any{"email": "grace@example.com", "timestamp": now.Add(-time.Hour).Unix(), "event": "group_resubscribe", "asm_group_id": 42, "sg_event_id": "r0"})
	if got := h.checkTopics(key, []string{addr}, []string{"42"}); got[addr].topics() != "42" {
		t.Fatalf("an older resubscribe lifted it: %+v", got)
	}
	send(map[string]any{"email": "grace@example.com", "timestamp": now.Add(time.Second).Unix(), "event": "group_resubscribe", "asm_group_id": 42, "sg_event_id": "r1"})
	if got := h.checkTopics(key, []string{addr}, []string{"42"}); len(got) != 0 {
		t.Fatalf("after the resubscribe: %+v", got)
	}
	hist := h.history(key, addr).History
	if last := hist[len(hist)-1]; last.Action != mailtrail.ActionLifted || last.Topic != "42" || last.Actor != "webhook:sendgrid" {
		t.Fatalf("resubscribe audit: %+v", hist)
	}
	// An unsubscribe older than that resubscribe, arriving late, does not suppress again;
	// a newer group_unsubscribe does, for its group only.
	send(map[string]any{"email": "grace@example.com", "timestamp": now.Add(-time.Minute).Unix(), "event": "group_unsubscribe", "asm_group_id": 42, "sg_event_id": "u0"})
	if got := h.checkTopics(key, []string{addr}, []string{"42"}); len(got) != 0 {
		t.Fatalf("a late older unsubscribe: %+v", got)
	}
	send(map[string]any{"email": "grace@example.com", "timestamp": now.Add(2 * time.Second).Unix(), "event": "group_unsubscribe", "asm_group_id": 43, "sg_event_id": "u1"})
	if got := h.checkTopics(key, []string{addr}, []string{"42", "43"}); got[addr].topics() != "43" {
		t.Fatalf("group_unsubscribe 43: %+v", got)
	}
	if got := h.checkReasons(key, addr); len(got) != 0 {
		t.Fatalf("a group unsubscribe is not organization-wide: %v", got)
	}

	// Postmark: an unsubscribe on the broadcast stream, then the stream reactivated.
	iso := func(d time.Duration) string { return now.Add(d).UTC().Format(time.RFC3339) }
	h.hookOK(pm.WebhookURL, mustJSON(map[string]any{"RecordType": "SubscriptionChange", "MessageID": "pm-1", "MessageStream": "broadcast",
		"ChangedAt": iso(3 * time.Second), "Recipient": "grace@example.com", "Origin": "Recipient", "SuppressSending": true, "SuppressionReason": "ManualSuppression"}), basic("pm", "pm-pass"))
	if got := h.checkTopics(key, []string{addr}, []string{"broadcast"}); got[addr].topics() != "broadcast" {
		t.Fatalf("postmark stream unsubscribe: %+v", got)
	}
	h.hookOK(pm.WebhookURL, mustJSON(map[string]any{"RecordType": "SubscriptionChange", "MessageID": "pm-1", "MessageStream": "broadcast",
		"ChangedAt": iso(4 * time.Second), "Recipient": "grace@example.com", "Origin": "Customer", "SuppressSending": false}), basic("pm", "pm-pass"))
	if got := h.checkTopics(key, []string{addr}, []string{"broadcast"}); len(got) != 0 {
		t.Fatalf("postmark reactivation: %+v", got)
	}

	// A hard bounce is organization-wide: it wins for every topic, and no resubscribe
	// lifts it.
	send(map[string]any{"email": "grace@example.com", "timestamp": now.Add(5 * time.Second).Unix(), "event": "bounce", "type": "bounce", "status": "5.1.1",
		"sg_event_id": "b1", "mt_message_id": m.MessageID})
	send(map[string]any{"email": "grace@example.com", "timestamp": now.Add(6 * time.Second).Unix(), "event": "group_resubscribe", "asm_group_id": 43, "sg_event_id": "r2"})
	got := h.checkTopics(key, []string{addr}, []string{"42", "43"})
	if c := got[addr]; c.topics() != "42,43" || c.Topic != "" || c.Reason != mailtrail.ReasonHardBounce {
		t.Fatalf("hard bounce: %+v", got)
	}
	if got := h.checkReasons(key, addr); got[addr] != mailtrail.ReasonHardBounce {
		t.Fatalf("hard bounce without topics: %v", got)
	}
}

// The dashboard shows each suppression's scope and removes a scoped one by its topic.
func TestDashboardTopicScope(t *testing.T) {
	h := newHarness(t)
	_, key := h.org("acme")
	h.postEvents(key, map[string]any{"event_type": "unsubscribed", "campaign_id": "weekly", "customer_id": "s1", "customer_email": "scoped@example.com",
		"occurred_at": supBase.Format(time.RFC3339), "metadata": map[string]any{"topic": "newsletter"}})
	h.do("POST", "/api/v1/suppressions", key, map[string]any{"email": "all@example.com"}, nil)
	b := h.browser()
	tok := b.signIn(key)
	_, page := b.get("/dashboard/suppressions")
	if !strings.Contains(page, "<th>Scope</th>") || !strings.Contains(page, `data-label="Scope">newsletter</td>`) || !strings.Contains(page, `<span class="muted">all emails</span>`) {
		t.Fatalf("scope column:\n%s", page)
	}
	resp, _ := b.post("/dashboard/suppressions/remove", url.Values{"csrf": {tok}, "email": {"scoped@example.com"}, "topic": {"newsletter"}, "why": {"asked"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove scoped: %d", resp.StatusCode)
	}
	if got := h.checkTopics(key, []string{"scoped@example.com", "all@example.com"}, []string{"newsletter"}); len(got) != 1 || got["all@example.com"].topics() != "newsletter" {
		t.Fatalf("after removing the scoped one: %+v", got)
	}
}
