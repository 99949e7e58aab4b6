package main

import (
	"errors"

	"github.com/mailtrail/mailtrail/internal/enrich"
)

// openGeo opens the geography database of -geoip-db for the enrich step; it returns a nil
// Geo when path is empty. The benchmark takes the database through enrich.Geo only, so
// nothing else here depends on the geo package.
func openGeo(path string) (enrich.Geo, func() error, error) {
	if path == "" {
		return nil, func() error { return nil }, nil
	}
	// TODO(geo): internal/geo (Open(path) (*geo.DB, error), (*DB).Lookup(netip.Addr),
	// (*DB).Close) is on branch geo, not on this branch. Once it is merged, replace the
	// error below with:
	//
	//	g, err := geo.Open(path)
	//	if err != nil {
	//		return nil, nil, err
	//	}
	//	return g, g.Close, nil
	return nil, nil, errors.New("-geoip-db: internal/geo is not on this branch yet, so geo lookup cannot be measured; " +
		"run without -geoip-db to measure classification alone (see the TODO in bench/report/geo.go)")
}
