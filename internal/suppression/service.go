package suppression

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail"
)

// Store is what the suppressions use case needs of the store.
type Store interface {
	Adder
	Suppressions(ctx context.Context, orgID string, f mailtrail.SuppressionFilter) (*mailtrail.SuppressionPage, error)
	CountSuppressions(ctx context.Context, orgID string, f mailtrail.SuppressionFilter) (int, error)
	RemoveSuppression(ctx context.Context, orgID, email, actor, why string) (*mailtrail.Suppression, error)
	RemoveTopicSuppression(ctx context.Context, orgID, email, topic, actor, why string) (*mailtrail.Suppression, error)
	SuppressionHistory(ctx context.Context, orgID, email string) ([]mailtrail.SuppressionChange, *mailtrail.Suppression, error)
	CheckSuppressions(ctx context.Context, orgID string, emails []string) (map[string]mailtrail.Suppression, error)
	CheckTopicSuppressions(ctx context.Context, orgID string, emails, topics []string) (map[string][]mailtrail.Suppression, error)
}

// Limits of the suppressions use case.
const (
	MaxAdd         = 10000 // addresses per Add
	MaxCheck       = 10000 // addresses per Check
	MaxCheckTopics = 100   // topics per Check
	MaxWhy         = 1000  // bytes of the reason given for a removal
	exportPage     = 10000 // suppressions read per page of an export
)

// Service is the suppressions use case, with no HTTP in it: the API, the dashboard and
// `mailtrail suppression` call it, so the same rules apply whichever door is used. Safe
// for concurrent use.
type Service struct{ store Store }

// NewService returns the use case over store.
func NewService(store Store) *Service { return &Service{store: store} }

// List returns a page of the organization's suppressions.
func (s *Service) List(ctx context.Context, orgID string, f mailtrail.SuppressionFilter) (*mailtrail.SuppressionPage, error) {
	return s.store.Suppressions(ctx, orgID, f)
}

// Count returns how many of the organization's suppressions f matches.
func (s *Service) Count(ctx context.Context, orgID string, f mailtrail.SuppressionFilter) (int, error) {
	return s.store.CountSuppressions(ctx, orgID, f)
}

// Add suppresses 1 to MaxAdd addresses from source, each validated (Validate; reason
// manual when absent). If one is invalid nothing is stored, and the EINVALID error has one
// detail per invalid entry (index, field, message).
func (s *Service) Add(ctx context.Context, orgID string, in []mailtrail.SuppressionInput, source, actor string) (mailtrail.AddResult, error) {
	if len(in) == 0 || len(in) > MaxAdd {
		return mailtrail.AddResult{}, mailtrail.Errorf(mailtrail.EINVALID, "suppressions must hold 1 to %d entries", MaxAdd)
	}
	var details []mailtrail.ItemError
	for i := range in {
		if err := Validate(&in[i], mailtrail.ReasonManual); err != nil {
			d := mailtrail.ItemError{Index: i, Code: mailtrail.EINVALID, Message: err.Error()}
			if fe, ok := err.(*FieldError); ok {
				d.Field = fe.Field
			}
			details = append(details, d)
		}
	}
	if len(details) > 0 {
		return mailtrail.AddResult{}, &mailtrail.Error{Code: mailtrail.EINVALID, Details: details,
			Message: fmt.Sprintf("%d of %d entries are invalid; nothing was stored", len(details), len(in))}
	}
	return s.store.AddSuppressions(ctx, orgID, in, source, actor)
}

// Remove lifts the organization's suppression of email (organization-wide, or for topic
// when it is not empty), with why recorded in its history: why is required, at most
// MaxWhy bytes. It returns the suppression lifted; ENOTFOUND when there is none.
func (s *Service) Remove(ctx context.Context, orgID, email, topic, actor, why string) (*mailtrail.Suppression, error) {
	why = strings.TrimSpace(why)
	if why == "" || len(why) > MaxWhy {
		return nil, mailtrail.Errorf(mailtrail.EINVALID, "reason is required (why the address may be mailed again, at most 1000 characters)")
	}
	if topic = strings.TrimSpace(topic); topic != "" {
		return s.store.RemoveTopicSuppression(ctx, orgID, email, topic, actor, why)
	}
	return s.store.RemoveSuppression(ctx, orgID, email, actor, why)
}

// History returns email normalized, its suppression history and its current suppression
// (nil when none).
func (s *Service) History(ctx context.Context, orgID, email string) (string, []mailtrail.SuppressionChange, *mailtrail.Suppression, error) {
	email = mailtrail.NormalizeEmail(email)
	hist, cur, err := s.store.SuppressionHistory(ctx, orgID, email)
	return email, hist, cur, err
}

