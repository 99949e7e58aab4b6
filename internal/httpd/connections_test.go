package httpd

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/mailtrail/mailtrail"
)

// sendgridPublicKey returns a fresh SendGrid verification key: a base64 DER P-256 public key.
func sendgridPublicKey(t *testing.T) string {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(der)
}

const testTopicARN = "arn:aws:sns:eu-west-1:123456789012:ses-events"

// post sends an API request with the organization's key; it returns the status and the
// error answer, if any.
func (h *hookServer) post(path string, body map[string]any) (int, *mailtrail.Error) {
	h.t.Helper()
	rec := h.do("POST", path, http.Header{"Authorization": {"Bearer " + h.key}}, body)
	if rec.Code/100 == 2 {
		return rec.Code, nil
	}
	var e errorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error == nil {
		h.t.Fatalf("POST %s: %d %s: not an error answer", path, rec.Code, rec.Body)
	}
	return rec.Code, e.Error
}

// TestConnectionCredentialsPerVendor: a connection is created only with credentials its
// vendor's webhooks can be verified with; the refusal names the fields that vendor needs.
func TestConnectionCredentialsPerVendor(t *testing.T) {
	h := newHookServer(t)
	sg := sendgridPublicKey(t)
	basic := map[string]any{"username": "hook", "password": "hook-pass"}
	for _, c := range []struct {
		vendor  string
		without map[string]any // credentials the vendor cannot verify with
		need    string         // what the refusal names
		with    map[string]any
	}{
		{"sendgrid", basic, "signing_key or bearer_token", map[string]any{"signing_key": sg}},
		{"sendgrid", map[string]any{"topic_arn": testTopicARN}, "signing_key or bearer_token", map[string]any{"bearer_token": "sg-oauth"}},
		{"sparkpost", map[string]any{"topic_arn": testTopicARN}, "username and password, bearer_token or signing_key", basic},
		{"smtpcom", map[string]any{"topic_arn": testTopicARN}, "signing_key, username and password or bearer_token", map[string]any{"signing_key": "shared"}},
		{"postmark", map[string]any{}, "username and password, bearer_token or signing_key", map[string]any{"bearer_token": "pm-token"}},
		{"ocimail", map[string]any{"signing_key": "k"}, "username and password or bearer_token", basic},
		{"smtp", map[string]any{"signing_key": "k"}, "username and password or bearer_token", map[string]any{"bearer_token": "pipe-token"}},
		{"mailgun", map[string]any{"bearer_token": "t"}, "signing_key", map[string]any{"signing_key": "mg-key"}},
		{"resend", basic, "signing_key", map[string]any{"signing_key": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}},
		{"generic", map[string]any{"bearer_token": "t"}, "signing_key", map[string]any{"signing_key": "gen-key"}},
		{"ses", basic, "topic_arn", map[string]any{"topic_arn": testTopicARN}},
	} {
		t.Run(c.vendor, func(t *testing.T) {
			h.t = t
			body := map[string]any{"vendor": c.vendor, "name": c.vendor}
			for k, v := range c.without {
				body[k] = v
			}
			code, e := h.post("/api/v1/connections", body)
			if code != 400 || e.Code != mailtrail.EINVALID || !strings.Contains(e.Message, c.vendor+" connection needs "+c.need) {
				t.Errorf("without: %d %+v, want 400 naming %s", code, e, c.need)
			}
			body = map[string]any{"vendor": c.vendor, "name": c.vendor}
			for k, v := range c.with {
				body[k] = v
			}
			if code, e := h.post("/api/v1/connections", body); code != 201 {
				t.Errorf("with %v: %d %+v, want 201", c.with, code, e)
			}
		})
	}
}

