package storekit

import (
	"testing"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/rules"
)

func TestSuppressionCursorRoundTrip(t *testing.T) {
	for _, c := range []struct {
		at           int64
		email, topic string
	}{
		{1700000000000, "a@example.com", ""},
		{1, "x.y@example.com", "newsletter"},
		{0, "", ""},
	} {
		at, email, topic, err := ParseSuppressionCursor(SuppressionCursor(c.at, c.email, c.topic))
		if err != nil || at != c.at || email != c.email || topic != c.topic {
			t.Errorf("round trip of %+v: %d %q %q %v", c, at, email, topic, err)
		}
	}
	for _, bad := range []string{"!!", "bm9kb3Q", ""} { // not base64; "nodot"; empty
		if _, _, _, err := ParseSuppressionCursor(bad); mailtrail.ErrorCode(err) != mailtrail.EINVALID {
			t.Errorf("cursor %q: err %v, want EINVALID", bad, err)
		}
	}
}

func TestBucketLeavesOutEmptyAndSplitsBounces(t *testing.T) {
	if _, ok := Bucket(5, [rules.NumFields]int64{}, [rules.NumTotals]int64{}); ok {
		t.Fatal("an empty bucket is kept")
	}
	var u [rules.NumFields]int64
	u[rules.FBounce], u[rules.FHardBounce] = 5, 2
	b, ok := Bucket(3, u, [rules.NumTotals]int64{})
	if !ok || b.Counts.Bounced != 5 || b.Counts.BouncedHard != 2 || b.Counts.BouncedSoft != 3 {
		t.Fatalf("bucket %+v ok %v", b, ok)
	}
	if want := FromMS(3 * rules.BucketWidth.Milliseconds()); !b.Start.Equal(want) {
		t.Fatalf("start %v, want %v", b.Start, want)
	}
}

func TestDidKeepsFirstAndLastByTimeThenRow(t *testing.T) {
	var d Did
	var out mailtrail.Did
	if _, ok := d.Fill(&out); ok || out.Did || out.Count != 0 {
		t.Fatalf("nothing added: %+v", out)
	}
	d.Add(7, 2000, "b")
	d.Add(3, 1000, "a2")
	d.Add(2, 1000, "a1") // same time, earlier row: first
	d.Add(9, 2000, "c")  // same time, later row: last
	row, ok := d.Fill(&out)
	if !ok || row != 2 || out.Count != 4 || out.FirstEventID != "a1" || out.LastEventID != "c" {
		t.Fatalf("row %d ok %v out %+v", row, ok, out)
	}
}

func TestTrackingHost(t *testing.T) {
	for in, want := range map[string]string{"": "", "https://Click.Brand.example": "click.brand.example", "http://t.example:8080/x": "t.example:8080"} {
		if got, err := TrackingHost(in); err != nil || got != want {
			t.Errorf("TrackingHost(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"click.brand.example", "https://", "::"} {
		if _, err := TrackingHost(bad); mailtrail.ErrorCode(err) != mailtrail.EINVALID {
			t.Errorf("TrackingHost(%q): %v, want EINVALID", bad, err)
		}
	}
}
