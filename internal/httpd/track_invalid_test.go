package httpd

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/mailtrail/mailtrail/internal/metrics"
	"github.com/mailtrail/mailtrail/internal/store/sqlite"
	"github.com/mailtrail/mailtrail/internal/token"
)

// oddTargets is the real store whose one known link holds a URL that is not http(s), as a
// store written by an older version or by hand might.
type oddTargets struct{ *sqlite.DB }

func (oddTargets) ClickTarget(_ context.Context, ref string, link int) (string, string, error) {
	if link == 7 {
		return "org", "javascript:alert(1)", nil
	}
	return "", "", nil // unreachable in this test
}

// invalidTotal sums mailtrail_tracking_invalid_total over its kinds.
func invalidTotal(t *testing.T, reg *metrics.Registry) int {
	t.Helper()
	var b bytes.Buffer
	reg.Write(&b)
	n := 0
	for _, line := range strings.Split(b.String(), "\n") {
		if !strings.HasPrefix(line, "mailtrail_tracking_invalid_total{") {
			continue
		}
		v, err := strconv.Atoi(line[strings.LastIndexByte(line, ' ')+1:])
		if err != nil {
			t.Fatalf("metric line %q", line)
		}
		n += v
	}
	return n
}

// Every invalid tracking hit answered 404 is counted in mailtrail_tracking_invalid_total:
// bad tokens, tokens of unknown messages, paths the mux would clean or does not route,
// and links whose recorded URL is not followed.
func TestTrackingInvalidMetricCountsEvery404(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, t.TempDir()+"/m.db", sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	signer, err := token.NewSigner(token.Key{ID: 1, Secret: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	reg := metrics.New()
	s := New(db, nil, signer, nil, Options{PublicURL: "https://mt.example", Metrics: reg})
	odd := New(oddTargets{db}, nil, signer, nil, Options{PublicURL: "https://mt.example", Metrics: reg})
	unknownClick := signer.Sign(token.Click, token.Ref{9, 9, 9}, 0)
	unsubTok := signer.Sign(token.Unsubscribe, token.Ref{1, 2, 3}, 0)
	hits := []struct {
		srv          *Server
		method, path string
	}{
		{s, "GET", "/api/track/click/not-a-token"},
		{s, "GET", "/api/track/click/"},
		{s, "GET", "/api/track/click/" + unknownClick},
		{s, "GET", "/api/track/click//" + unknownClick},
		{s, "GET", "/api/track/click/a/../" + unknownClick},
		{s, "HEAD", "/api/track/click/not-a-token"},
		{s, "GET", "/api/track/unsubscribe/not-a-token"},
		{s, "POST", "/api/track/unsubscribe/not-a-token"},
		{s, "GET", "/api/track/unsubscribe/" + unsubTok + "/extra"},
		{s, "POST", "/api/track/unsubscribe//" + unsubTok},
		{s, "GET", "/api/track/unsubscribe/"},
		{s, "GET", "/api/track/nothing-here"},
		{s, "GET", "/api/track/"},
		{odd, "GET", "/api/track/click/" + signer.Sign(token.Click, token.Ref{1, 2, 3}, 7)},
	}
	notFound := 0
	for _, h := range hits {
		rec := httptest.NewRecorder()
		h.srv.ServeHTTP(rec, httptest.NewRequest(h.method, h.path, nil))
		if rec.Code == http.StatusNotFound {
			notFound++
		} else {
			t.Errorf("%s %s: %d, want 404", h.method, h.path, rec.Code)
		}
		if rec.Header().Get("Location") != "" {
			t.Errorf("%s %s: Location %q", h.method, h.path, rec.Header().Get("Location"))
		}
	}
	if got := invalidTotal(t, reg); got != notFound {
		t.Fatalf("mailtrail_tracking_invalid_total = %d, 404 answers = %d", got, notFound)
	}
}
