package esp

import (
	"context"
	"strings"
	"testing"

	"github.com/mailtrail/mailtrail"
)

func TestPostmarkVerify(t *testing.T) {
	hookAuthCases(t, NewPostmark(), hookTestdata(t, "postmark", "bounce.json"))
}

func TestPostmarkParse(t *testing.T) {
	const mid = "883953f4-6105-42a2-a16a-77a8eac79480"
	cases := []struct {
		file    string
		want    []hookWant
		ignored string
	}{
		{"bounce.json", []hookWant{{Type: mailtrail.EventBounced, At: hookRFC(t, "2024-05-29T16:27:30Z"), Bounce: mailtrail.BounceHard,
			MessageID: "msg_bob", CampaignID: "c_123", CustomerID: "u_43", Email: "bob@example.com", ESP: "883953f4-6105-42a2-a16a-77a8eac79483",
			Dedupe: "postmark:4323372036854775807", Raw: true}}, ""},
		{"softbounce.json", []hookWant{{Type: mailtrail.EventBounced, At: hookRFC(t, "2024-05-29T20:30:00.1234567Z"), Bounce: mailtrail.BounceSoft,
			MessageID: "msg_dan", Email: "dan@example.com", ESP: "8d5ed3de-d7c1-4e3f-a1c8-5ea4a8d03e4a", Dedupe: "postmark:692560173", Raw: true}}, ""},
		{"delivery.json", []hookWant{{Type: mailtrail.EventDelivered, At: hookRFC(t, "2024-05-29T16:20:00Z"), MessageID: "msg_ann",
			CampaignID: "c_123", CustomerID: "u_42", Email: "ann@example.com", ESP: mid, Dedupe: "h"}}, ""},
		{"spamcomplaint.json", []hookWant{{Type: mailtrail.EventComplained, At: hookRFC(t, "2024-05-29T17:00:00Z"), MessageID: "msg_cy",
			CampaignID: "c_123", CustomerID: "u_44", Email: "cy@example.com", ESP: "00000000-0000-0000-0000-000000000000",
			Dedupe: "postmark:42", FeedbackType: "abuse", Raw: true}}, ""},
		{"subscriptionchange.json", []hookWant{{Type: mailtrail.EventUnsubscribed, At: hookRFC(t, "2024-05-29T17:10:00Z"), MessageID: "msg_cy",
			CampaignID: "c_123", CustomerID: "u_44", Email: "cy@example.com", ESP: "883953f4-6105-42a2-a16a-77a8eac79485", Dedupe: "h"}}, ""},
		{"open.json", []hookWant{{Type: mailtrail.EventOpened, At: hookRFC(t, "2024-05-29T16:35:00Z"), MessageID: "msg_ann",
			CampaignID: "c_123", CustomerID: "u_42", Email: "ann@example.com", ESP: mid, Dedupe: "h"}}, ""},
		{"click.json", []hookWant{{Type: mailtrail.EventClicked, At: hookRFC(t, "2024-05-29T16:36:00Z"), MessageID: "msg_ann",
			Email: "ann@example.com", ESP: mid, Dedupe: "h", URL: "https://example.com/sale"}}, ""},
		{"autoresponder.json", nil, "Bounce:AutoResponder"},
		// The bounce sample of Postmark's webhooks page: no RecordType.
		{"bounce_no_recordtype.json", []hookWant{{Type: mailtrail.EventBounced, At: hookRFC(t, "2019-11-05T16:33:54.9070259Z"), Bounce: mailtrail.BounceHard,
			MessageID: "msg_john", Email: "john@example.com", ESP: "883953f4-6105-42a2-a16a-77a8eac79483", Dedupe: "postmark:42", Raw: true}}, ""},
		// Transient: "message delayed", Postmark keeps trying: deferred, not a bounce.
		{"transient.json", []hookWant{{Type: mailtrail.EventDeferred, At: hookRFC(t, "2024-05-29T16:31:00Z"),
			MessageID: "msg_dan", Email: "dan@example.com", ESP: "8d5ed3de-d7c1-4e3f-a1c8-5ea4a8d03e4b", Dedupe: "postmark:692560180", Raw: true}}, ""},
		// Unsubscribe: the recipient asked to be removed.
		{"unsubscribe.json", []hookWant{{Type: mailtrail.EventUnsubscribed, At: hookRFC(t, "2024-05-29T18:00:00Z"),
			MessageID: "msg_eve", Email: "eve@example.com", ESP: "8d5ed3de-d7c1-4e3f-a1c8-5ea4a8d03e4c", Dedupe: "postmark:692560190"}}, ""},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			res, err := NewPostmark().Parse(context.Background(), &Request{Body: hookTestdata(t, "postmark", c.file)})
			if err != nil {
				t.Fatal(err)
			}
			hookCheck(t, "postmark", res.Events, c.want)
			if c.ignored != "" && res.Ignored[c.ignored] != 1 {
				t.Errorf("ignored %v", res.Ignored)
			}
		})
	}
	res, _ := NewPostmark().Parse(context.Background(), &Request{Body: hookTestdata(t, "postmark", "open.json")})
	m := res.Events[0].Metadata
	if m.IP != "188.2.95.4" || m.City != "Novi Sad" || m.Country != "Serbia" || !strings.HasPrefix(m.UserAgent, "Mozilla") || m.Client == "" {
		t.Errorf("open metadata %+v", m)
	}
}

