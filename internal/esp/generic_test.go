package esp

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
)

// genericSign returns the X-Mailtrail-Signature value for body signed with key at ts.
func genericSign(key string, ts int64, body []byte) string {
	t := strconv.FormatInt(ts, 10)
	return "t=" + t + ",v1=" + hex.EncodeToString(hmacSHA256([]byte(key), []byte(t), []byte("."), body))
}

func TestGenericVerify(t *testing.T) {
	v := NewGeneric()
	body := hookTestdata(t, "generic", "batch.json")
	const key = "generic-test-key"
	now := time.Unix(1717000000, 0)
	creds := Credentials{SigningKey: key}
	var doc any
	_ = json.Unmarshal(body, &doc)
	reserialised, _ := json.Marshal(doc)
	sig := genericSign(key, now.Unix(), body)
	mac := sig[strings.Index(sig, "v1=")+3:]

	cases := []struct {
		name   string
		body   []byte
		header string
		creds  Credentials
		ok     bool
	}{
		{"valid", body, sig, creds, true},
		{"valid with a second, unknown signature", body, "t=1717000000,v1=" + strings.Repeat("0", 64) + ",v1=" + mac + ",v2=zz", creds, true},
		{"one body byte changed", bytes.Replace(body, []byte("evt_2"), []byte("evt_3"), 1), sig, creds, false},
		{"timestamp changed", body, strings.Replace(sig, "t=1717000000", "t=1717000001", 1), creds, false},
		{"wrong key", body, genericSign("other", now.Unix(), body), creds, false},
		{"header missing", body, "", creds, false},
		{"no v1", body, "t=1717000000", creds, false},
		{"uppercase hex", body, "t=1717000000,v1=" + strings.ToUpper(mac), creds, false},
		{"two timestamps", body, "t=1717000000,t=1717000000,v1=" + mac, creds, false},
		{"re-serialised JSON", reserialised, sig, creds, false},
		{"signed 301s in the past", body, genericSign(key, now.Unix()-301, body), creds, false},
		{"signed 301s in the future", body, genericSign(key, now.Unix()+301, body), creds, false},
		{"rotation: previous key accepted", body, sig, Credentials{SigningKey: "new", Previous: &Credentials{SigningKey: key}}, true},
		{"rotation: random key refused", body, genericSign("random", now.Unix(), body), Credentials{SigningKey: "new", Previous: &Credentials{SigningKey: key}}, false},
		{"no credentials", body, sig, Credentials{}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := http.Header{}
			if c.header != "" {
				h.Set(GenericSignatureHeader, c.header)
			}
			err := v.Verify(context.Background(), &Request{Header: h, Body: c.body, Now: now}, c.creds)
			if c.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !c.ok {
				hookWantCode(t, err, mailtrail.EUNAUTHORIZED)
			}
		})
	}
}

