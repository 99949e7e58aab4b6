package mailtrail_test

import (
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"sort"
	"strings"
	"testing"
)

// The rules of the house (docs/architecture.md, "Packages"), checked on the import graph
// that `go list` reports for the non-test files of every package of the module.

const module = "github.com/mailtrail/mailtrail"

// drivers are the third-party modules only a store adapter may import.
var drivers = []string{
	"modernc.org/sqlite",
	"github.com/jackc/pgx",
	"github.com/ClickHouse/",
	"github.com/nats-io/",
	"github.com/mattn/go-sqlite3",
}

type pkgKind int

const (
	kindRoot    pkgKind = iota
	kindWiring          // cmd/… and bench/…: configuration and wiring, may import anything
	kindAdapter         // httpd, dashboard, store/<engine>, log
	kindStore           // store/<engine> (an adapter too)
	kindCore            // everything else of the module
	kindStd             // the standard library
	kindDriver          // a database or log driver
	kindOther           // another third-party module
)

func kindOf(path string) pkgKind {
	switch {
	case path == module:
		return kindRoot
	case strings.HasPrefix(path, module+"/cmd/"), strings.HasPrefix(path, module+"/bench/"), path == module+"/bench":
		return kindWiring
	case strings.HasPrefix(path, module+"/internal/store/"):
		rest := strings.TrimPrefix(path, module+"/internal/store/")
		if rest == "storetest" || strings.HasPrefix(rest, "storetest/") {
			return kindCore // the conformance suite: core, imports the root and core packages
		}
		return kindStore
	case path == module+"/internal/httpd", strings.HasPrefix(path, module+"/internal/httpd/"),
		path == module+"/internal/dashboard", strings.HasPrefix(path, module+"/internal/dashboard/"),
		path == module+"/internal/log", strings.HasPrefix(path, module+"/internal/log/"):
		return kindAdapter
	case strings.HasPrefix(path, module+"/"):
		return kindCore
	}
	for _, d := range drivers {
		if strings.HasPrefix(path, d) {
			return kindDriver
		}
	}
	first := path
	if i := strings.IndexByte(path, '/'); i >= 0 {
		first = path[:i]
	}
	if !strings.Contains(first, ".") {
		return kindStd
	}
	return kindOther
}

// adapterOf names the adapter a package belongs to (its first path element under
// internal/, or store/<engine>), so sub-packages of one adapter may import each other.
func adapterOf(path string) string {
	rest := strings.TrimPrefix(path, module+"/internal/")
	parts := strings.Split(rest, "/")
	if parts[0] == "store" && len(parts) > 1 {
		return "store/" + parts[1]
	}
	return parts[0]
}

// violations lists every import that breaks a rule of the house, one line each.
func violations(graph map[string][]string) []string {
	var out []string
	bad := func(from, to, rule string) { out = append(out, fmt.Sprintf("%s imports %s: %s", from, to, rule)) }
	for from, imps := range graph {
		kf := kindOf(from)
		for _, to := range imps {
			kt := kindOf(to)
			switch kf {
			case kindRoot:
				if kt != kindStd {
					bad(from, to, "the root imports only the standard library")
				}
				continue
			case kindWiring:
				continue
			}
			switch {
			case kt == kindDriver && kf != kindStore:
				bad(from, to, "only a store adapter imports a driver")
			case kt == kindStore && kf != kindWiring:
				bad(from, to, "only cmd/ (and bench/) import a store")
			case kf == kindCore && (kt == kindAdapter || kt == kindStore):
				bad(from, to, "core packages never import an adapter")
			case (kf == kindAdapter || kf == kindStore) && (kt == kindAdapter || kt == kindStore) && adapterOf(from) != adapterOf(to):
				bad(from, to, "adapters never import each other")
			case kt == kindWiring:
				bad(from, to, "nothing imports cmd/ or bench/")
			}
		}
	}
	sort.Strings(out)
	return out
}

// importGraph runs `go list -deps=false` over the module: package → its non-test imports.
func importGraph(t *testing.T) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports", "./...")
	outp, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	graph := map[string][]string{}
	dec := json.NewDecoder(strings.NewReader(string(outp)))
	for {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		graph[p.ImportPath] = p.Imports
	}
	if len(graph) < 10 {
		t.Fatalf("go list found only %d packages", len(graph))
	}
	return graph
}

func TestHouseImportRules(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	if v := violations(importGraph(t)); len(v) > 0 {
		t.Errorf("the rules of the house (docs/architecture.md) are broken:\n  %s", strings.Join(v, "\n  "))
	}
}

// TestHouseImportRulesCatch proves the check fails when a rule is broken: one made-up
// import per rule, each must be reported.
func TestHouseImportRulesCatch(t *testing.T) {
	m := module + "/internal/"
	cases := []struct{ from, to, rule string }{
		{module, "github.com/RoaringBitmap/roaring/v2", "the root imports only the standard library"},
		{module, m + "rules", "the root imports only the standard library"},
		{m + "rules", m + "httpd", "core packages never import an adapter"},
		{m + "query", m + "dashboard", "core packages never import an adapter"},
		{m + "connection", m + "httpd", "core packages never import an adapter"},
		{m + "dashboard", m + "httpd", "adapters never import each other"},
		{m + "httpd", m + "store/sqlite", "only cmd/ (and bench/) import a store"},
		{m + "segment", "modernc.org/sqlite", "only a store adapter imports a driver"},
		{m + "httpd", "github.com/jackc/pgx/v5", "only a store adapter imports a driver"},
		{m + "store/sqlite", m + "store/postgres", "only cmd/ (and bench/) import a store"},
		{m + "ingest", module + "/cmd/mailtrail", "nothing imports cmd/ or bench/"},
		{m + "ingest", m + "store/eventlog", "only cmd/ (and bench/) import a store"},
		{m + "httpd", "github.com/nats-io/nats.go", "only a store adapter imports a driver"},
		{m + "store/eventlog", m + "store/sqlite", "only cmd/ (and bench/) import a store"},
	}
	for _, c := range cases {
		v := violations(map[string][]string{c.from: {c.to}})
		if len(v) != 1 || !strings.HasSuffix(v[0], c.rule) {
			t.Errorf("%s → %s: got %q, want one violation %q", c.from, c.to, v, c.rule)
		}
	}
	ok := map[string][]string{
		module:                        {"fmt", "net/netip"},
		module + "/cmd/mailtrail":     {m + "store/sqlite", m + "httpd", "modernc.org/sqlite"},
		m + "store/sqlite":            {module, m + "rules", "modernc.org/sqlite", "database/sql"},
		m + "httpd":                   {module, m + "query", m + "esp"},
		m + "store/storetest":         {module, "testing"},
		m + "esp":                     {m + "esp/bouncemail"},
		m + "dashboard":               {m + "dashboard/assets"},
		module + "/bench/cmd/compare": {m + "store/sqlite"},
		m + "store/eventlog":          {module, "github.com/nats-io/nats-server/v2/server", "github.com/nats-io/nats.go/jetstream"},
		module + "/bench/eventlog":    {m + "store/eventlog"},
	}
	if v := violations(ok); len(v) != 0 {
		t.Errorf("allowed imports reported: %q", v)
	}
}
