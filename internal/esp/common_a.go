package esp

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	fastjson "github.com/segmentio/encoding/json"

	"github.com/mailtrail/mailtrail"
)

// Helpers shared by the sendgrid, sparkpost, smtpcom, mailgun, postmark and generic
// vendors. Their names start with "hook" so they cannot clash with the helpers of the
// other vendor files of this package.

// HeaderWebhookSecret carries a per-connection shared secret (the connection's
// SigningKey) for vendors that can add a static header to their webhook calls but sign
// nothing: SMTP.com, SparkPost (custom_headers) and Postmark (custom HTTP headers).
const HeaderWebhookSecret = "X-Mailtrail-Webhook-Secret"

// hookMaxKindLen bounds the vendor kinds kept as Result.Ignored keys, so an
// authenticated sender cannot grow the metrics labels with long strings.
const hookMaxKindLen = 48

// errHookDecode is returned by the flexible JSON types on a value of the wrong type.
var errHookDecode = errors.New("esp: unexpected JSON type")

// hookString decodes a JSON string, number or null into text. Objects, arrays and
// booleans are an error: the field has the wrong type.
type hookString string

// UnmarshalJSON implements json.Unmarshaler.
func (s *hookString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return errHookDecode
	}
	switch c := b[0]; {
	case c == '"':
		if len(b) >= 2 && b[len(b)-1] == '"' && hookPlain(b[1:len(b)-1]) {
			*s = hookString(b[1 : len(b)-1]) // the decoder has checked the syntax already
			return nil
		}
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = hookString(v)
	case c == 'n':
		*s = ""
	case c == '-' || (c >= '0' && c <= '9'):
		*s = hookString(b)
	default:
		return errHookDecode
	}
	return nil
}

// hookPlain reports whether the inside of a JSON string needs no unescaping: no
// backslash, no control character, valid UTF-8.
func hookPlain(b []byte) bool {
	ascii := true
	for _, c := range b {
		if c == '\\' || c < 0x20 {
			return false
		}
		if c >= 0x80 {
			ascii = false
		}
	}
	return ascii || utf8.Valid(b)
}

// hookArg is a custom argument echoed by a vendor: a string or number is kept, any
// other value is dropped (it is not one of ours), never an error.
type hookArg string

// UnmarshalJSON implements json.Unmarshaler.
func (a *hookArg) UnmarshalJSON(b []byte) error {
	var s hookString
	if s.UnmarshalJSON(b) == nil {
		*a = hookArg(strings.TrimSpace(string(s)))
	}
	return nil
}

// hookArgs are our custom arguments (esp.ArgMessageID, …) wherever a vendor echoes
// them: at the top level of an event or in a metadata object.
type hookArgs struct {
	MessageID  hookArg `json:"mt_message_id"`
	CampaignID hookArg `json:"mt_campaign_id"`
	CustomerID hookArg `json:"mt_customer_id"`
}

// apply copies the arguments into e's attribution hints.
func (a *hookArgs) apply(e *mailtrail.Event) {
	if a == nil {
		return
	}
	e.MessageID = string(a.MessageID)
	e.CampaignID = string(a.CampaignID)
	e.CustomerID = string(a.CustomerID)
}

// hookBool decodes true/false, "true"/"false", 1/0 and null.
type hookBool bool

// UnmarshalJSON implements json.Unmarshaler.
func (v *hookBool) UnmarshalJSON(b []byte) error {
	switch string(bytes.TrimSpace(b)) {
	case "true", `"true"`, "1", `"1"`:
		*v = true
	case "false", `"false"`, "0", `"0"`, "null", `""`:
		*v = false
	default:
		return errHookDecode
	}
	return nil
}

// hookUnix decodes a Unix time in seconds given as a JSON number or string, with an
// optional fraction ("1717000050", 1717000050.123). Null or absent leaves it zero.
type hookUnix struct{ time.Time }

