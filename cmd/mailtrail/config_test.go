package main

import (
	"flag"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailtrail/mailtrail/internal/geo/geotest"
)

// parseConfig binds a Config to a fresh flag set, parses args and validates it.
func parseConfig(t *testing.T, args ...string) (*Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var cfg Config
	cfg.bind(fs)
	if err := fs.Parse(append([]string{"--data-dir", t.TempDir()}, args...)); err != nil {
		t.Fatal(err)
	}
	return &cfg, cfg.validate()
}

func TestConfigGeoIPDB(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "GeoLite2-City.mmdb")
	if err := geotest.Write(good, []geotest.Entry{{Network: "203.0.113.0/24", Country: "DE", City: "Berlin"}}); err != nil {
		t.Fatal(err)
	}
	asn := filepath.Join(dir, "GeoLite2-ASN.mmdb")
	if err := geotest.WriteType(asn, "GeoLite2-ASN", nil); err != nil {
		t.Fatal(err)
	}
	text := filepath.Join(dir, "GeoLite2-City.tar.gz")
	if err := os.WriteFile(text, []byte("not a database"), 0o600); err != nil {
		t.Fatal(err)
	}

	t.Run("unset", func(t *testing.T) {
		cfg, err := parseConfig(t)
		if err != nil {
			t.Fatal(err)
		}
		if db, err := cfg.geoDB(); db != nil || err != nil {
			t.Errorf("geoDB() = %v, %v; want nil, nil", db, err)
		}
	})
	t.Run("flag", func(t *testing.T) {
		cfg, err := parseConfig(t, "--geoip-db", good)
		if err != nil {
			t.Fatal(err)
		}
		db, err := cfg.geoDB()
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if country, city := db.Lookup(netip.MustParseAddr("203.0.113.77")); country != "DE" || city != "Berlin" {
			t.Errorf("Lookup = %q, %q; want DE, Berlin", country, city)
		}
	})
	t.Run("env", func(t *testing.T) {
		t.Setenv("MAILTRAIL_GEOIP_DB", good)
		cfg, err := parseConfig(t)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.GeoIPDB != good {
			t.Errorf("GeoIPDB = %q, want %q", cfg.GeoIPDB, good)
		}
	})
	for _, c := range []struct{ name, path, want string }{
		{"missing", filepath.Join(dir, "nope.mmdb"), "no such file"},
		{"not mmdb", text, "not a MaxMind DB"},
		{"wrong type", asn, "GeoLite2-ASN"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := parseConfig(t, "--geoip-db", c.path)
			if err == nil {
				t.Fatal("no error")
			}
			for _, s := range []string{"--geoip-db", c.path, c.want} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
		})
	}
}
