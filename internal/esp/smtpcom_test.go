package esp

import (
	"context"
	"strings"
	"testing"

	"github.com/mailtrail/mailtrail"
)

func TestSMTPComVerify(t *testing.T) {
	hookAuthCases(t, NewSMTPCom(), hookTestdata(t, "smtpcom", "batch.json"))
}

func TestSMTPComParse(t *testing.T) {
	res, err := NewSMTPCom().Parse(context.Background(), &Request{Body: hookTestdata(t, "smtpcom", "batch.json")})
	if err != nil {
		t.Fatal(err)
	}
	hookCheck(t, "smtpcom", res.Events, []hookWant{
		{Type: mailtrail.EventDelivered, At: hookUnixT(1717000001, 0), MessageID: "msg_ann", CampaignID: "c_123", CustomerID: "u_42",
			Email: "ann@example.com", ESP: "42b36f27-184a-4d01-816e-601ebe4e6160", Dedupe: "smtpcom:a1a09b889153a22555af2de426dac8c0", SMTPCode: "250"},
		{Type: mailtrail.EventBounced, At: hookUnixT(1717000043, 0), Bounce: mailtrail.BounceHard, MessageID: "msg_bob", CampaignID: "c_123", CustomerID: "u_43",
			Email: "bob@example.com", ESP: "42b36f27-184a-4d01-816e-601ebe4e6163", Dedupe: "smtpcom:f5a09b889153a22555af2de426dac8cd", SMTPCode: "550", Raw: true},
		{Type: mailtrail.EventBounced, At: hookUnixT(1717000060, 0), Bounce: mailtrail.BounceSoft, MessageID: "msg_dan",
			Email: "dan@example.com", ESP: "42b36f27-184a-4d01-816e-601ebe4e6164", Dedupe: "smtpcom:b2a09b889153a22555af2de426dac8c1", SMTPCode: "452", Raw: true},
		{Type: mailtrail.EventComplained, At: hookUnixT(1717000500, 0), MessageID: "msg_cy", Email: "cy@example.com",
			ESP: "42b36f27-184a-4d01-816e-601ebe4e6165", Dedupe: "smtpcom:c3a09b889153a22555af2de426dac8c2", FeedbackType: "abuse", Raw: true},
		{Type: mailtrail.EventUnsubscribed, At: hookUnixT(1717000600, 0), MessageID: "msg_cy", Email: "cy@example.com",
			ESP: "42b36f27-184a-4d01-816e-601ebe4e6165", Dedupe: "smtpcom:d4a09b889153a22555af2de426dac8c3"},
		{Type: mailtrail.EventOpened, At: hookUnixT(1717000300, 0), MessageID: "msg_ann", Email: "ann@example.com",
			ESP: "42b36f27-184a-4d01-816e-601ebe4e6160", Dedupe: "smtpcom:e5a09b889153a22555af2de426dac8c4"},
		{Type: mailtrail.EventClicked, At: hookUnixT(1717000400, 0), MessageID: "msg_ann", Email: "ann@example.com",
			ESP: "42b36f27-184a-4d01-816e-601ebe4e6160", Dedupe: "smtpcom:f6a09b889153a22555af2de426dac8c5", URL: "https://example.com/sale"},
	})
	if res.Ignored["received"] != 1 || len(res.Ignored) != 1 {
		t.Errorf("ignored %v", res.Ignored)
	}
}

func TestSMTPComBounceType(t *testing.T) {
	for _, c := range []struct {
		class, code string
		want        mailtrail.BounceType
	}{
		{"10", "550", mailtrail.BounceHard}, {"22", "550", mailtrail.BounceSoft}, {"", "550", mailtrail.BounceHard},
		{"", "452", mailtrail.BounceSoft}, {"", "", mailtrail.BounceHard}, {"0", "421", mailtrail.BounceSoft},
		{"25", "554", mailtrail.BounceHard}, {"80", "550", mailtrail.BounceHard},
	} {
		if got := smtpcomBounceType(c.class, c.code); got != c.want {
			t.Errorf("smtpcomBounceType(%q, %q) = %s", c.class, c.code, got)
		}
	}
	// resp_class 60 (auto-reply) and 100 (challenge-response) are replies, not bounces.
	for _, class := range []string{"60", "100"} {
		body := `[{"id":"f5a09b889153a22555af2de426dac8c` + class[:1] + `","event_label":"bounce","rcpt_to":"bob@example.com","time_finished":1717000043,` +
			`"resp_code":250,"resp_class":` + class + `,"resp_msg":"I am out of the office"}]`
		res, err := NewSMTPCom().Parse(context.Background(), &Request{Body: []byte(body)})
		if err != nil || len(res.Events) != 0 || res.Ignored["bounce"] != 1 {
			t.Errorf("class %s: %+v %v", class, res, err)
		}
	}
}

func TestSMTPComParseLimits(t *testing.T) {
	event := `{"id":"x","event_label":"opened","time_finished":1717000000}`
	batch := func(n int) []byte { return []byte("[" + strings.TrimSuffix(strings.Repeat(event+",", n), ",") + "]") }
	res, err := NewSMTPCom().Parse(context.Background(), &Request{Body: batch(1000)})
	if err != nil || len(res.Events) != 1000 {
		t.Fatalf("1000 events: %v", err)
	}
	for _, body := range [][]byte{
		batch(1001), []byte(`[]`), []byte(`{}`), []byte(`[{"event_label":"opened"}]`),
		[]byte(`[{"event_label":"opened","time_finished":"x"}]`), []byte(`[{"event_label":"bounce","time_finished":1717000000,"resp_code":{}}]`),
		[]byte(strings.Repeat("[", 30000)),
	} {
		_, err := NewSMTPCom().Parse(context.Background(), &Request{Body: body})
		hookWantCode(t, err, mailtrail.EINVALID)
	}
}

func FuzzSMTPComParse(f *testing.F) {
	hookSeed(f, "smtpcom")
	v := NewSMTPCom()
	f.Fuzz(func(t *testing.T, body []byte) { hookFuzzParse(t, v, body) })
}
