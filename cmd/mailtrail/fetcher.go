package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/mailtrail/mailtrail/internal/egress"
)

// maxFetch bounds the bytes read from an outbound GET (SNS certificates, confirmation
// answers are a few KiB).
const maxFetch = 1 << 20

// httpFetcher is the esp.Fetcher of the service: a client with timeouts at every step,
// no redirects followed (a vendor URL is checked before it is fetched, a redirect would
// escape the check), public addresses only (package egress checks every address dialled:
// an SNS certificate or subscription URL never reaches the cloud metadata service or the
// local network) and a bounded body.
type httpFetcher struct{ c *http.Client }

func newHTTPFetcher() *httpFetcher {
	tr := &http.Transport{
		Proxy:                 nil, // a proxy would dial for us and bypass the address guard
		DialContext:           egress.Policy{}.Dialer(5 * time.Second).DialContext,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: 10 * time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConns:          16,
	}
	return &httpFetcher{c: &http.Client{Transport: tr, Timeout: 15 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Get implements esp.Fetcher: the body of a 2xx answer, at most maxFetch bytes.
func (f *httpFetcher) Get(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	resp, err := f.c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("fetch: status %d", resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxFetch+1))
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	if len(b) > maxFetch {
		return nil, fmt.Errorf("fetch: body over %d bytes", maxFetch)
	}
	return b, nil
}
