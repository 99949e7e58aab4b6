package main

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Issue 13: every verb group answers --help with its verbs, every leaf with its own flags
// only, on stdout, returning no error (exit 0), and nothing is created.
func TestCLIHelp(t *testing.T) {
	cwd := t.TempDir()
	t.Chdir(cwd) // the default data directory is ./mailtrail-data
	t.Setenv("MAILTRAIL_DATA_DIR", "")
	os.Unsetenv("MAILTRAIL_DATA_DIR")
	help := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if err := Run(context.Background(), args, &out, &errb); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if errb.Len() != 0 || out.Len() == 0 {
			t.Fatalf("%v: stdout %q, stderr %q", args, out.String(), errb.String())
		}
		return out.String()
	}
	groups := map[string][]string{
		"org": {"create", "list"}, "key": {"create", "list", "revoke"}, "connection": {"create", "list"},
		"suppression": {"import"}, "customer": {"erase"}, "cluster": {"check"},
	}
	for g, verbs := range groups {
		for _, h := range []string{"--help", "-h", "help"} {
			out := help(g, h)
			for _, v := range verbs {
				if !strings.Contains(out, "mailtrail "+g+" "+v) {
					t.Errorf("%s %s does not list %s:\n%s", g, h, v, out)
				}
			}
		}
	}
	// Each leaf: its own flags, none of its siblings', and the store's directory.
	leaves := []struct {
		args      []string
		has, hasn []string
	}{
		{[]string{"org", "create"}, []string{"-name", "-timezone", "-data-dir"}, []string{"-org", "-admin-token"}},
		{[]string{"org", "list"}, []string{"-data-dir"}, []string{"-name", "-timezone"}},
		{[]string{"key", "create"}, []string{"-org", "-name", "-scope"}, []string{"-key ", "-addr"}},
		{[]string{"key", "list"}, []string{"-org"}, []string{"-name", "-scope", "-key "}},
		{[]string{"key", "revoke"}, []string{"-org", "-key "}, []string{"-name", "-scope"}},
		{[]string{"connection", "create"}, []string{"-vendor", "-signing-key", "-imap-url", "-public-url", "-secret-key"}, []string{"-addr", "-tracking-wait"}},
		{[]string{"connection", "list"}, []string{"-org", "-public-url"}, []string{"-vendor", "-signing-key"}},
		{[]string{"suppression", "import"}, []string{"-org", "-file"}, []string{"-name", "-vendor"}},
		{[]string{"customer", "erase"}, []string{"-org", "CUSTOMER_ID"}, []string{"-file", "-name"}},
		{[]string{"backup"}, []string{"-to", "-data-dir", "-secret-key"}, []string{"-from", "-addr"}},
		{[]string{"restore"}, []string{"-from", "-data-dir"}, []string{"-to ", "-addr"}},
		{[]string{"serve"}, []string{"-addr", "-data-dir", "-admin-token", "MAILTRAIL_ADDR"}, nil},
		{[]string{"demo"}, []string{"-addr", "-public-url", "token is generated (and printed)"}, nil},
		{[]string{"version"}, []string{"mailtrail version"}, nil},
		{[]string{"cluster", "check"}, []string{"-timeout", "-json", "-event-log-url", "-nats-creds", "-postgres-dsn", "-clickhouse-url", "MAILTRAIL_POSTGRES_DSN", "Exit status"}, []string{"-addr", "-admin-token"}},
	}
	for _, l := range leaves {
		for _, h := range []string{"--help", "-h"} {
			out := help(append(l.args, h)...)
			for _, s := range l.has {
				if !strings.Contains(out, s) {
					t.Errorf("%v %s does not mention %q:\n%s", l.args, h, s, out)
				}
			}
			for _, s := range l.hasn {
				if strings.Contains(out, s) {
					t.Errorf("%v %s mentions %q, not its own:\n%s", l.args, h, s, out)
				}
			}
		}
	}
	top := help("--help")
	for g := range groups {
		if !strings.Contains(top, "mailtrail "+g) {
			t.Errorf("mailtrail --help does not list %s", g)
		}
	}
	if ents, _ := os.ReadDir(cwd); len(ents) != 0 {
		t.Fatalf("help created %v", ents)
	}
}

