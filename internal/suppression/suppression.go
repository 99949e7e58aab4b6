// Package suppression holds what the API and the CLI share about suppressions managed by
// people and programs: validation of an added address and the streaming CSV import.
// The automatic rules live in internal/rules; storage in the stores.
package suppression

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/mailtrail/mailtrail"
)

// Adder stores a batch of additions (implemented by the stores).
type Adder interface {
	AddSuppressions(ctx context.Context, orgID string, in []mailtrail.SuppressionInput, source, actor string) (mailtrail.AddResult, error)
}

// ValidEmail reports whether s looks like an address: something@domain, at most 320
// bytes, without spaces or angle brackets.
func ValidEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	return at > 0 && at < len(s)-1 && len(s) <= 320 && !strings.ContainsAny(s, " \t\r\n<>,;\"")
}

// Validate trims and checks one addition: a valid email, a reason of manual or
// list_import (empty is replaced by def), customer_id at most 200 bytes, note at most
// 1000; email and customer_id valid UTF-8 without control characters, the note without
// NUL. The error message says what to fix.
func Validate(in *mailtrail.SuppressionInput, def string) error {
	in.Email = strings.TrimSpace(in.Email)
	in.Reason = strings.TrimSpace(in.Reason)
	in.CustomerID = strings.TrimSpace(in.CustomerID)
	if p := mailtrail.IDProblem(in.Email, 320); p != "" {
		return fieldErr("email", "email "+p)
	}
	if !ValidEmail(in.Email) {
		return fieldErr("email", "email must be an email address")
	}
	switch in.Reason {
	case "":
		in.Reason = def
	case mailtrail.ReasonManual, mailtrail.ReasonListImport:
	default:
		return fieldErr("reason", fmt.Sprintf("reason must be manual or list_import, not %q", trunc(in.Reason, 40)))
	}
	if len(in.CustomerID) > 200 {
		return fieldErr("customer_id", "customer_id is limited to 200 characters")
	}
	if p := mailtrail.IDProblem(in.CustomerID, 200); p != "" {
		return fieldErr("customer_id", "customer_id "+p)
	}
	if len(in.Note) > 1000 {
		return fieldErr("note", "note is limited to 1000 characters")
	}
	if p := mailtrail.TextProblem(in.Note, 1000); p != "" {
		return fieldErr("note", "note "+p)
	}
	return nil
}

// FieldError is an addition refused because of one field, which it names.
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string { return e.Message }

func fieldErr(field, msg string) error { return &FieldError{Field: field, Message: msg} }

func trunc(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// RowError is a rejected CSV row: its line (1-based) and why.
type RowError struct {
	Line    int    `json:"line"`
	Message string `json:"message"`
}

// ImportResult is the outcome of a CSV import so far.
type ImportResult struct {
	Rows     int `json:"rows"` // data rows read, good and bad
	Added    int `json:"added"`
	Existing int `json:"existing"`
	Rejected int `json:"rejected"`
	// Errors are the first rejected rows (ImportOptions.MaxErrors); Truncated says there
	// were more.
	Errors    []RowError `json:"errors"`
	Truncated bool       `json:"errors_truncated,omitempty"`
}

// ImportOptions tune Import; zero values take the defaults noted.
type ImportOptions struct {
	BatchSize int // rows per transaction, default 5000
	MaxErrors int // rejected rows reported, default 1000
	// Progress, when set, is called after every committed batch.
	Progress func(ImportResult)
}

// Import reads a CSV of addresses from r and stores them in batches as list_import
// suppressions with source csv_import: columns email[,reason[,customer_id[,note]]], or
// any order named by a header row (a first row with a column named "email"). Bad rows are reported
// by line and skipped; good rows are stored. Importing the same file again changes
// nothing. Memory is bounded by one batch. It stops at the first storage error or when
// ctx ends, returning what was committed so far with the error.
func Import(ctx context.Context, r io.Reader, a Adder, orgID, actor string, opt ImportOptions) (ImportResult, error) {
	if opt.BatchSize <= 0 {
		opt.BatchSize = 5000
	}
	if opt.MaxErrors <= 0 {
		opt.MaxErrors = 1000
	}
	res := ImportResult{Errors: []RowError{}}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	cr.TrimLeadingSpace = true
	cols := map[string]int{"email": 0, "reason": 1, "customer_id": 2, "note": 3}
	batch := make([]mailtrail.SuppressionInput, 0, opt.BatchSize)
	reject := func(line int, msg string) {
		res.Rejected++
		if len(res.Errors) < opt.MaxErrors {
			res.Errors = append(res.Errors, RowError{Line: line, Message: msg})
		} else {
			res.Truncated = true
		}
	}
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := a.AddSuppressions(ctx, orgID, batch, mailtrail.SuppressSourceCSV, actor)
		if err != nil {
			return err
		}
		res.Added += n.Added
		res.Existing += n.Existing
		batch = batch[:0]
		if opt.Progress != nil {
			opt.Progress(res)
		}
		return nil
	}
	first := true
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			res.Rows++
			reject(pe.StartLine, "malformed CSV: "+pe.Err.Error())
			first = false
			continue
		}
		if err != nil {
			return res, fmt.Errorf("suppression import: read: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if first {
			first = false
			rec[0] = strings.TrimPrefix(rec[0], "\ufeff")
			header := map[string]int{}
			for i, name := range rec {
				header[strings.ToLower(strings.TrimSpace(name))] = i
			}
			if _, ok := header["email"]; ok {
				cols = header
				continue
			}
		}
		res.Rows++
		field := func(name string) string {
			if i, ok := cols[name]; ok && i < len(rec) {
				return rec[i]
			}
			return ""
		}
		in := mailtrail.SuppressionInput{Email: field("email"), Reason: field("reason"), CustomerID: field("customer_id"), Note: field("note")}
		if err := Validate(&in, mailtrail.ReasonListImport); err != nil {
			reject(line, err.Error())
			continue
		}
		batch = append(batch, in)
		if len(batch) == opt.BatchSize {
			if err := flush(); err != nil {
				return res, err
			}
		}
	}
	return res, flush()
}
