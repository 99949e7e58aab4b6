package geo_test

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/mailtrail/mailtrail/internal/geo"
	"github.com/mailtrail/mailtrail/internal/geo/geotest"
)

var entries = []geotest.Entry{
	{Network: "203.0.113.0/24", Country: "DE", City: "Berlin"},
	{Network: "198.51.100.0/25", Country: "FR", City: "Paris"},
	{Network: "198.51.100.128/25", Country: "FR"}, // country only, as for many addresses
	{Network: "81.2.69.0/24", Country: "GB", City: "London"},
	{Network: "2001:db8:1234::/48", Country: "JP", City: "Tokyo"},
	{Network: "2a02:1234::/32", Country: "NL", City: "Amsterdam"},
}

// openTest writes entries to a database in a temporary directory and opens it.
func openTest(t testing.TB) *geo.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "city.mmdb")
	if err := geotest.Write(path, entries); err != nil {
		t.Fatal(err)
	}
	db, err := geo.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestGeoLookup(t *testing.T) {
	db := openTest(t)
	for _, c := range []struct {
		ip            string
		country, city string
	}{
		{"203.0.113.77", "DE", "Berlin"},
		{"203.0.113.0", "DE", "Berlin"},
		{"198.51.100.1", "FR", "Paris"},
		{"198.51.100.200", "FR", ""},
		{"81.2.69.142", "GB", "London"},
		{"::ffff:81.2.69.142", "GB", "London"}, // IPv4-mapped: looked up as IPv4
		{"2001:db8:1234:5678::1", "JP", "Tokyo"},
		{"2001:db8:1234::", "JP", "Tokyo"},
		{"fe80::1%eth0", "", ""},
		{"2a02:1234:ffff::9", "NL", "Amsterdam"},
		{"2a02:1235::1", "", ""}, // IPv6 miss
		{"192.0.2.1", "", ""},    // IPv4 miss
		{"2001:db8:1235::1", "", ""},
		{"0.0.0.0", "", ""},
		{"::", "", ""},
	} {
		country, city := db.Lookup(netip.MustParseAddr(c.ip))
		if country != c.country || city != c.city {
			t.Errorf("Lookup(%s) = %q, %q; want %q, %q", c.ip, country, city, c.country, c.city)
		}
	}
	if country, city := db.Lookup(netip.Addr{}); country != "" || city != "" {
		t.Errorf("Lookup(invalid) = %q, %q; want empty", country, city)
	}
}

func TestGeoInfo(t *testing.T) {
	db := openTest(t)
	if got, want := db.Info(), "GeoLite2-City built 2026-01-01"; got != want {
		t.Errorf("Info() = %q, want %q", got, want)
	}
}

func TestGeoClose(t *testing.T) {
	db := openTest(t)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if country, city := db.Lookup(netip.MustParseAddr("203.0.113.77")); country != "" || city != "" {
		t.Errorf("Lookup after Close = %q, %q; want empty", country, city)
	}
	var nilDB *geo.DB
	if country, city := nilDB.Lookup(netip.MustParseAddr("203.0.113.77")); country != "" || city != "" {
		t.Errorf("nil Lookup = %q, %q; want empty", country, city)
	}
}

// TestGeoConcurrent runs lookups from many goroutines while the database closes; run
// it with -race.
func TestGeoConcurrent(t *testing.T) {
	db := openTest(t)
	ip := netip.MustParseAddr("81.2.69.142")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 2000 {
				if c, _ := db.Lookup(ip); c != "GB" && c != "" {
					t.Errorf("Lookup = %q", c)
					return
				}
			}
		})
	}
	wg.Go(func() { db.Close() })
	wg.Wait()
}

func TestGeoOpenErrors(t *testing.T) {
	dir := t.TempDir()
	notMMDB := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notMMDB, []byte("not a database\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.mmdb")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	asn := filepath.Join(dir, "asn.mmdb")
	if err := geotest.WriteType(asn, "GeoLite2-ASN", entries[:1]); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path string
		want string // in the message, beside the path
	}{
		{filepath.Join(dir, "missing.mmdb"), "no such file"},
		{notMMDB, "invalid MaxMind DB"},
		{empty, "empty"},
		{dir, ""}, // a directory
		{asn, `"GeoLite2-ASN" has no country or city`},
	} {
		db, err := geo.Open(c.path)
		if err == nil {
			db.Close()
			t.Errorf("Open(%s): no error", c.path)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, c.path) || !strings.Contains(msg, c.want) {
			t.Errorf("Open(%s) = %q, want the path and %q", c.path, msg, c.want)
		}
	}
}

func TestGeoOpenCountryTypes(t *testing.T) {
	for _, typ := range []string{"GeoLite2-City", "GeoIP2-City", "GeoLite2-Country", "GeoIP2-Country", "DBIP-City-Lite", "DBIP-Country-Lite"} {
		path := filepath.Join(t.TempDir(), "db.mmdb")
		if err := geotest.WriteType(path, typ, entries); err != nil {
			t.Fatal(err)
		}
		db, err := geo.Open(path)
		if err != nil {
			t.Errorf("Open(%s database): %v", typ, err)
			continue
		}
		if country, _ := db.Lookup(netip.MustParseAddr("203.0.113.9")); country != "DE" {
			t.Errorf("%s: country %q, want DE", typ, country)
		}
		db.Close()
	}
}

func BenchmarkLookup(b *testing.B) {
	db := openTest(b)
	ips := []netip.Addr{
		netip.MustParseAddr("203.0.113.77"),
		netip.MustParseAddr("2001:db8:1234:5678::1"),
		netip.MustParseAddr("192.0.2.1"), // miss
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			db.Lookup(ips[i%len(ips)])
			i++
		}
	})
}
