package eventlog_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/internal/store/eventlog"
	"github.com/mailtrail/mailtrail/internal/store/eventlog/natstest"
)

// The log on an external JetStream that speaks only TLS and verifies its clients:
// appends and a Reader work with the authority and a client certificate, and the
// connection is refused without either.
func TestExternalLogOverTLS(t *testing.T) {
	ctx := context.Background()
	url, files := natstest.TLSServer(t, true)
	tlsFiles := eventlog.TLSFiles(files) // the same fields
	opts := eventlog.Options{URL: url, TLS: tlsFiles, PublishTimeout: 2 * time.Second}
	l := open(t, t.TempDir(), opts)
	r, err := l.Append(ctx, 0, "", events(0, 3))
	if err != nil {
		t.Fatal(err)
	}
	rd, err := eventlog.OpenReader(ctx, eventlog.ReaderOptions{URL: url, TLS: tlsFiles})
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	recs, err := rd.Read(ctx, 1, 10)
	if err != nil || len(recs) != 1 || recs[0].Pos != r.Pos.Seq || len(recs[0].Events) != 3 {
		t.Fatalf("read over TLS: %+v, %v", recs, err)
	}
	for _, c := range []struct {
		name string
		tls  eventlog.TLSFiles
		want string
	}{
		{"no authority", eventlog.TLSFiles{Cert: files.Cert, Key: files.Key}, "certificate"},
		{"no client certificate", eventlog.TLSFiles{CA: files.CA}, ""},
	} {
		if _, err := eventlog.OpenReader(ctx, eventlog.ReaderOptions{URL: url, TLS: c.tls}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want a refused connection", c.name, err)
		}
	}
}
