package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"

	"github.com/mailtrail/mailtrail/internal/store/sqlite"
)

// Issue 13: migrations are forward-only and upgrade every earlier store. Each fixture of
// testdata/upgrade is a store written by the binary of an earlier schema (see
// upgradeFixtures); opened by the current code it is migrated, its campaign report says
// what that binary's report said (every figure it had; figures added since are not
// compared), its API key still signs in and a click link it sent still redirects.
func TestUpgradeFromEveryEarlierSchema(t *testing.T) {
	ents, err := os.ReadDir(filepath.Join("testdata", "upgrade"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) < len(upgradeFixtures) {
		t.Fatalf("%d fixtures in testdata/upgrade, want %d", len(ents), len(upgradeFixtures))
	}
	known := sqlite.KnownMigrations()
	for _, e := range ents {
		t.Run(e.Name(), func(t *testing.T) {
			dir, meta := loadUpgradeFixture(t, e.Name())
			applied, err := sqlite.AppliedMigrations(t.Context(), filepath.Join(dir, "mailtrail.db"))
			if err != nil || !reflect.DeepEqual(applied, meta.Migrations) {
				t.Fatalf("fixture's migrations %v, meta says %v (%v)", applied, meta.Migrations, err)
			}
			h := newHarness(t, func(c *Config) { c.DataDir, c.SecretKey = dir, meta.SecretKey })
			if now, err := sqlite.AppliedMigrations(t.Context(), filepath.Join(dir, "mailtrail.db")); err != nil || !reflect.DeepEqual(now, known) {
				t.Fatalf("after the upgrade: migrations %v, want %v (%v)", now, known, err)
			}
			want, err := os.ReadFile(filepath.Join("testdata", "upgrade", e.Name(), "report.json"))
			if err != nil {
				t.Fatal(err)
			}
			resp := h.do("GET", "/api/v1/campaigns/spring/report", meta.APIKey, nil, nil)
			got, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 {
				t.Fatalf("report: %d %s", resp.StatusCode, got)
			}
			var wantV, gotV any
			if err := json.Unmarshal(want, &wantV); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(got, &gotV); err != nil {
				t.Fatal(err)
			}
			if diffs := jsonSubsetDiff("", wantV, gotV); len(diffs) > 0 {
				t.Fatalf("report after the upgrade differs from the one schema %s answered:\n%v", e.Name(), diffs)
			}
			resp = h.do("GET", meta.ClickPath, "", nil, nil)
			if resp.StatusCode != 302 || resp.Header.Get("Location") != meta.ClickURL {
				t.Fatalf("click link of schema %s: %d %q", e.Name(), resp.StatusCode, resp.Header.Get("Location"))
			}
		})
	}
}

// jsonSubsetDiff lists where got differs from want, over want's keys only: an object may
// have gained keys, never changed or lost one; arrays compare element by element.
func jsonSubsetDiff(path string, want, got any) []string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want an object, got %v", path, got)}
		}
		keys := make([]string, 0, len(w))
		for k := range w {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var out []string
		for _, k := range keys {
			gv, ok := g[k]
			if !ok {
				out = append(out, fmt.Sprintf("%s.%s: missing", path, k))
				continue
			}
			out = append(out, jsonSubsetDiff(path+"."+k, w[k], gv)...)
		}
		return out
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return []string{fmt.Sprintf("%s: want %d elements %v, got %v", path, len(w), want, got)}
		}
		var out []string
		for i := range w {
			out = append(out, jsonSubsetDiff(fmt.Sprintf("%s[%d]", path, i), w[i], g[i])...)
		}
		return out
	}
	if !reflect.DeepEqual(want, got) {
		return []string{fmt.Sprintf("%s: want %v, got %v", path, want, got)}
	}
	return nil
}
