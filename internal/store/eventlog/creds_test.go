package eventlog_test

import (
	"context"
	"strings"
	"testing"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/store/eventlog"
	"github.com/mailtrail/mailtrail/internal/store/eventlog/natstest"
)

// A log on an external JetStream that asks for credentials connects with Options.Creds
// (a .creds file) and appends; without them it is refused with an authorization error.
func TestExternalLogWithCredentials(t *testing.T) {
	url, creds := natstest.OperatorServer(t)
	ctx := context.Background()
	opts := eventlog.Options{URL: url, Stream: "CREDS", SubjectPrefix: "creds", MaxMessageBytes: 64 << 10}
	if l, err := eventlog.Open(ctx, t.TempDir(), opts); err == nil {
		l.Close()
		t.Fatal("Open without credentials succeeded on a server that requires them")
	} else if !strings.Contains(strings.ToLower(err.Error()), "authorization") {
		t.Fatalf("Open without credentials: %v, want an authorization error", err)
	}
	opts.Creds = creds
	l := open(t, t.TempDir(), opts)
	r, err := l.Append(ctx, 0, "", []*mailtrail.Event{event(1), event(2)})
	if err != nil {
		t.Fatalf("Append with credentials: %v", err)
	}
	recs, err := l.Projection().Read(ctx, r.Pos.Seq, 1)
	if err != nil || len(recs) != 1 || len(recs[0].Events) != 2 || recs[0].Events[1].ID != event(2).ID {
		t.Fatalf("read back the append at %d: %+v, %v", r.Pos.Seq, recs, err)
	}
}
