package esp

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
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
)

// SendGrid's published test vector (the eventwebhook tests of sendgrid-go,
// @sendgrid/eventwebhook, sendgrid-python, …).
const (
	sendgridVectorKey       = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEDr2LjtURuePQzplybdC+u4CwrqDqBaWjcMMsTbhdbcwHBcepxo7yAQGhHPTnlvFYPAZFceEu/1FwCM/QmGUhA=="
	sendgridVectorOtherKey  = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqTxd43gyp8IOEto2LdIfjRQrIbsd4SXZkLW6jDutdhXSJCWHw8REntlo7aNDthvj+y7GjUuFDb/R1NGe1OPzpA=="
	sendgridVectorSignature = "MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH2j/0="
	sendgridVectorTimestamp = "1588788367"
	sendgridVectorPayload   = `{"category":"example_payload","event":"test_event","message_id":"message_id"}`
)

// sendgridKey is a test key pair: the private key and the base64 DER public key.
type sendgridKey struct {
	priv *ecdsa.PrivateKey
	pub  string
}

func sendgridNewKey(t testing.TB) sendgridKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return sendgridKey{priv: priv, pub: base64.StdEncoding.EncodeToString(der)}
}

// sign returns SendGrid's signature header value for ts and body.
func (k sendgridKey) sign(t testing.TB, ts string, body []byte) string {
	t.Helper()
	h := sha256.Sum256(append([]byte(ts), body...))
	sig, err := ecdsa.SignASN1(rand.Reader, k.priv, h[:])
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

// sendgridRequest returns a request signed by k at time at, arriving at now.
func sendgridRequest(t testing.TB, k sendgridKey, body []byte, at, now time.Time) *Request {
	ts := strconv.FormatInt(at.Unix(), 10)
	h := http.Header{}
	h.Set(sendgridSignatureHeader, k.sign(t, ts, body))
	h.Set(sendgridTimestampHeader, ts)
	return &Request{Header: h, Body: body, Now: now}
}

func TestSendGridVerify(t *testing.T) {
	v := NewSendGrid()
	key, other := sendgridNewKey(t), sendgridNewKey(t)
	body := hookTestdata(t, "sendgrid", "batch.json")
	now := time.Unix(1717001000, 0)
	creds := Credentials{SigningKey: key.pub}

	var reserialised []byte
	{
		var doc any
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatal(err)
		}
		reserialised, _ = json.Marshal(doc)
		if bytes.Equal(reserialised, body) {
			t.Fatal("re-serialised body has the same bytes")
		}
	}

	cases := []struct {
		name  string
		req   func() *Request
		creds Credentials
		ok    bool
	}{
		{"valid", func() *Request { return sendgridRequest(t, key, body, now, now) }, creds, true},
		{"one body byte changed", func() *Request {
			r := sendgridRequest(t, key, body, now, now)
			r.Body = bytes.Replace(body, []byte("bob@"), []byte("bOb@"), 1)
			return r
		}, creds, false},
		{"timestamp changed", func() *Request {
			r := sendgridRequest(t, key, body, now, now)
			r.Header.Set(sendgridTimestampHeader, strconv.FormatInt(now.Unix()+1, 10))
			return r
		}, creds, false},
		{"signed by another key", func() *Request { return sendgridRequest(t, other, body, now, now) }, creds, false},
		{"signature header missing", func() *Request {
			r := sendgridRequest(t, key, body, now, now)
			r.Header.Del(sendgridSignatureHeader)
			return r
		}, creds, false},
		{"timestamp header missing", func() *Request {
			r := sendgridRequest(t, key, body, now, now)
			r.Header.Del(sendgridTimestampHeader)
			return r
		}, creds, false},
		{"signature not DER", func() *Request {
			r := sendgridRequest(t, key, body, now, now)
			r.Header.Set(sendgridSignatureHeader, base64.StdEncoding.EncodeToString([]byte("not a signature")))
			return r
		}, creds, false},
		{"re-serialised JSON", func() *Request {
			r := sendgridRequest(t, key, body, now, now)
			r.Body = reserialised
			return r
		}, creds, false},
		// SendGrid retries for 24 h and documents no re-signing: accepted up to the horizon.
		{"signed 301s in the past", func() *Request { return sendgridRequest(t, key, body, now.Add(-301*time.Second), now) }, creds, true},
		{"signed 3h in the past", func() *Request { return sendgridRequest(t, key, body, now.Add(-3*time.Hour), now) }, creds, true},
		{"signed beyond the retry horizon", func() *Request {
			return sendgridRequest(t, key, body, now.Add(-SendGridHorizon-time.Second), now)
		}, creds, false},
		{"signed 301s in the future", func() *Request { return sendgridRequest(t, key, body, now.Add(301*time.Second), now) }, creds, false},
		{"signed 299s in the past", func() *Request { return sendgridRequest(t, key, body, now.Add(-299*time.Second), now) }, creds, true},
		{"rotation: previous key accepted", func() *Request { return sendgridRequest(t, key, body, now, now) },
			Credentials{SigningKey: other.pub, Previous: &Credentials{SigningKey: key.pub}}, true},
		{"rotation: random key refused", func() *Request { return sendgridRequest(t, sendgridNewKey(t), body, now, now) },
			Credentials{SigningKey: other.pub, Previous: &Credentials{SigningKey: key.pub}}, false},
		{"no credentials", func() *Request { return sendgridRequest(t, key, body, now, now) }, Credentials{}, false},
		{"key not a key", func() *Request { return sendgridRequest(t, key, body, now, now) }, Credentials{SigningKey: "bm9wZQ=="}, false},
		{"bearer required and sent", func() *Request {
			r := sendgridRequest(t, key, body, now, now)
			r.Header.Set("Authorization", "Bearer tok-1")
			return r
		}, Credentials{SigningKey: key.pub, BearerToken: "tok-1"}, true},
		{"bearer required, wrong", func() *Request {
			r := sendgridRequest(t, key, body, now, now)
			r.Header.Set("Authorization", "Bearer tok-2")
			return r
		}, Credentials{SigningKey: key.pub, BearerToken: "tok-1"}, false},
		{"bearer required, missing", func() *Request { return sendgridRequest(t, key, body, now, now) },
			Credentials{SigningKey: key.pub, BearerToken: "tok-1"}, false},
		{"bearer only connection", func() *Request {
			h := http.Header{"Authorization": {"Bearer tok-1"}}
			return &Request{Header: h, Body: body, Now: now}
		}, Credentials{BearerToken: "tok-1"}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := v.Verify(context.Background(), c.req(), c.creds)
			if c.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !c.ok {
				hookWantCode(t, err, mailtrail.EUNAUTHORIZED)
			}
		})
	}
}

