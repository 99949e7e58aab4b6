package dashboard

import (
	"strings"

	"github.com/mailtrail/mailtrail"
)

// clientNames and deviceNames are how people name the values the classifier stores.
var (
	clientNames = map[string]string{"gmail": "Gmail", "apple_mail": "Apple Mail", "outlook": "Outlook", "yahoo": "Yahoo Mail", "thunderbird": "Thunderbird", "chrome": "Chrome", "safari": "Safari", "firefox": "Firefox", "edge": "Edge", "samsung_internet": "Samsung Internet", "opera": "Opera"}
	deviceNames = map[string]string{"desktop": "Desktop", "mobile": "Phone", "tablet": "Tablet", "webmail": "Webmail (browser)"}
)

// dimLabel names a breakdown value of a dimension as people say it: Apple Mail, Phone,
// France, Austin (US); an empty value is "Unknown"; a value not in the tables keeps its
// own spelling, underscores as spaces.
func dimLabel(dim, v string) string {
	if v == "" {
		return "Unknown"
	}
	switch dim {
	case "client":
		if n, ok := clientNames[v]; ok {
			return n
		}
	case "device":
		if n, ok := deviceNames[v]; ok {
			return n
		}
	case "country":
		if n, ok := countryNames[strings.ToUpper(v)]; ok {
			return n
		}
	case "city":
		if cc, city, ok := strings.Cut(v, "/"); ok && city != "" {
			return city + " (" + cc + ")"
		}
	}
	return strings.ReplaceAll(v, "_", " ")
}

// dimRow is one named value of a breakdown table.
type dimRow struct {
	Name              string
	Total, HumanTotal int64
}

// dimTable is a breakdown by one dimension, most first and Unknown last.
type dimTable struct {
	Name string
	Rows []dimRow
	Max  int64
}

// dimTables names the values of a breakdown and puts the unknown ones last (the figures
// stay the API's).
func dimTables(b mailtrail.Breakdown) []dimTable {
	mk := func(name, dim string, v []mailtrail.DimValue) dimTable {
		t := dimTable{Name: name}
		var unknown []dimRow
		for _, x := range v {
			t.Max = max(t.Max, x.Total)
			r := dimRow{Name: dimLabel(dim, x.Value), Total: x.Total, HumanTotal: x.HumanTotal}
			if x.Value == "" {
				unknown = append(unknown, r)
				continue
			}
			t.Rows = append(t.Rows, r)
		}
		t.Rows = append(t.Rows, unknown...)
		return t
	}
	return []dimTable{mk("Email client", "client", b.Client), mk("Device", "device", b.Device), mk("Country", "country", b.Country), mk("City", "city", b.City)}
}
