package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/mailtrail/mailtrail/internal/egress"
)

// The SNS certificate and subscription fetcher of the service reaches public addresses
// only: a URL on the loopback listener (by address or by a name resolving to it) is
// refused before any request is sent.
func TestFetcherRefusesNonPublicAddresses(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { hits.Add(1) }))
	defer srv.Close()
	f := newHTTPFetcher()
	for _, u := range []string{srv.URL + "/cert.pem", "http://localhost:" + srv.URL[len("http://127.0.0.1:"):] + "/cert.pem"} {
		if _, err := f.Get(context.Background(), u); !errors.Is(err, egress.ErrRefused) {
			t.Errorf("GET %s: %v, want egress.ErrRefused", u, err)
		}
	}
	if hits.Load() != 0 {
		t.Fatalf("the loopback server was reached %d times", hits.Load())
	}
}
