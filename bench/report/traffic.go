package main

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/mailtrail/mailtrail"
)

// rng is splitmix64: small, allocation-free and deterministic, so a recipient's whole
// history can be recomputed from (campaign seed, recipient index) at any time instead of
// being kept in memory.
type rng struct{ s uint64 }

func newRNG(a, b uint64) rng {
	r := rng{s: a*0x9e3779b97f4a7c15 ^ (b+1)*0xd1b54a32d192ed03}
	r.next()
	return r
}

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

// float returns a uniform float in [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }

// exp returns an exponentially distributed value of the given mean.
func (r *rng) exp(mean float64) float64 { return -mean * math.Log(1-r.float()) }

// between returns a uniform int64 in [lo, hi).
func (r *rng) between(lo, hi int64) int64 {
	if hi <= lo {
		return lo
	}
	return lo + int64(r.next()%uint64(hi-lo))
}

// addrIn returns a random address inside p.
func (r *rng) addrIn(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr()
	b := a.AsSlice()
	host := a.BitLen() - p.Bits()
	for i := len(b) - 1; i >= 0 && host > 0; i-- {
		bits := min(host, 8)
		b[i] |= byte(r.next()) & byte(1<<bits-1)
		host -= bits
	}
	out, _ := netip.AddrFromSlice(b)
	return out
}

// trafficData is what the generator takes from the classifier's own data files
// (internal/classify/data), so the traffic exercises the ranges and agents the classifier
// really holds: Apple MPP egress ranges and agents, scanner agents and scanner ranges.
type trafficData struct {
	dir           string
	appleRanges   []netip.Prefix
	appleAgents   []string
	scannerAgents []string // user agents built around each scanner_agents.txt token
	scannerRanges []netip.Prefix
}

// findClassifyData returns dir, or internal/classify/data of the module that holds the
// working directory.
func findClassifyData(dir string) (string, error) {
	if dir != "" {
		return dir, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/mailtrail/mailtrail\n") {
			return filepath.Join(d, "internal", "classify", "data"), nil
		}
		if filepath.Dir(d) == d {
			return "", errors.New("not inside the mailtrail module: run from the repository or give -classify-data")
		}
	}
}

// dataLines returns the entries of a classify data file: non-empty lines without comments.
func dataLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out, sc.Err()
}

func loadTrafficData(dir string) (*trafficData, error) {
	dir, err := findClassifyData(dir)
	if err != nil {
		return nil, err
	}
	td := &trafficData{dir: dir}
	read := func(name string) []string {
		if err != nil {
			return nil
		}
		var ls []string
		ls, err = dataLines(filepath.Join(dir, name))
		if err == nil && len(ls) == 0 {
			err = fmt.Errorf("%s: no entries", name)
		}
		return ls
	}
	for _, l := range read("apple_proxy_ranges.txt") {
		p, perr := netip.ParsePrefix(l)
		if perr != nil {
			return nil, fmt.Errorf("apple_proxy_ranges.txt: %w", perr)
		}
		td.appleRanges = append(td.appleRanges, p)
	}
	td.appleAgents = read("apple_proxy_agents.txt")
	for _, l := range read("scanner_agents.txt") {
		_, tok, ok := strings.Cut(l, " ")
		if !ok {
			continue
		}
		tok = strings.TrimSpace(tok)
		if strings.HasSuffix(tok, "/") {
			td.scannerAgents = append(td.scannerAgents, tok+"1.0") // "curl/" → "curl/1.0"
		} else {
			td.scannerAgents = append(td.scannerAgents, "Mozilla/5.0 (compatible; "+tok+")")
		}
	}
	for _, l := range read("scanner_ranges.txt") {
		_, c, _ := strings.Cut(l, " ")
		p, perr := netip.ParsePrefix(strings.TrimSpace(c))
		if perr != nil {
			return nil, fmt.Errorf("scanner_ranges.txt: %w", perr)
		}
		td.scannerRanges = append(td.scannerRanges, p)
	}
	if err != nil {
		return nil, fmt.Errorf("classify data in %s: %w", dir, err)
	}
	if len(td.appleRanges) == 0 || len(td.scannerAgents) == 0 || len(td.scannerRanges) == 0 {
		return nil, fmt.Errorf("classify data in %s: missing Apple ranges, scanner agents or scanner ranges", dir)
	}
	return td, nil
}

