package sqlite

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/rules"
)

// A store made before migration 010 holds suppressions of one address in several cases.
// After the migration each address has one row with the strongest suppression, the
// spelling first seen, the whole history (and a 'merged' entry per row dropped) and one
// soft-bounce run.
func TestMigrateEmailCase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	w, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	old := &DB{w: w}
	if err := old.migrate(pctx, "009"); err != nil {
		t.Fatal(err)
	}
	var applied int
	if err := w.QueryRow(`SELECT count(*) FROM schema_migrations WHERE name >= 'migrations/010'`).Scan(&applied); err != nil || applied != 0 {
		t.Fatalf("the old store has later migrations: %d %v", applied, err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := w.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`INSERT INTO orgs (id, public_id, name, timezone, created_at) VALUES (1, 'org_old', 'old', 'UTC', 0), (2, 'org_two', 'two', 'UTC', 0)`)
	sup := `INSERT INTO suppressions (org_id, email, customer_id, reason, source, event_id, detail, note, occurred_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	hist := `INSERT INTO suppression_history (org_id, email, action, reason, source, event_id, detail, customer_id, actor, note, at) VALUES (?, ?, 'added', ?, ?, ?, '', ?, ?, '', ?)`
	// ann: a manual entry first, then a hard bounce under the lower-cased spelling (as
	// SparkPost reports it), then a soft-bounce suppression under a third spelling.
	exec(sup, 1, "Ann@example.com", "", "manual", "api", "", "", "asked", 1000, 1000)
	exec(hist, 1, "Ann@example.com", "manual", "api", "", "", "key:k", 1000)
	exec(sup, 1, "ann@example.com", "u_ann", "hard_bounce", "webhook", "ev-hard", "550 5.1.1 user unknown", "", 2000, 2100)
	exec(hist, 1, "ann@example.com", "hard_bounce", "webhook", "ev-hard", "u_ann", "event", 2100)
	exec(sup, 1, "ANN@example.com", "", "soft_bounce", "webhook", "ev-soft", "452 full", "", 3000, 3100)
	exec(hist, 1, "ANN@example.com", "soft_bounce", "webhook", "ev-soft", "", "event", 3100)
	// bob: an unsubscribe and an earlier complaint: the earliest event wins.
	exec(sup, 1, "Bob@example.com", "", "unsubscribed", "tracking_link", "ev-u", "", "", 5000, 5000)
	exec(hist, 1, "Bob@example.com", "unsubscribed", "tracking_link", "ev-u", "", "event", 5000)
	exec(sup, 1, "bob@example.com", "", "complaint", "webhook", "ev-c", "", "", 4000, 6000)
	exec(hist, 1, "bob@example.com", "complaint", "webhook", "ev-c", "", "event", 6000)
	// cy: one spelling only; the same spelling in another organization stays apart.
	exec(sup, 1, "Cy@example.com", "", "list_import", "csv_import", "", "", "", 7000, 7000)
	exec(sup, 2, "cy@example.com", "", "manual", "api", "", "", "", 7000, 7000)
	// An erased address's row is a hash and stays as it is.
	hash := mailtrail.EmailHash("gone@example.com")
	exec(sup, 1, hash, "erased:x", "complaint", "webhook", "", "", "", 8000, 8000)
	// One erased before the upgrade was hashed with its local part as spelled.
	legacy := sha256.Sum256([]byte("Zed@example.com"))
	legacyHash := mailtrail.EmailHashPrefix + hex.EncodeToString(legacy[:])
	exec(sup, 1, legacyHash, "erased:y", "hard_bounce", "webhook", "", "", "", 9000, 9000)
	exec(hist, 1, legacyHash, "hard_bounce", "webhook", "", "erased:y", "event", 9000)
	// dee: two soft-bounce runs.
	exec(`INSERT INTO soft_bounces (org_id, email, state) VALUES (1, 'Dee@example.com', ?), (1, 'dee@example.com', ?), (1, 'Eve@example.com', ?)`,
		`{"r":10,"b":[{"t":20,"id":"a"},{"t":30,"id":"b"}]}`, `{"r":25,"b":[{"t":30,"id":"b"},{"t":40,"id":"c","d":"452"}]}`, `{"b":[{"t":5,"id":"e"}]}`)
	w.Close()

	db, err := Open(pctx, path, Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	var n int
	if err := db.r.QueryRow(`SELECT count(*) FROM suppressions WHERE org_id = 1`).Scan(&n); err != nil || n != 5 {
		t.Fatalf("rows after the migration: %d %v, want 5 (ann, bob, cy, the hashes)", n, err)
	}
	found, err := db.CheckSuppressions(pctx, "org_old", []string{"ANN@EXAMPLE.COM", "bob@Example.com", "cY@example.com", "gone@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	ann, bob, cy := found["ann@example.com"], found["bob@example.com"], found["cy@example.com"]
	if ann.Reason != mailtrail.ReasonHardBounce || ann.EventID != "ev-hard" || ann.Email != "Ann@example.com" || ann.CustomerID != "u_ann" {
		t.Errorf("ann: %+v, want the hard bounce shown as first spelled", ann)
	}
	if bob.Reason != mailtrail.ReasonComplaint || bob.Email != "Bob@example.com" {
		t.Errorf("bob: %+v, want the earlier complaint", bob)
	}
	if cy.Reason != mailtrail.ReasonListImport || cy.Email != "Cy@example.com" {
		t.Errorf("cy: %+v", cy)
	}
	if g := found["gone@example.com"]; g.Reason != mailtrail.ReasonComplaint || g.EmailHash != hash {
		t.Errorf("erased address: %+v", g)
	}
	if two, _ := db.CheckSuppressions(pctx, "org_two", []string{"CY@example.com"}); two["cy@example.com"].Reason != mailtrail.ReasonManual {
		t.Errorf("the other organization's row: %+v", two)
	}

	h, cur, err := db.SuppressionHistory(pctx, "org_old", "ann@example.com")
	if err != nil || cur == nil || cur.Reason != mailtrail.ReasonHardBounce {
		t.Fatalf("ann's history: %+v %v", cur, err)
	}
	var got []string
	for _, c := range h {
		got = append(got, c.Action+":"+c.Reason)
	}
	want := []string{"added:manual", "added:hard_bounce", "added:soft_bounce", "merged:manual", "merged:soft_bounce"}
	if len(got) != len(want) {
		t.Fatalf("ann's history %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("ann's history %v, want %v", got, want)
		}
	}
	if h[3].Actor != "migration" {
		t.Errorf("merged entry: %+v", h[3])
	}
	if bh, _, _ := db.SuppressionHistory(pctx, "org_old", "BOB@example.com"); len(bh) != 3 {
		t.Errorf("bob's history: %+v", bh)
	}

	states := map[string]rules.SoftBounceState{}
	rows, err := db.r.Query(`SELECT email, state FROM soft_bounces WHERE org_id = 1`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var e, s string
		var st rules.SoftBounceState
		if err := rows.Scan(&e, &s); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(s), &st); err != nil {
			t.Fatalf("state of %s: %q: %v", e, s, err)
		}
		states[e] = st
	}
	rows.Close()
	dee, eve := states["dee@example.com"], states["eve@example.com"]
	if len(states) != 2 || dee.ResetAt != 25 || len(dee.Bounces) != 2 || dee.Bounces[0].EventID != "b" || dee.Bounces[1].EventID != "c" ||
		dee.Bounces[1].Detail != "452" || len(eve.Bounces) != 1 {
		t.Errorf("soft-bounce runs: %+v", states)
	}

	// The address erased before the upgrade, spelled as it was then, is still suppressed,
	// its history found and its removal possible.
	if z, _ := db.CheckSuppressions(pctx, "org_old", []string{"Zed@Example.com"}); z["zed@example.com"].Reason != mailtrail.ReasonHardBounce {
		t.Errorf("address erased before the upgrade: %+v", z)
	}
	if zh, zcur, _ := db.SuppressionHistory(pctx, "org_old", "Zed@example.com"); len(zh) != 1 || zcur == nil {
		t.Errorf("its history: %+v %+v", zh, zcur)
	}
	if s, err := db.Suppressed(pctx, "org_old", "Zed@example.com"); err != nil || s == nil {
		t.Errorf("single check: %+v %v", s, err)
	}
	if r, err := db.RemoveSuppression(pctx, "org_old", "Zed@example.com", "key:k", "asked"); err != nil || r.EmailHash != legacyHash {
		t.Errorf("removal: %+v %v", r, err)
	}

	// New writes of another spelling find the migrated row.
	if res, err := db.AddSuppressions(pctx, "org_old", []mailtrail.SuppressionInput{{Email: "CY@EXAMPLE.COM"}}, mailtrail.SuppressSourceAPI, "key:k"); err != nil || res.Existing != 1 {
		t.Errorf("add after the migration: %+v %v", res, err)
	}
}