func TestSendGridPublishedVector(t *testing.T) {
	v := NewSendGrid()
	sec, _ := strconv.ParseInt(sendgridVectorTimestamp, 10, 64)
	req := func(ts, payload string) *Request {
		h := http.Header{}
		h.Set(sendgridSignatureHeader, sendgridVectorSignature)
		h.Set(sendgridTimestampHeader, ts)
		return &Request{Header: h, Body: []byte(payload), Now: time.Unix(sec+30, 0)}
	}
	ctx := context.Background()
	if err := v.Verify(ctx, req(sendgridVectorTimestamp, sendgridVectorPayload), Credentials{SigningKey: sendgridVectorKey}); err != nil {
		t.Fatalf("published vector refused: %v", err)
	}
	hookWantCode(t, v.Verify(ctx, req(sendgridVectorTimestamp, sendgridVectorPayload), Credentials{SigningKey: sendgridVectorOtherKey}), mailtrail.EUNAUTHORIZED)
	hookWantCode(t, v.Verify(ctx, req("1588788368", sendgridVectorPayload), Credentials{SigningKey: sendgridVectorKey}), mailtrail.EUNAUTHORIZED)
	hookWantCode(t, v.Verify(ctx, req(sendgridVectorTimestamp, sendgridVectorPayload+" "), Credentials{SigningKey: sendgridVectorKey}), mailtrail.EUNAUTHORIZED)
	r := req(sendgridVectorTimestamp, sendgridVectorPayload)
	r.Now = time.Unix(sec, 0).Add(SendGridHorizon + time.Second) // a replay beyond the retry horizon
	hookWantCode(t, v.Verify(ctx, r, Credentials{SigningKey: sendgridVectorKey}), mailtrail.EUNAUTHORIZED)
}

