package mailtrail_test

import (
	"fmt"
	"go/scanner"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mailtrail/mailtrail/internal/esp"
)

// The vendor-name rule (docs/architecture.md, "Packages"): what is particular to one ESP
// lives in internal/esp. Outside it, no identifier and no string literal of non-test code
// names a vendor; comments may (an example is harmless), and so may tests, bench/ (its
// load generators speak the vendors' formats) and testdata.
//
// A vendor name is a name of esp.Names(), except "generic" and "smtp", which are the names
// of formats, not of vendors (and ordinary words: SMTPCode, "generic error"). A token
// names a vendor when, split into words at case changes and at anything but letters and
// digits, one word or a run of up to three consecutive words spells the name in any case:
// "sendgridOff", "NewSendGrid", "MailgunToken", "SES: …", "smtp.com"; but not "uses",
// "sessions" or "BeforeSend".

// notVendors are names of esp.Names() that are formats rather than vendors.
var notVendors = map[string]bool{"generic": true, "smtp": true}

func vendorNames(t *testing.T) []string {
	var out []string
	for _, n := range esp.Names() {
		if !notVendors[n] {
			out = append(out, n)
		}
	}
	if len(out) < 5 {
		t.Fatalf("esp.Names() gives only %v", out)
	}
	return out
}

var (
	camel   = regexp.MustCompile(`([a-z0-9])([A-Z])`)
	acronym = regexp.MustCompile(`([A-Z])([A-Z][a-z])`)
)

// vendorIn returns the vendor that tok names, or "": a vendor name equal to one of tok's
// words or to a run of consecutive words ("Send"+"Grid", "smtp"+"."+"com").
func vendorIn(tok string, vendors []string) string {
	split := acronym.ReplaceAllString(camel.ReplaceAllString(tok, "$1 $2"), "$1 $2")
	words := strings.FieldsFunc(strings.ToLower(split), func(r rune) bool {
		return !('a' <= r && r <= 'z' || '0' <= r && r <= '9')
	})
	for i := range words {
		run := ""
		for j := i; j < len(words) && j < i+3; j++ {
			run += words[j]
			for _, v := range vendors {
				if run == v {
					return v
				}
			}
		}
	}
	return ""
}

// vendorTokens lists the identifiers and string literals of a Go source that name a
// vendor, as "file:line:col: token (vendor)".
func vendorTokens(name string, src []byte, vendors []string) []string {
	fset := token.NewFileSet()
	f := fset.AddFile(name, -1, len(src))
	var s scanner.Scanner
	s.Init(f, src, nil, 0) // comments are skipped
	var out []string
	for {
		pos, tok, lit := s.Scan()
		if tok == token.EOF {
			return out
		}
		if tok != token.IDENT && tok != token.STRING && tok != token.CHAR {
			continue
		}
		if v := vendorIn(lit, vendors); v != "" {
			out = append(out, fmt.Sprintf("%s: %s (%s)", fset.Position(pos), lit, v))
		}
	}
}

func TestVendorNamesOnlyInESP(t *testing.T) {
	vendors := vendorNames(t)
	var found []string
	files := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch {
			case path == filepath.Join("internal", "esp"), path == "bench", d.Name() == "testdata",
				path != "." && strings.HasPrefix(d.Name(), "."):
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		found = append(found, vendorTokens(path, src, vendors)...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 50 {
		t.Fatalf("scanned only %d files", files)
	}
	if len(found) > 0 {
		t.Errorf("vendor names outside internal/esp (move the knowledge into esp):\n  %s", strings.Join(found, "\n  "))
	}
}

// TestVendorNamesOnlyInESPCatch proves the check finds vendor names in identifiers and
// string literals, and leaves comments and ordinary words alone.
func TestVendorNamesOnlyInESPCatch(t *testing.T) {
	vendors := vendorNames(t)
	src := []byte(`package x

// SendGrid, Mailgun and SES are mentioned here, harmlessly.
var sendgridOff bool; var c = NewSendGrid
var v = esp.MailgunToken(body)
const help = "SES: the topic"
var ok = "uses sessions; generic smtp"; var b = BeforeSend
func x() { if vendor == "postmark" {} ; y := 'x' }
`)
	got := vendorTokens("x.go", src, vendors)
	want := []string{
		"x.go:4:5: sendgridOff (sendgrid)",
		"x.go:4:31: NewSendGrid (sendgrid)",
		"x.go:5:13: MailgunToken (mailgun)",
		"x.go:6:14: \"SES: the topic\" (ses)",
		"x.go:8:25: \"postmark\" (postmark)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("found:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}
