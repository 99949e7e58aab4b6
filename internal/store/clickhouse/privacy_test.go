package clickhouse_test

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/attribute"
	"github.com/mailtrail/mailtrail/internal/projector"
	"github.com/mailtrail/mailtrail/internal/store/clickhouse"
)

// insert writes evs straight into the events table, as one part.
func insert(t *testing.T, db *clickhouse.DB, evs ...*mailtrail.Event) {
	t.Helper()
	if err := db.InsertEvents(context.Background(), []projector.Record{{Pos: 1, Events: evs}}); err != nil {
		t.Fatalf("InsertEvents: %v", err)
	}
}

// stored returns, per event id of org, the distinct values of column over every copy
// of the event the table holds (copies not yet merged included), sorted.
func stored(t *testing.T, db *clickhouse.DB, org, column string) map[string][]string {
	t.Helper()
	out, err := db.Query(context.Background(), fmt.Sprintf(
		"SELECT DISTINCT hex(id), hex(toString(%s)) FROM %s.events WHERE org = '%s' FORMAT TabSeparated", column, db.Database(), org))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, "\t")
		id, err1 := hex.DecodeString(f[0])
		v, err2 := hex.DecodeString(f[1])
		if len(f) != 2 || err1 != nil || err2 != nil {
			t.Fatalf("answer %q", line)
		}
		m[string(id)] = append(m[string(id)], string(v))
	}
	for _, vs := range m {
		slices.Sort(vs)
	}
	return m
}

// privacyEvent returns event n of org and customer, received at recv.
func privacyEvent(n int, org, customer string, recv time.Time) *mailtrail.Event {
	ev := event(n)
	ev.ID = fmt.Sprintf("%s/ev-%d", org, n)
	ev.OrgID, ev.CustomerID = org, customer
	ev.OccurredAt, ev.ReceivedAt = recv.Add(-time.Second), recv
	return ev
}

// allCounts returns CountsByType of every organization and campaign of the test events.
func allCounts(t *testing.T, db *clickhouse.DB) string {
	t.Helper()
	var b strings.Builder
	for _, org := range orgs {
		for _, c := range campaigns {
			got, err := db.CountsByType(context.Background(), org, c)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%s/%q: %v\n", org, c, got)
		}
	}
	return b.String()
}

// TestEraseCustomer: every copy of every event of the organization's customer, in every
// partition and part, gets the new id; the organization's other customers and another
// organization's customer of the same id keep theirs, and counts are unchanged. A second
// erasure and the erasure of a customer without events change nothing, and an event
// inserted after the erasure, of a new customer reusing the CRM's id, keeps that id.
func TestEraseCustomer(t *testing.T) {
	url := chURL(t)
	db := testDB(t, url)
	ctx := context.Background()
	const oldID = "cu-'1\\\n\t\x00é" // every byte quote escapes, and more
	const newID = "erased:0123456789abcdef"
	base := time.Unix(1_764_000_000, 0).UTC()

	var mine []*mailtrail.Event
	for i := range 6 {
		// 20 days apart: the events span several monthly partitions.
		mine = append(mine, privacyEvent(i, "org-1", oldID, base.Add(time.Duration(i)*20*24*time.Hour)))
	}
	others := []*mailtrail.Event{
		privacyEvent(10, "org-1", "cu-2", base),
		privacyEvent(11, "org-1", oldID+"x", base),
		privacyEvent(12, "org-1", "cu-'1", base),
		privacyEvent(13, "org-2", oldID, base),
		privacyEvent(14, "org-2", oldID, base.Add(40*24*time.Hour)),
	}
	insert(t, db, mine[:3]...)
	insert(t, db, append(mine[3:], others...)...)
	insert(t, db, mine[1], mine[4]) // copies, as a block copied twice leaves them
	counts := allCounts(t, db)

	want := map[string]map[string][]string{"org-1": {}, "org-2": {}}
	for _, ev := range mine {
		want["org-1"][ev.ID] = []string{newID}
	}
	for _, ev := range others {
		want[ev.OrgID][ev.ID] = []string{ev.CustomerID}
	}
	check := func(when string) {
		t.Helper()
		for org, w := range want {
			if got := stored(t, db, org, "customer"); fmt.Sprint(got) != fmt.Sprint(w) {
				t.Errorf("%s: %s's customers %q, want %q", when, org, got, w)
			}
		}
		if got := allCounts(t, db); got != counts {
			t.Errorf("%s: counts\n%s, want them unchanged:\n%s", when, got, counts)
		}
	}

	if err := db.EraseCustomer(ctx, "org-1", oldID, newID); err != nil {
		t.Fatalf("EraseCustomer: %v", err)
	}
	check("after the erasure")
	if err := db.EraseCustomer(ctx, "org-1", oldID, newID); err != nil {
		t.Fatalf("EraseCustomer again: %v", err)
	}
	check("after a second erasure")
	if err := db.EraseCustomer(ctx, "org-1", "cu-without-events", "erased:fedcba9876543210"); err != nil {
		t.Fatalf("EraseCustomer of a customer without events: %v", err)
	}
	check("after erasing a customer without events")

	// A new customer reuses the CRM's id: their event keeps it.
	later := privacyEvent(20, "org-1", oldID, base.Add(time.Hour))
	insert(t, db, later)
	want["org-1"][later.ID] = []string{oldID}
	counts = allCounts(t, db)
	check("after an event of the id's new customer")
}

