// Package classify labels opens and clicks as made by a person, by a machine fetching on a
// person's behalf (Apple Mail Privacy Protection) or by a bot (security scanners, HEAD
// probes), and names the email client and device from the user agent.
//
// This package holds only the stateless part: what one request says about itself (agent,
// address, method). Rules that need message state — a click before or seconds after
// delivery, a burst of a message's links clicked within seconds, a hit on the hidden
// honeypot link, a human click after a scanner's — belong in internal/rules, which may
// upgrade a Verdict from this package but never needs to re-read the request.
//
// The address ranges and agent patterns are versioned data files embedded from data/; a
// Classifier reports their versions so every stored verdict can be traced to its data.
// Classification is pure and cheap and never fails at request time, so it never blocks
// the redirect or the pixel.
package classify

import (
	"io/fs"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/mailtrail/mailtrail"
)

// The reasons a Verdict can carry besides the labelled ones ("image_proxy:<provider>",
// "scanner_ua:<label>", "scanner_ip:<label>", whose labels come from the data files).
const (
	ReasonAppleMPP    = "apple_mpp"
	ReasonHEAD        = "head_request"
	ReasonImageProxy  = "image_proxy:"
	ReasonScannerUA   = "scanner_ua:"
	ReasonScannerIP   = "scanner_ip:"
	maxAgentMatchSize = 4096
)

// Verdict is the classification of one open or click. Reasons lists every signal that
// fired, the deciding one first; it is empty for a plain human request. Client and Device
// are "" when unknown (see the Client* and Device* constants).
type Verdict struct {
	Class   mailtrail.Classification
	Reasons []string
	Client  string
	Device  string
}

// Classifier classifies opens and clicks from versioned data. Its data is immutable after
// New or Load; it remembers what the agents seen lately said (agentCache), which changes
// no verdict. It is safe for concurrent use.
//
// Ranges are matched by a linear scan, which is fast enough for the few hundred entries
// the data files hold; importing Apple's full egress feed (tens of thousands of ranges)
// needs a sorted interval table first.
type Classifier struct {
	appleRanges   []netip.Prefix
	appleAgents   []string // lowercased, whole-agent match
	imageProxies  []labelled
	scannerAgents []labelled
	scannerRanges []labelledPrefix
	versions      map[string]string

	opens, clicks agentCache // what each agent says about itself, by kind of request
}

// New returns a Classifier built from the data files embedded in the binary. It fails
// only if an embedded file is malformed, which the package tests rule out.
func New() (*Classifier, error) {
	sub, err := fs.Sub(embedded, "data")
	if err != nil {
		return nil, err
	}
	return Load(sub)
}

// Load returns a Classifier built from the data files at the root of fsys (the same five
// names as data/), for operators who ship newer lists than the binary. It returns an
// error naming the file and entry when a file is missing, lacks a "# version:" line, or
// holds an entry that does not parse.
func Load(fsys fs.FS) (*Classifier, error) {
	c := &Classifier{versions: make(map[string]string)}
	read := func(name string) (dataFile, error) {
		df, err := readDataFile(fsys, name)
		if err == nil {
			c.versions[name] = df.version
		}
		return df, err
	}
	df, err := read(fileAppleRanges)
	if err != nil {
		return nil, err
	}
	if c.appleRanges, err = df.prefixes(fileAppleRanges); err != nil {
		return nil, err
	}
	if df, err = read(fileAppleAgents); err != nil {
		return nil, err
	}
	for _, l := range df.lines {
		c.appleAgents = append(c.appleAgents, strings.ToLower(l))
	}
	if df, err = read(fileImageProxies); err != nil {
		return nil, err
	}
	if c.imageProxies, err = df.labelled(fileImageProxies, true); err != nil {
		return nil, err
	}
	if df, err = read(fileScannerAgents); err != nil {
		return nil, err
	}
	if c.scannerAgents, err = df.labelled(fileScannerAgents, true); err != nil {
		return nil, err
	}
	if df, err = read(fileScannerRanges); err != nil {
		return nil, err
	}
	if c.scannerRanges, err = df.labelledPrefixes(fileScannerRanges); err != nil {
		return nil, err
	}
	return c, nil
}

// Versions returns the "# version:" of each data file the Classifier was built from, keyed
// by file name. The map is a copy.
func (c *Classifier) Versions() map[string]string {
	out := make(map[string]string, len(c.versions))
	for k, v := range c.versions {
		out[k] = v
	}
	return out
}

// request is what one open or click says about itself, normalized once.
type request struct {
	agent agentFacts
	addr  netip.Addr
	head  bool
}

// agentFacts is what a user agent alone says: a function of the agent and of the kind of
// request (open or click), so it is worked out once per agent (agentCache).
type agentFacts struct {
	client, device string
	apple          bool   // the Apple MPP proxy's bare agent (opens only)
	proxy          string // the image proxy's provider (opens only)
	scanner        string // "scanner_ua:<label>", or ""
}

func (c *Classifier) newRequest(ua, ip, method string, open bool) request {
	cache := &c.clicks
	if open {
		cache = &c.opens
	}
	a, ok := cache.get(ua)
	if !ok {
		a = c.agentFacts(ua, open)
		cache.put(ua, a)
	}
	return request{
		agent: a,
		addr:  parseIP(ip),
		head:  strings.EqualFold(strings.TrimSpace(method), "HEAD"),
	}
}