func TestPostmarkBounceTypes(t *testing.T) {
	body := func(typ string) []byte {
		return []byte(`{"RecordType":"Bounce","ID":1,"Type":"` + typ + `","Email":"a@example.com","BouncedAt":"2024-05-29T16:27:30Z"}`)
	}
	for typ, want := range map[string]mailtrail.BounceType{
		"HardBounce": mailtrail.BounceHard, "BadEmailAddress": mailtrail.BounceHard, "ManuallyDeactivated": mailtrail.BounceHard,
		"SoftBounce": mailtrail.BounceSoft, "DnsError": mailtrail.BounceSoft, "Blocked": mailtrail.BounceSoft,
		"SpamNotification": mailtrail.BounceSoft, "Unknown": mailtrail.BounceSoft, "DMARCPolicy": mailtrail.BounceSoft,
	} {
		res, err := NewPostmark().Parse(context.Background(), &Request{Body: body(typ)})
		if err != nil || len(res.Events) != 1 || res.Events[0].Metadata.BounceType != want {
			t.Errorf("%s: %+v %v", typ, res, err)
		}
	}
	for _, typ := range []string{"AutoResponder", "AddressChange", "Subscribe", "ChallengeVerification", "SMTPApiError"} {
		res, err := NewPostmark().Parse(context.Background(), &Request{Body: body(typ)})
		if err != nil || len(res.Events) != 0 || res.Ignored["Bounce:"+typ] != 1 {
			t.Errorf("%s: %+v %v", typ, res, err)
		}
	}
	for typ, want := range map[string]mailtrail.EventType{"Transient": mailtrail.EventDeferred, "Unsubscribe": mailtrail.EventUnsubscribed} {
		res, err := NewPostmark().Parse(context.Background(), &Request{Body: body(typ)})
		if err != nil || len(res.Events) != 1 || res.Events[0].Type != want || res.Events[0].Metadata.BounceType != "" {
			t.Errorf("%s: %+v %v", typ, res, err)
		}
	}
}

// Postmark's older payloads carry no RecordType: the type is inferred from its fields.
func TestPostmarkInferRecordType(t *testing.T) {
	for body, want := range map[string]mailtrail.EventType{
		`{"ID":1,"Type":"SoftBounce","Email":"a@example.com","BouncedAt":"2024-05-29T16:27:30Z"}`:                                         mailtrail.EventBounced,
		`{"ID":2,"Type":"SpamComplaint","Email":"a@example.com","BouncedAt":"2024-05-29T16:27:30Z"}`:                                      mailtrail.EventComplained,
		`{"MessageID":"m","Recipient":"a@example.com","DeliveredAt":"2024-05-29T16:27:30Z"}`:                                              mailtrail.EventDelivered,
		`{"MessageID":"m","Recipient":"a@example.com","ReceivedAt":"2024-05-29T16:27:30Z"}`:                                               mailtrail.EventOpened,
		`{"MessageID":"m","Recipient":"a@example.com","ReceivedAt":"2024-05-29T16:27:30Z","OriginalLink":"https://x.example/"}`:           mailtrail.EventClicked,
		`{"Recipient":"a@example.com","ChangedAt":"2024-05-29T16:27:30Z","SuppressSending":true,"SuppressionReason":"ManualSuppression"}`: mailtrail.EventUnsubscribed,
	} {
		res, err := NewPostmark().Parse(context.Background(), &Request{Body: []byte(body)})
		if err != nil || len(res.Events) != 1 || res.Events[0].Type != want {
			t.Errorf("%s: %+v %v", body, res, err)
		}
	}
}

