package classify

import (
	"bufio"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/mailtrail/mailtrail"
)

func newTest(t testing.TB) *Classifier {
	t.Helper()
	c, err := New()
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func dash(s string) string {
	if s == "-" {
		return ""
	}
	return s
}

// TestCorpus asserts every row of testdata/corpus.tsv: class, reasons, client and device;
// twice, the second time with every agent in the Classifier's cache.
func TestCorpus(t *testing.T) {
	c := newTest(t)
	b, err := os.ReadFile("testdata/corpus.tsv")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		corpus(t, c, string(b))
	}
}

func corpus(t *testing.T, c *Classifier, file string) {
	sc := bufio.NewScanner(strings.NewReader(file))
	rows := 0
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		col := strings.Split(text, "\t")
		if len(col) != 8 {
			t.Fatalf("line %d: %d columns, want 8", line, len(col))
		}
		rows++
		ua, ip, method, kind := dash(col[0]), dash(col[1]), dash(col[2]), col[3]
		var v Verdict
		switch kind {
		case "open":
			v = c.Open(ua, ip, method)
		case "click":
			v = c.Click(ua, ip, method)
		default:
			t.Fatalf("line %d: kind %q", line, kind)
		}
		got := []string{string(v.Class), strings.Join(v.Reasons, ","), v.Client, v.Device}
		want := []string{col[4], dash(col[5]), dash(col[6]), dash(col[7])}
		if !slices.Equal(got, want) {
			t.Errorf("line %d %s %q ip=%q %s:\n got  class=%s reasons=%q client=%q device=%q\n want class=%s reasons=%q client=%q device=%q",
				line, kind, ua, ip, method, got[0], got[1], got[2], got[3], want[0], want[1], want[2], want[3])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if rows < 30 {
		t.Fatalf("corpus has %d rows, want at least 30", rows)
	}
}

func TestVersions(t *testing.T) {
	c := newTest(t)
	v := c.Versions()
	for _, name := range []string{fileAppleRanges, fileAppleAgents, fileImageProxies, fileScannerAgents, fileScannerRanges} {
		if v[name] == "" {
			t.Errorf("no version for %s", name)
		}
	}
	v[fileAppleRanges] = "changed"
	if c.Versions()[fileAppleRanges] == "changed" {
		t.Error("Versions returned the internal map")
	}
}

func testFS() fstest.MapFS {
	f := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	return fstest.MapFS{
		fileAppleRanges:   f("# version: t1\n192.0.2.0/24\n"),
		fileAppleAgents:   f("# version: t1\nMozilla/5.0\n"),
		fileImageProxies:  f("# version: t1\noutlook Test Outlook Proxy\n"),
		fileScannerAgents: f("# version: t1\nacme AcmeScan\n"),
		fileScannerRanges: f("# version: t1\nacme 198.51.100.1\n"),
	}
}

func TestLoad(t *testing.T) {
	c, err := Load(testFS())
	if err != nil {
		t.Fatal(err)
	}
	if v := c.Open("x Test Outlook Proxy y", "203.0.113.1", "GET"); v.Class != mailtrail.Human || !slices.Equal(v.Reasons, []string{"image_proxy:outlook"}) || v.Client != ClientOutlook {
		t.Errorf("outlook proxy: %+v", v)
	}
	if v := c.Click("Mozilla/5.0 (X11; Linux x86_64) Firefox/132.0", "198.51.100.1", "GET"); v.Class != mailtrail.Bot || !slices.Equal(v.Reasons, []string{"scanner_ip:acme"}) {
		t.Errorf("single-address range: %+v", v)
	}
	if v := c.Open("curl/8", "192.0.2.9", "GET"); v.Class != mailtrail.Machine {
		t.Errorf("apple range: %+v", v)
	}
}

func TestLoadErrors(t *testing.T) {
	cases := map[string]func(fstest.MapFS){
		"missing file": func(m fstest.MapFS) { delete(m, fileScannerAgents) },
		"no version":   func(m fstest.MapFS) { m[fileAppleRanges] = &fstest.MapFile{Data: []byte("192.0.2.0/24\n")} },
		"bad cidr": func(m fstest.MapFS) {
			m[fileAppleRanges] = &fstest.MapFile{Data: []byte("# version: x\n192.0.2.0/33\n")}
		},
		"bad range": func(m fstest.MapFS) {
			m[fileScannerRanges] = &fstest.MapFile{Data: []byte("# version: x\nacme nope\n")}
		},
		"label no value": func(m fstest.MapFS) { m[fileScannerAgents] = &fstest.MapFile{Data: []byte("# version: x\nacme\n")} },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			m := testFS()
			mutate(m)
			if _, err := Load(m); err == nil {
				t.Fatal("Load succeeded")
			}
		})
	}
}

