package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The upgrade fixtures: for every schema a released binary ran on, a small store written
// by that very binary (built from its commit) through the API, dumped as SQL, with the
// report that binary answered. TestUpgradeFromEveryEarlierSchema opens each with the
// current code. Regenerate (once per new migration, adding its last commit here) with
//
//	MAILTRAIL_UPGRADE_FIXTURES=1 go test ./cmd/mailtrail -run TestGenerateUpgradeFixtures -timeout 30m
//
// Migrations 003 and 004 first shipped together, after 005; so no binary ran on "up to
// 003" or "up to 004", and those schemas have no fixture of their own: the stores of 001,
// 002 and 002+005 go through both when they are upgraded.
var upgradeFixtures = []struct{ name, commit string }{
	{"001", "1f6f4a5"},
	{"002", "69296ed"},
	{"002_005", "d43bb70"},
	{"005", "a1e9b70"},
	{"006", "9496a99~1"},
	{"007", "53b5f86~1"},
	{"008", "dd13740~1"},
	{"009", "HEAD"},
}

// upgradeMeta is what a fixture keeps beside its dump to use the store through the API.
type upgradeMeta struct {
	Commit     string   `json:"commit"`
	Migrations []string `json:"migrations"`
	SecretKey  string   `json:"secret_key"` // of the fixture only
	APIKey     string   `json:"api_key"`    // of the fixture only
	ClickPath  string   `json:"click_path"`
	ClickURL   string   `json:"click_url"`
}

const upgradeHTML = `<html><body><a href="https://shop.example.com/spring">Spring</a> <a href="https://shop.example.com/sale">Sale</a> <a href="{{unsubscribe_url}}">Unsubscribe</a></body></html>`