// The kinds of opener, with their share of opening recipients (percent). A recipient keeps
// one kind for all their opens: an Apple Mail user with Privacy Protection on is always
// fetched through Apple's proxy. The shares are in the range public reports of 2024–2025
// give (Apple MPP about half of opens, Gmail a quarter to a third); they are not measured.
const (
	openMPP          = iota // Apple MPP proxy: generic agent, Apple relay egress address
	openGmail               // Gmail image proxy
	openYahoo               // Yahoo image proxy
	openAppleMailIOS        // Apple Mail on iPhone/iPad with MPP off: the device's own address
	openAppleMailMac        // Apple Mail on macOS with MPP off
	openOutlook             // Outlook for Windows
	openThunderbird         // Thunderbird
	openWebmail             // a webmail read in a browser that loads images directly
	openScannerUA           // a security scanner naming itself (scanner_agents.txt)
	openScannerIP           // a scanner with a plain browser agent, from scanner_ranges.txt
	numOpenKinds
)

var openShare = [numOpenKinds]int{48, 27, 3, 5, 3, 7, 1, 3, 2, 1}

var openKindNames = [numOpenKinds]string{"apple_mpp", "gmail_proxy", "yahoo_proxy", "apple_mail_ios", "apple_mail_mac", "outlook", "thunderbird", "webmail", "scanner_ua", "scanner_ip"}

// The kinds of clicker: browsers (a person follows the link) and scanners (clicks within
// seconds of delivery, several links at once; the store's click rules catch them).
const (
	clickChromeWin = iota
	clickSafariIPhone
	clickChromeAndroid
	clickEdge
	clickFirefox
	clickSafariMac
	clickScannerUA
	clickScannerIP
	numClickKinds
)

var clickShare = [numClickKinds]int{33, 28, 14, 7, 3, 5, 6, 4}

const (
	uaChromeWin     = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	uaEdge          = uaChromeWin + " Edg/131.0.0.0"
	uaFirefox       = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
	uaSafariIPhone  = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
	uaChromeAndroid = "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36"
	uaSafariMac     = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15"
)

var openAgents = [numOpenKinds][]string{
	openGmail: {"Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"},
	openYahoo: {"YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html"},
	openAppleMailIOS: {
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
		"Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
	},
	openAppleMailMac: {"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"},
	openOutlook: {
		"Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)",
		"Mozilla/4.0 (compatible; ms-office; MSOffice 16)",
	},
	openThunderbird: {"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.5.0"},
	openWebmail:     {uaChromeWin, uaFirefox, uaSafariMac},
	openScannerIP:   {uaChromeWin},
}

var clickAgents = [numClickKinds][]string{
	clickChromeWin:     {uaChromeWin},
	clickSafariIPhone:  {uaSafariIPhone},
	clickChromeAndroid: {uaChromeAndroid},
	clickEdge:          {uaEdge},
	clickFirefox:       {uaFirefox},
	clickSafariMac:     {uaSafariMac},
	clickScannerIP:     {uaChromeWin},
}

// Address pools besides the data files' ranges. Residential: public unicast ranges of
// large consumer ISPs (illustrative; no geography is claimed for them). Provider proxies:
// ranges the providers' image proxies are commonly seen from.
var (
	residential = mustPrefixes("73.0.0.0/8", "24.0.0.0/8", "86.192.0.0/11", "91.160.0.0/12", "2a01:cb00::/24", "2600:1700::/28")
	googleProxy = mustPrefixes("66.249.80.0/20", "66.102.0.0/20")
	yahooProxy  = mustPrefixes("74.6.0.0/16")
	cloudHosts  = mustPrefixes("34.64.0.0/10", "20.33.0.0/16")
)

