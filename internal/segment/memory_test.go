package segment

import (
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
)

func TestMemoryBytesGrowsWithTheIndex(t *testing.T) {
	x := New(nil, nil)
	x.mu.Lock()
	x.ready = true
	x.mu.Unlock()
	x.pmu.Lock()
	x.live = true
	x.pmu.Unlock()
	empty := x.MemoryBytes()
	at := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	var evs []*mailtrail.Event
	for i := range 1000 {
		evs = append(evs, &mailtrail.Event{OrgID: "o", CustomerID: "customer-" + string(rune('a'+i%26)) + string(rune('a'+i/26)),
			CampaignID: "c", Type: mailtrail.EventOpened, OccurredAt: at.Add(time.Duration(i) * time.Minute), Counted: true})
	}
	x.Observe(evs, nil)
	x.Flush()
	got := x.MemoryBytes()
	// 1,000 log entries of 12 bytes and 1,000 customers: well over 12 KB more than empty.
	if got-empty < 12_000+1000*int64(perCustomer) {
		t.Fatalf("MemoryBytes after 1,000 events of 1,000 customers = %d (empty %d): too small", got, empty)
	}
}
