package clickhouse_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/projector"
)

// TestSelect streams an answer larger than the 16 MiB the package's other reads keep,
// returns the server's rows as they are, and refuses what is not a read.
func TestSelect(t *testing.T) {
	db := testDB(t, chURL(t))
	ctx := context.Background()
	evs := []*mailtrail.Event{event(1), event(2), event(3)}
	if err := db.InsertEvents(ctx, []projector.Record{{Pos: 1, Events: evs}}); err != nil {
		t.Fatalf("InsertEvents: %v", err)
	}
	var buf bytes.Buffer
	n, err := db.Select(ctx, "SELECT id FROM "+db.Database()+".events ORDER BY id FORMAT TabSeparated", &buf)
	if err != nil {
		t.Fatalf("Select: %v", err)
	}
	if got, want := buf.String(), "ev-1\nev-2\nev-3\n"; got != want || n != int64(len(want)) {
		t.Errorf("Select = %q (%d bytes), want %q", got, n, want)
	}

	// 3,000,000 numbers of 7 digits and a newline: 24 MB, beyond the 16 MiB limit.
	cw := &lineCounter{}
	n, err = db.Select(ctx, "SELECT number + 1000000 FROM system.numbers LIMIT 3000000 FORMAT TabSeparated", cw)
	if err != nil {
		t.Fatalf("Select numbers: %v", err)
	}
	if n != 24_000_000 || cw.lines != 3_000_000 {
		t.Errorf("Select numbers: %d bytes, %d lines; want 24000000 and 3000000", n, cw.lines)
	}

	if _, err := db.Select(ctx, "SELECT no_such_column FROM "+db.Database()+".events", &buf); err == nil || !strings.Contains(err.Error(), "no_such_column") {
		t.Errorf("Select of a missing column: error %v, want the server's message", err)
	}
	if _, err := db.Select(ctx, "DROP TABLE "+db.Database()+".events", &buf); err == nil {
		t.Error("Select ran a DROP")
	}
	if rows, _, err := db.Rows(ctx); err != nil || rows != 3 {
		t.Errorf("Rows after the refused DROP = %d, %v; want 3", rows, err)
	}
}

type lineCounter struct{ lines int }

func (c *lineCounter) Write(p []byte) (int, error) {
	c.lines += bytes.Count(p, []byte{'\n'})
	return len(p), nil
}
