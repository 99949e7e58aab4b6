// Package geo gives the country and city of a client address from a MaxMind-format
// database (.mmdb: GeoLite2/GeoIP2 City or Country, DB-IP City Lite), and truncates
// addresses before they are kept.
package geo

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/oschwald/maxminddb-golang/v2"
)

// DB is an opened geography database. It is safe for concurrent use; Close waits for
// the lookups in progress. The file is memory-mapped: replace it by a rename, never by
// writing over it in place while it is open.
type DB struct {
	mu     sync.RWMutex // Close unmaps the file: no lookup may run across it
	r      *maxminddb.Reader
	dbType string
	built  time.Time
}

// record is the part of a City/Country record that Lookup decodes; the decoder skips
// every other field.
type record struct {
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	City struct {
		Names struct {
			EN string `maxminddb:"en"`
		} `maxminddb:"names"`
	} `maxminddb:"city"`
}

// Open opens the MaxMind-format database at path. It returns an error naming path if
// the file cannot be read, is not a MaxMind DB, or its database type names neither a
// city nor a country database (e.g. GeoLite2-ASN).
func Open(path string) (*DB, error) {
	r, err := maxminddb.Open(path)
	var pathErr *fs.PathError
	var dbErr maxminddb.InvalidDatabaseError
	switch {
	case errors.As(err, &pathErr):
		// The path is in our prefix already: keep only what went wrong.
		return nil, fmt.Errorf("geo database %s: %w", path, pathErr.Err)
	case errors.As(err, &dbErr):
		return nil, fmt.Errorf("geo database %s is not a MaxMind DB (.mmdb) file: %w", path, err)
	case err != nil:
		return nil, fmt.Errorf("geo database %s: %w", path, err)
	}
	t := r.Metadata.DatabaseType
	if !strings.Contains(t, "City") && !strings.Contains(t, "Country") {
		r.Close()
		return nil, fmt.Errorf("geo database %s: type %q has no country or city: use a GeoLite2-City or GeoLite2-Country file", path, t)
	}
	return &DB{r: r, dbType: t, built: r.Metadata.BuildTime().UTC()}, nil
}

// Lookup returns the ISO 3166-1 alpha-2 country code (e.g. "DE") and the English city
// name of ip. Either is "" when the database does not know it, when ip is not found or
// invalid, and after Close. An IPv4-mapped IPv6 address is looked up as IPv4.
func (db *DB) Lookup(ip netip.Addr) (country, city string) {
	if db == nil || !ip.IsValid() {
		return "", ""
	}
	ip = ip.Unmap().WithZone("")
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.r == nil {
		return "", ""
	}
	var rec record
	if err := db.r.Lookup(ip).Decode(&rec); err != nil {
		// A corrupt record or an IPv6 address in an IPv4-only database: unknown.
		return "", ""
	}
	return rec.Country.ISOCode, rec.City.Names.EN
}

// Close releases the database; later lookups return "", "". It returns the error of
// unmapping the file, if any.
func (db *DB) Close() error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.r == nil {
		return nil
	}
	err := db.r.Close()
	db.r = nil
	return err
}

// Info describes the database for the startup log, e.g. "GeoLite2-City built 2026-03-10".
func (db *DB) Info() string {
	return db.dbType + " built " + db.built.Format(time.DateOnly)
}
