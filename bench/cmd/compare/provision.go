package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// benchHTML is the email instrumented for the benchmark: two tracked links.
const benchHTML = `<html><body><a href="https://example.com/a">a</a><a href="https://example.com/b">b</a></body></html>`

// maxRecipients is the most recipients mailtrail instruments per call.
const maxRecipients = 1000

// trackingPaths are the URL paths of the tracking links loaded by the
// benchmark; both servers get the same paths.
type trackingPaths struct {
	opens  []string
	clicks []string
}

// apiClient calls mailtrail's admin and API routes.
type apiClient struct {
	base   string
	client *http.Client
}

// call sends body as JSON with a bearer token and decodes the answer into
// out. It returns an error, with the start of the body, for any status other
// than want.
func (c *apiClient) call(ctx context.Context, path, token string, want int, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.client.Do(req)
	if err != nil {
		return fmt.Errorf("POST %s: %w", path, err)
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("POST %s: %w", path, err)
	}
	if resp.StatusCode != want {
		return fmt.Errorf("POST %s: status %d, want %d: %.300s", path, resp.StatusCode, want, rb)
	}
	if err := json.Unmarshal(rb, out); err != nil {
		return fmt.Errorf("POST %s: decode answer: %w", path, err)
	}
	return nil
}

// provisionMailtrail creates an organization with the admin token and
// instruments n messages of one campaign. It returns the organization's API
// key and the paths of the messages' open and click URLs.
func provisionMailtrail(ctx context.Context, base, adminToken string, n int) (string, trackingPaths, error) {
	c := &apiClient{base: base, client: &http.Client{Timeout: 2 * time.Minute}}
	var org struct {
		ID     string `json:"id"`
		APIKey string `json:"api_key"`
	}
	err := c.call(ctx, "/api/v1/admin/organizations", adminToken, http.StatusCreated,
		map[string]string{"name": "bench", "timezone": "UTC"}, &org)
	if err != nil {
		return "", trackingPaths{}, fmt.Errorf("create organization: %w", err)
	}
	if org.APIKey == "" {
		return "", trackingPaths{}, fmt.Errorf("create organization: answer has no api_key")
	}

	type recipient struct {
		CustomerID    string `json:"customer_id"`
		CustomerEmail string `json:"customer_email"`
	}
	var paths trackingPaths
	for first := 0; first < n; first += maxRecipients {
		recipients := make([]recipient, 0, min(maxRecipients, n-first))
		for i := first; i < first+cap(recipients); i++ {
			recipients = append(recipients, recipient{
				CustomerID:    fmt.Sprintf("c%d", i+1),
				CustomerEmail: fmt.Sprintf("c%d@example.com", i+1),
			})
		}
		var out struct {
			Messages []struct {
				Tracking struct {
					OpenURL   string   `json:"open_url"`
					ClickURLs []string `json:"click_urls"`
				} `json:"tracking"`
			} `json:"messages"`
		}
		err := c.call(ctx, "/api/v1/messages", org.APIKey, http.StatusOK, map[string]any{
			"campaign_id":  "bench-1",
			"html":         benchHTML,
			"track_opens":  true,
			"track_clicks": true,
			"recipients":   recipients,
		}, &out)
		if err != nil {
			return "", trackingPaths{}, fmt.Errorf("instrument messages: %w", err)
		}
		for _, m := range out.Messages {
			if err := paths.add(m.Tracking.OpenURL, m.Tracking.ClickURLs); err != nil {
				return "", trackingPaths{}, fmt.Errorf("instrument messages: %w", err)
			}
		}
	}
	if len(paths.opens) != n || len(paths.clicks) == 0 {
		return "", trackingPaths{}, fmt.Errorf("instrument messages: got %d open and %d click URLs for %d messages",
			len(paths.opens), len(paths.clicks), n)
	}
	return org.APIKey, paths, nil
}

// add records the paths of one message's tracking URLs.
func (p *trackingPaths) add(openURL string, clickURLs []string) error {
	u, err := url.Parse(openURL)
	if err != nil || u.Path == "" {
		return fmt.Errorf("bad open_url %q", openURL)
	}
	p.opens = append(p.opens, u.Path)
	for _, c := range clickURLs {
		u, err := url.Parse(c)
		if err != nil || u.Path == "" {
			return fmt.Errorf("bad click URL %q", c)
		}
		p.clicks = append(p.clicks, u.Path)
	}
	return nil
}

// syntheticPaths returns n open and 2n click paths with random ids of a
// token's length, for the dry run where no mailtrail hands out tokens.
func syntheticPaths(n int) trackingPaths {
	var p trackingPaths
	for range n {
		p.opens = append(p.opens, "/api/track/open/"+randomID())
		p.clicks = append(p.clicks, "/api/track/click/"+randomID(), "/api/track/click/"+randomID())
	}
	return p
}

// randomID returns 32 URL-safe random characters.
func randomID() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
