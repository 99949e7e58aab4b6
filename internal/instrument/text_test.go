package instrument

import (
	"slices"
	"testing"
)

func TestRewriteText(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		links          []string
	}{
		{"plain", "Go to https://e.x/a now", "Go to https://t.example/c/0/CLICK now", []string{"https://e.x/a"}},
		{"http", "http://e.x", "https://t.example/c/0/CLICK", []string{"http://e.x"}},
		{"uppercase", "HTTPS://E.X/P", "https://t.example/c/0/CLICK", []string{"https://E.X/P"}},
		{"full stop", "See https://e.x/a.", "See https://t.example/c/0/CLICK.", []string{"https://e.x/a"}},
		{"punctuation", "https://e.x/a?!...", "https://t.example/c/0/CLICK?!...", []string{"https://e.x/a"}},
		{"comma list", "https://e.x/1, https://e.x/2; https://e.x/3:", "https://t.example/c/0/CLICK, https://t.example/c/1/CLICK; https://t.example/c/2/CLICK:", []string{"https://e.x/1", "https://e.x/2", "https://e.x/3"}},
		{"parens", "(see https://e.x/a)", "(see https://t.example/c/0/CLICK)", []string{"https://e.x/a"}},
		{"balanced parens", "https://e.x/wiki/Rake_(tool)", "https://t.example/c/0/CLICK", []string{"https://e.x/wiki/Rake_(tool)"}},
		{"balanced in parens", "(https://e.x/wiki/Rake_(tool))", "(https://t.example/c/0/CLICK)", []string{"https://e.x/wiki/Rake_(tool)"}},
		{"brackets", "[https://e.x/a] {https://e.x/b}", "[https://t.example/c/0/CLICK] {https://t.example/c/1/CLICK}", []string{"https://e.x/a", "https://e.x/b"}},
		{"quote", "'https://e.x/a'", "'https://t.example/c/0/CLICK'", []string{"https://e.x/a"}},
		{"double quote", `"https://e.x/a"`, `"https://t.example/c/0/CLICK"`, []string{"https://e.x/a"}},
		{"angle", "<https://e.x/a.>", "<https://t.example/c/0/CLICK>", []string{"https://e.x/a."}},
		{"angle unclosed", "<https://e.x/a.", "<https://t.example/c/0/CLICK.", []string{"https://e.x/a"}},
		{"query", "https://e.x/?a=1&b=2#frag", "https://t.example/c/0/CLICK", []string{"https://e.x/?a=1&b=2#frag"}},
		{"newline", "https://e.x/a\nhttps://e.x/b\r\n", "https://t.example/c/0/CLICK\nhttps://t.example/c/1/CLICK\r\n", []string{"https://e.x/a", "https://e.x/b"}},
		{"nbsp", "https://e.x/a\u00a0next", "https://t.example/c/0/CLICK\u00a0next", []string{"https://e.x/a"}},
		{"repeat", "https://e.x https://e.x", "https://t.example/c/0/CLICK https://t.example/c/1/CLICK", []string{"https://e.x", "https://e.x"}},
		{"glued to word", "xhttps://e.x/a", "xhttps://e.x/a", nil},
		{"scheme only", "http:// and https://.", "http:// and https://.", nil},
		{"no host", "https:///a", "https:///a", nil},
		{"other schemes", "ftp://e.x mailto:a@e.x www.e.x", "ftp://e.x mailto:a@e.x www.e.x", nil},
		{"template", "https://e.x/{{sku}}", "https://e.x/{{sku}}", nil},
		{"placeholder", "Stop: {{unsubscribe_url}}.", "Stop: https://t.example/u/UNSUB?a=1&b=2.", nil},
		{"placeholder spaced", "{{ unsubscribe_url }}", "https://t.example/u/UNSUB?a=1&b=2", nil},
		{"placeholder in url", "https://e.x/?u={{unsubscribe_url}}", "https://e.x/?u=https://t.example/u/UNSUB?a=1&b=2", nil},
		{"other placeholder", "{{first_name}} {{unsubscribe}}", "{{first_name}} {{unsubscribe}}", nil},
		{"hh", "hhhttp", "hhhttp", nil},
		{"empty", "", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Rewrite(Input{Text: tc.in, TrackClicks: true}, fakeURLs{})
			if err != nil {
				t.Fatal(err)
			}
			if out.Text != tc.want {
				t.Errorf("got  %q\nwant %q", out.Text, tc.want)
			}
			if len(out.Links) != len(tc.links) || !slices.Equal(out.Links, tc.links) {
				t.Errorf("links = %q, want %q", out.Links, tc.links)
			}
		})
	}
}

func TestRewriteTextNoClicks(t *testing.T) {
	in := "Buy https://e.x/a. Stop: {{unsubscribe_url}}"
	out, err := Rewrite(Input{Text: in}, fakeURLs{})
	if err != nil {
		t.Fatal(err)
	}
	if want := "Buy https://e.x/a. Stop: https://t.example/u/UNSUB?a=1&b=2"; out.Text != want {
		t.Errorf("got %q, want %q", out.Text, want)
	}
}

func TestRewriteLinkOrder(t *testing.T) {
	out, err := Rewrite(Input{
		HTML:        `<a href="https://e.x/h1">1</a><a href="https://e.x/h2">2</a>`,
		Text:        "https://e.x/t1 https://e.x/h1",
		TrackClicks: true,
	}, fakeURLs{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"https://e.x/h1", "https://e.x/h2", "https://e.x/t1", "https://e.x/h1"}
	if !slices.Equal(out.Links, want) {
		t.Errorf("links = %q, want %q", out.Links, want)
	}
	if out.Text != "https://t.example/c/2/CLICK https://t.example/c/3/CLICK" {
		t.Errorf("text = %q", out.Text)
	}
}
