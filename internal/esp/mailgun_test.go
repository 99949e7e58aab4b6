package esp

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
)

// mailgunTestKey signed the bodies in testdata/mailgun.
const mailgunTestKey = "mailgun-test-signing-key"

// mailgunResign returns body with its signature block replaced by one signed with key
// for ts and token.
func mailgunResign(t *testing.T, body []byte, key, ts, token string) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	doc["signature"] = map[string]any{
		"timestamp": ts, "token": token,
		"signature": hex.EncodeToString(hmacSHA256([]byte(key), []byte(ts), []byte(token))),
	}
	b, _ := json.Marshal(doc)
	return b
}

func TestMailgunVerify(t *testing.T) {
	v := NewMailgun()
	body := hookTestdata(t, "mailgun", "failed_permanent.json")
	const ts = 1717000050
	now := time.Unix(ts+10, 0)
	creds := Credentials{SigningKey: mailgunTestKey}
	token := MailgunToken(body)
	if len(token) != 50 {
		t.Fatalf("MailgunToken = %q", token)
	}
	var sig struct {
		Signature struct{ Signature string } `json:"signature"`
	}
	_ = json.Unmarshal(body, &sig)
	good := sig.Signature.Signature

	cases := []struct {
		name  string
		body  []byte
		now   time.Time
		creds Credentials
		ok    bool
	}{
		{"valid", body, now, creds, true},
		{"signature byte changed", bytes.Replace(body, []byte(good[:8]), []byte("00000000"), 1), now, creds, false},
		{"token changed", bytes.Replace(body, []byte(token), []byte("x"+token[1:]), 1), now, creds, false},
		{"timestamp changed", bytes.Replace(body, []byte(`"timestamp": "1717000050"`), []byte(`"timestamp": "1717000051"`), 1), now, creds, false},
		{"uppercase hex", bytes.Replace(body, []byte(good), []byte(strings.ToUpper(good)), 1), now, creds, false},
		{"timestamp and token swapped", mailgunSwapped(t, body, token), now, creds, false},
		{"wrong key", body, now, Credentials{SigningKey: "another-key"}, false},
		{"signature block missing", []byte(`{"event-data":{"event":"delivered"}}`), now, creds, false},
		{"not JSON", []byte(`signature=abc`), now, creds, false},
		// Mailgun's retries repeat the first attempt's signature: accepted up to the
		// retry horizon (8 h plus margin), refused beyond it.
		{"301s after signing", body, time.Unix(ts+301, 0), creds, true},
		{"3h after signing (a retry after an outage)", body, time.Unix(ts, 0).Add(3 * time.Hour), creds, true},
		{"beyond the retry horizon", body, time.Unix(ts, 0).Add(MailgunHorizon + time.Second), creds, false},
		{"301s before signing", body, time.Unix(ts-301, 0), creds, false},
		{"rotation: previous key accepted", body, now, Credentials{SigningKey: "new-key", Previous: &Credentials{SigningKey: mailgunTestKey}}, true},
		{"rotation: random key refused", mailgunResign(t, body, "random", "1717000050", token), now,
			Credentials{SigningKey: "new-key", Previous: &Credentials{SigningKey: mailgunTestKey}}, false},
		{"no credentials", body, now, Credentials{}, false},
		// Mailgun signs timestamp+token only: the same data re-serialised keeps a valid
		// signature (and the event id keeps the dedupe key).
		{"re-serialised JSON", mailgunResign(t, body, mailgunTestKey, "1717000050", token), now, creds, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := v.Verify(context.Background(), &Request{Body: c.body, Now: c.now}, c.creds)
			if c.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !c.ok {
				hookWantCode(t, err, mailtrail.EUNAUTHORIZED)
			}
		})
	}
}

// mailgunSwapped signs token+timestamp instead of timestamp+token.
func mailgunSwapped(t *testing.T, body []byte, token string) []byte {
	var doc map[string]any
	_ = json.Unmarshal(body, &doc)
	doc["signature"] = map[string]any{"timestamp": "1717000050", "token": token,
		"signature": hex.EncodeToString(hmacSHA256([]byte(mailgunTestKey), []byte(token), []byte("1717000050")))}
	b, _ := json.Marshal(doc)
	return b
}

