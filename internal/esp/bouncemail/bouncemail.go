// Package bouncemail parses bounce and complaint mail: RFC 3464 delivery status
// notifications (DSNs) and RFC 5965 ARF feedback reports, as a mail server hands them to us
// (raw RFC 5322 bytes). It recognises the report, extracts per-recipient results and the
// identity of the original message, and maps them to mailtrail events. Mail that is not a
// report (auto-replies, human answers) parses to a Report of KindNone and yields no events.
package bouncemail

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
)

// HeaderMessageID is the header instrument adds to every message: our message id. Bounce
// mail that returns the original message (or its headers) carries it back.
const HeaderMessageID = "X-Mailtrail-Message-ID"

// Limits that keep a hostile message from costing more than its size.
const (
	maxDepth      = 5       // nested multiparts
	maxParts      = 64      // parts per multipart
	maxPartBytes  = 4 << 20 // bytes read from one part
	maxRecipients = 1000    // recipient blocks kept from one DSN
)

// ErrMalformed is returned by Parse for input that is not an RFC 5322 message, or a
// multipart/report whose MIME structure cannot be read.
var ErrMalformed = errors.New("bouncemail: malformed message")

// Kind says what sort of report a message is.
type Kind uint8

// The kinds of mail Parse recognises.
const (
	KindNone Kind = iota // not a report: auto-reply, human mail, unknown bounce format
	KindDSN              // RFC 3464 delivery status notification
	KindARF              // RFC 5965 abuse feedback report
)

// Report is what one bounce or complaint message says.
type Report struct {
	Kind Kind
	// MessageID is the report's own Message-ID, without angle brackets; "" when absent.
	MessageID string
	// Date is the report's Date header; zero when absent or unreadable.
	Date time.Time
	// ReportingMTA is the DSN's Reporting-MTA (type prefix removed).
	ReportingMTA string
	// Recipients are the DSN's per-recipient blocks, in order.
	Recipients []Recipient
	// Feedback is the ARF report's fields; nil for other kinds.
	Feedback *Feedback
	// Original identifies the message the report is about, from the returned message or
	// headers.
	Original Original
	// Part is the text of the machine-readable part (delivery-status or feedback-report).
	Part string
	// ContentHash is the SHA-256 of the whole raw message, for dedupe when MessageID is "".
	ContentHash [32]byte
}

// Recipient is one per-recipient block of a DSN.
type Recipient struct {
	Email          string    // Final-Recipient (else Original-Recipient), address only
	Action         string    // failed, delayed, delivered, relayed, expanded (lower case)
	Status         string    // RFC 3463 status, e.g. "5.1.1"
	DiagnosticCode string    // the remote server's answer, type prefix removed
	RemoteMTA      string    // type prefix removed
	LastAttempt    time.Time // Last-Attempt-Date; zero when absent
}

// Feedback is the machine-readable part of an ARF report.
type Feedback struct {
	Type        string   // Feedback-Type, lower case: abuse, fraud, virus, other, not-spam, …
	UserAgent   string   // the reporter's software
	Recipients  []string // Original-Rcpt-To values, address only
	ArrivalDate time.Time
	SourceIP    string
}

// Original identifies the message a report is about.
type Original struct {
	MailtrailID string // our HeaderMessageID header
	MessageID   string // its Message-ID, without angle brackets
	To          string // the first address of its To header
}

// Parse reads one raw RFC 5322 message. A message that is not a DSN or ARF report gives a
// Report of KindNone and no error. It returns ErrMalformed when the bytes are not a
// message at all, or when a multipart/report cannot be read and yields nothing.
func Parse(raw []byte) (*Report, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, ErrMalformed
	}
	rep := &Report{ContentHash: sha256.Sum256(raw), MessageID: trimID(msg.Header.Get("Message-Id"))}
	if d, err := msg.Header.Date(); err == nil {
		rep.Date = d
	}
	ct := msg.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || !strings.HasPrefix(mt, "multipart/") {
		return rep, nil
	}
	werr := rep.walk(msg.Body, params["boundary"], 0)
	if werr != nil && rep.Kind == KindNone && mt == "multipart/report" {
		return nil, ErrMalformed
	}
	return rep, nil
}

// walk visits the parts of one multipart body, recursing into nested multiparts.
func (rep *Report) walk(body io.Reader, boundary string, depth int) error {
	if boundary == "" || depth >= maxDepth {
		return ErrMalformed
	}
	mr := multipart.NewReader(body, boundary)
	for i := 0; i < maxParts; i++ {
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return ErrMalformed
		}
		mt, params, err := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if err != nil {
			mt = "text/plain"
		}
		if strings.HasPrefix(mt, "multipart/") {
			if err := rep.walk(decoded(p), params["boundary"], depth+1); err != nil && rep.Kind == KindNone {
				return err
			}
			continue
		}
		if !interesting(mt) {
			continue
		}
		b, err := io.ReadAll(io.LimitReader(decoded(p), maxPartBytes))
		if err != nil {
			continue
		}
		rep.part(mt, b)
	}
	return nil
}

