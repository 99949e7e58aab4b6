package esp

import (
	"context"
	"strings"
	"testing"

	"github.com/mailtrail/mailtrail"
)

func TestSparkPostVerify(t *testing.T) {
	hookAuthCases(t, NewSparkPost(), hookTestdata(t, "sparkpost", "batch.json"))
}

func TestSparkPostParse(t *testing.T) {
	res, err := NewSparkPost().Parse(context.Background(), &Request{Body: hookTestdata(t, "sparkpost", "batch.json")})
	if err != nil {
		t.Fatal(err)
	}
	const tx = "65832150921904138"
	hookCheck(t, "sparkpost", res.Events, []hookWant{
		{Type: mailtrail.EventDelivered, At: hookUnixT(1717000001, 0), MessageID: "msg_ann", CampaignID: "c_123", CustomerID: "u_42",
			Email: "ann@example.com", ESP: tx, Dedupe: "sparkpost:92356927693813851"},
		{Type: mailtrail.EventBounced, At: hookUnixT(1717000050, 0), Bounce: mailtrail.BounceHard, MessageID: "msg_bob", CampaignID: "c_123", CustomerID: "u_43",
			Email: "bob@example.com", ESP: tx, Dedupe: "sparkpost:92356927693813856", SMTPCode: "550", Raw: true},
		{Type: mailtrail.EventBounced, At: hookUnixT(1717000060, 0), Bounce: mailtrail.BounceSoft, MessageID: "msg_dan", CampaignID: "c_123", CustomerID: "u_45",
			Email: "dan@example.com", ESP: tx, Dedupe: "sparkpost:92356927693813859", SMTPCode: "452", Raw: true},
		{Type: mailtrail.EventBounced, At: hookUnixT(1717000070, 0), Bounce: mailtrail.BounceHard, MessageID: "msg_fay",
			Email: "fay@example.com", ESP: "65832150921904139", Dedupe: "sparkpost:92356927693813860", SMTPCode: "550", Raw: true},
		// delay: SparkPost keeps trying; a deferred notice, not a bounce.
		{Type: mailtrail.EventDeferred, At: hookUnixT(1717000055, 0), Email: "dan@example.com", ESP: tx, Dedupe: "sparkpost:92356927693813861",
			SMTPCode: "451", Raw: true},
		{Type: mailtrail.EventComplained, At: hookUnixT(1717000500, 0), MessageID: "msg_cy", CampaignID: "c_123", CustomerID: "u_44",
			Email: "cy@example.com", ESP: "65832150921904140", Dedupe: "sparkpost:92356927693813862", FeedbackType: "abuse", Raw: true},
		{Type: mailtrail.EventOpened, At: hookUnixT(1717000300, 0), MessageID: "msg_ann", CampaignID: "c_123", CustomerID: "u_42",
			Email: "ann@example.com", ESP: tx, Dedupe: "sparkpost:92356927693813863"},
		{Type: mailtrail.EventClicked, At: hookUnixT(1717000400, 0), MessageID: "msg_ann", CampaignID: "c_123", CustomerID: "u_42",
			Email: "ann@example.com", ESP: tx, Dedupe: "sparkpost:92356927693813857", URL: "https://example.com/sale"},
		{Type: mailtrail.EventUnsubscribed, At: hookUnixT(1717000600, 0), MessageID: "msg_cy", CampaignID: "c_123", CustomerID: "u_44",
			Email: "cy@example.com", ESP: "65832150921904140", Dedupe: "sparkpost:92356927693813858"},
		{Type: mailtrail.EventUnsubscribed, At: hookUnixT(1717000610, 0), Email: "gus@example.com", ESP: "65832150921904141", Dedupe: "sparkpost:92356927693813864"},
	})
	want := map[string]int{"injection": 1, "generation_failure": 1, "policy_rejection": 1}
	if len(res.Ignored) != len(want) {
		t.Fatalf("ignored %v", res.Ignored)
	}
	for k, n := range want {
		if res.Ignored[k] != n {
			t.Errorf("ignored[%s] = %d", k, res.Ignored[k])
		}
	}
}

func TestSparkPostPing(t *testing.T) {
	res, err := NewSparkPost().Parse(context.Background(), &Request{Body: hookTestdata(t, "sparkpost", "ping.json")})
	if err != nil || len(res.Events) != 0 || len(res.Ignored) != 0 {
		t.Fatalf("ping: %+v %v", res, err)
	}
}

func TestSparkPostBounceClasses(t *testing.T) {
	for _, c := range []string{"10", "25", "30", "80", "90"} {
		if sparkpostBounceType(c) != mailtrail.BounceHard {
			t.Errorf("class %s not hard", c)
		}
	}
	for _, c := range []string{"1", "20", "21", "22", "23", "24", "26", "40", "50", "51", "52", "53", "54", "70", "", "x"} {
		if sparkpostBounceType(c) != mailtrail.BounceSoft {
			t.Errorf("class %q not soft", c)
		}
	}
}

// SparkPost's table: Admin classes 25 and 80 are hard; 60 Auto-Reply and 100
// Challenge-Response are replies, not failures, and record nothing.
func TestSparkPostBounceClassEvents(t *testing.T) {
	res, err := NewSparkPost().Parse(context.Background(), &Request{Body: hookTestdata(t, "sparkpost", "bounce_classes.json")})
	if err != nil {
		t.Fatal(err)
	}
	hookCheck(t, "sparkpost", res.Events, []hookWant{
		{Type: mailtrail.EventBounced, At: hookUnixT(1717000700, 0), Bounce: mailtrail.BounceHard, MessageID: "msg_hal",
			Email: "hal@example.com", ESP: "65832150921904150", Dedupe: "sparkpost:92356927693813870", SMTPCode: "554", Raw: true},
		{Type: mailtrail.EventBounced, At: hookUnixT(1717000710, 0), Bounce: mailtrail.BounceHard, MessageID: "msg_ivy",
			Email: "ivy@example.com", ESP: "65832150921904151", Dedupe: "sparkpost:92356927693813871", SMTPCode: "550", Raw: true},
	})
	if res.Ignored["out_of_band:60"] != 1 || res.Ignored["out_of_band:100"] != 1 || len(res.Ignored) != 2 {
		t.Errorf("ignored %v", res.Ignored)
	}
}

func TestSparkPostParseMalformed(t *testing.T) {
	for _, body := range []string{
		``, `{}`, `[]`, `[1]`, `[{"msys":[]}]`, `[{"msys":{"message_event":"x"}}]`,
		`[{"msys":{"message_event":{"type":"delivery"}}}]`,
		`[{"msys":{"message_event":{"type":"delivery","timestamp":"later"}}}]`,
		`[{"msys":{"message_event":{"type":"delivery","timestamp":"1717000000","rcpt_meta":"x"}}}]`,
		strings.Repeat(`[{"msys":`, 5000),
	} {
		_, err := NewSparkPost().Parse(context.Background(), &Request{Body: []byte(body)})
		hookWantCode(t, err, mailtrail.EINVALID)
	}
}

func FuzzSparkPostParse(f *testing.F) {
	hookSeed(f, "sparkpost")
	v := NewSparkPost()
	f.Fuzz(func(t *testing.T, body []byte) { hookFuzzParse(t, v, body) })
}
