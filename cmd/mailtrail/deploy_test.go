package main

import (
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// fencedBlocks returns the bodies of the ```lang blocks of a markdown file.
func fencedBlocks(t *testing.T, path, lang string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?ms)^```" + regexp.QuoteMeta(lang) + "\n(.*?)^```$")
	var out []string
	for _, m := range re.FindAllStringSubmatch(string(b), -1) {
		out = append(out, m[1])
	}
	return out
}

// unitValues returns the values of key in a systemd unit, continuation lines joined.
func unitValues(unit, key string) []string {
	unit = strings.ReplaceAll(unit, "\\\n", " ")
	var out []string
	for _, l := range strings.Split(unit, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), key+"="); ok {
			out = append(out, strings.TrimSpace(v))
		}
	}
	return out
}

// TestDeployGuide checks docs/deploy.md against the binary: the systemd unit's ExecStart
// names only flags that exist and passes the configuration's validation, the unit holds
// the sandbox the guide promises, and the Caddy and nginx configurations turn buffering
// off for the event streams, wait longer than a journey wait, allow the dashboard's
// 32 MB CSV upload and keep /metrics private.
func TestDeployGuide(t *testing.T) {
	const guide = "../../docs/deploy.md"
	units := fencedBlocks(t, guide, "ini")
	if len(units) != 1 {
		t.Fatalf("%d ```ini blocks in %s, want the one systemd unit", len(units), guide)
	}
	unit := units[0]
	execs := unitValues(unit, "ExecStart")
	if len(execs) != 1 {
		t.Fatalf("ExecStart lines: %q", execs)
	}
	args := strings.Fields(execs[0])
	if len(args) < 2 || !strings.HasSuffix(args[0], "/mailtrail") || args[1] != "serve" {
		t.Fatalf("ExecStart %q: want /…/mailtrail serve …", execs[0])
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var cfg Config
	t.Setenv("MAILTRAIL_ADMIN_TOKEN", "from-the-environment-file-0123") // what EnvironmentFile holds
	cfg.bind(fs)
	for _, a := range args[2:] {
		if name, ok := strings.CutPrefix(a, "--"); ok {
			name, _, _ = strings.Cut(name, "=")
			if fs.Lookup(name) == nil {
				t.Errorf("ExecStart names --%s, which the binary does not have", name)
			}
		}
	}
	if err := fs.Parse(args[2:]); err != nil {
		t.Fatalf("ExecStart's flags do not parse: %v", err)
	}
	if fs.NArg() != 0 {
		t.Fatalf("ExecStart leaves arguments %q", fs.Args())
	}
	if err := cfg.validate(); err != nil {
		t.Fatalf("ExecStart's configuration is refused: %v", err)
	}
	if cfg.DataDir != "/var/lib/mailtrail" || unitValues(unit, "StateDirectory")[0] != "mailtrail" {
		t.Errorf("the data directory %q must be the unit's StateDirectory (/var/lib/mailtrail)", cfg.DataDir)
	}
	if cfg.ClientIPHeader == "" || cfg.MetricsAddr == "" || !strings.HasPrefix(cfg.PublicURL, "https://") {
		t.Errorf("the unit should set --client-ip-header, --metrics-addr and an https --public-url: %+v", cfg)
	}
	for _, kv := range []string{"NoNewPrivileges=yes", "ProtectSystem=strict", "DynamicUser=yes", "PrivateTmp=yes", "CapabilityBoundingSet="} {
		k, v, _ := strings.Cut(kv, "=")
		if got := unitValues(unit, k); len(got) != 1 || got[0] != v {
			t.Errorf("unit: %s = %q, want %q", k, got, v)
		}
	}
	// Every MAILTRAIL_ variable the guide names is one the binary reads.
	guideText, _ := os.ReadFile(guide)
	for _, env := range regexp.MustCompile(`MAILTRAIL_[A-Z_]+`).FindAllString(string(guideText), -1) {
		found := false
		fs.VisitAll(func(f *flag.Flag) { found = found || strings.Contains(f.Usage, "(env "+env+")") })
		if !found {
			t.Errorf("%s names %s, which no flag reads", guide, env)
		}
	}

	caddy := fencedBlocks(t, guide, "caddyfile")
	nginx := fencedBlocks(t, guide, "nginx")
	if len(caddy) != 1 || len(nginx) != 1 {
		t.Fatalf("want one caddyfile and one nginx block, got %d and %d", len(caddy), len(nginx))
	}
	sse := []string{"/api/v1/stream", "/dashboard/live/stream"}
	// Caddy: the SSE matcher names both streams and flushes at once.
	if m := regexp.MustCompile(`@sse path ([^\n]+)`).FindStringSubmatch(caddy[0]); m == nil || !hasAll(m[1], sse) ||
		!regexp.MustCompile(`reverse_proxy @sse [^{]+\{\s*flush_interval -1`).MatchString(caddy[0]) {
		t.Errorf("Caddyfile: the event streams %v need a matcher with flush_interval -1", sse)
	}
	for _, want := range []string{"path /dashboard/suppressions/import", "max_size 33MB", "response_header_timeout 75s", "respond @metrics 404"} {
		if !strings.Contains(caddy[0], want) {
			t.Errorf("Caddyfile lacks %q", want)
		}
	}
	// nginx: each stream's location turns buffering off.
	for _, route := range sse {
		loc := nginxLocation(nginx[0], "= "+route)
		if !strings.Contains(loc, "proxy_buffering off;") {
			t.Errorf("nginx: location = %s must have proxy_buffering off (got %q)", route, loc)
		}
	}
	if loc := nginxLocation(nginx[0], "~ ^/api/v1/customers/[^/]+/wait$"); !strings.Contains(loc, "proxy_read_timeout 75s;") {
		t.Errorf("nginx: the journey wait location must read for more than 60 s (got %q)", loc)
	}
	if loc := nginxLocation(nginx[0], "= /dashboard/suppressions/import"); !strings.Contains(loc, "client_max_body_size 33m;") {
		t.Errorf("nginx: the dashboard import must take 32 MB (got %q)", loc)
	}
	if loc := nginxLocation(nginx[0], "= /metrics"); !strings.Contains(loc, "return 404;") {
		t.Errorf("nginx: /metrics must stay private (got %q)", loc)
	}
	if !strings.Contains(nginx[0], "proxy_set_header X-Forwarded-For") {
		t.Error("nginx must set X-Forwarded-For, which --client-ip-header reads")
	}
	t.Run("systemd-analyze verify", func(t *testing.T) { verifyUnit(t, unit, args[0]) })
	t.Run("caddy validate", func(t *testing.T) { validateCaddy(t, caddy[0]) })
	t.Run("nginx -t", func(t *testing.T) { validateNginx(t, nginx[0]) })
	// The routes the guide names are real: the stream and wait in the API's table, the
	// dashboard's in its handler (through the wired server: 401/303 is not a 404).
	h := newHarness(t)
	for _, p := range []string{"/api/v1/stream", "/api/v1/customers/c1/wait", "/dashboard/live/stream"} {
		if r := h.do("GET", p, "", nil, nil); r.StatusCode == 404 {
			t.Errorf("GET %s: 404, the guide names a route that does not exist", p)
		}
	}
	if r := h.do("POST", "/dashboard/suppressions/import", "", nil, nil); r.StatusCode == 404 {
		t.Error("POST /dashboard/suppressions/import: 404")
	}
}

// nginxLocation returns the body of the location block with this argument ("" if none).
func nginxLocation(conf, arg string) string {
	i := strings.Index(conf, "location "+arg+" {")
	if i < 0 {
		return ""
	}
	rest := conf[i:]
	if j := strings.Index(rest, "}"); j >= 0 {
		return rest[:j]
	}
	return rest
}

func hasAll(s string, words []string) bool {
	for _, w := range words {
		if !strings.Contains(" "+s+" ", " "+w+" ") {
			return false
		}
	}
	return true
}

// needTool returns the path of a tool the deploy checks run, skipping when it is missing
// unless MAILTRAIL_REQUIRE_SERVICES is set (scripts/test.sh installs it).
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("MAILTRAIL_REQUIRE_SERVICES") != "" {
			t.Fatalf("%s is not installed (scripts/test.sh installs it)", name)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}

// validateCaddy runs `caddy validate` on the guide's Caddyfile.
func validateCaddy(t *testing.T, conf string) {
	caddy := needTool(t, "caddy")
	dir := t.TempDir()
	path := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(caddy, "validate", "--config", path, "--adapter", "caddyfile")
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+dir, "XDG_CONFIG_HOME="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("caddy validate: %v\n%s", err, out)
	}
}