// Errors print once, on one line, with "mailtrail:" once and no internal code; the exit
// status is 2; help exits 0.
func TestCLIErrorsPrintOnce(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"org", "create", "--name", "x", "--timezone", "Mars/Base"}, `mailtrail: org create: unknown timezone "Mars/Base"`},
		{[]string{"key", "create", "--bogus"}, "mailtrail: key create: flag provided but not defined: -bogus (see mailtrail key create --help)"},
		{[]string{"org", "rename"}, `mailtrail: org: unknown verb "rename" (want create, list)`},
		{[]string{"customer", "erase", "--org", "o"}, "mailtrail: customer erase: want one customer id"},
		{[]string{"nope"}, `mailtrail: unknown command "nope"`},
	} {
		cmd := exec.Command(bin, append(c.args, "--data-dir", dir)...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != 2 {
			t.Errorf("%v: %v, want exit status 2", c.args, err)
		}
		msg := stderr.String()
		if !strings.HasPrefix(msg, c.want) || strings.Count(msg, "\n") != 1 || strings.Count(msg, "mailtrail:") != 1 ||
			strings.Contains(msg, "invalid:") || strings.Contains(msg, "not_found:") || stdout.Len() != 0 {
			t.Errorf("%v: stderr %q stdout %q, want one line starting %q", c.args, msg, stdout.String(), c.want)
		}
	}
	out, err := exec.Command(bin, "key", "--help").Output()
	if err != nil || !strings.Contains(string(out), "mailtrail key revoke") {
		t.Fatalf("key --help: %v %s", err, out)
	}
	out, err = exec.Command(bin, "version").Output()
	if err != nil || !strings.HasPrefix(string(out), "mailtrail ") || strings.Contains(string(out), " dev") {
		t.Fatalf("version: %v %q", err, out)
	}
	bi, _ := exec.Command("go", "version", "-m", bin).Output()
	if m := regexp.MustCompile(`vcs\.revision=([0-9a-f]+)`).FindSubmatch(bi); m != nil && !strings.Contains(string(out), string(m[1])) {
		t.Fatalf("version %q does not name the revision %s stamped in the build", out, m[1])
	}
	if m := regexp.MustCompile(`(?m)^\s+mod\s+\S+\s+(\S+)`).FindSubmatch(bi); m == nil || !strings.Contains(string(out), string(m[1])) {
		t.Fatalf("version %q does not name the module version of the build:\n%s", out, bi)
	}
}

// demo refuses a non-loopback address without --public-url (creating nothing), and
// generates an admin token, printed, that the admin API accepts.
func TestDemoAdminTokenAndAddress(t *testing.T) {
	dir := t.TempDir() + "/data"
	var out, errb bytes.Buffer
	err := Run(context.Background(), []string{"demo", "--addr", "0.0.0.0:0", "--data-dir", dir}, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "--public-url") {
		t.Fatalf("demo on 0.0.0.0 without --public-url: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("refused demo created its data directory: %v", err)
	}
	if testing.Short() {
		return
	}
	bin := buildBinary(t)
	cmd := exec.Command(bin, "demo", "--addr", "127.0.0.1:0", "--data-dir", dir, "--log-level", "error")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var base, token string
	deadline := time.After(90 * time.Second)
	for token == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("demo ended before printing its admin token")
			}
			if a, ok := strings.CutPrefix(l, "mailtrail listening on "); ok {
				base = a
			}
			if tok, ok := strings.CutPrefix(strings.TrimSpace(l), "Admin token:"); ok {
				token = strings.TrimSpace(tok)
			}
		case <-deadline:
			t.Fatal("no admin token printed within 90 s")
		}
	}
	if !regexp.MustCompile(`^[0-9a-f]{48}$`).MatchString(token) {
		t.Fatalf("admin token %q is not 24 random bytes in hex", token)
	}
	if st, err := doJSON(context.Background(), &http.Client{Timeout: 10 * time.Second}, "GET", base+"/api/v1/admin/organizations", token, nil, nil); err != nil {
		t.Fatalf("admin API with the printed token: %d %v", st, err)
	}
}

// serve warns when its links would point at localhost while it listens beyond loopback,
// and when nothing could use it (no organization, no admin token); not otherwise.
func TestServeStartWarnings(t *testing.T) {
	// serve starts, warns, prints its address, and stops: the address line cancels it.
	serve := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var logs bytes.Buffer
		args = append([]string{"serve", "--data-dir", t.TempDir(), "--log-format", "text"}, args...)
		if err := Run(ctx, args, cancelOnWrite(cancel), &logs); err != nil {
			t.Fatal(err)
		}
		return logs.String()
	}
	logs := serve("--addr", "0.0.0.0:0")
	for _, w := range []string{"links point at localhost", "no organization exists and the admin API is off"} {
		if !strings.Contains(logs, w) {
			t.Errorf("no warning %q in:\n%s", w, logs)
		}
	}
	if logs := serve("--addr", "0.0.0.0:0", "--public-url", "https://track.example.com", "--admin-token", testAdmin); strings.Contains(logs, "level=WARN") {
		t.Errorf("warnings with a public URL and an admin token:\n%s", logs)
	}
	if logs := serve("--addr", "127.0.0.1:0", "--admin-token", testAdmin); strings.Contains(logs, "level=WARN") {
		t.Errorf("warnings on loopback with an admin token:\n%s", logs)
	}
}

// cancelOnWrite is a writer that calls cancel at its first write.
type cancelOnWrite context.CancelFunc

func (c cancelOnWrite) Write(p []byte) (int, error) {
	c()
	return len(p), nil
}
