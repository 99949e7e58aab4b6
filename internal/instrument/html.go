package instrument

import (
	"bytes"
	"fmt"
	"github.com/mailtrail/mailtrail"
	"io"
	"sort"
	"strings"

	"golang.org/x/net/html"
)

// rawTextTags are the elements whose content the tokenizer returns as one
// raw text token; we never touch it.
var rawTextTags = map[string]bool{
	"script": true, "style": true, "textarea": true, "title": true, "xmp": true,
	"iframe": true, "noembed": true, "noframes": true, "noscript": true, "plaintext": true,
}

// edit replaces raw[start:end] of one tag with text.
type edit struct {
	start, end int
	text       string
}

// html rewrites the HTML part. Every token is copied from its raw bytes; only
// href values, the data-mt-notrack attribute, placeholders in text and the
// pixel differ from src.
func (r *rewriter) html(src string, trackOpens, honeypot bool) string {
	if src == "" {
		return ""
	}
	var b strings.Builder
	b.Grow(len(src) + len(src)/8 + 512)
	z := html.NewTokenizer(strings.NewReader(src))
	var (
		consumed  int  // bytes of src copied so far
		rawNext   bool // the next text token is the content of a raw-text element
		pre       int  // depth of <pre>
		lastBody  = -1 // output offset of the last </body>
		lastHTML  = -1
		attrs     []rawAttr
		unsubText = html.EscapeString(r.unsub)
	)
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		raw := z.Raw()
		consumed += len(raw)
		inRaw := rawNext
		rawNext = false
		switch tt {
		case html.TextToken:
			if !inRaw && pre == 0 && bytes.Contains(raw, []byte("unsubscribe_url")) {
				writeTextPlaceholder(&b, string(raw), unsubText)
			} else {
				b.Write(raw)
			}
			continue
		case html.StartTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			rawNext = rawTextTags[string(name)]
			switch string(name) {
			case "pre":
				pre++
			case "a", "area":
				attrs = r.tag(&b, z, raw, true, attrs)
				continue
			}
			if bytes.Contains(raw, []byte("unsubscribe_url")) {
				attrs = r.tag(&b, z, raw, false, attrs)
				continue
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "pre":
				pre = max(pre-1, 0)
			case "body":
				lastBody = b.Len()
			case "html":
				lastHTML = b.Len()
			}
		}
		b.Write(raw)
	}
	end := b.Len()
	if z.Err() != io.EOF || consumed < len(src) {
		// What the tokenizer gave up on (an unfinished tag at the end) stays as is.
		b.WriteString(src[min(consumed, len(src)):])
	}
	out := b.String()
	var add string
	if honeypot && len(r.links) > 0 {
		add = honeypotLink(r.u.Click(mailtrail.HoneypotLink))
	}
	if trackOpens {
		add += pixel(r.u.Open())
	}
	if add == "" {
		return out
	}
	at := end // an unfinished tag at the end must not swallow the pixel
	switch {
	case lastBody >= 0:
		at = lastBody
	case lastHTML >= 0:
		at = lastHTML
	}
	return out[:at] + add + out[at:]
}

// tag writes the start tag raw, rewriting its href when it is a link (an <a>
// or <area>) to track, or when it holds the unsubscribe placeholder. attrs is
// scratch space, returned for reuse.
func (r *rewriter) tag(b *strings.Builder, z *html.Tokenizer, raw []byte, link bool, attrs []rawAttr) []rawAttr {
	var (
		keys                          []string
		href                          string
		hasHref, notrack, trackingOff bool
	)
	for more := true; more; {
		var k, v []byte
		k, v, more = z.TagAttr()
		if k == nil {
			break
		}
		key := string(k)
		keys = append(keys, key)
		switch key {
		case "href":
			href, hasHref = string(v), true
		case "data-mt-notrack":
			notrack = true
		case "clicktracking":
			trackingOff = strings.EqualFold(strings.TrimSpace(string(v)), "off")
		}
	}
	var (
		newHref string // the new value of href, if it changes
		dest    string // the destination to track, recorded once the edit is sure
	)
	switch {
	case !hasHref:
	case hasPlaceholder(href):
		newHref = replacePlaceholder(href, r.unsub)
	case link && r.trackClicks && !notrack && !trackingOff:
		dest, _ = trackableURL(href)
	}
	removeNotrack := link && notrack && r.trackClicks
	if newHref == "" && dest == "" && !removeNotrack {
		b.Write(raw)
		return attrs
	}

	attrs = scanAttrs(raw, attrs[:0])
	if !sameKeys(attrs, keys) {
		// Cannot happen if scanAttrs follows the tokenizer; never guess.
		b.Write(raw)
		return attrs
	}
	var edits []edit
	for _, a := range attrs {
		switch {
		case a.key == "href" && !a.dup && (newHref != "" || dest != ""):
			v := newHref
			if dest != "" {
				v = r.track(dest)
			}
			edits = append(edits, edit{a.valStart, a.valEnd, attrValue(v, a.quote)})
		case a.key == "data-mt-notrack" && removeNotrack:
			// Take the white space before it too, unless the next byte
			// needs it: in <a href=x data-mt-notrack/> the "/" would
			// otherwise join the unquoted value.
			start := a.keyStart
			if a.end == len(raw) || isSpace(raw[a.end]) || raw[a.end] == '>' {
				for start > 0 && isSpace(raw[start-1]) {
					start--
				}
			}
			edits = append(edits, edit{start, a.end, ""})
		}
	}
	sort.Slice(edits, func(i, j int) bool { return edits[i].start < edits[j].start })
	at := 0
	for _, e := range edits {
		b.Write(raw[at:e.start])
		b.WriteString(e.text)
		at = e.end
	}
	b.Write(raw[at:])
	return attrs
}

// sameKeys reports whether the non-repeated attributes of attrs are keys.
func sameKeys(attrs []rawAttr, keys []string) bool {
	n := 0
	for _, a := range attrs {
		if a.dup {
			continue
		}
		if n >= len(keys) || keys[n] != a.key {
			return false
		}
		n++
	}
	return n == len(keys)
}

// writeTextPlaceholder writes the text token raw with its placeholders
// replaced by url (HTML-escaped). Where a placeholder follows a bare "<", the
// first byte of url is written as a character reference: "<https:" would
// otherwise open a tag.
func writeTextPlaceholder(b *strings.Builder, raw, url string) {
	for {
		i, n := nextPlaceholder(raw)
		if i < 0 {
			b.WriteString(raw)
			return
		}
		b.WriteString(raw[:i])
		if i > 0 && raw[i-1] == '<' && url != "" {
			fmt.Fprintf(b, "&#%d;", url[0])
			b.WriteString(url[1:])
		} else {
			b.WriteString(url)
		}
		raw = raw[i+n:]
	}
}