func mustPrefixes(s ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(s))
	for i, v := range s {
		out[i] = netip.MustParsePrefix(v)
	}
	return out
}

func pickPrefix(r *rng, ps []netip.Prefix) netip.Prefix { return ps[r.intn(len(ps))] }

func pickAgent(r *rng, as []string) string { return as[r.intn(len(as))] }

// pickKind draws an index with the given percent shares (summing to 100).
func pickKind(r *rng, shares []int) int {
	n := r.intn(100)
	for k, s := range shares {
		if n < s {
			return k
		}
		n -= s
	}
	return len(shares) - 1
}

// profile is what stays the same for one recipient: their home address, how their opens
// are fetched and what they click with.
type profile struct {
	home      netip.Addr
	openKind  int
	clickKind int
}

func newProfile(r *rng) profile {
	return profile{
		home:      r.addrIn(pickPrefix(r, residential)),
		openKind:  pickKind(r, openShare[:]),
		clickKind: pickKind(r, clickShare[:]),
	}
}

// openRequest returns the user agent and client address of one open by a recipient of
// profile p; r draws what varies per fetch (the proxy's address).
func (td *trafficData) openRequest(r *rng, p profile) (ua, ip string) {
	var a netip.Addr
	switch p.openKind {
	case openMPP:
		ua, a = pickAgent(r, td.appleAgents), r.addrIn(pickPrefix(r, td.appleRanges))
	case openGmail:
		ua, a = pickAgent(r, openAgents[openGmail]), r.addrIn(pickPrefix(r, googleProxy))
	case openYahoo:
		ua, a = pickAgent(r, openAgents[openYahoo]), r.addrIn(pickPrefix(r, yahooProxy))
	case openScannerUA:
		ua, a = pickAgent(r, td.scannerAgents), r.addrIn(pickPrefix(r, cloudHosts))
	case openScannerIP:
		ua, a = uaChromeWin, r.addrIn(pickPrefix(r, td.scannerRanges))
	default:
		ua, a = pickAgent(r, openAgents[p.openKind]), p.home
	}
	return ua, a.String()
}

// clickRequest returns the user agent and client address of one click.
func (td *trafficData) clickRequest(r *rng, p profile) (ua, ip string) {
	switch p.clickKind {
	case clickScannerUA:
		return pickAgent(r, td.scannerAgents), r.addrIn(pickPrefix(r, cloudHosts)).String()
	case clickScannerIP:
		return uaChromeWin, r.addrIn(pickPrefix(r, td.scannerRanges)).String()
	}
	return pickAgent(r, clickAgents[p.clickKind]), p.home.String()
}

func (p profile) scannerClicks() bool {
	return p.clickKind == clickScannerUA || p.clickKind == clickScannerIP
}

// trackingEvent returns an open or click as the pixel or redirect handler submits it
// (internal/httpd/track.go): message id, agent, address, GET, and for a click the link's
// URL and index. OccurredAt is left to the pipeline when at is zero.
func (td *trafficData) trackingEvent(r *rng, p profile, typ mailtrail.EventType, msgID string, links []string, link int) *mailtrail.Event {
	ev := &mailtrail.Event{Type: typ, MessageID: msgID, Source: mailtrail.SourceTracking}
	ev.Metadata.Method = "GET"
	if typ == mailtrail.EventOpened {
		ev.Metadata.UserAgent, ev.Metadata.IP = td.openRequest(r, p)
	} else {
		ev.Metadata.UserAgent, ev.Metadata.IP = td.clickRequest(r, p)
		l := link % len(links)
		ev.Metadata.LinkURL = links[l]
		ev.Metadata.LinkIndex = &l
	}
	return ev
}