func TestGenericParse(t *testing.T) {
	res, err := NewGeneric().Parse(context.Background(), &Request{Body: hookTestdata(t, "generic", "batch.json")})
	if err != nil {
		t.Fatal(err)
	}
	hookCheck(t, "generic", res.Events, []hookWant{
		{Type: mailtrail.EventDelivered, At: hookRFC(t, "2024-05-29T16:20:00Z"), MessageID: "msg_ann", CampaignID: "c_123", CustomerID: "u_42",
			Email: "ann@example.com", ESP: "esp-1", Dedupe: "generic:evt_1", SMTPCode: "250"},
		{Type: mailtrail.EventBounced, At: hookRFC(t, "2024-05-29T16:27:30Z"), Bounce: mailtrail.BounceHard, MessageID: "msg_bob", CampaignID: "c_123",
			CustomerID: "u_43", Email: "bob@example.com", ESP: "esp-2", Dedupe: "generic:evt_2", SMTPCode: "550"},
		{Type: mailtrail.EventBounced, At: hookRFC(t, "2024-05-29T16:30:00Z"), Bounce: mailtrail.BounceSoft, Email: "dan@example.com", ESP: "esp-3",
			Dedupe: "generic:evt_3", SMTPCode: "452"},
		{Type: mailtrail.EventComplained, At: hookRFC(t, "2024-05-29T17:00:00Z"), MessageID: "msg_cy", Email: "cy@example.com", Dedupe: "generic:evt_4", FeedbackType: "abuse"},
		{Type: mailtrail.EventUnsubscribed, At: hookRFC(t, "2024-05-29T17:10:00Z"), MessageID: "msg_cy", Email: "cy@example.com", Dedupe: "generic:evt_5"},
		{Type: mailtrail.EventOpened, At: hookRFC(t, "2024-05-29T16:35:00.5Z"), MessageID: "msg_ann", Dedupe: "generic:evt_6"},
		{Type: mailtrail.EventClicked, At: hookRFC(t, "2024-05-29T16:36:00Z"), MessageID: "msg_ann", Email: "ann@example.com", ESP: "esp-1", Dedupe: "h",
			URL: "https://example.com/sale"},
		{Type: mailtrail.EventDeferred, At: hookRFC(t, "2024-05-29T16:25:00Z"), MessageID: "msg_dan", Dedupe: "generic:evt_8"},
	})
	if len(res.Ignored) != 0 {
		t.Errorf("ignored %v", res.Ignored)
	}
}

func TestGenericParseMalformed(t *testing.T) {
	many := `{"events":[` + strings.TrimSuffix(strings.Repeat(`{"event_type":"opened","occurred_at":"2024-05-29T16:35:00Z"},`, 1001), ",") + `]}`
	for name, body := range map[string]string{
		"empty":          ``,
		"array":          `[]`,
		"no events":      `{"events":[]}`,
		"1001 events":    many,
		"bad time":       `{"events":[{"event_type":"opened","occurred_at":"yesterday"}]}`,
		"unix time":      `{"events":[{"event_type":"opened","occurred_at":1717000000}]}`,
		"no bounce type": `{"events":[{"event_type":"bounced","occurred_at":"2024-05-29T16:35:00Z"}]}`,
		"wrong type":     `{"events":[{"event_type":["opened"],"occurred_at":"2024-05-29T16:35:00Z"}]}`,
		"nesting bomb":   `{"events":` + strings.Repeat("[", 20000),
	} {
		_, err := NewGeneric().Parse(context.Background(), &Request{Body: []byte(body)})
		if mailtrail.ErrorCode(err) != mailtrail.EINVALID {
			t.Errorf("%s: %v", name, err)
		}
	}
	ok := `{"events":[` + strings.TrimSuffix(strings.Repeat(`{"event_type":"opened","occurred_at":"2024-05-29T16:35:00Z"},`, 1000), ",") + `]}`
	res, err := NewGeneric().Parse(context.Background(), &Request{Body: []byte(ok)})
	if err != nil || len(res.Events) != 1000 {
		t.Fatalf("1000 events: %v", err)
	}
	_, err = NewGeneric().Parse(context.Background(), &Request{Body: []byte(`{"events":[{"event_type":"bounced","occurred_at":"2024-05-29T16:35:00Z","bounce_type":"medium"}]}`)})
	var e *mailtrail.Error
	if !errors.As(err, &e) || len(e.Details) != 1 || e.Details[0].Field != "bounce_type" {
		t.Errorf("bounce_type error %v", err)
	}
}

func FuzzGenericParse(f *testing.F) {
	hookSeed(f, "generic")
	v := NewGeneric()
	f.Fuzz(func(t *testing.T, body []byte) {
		hookFuzzParse(t, v, body)
		h := http.Header{}
		h.Set(GenericSignatureHeader, fmt.Sprintf("t=%d,v1=%s", 1717000000, body))
		if err := v.Verify(context.Background(), &Request{Header: h, Body: body, Now: time.Unix(1717000000, 0)}, Credentials{SigningKey: "k"}); mailtrail.ErrorCode(err) != mailtrail.EUNAUTHORIZED {
			t.Fatalf("forged signature accepted: %v", err)
		}
	})
}
