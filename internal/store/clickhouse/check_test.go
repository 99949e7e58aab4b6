package clickhouse

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/projector"
)

// TestCheckStaged: each sum of a staged block rejects the way a cut can leave it; the
// last row of the block cut inside its last field (every row there, one garbled) is
// caught by row_end alone.
func TestCheckStaged(t *testing.T) {
	b := Block{First: 1, Last: 2, Events: 3}
	want := sums{rows: 3, n: 3, bytes: 40}
	for _, tc := range []struct {
		answer, detail string
	}{
		{"3\t3\t3\t3\t40\n", ""},
		{"2\t1\t2\t2\t27\n", "rows"},
		{"3\t3\t3\t2\t40\n", "rows cut in their last field"},
		{"3\t4\t2\t3\t40\n", "row numbers"},
		{"3\t3\t3\t3\t39\n", "bytes"},
		{"garbage", "answer"},
	} {
		err := checkStaged(b, want, tc.answer)
		var inc *IncompleteError
		switch {
		case tc.detail == "" && err != nil:
			t.Errorf("%q: %v, want nil", tc.answer, err)
		case tc.detail == "answer" && (err == nil || errors.As(err, &inc)):
			t.Errorf("%q: %v, want an error about the answer", tc.answer, err)
		case tc.detail != "" && tc.detail != "answer" && (!errors.As(err, &inc) || inc.Detail != tc.detail):
			t.Errorf("%q: %v, want IncompleteError %q", tc.answer, err, tc.detail)
		}
	}
}

// TestEncodeBlock: one TSV line per event, fields escaped, sums of what was written.
func TestEncodeBlock(t *testing.T) {
	evs := []*mailtrail.Event{
		{ID: "a", OrgID: "o", CampaignID: "c\t1", Metadata: mailtrail.Metadata{LinkURL: "x\ny\\z\r\x00"}},
		{ID: "bb", OrgID: "o", CampaignID: "c"},
	}
	var buf bytes.Buffer
	s := encodeBlock(&buf, []projector.Record{{Pos: 7, Events: evs}}, 7, 42)
	if s.rows != 2 || s.n != 1 || s.bytes != uint64(1+1+3+2+1+1) {
		t.Errorf("sums %+v", s)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines: %q", len(lines), buf.String())
	}
	f := strings.Split(lines[0], "\t")
	if n := 3 + strings.Count(eventColumns, ",") + 1 + 1; len(f) != n {
		t.Fatalf("%d fields, want %d: %q", len(f), n, lines[0])
	}
	if f[0] != "7" || f[1] != "42" || f[2] != "0" || f[len(f)-1] != rowEnd {
		t.Errorf("line %q", lines[0])
	}
	if !strings.Contains(lines[0], `c\t1`) || !strings.Contains(lines[0], `x\ny\\z\r\0`) {
		t.Errorf("not escaped: %q", lines[0])
	}
}
