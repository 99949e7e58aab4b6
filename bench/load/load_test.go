package load

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestHistogramQuantile(t *testing.T) {
	var h Histogram
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * time.Millisecond)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{
		{0.5, 500 * time.Millisecond},
		{0.99, 990 * time.Millisecond},
		{0.999, 999 * time.Millisecond},
		{1, 1000 * time.Millisecond},
		{0, time.Millisecond},
	} {
		got := h.Quantile(tc.q)
		if diff := float64(got-tc.want) / float64(tc.want); diff < -0.02 || diff > 0.02 {
			t.Errorf("Quantile(%v) = %v, want %v ± 2%%", tc.q, got, tc.want)
		}
	}
	if h.Count() != 1000 || h.Max() != time.Second {
		t.Errorf("Count, Max = %d, %v; want 1000, 1s", h.Count(), h.Max())
	}
}

func TestBucketsAreContiguous(t *testing.T) {
	prev := bucketOf(0)
	for v := uint64(1); v < 1<<20; v++ {
		b := bucketOf(v)
		if b != prev && b != prev+1 {
			t.Fatalf("bucketOf(%d) = %d after %d", v, b, prev)
		}
		if mid := bucketMid(b); bucketOf(mid) != b {
			t.Fatalf("bucketMid(%d) = %d is in bucket %d", b, mid, bucketOf(mid))
		}
		prev = b
	}
	if b := bucketOf(^uint64(0)); b >= numBuckets {
		t.Fatalf("bucketOf(max) = %d, want < %d", b, numBuckets)
	}
}

func TestHistogramMerge(t *testing.T) {
	var a, b Histogram
	a.Record(time.Millisecond)
	b.Record(3 * time.Millisecond)
	a.Merge(&b)
	if a.Count() != 2 || a.Mean() != 2*time.Millisecond || a.Max() != 3*time.Millisecond {
		t.Errorf("merged: count %d mean %v max %v; want 2, 2ms, 3ms", a.Count(), a.Mean(), a.Max())
	}
}

func TestCheckLoopback(t *testing.T) {
	for url, ok := range map[string]bool{
		"http://127.0.0.1:8080/x":   true,
		"http://[::1]:8080/x":       true,
		"http://localhost/x":        true,
		"http://10.0.0.1/x":         false,
		"http://example.com/x":      false,
		"https://127.0.0.1:8443/x":  false,
		"http://127.0.0.1.nip.io/x": false,
	} {
		if err := CheckLoopback(url); (err == nil) != ok {
			t.Errorf("CheckLoopback(%q) = %v, want ok %v", url, err, ok)
		}
	}
}

func TestRun(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		http.Redirect(w, r, "https://example.com/", http.StatusFound)
	}))
	defer srv.Close()

	res, err := Run(context.Background(), Config{
		Conns:    4,
		Duration: 300 * time.Millisecond,
		Next: RoundRobin([]Request{
			{Method: http.MethodGet, URL: srv.URL + "/a", Events: 2},
			{Method: http.MethodGet, URL: srv.URL + "/missing", Events: 2},
		}),
		MaxRequests: 1000,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests == 0 || res.Requests > 1000 {
		t.Fatalf("Requests = %d, want 1..1000", res.Requests)
	}
	// Redirects are not followed: every /a answer is a 302, every other a 404.
	if res.Status[http.StatusFound] != res.OK || res.Status[http.StatusNotFound] != res.Failed() {
		t.Errorf("status %v, OK %d, failed %d", res.Status, res.OK, res.Failed())
	}
	if res.Events != 2*res.OK || res.Latency.Count() != res.OK {
		t.Errorf("events %d, latencies %d for %d OK answers", res.Events, res.Latency.Count(), res.OK)
	}
}

func TestRunRefusesOtherHosts(t *testing.T) {
	_, err := Run(context.Background(), Config{
		Conns:    1,
		Duration: time.Second,
		Next:     RoundRobin([]Request{{Method: http.MethodGet, URL: "http://192.0.2.1/"}}),
	})
	if err == nil {
		t.Fatal("Run against a non-loopback host: no error")
	}
}
