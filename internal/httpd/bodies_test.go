package httpd

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
)

func TestCheckArrays(t *testing.T) {
	for _, tc := range []struct {
		body string
		ok   bool
	}{
		{`{"events":[{},{},{}]}`, true},
		{`{"events":[{},{},{},{}]}`, false},
		{`{"a":[1,2,3],"b":[[1,2,3],[4,5,6]]}`, true},
		{`{"a":[1,[2,3,4,5]]}`, false},
		{`{"s":"[,,,,,,]","t":"\"[,,,,]"}`, true},       // separators inside strings do not count
		{`{"o":{"a":1,"b":2,"c":3,"d":4,"e":5}}`, true}, // object members are not items
		{`[]`, true},
		{strings.Repeat("[", 65) + strings.Repeat("]", 65), false}, // too deep
	} {
		err := checkArrays([]byte(tc.body), 3)
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v, want ok=%v", tc.body, err, tc.ok)
		}
		if err != nil && mailtrail.ErrorCode(err) != mailtrail.EINVALID {
			t.Errorf("%s: code %s", tc.body, mailtrail.ErrorCode(err))
		}
	}
}

// The gate admits requests up to its capacity (one larger than the whole gate alone), makes
// the others wait for a release, and refuses after its wait.
func TestBodyGate(t *testing.T) {
	g := newBodyGate(100, 20*time.Millisecond)
	ctx := context.Background()
	r1, err := g.acquire(ctx, 60)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.acquire(ctx, 60); mailtrail.ErrorCode(err) != mailtrail.EUNAVAILABLE {
		t.Fatalf("over capacity: %v, want unavailable", err)
	}
	got := make(chan error, 1)
	g.wait = time.Minute
	go func() { _, err := g.acquire(ctx, 60); got <- err }()
	r1()
	r1() // a second release changes nothing
	if err := <-got; err != nil {
		t.Fatalf("after release: %v", err)
	}
	if g.used != 60 {
		t.Fatalf("used %d, want 60", g.used)
	}
	// The number of holders is bounded too, whatever their size.
	g2 := newBodyGate(1<<30, 10*time.Millisecond)
	for range g2.holders {
		if _, err := g2.acquire(ctx, 1); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := g2.acquire(ctx, 1); mailtrail.ErrorCode(err) != mailtrail.EUNAVAILABLE {
		t.Fatalf("one holder too many: %v, want unavailable", err)
	}
}