func TestSendGridParse(t *testing.T) {
	res, err := NewSendGrid().Parse(context.Background(), &Request{Body: hookTestdata(t, "sendgrid", "batch.json")})
	if err != nil {
		t.Fatal(err)
	}
	const annESP = "14c5d75ce93.dfd.64b469"
	hookCheck(t, "sendgrid", res.Events, []hookWant{
		{Type: mailtrail.EventDelivered, At: hookUnixT(1717000001, 0), MessageID: "msg_ann", CampaignID: "c_123", CustomerID: "u_42",
			Email: "ann@example.com", ESP: annESP, Dedupe: "sendgrid:ZGVsaXZlcmVkLTAtMTIz", SMTPCode: "250"},
		{Type: mailtrail.EventBounced, At: hookUnixT(1717000050, 0), Bounce: mailtrail.BounceHard, MessageID: "msg_bob", CampaignID: "c_123", CustomerID: "u_43",
			Email: "bob@example.com", ESP: "9xYz", Dedupe: "sendgrid:Ym91bmNlLTEtNDU2", SMTPCode: "5.1.1", Raw: true},
		{Type: mailtrail.EventBounced, At: hookUnixT(1717000060, 0), Bounce: mailtrail.BounceSoft, MessageID: "msg_dan", CampaignID: "c_123", CustomerID: "u_45",
			Email: "dan@example.com", ESP: "LtZ5H_GzSbqnQyiVX4Ku3A", Dedupe: "sendgrid:YmxvY2tlZC0x", SMTPCode: "4.7.1", Raw: true},
		// deferred: SendGrid keeps retrying; a deferred notice, not a bounce.
		{Type: mailtrail.EventDeferred, At: hookUnixT(1717000055, 0), Email: "dan@example.com", ESP: "LtZ5H_GzSbqnQyiVX4Ku3A",
			Dedupe: "sendgrid:ZGVmZXJyZWQtMQ", SMTPCode: "400", Raw: true},
		{Type: mailtrail.EventOpened, At: hookUnixT(1717000300, 0), MessageID: "msg_ann", CampaignID: "c_123", CustomerID: "u_42",
			Email: "ann@example.com", ESP: annESP, Dedupe: "sendgrid:b3Blbi0y", Machine: true},
		{Type: mailtrail.EventOpened, At: hookUnixT(1717000350, 0), MessageID: "msg_ann", CampaignID: "c_123", CustomerID: "u_42",
			Email: "ann@example.com", ESP: annESP, Dedupe: "sendgrid:b3Blbi0z"},
		{Type: mailtrail.EventClicked, At: hookUnixT(1717000400, 0), MessageID: "msg_ann", CampaignID: "c_123", CustomerID: "u_42",
			Email: "ann@example.com", ESP: annESP, Dedupe: "sendgrid:Y2xpY2stMw", URL: "https://example.com/sale"},
		{Type: mailtrail.EventComplained, At: hookUnixT(1717000500, 0), MessageID: "msg_cy", CampaignID: "c_123", CustomerID: "u_44",
			Email: "cy@example.com", ESP: "q1", Dedupe: "sendgrid:c3BhbS00", FeedbackType: "abuse", Raw: true},
		{Type: mailtrail.EventUnsubscribed, At: hookUnixT(1717000600, 0), MessageID: "msg_cy", CampaignID: "c_123", CustomerID: "u_44",
			Email: "cy@example.com", ESP: "q1", Dedupe: "sendgrid:dW5zdWItNQ"},
		{Type: mailtrail.EventUnsubscribed, At: hookUnixT(1717000650, 0), MessageID: "msg_cy", CampaignID: "c_123", CustomerID: "u_44",
			Email: "cy@example.com", ESP: "q1", Dedupe: "sendgrid:Z3Vuc3ViLTY"},
	})
	// group_unsubscribe is scoped to its unsubscribe group; group_resubscribe rejoins it.
	if n := len(res.Events); res.Events[n-2].Metadata.Topic != "" || res.Events[n-1].Metadata.Topic != "42" {
		t.Errorf("unsubscribe topics %q, %q; want none and 42", res.Events[n-2].Metadata.Topic, res.Events[n-1].Metadata.Topic)
	}
	if rs := res.Resubscribes; len(rs) != 1 || rs[0] != (mailtrail.Resubscribe{Email: "cy@example.com", Topic: "42", At: hookUnixT(1717000700, 0)}) {
		t.Errorf("resubscribes %+v", rs)
	}
	want := map[string]int{"processed": 1, "dropped": 1}
	if len(res.Ignored) != len(want) {
		t.Fatalf("ignored %v", res.Ignored)
	}
	for k, n := range want {
		if res.Ignored[k] != n {
			t.Errorf("ignored[%s] = %d, want %d", k, res.Ignored[k], n)
		}
	}
	ua := res.Events[4].Metadata
	if ua.UserAgent != "Mozilla/5.0" || ua.IP != "17.58.0.1" {
		t.Errorf("open metadata %+v", ua)
	}
}

