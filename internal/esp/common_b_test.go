package esp

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
)

// recordingFetcherB is a Fetcher that serves fixed bodies and records every call, so tests
// can assert that no outbound request was made.
type recordingFetcherB struct {
	mu    sync.Mutex
	calls []string
	body  map[string][]byte
	err   error
}

func (f *recordingFetcherB) Get(_ context.Context, url string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, url)
	if f.err != nil {
		return nil, f.err
	}
	return f.body[url], nil
}

func (f *recordingFetcherB) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// checkEventsB asserts the invariants of every webhook event and returns the events with
// Metadata.Raw removed (after checking it), for exact comparison.
func checkEventsB(t testing.TB, vendor string, evs []mailtrail.Event) []mailtrail.Event {
	t.Helper()
	out := make([]mailtrail.Event, len(evs))
	for i, e := range evs {
		if !e.Type.Valid() || e.Source != mailtrail.SourceWebhook || e.OccurredAt.IsZero() ||
			e.OccurredAt.Location() != time.UTC || !strings.HasPrefix(e.DedupeKey, vendor+":") ||
			e.Metadata.Vendor != vendor || e.OrgID != "" {
			t.Fatalf("invalid event %d: %+v", i, e)
		}
		if e.Type == mailtrail.EventBounced && e.Metadata.BounceType != mailtrail.BounceHard && e.Metadata.BounceType != mailtrail.BounceSoft {
			t.Fatalf("bounce without hard/soft: %+v", e)
		}
		if (e.Type == mailtrail.EventBounced || e.Type == mailtrail.EventComplained) && len(e.Metadata.Raw) == 0 {
			t.Fatalf("bounce or complaint without raw payload: %+v", e)
		}
		if len(e.Metadata.Raw) > 0 && !json.Valid(e.Metadata.Raw) {
			t.Fatalf("raw is not JSON: %q", e.Metadata.Raw)
		}
		if _, err := json.Marshal(e); err != nil {
			t.Fatalf("event does not marshal: %v", err)
		}
		e.Metadata.Raw = nil
		out[i] = e
	}
	return out
}

// eqEventsB compares events field by field and reports the first difference.
func eqEventsB(t testing.TB, got, want []mailtrail.Event) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d events, want %d:\n%+v", len(got), len(want), got)
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("event %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

// wantEventB builds an expected webhook event.
func wantEventB(vendor string, typ mailtrail.EventType, at string, key string) mailtrail.Event {
	ts, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		panic(err)
	}
	e := mailtrail.Event{Type: typ, OccurredAt: ts.UTC(), Source: mailtrail.SourceWebhook, DedupeKey: key}
	e.Metadata.Vendor = vendor
	return e
}

func readFileB(t testing.TB, parts ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(parts...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func codeB(err error) string { return mailtrail.ErrorCode(err) }

func TestSafeURLB(t *testing.T) {
	ok := func(h string) bool { return h == "good.example" }
	for u, want := range map[string]bool{
		"https://good.example/x":          true,
		"https://good.example:443/x":      true,
		"HTTPS://good.example/x":          true,
		"http://good.example/x":           false,
		"https://good.example:8443/x":     false,
		"https://u:p@good.example/x":      false,
		"https://good.example@evil.com/x": false,
		"https://evil.com/x":              false,
		"https://GOOD.example/x":          false,
		"https://good.example\\@evil/x":   false,
		"https://good.example /x":         false,
		"//good.example/x":                false,
		"":                                false,
	} {
		if got := safeURLB(u, ok); got != want {
			t.Errorf("safeURLB(%q) = %v, want %v", u, got, want)
		}
	}
}