func TestGenerateUpgradeFixtures(t *testing.T) {
	if os.Getenv("MAILTRAIL_UPGRADE_FIXTURES") != "1" {
		t.Skip("generator: set MAILTRAIL_UPGRADE_FIXTURES=1 to rebuild testdata/upgrade from the git history")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range upgradeFixtures {
		t.Run(f.name, func(t *testing.T) {
			rev, err := exec.Command("git", "-C", root, "rev-parse", f.commit).Output()
			if err != nil {
				t.Fatalf("git rev-parse %s: %v", f.commit, err)
			}
			commit := strings.TrimSpace(string(rev))
			src := t.TempDir()
			archive := exec.Command("sh", "-c", fmt.Sprintf("git -C %q archive %s | tar -x -C %q", root, commit, src))
			if out, err := archive.CombinedOutput(); err != nil {
				t.Fatalf("git archive: %v\n%s", err, out)
			}
			bin := filepath.Join(t.TempDir(), "mailtrail")
			build := exec.Command("go", "build", "-o", bin, "./cmd/mailtrail")
			build.Dir = src
			if out, err := build.CombinedOutput(); err != nil {
				t.Fatalf("build %s: %v\n%s", commit, err, out)
			}
			generateUpgradeFixture(t, bin, commit, filepath.Join("testdata", "upgrade", f.name))
		})
	}
}

// generateUpgradeFixture runs the scenario against the binary and writes the fixture.
func generateUpgradeFixture(t *testing.T, bin, commit, out string) {
	ctx := context.Background()
	dir := t.TempDir()
	secret := hex.EncodeToString([]byte("upgrade-fixture-secret-not-used-anywhere"))
	d := startDaemon(t, bin, dir, crashAdmin, "--secret-key", secret)
	c := &http.Client{Timeout: 15 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var org struct {
		APIKey string `json:"api_key"`
	}
	if _, err := doJSON(ctx, c, "POST", d.base+"/api/v1/admin/organizations", crashAdmin, map[string]string{"name": "Upgrade", "timezone": "Europe/Paris"}, &org); err != nil {
		t.Fatal(err)
	}
	type rcpt struct {
		CustomerID    string `json:"customer_id"`
		CustomerEmail string `json:"customer_email"`
	}
	var rcpts []rcpt
	for i := range 20 {
		rcpts = append(rcpts, rcpt{fmt.Sprintf("cust-%02d", i), fmt.Sprintf("person%02d@example.com", i)})
	}
	var msgs struct {
		Messages []struct {
			MessageID string `json:"message_id"`
			HTML      string `json:"html"`
		} `json:"messages"`
	}
	if _, err := doJSON(ctx, c, "POST", d.base+"/api/v1/messages", org.APIKey, map[string]any{"campaign_id": "spring", "html": upgradeHTML, "recipients": rcpts}, &msgs); err != nil || len(msgs.Messages) != 20 {
		t.Fatalf("messages: %v", err)
	}
	sentAt := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	var evs []map[string]any
	for i, m := range msgs.Messages {
		at := sentAt.Add(time.Duration(i) * time.Minute)
		evs = append(evs, map[string]any{"event_type": "sent", "message_id": m.MessageID, "occurred_at": at.Format(time.RFC3339), "idempotency_key": "s" + strconv.Itoa(i)})
		switch {
		case i < 15:
			evs = append(evs, map[string]any{"event_type": "delivered", "message_id": m.MessageID, "occurred_at": at.Add(time.Minute).Format(time.RFC3339), "idempotency_key": "d" + strconv.Itoa(i)})
		case i < 17:
			evs = append(evs, map[string]any{"event_type": "bounced", "message_id": m.MessageID, "occurred_at": at.Add(time.Minute).Format(time.RFC3339), "idempotency_key": "b" + strconv.Itoa(i),
				"metadata": map[string]any{"bounce_type": "hard", "smtp_code": "550 5.1.1"}})
		case i == 17:
			evs = append(evs, map[string]any{"event_type": "bounced", "message_id": m.MessageID, "occurred_at": at.Add(time.Minute).Format(time.RFC3339), "idempotency_key": "b" + strconv.Itoa(i),
				"metadata": map[string]any{"bounce_type": "soft", "smtp_code": "452 4.2.2"}})
		case i == 18:
			evs = append(evs, map[string]any{"event_type": "complained", "message_id": m.MessageID, "occurred_at": at.Add(time.Hour).Format(time.RFC3339), "idempotency_key": "c" + strconv.Itoa(i)})
		}
	}
	if _, err := doJSON(ctx, c, "POST", d.base+"/api/v1/events", org.APIKey, map[string]any{"events": evs}, nil); err != nil {
		t.Fatalf("events: %v", err)
	}
	link := func(html, kind string, n int) string {
		all := regexp.MustCompile(`/api/track/`+kind+`/[A-Za-z0-9_.~-]+`).FindAllString(html, -1)
		if len(all) <= n {
			t.Fatalf("no %s link %d in %q", kind, n, html)
		}
		return all[n]
	}
	get := func(path, ua string) int {
		req, _ := http.NewRequest("GET", d.base+path, nil)
		req.Header.Set("User-Agent", ua)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	for i := range 8 { // people open; three of them twice; four click
		html := msgs.Messages[i].HTML
		for range 1 + min(1, i%3) {
			if st := get(link(html, "open", 0), desktopUA); st != 200 {
				t.Fatalf("open: %d", st)
			}
		}
		if i < 4 {
			if st := get(link(html, "click", i%2), desktopUA); st != http.StatusFound {
				t.Fatalf("click: %d", st)
			}
		}
	}
	unsub := link(msgs.Messages[5].HTML, "unsubscribe", 0)
	resp, err := c.Post(d.base+unsub, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("unsubscribe: %v %v", resp, err)
	}
	resp.Body.Close()
	report := new(bytes.Buffer)
	rr, err := http.NewRequest("GET", d.base+"/api/v1/campaigns/spring/report", nil)
	if err != nil {
		t.Fatal(err)
	}
	rr.Header.Set("Authorization", "Bearer "+org.APIKey)
	resp, err = c.Do(rr)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("report: %v %v", resp, err)
	}
	io.Copy(report, resp.Body)
	resp.Body.Close()
	if err := d.stop(20 * time.Second); err != nil {
		t.Fatalf("stop: %v", err)
	}

	db, err := sql.Open("sqlite", filepath.Join(dir, "mailtrail.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var dump bytes.Buffer
	if err := dumpSQL(db, &dump); err != nil {
		t.Fatal(err)
	}
	meta := upgradeMeta{Commit: commit, SecretKey: secret, APIKey: org.APIKey, ClickURL: "https://shop.example.com/spring",
		ClickPath: link(msgs.Messages[0].HTML, "click", 0)}
	rows, err := db.Query(`SELECT name FROM schema_migrations ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		rows.Scan(&n)
		meta.Migrations = append(meta.Migrations, n)
	}
	rows.Close()
	var pretty bytes.Buffer
	json.Indent(&pretty, report.Bytes(), "", "  ")
	mb, _ := json.MarshalIndent(meta, "", "  ")
	os.MkdirAll(out, 0o755)
	for name, b := range map[string][]byte{"store.sql": dump.Bytes(), "report.json": pretty.Bytes(), "meta.json": mb} {
		if err := os.WriteFile(filepath.Join(out, name), append(bytes.TrimRight(b, "\n"), '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%s: %d bytes of SQL, migrations %v", out, dump.Len(), meta.Migrations)
}

// dumpSQL writes the database as SQL that rebuilds it: the tables, their rows, then the
// indexes (so the rows load without them).
func dumpSQL(db *sql.DB, w io.Writer) error {
	type obj struct{ typ, name, sql string }
	rows, err := db.Query(`SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid`)
	if err != nil {
		return err
	}
	var objs []obj
	for rows.Next() {
		var o obj
		if err := rows.Scan(&o.typ, &o.name, &o.sql); err != nil {
			return err
		}
		objs = append(objs, o)
	}
	rows.Close()
	var tables []string
	for _, o := range objs {
		if o.typ == "table" && !strings.HasPrefix(o.name, "sqlite_") {
			fmt.Fprintf(w, "%s;\n", o.sql)
			tables = append(tables, o.name)
		}
	}
	hasSeq := false
	for _, o := range objs {
		hasSeq = hasSeq || o.name == "sqlite_sequence"
	}
	if hasSeq {
		tables = append(tables, "sqlite_sequence")
	}
	for _, tbl := range tables {
		rows, err := db.Query(`SELECT * FROM "` + tbl + `"`)
		if err != nil {
			return err
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return err
			}
			lits := make([]string, len(vals))
			for i, v := range vals {
				lits[i] = sqlLiteral(v)
			}
			fmt.Fprintf(w, "INSERT INTO \"%s\" VALUES(%s);\n", tbl, strings.Join(lits, ","))
		}
		rows.Close()
	}
	for _, o := range objs {
		if o.typ != "table" {
			fmt.Fprintf(w, "%s;\n", o.sql)
		}
	}
	return nil
}

func sqlLiteral(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		s := strconv.FormatFloat(x, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eEn") {
			s += ".0"
		}
		return s
	case []byte:
		return "X'" + hex.EncodeToString(x) + "'"
	case string:
		return "'" + strings.ReplaceAll(x, "'", "''") + "'"
	case bool:
		if x {
			return "1"
		}
		return "0"
	case time.Time:
		return "'" + x.Format(time.RFC3339Nano) + "'"
	}
	return "'" + strings.ReplaceAll(fmt.Sprint(v), "'", "''") + "'"
}

// loadUpgradeFixture builds a store from a fixture's dump in a new data directory.
func loadUpgradeFixture(t *testing.T, name string) (string, upgradeMeta) {
	t.Helper()
	var meta upgradeMeta
	mb, err := os.ReadFile(filepath.Join("testdata", "upgrade", name, "meta.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(mb, &meta); err != nil {
		t.Fatal(err)
	}
	dump, err := os.ReadFile(filepath.Join("testdata", "upgrade", name, "store.sql"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "mailtrail.db")+"?"+url.Values{"_pragma": {"journal_mode(WAL)"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(string(dump)); err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return dir, meta
}