// UnmarshalJSON implements json.Unmarshaler.
func (t *hookUnix) UnmarshalJSON(b []byte) error {
	var s hookString
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	if s == "" {
		t.Time = time.Time{}
		return nil
	}
	v, ok := hookParseUnix(string(s))
	if !ok {
		return errHookDecode
	}
	t.Time = v
	return nil
}

// hookParseUnix parses Unix seconds with an optional fraction. It accepts only times
// after 1970 and before the year 5000, so every result is a usable, non-zero time.
func hookParseUnix(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(whole) > 11 || !hookDigits(whole) || !hookDigits(frac) {
		f, err := strconv.ParseFloat(s, 64) // exponent forms such as 1.717e9
		if err != nil || math.IsNaN(f) || f <= 0 || f >= 95617584000 {
			return time.Time{}, false
		}
		sec, fr := math.Modf(f)
		return time.Unix(int64(sec), int64(fr*1e9)).UTC(), true
	}
	sec, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || sec <= 0 || sec >= 95617584000 {
		return time.Time{}, false
	}
	var nsec int64
	if frac != "" {
		if len(frac) > 9 {
			frac = frac[:9]
		}
		n, _ := strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
		nsec = n
	}
	return time.Unix(sec, nsec).UTC(), true
}

// hookDigits reports whether s is only ASCII digits (true for "").
func hookDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// hookLowerHex reports whether s is n lowercase hexadecimal digits.
func hookLowerHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// hookEvent returns a webhook event of vendor with type t at time at (UTC).
func hookEvent(vendor string, t mailtrail.EventType, at time.Time) mailtrail.Event {
	return mailtrail.Event{
		Type:       t,
		OccurredAt: at.UTC(),
		Source:     mailtrail.SourceWebhook,
		Metadata:   mailtrail.Metadata{Vendor: vendor},
	}
}

// hookDedupe sets e's vendor event id and dedupe key: "<vendor>:<id>" when the vendor
// gave an id, else "<vendor>:h:" and the SHA-256 of the event's content (esp message id,
// type, recipient, time, url).
func hookDedupe(e *mailtrail.Event, id string) {
	v := e.Metadata.Vendor
	if id != "" {
		e.Metadata.VendorEventID = id
		e.DedupeKey = v + ":" + id
		return
	}
	h := sha256.New()
	var n [8]byte
	for _, p := range []string{
		e.ESPMessageID, e.Type.String(), strings.ToLower(e.CustomerEmail),
		e.OccurredAt.UTC().Format(time.RFC3339Nano), e.Metadata.LinkURL,
	} {
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write([]byte(p))
	}
	e.DedupeKey = v + ":h:" + hex.EncodeToString(h.Sum(nil))
}

// hookNewResult returns an empty Result with its Ignored map ready.
func hookNewResult() *Result {
	return &Result{Ignored: map[string]int{}}
}

// hookIgnore counts one vendor event of a kind we do not record.
func hookIgnore(r *Result, kind string) {
	if kind == "" {
		kind = "(none)"
	}
	if len(kind) > hookMaxKindLen {
		kind = kind[:hookMaxKindLen]
	}
	r.Ignored[kind]++
}

// hookRaw returns a copy of an event's raw JSON for Metadata.Raw.
func hookRaw(b []byte) json.RawMessage {
	return json.RawMessage(bytes.Clone(bytes.TrimSpace(b)))
}