// TestMalformedInputs feeds shapes a public endpoint receives; none may panic and every
// verdict must carry one of the three classes.
func TestMalformedInputs(t *testing.T) {
	c := newTest(t)
	ips := []string{"", " ", "not-an-ip", "999.999.1.1", "1.2.3", "::", "::ffff:", "fe80::1%eth0", "[2001:db8::1]:443",
		"17.0.0.1:99999", "1.2.3.4, 5.6.7.8", "\x00", strings.Repeat("1", 5000)}
	uas := []string{"", " ", "-", "\x00\xff\xfe", strings.Repeat("A", 100000), "Mozilla/5.0 ", "MOZILLA/5.0"}
	methods := []string{"", "GET", "head", "HEAD ", "\x00"}
	for _, ip := range ips {
		for _, ua := range uas {
			for _, m := range methods {
				for _, v := range []Verdict{c.Open(ua, ip, m), c.Click(ua, ip, m)} {
					if !validClass(v.Class) {
						t.Fatalf("ua=%q ip=%q m=%q: class %q", ua, ip, m, v.Class)
					}
				}
			}
		}
	}
}

func validClass(c mailtrail.Classification) bool {
	return c == mailtrail.Human || c == mailtrail.Machine || c == mailtrail.Bot
}

// FuzzClassify checks that no input panics and every verdict is one of the three classes,
// with reasons exactly when the class is not human (image proxies aside).
func FuzzClassify(f *testing.F) {
	c := newTest(f)
	f.Add("Mozilla/5.0", "17.1.2.3", "GET")
	f.Add("Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)", "66.249.84.10", "HEAD")
	f.Add("curl/8.5.0", "2a01:111:f403::1", "GET")
	f.Add("", "::ffff:40.107.1.2", "")
	f.Add("\xff", "[::1]:80", "head")
	f.Fuzz(func(t *testing.T, ua, ip, method string) {
		for _, v := range []Verdict{c.Open(ua, ip, method), c.Click(ua, ip, method)} {
			if !validClass(v.Class) {
				t.Fatalf("class %q", v.Class)
			}
			if v.Class != mailtrail.Human && len(v.Reasons) == 0 {
				t.Fatalf("%s verdict without reasons", v.Class)
			}
		}
	})
}

// TestClickBrowserClient: a click whose agent names no mail client records its browser as
// the client, on desktop and mobile; mail-client agents keep precedence; opens from a
// browser stay webmail with no client.
func TestClickBrowserClient(t *testing.T) {
	cases := []struct{ ua, client, device string }{
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", ClientChrome, DeviceDesktop},
		{"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", ClientChrome, DeviceMobile},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1", ClientChrome, DeviceMobile},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15", ClientSafari, DeviceDesktop},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", ClientSafari, DeviceMobile},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0", ClientFirefox, DeviceDesktop},
		{"Mozilla/5.0 (Android 14; Mobile; rv:132.0) Gecko/132.0 Firefox/132.0", ClientFirefox, DeviceMobile},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/132.0 Mobile/15E148 Safari/605.1.15", ClientFirefox, DeviceMobile},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", ClientEdge, DeviceDesktop},
		{"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36 EdgA/131.0.0.0", ClientEdge, DeviceMobile},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 EdgiOS/131.0.2903.68 Mobile/15E148 Safari/605.1.15", ClientEdge, DeviceMobile},
		{"Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36", ClientSamsungInternet, DeviceMobile},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 OPR/115.0.0.0", ClientOpera, DeviceDesktop},
		{"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36 OPR/86.0.0.0", ClientOpera, DeviceMobile},
		// Mail clients keep precedence over the browser they embed.
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148", ClientAppleMail, DeviceMobile},
		{"Outlook-iOS/723.4027091.prod.iphone (4.2413.0)", ClientOutlook, DeviceMobile},
		{"Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)", ClientOutlook, DeviceDesktop},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.5.0", ClientThunderbird, DeviceDesktop},
	}
	for _, c := range cases {
		client, device := detectClient(strings.ToLower(c.ua), false)
		if client != c.client || device != c.device {
			t.Errorf("click %q: client=%q device=%q, want %q %q", c.ua, client, device, c.client, c.device)
		}
	}
	// Opens from a browser are webmail, with no client named.
	for _, ua := range []string{cases[0].ua, cases[4].ua, cases[11].ua} {
		if client, device := detectClient(strings.ToLower(ua), true); client != "" || device != DeviceWebmail {
			t.Errorf("open %q: client=%q device=%q, want \"\" webmail", ua, client, device)
		}
	}
}

