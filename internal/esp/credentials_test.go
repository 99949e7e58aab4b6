package esp

import (
	"context"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
)

// allVendors returns every vendor the binary registers.
func allVendors() Registry {
	r := Registry{}
	RegisterA(r)
	RegisterB(r, &recordingFetcherB{})
	return r
}

// Every registered vendor has credential rules, and the rules name no other vendor.
func TestCredentialNeedsCoverVendors(t *testing.T) {
	r := allVendors()
	var registered, ruled []string
	for name := range r {
		registered = append(registered, name)
	}
	for name := range credentialNeeds {
		ruled = append(ruled, name)
	}
	sort.Strings(registered)
	sort.Strings(ruled)
	if strings.Join(registered, ",") != strings.Join(ruled, ",") {
		t.Fatalf("vendors %v, credential rules for %v", registered, ruled)
	}
}

// TestCredentialNeeds holds the table against each Verify for the credentials that travel
// in headers: with only basic auth, only a bearer token or (for the vendors that take it)
// only the shared-secret header, and the request carrying it, Verify succeeds exactly
// when CheckCredentials accepts.
func TestCredentialNeeds(t *testing.T) {
	secretHeader := map[string]bool{"sparkpost": true, "smtpcom": true, "postmark": true, "ocimail": true, "smtp": true}
	kinds := []struct {
		name   string
		creds  Credentials
		header http.Header
	}{
		{"basic", Credentials{Username: "hook", Password: "s3cret-pass"}, http.Header{"Authorization": {hookBasic("hook", "s3cret-pass")}}},
		{"bearer", Credentials{BearerToken: "tok-123"}, http.Header{"Authorization": {"Bearer tok-123"}}},
		{"secret header", Credentials{SigningKey: "shared-secret"}, http.Header{HeaderWebhookSecret: {"shared-secret"}}},
	}
	for name, v := range allVendors() {
		for _, k := range kinds {
			if k.name == "secret header" && !secretHeader[name] {
				continue // the signing key of the others is a signature key, tested below
			}
			t.Run(name+"/"+k.name, func(t *testing.T) {
				err := v.Verify(context.Background(), &Request{Header: k.header, Body: []byte(`{}`), Now: time.Now()}, k.creds)
				check := CheckCredentials(name, k.creds, nil)
				if (err == nil) != (check == nil) {
					t.Fatalf("Verify: %v; CheckCredentials: %v", err, check)
				}
			})
		}
	}
}

func TestCheckCredentials(t *testing.T) {
	sgKey := sendgridNewKey(t).pub
	const topic = "arn:aws:sns:eu-west-1:123456789012:ses-events"
	for _, c := range []struct {
		vendor string
		creds  Credentials
		want   string // "" = accepted; else in the message
	}{
		{"sendgrid", Credentials{SigningKey: sgKey}, ""},
		{"sendgrid", Credentials{BearerToken: "tok"}, ""},
		{"sendgrid", Credentials{Username: "u", Password: "p"}, "sendgrid connection needs signing_key or bearer_token (signing_key is the Signed Event Webhook verification key)"},
		{"sendgrid", Credentials{SigningKey: "not-a-key-s3cret"}, "sendgrid connection: signing_key is not a P-256 public key in base64"},
		{"sendgrid", Credentials{SigningKey: "not-a-key-s3cret", BearerToken: "tok"}, "signing_key is not a P-256 public key"},
		{"mailgun", Credentials{SigningKey: "mg-key"}, ""},
		{"mailgun", Credentials{BearerToken: "tok"}, "mailgun connection needs signing_key"},
		{"generic", Credentials{SigningKey: "g"}, ""},
		{"generic", Credentials{Username: "u", Password: "p"}, "generic connection needs signing_key"},
		{"resend", Credentials{SigningKey: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, ""},
		{"resend", Credentials{SigningKey: "whsec_!!not base64 s3cret"}, "resend connection: signing_key is not a whsec_ secret"},
		{"resend", Credentials{BearerToken: "tok"}, "resend connection needs signing_key"},
		{"ses", Credentials{TopicARN: topic}, ""},
		{"ses", Credentials{TopicARN: topic, Username: "u", Password: "p"}, ""},
		{"ses", Credentials{TopicARN: topic, Username: "u"}, "ses connection: username and password go together"},
		{"ses", Credentials{SigningKey: "k", Username: "u", Password: "p"}, "ses connection needs topic_arn"},
		{"ses", Credentials{TopicARN: topic + ":0b5c5d3c-6a53-4a5e-9d3e-1f2a3b4c5d6e"}, "ses connection: topic_arn is not an SNS topic ARN"},
		{"ses", Credentials{TopicARN: "ses-events"}, "topic_arn is not an SNS topic ARN"},
		{"sparkpost", Credentials{Username: "u", Password: "p"}, ""},
		{"sparkpost", Credentials{BearerToken: "t"}, ""},
		{"sparkpost", Credentials{SigningKey: "k"}, ""},
		{"sparkpost", Credentials{TopicARN: topic}, "sparkpost connection needs username and password, bearer_token or signing_key"},
		{"sparkpost", Credentials{Username: "u", BearerToken: "t"}, "username and password go together"},
		{"smtpcom", Credentials{SigningKey: "k"}, ""},
		{"smtpcom", Credentials{Password: "p"}, "smtpcom connection: username and password go together"},
		{"postmark", Credentials{Username: "u", Password: "p"}, ""},
		{"postmark", Credentials{}, "postmark connection needs username and password, bearer_token or signing_key"},
		{"ocimail", Credentials{Username: "u", Password: "p"}, ""},
		{"ocimail", Credentials{BearerToken: "t"}, ""},
		{"ocimail", Credentials{SigningKey: "k"}, "ocimail connection needs username and password or bearer_token"},
		{"smtp", Credentials{BearerToken: "t"}, ""},
		{"smtp", Credentials{SigningKey: "k"}, "smtp connection needs username and password or bearer_token"},
		{"hotmail", Credentials{SigningKey: "k"}, `vendor "hotmail" has no credential rules`},
	} {
		err := CheckCredentials(c.vendor, c.creds, nil)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s %+v: refused: %v", c.vendor, c.creds, err)
		case c.want != "" && (mailtrail.ErrorCode(err) != mailtrail.EINVALID || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s %+v: %v, want EINVALID saying %q", c.vendor, c.creds, err, c.want)
		case err != nil && strings.Contains(err.Error(), "s3cret"):
			t.Errorf("%s: the error quotes a credential: %v", c.vendor, err)
		}
	}
}

// The CLI spells the fields as its flags.
func TestCheckCredentialsNames(t *testing.T) {
	flag := func(f CredentialField) string { return "--" + strings.ReplaceAll(string(f), "_", "-") }
	err := CheckCredentials("sendgrid", Credentials{Username: "u", Password: "p"}, flag)
	if want := "sendgrid connection needs --signing-key or --bearer-token (--signing-key is the Signed Event Webhook verification key)"; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("%v, want %q", err, want)
	}
}
