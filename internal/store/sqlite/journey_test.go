package sqlite

import (
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
)

var jBase = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// jEvent is an event of customer cust in campaign camp, min minutes after jBase.
func jEvent(org, camp, cust string, typ mailtrail.EventType, min int) *mailtrail.Event {
	return &mailtrail.Event{OrgID: org, CampaignID: camp, CustomerID: cust, CustomerEmail: cust + "@example.com",
		Type: typ, OccurredAt: jBase.Add(time.Duration(min) * time.Minute), Source: mailtrail.SourceAPI}
}

func did(t *testing.T, db *DB, org string, c mailtrail.Condition) *mailtrail.Did {
	t.Helper()
	d, err := db.Did(pctx, org, c)
	if err != nil {
		t.Fatalf("did %+v: %v", c, err)
	}
	if d.Did != (d.Count > 0) || d.Did != (d.Event != nil) {
		t.Fatalf("did %+v: inconsistent answer %+v", c, d)
	}
	return d
}

func TestDid(t *testing.T) {
	db := openPrivacyDB(t)
	org, other := pOrg(t, db, "acme"), pOrg(t, db, "other")
	// Campaign A: every type for c1; campaign B: one open and two clicks of c1.
	var evs []*mailtrail.Event
	for i, typ := range mailtrail.EventTypes {
		ev := jEvent(org, "A", "c1", typ, i)
		if typ == mailtrail.EventBounced {
			ev.Metadata.BounceType = mailtrail.BounceSoft
		}
		if typ == mailtrail.EventClicked {
			ev.Metadata.LinkURL = "https://shop.example/a"
		}
		evs = append(evs, ev)
	}
	machine := jEvent(org, "B", "c1", mailtrail.EventOpened, 100)
	machine.Classification = mailtrail.Machine
	bot := jEvent(org, "B", "c1", mailtrail.EventClicked, 110)
	bot.Classification, bot.Reasons, bot.Metadata.LinkURL = mailtrail.Bot, []string{"scanner_ua:test"}, "https://shop.example/b"
	human := jEvent(org, "B", "c1", mailtrail.EventClicked, 200)
	human.Metadata.LinkURL = "https://shop.example/b"
	evs = append(evs, machine, bot, human)
	pWrite(t, db, evs...)
	// The other organization has a customer c1 too, who clicked in campaign A.
	pWrite(t, db, jEvent(other, "A", "c1", mailtrail.EventClicked, 300))
	msgA, msgB := evs[0].MessageID, machine.MessageID

	// Index part of the events only: the rest stay in the tail past the watermark.
	if _, err := db.IndexCustomerEvents(pctx); err != nil {
		t.Fatal(err)
	}
	late := jEvent(org, "B", "c1", mailtrail.EventOpened, 400)
	pWrite(t, db, late)

	for i, typ := range mailtrail.EventTypes {
		d := did(t, db, org, mailtrail.Condition{CustomerID: "c1", Type: typ, CampaignID: "A"})
		if !d.Did || d.Count != 1 || !d.FirstAt.Equal(jBase.Add(time.Duration(i)*time.Minute)) || d.Event.Type != typ || d.Event.CampaignID != "A" {
			t.Errorf("%s in A: %+v", typ, d)
		}
	}
	cases := []struct {
		name  string
		c     mailtrail.Condition
		count int64
		first int // minutes after jBase
		last  int
	}{
		{"any campaign", mailtrail.Condition{Type: mailtrail.EventOpened}, 3, 2, 400},
		{"campaign B", mailtrail.Condition{Type: mailtrail.EventOpened, CampaignID: "B"}, 2, 100, 400},
		{"message of A", mailtrail.Condition{Type: mailtrail.EventOpened, MessageID: msgA}, 1, 2, 2},
		{"message of B", mailtrail.Condition{Type: mailtrail.EventClicked, MessageID: msgB}, 2, 110, 200},
		{"since excludes earlier", mailtrail.Condition{Type: mailtrail.EventOpened, Since: jBase.Add(100 * time.Minute)}, 2, 100, 400},
		{"since is inclusive", mailtrail.Condition{Type: mailtrail.EventClicked, Since: jBase.Add(200 * time.Minute)}, 1, 200, 200},
		{"since after everything", mailtrail.Condition{Type: mailtrail.EventOpened, Since: jBase.Add(401 * time.Minute)}, 0, 0, 0},
		{"human opens", mailtrail.Condition{Type: mailtrail.EventOpened, CampaignID: "B", HumanOnly: true}, 1, 400, 400},
		{"human clicks", mailtrail.Condition{Type: mailtrail.EventClicked, CampaignID: "B", HumanOnly: true}, 1, 200, 200},
		{"human bounces (no label)", mailtrail.Condition{Type: mailtrail.EventBounced, HumanOnly: true}, 1, 4, 4},
		{"link", mailtrail.Condition{Type: mailtrail.EventClicked, LinkURL: "https://shop.example/b"}, 2, 110, 200},
		{"other link", mailtrail.Condition{Type: mailtrail.EventClicked, LinkURL: "https://shop.example/a"}, 1, 3, 3},
		{"unknown link", mailtrail.Condition{Type: mailtrail.EventClicked, LinkURL: "https://shop.example/zz"}, 0, 0, 0},
		{"unknown campaign", mailtrail.Condition{Type: mailtrail.EventOpened, CampaignID: "Z"}, 0, 0, 0},
		{"unknown message", mailtrail.Condition{Type: mailtrail.EventOpened, MessageID: "AAAAAAAAAAAAAAAA"}, 0, 0, 0},
		{"malformed message", mailtrail.Condition{Type: mailtrail.EventOpened, MessageID: "%%"}, 0, 0, 0},
	}
	for _, tc := range cases {
		tc.c.CustomerID = "c1"
		d := did(t, db, org, tc.c)
		if d.Count != tc.count {
			t.Errorf("%s: count %d, want %d (%+v)", tc.name, d.Count, tc.count, d)
			continue
		}
		if tc.count > 0 && (!d.FirstAt.Equal(jBase.Add(time.Duration(tc.first)*time.Minute)) || !d.LastAt.Equal(jBase.Add(time.Duration(tc.last)*time.Minute))) {
			t.Errorf("%s: first %v last %v, want +%dm +%dm", tc.name, d.FirstAt, d.LastAt, tc.first, tc.last)
		}
	}
	// The late open is in the tail only; indexing it changes nothing.
	if _, err := db.IndexCustomerEvents(pctx); err != nil {
		t.Fatal(err)
	}
	if d := did(t, db, org, mailtrail.Condition{CustomerID: "c1", Type: mailtrail.EventOpened}); d.Count != 3 || d.LastEventID != late.ID {
		t.Errorf("after indexing: %+v", d)
	}

	// Tenant isolation: acme's c1 never clicked at +300; other's c1 never opened.
	if d := did(t, db, org, mailtrail.Condition{CustomerID: "c1", Type: mailtrail.EventClicked, Since: jBase.Add(250 * time.Minute)}); d.Did {
		t.Errorf("acme sees other's click: %+v", d)
	}
	if d := did(t, db, other, mailtrail.Condition{CustomerID: "c1", Type: mailtrail.EventOpened}); d.Did {
		t.Errorf("other sees acme's opens: %+v", d)
	}
	if d := did(t, db, other, mailtrail.Condition{CustomerID: "c1", Type: mailtrail.EventClicked, MessageID: msgB}); d.Did {
		t.Errorf("other reaches acme's message: %+v", d)
	}
	// A message of another customer of the same organization answers false.
	pWrite(t, db, jEvent(org, "B", "c2", mailtrail.EventOpened, 500))
	if d := did(t, db, org, mailtrail.Condition{CustomerID: "c2", Type: mailtrail.EventOpened, MessageID: msgB}); d.Did {
		t.Errorf("c2 with c1's message: %+v", d)
	}
	if d := did(t, db, org, mailtrail.Condition{CustomerID: "nobody", Type: mailtrail.EventOpened}); d.Did || d.CustomerID != "nobody" {
		t.Errorf("unknown customer: %+v", d)
	}
	for _, c := range []mailtrail.Condition{
		{Type: mailtrail.EventOpened},
		{CustomerID: "c1"},
		{CustomerID: "c1", Type: mailtrail.EventOpened, CampaignID: "A", MessageID: msgA},
		{CustomerID: "c1", Type: mailtrail.EventOpened, LinkURL: "https://x"},
	} {
		if _, err := db.Did(pctx, org, c); mailtrail.ErrorCode(err) != mailtrail.EINVALID {
			t.Errorf("%+v: err %v, want invalid", c, err)
		}
	}
}

// TestDidPlan checks the condition reads events by primary key only: through the customer
// index, and the tail's ids listed in memory, never by a scan of events.
func TestDidPlan(t *testing.T) {
	db := openPrivacyDB(t)
	rows, err := db.r.QueryContext(pctx, "EXPLAIN QUERY PLAN "+didQuery, 1, 0, "[5,9]", 1, 1, 0, 3, 0, 0, 0, 0, 0, "", "")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	text := strings.Join(plan, "\n")
	t.Log(text)
	for _, want := range []string{"customer_events USING PRIMARY KEY", "events USING INDEX events_org (org_id=? AND id=?", "e USING INTEGER PRIMARY KEY"} {
		if !strings.Contains(text, want) {
			t.Errorf("plan lacks %q:\n%s", want, text)
		}
	}
	for _, l := range plan {
		if strings.HasPrefix(l, "SCAN") && !strings.HasPrefix(l, "SCAN json_each") {
			t.Errorf("plan scans: %q\n%s", l, text)
		}
	}
}