// validateNginx runs `nginx -t` on the guide's server block, inside a minimal main
// configuration, with a self-signed certificate in place of the guide's.
func validateNginx(t *testing.T, site string) {
	nginx := needTool(t, "nginx")
	openssl := needTool(t, "openssl")
	dir := t.TempDir()
	crt, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if out, err := exec.Command(openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
		"-subj", "/CN=track.example.com", "-days", "1", "-keyout", key, "-out", crt).CombinedOutput(); err != nil {
		t.Fatalf("openssl: %v\n%s", err, out)
	}
	site = strings.ReplaceAll(site, "/etc/letsencrypt/live/track.example.com/fullchain.pem", crt)
	site = strings.ReplaceAll(site, "/etc/letsencrypt/live/track.example.com/privkey.pem", key)
	main := "pid " + filepath.Join(dir, "nginx.pid") + ";\nerror_log " + filepath.Join(dir, "error.log") + ";\nevents {}\nhttp {\n" +
		"client_body_temp_path " + dir + ";\nproxy_temp_path " + dir + ";\naccess_log off;\n" + site + "}\n"
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(main), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(nginx, "-t", "-q", "-p", dir, "-c", path).CombinedOutput(); err != nil {
		t.Fatalf("nginx -t: %v\n%s", err, out)
	}
}

// verifyUnit runs `systemd-analyze verify` on the guide's unit, with the binary's path
// (bin) replaced by an executable that exists, and wants no complaint: it reports unknown
// keys and bad values as warnings with exit status 0.
func verifyUnit(t *testing.T, unit, bin string) {
	analyze := needTool(t, "systemd-analyze")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "mailtrail.service")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(unit, bin, exe)), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}