func TestSendGridParseMalformed(t *testing.T) {
	for _, body := range []string{
		``, `{}`, `[]`, `null`, `[1]`, `[{"event":"open","timestamp":"x"}]`,
		`[{"event":"delivered"}]`, `[{"event":"open","timestamp":1717000000,"email":{}}]`,
		`[{"event":"open","timestamp":1717000000,"sg_machine_open":"maybe"}]`,
		string(bytes.Repeat([]byte("["), 20000)),
	} {
		_, err := NewSendGrid().Parse(context.Background(), &Request{Body: []byte(body)})
		hookWantCode(t, err, mailtrail.EINVALID)
	}
	// Unknown kinds and unknown fields are fine.
	res, err := NewSendGrid().Parse(context.Background(), &Request{Body: []byte(`[{"event":"brand_new","x":{"y":[1]}},{"event":"open","timestamp":1717000000,"new_field":[1,2]}]`)})
	if err != nil || len(res.Events) != 1 || res.Ignored["brand_new"] != 1 {
		t.Fatalf("res %+v err %v", res, err)
	}
	if res.Events[0].DedupeKey[:11] != "sendgrid:h:" {
		t.Errorf("no sg_event_id should give a content hash, got %q", res.Events[0].DedupeKey)
	}
}

func TestSendGridMessageID(t *testing.T) {
	for in, want := range map[string]string{
		"14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0":           "14c5d75ce93.dfd.64b469",
		"LtZ5H_GzSbqnQyiVX4Ku3A.recvd-7f9b5d9c8c-6kbtr-1-665A9B2B-13.0": "LtZ5H_GzSbqnQyiVX4Ku3A",
		"plain": "plain",
		"":      "",
	} {
		if got := sendgridMessageID(in); got != want {
			t.Errorf("sendgridMessageID(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzSendGridParse(f *testing.F) {
	hookSeed(f, "sendgrid")
	v := NewSendGrid()
	f.Fuzz(func(t *testing.T, body []byte) { hookFuzzParse(t, v, body) })
}

// An older dotted id also gives the part before its first dot, which attribution tries
// when the whole id matches no message; a current id gives no other form.
func TestSendGridMessageIDAlt(t *testing.T) {
	for sg, want := range map[string][2]string{
		"14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0":           {"14c5d75ce93.dfd.64b469", "14c5d75ce93"},
		"LtZ5H_GzSbqnQyiVX4Ku3A.recvd-7f9b5d9c8c-6kbtr-1-665A9B2B-13.0": {"LtZ5H_GzSbqnQyiVX4Ku3A", ""},
	} {
		body := `[{"event":"delivered","timestamp":1717000000,"email":"a@example.com","sg_message_id":"` + sg + `"}]`
		res, err := NewSendGrid().Parse(context.Background(), &Request{Body: []byte(body)})
		if err != nil || len(res.Events) != 1 {
			t.Fatalf("%s: %+v %v", sg, res, err)
		}
		if e := res.Events[0]; e.ESPMessageID != want[0] || e.ESPMessageIDAlt != want[1] {
			t.Errorf("%s: id %q alt %q, want %q", sg, e.ESPMessageID, e.ESPMessageIDAlt, want)
		}
	}
}
