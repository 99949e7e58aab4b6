package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/mailtrail/mailtrail/internal/enrich"
	"github.com/mailtrail/mailtrail/internal/geo"
	"github.com/mailtrail/mailtrail/internal/geo/geotest"
)

// openGeo opens the geography database of -geoip-db for the enrich step; it returns a nil
// Geo when path is empty. "synthetic" writes a GeoLite2-City-shaped database of 20,000
// networks (every /24 of 10.0.0.0/10 … and the documentation ranges) to a temporary file,
// for measuring the lookup's cost where no MaxMind file is at hand.
func openGeo(path string) (enrich.Geo, func() error, error) {
	if path == "" {
		return nil, func() error { return nil }, nil
	}
	var cleanup func()
	if path == "synthetic" {
		dir, err := os.MkdirTemp("", "mt-geo-")
		if err != nil {
			return nil, nil, err
		}
		cleanup = func() { os.RemoveAll(dir) }
		path = filepath.Join(dir, "synthetic-city.mmdb")
		var entries []geotest.Entry
		for i := 0; i < 20000; i++ {
			entries = append(entries, geotest.Entry{Network: fmt.Sprintf("%d.%d.%d.0/24", 1+i/65536%200, i/256%256, i%256),
				Country: []string{"FR", "US", "DE", "GB", "CA"}[i%5], City: fmt.Sprintf("City %d", i%997)})
		}
		entries = append(entries, geotest.Entry{Network: "203.0.113.0/24", Country: "FR", City: "Paris"},
			geotest.Entry{Network: "198.51.100.0/24", Country: "US", City: "Boston"})
		if err := geotest.Write(path, entries); err != nil {
			cleanup()
			return nil, nil, err
		}
	}
	g, err := geo.Open(path)
	if err != nil {
		if cleanup != nil {
			cleanup()
		}
		return nil, nil, err
	}
	return g, func() error {
		err := g.Close()
		if cleanup != nil {
			cleanup()
		}
		return err
	}, nil
}