// An agent's open and click say different things (a browser opening is webmail, clicking
// names the browser; the image proxies and the Apple agent count for opens only): the
// cache keeps them apart, whichever kind of request came first.
func TestAgentCacheKeepsOpensAndClicksApart(t *testing.T) {
	chrome := "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	c := newTest(t)
	if v := c.Click(chrome, "", "GET"); v.Client != ClientChrome || v.Device != DeviceDesktop {
		t.Fatalf("click: %+v, want chrome on desktop", v)
	}
	if v := c.Open(chrome, "", "GET"); v.Client != "" || v.Device != DeviceWebmail {
		t.Fatalf("open after the click: %+v, want webmail with no client", v)
	}
	c = newTest(t)
	c.Open(chrome, "", "GET")
	if v := c.Click(chrome, "", "GET"); v.Client != ClientChrome || v.Device != DeviceDesktop {
		t.Fatalf("click after the open: %+v, want chrome on desktop", v)
	}
}

// The cache holds at most agentCacheSize agents (then starts again), and what it answers
// for an agent does not depend on what it held before.
func TestAgentCacheIsBounded(t *testing.T) {
	c := newTest(t)
	fresh := newTest(t)
	for i := range 3*agentCacheSize + 7 {
		ua := "Mozilla/5.0 (Windows NT 10.0) Chrome/" + strconv.Itoa(i)
		if i%5 == 0 {
			ua = "Proofpoint URL Defense " + strconv.Itoa(i)
		}
		got, want := c.Open(ua, "192.0.2.1", "GET"), fresh.Open(ua, "192.0.2.1", "GET")
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("agent %d: %+v, a fresh classifier says %+v", i, got, want)
		}
		if i%5 == 0 && !slices.Contains(got.Reasons, ReasonScannerUA+"proofpoint") {
			t.Fatalf("agent %d: %+v, want a scanner's", i, got)
		}
		fresh.opens = agentCache{}
		if n := c.opens.m.Load().n.Load(); n > agentCacheSize {
			t.Fatalf("the cache holds %d agents, at most %d", n, agentCacheSize)
		}
	}
	long := strings.Repeat("x", agentCacheKeySize+1)
	c.Open(long, "", "GET")
	if _, ok := c.opens.get(long); ok {
		t.Fatalf("an agent of %d bytes was cached", len(long))
	}
}

// Requests classify at once while the cache fills and starts again (run with -race).
func TestAgentCacheConcurrent(t *testing.T) {
	c := newTest(t)
	const agents = agentCacheSize + agentCacheSize/2
	ua := func(i int) string { return "Mozilla/5.0 Thunderbird/" + strconv.Itoa(i) }
	want := c.agentFacts(ua(0), true)
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range agents {
				v := c.Open(ua((i*7+g*1013)%agents), "", "GET")
				if v.Client != want.client || v.Device != want.device || v.Class != mailtrail.Human {
					errs <- fmt.Sprintf("%+v, want %s on %s", v, want.client, want.device)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}