// TestEraseCustomerWaits: with the table's merges stopped (which stops its mutations)
// the erasure cannot be applied: bounded by ctx, EraseCustomer says the mutation is not
// done, and reads still show the old id. With merges started again, the next call
// returns with the customer erased.
// TestEraseCustomers: several customers of an organization renamed in one mutation,
// each to its own new id, up to the erasure's log position (later events of the CRM's
// id belong to a customer created again); another customer and another organization
// untouched.
func TestEraseCustomers(t *testing.T) {
	url := chURL(t)
	db := testDB(t, url)
	ctx := context.Background()
	base := time.Unix(1_764_000_000, 0).UTC()
	custs := map[string]string{"cu-1": "erased:1", "cu-2": "erased:2", "cu-3": "cu-3"}
	var evs []*mailtrail.Event
	want := map[string][]string{}
	for i, c := range []string{"cu-1", "cu-2", "cu-3", "cu-1"} {
		ev := privacyEvent(i, "org-1", c, base)
		evs = append(evs, ev)
		want[ev.ID] = []string{custs[c]}
	}
	other := privacyEvent(9, "org-2", "cu-1", base)
	insert(t, db, append(evs, other)...) // at log position 1
	// cu-1 again, created anew after its erasure: at a later position, not renamed.
	again := privacyEvent(7, "org-1", "cu-1", base)
	if err := db.InsertEvents(ctx, []projector.Record{{Pos: 5, Events: []*mailtrail.Event{again}}}); err != nil {
		t.Fatal(err)
	}
	want[again.ID] = []string{"cu-1"}
	if err := db.EraseCustomers(ctx, "org-1", []clickhouse.Rename{{Old: "cu-1", New: "erased:1", UpTo: 4}, {Old: "cu-2", New: "erased:2"}}); err != nil {
		t.Fatal(err)
	}
	if got := stored(t, db, "org-1", "customer"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("customers after the erasure %v, want %v", got, want)
	}
	if got := stored(t, db, "org-2", "customer"); fmt.Sprint(got) != fmt.Sprint(map[string][]string{other.ID: {"cu-1"}}) {
		t.Fatalf("the other organization's customer changed: %v", got)
	}
}

func TestEraseCustomerWaits(t *testing.T) {
	url := chURL(t)
	db := testDB(t, url)
	ctx := context.Background()
	base := time.Unix(1_764_000_000, 0).UTC()
	evs := []*mailtrail.Event{privacyEvent(0, "org-1", "cu-1", base), privacyEvent(1, "org-1", "cu-1", base.Add(40*24*time.Hour))}
	insert(t, db, evs...)
	if err := db.Exec(ctx, "SYSTEM STOP MERGES "+db.Database()+".events"); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	err := db.EraseCustomer(short, "org-1", "cu-1", "erased:1")
	cancel()
	got := fmt.Sprint(stored(t, db, "org-1", "customer"))
	switch {
	case err == nil:
		// A release whose mutations go on while merges are stopped: the wait still held.
		t.Logf("the mutation was applied with merges stopped")
		if got != fmt.Sprint(map[string][]string{evs[0].ID: {"erased:1"}, evs[1].ID: {"erased:1"}}) {
			t.Errorf("EraseCustomer returned with customers %s", got)
		}
	case !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "not done"):
		t.Fatalf("EraseCustomer with mutations stopped: %v, want the mutation not done at ctx's end", err)
	default:
		t.Logf("with mutations stopped: %v", err)
		if got != fmt.Sprint(map[string][]string{evs[0].ID: {"cu-1"}, evs[1].ID: {"cu-1"}}) {
			t.Errorf("customers %s while the mutation is not done, want cu-1 still", got)
		}
	}

	if err := db.Exec(ctx, "SYSTEM START MERGES "+db.Database()+".events"); err != nil {
		t.Fatal(err)
	}
	long, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := db.EraseCustomer(long, "org-1", "cu-1", "erased:1"); err != nil {
		t.Fatalf("EraseCustomer with merges started: %v", err)
	}
	want := map[string][]string{evs[0].ID: {"erased:1"}, evs[1].ID: {"erased:1"}}
	if got := stored(t, db, "org-1", "customer"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("customers %q after the erasure, want %q", got, want)
	}
}

