package instrument

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mailtrail/mailtrail"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// fakeURLs builds recognisable tracking URLs. The unsubscribe URL holds an
// '&' to check that it is escaped in HTML and not in text or headers.
type fakeURLs struct{}

const (
	fakeOpen   = "https://t.example/o/OPEN"
	fakeUnsub  = "https://t.example/u/UNSUB?a=1&b=2"
	clickStem  = "https://t.example/c/"
	clickFlank = "/CLICK"
)

func (fakeURLs) Open() string        { return fakeOpen }
func (fakeURLs) Click(i int) string  { return fmt.Sprintf("%s%d%s", clickStem, i, clickFlank) }
func (fakeURLs) Unsubscribe() string { return fakeUnsub }

// goldenInputs returns the .html files of testdata that are inputs.
func goldenInputs(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/*.html")
	if err != nil {
		t.Fatal(err)
	}
	return slices.DeleteFunc(files, func(f string) bool { return strings.HasSuffix(f, ".golden.html") })
}

// readOptional returns the file's content, or "" if it does not exist.
func readOptional(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if errors.Is(err, os.ErrNotExist) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkGolden compares got with the golden file, or writes it with -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(name, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(name)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the output (run go test -update and review the diff):\n%s", name, firstDiff(string(want), got))
	}
}

// firstDiff shows where two strings start to differ.
func firstDiff(want, got string) string {
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	from := max(i-80, 0)
	return fmt.Sprintf("at byte %d\nwant: %q\n got: %q", i, want[from:min(i+80, len(want))], got[from:min(i+80, len(got))])
}

func TestRewriteGolden(t *testing.T) {
	for _, in := range goldenInputs(t) {
		base := strings.TrimSuffix(in, ".html")
		t.Run(filepath.Base(base), func(t *testing.T) {
			src := readOptional(t, in)
			text := readOptional(t, base+".txt")
			out, err := Rewrite(Input{
				HTML: src, Text: text, TrackOpens: true, TrackClicks: true,
				UnsubscribeMailto: "mailto:unsub@t.example?subject=unsubscribe", MessageID: "msg_01",
			}, fakeURLs{})
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, base+".golden.html", out.HTML)
			if text != "" {
				checkGolden(t, base+".golden.txt", out.Text)
			}
			var links strings.Builder
			for i, l := range out.Links {
				fmt.Fprintf(&links, "%d %s\n", i, l)
			}
			checkGolden(t, base+".links.golden", links.String())
			checkInvariants(t, src, text, true, true, out)
		})
	}
}

func TestRewriteMarketing(t *testing.T) {
	src := readOptional(t, "testdata/marketing.html")
	out, err := Rewrite(Input{HTML: src, TrackOpens: true, TrackClicks: true, MessageID: "m1"}, fakeURLs{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"https://Shop.Example.com/View?Msg=ABC",
		"https://shop.example.com/?utm_source=email&utm_medium=newsletter&utm_campaign=spring_sale",
		"https://shop.example.com/c/garden?ref=hero&x=1",
		"https://shop.example.com/c/outdoor",
		"https://shop.example.com/c/garden?ref=hero&x=1",
		"https://shop.example.com/padded",
		`https://shop.example.com/multi-line?a=1&b="q"`,
		"https://shop.example.com/sale",
		"https://shop.example.com/hero-left",
	}
	if !slices.Equal(out.Links, want) {
		t.Errorf("links:\n got %q\nwant %q", out.Links, want)
	}
	for _, s := range []string{
		`<A HREF="https://t.example/c/0/CLICK" STYLE="color:#666">`,
		`<a href='https://t.example/c/2/CLICK' style='color:#0a66c2'>`,
		`<a href=https://t.example/c/3/CLICK class=link>`,
		`href="https://t.example/c/6/CLICK"` + "\n" + `               title="multi line tag">`,
		`<area shape="rect" coords="0,0,300,200" href="https://t.example/c/8/CLICK" alt="Left" />`,
		`<a href="https://partner.example.org/coupon">`,
		`<a href="https://partner.example.org/terms">`,
		`<a clicktracking="off" href="https://partner.example.org/privacy">`,
		`<a href="https://t.example/u/UNSUB?a=1&amp;b=2" style="color:#666">`,
		`<a href='https://t.example/u/UNSUB?a=1&amp;b=2&amp;reason=too_many'>`,
		`Unsubscribe link in text: https://t.example/u/UNSUB?a=1&amp;b=2</p>`,
		`<a href="{{view_in_browser_url}}">`, `<a href="*|ARCHIVE|*">`, `<a href="mailto:help@example.com?subject=Spring%20sale">`,
		`<a href="tel:+1-555-0100">`, `<a href="#top">`, `<a href="/relative/path">`, `<a href="javascript:void(0)">`, `<a href="">`,
		`v:roundrect xmlns:v="urn:schemas-microsoft-com:vml" href="https://shop.example.com/sale"`,
		`<title>Spring Sale &ndash; up to 40% off {{unsubscribe_url}}</title>`,
		`Order ref: https://shop.example.com/orders/42   {{unsubscribe_url}}`,
		`<a href="https://in.comment.example/">hidden</a>`,
		`"url":"https://shop.example.com/orders?id=42&src=gmail"`,
		pixel(fakeOpen) + "</BODY>",
	} {
		if !strings.Contains(out.HTML, s) {
			t.Errorf("output lacks %q", s)
		}
	}
	if strings.Contains(out.HTML, "data-mt-notrack") {
		t.Error("data-mt-notrack left in the output")
	}
}

func TestRewriteFlagsOff(t *testing.T) {
	src := readOptional(t, "testdata/marketing.html")
	text := readOptional(t, "testdata/marketing.txt")
	out, err := Rewrite(Input{HTML: src, Text: text, MessageID: "m1"}, fakeURLs{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Links) != 0 || out.Links == nil {
		t.Errorf("links = %#v, want empty and not nil", out.Links)
	}
	if strings.Contains(out.HTML, clickStem) || strings.Contains(out.Text, clickStem) || strings.Contains(out.HTML, fakeOpen) {
		t.Error("tracking URL in the output with tracking off")
	}
	// Only the placeholder is replaced; everything else is the input.
	wantHTML := strings.NewReplacer(
		`href="{{unsubscribe_url}}"`, `href="https://t.example/u/UNSUB?a=1&amp;b=2"`,
		`href='{{ unsubscribe_url }}&amp;reason=too_many'`, `href='https://t.example/u/UNSUB?a=1&amp;b=2&amp;reason=too_many'`,
		`in text: {{unsubscribe_url}}`, `in text: https://t.example/u/UNSUB?a=1&amp;b=2`,
	).Replace(src)
	if out.HTML != wantHTML {
		t.Errorf("html: %s", firstDiff(wantHTML, out.HTML))
	}
	wantText := strings.NewReplacer("{{unsubscribe_url}}", fakeUnsub, "{{ unsubscribe_url }}", fakeUnsub).Replace(text)
	if out.Text != wantText {
		t.Errorf("text: %s", firstDiff(wantText, out.Text))
	}

	// Without a placeholder, the HTML is returned as it came.
	plain := strings.NewReplacer("{{unsubscribe_url}}", "x", "{{ unsubscribe_url }}", "x").Replace(src)
	out, _ = Rewrite(Input{HTML: plain}, fakeURLs{})
	if out.HTML != plain {
		t.Errorf("flags off changed the html: %s", firstDiff(plain, out.HTML))
	}
}

func TestRewriteOpensOnly(t *testing.T) {
	src := `<html><body><a href="https://example.com/" data-mt-notrack>x</a></body></html>`
	out, err := Rewrite(Input{HTML: src, TrackOpens: true}, fakeURLs{})
	if err != nil {
		t.Fatal(err)
	}
	want := `<html><body><a href="https://example.com/" data-mt-notrack>x</a>` + pixel(fakeOpen) + `</body></html>`
	if out.HTML != want {
		t.Errorf("got  %s\nwant %s", out.HTML, want)
	}
}

func TestRewritePixelPlacement(t *testing.T) {
	p := pixel(fakeOpen)
	for _, tc := range []struct{ name, in, want string }{
		{"body", "<html><body>x</body></html>", "<html><body>x" + p + "</body></html>"},
		{"last body", "<body>a</body><body>b</BODY >\n", "<body>a</body><body>b" + p + "</BODY >\n"},
		{"body in comment or script", "<body>a</body><!-- </body> --><script>'</body>'</script>", "<body>a" + p + "</body><!-- </body> --><script>'</body>'</script>"},
		{"html only", "<html><p>x</p></html>\n", "<html><p>x</p>" + p + "</html>\n"},
		{"fragment", "<p>x</p>", "<p>x</p>" + p},
		{"unfinished tag", `<p>x <a href="https://e`, `<p>x ` + p + `<a href="https://e`},
		{"empty", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Rewrite(Input{HTML: tc.in, TrackOpens: true}, fakeURLs{})
			if err != nil {
				t.Fatal(err)
			}
			if out.HTML != tc.want {
				t.Errorf("got  %q\nwant %q", out.HTML, tc.want)
			}
		})
	}
}

func TestRewriteHref(t *testing.T) {
	for _, tc := range []struct{ name, in, want, link string }{
		{"double", `<a href="https://e.x/">`, `<a href="https://t.example/c/0/CLICK">`, "https://e.x/"},
		{"single", `<a href='https://e.x/'>`, `<a href='https://t.example/c/0/CLICK'>`, "https://e.x/"},
		{"unquoted", `<a href=https://e.x/ id=1>`, `<a href=https://t.example/c/0/CLICK id=1>`, "https://e.x/"},
		{"unquoted at end", `<a href=https://e.x/>`, `<a href=https://t.example/c/0/CLICK>`, "https://e.x/"},
		{"spaces around =", `<a href = "http://e.x/" >`, `<a href = "https://t.example/c/0/CLICK" >`, "http://e.x/"},
		{"uppercase scheme", `<A Href="HtTp://E.x/P">`, `<A Href="https://t.example/c/0/CLICK">`, "http://E.x/P"},
		{"entities", `<a href="https://e.x/?a=1&amp;b=2&#x26;c=&lt;3">`, `<a href="https://t.example/c/0/CLICK">`, "https://e.x/?a=1&b=2&c=<3"},
		{"newline inside", "<a href=\"https://e.x/a\n  b\">", `<a href="https://t.example/c/0/CLICK">`, "https://e.x/a  b"},
		{"duplicate href uses the first", `<a href="https://e.x/1" HREF="https://e.x/2">`, `<a href="https://t.example/c/0/CLICK" HREF="https://e.x/2">`, "https://e.x/1"},
		{"self-closing", `<a href="https://e.x/"/>`, `<a href="https://t.example/c/0/CLICK"/>`, "https://e.x/"},
		{"attr glued after quote", `<a id="x"href="https://e.x/">`, `<a id="x"href="https://t.example/c/0/CLICK">`, "https://e.x/"},
		{"notrack first", `<a data-mt-notrack href="https://e.x/">`, `<a href="https://e.x/">`, ""},
		{"notrack value", "<a href=\"https://e.x/\"\n\tDATA-MT-NOTRACK='1'>", `<a href="https://e.x/">`, ""},
		{"notrack glued", `<a href="https://e.x/"data-mt-notrack>`, `<a href="https://e.x/">`, ""},
		{"sendgrid off", `<a clicktracking=OFF href="https://e.x/">`, `<a clicktracking=OFF href="https://e.x/">`, ""},
		{"sendgrid on", `<a clicktracking="on" href="https://e.x/">`, `<a clicktracking="on" href="https://t.example/c/0/CLICK">`, "https://e.x/"},
		{"no host", `<a href="https:///path">`, `<a href="https:///path">`, ""},
		{"scheme only", `<a href="http://">`, `<a href="http://">`, ""},
		{"no slashes", `<a href="https:e.x">`, `<a href="https:e.x">`, ""},
		{"template", `<a href="https://e.x/{{id}}">`, `<a href="https://e.x/{{id}}">`, ""},
		{"merge tag", `<a href="https://e.x/*|ID|*">`, `<a href="https://e.x/*|ID|*">`, ""},
		{"protocol relative", `<a href="//e.x/">`, `<a href="//e.x/">`, ""},
		{"link tag", `<link href="https://e.x/s.css" rel="stylesheet">`, `<link href="https://e.x/s.css" rel="stylesheet">`, ""},
		{"img", `<img src="https://e.x/i.png">`, `<img src="https://e.x/i.png">`, ""},
		{"in textarea", `<textarea><a href="https://e.x/"></textarea>`, `<textarea><a href="https://e.x/"></textarea>`, ""},
		{"placeholder", `<a href="{{unsubscribe_url}}">`, `<a href="https://t.example/u/UNSUB?a=1&amp;b=2">`, ""},
		{"placeholder unquoted", `<a href={{unsubscribe_url}}>`, `<a href="https://t.example/u/UNSUB?a=1&amp;b=2">`, ""},
		{"placeholder in url", `<a href="https://e.x/?u={{ unsubscribe_url }}">`, `<a href="https://e.x/?u=https://t.example/u/UNSUB?a=1&amp;b=2">`, ""},
		{"placeholder other tag", `<v:roundrect href="{{unsubscribe_url}}">`, `<v:roundrect href="https://t.example/u/UNSUB?a=1&amp;b=2">`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Rewrite(Input{HTML: tc.in, TrackClicks: true}, fakeURLs{})
			if err != nil {
				t.Fatal(err)
			}
			if out.HTML != tc.want {
				t.Errorf("got  %s\nwant %s", out.HTML, tc.want)
			}
			var want []string
			if tc.link != "" {
				want = []string{tc.link}
			}
			if len(out.Links) != len(want) || !slices.Equal(out.Links, want) {
				t.Errorf("links = %q, want %q", out.Links, want)
			}
		})
	}
}

func TestRewriteHeaders(t *testing.T) {
	out, err := Rewrite(Input{MessageID: "msg_1"}, fakeURLs{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"List-Unsubscribe":       "<" + fakeUnsub + ">",
		"List-Unsubscribe-Post":  "List-Unsubscribe=One-Click",
		"X-Mailtrail-Message-ID": "msg_1",
	}
	if fmt.Sprint(out.Headers) != fmt.Sprint(want) {
		t.Errorf("headers = %v, want %v", out.Headers, want)
	}
	out, err = Rewrite(Input{MessageID: "msg_1", UnsubscribeMailto: "mailto:u@t.example?subject=unsub"}, fakeURLs{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := out.Headers["List-Unsubscribe"], "<"+fakeUnsub+">, <mailto:u@t.example?subject=unsub>"; got != want {
		t.Errorf("List-Unsubscribe = %q, want %q", got, want)
	}
	for _, in := range []Input{
		{MessageID: "m", UnsubscribeMailto: "https://x.example/"},
		{MessageID: "m", UnsubscribeMailto: "mailto:a@b>\r\nBcc: x@y"},
		{MessageID: "m\r\nBcc: x@y"},
	} {
		if _, err := Rewrite(in, fakeURLs{}); mailtrail.ErrorCode(err) != mailtrail.EINVALID {
			t.Errorf("Rewrite(%+v) error = %v, want code %s", in, err, mailtrail.EINVALID)
		}
	}
}

func TestRewriteTooLarge(t *testing.T) {
	big := strings.Repeat("a", MaxHTMLBytes+1)
	for _, in := range []Input{{HTML: big}, {Text: big}} {
		_, err := Rewrite(in, fakeURLs{})
		if mailtrail.ErrorCode(err) != mailtrail.EINVALID {
			t.Errorf("error = %v, want code %s", err, mailtrail.EINVALID)
		}
	}
	if _, err := Rewrite(Input{HTML: big[1:]}, fakeURLs{}); err != nil {
		t.Errorf("at the limit: %v", err)
	}
}

// TestRewriteKeepsBytes checks that the output, once the rewritten href
// values and the pixel are taken out, is the input byte for byte.
func TestRewriteKeepsBytes(t *testing.T) {
	for _, in := range goldenInputs(t) {
		t.Run(filepath.Base(in), func(t *testing.T) {
			src := readOptional(t, in)
			out, err := Rewrite(Input{HTML: src, TrackOpens: true, TrackClicks: true}, fakeURLs{})
			if err != nil {
				t.Fatal(err)
			}
			checkInvariants(t, src, "", true, true, out)
		})
	}
}

func TestRewriteInvalidUTF8(t *testing.T) {
	src := "<p>\xff\xfe<a href=\"https://e.x/\xff\">x</a>\x00<a href='https://e.x/\x00'>y</a></p>"
	out, err := Rewrite(Input{HTML: src, TrackClicks: true}, fakeURLs{})
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, src, "", false, true, out)
	if !strings.HasPrefix(out.HTML, "<p>\xff\xfe<a ") || !strings.Contains(out.HTML, "</a>\x00<a") {
		t.Errorf("bytes outside hrefs changed: %q", out.HTML)
	}
}

// BenchmarkRewrite measures a realistic marketing email, both parts.
func BenchmarkRewrite(b *testing.B) {
	in := Input{
		HTML: readOptional(b, "testdata/marketing.html"), Text: readOptional(b, "testdata/marketing.txt"),
		TrackOpens: true, TrackClicks: true, MessageID: "m1",
	}
	b.SetBytes(int64(len(in.HTML) + len(in.Text)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Rewrite(in, fakeURLs{}); err != nil {
			b.Fatal(err)
		}
	}
}
