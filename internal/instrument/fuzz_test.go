package instrument

import (
	"bytes"
	"fmt"
	"html"
	"io"
	"strings"
	"testing"

	xhtml "golang.org/x/net/html"
)

func FuzzRewrite(f *testing.F) {
	for _, in := range goldenInputs(f) {
		src := readOptional(f, in)
		text := readOptional(f, strings.TrimSuffix(in, ".html")+".txt")
		f.Add(src, text, true, true)
		f.Add(src, text, false, false)
	}
	for _, s := range []string{
		`<a href="https://e.x/">x</a>`, `<a href=https://e.x/ data-mt-notrack/>`, `<p>&lt;<{{unsubscribe_url}}</p>`,
		`<A HREF='HTTP://E.X/?a=1&amp;b=2'>`, `<!--[if mso]><a href="https://e.x/"><![endif]-->`, `<a href="https://e.x/`,
		`<area href="{{ unsubscribe_url }}">`, "<pre>https://e.x {{unsubscribe_url}}</pre></body>",
	} {
		f.Add(s, s, true, true)
	}
	f.Fuzz(func(t *testing.T, src, text string, opens, clicks bool) {
		out, err := Rewrite(Input{HTML: src, Text: text, TrackOpens: opens, TrackClicks: clicks, MessageID: "m"}, fakeURLs{})
		if err != nil {
			t.Fatal(err)
		}
		checkInvariants(t, src, text, opens, clicks, out)
		checkScanAttrs(t, src)
	})
}

// checkInvariants checks what holds for every Rewrite of src and text.
func checkInvariants(t *testing.T, src, text string, opens, clicks bool, out Output) {
	t.Helper()
	for i, l := range out.Links {
		if !strings.HasPrefix(l, "http://") && !strings.HasPrefix(l, "https://") {
			t.Errorf("link %d = %q, not http(s)", i, l)
		}
	}
	if !clicks && len(out.Links) > 0 {
		t.Errorf("links %q with click tracking off", out.Links)
	}
	if strings.Contains(src, "t.example/") || strings.Contains(text, "t.example/") {
		return // the input mimics our URLs: counting them means nothing
	}
	all := out.HTML + "\n" + out.Text
	if n := strings.Count(all, clickStem); n != len(out.Links) {
		t.Errorf("%d click URLs in the output for %d links", n, len(out.Links))
	}
	for i := range out.Links {
		if n := strings.Count(all, fakeURLs{}.Click(i)); n != 1 {
			t.Errorf("click URL %d appears %d times", i, n)
		}
	}
	p := pixel(fakeOpen)
	wantPixels := 0
	if opens && src != "" {
		wantPixels = 1
	}
	if n := strings.Count(out.HTML, p); n != wantPixels {
		t.Fatalf("%d pixels, want %d", n, wantPixels)
	}
	unsubInOut := strings.Contains(out.HTML, "t.example/u/")
	if !strings.Contains(src, "unsubscribe_url") && !strings.Contains(src, "&") && unsubInOut {
		t.Errorf("unsubscribe URL in the output without a placeholder in the input")
	}
	if !opens && !clicks && !unsubInOut && out.HTML != src {
		t.Fatalf("nothing to do but the html changed: %s", firstDiff(src, out.HTML))
	}
	sameTokens(t, src, strings.Replace(out.HTML, p, "", 1), clicks)
}

// token is a token of the HTML tokenizer, copied.
type token struct {
	tt    xhtml.TokenType
	raw   string
	name  string
	attrs [][2]string
}

// tokenize returns the tokens of s, then any bytes the tokenizer left as text.
func tokenize(s string) []token {
	var toks []token
	z := xhtml.NewTokenizer(strings.NewReader(s))
	n := 0
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			break
		}
		tok := token{tt: tt, raw: string(z.Raw())}
		n += len(tok.raw)
		if tt == xhtml.StartTagToken || tt == xhtml.SelfClosingTagToken || tt == xhtml.EndTagToken {
			name, _ := z.TagName()
			tok.name = string(name)
			for more := true; more; {
				var k, v []byte
				k, v, more = z.TagAttr()
				if k == nil {
					break
				}
				if tok.name == "a" || tok.name == "area" {
					if string(k) == "data-mt-notrack" {
						continue
					}
				}
				tok.attrs = append(tok.attrs, [2]string{string(k), string(v)})
			}
		}
		toks = append(toks, tok)
	}
	if n < len(s) {
		toks = append(toks, token{tt: xhtml.ErrorToken, raw: s[n:]})
	}
	return toks
}

