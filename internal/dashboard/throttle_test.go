package dashboard

import (
	"context"
	"net/netip"
	"testing"
	"time"
)

func TestThrottleWindow(t *testing.T) {
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	th := newThrottle(func() time.Time { return now })
	ctx := context.Background()
	for range signInFailures - 1 {
		th.fail(ctx, "2001:db8:1:2::5")
	}
	if w, _ := th.wait(ctx, "2001:db8:1:2::5"); w != 0 {
		t.Fatalf("after %d failures: wait %v", signInFailures-1, w)
	}
	th.fail(ctx, "2001:db8:1:2::99") // the same /64
	if w, _ := th.wait(ctx, "2001:db8:1:2::5"); w != signInWindow {
		t.Fatalf("after %d failures in one /64: wait %v", signInFailures, w)
	}
	if w, _ := th.wait(ctx, "2001:db8:1:3::5"); w != 0 {
		t.Fatalf("another /64 waits %v", w)
	}
	now = now.Add(signInWindow)
	if w, _ := th.wait(ctx, "2001:db8:1:2::5"); w != 0 {
		t.Fatalf("after the window: wait %v", w)
	}
	th.fail(ctx, "2001:db8:1:2::5") // a new window starts with one failure
	if w, _ := th.wait(ctx, "2001:db8:1:2::5"); w != 0 {
		t.Fatalf("a new window: wait %v", w)
	}
}

func TestThrottleBounded(t *testing.T) {
	th := newThrottle(time.Now)
	ctx := context.Background()
	for i := range maxThrottled + 10 {
		th.fail(ctx, ipN(i))
	}
	if _, ok := th.m[throttleKey(ipN(maxThrottled+9))]; !ok {
		t.Fatal("the newest address is not remembered")
	}
	if len(th.m) > maxThrottled {
		t.Fatalf("%d addresses remembered", len(th.m))
	}
}

func ipN(i int) string {
	return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}).String()
}