// hookEach reads the JSON array body one element at a time: it decodes each element into
// a zeroed T and calls fn with it and the element's raw JSON (a slice of body, which fn
// must copy to keep). That is one scan of the body and one decode per element, where
// json.Unmarshal of the body into []json.RawMessage and then of every element took four
// passes and a copy of each element.
//
// The errors are those of decoding the whole array first and then each element, in that
// order: a body that is not one JSON array (a syntax error anywhere, data after it) is
// errMalformed(vendor); an empty array, or one of more than max elements (max > 0), is
// EINVALID; then the first element, in order, that is not an object or does not decode
// into a T is errMalformed(vendor), or fn's error for it. Elements after the first failure
// are still read, so that a syntax error after it is still the error.
//
// A body of well-formed elements within the limits, the common case, is read by
// hookEachFast first; any other body (or one it cannot read) is read again as above, so
// the answer for it is unchanged.
func hookEach[T any](vendor string, body []byte, max int, fn func(v *T, raw []byte) error) error {
	if vs, raws, ok := hookEachFast[T](body, max); ok {
		for i := range vs {
			if err := fn(&vs[i], raws[i]); err != nil {
				return err
			}
		}
		return nil
	}
	b := bytes.TrimSpace(body)
	if len(b) == 0 || b[0] != '[' {
		return errMalformed(vendor)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil { // the '['
		return errMalformed(vendor)
	}
	var (
		v, zero T
		n       int
		first   error // the first element's failure: the rest are only read
	)
	for dec.More() {
		start := dec.InputOffset()
		v = zero
		err := dec.Decode(&v)
		// The element without the comma and spaces before it; empty when it was not read.
		raw := bytes.TrimLeft(b[start:dec.InputOffset()], " \t\r\n,")
		if len(raw) == 0 || hookSyntax(err) || hookTooDeep(raw) {
			return errMalformed(vendor)
		}
		n++
		switch {
		case first != nil || (max > 0 && n > max):
		case err != nil || raw[0] != '{':
			first = errMalformed(vendor)
		default:
			first = fn(&v, raw)
		}
	}
	if t, err := dec.Token(); err != nil || t != json.Delim(']') || dec.InputOffset() != int64(len(b)) {
		return errMalformed(vendor)
	}
	if n == 0 {
		return mailtrail.Errorf(mailtrail.EINVALID, "empty %s batch", vendor)
	}
	if max > 0 && n > max {
		return mailtrail.Errorf(mailtrail.EINVALID, "%s batch of %d events is over the limit of %d", vendor, n, max)
	}
	return first
}

// hookEachFast decodes a JSON array body of 1 to max objects (max > 0; any number with
// max 0) into one T each, with segmentio/encoding's decoder, which decodes as
// encoding/json's does at a fraction of its CPU (FuzzHookEach holds the vendors' Parse to
// what it was). raws[i] is the text of element i, a slice of body. ok is false for any
// other body: not an array, empty, too long, an element that is not an object or does not
// decode, a syntax error anywhere, text after the array, or brackets enough to nest
// hookMaxDepth deep (this decoder has no depth limit of its own). Nothing is called
// before the whole body has been read, so hookEach can read such a body again.
//
// It holds every element's T at once, where hookEach holds one: so it reads a body only
// when one T (and its raws entry) per '{' of the body takes at most
// hookFastFactor times the body's bytes. Vendors' events (a few hundred bytes each) pass;
// a body of many tiny objects, which would take many times its size, is read as before.
func hookEachFast[T any](body []byte, max int) (vs []T, raws []json.RawMessage, ok bool) {
	b := bytes.TrimLeft(body, " \t\r\n")
	if len(b) == 0 || b[0] != '[' {
		return nil, nil, false
	}
	objects := bytes.Count(body, []byte{'{'})
	perObject := int(unsafe.Sizeof(*new(T))) + int(unsafe.Sizeof(json.RawMessage{}))
	if objects+bytes.Count(body, []byte{'['}) >= hookMaxDepth || objects*perObject > hookFastFactor*len(body) {
		return nil, nil, false
	}
	// The array first, each element kept as its text, then each element: decoding them one
	// by one from the body would scan the rest of the body at each (the decoder checks
	// its whole input for escapes first), quadratic in the elements.
	rest, err := fastjson.Parse(b, &raws, fastjson.DontCopyRawMessage)
	if err != nil || len(rest) != 0 || len(raws) == 0 || (max > 0 && len(raws) > max) {
		return nil, nil, false
	}
	vs = make([]T, len(raws))
	for i := range raws {
		raws[i] = bytes.Trim(raws[i], " \t\r\n")
		if len(raws[i]) == 0 || raws[i][0] != '{' {
			return nil, nil, false
		}
		if rest, err := fastjson.Parse(raws[i], &vs[i], 0); err != nil || len(rest) != 0 {
			return nil, nil, false
		}
	}
	return vs, raws, true
}

// hookFastFactor bounds the memory hookEachFast takes, as a multiple of the body.
const hookFastFactor = 4

// hookAppendEvent appends e to res.Events. The first gets the slice a capacity for the
// whole array body: one event per 200 bytes (SendGrid's are 250 to 600), at most 1,000.
// Growing it from nothing (an Event is about 600 bytes) took a quarter of SendGrid's
// Parse of 1,000 events.
func hookAppendEvent(res *Result, body []byte, e mailtrail.Event) {
	if res.Events == nil {
		res.Events = make([]mailtrail.Event, 0, max(1, min(len(body)/200, 1000)))
	}
	res.Events = append(res.Events, e)
}

// hookSyntax reports whether a json.Decoder's error is one of reading (the input is not
// JSON), not of decoding a value it read.
func hookSyntax(err error) bool {
	var se *json.SyntaxError
	return errors.As(err, &se) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

// hookMaxDepth is encoding/json's limit on nesting.
const hookMaxDepth = 10000

// hookTooDeep reports whether an array element nests hookMaxDepth levels: a decoder
// reading the element alone allows that, json.Unmarshal of the whole array (one level
// more) refused it. Only elements with that many brackets are scanned.
func hookTooDeep(raw []byte) bool {
	if len(raw) < hookMaxDepth || bytes.Count(raw, []byte{'['})+bytes.Count(raw, []byte{'{'}) < hookMaxDepth {
		return false
	}
	depth, str, esc := 0, false, false
	for _, c := range raw {
		switch {
		case esc:
			esc = false
		case str:
			esc, str = c == '\\', c != '"'
		case c == '"':
			str = true
		case c == '[' || c == '{':
			if depth++; depth >= hookMaxDepth {
				return true
			}
		case c == ']' || c == '}':
			depth--
		}
	}
	return false
}

// hookDecodeObject decodes one JSON object into v; anything else is EINVALID.
func hookDecodeObject(vendor string, b []byte, v any) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return errMalformed(vendor)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return errMalformed(vendor)
	}
	return nil
}

