package httpd

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mailtrail/mailtrail/internal/metrics"
	"github.com/mailtrail/mailtrail/internal/store/sqlite"
	"github.com/mailtrail/mailtrail/internal/token"
)

// failingClicks is the real store whose click lookups fail, as when the disk errors.
type failingClicks struct{ *sqlite.DB }

func (failingClicks) ClickTarget(context.Context, string, int) (string, string, error) {
	return "", "", errors.New("disk I/O error")
}

// A click whose URL cannot be read from the store is not answered with a JSON error nor
// redirected anywhere: a plain page asks the recipient to try again (503, Retry-After),
// and the hit is counted as unrecorded.
func TestClickWhenStoreFails(t *testing.T) {
	db, err := sqlite.Open(context.Background(), t.TempDir()+"/m.db", sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	signer, err := token.NewSigner(token.Key{ID: 1, Secret: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	reg := metrics.New()
	s := New(failingClicks{db}, nil, signer, nil, Options{PublicURL: "https://mt.example", Metrics: reg})
	tok := signer.Sign(token.Click, token.Ref{1, 2, 3}, 0)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/track/click/"+tok, nil))
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Location") != "" || rec.Header().Get("Retry-After") == "" ||
		!strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") || !strings.Contains(rec.Body.String(), "try again") {
		t.Fatalf("%d %v %q", rec.Code, rec.Header(), rec.Body.String())
	}
	var m bytes.Buffer
	reg.Write(&m)
	if !strings.Contains(m.String(), `mailtrail_tracking_unrecorded_total{kind="click"} 1`) {
		t.Fatalf("not counted:\n%s", m.String())
	}
}