func TestMailgunParse(t *testing.T) {
	cases := []struct {
		file    string
		want    []hookWant
		ignored string
	}{
		{"failed_permanent.json", []hookWant{{Type: mailtrail.EventBounced, At: hookUnixT(1717000050, 123456000), Bounce: mailtrail.BounceHard,
			MessageID: "msg_bob", CampaignID: "c_123", CustomerID: "u_43", Email: "bob@example.com", ESP: "20240529.1.abc@mg.brand.example",
			Dedupe: "mailgun:CPgfbmQMTCKtHW6uIWtuVe", SMTPCode: "550", Raw: true}}, ""},
		{"failed_temporary.json", []hookWant{{Type: mailtrail.EventDeferred, At: hookUnixT(1717000060, 0),
			MessageID: "msg_dan", Email: "dan@example.com", ESP: "20240529.2.abc@mg.brand.example",
			Dedupe: "mailgun:Ase7i2zsRYeDXztHGENqRA", SMTPCode: "452", Raw: true}}, ""},
		{"delivered.json", []hookWant{{Type: mailtrail.EventDelivered, At: hookUnixT(1717000001, 5e8), MessageID: "msg_ann", CampaignID: "c_123",
			CustomerID: "u_42", Email: "ann@example.com", ESP: "20240529.3.abc@mg.brand.example", Dedupe: "mailgun:W3X4JOhFT-OZidZGKKr9iA", SMTPCode: "250"}}, ""},
		{"opened.json", []hookWant{{Type: mailtrail.EventOpened, At: hookUnixT(1717000300, 0), MessageID: "msg_ann", CampaignID: "c_123",
			CustomerID: "u_42", Email: "ann@example.com", ESP: "20240529.3.abc@mg.brand.example", Dedupe: "mailgun:iR4Vj0pqT2S-n1H4t4dC0A"}}, ""},
		{"clicked.json", []hookWant{{Type: mailtrail.EventClicked, At: hookUnixT(1717000400, 0), MessageID: "msg_ann", Email: "ann@example.com",
			ESP: "20240529.3.abc@mg.brand.example", Dedupe: "mailgun:Ase7i2zsRYeDXztHGENqRC", URL: "https://example.com/sale"}}, ""},
		{"complained.json", []hookWant{{Type: mailtrail.EventComplained, At: hookUnixT(1717000500, 0), MessageID: "msg_cy", CampaignID: "c_123",
			CustomerID: "u_44", Email: "cy@example.com", ESP: "20240529.4.abc@mg.brand.example", Dedupe: "mailgun:-Agny091SquKnsrW2NEKUA", FeedbackType: "abuse", Raw: true}}, ""},
		{"unsubscribed.json", []hookWant{{Type: mailtrail.EventUnsubscribed, At: hookUnixT(1717000600, 0), MessageID: "msg_cy", Email: "cy@example.com",
			ESP: "20240529.4.abc@mg.brand.example", Dedupe: "mailgun:Ase7i2zsRYeDXztHGENqRD"}}, ""},
		{"accepted.json", nil, "accepted"},
		{"suppress_bounce.json", nil, "failed:suppress-bounce"},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			body := hookTestdata(t, "mailgun", c.file)
			var ts struct {
				Signature struct{ Timestamp string } `json:"signature"`
			}
			_ = json.Unmarshal(body, &ts)
			at, _ := hookParseUnix(ts.Signature.Timestamp)
			if err := NewMailgun().Verify(context.Background(), &Request{Body: body, Now: at.Add(time.Minute)}, Credentials{SigningKey: mailgunTestKey}); err != nil {
				t.Fatalf("testdata not signed: %v", err)
			}
			res, err := NewMailgun().Parse(context.Background(), &Request{Body: body})
			if err != nil {
				t.Fatal(err)
			}
			hookCheck(t, "mailgun", res.Events, c.want)
			if c.ignored != "" && res.Ignored[c.ignored] != 1 {
				t.Errorf("ignored %v, want %s", res.Ignored, c.ignored)
			}
		})
	}
	// A failed event without severity (not in Mailgun's current format) stays a soft bounce.
	noSev := []byte(`{"signature":{"token":"t","timestamp":"1717000060","signature":"s"},"event-data":{"id":"x1","event":"failed",` +
		`"timestamp":1717000060,"recipient":"dan@example.com","delivery-status":{"code":452}}}`)
	if res, err := NewMailgun().Parse(context.Background(), &Request{Body: noSev}); err != nil || len(res.Events) != 1 ||
		res.Events[0].Type != mailtrail.EventBounced || res.Events[0].Metadata.BounceType != mailtrail.BounceSoft {
		t.Errorf("failed without severity: %+v %v", res, err)
	}
	res, _ := NewMailgun().Parse(context.Background(), &Request{Body: hookTestdata(t, "mailgun", "opened.json")})
	m := res.Events[0].Metadata
	if m.UserAgent != "Mozilla/5.0 (iPhone)" || m.IP != "203.0.113.9" || m.Country != "US" || m.City != "San Francisco" || m.Device != "mobile" {
		t.Errorf("open metadata %+v", m)
	}
}

func TestMailgunParseMalformed(t *testing.T) {
	for _, body := range []string{
		``, `[]`, `{}`, `{"event-data":[]}`, `{"event-data":{}}`, `{"event-data":{"event":"delivered"}}`,
		`{"event-data":{"event":"delivered","timestamp":"soon"}}`, `{"event-data":{"event":"opened","timestamp":1717000000,"recipient":1.5e3,"ip":[1]}}`,
		strings.Repeat(`{"a":`, 20000),
	} {
		_, err := NewMailgun().Parse(context.Background(), &Request{Body: []byte(body)})
		hookWantCode(t, err, mailtrail.EINVALID)
	}
}

func FuzzMailgunParse(f *testing.F) {
	hookSeed(f, "mailgun")
	v := NewMailgun()
	f.Fuzz(func(t *testing.T, body []byte) {
		hookFuzzParse(t, v, body)
		err := v.Verify(context.Background(), &Request{Body: body, Now: time.Unix(1717000100, 0)}, Credentials{SigningKey: mailgunTestKey})
		if err != nil && mailtrail.ErrorCode(err) != mailtrail.EUNAUTHORIZED {
			t.Fatalf("verify error %v", err)
		}
		_ = MailgunToken(body)
	})
}
