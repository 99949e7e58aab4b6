package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/mailtrail/mailtrail/bench/load"
)

// webhookSizes are the SendGrid batch sizes of the webhook scenario.
var webhookSizes = []int{100, 1000}

// sgSigner signs SendGrid Signed Event Webhook requests.
type sgSigner struct {
	priv *ecdsa.PrivateKey
	pub  string // base64 DER, the connection's verification key
}

func newSGSigner() (*sgSigner, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		return nil, err
	}
	return &sgSigner{priv: priv, pub: base64.StdEncoding.EncodeToString(der)}, nil
}

// headers signs body now, as SendGrid does: ECDSA P-256 over timestamp + body.
func (s *sgSigner) headers(body []byte) http.Header {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	h := sha256.New()
	h.Write([]byte(ts))
	h.Write(body)
	sig, _ := ecdsa.SignASN1(rand.Reader, s.priv, h.Sum(nil))
	return http.Header{
		"Content-Type":                           {"application/json"},
		"X-Twilio-Email-Event-Webhook-Signature": {base64.StdEncoding.EncodeToString(sig)},
		"X-Twilio-Email-Event-Webhook-Timestamp": {ts},
	}
}

// sgMix is the share (in thousandths) of each SendGrid event kind in webhook batches.
var sgMix = []struct {
	event  string
	permil int
}{{"delivered", 600}, {"open", 250}, {"click", 100}, {"bounce", 30}, {"spamreport", 10}, {"unsubscribe", 10}}

// newSGBodies encodes count SendGrid batches of size events, for the recipients of the
// provisioned messages (c1…cN@example.com, attributed by address), with a placeholder
// sg_event_id stamped with a fresh counter on every use (as load.Bodies does).
func newSGBodies(size, count, recipients int, runID string) *load.Bodies {
	seed := uint64(size)
	placeholder := fmt.Sprintf("sg-%s-%0*d", runID, load.KeyDigits, 0)
	now := time.Now().Unix()
	b := load.NewBodies(size)
	for t := range count {
		buf := []byte{'['}
		offsets := make([]int, 0, size)
		for j := range size {
			if j > 0 {
				buf = append(buf, ',')
			}
			seed = seed*6364136223846793005 + 1442695040888963407
			c := int(seed>>33)%recipients + 1
			kind := drawSG(int(seed>>20) % 1000)
			ev := map[string]any{"email": "c" + strconv.Itoa(c) + "@example.com", "timestamp": now - int64((t*size+j)%3600),
				"event": kind, "sg_event_id": placeholder, "sg_message_id": "sgm" + strconv.Itoa(c) + ".filter0001",
				"smtp-id": "<sgm" + strconv.Itoa(c) + "@ismtpd0001>", "category": []string{"bench"}}
			switch kind {
			case "bounce":
				ev["type"], ev["status"], ev["reason"] = "bounce", "5.1.1", "550 5.1.1 user unknown"
			case "click":
				ev["url"] = "https://example.com/a"
				fallthrough
			case "open":
				ev["useragent"], ev["ip"] = userAgents[j%len(userAgents)], "192.0.2.1"
			}
			enc, _ := json.Marshal(ev)
			at := bytes.Index(enc, []byte(placeholder)) + len(placeholder) - load.KeyDigits
			offsets = append(offsets, len(buf)+at)
			buf = append(buf, enc...)
		}
		buf = append(buf, ']')
		b.Add(buf, offsets)
	}
	return b
}

// webhookNext returns the request source of the webhook scenario of batch size on t:
// a fresh body, signed when it is sent.
func (t *target) webhookNext(size int) func(uint64) load.Request {
	bodies := t.sgBodies[size]
	u := t.srv.base + t.webhookPath
	return func(uint64) load.Request {
		body := bodies()
		return load.Request{Method: http.MethodPost, URL: u, Header: t.signer.headers(body), Body: body, Events: size}
	}
}

// checkWebhook sends one signed batch of each size and returns an error unless every
// event is accepted.
func (t *target) checkWebhook(ctx context.Context) error {
	client := &http.Client{Timeout: time.Minute}
	for _, size := range webhookSizes {
		rq := t.webhookNext(size)(0)
		req, err := http.NewRequestWithContext(ctx, rq.Method, rq.URL, bytes.NewReader(rq.Body))
		if err != nil {
			return err
		}
		req.Header = rq.Header
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("%s: webhook: %w", t.name, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var out struct {
			Accepted int `json:"accepted"`
		}
		if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &out) != nil || out.Accepted != size {
			return fmt.Errorf("%s: webhook: got %d %.300s; want 200 with accepted %d", t.name, resp.StatusCode, b, size)
		}
	}
	return nil
}

// provisionSendGrid creates a sendgrid connection verified by pub and returns the path
// of its webhook URL.
func provisionSendGrid(ctx context.Context, base, apiKey, pub string) (string, error) {
	c := &apiClient{base: base, client: &http.Client{Timeout: time.Minute}}
	var conn struct {
		WebhookURL string `json:"webhook_url"`
	}
	if err := c.call(ctx, "/api/v1/connections", apiKey, http.StatusCreated,
		map[string]string{"vendor": "sendgrid", "name": "bench", "signing_key": pub}, &conn); err != nil {
		return "", fmt.Errorf("create sendgrid connection: %w", err)
	}
	u, err := url.Parse(conn.WebhookURL)
	if err != nil || u.Path == "" {
		return "", fmt.Errorf("create sendgrid connection: bad webhook_url %q", conn.WebhookURL)
	}
	return u.Path, nil
}

// drawSG returns the SendGrid event kind of n in [0, 1000) by sgMix.
func drawSG(n int) string {
	for _, m := range sgMix {
		if n < m.permil {
			return m.event
		}
		n -= m.permil
	}
	return sgMix[0].event
}
