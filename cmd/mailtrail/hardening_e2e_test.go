package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"testing"
	"time"
)

// The real binary at debug level, through a session of every kind of traffic (tracking
// with a forwarded client address, the API with good and bad input, webhooks with good and
// bad signatures, suppressions): its logs name no email address, no API key or admin
// token, no signing key, no tracking token and no full client IP.
func TestLogsHoldNoSecrets(t *testing.T) {
	bin := buildBinary(t)
	const admin = "admin-token-for-log-hygiene"
	d := startDaemon(t, bin, t.TempDir(), admin, "--log-level", "debug", "--client-ip-header", "X-Forwarded-For")
	ctx := context.Background()
	c := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	const (
		email      = "secret.person@example.org"
		clientIP   = "198.51.100.77"
		signingKey = "generic-signing-key-0123456789"
	)
	var org struct {
		APIKey string `json:"api_key"`
	}
	if _, err := doJSON(ctx, c, "POST", d.base+"/api/v1/admin/organizations", admin, map[string]string{"name": "acme", "timezone": "UTC"}, &org); err != nil {
		t.Fatal(err)
	}
	var m instrumented
	if _, err := doJSON(ctx, c, "POST", d.base+"/api/v1/messages", org.APIKey, map[string]any{"campaign_id": "c1", "customer_id": "u1",
		"customer_email": email, "html": emailHTML}, &m); err != nil {
		t.Fatal(err)
	}
	// Tracking URLs carry the daemon's public URL: send them to its address instead.
	local := func(u string) string {
		p, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		return d.base + p.Path
	}
	send := func(method, u string, hdr http.Header, body []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, u, bytes.NewReader(body))
		for k, v := range hdr {
			req.Header[k] = v
		}
		req.Header.Set("X-Forwarded-For", clientIP)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	ua := http.Header{"User-Agent": {desktopUA}}
	send("GET", local(m.Tracking.OpenURL), ua, nil)
	send("GET", local(m.Tracking.ClickURLs[0]), ua, nil)
	send("GET", local(m.Tracking.UnsubscribeURL), ua, nil)
	send("POST", local(m.Tracking.UnsubscribeURL), http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, []byte("List-Unsubscribe=One-Click"))
	send("GET", d.base+"/api/track/click/"+strings.Repeat("A", 40), ua, nil) // an invalid token
	api := func(key string) http.Header {
		return http.Header{"Authorization": {"Bearer " + key}, "Content-Type": {"application/json"}}
	}
	send("POST", d.base+"/api/v1/events", api(org.APIKey), []byte(`{"events":[{"event_type":"nope","customer_email":"`+email+`"}]}`))
	send("POST", d.base+"/api/v1/events", api(org.APIKey+"x"), []byte(`{"events":[]}`))
	send("POST", d.base+"/api/v1/suppressions", api(org.APIKey), []byte(`{"suppressions":[{"email":"`+email+`"}]}`))
	var conn connOut
	if _, err := doJSON(ctx, c, "POST", d.base+"/api/v1/connections", org.APIKey, map[string]any{"vendor": "generic", "name": "g", "signing_key": signingKey}, &conn); err != nil {
		t.Fatal(err)
	}
	hook := mustJSON(map[string]any{"events": []map[string]any{{"event_id": "e1", "event_type": "bounced", "bounce_type": "hard",
		"occurred_at": time.Now().UTC().Format(time.RFC3339), "customer_email": email, "message_id": m.MessageID}}})
	webhook := d.base + "/webhooks/v2/generic/" + conn.ID
	send("POST", webhook, genericHeaders("wrong-key", time.Now(), hook), hook)
	send("POST", webhook, genericHeaders(signingKey, time.Now(), hook), hook)
	send("POST", webhook, genericHeaders(signingKey, time.Now(), hook), []byte(`{"events":[{"customer_email":"`+email+`"`))
	if err := d.stop(20 * time.Second); err != nil {
		t.Fatalf("stop: %v", err)
	}

	logs := d.logs.tail(1 << 30)
	t.Logf("%d log lines", strings.Count(logs, "\n"))
	if !strings.Contains(logs, `"level":"DEBUG"`) && !strings.Contains(logs, "level=DEBUG") {
		t.Fatalf("no debug lines: the test would prove nothing\n%s", logs)
	}
	secrets := map[string]string{"email address": email, "email local part": "secret.person", "API key": org.APIKey,
		"admin token": admin, "signing key": signingKey, "client IP": clientIP}
	for _, u := range []string{m.Tracking.OpenURL, m.Tracking.ClickURLs[0], m.Tracking.UnsubscribeURL} {
		secrets["tracking token "+u] = path.Base(u)
	}
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		for what, s := range secrets {
			if strings.Contains(sc.Text(), s) {
				t.Errorf("a log line holds the %s: %s", what, sc.Text())
			}
		}
	}
}

// Oversized request headers get 431; a client that never finishes its headers is
// disconnected (the server's header timeout), not kept forever.
func TestHeaderLimits(t *testing.T) {
	bin := buildBinary(t)
	d := startDaemon(t, bin, t.TempDir(), "admin-token-for-header-limits")
	req, _ := http.NewRequest("GET", d.base+"/api/track/open/x", nil)
	req.Header.Set("X-Big", strings.Repeat("a", 64<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("64 KiB of headers: %d", resp.StatusCode)
	}
	conn, err := net.Dial("tcp", strings.TrimPrefix(d.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET /api/track/open/x HTTP/1.1\r\nHost: a\r\nX-Slow: 1\r\n")); err != nil {
		t.Fatal(err)
	}
	// The header timeout is 5 s; the deadline only keeps a broken server from hanging the test.
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	_, err = io.ReadAll(conn)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("the server kept a connection with unfinished headers for 30 s")
	}
}