// TestDeleteExpired: the organization's events received before the cutoff go, every
// copy in every partition; those received at or after it (within the cutoff's second
// too) stay, as do every other organization's; CountsByType and Rows count the
// survivors only. A second call changes nothing, and an old event inserted after the
// call stays until the next one.
func TestDeleteExpired(t *testing.T) {
	url := chURL(t)
	db := testDB(t, url)
	ctx := context.Background()
	cutoff := time.Unix(1_764_000_000, 0).UTC()
	day := 24 * time.Hour
	offsets := []time.Duration{-90 * day, -40 * day, -day, -time.Second, 0, 300 * time.Millisecond, time.Second, 10 * day, 45 * day}

	want := map[key]map[mailtrail.EventType]int64{}
	for _, org := range orgs {
		for _, c := range campaigns {
			want[key{org, c}] = map[mailtrail.EventType]int64{}
		}
	}
	live := map[string]map[string][]string{"org-1": {}, "org-2": {}} // id: received_at's Unix seconds
	var evs []*mailtrail.Event
	for i, off := range offsets {
		for _, org := range orgs {
			ev := privacyEvent(i, org, "cu-1", cutoff.Add(off))
			evs = append(evs, ev)
			if org == "org-2" || off >= 0 {
				want[key{org, ev.CampaignID}][ev.Type]++
				live[org][ev.ID] = []string{strconv.FormatInt(ev.ReceivedAt.Unix(), 10)}
			}
		}
	}
	insert(t, db, evs[:7]...)
	insert(t, db, evs[7:]...)
	insert(t, db, evs[0], evs[2]) // copies of expired events of org-1
	check := func(when string) {
		t.Helper()
		for org, w := range live {
			if got := stored(t, db, org, "toUInt32(received_at)"); fmt.Sprint(got) != fmt.Sprint(w) {
				t.Errorf("%s: %s's events %v, want %v", when, org, got, w)
			}
		}
		checkCounts(t, db, want)
		if rows, ids, err := db.Rows(ctx); err != nil || rows != ids {
			t.Errorf("%s: %d rows of %d events (%v), want no copy left", when, rows, ids, err)
		}
	}

	if n, err := db.CountExpired(ctx, "org-1", cutoff); err != nil || n == 0 {
		t.Fatalf("CountExpired before the deletion: %d, %v", n, err)
	}
	if err := db.DeleteExpired(ctx, "org-1", cutoff); err != nil {
		t.Fatalf("DeleteExpired: %v", err)
	}
	check("after the deletion")
	if n, err := db.CountExpired(ctx, "org-1", cutoff); err != nil || n != 0 {
		t.Fatalf("CountExpired after the deletion: %d, %v", n, err)
	}
	// Within the cutoff's second: the event received 300 ms into it is not expired.
	if err := db.DeleteExpired(ctx, "org-1", cutoff.Add(200*time.Millisecond)); err != nil {
		t.Fatalf("DeleteExpired again: %v", err)
	}
	check("after a second deletion")

	// An old event inserted after the call stays until the next one, which also takes
	// the cutoff's second.
	old := privacyEvent(50, "org-1", "cu-1", cutoff.Add(-day))
	insert(t, db, old)
	want[key{"org-1", old.CampaignID}][old.Type]++
	live["org-1"][old.ID] = []string{strconv.FormatInt(old.ReceivedAt.Unix(), 10)}
	check("after an old event inserted later")
	if err := db.DeleteExpired(ctx, "org-1", cutoff.Add(time.Second)); err != nil {
		t.Fatalf("DeleteExpired past the cutoff's second: %v", err)
	}
	for _, ev := range append(evs, old) {
		if ev.OrgID == "org-1" && ev.ReceivedAt.Before(cutoff.Add(time.Second)) {
			if _, ok := live["org-1"][ev.ID]; ok {
				if want[key{"org-1", ev.CampaignID}][ev.Type]--; want[key{"org-1", ev.CampaignID}][ev.Type] == 0 {
					delete(want[key{"org-1", ev.CampaignID}], ev.Type)
				}
				delete(live["org-1"], ev.ID)
			}
		}
	}
	check("after the deletion past the cutoff's second")
}

// TestPrivacyRefusesBadArguments: an empty argument, or the placeholder of unattributed
// events as the customer, is refused with EINVALID before the server is asked anything.
func TestPrivacyRefusesBadArguments(t *testing.T) {
	db, err := clickhouse.New("http://127.0.0.1:1", "mt_nowhere")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for name, err := range map[string]error{
		"no organization":   db.EraseCustomer(ctx, "", "cu-1", "erased:1"),
		"no customer":       db.EraseCustomer(ctx, "org-1", "", "erased:1"),
		"no new id":         db.EraseCustomer(ctx, "org-1", "cu-1", ""),
		"the placeholder":   db.EraseCustomer(ctx, "org-1", attribute.UnknownCustomer, "erased:1"),
		"retention, no org": db.DeleteExpired(ctx, "", time.Now()),
	} {
		if mailtrail.ErrorCode(err) != mailtrail.EINVALID {
			t.Errorf("%s: %v, want EINVALID", name, err)
		}
	}
}
