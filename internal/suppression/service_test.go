package suppression_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/ingest"
	"github.com/mailtrail/mailtrail/internal/store/sqlite"
	"github.com/mailtrail/mailtrail/internal/suppression"
)

var ctx = context.Background()

// newService returns the use case over a real SQLite store, with two organizations.
func newService(t *testing.T) (*suppression.Service, *sqlite.DB, string, string) {
	t.Helper()
	db, err := sqlite.Open(ctx, t.TempDir()+"/mailtrail.db", sqlite.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	a, _, err := db.CreateOrg(ctx, "acme", "UTC")
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := db.CreateOrg(ctx, "globex", "UTC")
	if err != nil {
		t.Fatal(err)
	}
	return suppression.NewService(db), db, a.ID, b.ID
}

func count(t *testing.T, s *suppression.Service, org string) int {
	t.Helper()
	n, err := s.Count(ctx, org, mailtrail.SuppressionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Add stores nothing when one entry is invalid, and names every invalid entry.
func TestAdd(t *testing.T) {
	s, _, org, other := newService(t)
	_, err := s.Add(ctx, org, []mailtrail.SuppressionInput{{Email: "ok@example.com"}, {Email: "nope"}, {Email: "b@example.com", Reason: "complaint"}}, mailtrail.SuppressSourceAPI, "key:k")
	var e *mailtrail.Error
	if !errors.As(err, &e) || e.Code != mailtrail.EINVALID || e.Message != "2 of 3 entries are invalid; nothing was stored" ||
		len(e.Details) != 2 || e.Details[0].Index != 1 || e.Details[0].Field != "email" || e.Details[1].Index != 2 || e.Details[1].Field != "reason" {
		t.Fatalf("Add with bad entries: %#v", err)
	}
	for _, n := range []int{0, suppression.MaxAdd + 1} {
		if _, err := s.Add(ctx, org, make([]mailtrail.SuppressionInput, n), mailtrail.SuppressSourceAPI, "a"); mailtrail.ErrorCode(err) != mailtrail.EINVALID {
			t.Errorf("%d entries: %v", n, err)
		}
	}
	if n := count(t, s, org); n != 0 {
		t.Fatalf("%d stored after refusals", n)
	}
	in := []mailtrail.SuppressionInput{{Email: " A@Example.com "}, {Email: "b@example.com", Reason: mailtrail.ReasonListImport}}
	res, err := s.Add(ctx, org, in, mailtrail.SuppressSourceAPI, "key:k")
	if err != nil || res.Added != 2 {
		t.Fatalf("Add = %+v, %v", res, err)
	}
	if strings.TrimSpace(in[0].Email) != in[0].Email || in[0].Reason != mailtrail.ReasonManual {
		t.Errorf("entries not validated in place: %+v", in[0])
	}
	if res, err := s.Add(ctx, org, []mailtrail.SuppressionInput{{Email: "a@example.com"}}, mailtrail.SuppressSourceManual, "dashboard"); err != nil || res.Existing != 1 {
		t.Fatalf("Add again = %+v, %v", res, err)
	}
	if n := count(t, s, other); n != 0 {
		t.Fatalf("another organization sees %d", n)
	}
}

// Remove requires a reason, lifts the organization's suppression only, and records why.
func TestRemoveAndHistory(t *testing.T) {
	s, _, org, other := newService(t)
	if _, err := s.Add(ctx, org, []mailtrail.SuppressionInput{{Email: "a@example.com"}}, mailtrail.SuppressSourceAPI, "key:k"); err != nil {
		t.Fatal(err)
	}
	for _, why := range []string{"", "  ", strings.Repeat("w", suppression.MaxWhy+1)} {
		if _, err := s.Remove(ctx, org, "a@example.com", "", "key:k", why); mailtrail.ErrorCode(err) != mailtrail.EINVALID {
			t.Errorf("why %q: %v", why, err)
		}
	}
	if _, err := s.Remove(ctx, other, "a@example.com", "", "key:k", "asked"); mailtrail.ErrorCode(err) != mailtrail.ENOTFOUND {
		t.Fatalf("another organization's removal: %v", err)
	}
	if n := count(t, s, org); n != 1 {
		t.Fatalf("%d suppressions after refused removals", n)
	}
	sup, err := s.Remove(ctx, org, "A@example.com", "", "key:k", "  they asked  ")
	if err != nil || sup.Email != "a@example.com" {
		t.Fatalf("Remove = %+v, %v", sup, err)
	}
	email, hist, cur, err := s.History(ctx, org, "A@EXAMPLE.com")
	if err != nil || email != "a@example.com" || cur != nil || len(hist) != 2 {
		t.Fatalf("History = %q %+v %+v %v", email, hist, cur, err)
	}
	if !strings.Contains(fmt.Sprintf("%+v", hist), "they asked") || strings.Contains(fmt.Sprintf("%+v", hist), "  they asked") {
		t.Errorf("history does not record the trimmed reason: %+v", hist)
	}
}

// Check answers organization-wide suppressions for every topic, and topic unsubscribes
// for the topics asked, in the order of the addresses given.
func TestCheck(t *testing.T) {
	s, db, org, other := newService(t)
	if _, err := s.Add(ctx, org, []mailtrail.SuppressionInput{{Email: "all@example.com"}}, mailtrail.SuppressSourceAPI, "key:k"); err != nil {
		t.Fatal(err)
	}
	// u1 unsubscribes from "news" through a tracked message of that topic.
	if err := db.CreateMessages(ctx, org, []*mailtrail.Message{{ID: "msg0000000000001", CampaignID: "c", CustomerID: "u1", CustomerEmail: "u1@example.com", Topic: "news"}}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	ev := &mailtrail.Event{OrgID: org, MessageID: "msg0000000000001", Type: mailtrail.EventUnsubscribed, OccurredAt: now, Source: mailtrail.SourceWebhook}
	ev.Metadata.Topic = "news"
	ingest.Normalize(ev, now)
	if _, err := db.Write(ctx, []*mailtrail.Event{ev}); err != nil {
		t.Fatal(err)
	}
	emails := []string{"U1@example.com", "none@example.com", "ALL@example.com"}
	got, err := s.Check(ctx, org, emails, nil)
	if err != nil || len(got) != 1 || got[0].Email != "ALL@example.com" || got[0].Reason != mailtrail.ReasonManual || got[0].Topics != nil {
		t.Fatalf("Check without topics = %+v, %v", got, err)
	}
	got, err = s.Check(ctx, org, emails, []string{" offers ", "news"})
	if err != nil || len(got) != 2 || got[0].Email != "U1@example.com" || fmt.Sprint(got[0].Topics) != "[news]" || got[0].Topic != "news" ||
		got[1].Email != "ALL@example.com" || fmt.Sprint(got[1].Topics) != "[offers news]" {
		t.Fatalf("Check with topics = %+v, %v", got, err)
	}
	if got, err := s.Check(ctx, other, emails, []string{"news"}); err != nil || len(got) != 0 {
		t.Fatalf("another organization's check = %+v, %v", got, err)
	}
	for _, c := range []struct {
		emails, topics []string
	}{
		{nil, nil},
		{make([]string, suppression.MaxCheck+1), nil},
		{emails, make([]string, suppression.MaxCheckTopics+1)},
		{emails, []string{" "}},
		{emails, []string{strings.Repeat("t", 201)}},
	} {
		if _, err := s.Check(ctx, org, c.emails, c.topics); mailtrail.ErrorCode(err) != mailtrail.EINVALID {
			t.Errorf("%d emails, topics %.20q: %v", len(c.emails), c.topics, err)
		}
	}
}

// Import adds a CSV's good rows under source csv_import and reports the bad ones.
func TestServiceImport(t *testing.T) {
	s, _, org, _ := newService(t)
	res, err := s.Import(ctx, strings.NewReader("email,note\na@example.com,hi\nnope,x\nb@example.com,\n"), org, "admin", suppression.ImportOptions{})
	if err != nil || res.Rows != 3 || res.Added != 2 || res.Rejected != 1 || res.Errors[0].Line != 3 {
		t.Fatalf("Import = %+v, %v", res, err)
	}
	page, err := s.List(ctx, org, mailtrail.SuppressionFilter{Source: mailtrail.SuppressSourceCSV})
	if err != nil || len(page.Suppressions) != 2 || page.Suppressions[0].Reason != mailtrail.ReasonListImport {
		t.Fatalf("List = %+v, %v", page, err)
	}
}

// failingPages fails every Suppressions call after the first.
type failingPages struct {
	*sqlite.DB
	calls int
}

func (f *failingPages) Suppressions(ctx context.Context, orgID string, flt mailtrail.SuppressionFilter) (*mailtrail.SuppressionPage, error) {
	if f.calls++; f.calls > 1 {
		return nil, errors.New("disk I/O error")
	}
	p, err := f.DB.Suppressions(ctx, orgID, flt)
	if err == nil && p.NextCursor == "" {
		p.NextCursor = "more" // pretend there is a next page
	}
	return p, err
}

// Export writes the header and every suppression across pages; it opens the writer only
// once the first page is read, and says when it was cut short.
func TestExport(t *testing.T) {
	s, db, org, _ := newService(t)
	in := make([]mailtrail.SuppressionInput, 25)
	for i := range in {
		in[i].Email = fmt.Sprintf("u%02d@example.com", i)
	}
	if _, err := s.Add(ctx, org, in, mailtrail.SuppressSourceAPI, "key:k"); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	pages := 0
	if err := s.Export(ctx, org, mailtrail.SuppressionFilter{}, func() io.Writer { return &buf }, func() { pages++ }); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(rows) != 26 || strings.Join(rows[0], ",") != strings.Join(suppression.ExportColumns, ",") || pages != 1 {
		t.Fatalf("export: %d rows, %d pages, %v", len(rows), pages, err)
	}
	seen := map[string]bool{}
	for _, r := range rows[1:] {
		seen[r[0]] = r[1] == mailtrail.ReasonManual && r[2] == mailtrail.SuppressSourceAPI
	}
	for _, x := range in {
		if !seen[x.Email] {
			t.Errorf("%s missing or wrong", x.Email)
		}
	}

	opened := false
	err = s.Export(ctx, org, mailtrail.SuppressionFilter{Reason: "hard_bounce"}, func() io.Writer { opened = true; return io.Discard }, nil)
	if err != nil || !opened {
		t.Fatalf("an empty export: %v, opened %v", err, opened)
	}
	f := &failingPages{DB: db}
	fs := suppression.NewService(f)
	opened = false
	if err := fs.Export(ctx, org, mailtrail.SuppressionFilter{}, func() io.Writer { opened = true; return io.Discard }, nil); !errors.Is(err, suppression.ErrExportCut) || !opened {
		t.Fatalf("a store failure after the first page: %v", err)
	}
	f.calls = 1 // the first read fails now: nothing is opened
	opened = false
	if err := fs.Export(ctx, org, mailtrail.SuppressionFilter{}, func() io.Writer { opened = true; return io.Discard }, nil); err == nil || errors.Is(err, suppression.ErrExportCut) || opened {
		t.Fatalf("a store failure before the first byte: %v, opened %v", err, opened)
	}
}