// A credential in a form its vendor can never verify with, or half of a basic-auth pair,
// is refused with the field named and the value not quoted.
func TestConnectionCredentialsMalformed(t *testing.T) {
	h := newHookServer(t)
	for _, c := range []struct {
		body map[string]any
		want string
	}{
		{map[string]any{"vendor": "sendgrid", "signing_key": "my-s3cret-hmac-key"}, "sendgrid connection: signing_key is not a P-256 public key"},
		{map[string]any{"vendor": "resend", "signing_key": "whsec_my s3cret"}, "resend connection: signing_key is not a whsec_ secret"},
		{map[string]any{"vendor": "ses", "topic_arn": testTopicARN + ":s3cret-subscription-id"}, "ses connection: topic_arn is not an SNS topic ARN"},
		{map[string]any{"vendor": "ses", "topic_arn": testTopicARN, "username": "sns"}, "ses connection: username and password go together"},
		{map[string]any{"vendor": "postmark", "password": "s3cret-pass"}, "postmark connection: username and password go together"},
	} {
		c.body["name"] = "x"
		code, e := h.post("/api/v1/connections", c.body)
		if code != 400 || !strings.Contains(e.Message, c.want) {
			t.Errorf("%v: %d %+v, want 400 saying %q", c.body, code, e, c.want)
		}
		if e != nil && strings.Contains(e.Message, "s3cret") {
			t.Errorf("%v: the error quotes the credential: %q", c.body, e.Message)
		}
	}
}

// A connection fed by a bounce mailbox needs no webhook credentials; webhook credentials
// given with it must still suit the vendor.
func TestConnectionCredentialsMailbox(t *testing.T) {
	h := newHookServer(t)
	mailbox := func(vendor string, extra map[string]any) map[string]any {
		b := map[string]any{"vendor": vendor, "name": vendor + " bounces", "imap_url": "imaps://imap.example.com:993/INBOX",
			"imap_username": "bounces", "imap_password": "imap-pass"}
		for k, v := range extra {
			b[k] = v
		}
		return b
	}
	for _, vendor := range []string{"smtp", "ocimail"} {
		if code, e := h.post("/api/v1/connections", mailbox(vendor, nil)); code != 201 {
			t.Errorf("%s with a mailbox only: %d %+v", vendor, code, e)
		}
		if code, e := h.post("/api/v1/connections", mailbox(vendor, map[string]any{"signing_key": "k"})); code != 400 ||
			!strings.Contains(e.Message, "username and password or bearer_token") {
			t.Errorf("%s with a mailbox and a signing key: %d %+v, want 400", vendor, code, e)
		}
	}
	if code, e := h.post("/api/v1/connections", mailbox("smtp", map[string]any{"username": "u", "password": "p"})); code != 201 {
		t.Errorf("smtp with a mailbox and basic auth: %d %+v", code, e)
	}
}

// A rotation is held to the same rule, for the connection's vendor; a refused one changes
// nothing.
func TestConnectionRotateCredentials(t *testing.T) {
	h := newHookServer(t)
	var c struct {
		ID                 string  `json:"id"`
		PreviousValidUntil *string `json:"previous_valid_until"`
	}
	h.api("POST", "/api/v1/connections", map[string]any{"vendor": "sendgrid", "name": "sg", "signing_key": sendgridPublicKey(t)}, &c)
	path := "/api/v1/connections/" + c.ID + "/rotate"
	code, e := h.post(path, map[string]any{"username": "u", "password": "p"})
	if code != 400 || !strings.Contains(e.Message, "sendgrid connection needs signing_key or bearer_token") {
		t.Fatalf("rotate to basic auth: %d %+v, want 400", code, e)
	}
	if code, e := h.post(path, map[string]any{"signing_key": "k"}); code != 400 || !strings.Contains(e.Message, "signing_key is not a P-256 public key") {
		t.Fatalf("rotate to a malformed key: %d %+v, want 400", code, e)
	}
	h.api("GET", "/api/v1/connections/"+c.ID, nil, &c)
	if c.PreviousValidUntil != nil {
		t.Fatalf("a refused rotation rotated: previous_valid_until %s", *c.PreviousValidUntil)
	}
	h.api("POST", path, map[string]any{"signing_key": sendgridPublicKey(t)}, &c)
	if c.PreviousValidUntil == nil {
		t.Fatal("rotation with a new verification key: previous_valid_until not set")
	}
}