// hookHeaderSecret reports whether the request carries the connection's SigningKey (or
// the previous one during a rotation) in HeaderWebhookSecret. An empty key never matches.
func hookHeaderSecret(r *Request, c Credentials) bool {
	got := r.Header.Get(HeaderWebhookSecret)
	return eachCredential(c, func(c Credentials) bool {
		return c.SigningKey != "" && got != "" && equal(got, c.SigningKey)
	})
}

// hookSMTPClass returns the bounce type an SMTP reply code or enhanced status code
// implies: 5xx / 5.x.x hard, 4xx / 4.x.x soft, "" when it says neither.
func hookSMTPClass(code string) mailtrail.BounceType {
	code = strings.TrimSpace(code)
	if code == "" {
		return ""
	}
	switch code[0] {
	case '5':
		return mailtrail.BounceHard
	case '4':
		return mailtrail.BounceSoft
	}
	return ""
}

// RegisterA adds the vendors sendgrid, sparkpost, smtpcom, mailgun, postmark and generic
// to r.
func RegisterA(r Registry) {
	r.Register(NewSendGrid())
	r.Register(NewSparkPost())
	r.Register(NewSMTPCom())
	r.Register(NewMailgun())
	r.Register(NewPostmark())
	r.Register(NewGeneric())
}