// CheckResult is one suppressed address of a check, as the caller sent it. With topics
// in the check, Topics lists those the address must not be mailed for: all of them when
// it is suppressed organization-wide (the suppression shown then), else the ones it
// unsubscribed from (the first one's suppression shown).
type CheckResult struct {
	Email string `json:"email"`
	mailtrail.Suppression
	Topics []string `json:"topics,omitempty"`
}

// Check returns, in the order of emails, those of the 1 to MaxCheck addresses that must
// not be mailed: suppressed organization-wide, or, with topics (at most MaxCheckTopics
// names of 1 to 200 characters), unsubscribed from one of them. Bad input is EINVALID.
func (s *Service) Check(ctx context.Context, orgID string, emails, topics []string) ([]CheckResult, error) {
	if len(emails) == 0 || len(emails) > MaxCheck {
		return nil, mailtrail.Errorf(mailtrail.EINVALID, "emails must hold 1 to %d addresses", MaxCheck)
	}
	if len(topics) > MaxCheckTopics {
		return nil, mailtrail.Errorf(mailtrail.EINVALID, "topics must hold at most %d names", MaxCheckTopics)
	}
	for i, t := range topics {
		if topics[i] = strings.TrimSpace(t); topics[i] == "" || len(topics[i]) > 200 {
			return nil, mailtrail.Errorf(mailtrail.EINVALID, "topics must be names of 1 to 200 characters")
		}
	}
	found, err := s.store.CheckSuppressions(ctx, orgID, emails)
	if err != nil {
		return nil, err
	}
	var scoped map[string][]mailtrail.Suppression
	if len(topics) > 0 {
		if scoped, err = s.store.CheckTopicSuppressions(ctx, orgID, emails, topics); err != nil {
			return nil, err
		}
	}
	out := make([]CheckResult, 0, len(found))
	for _, e := range emails {
		key := mailtrail.NormalizeEmail(e)
		if sup, ok := found[key]; ok {
			out = append(out, CheckResult{Email: e, Suppression: sup, Topics: topics})
			continue
		}
		if res, ok := topicResult(e, topics, scoped[key]); ok {
			out = append(out, res)
		}
	}
	return out, nil
}

// topicResult is the check's answer for an address with scoped suppressions only: the
// requested topics it unsubscribed from, in the request's order, and the first one's
// suppression.
func topicResult(email string, topics []string, sups []mailtrail.Suppression) (CheckResult, bool) {
	res := CheckResult{Email: email}
	for _, t := range topics {
		for _, s := range sups {
			if s.Topic == t && !slices.Contains(res.Topics, t) {
				if len(res.Topics) == 0 {
					res.Suppression = s
				}
				res.Topics = append(res.Topics, t)
			}
		}
	}
	return res, len(res.Topics) > 0
}

// Import reads a CSV of addresses from r and adds them in batches (see the package
// function Import), under source csv_import.
func (s *Service) Import(ctx context.Context, r io.Reader, orgID, actor string, opt ImportOptions) (ImportResult, error) {
	return Import(ctx, r, s.store, orgID, actor, opt)
}

// ExportColumns are the columns of the CSV export, its header row.
var ExportColumns = []string{"email", "reason", "source", "customer_id", "event_id", "detail", "note", "suppressed_at", "created_at", "email_hash", "topic"}

// ErrExportCut is what Export returns (wrapped) when the store fails after the first byte
// was written: the CSV written so far is incomplete and the caller can only cut it short.
var ErrExportCut = errors.New("suppression export: cut short")

// Export writes the organization's suppressions that f matches (its Limit ignored) as
// CSV, every page of them from f.Cursor on: the header row (ExportColumns), then one row per
// suppression. The first page is read before open is called for the writer, so an error
// then (a bad filter, an unavailable store) is returned with nothing written; page, when
// set, is called before each page is written (to extend a deadline). A store error after
// that is ErrExportCut; a writer that fails ends the export without error (its reader is
// gone).
func (s *Service) Export(ctx context.Context, orgID string, f mailtrail.SuppressionFilter, open func() io.Writer, page func()) error {
	f.Limit = exportPage
	p, err := s.store.Suppressions(ctx, orgID, f)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(open())
	_ = cw.Write(ExportColumns)
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	for {
		if page != nil {
			page()
		}
		for _, x := range p.Suppressions {
			_ = cw.Write([]string{x.Email, x.Reason, x.Source, x.CustomerID, x.EventID, x.Detail, x.Note, ts(x.SuppressedAt), ts(x.CreatedAt), x.EmailHash, x.Topic})
		}
		cw.Flush()
		if p.NextCursor == "" || cw.Error() != nil {
			return nil
		}
		f.Cursor = p.NextCursor
		if p, err = s.store.Suppressions(ctx, orgID, f); err != nil {
			return fmt.Errorf("%w: %w", ErrExportCut, err)
		}
	}
}