// agentFacts works out what ua says in a request of the kind open names.
func (c *Classifier) agentFacts(ua string, open bool) agentFacts {
	ua = strings.TrimSpace(ua)
	if len(ua) > maxAgentMatchSize {
		ua = ua[:maxAgentMatchSize]
	}
	lua := strings.ToLower(ua)
	var a agentFacts
	a.client, a.device = detectClient(lua, open)
	if open {
		a.apple = slices.Contains(c.appleAgents, lua)
		a.proxy = c.imageProxy(lua)
	}
	if lua != "" {
		for _, s := range c.scannerAgents {
			if strings.Contains(lua, s.value) {
				a.scanner = ReasonScannerUA + s.label
				break
			}
		}
	}
	return a
}

// agentCache remembers the agentFacts of the agents seen lately. Mail clients and their
// proxies send few distinct agents, so nearly every request finds its own. The cache
// takes agents of at most agentCacheKeySize bytes and starts again empty once it holds
// agentCacheSize (a few more when requests add at once): about 2 MiB at most, whatever
// agents the requests carry. Safe for concurrent use.
type agentCache struct {
	m atomic.Pointer[agentMap]
}

type agentMap struct {
	sync.Map
	n atomic.Int32
}

const (
	agentCacheSize    = 4096
	agentCacheKeySize = 512
)

func (c *agentCache) get(ua string) (agentFacts, bool) {
	m := c.m.Load()
	if m == nil {
		return agentFacts{}, false
	}
	v, ok := m.Load(ua)
	if !ok {
		return agentFacts{}, false
	}
	return v.(agentFacts), true
}

func (c *agentCache) put(ua string, a agentFacts) {
	if len(ua) > agentCacheKeySize {
		return
	}
	m := c.m.Load()
	if m == nil || m.n.Load() >= agentCacheSize {
		fresh := &agentMap{}
		if !c.m.CompareAndSwap(m, fresh) {
			return // another request started it again: this agent is cached next time
		}
		m = fresh
	}
	if _, loaded := m.LoadOrStore(strings.Clone(ua), a); !loaded {
		m.n.Add(1)
	}
}

// Open classifies a pixel fetch. The deciding signal, in order:
//
//  1. a HEAD request → Bot "head_request" (it renders nothing and is never counted);
//  2. an Apple MPP proxy address or the MPP proxy's agent → Machine "apple_mpp";
//  3. a Gmail, Yahoo or Outlook image proxy → Human "image_proxy:<provider>" (the
//     provider fetches the pixel when the person opens the message);
//  4. a known scanner agent or address range → Bot "scanner_ua:<label>",
//     "scanner_ip:<label>";
//  5. otherwise Human, with no reasons.
//
// Malformed addresses and empty agents are not errors: they simply match nothing.
func (c *Classifier) Open(ua, ip, method string) Verdict {
	r := c.newRequest(ua, ip, method, true)
	v := Verdict{Class: mailtrail.Human}
	v.Client, v.Device = r.agent.client, r.agent.device

	apple := r.agent.apple || inAny(r.addr, c.appleRanges)
	proxy := r.agent.proxy
	scanner := c.scannerReasons(r)

	if r.head {
		v.Reasons = append(v.Reasons, ReasonHEAD)
	}
	if apple {
		v.Reasons = append(v.Reasons, ReasonAppleMPP)
		if v.Client == "" {
			v.Client = ClientAppleMail
		}
	}
	if proxy != "" {
		v.Reasons = append(v.Reasons, ReasonImageProxy+proxy)
		v.Client = proxy
	}
	v.Reasons = append(v.Reasons, scanner...)

	switch {
	case r.head:
		v.Class = mailtrail.Bot
	case apple:
		v.Class = mailtrail.Machine
	case proxy != "":
		v.Class = mailtrail.Human
	case len(scanner) > 0:
		v.Class = mailtrail.Bot
	}
	return v
}

// Click classifies a tracked-link hit from what the request alone shows: a HEAD request →
// Bot "head_request"; a known scanner agent or address range → Bot with its reasons;
// otherwise Human. Apple MPP does not fetch links, so Apple addresses mean nothing here
// (a person behind iCloud Private Relay clicks from them).
//
// Timing rules (a click before or seconds after delivery, bursts, the honeypot link) need
// message state and live in internal/rules.
func (c *Classifier) Click(ua, ip, method string) Verdict {
	r := c.newRequest(ua, ip, method, false)
	v := Verdict{Class: mailtrail.Human}
	v.Client, v.Device = r.agent.client, r.agent.device
	if r.head {
		v.Reasons = append(v.Reasons, ReasonHEAD)
	}
	v.Reasons = append(v.Reasons, c.scannerReasons(r)...)
	if len(v.Reasons) > 0 {
		v.Class = mailtrail.Bot
	}
	return v
}

// imageProxy returns the provider whose image proxy sent the agent, or "".
func (c *Classifier) imageProxy(lua string) string {
	if lua == "" {
		return ""
	}
	for _, p := range c.imageProxies {
		if strings.Contains(lua, p.value) {
			return p.label
		}
	}
	return ""
}

// scannerReasons returns "scanner_ua:<label>" for the first matching agent pattern and
// "scanner_ip:<label>" for the first matching range.
func (c *Classifier) scannerReasons(r request) []string {
	var out []string
	if r.agent.scanner != "" {
		out = append(out, r.agent.scanner)
	}
	if r.addr.IsValid() {
		for _, p := range c.scannerRanges {
			if p.prefix.Contains(r.addr) {
				out = append(out, ReasonScannerIP+p.label)
				break
			}
		}
	}
	return out
}

func inAny(a netip.Addr, ps []netip.Prefix) bool {
	if !a.IsValid() {
		return false
	}
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