func TestPostmarkSubscriptionChange(t *testing.T) {
	for body, ignored := range map[string]string{
		`{"RecordType":"SubscriptionChange","Recipient":"a@example.com","ChangedAt":"2024-05-29T17:10:00Z","SuppressSending":false}`:                                    "SubscriptionChange:reactivated",
		`{"RecordType":"SubscriptionChange","Recipient":"a@example.com","ChangedAt":"2024-05-29T17:10:00Z","SuppressSending":true,"SuppressionReason":"HardBounce"}`:    "SubscriptionChange:HardBounce",
		`{"RecordType":"SubscriptionChange","Recipient":"a@example.com","ChangedAt":"2024-05-29T17:10:00Z","SuppressSending":true,"SuppressionReason":"SpamComplaint"}`: "SubscriptionChange:SpamComplaint",
		`{"RecordType":"Inbound","MessageID":"x"}`: "Inbound",
	} {
		res, err := NewPostmark().Parse(context.Background(), &Request{Body: []byte(body)})
		if err != nil || len(res.Events) != 0 || res.Ignored[ignored] != 1 {
			t.Errorf("%s: %+v %v", body, res, err)
		}
	}
}

func TestPostmarkParseMalformed(t *testing.T) {
	for _, body := range []string{
		``, `[]`, `{}`, `{"RecordType":"Delivery"}`, `{"RecordType":"Delivery","DeliveredAt":"yesterday"}`,
		`{"RecordType":"Bounce","Type":"HardBounce","BouncedAt":"2024-05-29T16:27:30Z","ID":"abc"}`,
		`{"RecordType":"Open","ReceivedAt":"2024-05-29T16:35:00Z","Geo":"x"}`,
		strings.Repeat(`{"Metadata":`, 20000),
	} {
		_, err := NewPostmark().Parse(context.Background(), &Request{Body: []byte(body)})
		hookWantCode(t, err, mailtrail.EINVALID)
	}
}

func FuzzPostmarkParse(f *testing.F) {
	hookSeed(f, "postmark")
	v := NewPostmark()
	f.Fuzz(func(t *testing.T, body []byte) { hookFuzzParse(t, v, body) })
}

// Postmark suppresses per message stream: an unsubscribe is scoped to its stream, and a
// stream reactivated for the address is a resubscribe to it.
func TestPostmarkStreamScope(t *testing.T) {
	res, err := NewPostmark().Parse(context.Background(), &Request{Body: hookTestdata(t, "postmark", "subscriptionchange.json")})
	if err != nil || len(res.Events) != 1 || res.Events[0].Type != mailtrail.EventUnsubscribed || res.Events[0].Metadata.Topic != "broadcast" {
		t.Fatalf("unsubscribe: %+v %v", res, err)
	}
	body := `{"RecordType":"SubscriptionChange","MessageID":"883953f4-6105-42a2-a16a-77a8eac79485","ServerID":23,"MessageStream":"broadcast","ChangedAt":"2024-05-30T08:00:00Z","Recipient":"cy@example.com","Origin":"Customer","SuppressSending":false,"SuppressionReason":null}`
	res, err = NewPostmark().Parse(context.Background(), &Request{Body: []byte(body)})
	want := mailtrail.Resubscribe{Email: "cy@example.com", Topic: "broadcast", At: hookRFC(t, "2024-05-30T08:00:00Z")}
	if err != nil || len(res.Events) != 0 || len(res.Resubscribes) != 1 || res.Resubscribes[0] != want {
		t.Fatalf("reactivation: %+v %v", res, err)
	}
}
