// Package geotest writes small MaxMind-format databases for tests: the GeoLite2-City
// layout, with only the fields that geo reads.
package geotest

import (
	"fmt"
	"net"
	"net/netip"
	"os"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// BuildEpoch is the build time (2026-01-01 UTC) written in every test database's
// metadata, so that the files are the same from run to run.
const BuildEpoch = 1767225600

// Entry is one network of a test database and where it is.
type Entry struct {
	Network string // CIDR, IPv4 ("203.0.113.0/24") or IPv6 ("2001:db8::/32")
	Country string // ISO 3166-1 alpha-2 code, also written as the English name; "" leaves country out
	City    string // English name; "" leaves city out
}

// Write writes a GeoLite2-City database of entries to path. IPv4 and IPv6 networks go
// in one IPv6 tree, IPv4 under ::/96 with the ::ffff:0:0/96 alias, as MaxMind builds
// theirs; documentation and private ranges are allowed. A later entry replaces an
// earlier one where they overlap. It returns an error for a network that is not a CIDR.
func Write(path string, entries []Entry) error {
	return WriteType(path, "GeoLite2-City", entries)
}

// WriteType is Write with another database type in the metadata, e.g. "GeoLite2-ASN"
// to test that a reader refuses it.
func WriteType(path, databaseType string, entries []Entry) error {
	tree, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType:            databaseType,
		BuildEpoch:              BuildEpoch,
		Description:             map[string]string{"en": "mailtrail test database"},
		Languages:               []string{"en"},
		RecordSize:              24,
		IncludeReservedNetworks: true,
	})
	if err != nil {
		return fmt.Errorf("geotest: %w", err)
	}
	for _, e := range entries {
		n, err := ipNet(e.Network)
		if err != nil {
			return err
		}
		if err := tree.Insert(n, value(e)); err != nil {
			return fmt.Errorf("geotest: insert %s: %w", e.Network, err)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("geotest: %w", err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("geotest: write %s: %w", path, err)
	}
	return f.Close()
}

// ipNet parses a CIDR into the form the writer takes: 4 bytes for IPv4, so that it
// lands under ::/96.
func ipNet(cidr string) (*net.IPNet, error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return nil, fmt.Errorf("geotest: network %q: %w", cidr, err)
	}
	if p.Addr().Is4In6() {
		return nil, fmt.Errorf("geotest: network %q: write IPv4-mapped networks in IPv4 form", cidr)
	}
	p = p.Masked()
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}, nil
}

func value(e Entry) mmdbtype.Map {
	m := mmdbtype.Map{}
	if e.Country != "" {
		m["country"] = mmdbtype.Map{
			"iso_code": mmdbtype.String(e.Country),
			"names":    mmdbtype.Map{"en": mmdbtype.String(e.Country)},
		}
	}
	if e.City != "" {
		m["city"] = mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(e.City)}}
	}
	return m
}
