package storetest

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/ingest"
)

// testChangeSet: Write returns what it committed. Duplicate has one flag per event of the
// batch (within the batch, across batches, an unknown message); Events are the others, the
// same values in the same order; Relabels name the stored clicks whose label the batch
// changed, here a click a later burst of clicks on the same message makes a bot's.
func testChangeSet(t *testing.T, s Projection, norm Normalizer) {
	o, _ := newOrg(t, s, "acme")
	seedMessages(t, s, o.ID, 3)
	batch := []*mailtrail.Event{ev(o.ID, 0, mailtrail.EventSent, 0, "s0"), ev(o.ID, 0, mailtrail.EventSent, 0, "s0"),
		ev(o.ID, 1, mailtrail.EventSent, 0, "s1"), ev(o.ID, 99, mailtrail.EventOpened, 0, "")}
	for _, e := range batch {
		norm(e, base.Add(1000*time.Hour))
	}
	cs := must[ingest.ChangeSet](t)(s.Write(ctx, batch))
	if !reflect.DeepEqual(cs.Duplicate, []bool{false, true, false, true}) {
		t.Fatalf("duplicates %v", cs.Duplicate)
	}
	if !slices.Equal(cs.Events, []*mailtrail.Event{batch[0], batch[2]}) || len(cs.Relabels) != 0 || len(cs.Erased) != 0 {
		t.Fatalf("change-set %+v, want events 0 and 2 of the batch and nothing else", cs)
	}
	retry := []*mailtrail.Event{ev(o.ID, 1, mailtrail.EventSent, 0, "s1")}
	norm(retry[0], base.Add(1000*time.Hour))
	if cs := must[ingest.ChangeSet](t)(s.Write(ctx, retry)); !reflect.DeepEqual(cs.Duplicate, []bool{true}) || len(cs.Events) != 0 {
		t.Fatalf("a retry: %+v", cs)
	}

	// A person's click, stored human; then a scanner's burst on the message's other links
	// within seconds: the first click is relabelled.
	click := func(at time.Duration, link string) *mailtrail.Event {
		e := ev(o.ID, 2, mailtrail.EventClicked, at, "")
		e.Metadata.LinkURL = link
		norm(e, base.Add(1000*time.Hour))
		return e
	}
	first := click(time.Hour, "https://x.example/a")
	if cs := must[ingest.ChangeSet](t)(s.Write(ctx, []*mailtrail.Event{first})); len(cs.Events) != 1 || len(cs.Relabels) != 0 {
		t.Fatalf("one click: %+v", cs)
	}
	burst := []*mailtrail.Event{click(time.Hour+time.Second, "https://x.example/b"), click(time.Hour+2*time.Second, "https://x.example/c")}
	cs = must[ingest.ChangeSet](t)(s.Write(ctx, burst))
	if !slices.Equal(cs.Events, burst) {
		t.Fatalf("burst events %+v", cs.Events)
	}
	want := mailtrail.ClickRelabel{OrgID: o.ID, CampaignID: "camp", CustomerID: "u2", LinkURL: "https://x.example/a",
		At: first.OccurredAt.UnixMilli(), Human: false}
	if !slices.Contains(cs.Relabels, want) {
		t.Fatalf("relabels %+v, want among them %+v", cs.Relabels, want)
	}
	for _, r := range cs.Relabels {
		if r.Human || r.OrgID != o.ID || r.CustomerID != "u2" {
			t.Fatalf("relabel %+v: only the message's clicks, all made bots", r)
		}
	}
	for _, e := range stored(t, s, o.ID, "camp") {
		if e.Type == mailtrail.EventClicked && e.IsHuman() {
			t.Fatalf("a click still human after the burst: %+v", e)
		}
	}
}
