// Package instrument prepares an email for tracking: it rewrites the links of
// the HTML and text parts to click URLs, inserts the open pixel, replaces the
// unsubscribe placeholder and builds the List-Unsubscribe headers (RFC 2369,
// RFC 8058).
//
// The HTML is never re-serialised: every byte that is not rewritten is copied
// from the input as it was, so templates built for Outlook and other fragile
// clients keep their exact markup.
package instrument

import (
	"fmt"
	"html"
	"strings"

	"github.com/mailtrail/mailtrail"
)

// MaxHTMLBytes is the largest HTML (and the largest text) part that Rewrite accepts.
const MaxHTMLBytes = 5 << 20

// Names of the headers that Rewrite returns.
const (
	HeaderListUnsubscribe     = "List-Unsubscribe"
	HeaderListUnsubscribePost = "List-Unsubscribe-Post"
	HeaderMessageID           = "X-Mailtrail-Message-ID"
)

// OneClick is the value of the List-Unsubscribe-Post header (RFC 8058 §3.1),
// and also the body a mail client POSTs to the unsubscribe URL.
const OneClick = "List-Unsubscribe=One-Click"

// URLs builds the tracking URLs of one message; the caller signs them.
type URLs interface {
	// Open returns the URL of the open pixel.
	Open() string
	// Click returns the click URL for the link at index link of Output.Links.
	Click(link int) string
	// Unsubscribe returns the https unsubscribe URL: a confirmation page on
	// GET and the RFC 8058 one-click endpoint on POST.
	Unsubscribe() string
}

// Input is one message to instrument.
type Input struct {
	HTML, Text              string
	TrackOpens, TrackClicks bool
	// UnsubscribeMailto is an optional "mailto:..." URI added to
	// List-Unsubscribe after the https URL; empty means https only.
	UnsubscribeMailto string
	// MessageID is our id of the message; it goes in the X-Mailtrail-Message-ID
	// header so that bounces map back to the message.
	MessageID string
	// Honeypot adds, when the HTML part has tracked links, a link no person can see or
	// reach (hidden, empty, out of the tab order, hidden from screen readers) whose click
	// URL carries link index mailtrail.HoneypotLink. Security scanners follow every
	// href; a click on it marks the message's clicks around it as a bot's.
	Honeypot bool
}

// Output is an instrumented message.
type Output struct {
	HTML, Text string
	// Links holds every tracked http(s) URL by link index: HTML links first in
	// document order, then the links of the text part. It is the destination a
	// click URL redirects to; never nil.
	Links []string
	// Headers holds List-Unsubscribe, List-Unsubscribe-Post and
	// X-Mailtrail-Message-ID, always all three.
	Headers map[string]string
}

// Rewrite instruments in with the tracking URLs of u.
//
// In the HTML part, every <a href> and <area href> holding an absolute http or
// https URL becomes u.Click(i), unless TrackClicks is false or the link is
// marked with data-mt-notrack (the attribute is removed) or
// clicktracking="off" (kept). The unsubscribe placeholder {{unsubscribe_url}}
// (or {{ unsubscribe_url }}) in an href value or in text becomes
// u.Unsubscribe(), whatever the flags; such an href is not click-tracked.
// Text inside <script>, <style> and the other raw-text elements, inside <pre>
// and inside comments (including Outlook conditional comments) is left as it
// is. With TrackOpens, a 1×1 pixel pointing at u.Open() is inserted before
// the last </body>, else before the last </html>, else at the end. An empty
// HTML part stays empty. In the text part, http(s) URLs become click URLs
// (when TrackClicks is set) and the placeholder is replaced.
//
// Malformed HTML never fails the rewrite: what the tokenizer cannot read is
// copied as it is. Rewrite returns a *mailtrail.Error with code EINVALID if a
// part is over MaxHTMLBytes, if a link to track is longer than mailtrail.MaxURLBytes or
// there are more than 65,535 of them (the error names the part), or if
// UnsubscribeMailto or MessageID could not be put safely in a header.
func Rewrite(in Input, u URLs) (Output, error) {
	if len(in.HTML) > MaxHTMLBytes {
		return Output{}, mailtrail.Errorf(mailtrail.EINVALID, "html is %d bytes; the limit is %d", len(in.HTML), MaxHTMLBytes)
	}
	if len(in.Text) > MaxHTMLBytes {
		return Output{}, mailtrail.Errorf(mailtrail.EINVALID, "text is %d bytes; the limit is %d", len(in.Text), MaxHTMLBytes)
	}
	unsub := u.Unsubscribe()
	headers, err := buildHeaders(unsub, in.UnsubscribeMailto, in.MessageID)
	if err != nil {
		return Output{}, err
	}
	r := rewriter{u: u, unsub: unsub, trackClicks: in.TrackClicks, links: []string{}}
	out := Output{Headers: headers}
	r.part = "html"
	out.HTML = r.html(in.HTML, in.TrackOpens, in.Honeypot)
	r.part = "text"
	out.Text = r.text(in.Text)
	if r.err != nil {
		return Output{}, r.err
	}
	out.Links = r.links
	return out, nil
}

