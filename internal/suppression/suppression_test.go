package suppression

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/mailtrail/mailtrail"
)

type memAdder struct {
	got     map[string]mailtrail.SuppressionInput
	batches int
}

func (m *memAdder) AddSuppressions(_ context.Context, _ string, in []mailtrail.SuppressionInput, source, _ string) (mailtrail.AddResult, error) {
	var r mailtrail.AddResult
	m.batches++
	for _, s := range in {
		if source != mailtrail.SuppressSourceCSV {
			return r, fmt.Errorf("source %q", source)
		}
		if _, ok := m.got[s.Email]; ok {
			r.Existing++
			continue
		}
		m.got[s.Email] = s
		r.Added++
	}
	return r, nil
}

func TestImport(t *testing.T) {
	tests := []struct {
		name     string
		csv      string
		added    int
		badLines []int
		check    map[string]mailtrail.SuppressionInput
	}{
		{"positional", "a@x.com\nb@x.com,manual,c1,hi\n", 2, nil, map[string]mailtrail.SuppressionInput{
			"a@x.com": {Email: "a@x.com", Reason: "list_import"}, "b@x.com": {Email: "b@x.com", Reason: "manual", CustomerID: "c1", Note: "hi"}}},
		{"header in any order with BOM", "\ufeffcustomer_id,Email\nc1,a@x.com\n", 1, nil, map[string]mailtrail.SuppressionInput{
			"a@x.com": {Email: "a@x.com", Reason: "list_import", CustomerID: "c1"}}},
		{"header first column email", "email,reason\na@x.com,\n", 1, nil, nil},
		{"bad rows by line", "a@x.com\n\nnope\nb@x.com,complaint\n\"q\"x@x.com\nc@x.com\n", 2, []int{3, 4, 5}, nil},
		{"duplicates", "a@x.com\na@x.com\n", 1, nil, nil},
		{"crlf and spaces", "a@x.com, manual\r\n b@x.com\r\n", 2, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &memAdder{got: map[string]mailtrail.SuppressionInput{}}
			res, err := Import(context.Background(), strings.NewReader(tt.csv), m, "org", "me", ImportOptions{BatchSize: 2})
			if err != nil {
				t.Fatal(err)
			}
			var lines []int
			for _, e := range res.Errors {
				lines = append(lines, e.Line)
			}
			if res.Added != tt.added || fmt.Sprint(lines) != fmt.Sprint(tt.badLines) || res.Rejected != len(tt.badLines) {
				t.Fatalf("got %+v", res)
			}
			for k, v := range tt.check {
				if m.got[k] != v {
					t.Errorf("%s: %+v want %+v", k, m.got[k], v)
				}
			}
		})
	}
}

func TestImportBoundedErrors(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 50; i++ {
		b.WriteString("bad\n")
	}
	res, err := Import(context.Background(), strings.NewReader(b.String()), &memAdder{got: map[string]mailtrail.SuppressionInput{}}, "o", "a", ImportOptions{MaxErrors: 10})
	if err != nil || res.Rejected != 50 || len(res.Errors) != 10 || !res.Truncated {
		t.Fatalf("%+v %v", res, err)
	}
}