// sameTokens checks that out (without the pixel) is src token by token: the
// same raw bytes, except in start tags whose attributes differ only by the
// href value and data-mt-notrack, and text whose placeholders were replaced.
func sameTokens(t *testing.T, src, out string, clicks bool) {
	t.Helper()
	unsub := html.EscapeString(fakeUnsub)
	norm := strings.NewReplacer(
		fmt.Sprintf("&#%d;", fakeUnsub[0])+unsub[1:], "{{unsubscribe_url}}",
		unsub, "{{unsubscribe_url}}",
		"{{ unsubscribe_url }}", "{{unsubscribe_url}}")
	in, got := tokenize(src), tokenize(out)
	if len(in) != len(got) {
		t.Fatalf("%d tokens in the output, %d in the input:\n in: %q\nout: %q", len(got), len(in), src, out)
	}
	for i := range in {
		a, b := in[i], got[i]
		if a.raw == b.raw {
			continue
		}
		if a.tt != b.tt || a.name != b.name {
			t.Fatalf("token %d: %q became %q", i, a.raw, b.raw)
		}
		if a.tt == xhtml.TextToken && norm.Replace(a.raw) == norm.Replace(b.raw) {
			continue
		}
		if a.tt != xhtml.StartTagToken && a.tt != xhtml.SelfClosingTagToken || len(a.attrs) != len(b.attrs) {
			t.Fatalf("token %d: %q became %q", i, a.raw, b.raw)
		}
		for j := range a.attrs {
			ka, va, kb, vb := a.attrs[j][0], a.attrs[j][1], b.attrs[j][0], b.attrs[j][1]
			switch {
			case ka != kb:
			case va == vb:
				continue
			case ka == "href" && strings.HasPrefix(vb, clickStem) && clicks:
				continue
			case ka == "href" && strings.Contains(vb, fakeUnsub):
				continue
			}
			t.Fatalf("token %d: attribute %q=%q became %q=%q in %q", i, ka, va, kb, vb, b.raw)
		}
		// Outside the href value and data-mt-notrack, the tag is as it was.
		if stripTag(a.raw) != stripTag(b.raw) {
			t.Fatalf("token %d: %q became %q", i, a.raw, b.raw)
		}
	}
}

// stripTag returns a raw tag without its href value, its data-mt-notrack
// attributes and its white space.
func stripTag(raw string) string {
	b := []byte(raw)
	var out []byte
	at := 0
	for _, a := range scanAttrs(b, nil) {
		switch {
		case a.key == "href" && !a.dup:
			out = append(append(out, b[at:a.valStart]...), 'H')
			at = a.valEnd
		case a.key == "data-mt-notrack":
			out = append(out, b[at:a.keyStart]...)
			at = a.end
		}
	}
	out = append(out, b[at:]...)
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f' || r == '"' {
			return -1
		}
		return r
	}, string(out))
}

// checkScanAttrs checks scanAttrs against the tokenizer on every start tag.
func checkScanAttrs(t *testing.T, src string) {
	t.Helper()
	z := xhtml.NewTokenizer(strings.NewReader(src))
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			if z.Err() != io.EOF {
				t.Fatal(z.Err())
			}
			return
		}
		if tt != xhtml.StartTagToken && tt != xhtml.SelfClosingTagToken {
			continue
		}
		raw := bytes.Clone(z.Raw())
		var keys, vals []string
		for more := true; more; {
			var k, v []byte
			k, v, more = z.TagAttr()
			if k == nil {
				break
			}
			keys, vals = append(keys, string(k)), append(vals, string(v))
		}
		attrs := scanAttrs(raw, nil)
		if !sameKeys(attrs, keys) {
			t.Fatalf("scanAttrs(%q) disagrees with the tokenizer's keys %q", raw, keys)
		}
		n := 0
		for _, a := range attrs {
			if a.dup {
				continue
			}
			v := string(raw[a.valStart:a.valEnd])
			if !strings.ContainsAny(v, "&\x00\r") && v != vals[n] {
				t.Fatalf("scanAttrs(%q): value %q, tokenizer %q", raw, v, vals[n])
			}
			n++
		}
	}
}