// rewriter holds the state shared by the HTML and text parts of one message.
type rewriter struct {
	u           URLs
	unsub       string
	trackClicks bool
	links       []string
	part        string // "html" or "text": the field an error names
	err         error  // the first link that cannot be tracked
}

// track records dest as the next link and returns its click URL. A link longer than
// mailtrail.MaxURLBytes, or past the largest link index a click id can carry (the last
// one is the honeypot's), is an error of the message, never a link silently left
// untracked.
func (r *rewriter) track(dest string) string {
	switch {
	case r.err != nil:
		return dest
	case len(dest) > mailtrail.MaxURLBytes:
		r.err = partErr(r.part, fmt.Sprintf("%s: link %d is %d bytes; the limit is %d", r.part, len(r.links)+1, len(dest), mailtrail.MaxURLBytes))
		return dest
	case len(r.links) >= mailtrail.HoneypotLink:
		r.err = partErr(r.part, fmt.Sprintf("%s: more than %d tracked links in one email", r.part, mailtrail.HoneypotLink))
		return dest
	}
	r.links = append(r.links, dest)
	return r.u.Click(len(r.links) - 1)
}

// partErr is an EINVALID error naming the part (html or text) at fault.
func partErr(part, msg string) error {
	return &mailtrail.Error{Code: mailtrail.EINVALID, Message: msg,
		Details: []mailtrail.ItemError{{Field: part, Code: mailtrail.EINVALID, Message: msg}}}
}

// honeypotLink returns the hidden honeypot anchor for clickURL: empty, not displayed (mso-hide
// for Outlook), out of the tab order and hidden from assistive technology.
func honeypotLink(clickURL string) string {
	return `<a href="` + html.EscapeString(clickURL) + `" style="display:none;mso-hide:all;font-size:0;line-height:0;max-height:0;overflow:hidden" aria-hidden="true" tabindex="-1"></a>`
}

// pixel returns the open pixel tag for openURL.
func pixel(openURL string) string {
	return `<img src="` + html.EscapeString(openURL) + `" width="1" height="1" alt="" style="display:block;border:0;width:1px;height:1px" />`
}

// buildHeaders returns the headers of the message. It fails if a value
// could end the header early (header injection) or is not what it claims.
func buildHeaders(unsub, mailto, messageID string) (map[string]string, error) {
	// RFC 8058 wants https; plain http is accepted for local and test setups (the
	// service's public URL decides, and the docs say to use https in production).
	if !headerSafe(unsub) || !(hasPrefixFold(unsub, "https://") || hasPrefixFold(unsub, "http://")) {
		// The caller's URL builder made it: a bug, not bad input.
		return nil, fmt.Errorf("instrument: unsubscribe url %q is not a header-safe http(s) url", unsub)
	}
	list := "<" + unsub + ">"
	if mailto != "" {
		if !hasPrefixFold(mailto, "mailto:") || !headerSafe(mailto) {
			return nil, mailtrail.Errorf(mailtrail.EINVALID, "unsubscribe mailto must be a mailto: URI without spaces, control characters or angle brackets")
		}
		list += ", <" + mailto + ">"
	}
	if strings.ContainsFunc(messageID, func(c rune) bool { return c < 0x20 || c == 0x7f }) {
		return nil, mailtrail.Errorf(mailtrail.EINVALID, "message id must not contain control characters")
	}
	return map[string]string{
		HeaderListUnsubscribe:     list,
		HeaderListUnsubscribePost: OneClick,
		HeaderMessageID:           messageID,
	}, nil
}

// headerSafe reports whether s can sit between angle brackets in a header.
func headerSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == 0x7f || c == '<' || c == '>' {
			return false
		}
	}
	return true
}

// hasPrefixFold reports whether s starts with the ASCII prefix, ignoring case.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