// interesting reports whether a part of type mt says anything we read.
func interesting(mt string) bool {
	switch mt {
	case "message/delivery-status", "message/global-delivery-status", "message/feedback-report",
		"message/rfc822", "message/global", "text/rfc822-headers", "message/rfc822-headers",
		"message/global-headers":
		return true
	}
	return false
}

// part records what one leaf part of type mt says.
func (rep *Report) part(mt string, b []byte) {
	switch mt {
	case "message/delivery-status", "message/global-delivery-status":
		if rep.Kind != KindNone {
			return
		}
		rep.Kind = KindDSN
		rep.Part = string(b)
		rep.deliveryStatus(blocks(string(b)))
	case "message/feedback-report":
		if rep.Kind != KindNone {
			return
		}
		rep.Kind = KindARF
		rep.Part = string(b)
		rep.feedback(blocks(string(b)))
	default: // the returned message or its headers
		if rep.Original != (Original{}) {
			return
		}
		h := readHeader(b)
		rep.Original = Original{
			MailtrailID: strings.TrimSpace(h.Get(HeaderMessageID)),
			MessageID:   trimID(h.Get("Message-Id")),
			To:          firstAddress(h.Get("To")),
		}
	}
}

// deliveryStatus reads the per-message block and the per-recipient blocks of a DSN.
func (rep *Report) deliveryStatus(bs [][]field) {
	for i, b := range bs {
		if i == 0 && !isRecipientBlock(b) {
			rep.ReportingMTA = afterType(get(b, "Reporting-Mta"))
			continue
		}
		if !isRecipientBlock(b) || len(rep.Recipients) >= maxRecipients {
			continue
		}
		r := Recipient{
			Email:          address(afterType(get(b, "Final-Recipient"))),
			Action:         strings.ToLower(firstWord(get(b, "Action"))),
			Status:         firstWord(get(b, "Status")),
			DiagnosticCode: afterType(get(b, "Diagnostic-Code")),
			RemoteMTA:      afterType(get(b, "Remote-Mta")),
		}
		if r.Email == "" {
			r.Email = address(afterType(get(b, "Original-Recipient")))
		}
		if d, err := mail.ParseDate(get(b, "Last-Attempt-Date")); err == nil {
			r.LastAttempt = d
		}
		rep.Recipients = append(rep.Recipients, r)
	}
}

// feedback reads the fields of an ARF machine-readable part.
func (rep *Report) feedback(bs [][]field) {
	f := &Feedback{}
	for _, b := range bs {
		if f.Type == "" {
			f.Type = strings.ToLower(firstWord(get(b, "Feedback-Type")))
		}
		if f.UserAgent == "" {
			f.UserAgent = get(b, "User-Agent")
		}
		if f.SourceIP == "" {
			f.SourceIP = get(b, "Source-Ip")
		}
		if d, err := mail.ParseDate(get(b, "Arrival-Date")); err == nil && f.ArrivalDate.IsZero() {
			f.ArrivalDate = d
		}
		for _, v := range all(b, "Original-Rcpt-To") {
			if a := address(afterType(v)); a != "" && len(f.Recipients) < maxRecipients {
				f.Recipients = append(f.Recipients, a)
			}
		}
	}
	rep.Feedback = f
}

// decoded undoes a part's base64 transfer encoding (multipart already undoes
// quoted-printable). Some MTAs base64-encode message/* parts although RFC 2046 forbids it.
func decoded(p *multipart.Part) io.Reader {
	if strings.EqualFold(strings.TrimSpace(p.Header.Get("Content-Transfer-Encoding")), "base64") {
		return base64.NewDecoder(base64.StdEncoding, p)
	}
	return p
}

// readHeader parses the header section of a returned message or of a
// text/rfc822-headers part; what cannot be read is left out.
func readHeader(b []byte) mail.Header {
	b = append(b[:len(b):len(b)], "\r\n\r\n"...)
	tr := textproto.NewReader(newBufReader(b))
	h, _ := tr.ReadMIMEHeader()
	return mail.Header(h)
}

// trimID removes spaces and the angle brackets around a Message-ID.
func trimID(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "<")
	s = strings.TrimSuffix(s, ">")
	return strings.TrimSpace(s)
}

// firstAddress returns the bare address of the first mailbox in an address list.
func firstAddress(s string) string {
	if s == "" {
		return ""
	}
	if l, err := mail.ParseAddressList(s); err == nil && len(l) > 0 {
		return l[0].Address
	}
	return address(s)
}

// address strips a display name or angle brackets from one address.
func address(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '<'); i >= 0 {
		s = s[i+1:]
		if j := strings.IndexByte(s, '>'); j >= 0 {
			s = s[:j]
		}
	}
	return strings.TrimSpace(strings.Trim(s, "<>"))
}
