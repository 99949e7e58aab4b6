package classify

import (
	"bufio"
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"net/netip"
	"strings"
)

// embedded holds the default data files. They are versioned data, not code: each carries a
// "# version:" line and its sources in its header.
//
//go:embed data/*.txt
var embedded embed.FS

// The data file names a data set must provide.
const (
	fileAppleRanges   = "apple_proxy_ranges.txt"
	fileAppleAgents   = "apple_proxy_agents.txt"
	fileImageProxies  = "image_proxies.txt"
	fileScannerAgents = "scanner_agents.txt"
	fileScannerRanges = "scanner_ranges.txt"
)

// labelled is one "<label> <value>" entry of a data file.
type labelled struct {
	label string
	value string
}

// labelledPrefix is one "<label> <CIDR>" entry.
type labelledPrefix struct {
	label  string
	prefix netip.Prefix
}

// dataFile is a parsed data file: its version and its entries, comments removed.
type dataFile struct {
	version string
	lines   []string
}

// readDataFile reads name from fsys. It fails when the file is missing or has no
// "# version:" line, so a classifier never runs on unlabelled data.
func readDataFile(fsys fs.FS, name string) (dataFile, error) {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return dataFile{}, fmt.Errorf("classify: read %s: %w", name, err)
	}
	var df dataFile
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if rest, ok := strings.CutPrefix(line, "#"); ok {
			if v, ok := strings.CutPrefix(strings.TrimSpace(rest), "version:"); ok && df.version == "" {
				df.version = strings.TrimSpace(v)
			}
			continue
		}
		df.lines = append(df.lines, line)
	}
	if err := sc.Err(); err != nil {
		return dataFile{}, fmt.Errorf("classify: read %s: %w", name, err)
	}
	if df.version == "" {
		return dataFile{}, fmt.Errorf("classify: %s: missing \"# version:\" line", name)
	}
	return df, nil
}

// parsePrefix accepts a CIDR or a bare address (a single-host prefix).
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

// prefixes parses every line of df as a CIDR.
func (df dataFile) prefixes(name string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(df.lines))
	for i, l := range df.lines {
		p, err := parsePrefix(l)
		if err != nil {
			return nil, fmt.Errorf("classify: %s entry %d %q: %w", name, i+1, l, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// labelled splits every line of df into a label and a value (the rest of the line). The
// value is lowercased when lower is set, for case-insensitive substring matching.
func (df dataFile) labelled(name string, lower bool) ([]labelled, error) {
	out := make([]labelled, 0, len(df.lines))
	for i, l := range df.lines {
		label, value, ok := strings.Cut(l, " ")
		value = strings.TrimSpace(value)
		if !ok || value == "" {
			return nil, fmt.Errorf("classify: %s entry %d %q: want \"<label> <value>\"", name, i+1, l)
		}
		if lower {
			value = strings.ToLower(value)
		}
		out = append(out, labelled{label: label, value: value})
	}
	return out, nil
}

// labelledPrefixes parses "<label> <CIDR>" lines.
func (df dataFile) labelledPrefixes(name string) ([]labelledPrefix, error) {
	ls, err := df.labelled(name, false)
	if err != nil {
		return nil, err
	}
	out := make([]labelledPrefix, 0, len(ls))
	for i, l := range ls {
		p, err := parsePrefix(l.value)
		if err != nil {
			return nil, fmt.Errorf("classify: %s entry %d %q: %w", name, i+1, l.value, err)
		}
		out = append(out, labelledPrefix{label: l.label, prefix: p})
	}
	return out, nil
}

// parseIP reads a client address as the tracking handlers see it: a bare IPv4 or IPv6
// address, optionally with a port or an IPv6 zone. Anything else gives the zero Addr,
// which matches no range.
func parseIP(s string) netip.Addr {
	s = strings.TrimSpace(s)
	if s == "" {
		return netip.Addr{}
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, err2 := netip.ParseAddrPort(s)
		if err2 != nil {
			return netip.Addr{}
		}
		a = ap.Addr()
	}
	return a.WithZone("").Unmap()
}
