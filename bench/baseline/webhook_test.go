package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/bench/journal"
)

// The SendGrid route verifies the signature like mailtrail and journals each event.
func TestSendGridWebhook(t *testing.T) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	key, err := parseSendGridKey(base64.StdEncoding.EncodeToString(der))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "events.log")
	j, err := journal.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	srv := httptest.NewServer((&server{journal: j, log: slog.New(slog.DiscardHandler), sendgridKey: key}).routes())
	defer srv.Close()
	body := `[{"email":"a@example.com","timestamp":1700000000,"event":"delivered","sg_event_id":"e1"},{"email":"b@example.com","timestamp":1700000001,"event":"bounce","sg_event_id":"e2","type":"bounce","status":"5.1.1"}]`
	post := func(body string, at time.Time, tamper bool) int {
		ts := strconv.FormatInt(at.Unix(), 10)
		sum := sha256.Sum256([]byte(ts + body))
		sig, _ := ecdsa.SignASN1(rand.Reader, priv, sum[:])
		if tamper {
			body = strings.Replace(body, "a@", "c@", 1)
		}
		req, _ := http.NewRequest("POST", srv.URL+"/webhooks/v2/sendgrid/conn_x", strings.NewReader(body))
		req.Header.Set("X-Twilio-Email-Event-Webhook-Signature", base64.StdEncoding.EncodeToString(sig))
		req.Header.Set("X-Twilio-Email-Event-Webhook-Timestamp", ts)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if c := post(body, time.Now(), true); c != 401 {
		t.Fatalf("tampered: %d", c)
	}
	if c := post(body, time.Now().Add(-6*time.Minute), false); c != 401 {
		t.Fatalf("old: %d", c)
	}
	if c := post(body, time.Now(), false); c != 200 {
		t.Fatalf("valid: %d", c)
	}
	b, _ := os.ReadFile(path)
	if n := strings.Count(string(b), "\n"); n != 2 || !strings.HasPrefix(string(b), "sendgrid\t\"delivered\"\t\"e1\"") {
		t.Fatalf("journal:\n%s", b)
	}
}
