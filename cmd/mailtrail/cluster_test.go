package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/internal/store/eventlog"
	"github.com/mailtrail/mailtrail/internal/store/eventlog/natstest"
)

// testService returns the variable env, the address of a test engine scripts/test.sh
// starts. Without it the test skips, unless MAILTRAIL_REQUIRE_SERVICES is set (CI), where
// it fails.
func testService(t *testing.T, env, how string) string {
	t.Helper()
	v := os.Getenv(env)
	if v == "" {
		if os.Getenv("MAILTRAIL_REQUIRE_SERVICES") != "" {
			t.Fatalf("%s is not set: %s", env, how)
		}
		t.Skipf("%s is not set (%s)", env, how)
	}
	return v
}

// loopbackClosed returns a loopback address nothing listens on: a dial there is refused
// at once and never leaves the machine.
func loopbackClosed(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// clusterRun is one run of the binary's cluster check.
type clusterRun struct {
	code           int
	stdout, stderr string
	took           time.Duration
}

// onlyEnv returns the process's environment without its MAILTRAIL_* variables, and env:
// a binary under test sees only the settings a test gives it.
func onlyEnv(env []string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MAILTRAIL_") {
			out = append(out, kv)
		}
	}
	return append(out, env...)
}

// runClusterBin runs `mailtrail cluster check args…` with no MAILTRAIL_* variable but
// those of env, and returns its exit status and output.
func runClusterBin(t *testing.T, bin string, env []string, args ...string) clusterRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"cluster", "check"}, args...)...)
	cmd.Env = onlyEnv(env)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	run := clusterRun{stdout: stdout.String(), stderr: stderr.String(), took: time.Since(start)}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		run.code = exit.ExitCode()
	default:
		t.Fatalf("run: %v", err)
	}
	return run
}

// lines returns the output's lines of an engine whose status column is status.
func (r clusterRun) lines(status, engine string) []string {
	var out []string
	for _, l := range strings.Split(r.stdout, "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == status && f[1] == engine {
			out = append(out, l)
		}
	}
	return out
}

// report parses --json output.
func (r clusterRun) report(t *testing.T) clusterReport {
	t.Helper()
	var rep clusterReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("--json output does not parse: %v\n%s", err, r.stdout)
	}
	return rep
}

// mailtrail cluster check, the real binary: healthy against the test engines (the
// JetStream cluster, the machine's PostgreSQL, the script's ClickHouse), failing with
// reasons and without passwords against refusals, bounded by --timeout, exit statuses
// 0, 1 and 2, and --json that parses.
func TestClusterCheckBinary(t *testing.T) {
	natsURL := natstest.URL(t)
	dsn := testService(t, "MAILTRAIL_TEST_POSTGRES_DSN", "scripts/services.sh starts the machine's PostgreSQL; postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")
	chURL := testService(t, "MAILTRAIL_TEST_CLICKHOUSE_URL", "scripts/clickhouse.sh start DIR prints it")
	bin := buildBinary(t)
	engines := []string{engineNATS, enginePostgres, engineClickHouse}

	t.Run("healthy", func(t *testing.T) {
		// Flags for NATS and PostgreSQL, the variable for ClickHouse.
		r := runClusterBin(t, bin, []string{"MAILTRAIL_CLICKHOUSE_URL=" + chURL}, "--event-log-url", natsURL, "--postgres-dsn", dsn)
		if r.code != 0 || r.stderr != "" {
			t.Fatalf("exit %d, stderr %q:\n%s", r.code, r.stderr, r.stdout)
		}
		for _, e := range engines {
			if len(r.lines("ok", e)) < 2 {
				t.Errorf("%s: fewer than two ok lines:\n%s", e, r.stdout)
			}
		}
		if strings.Contains(r.stdout, "FAIL") || strings.Contains(r.stdout, "not configured") {
			t.Errorf("a failure or an engine not configured:\n%s", r.stdout)
		}
		for _, w := range []string{"nats-server 2.", "3 servers", "ClickHouse 1", "PostgreSQL 1"} {
			if !strings.Contains(r.stdout, w) {
				t.Errorf("the output does not say %q:\n%s", w, r.stdout)
			}
		}

		r = runClusterBin(t, bin, []string{"MAILTRAIL_EVENT_LOG_URL=" + natsURL, "MAILTRAIL_POSTGRES_DSN=" + dsn, "MAILTRAIL_CLICKHOUSE_URL=" + chURL}, "--json")
		rep := r.report(t)
		if r.code != 0 || !rep.Healthy {
			t.Fatalf("--json: exit %d, healthy %v:\n%s", r.code, rep.Healthy, r.stdout)
		}
		seen := map[string]bool{}
		for _, res := range rep.Results {
			seen[res.Engine] = true
			if res.Status != checkOK {
				t.Errorf("--json: %+v", res)
			}
		}
		if len(seen) != 3 {
			t.Errorf("--json: engines %v", seen)
		}
	})

	t.Run("refused, no password printed", func(t *testing.T) {
		const pw = "Cl0sed-p0rt-S3cret"
		args := []string{
			"--event-log-url", "nats://mailtrail:" + pw + "@" + loopbackClosed(t),
			"--postgres-dsn", "postgres://mailtrail:" + pw + "@" + loopbackClosed(t) + "/mailtrail?sslmode=disable",
			"--clickhouse-url", "http://default:" + pw + "@" + loopbackClosed(t),
		}
		for _, asJSON := range []bool{false, true} {
			a := args
			if asJSON {
				a = append(a, "--json")
			}
			r := runClusterBin(t, bin, nil, a...)
			if r.code != 1 {
				t.Fatalf("json %v: exit %d, want 1; stderr %q\n%s", asJSON, r.code, r.stderr, r.stdout)
			}
			if strings.Contains(r.stdout+r.stderr, pw) {
				t.Errorf("json %v: the password is printed:\n%s%s", asJSON, r.stdout, r.stderr)
			}
			if !strings.HasPrefix(r.stderr, "mailtrail: cluster check: 3 failed: nats connect, postgres connect, clickhouse connect") {
				t.Errorf("json %v: stderr %q", asJSON, r.stderr)
			}
			if asJSON {
				rep := r.report(t)
				if rep.Healthy || len(rep.Results) != 3 {
					t.Fatalf("--json: %+v", rep)
				}
				for _, res := range rep.Results {
					if res.Status != checkFail || res.Check != "connect" || !strings.Contains(res.Detail, "connection refused") {
						t.Errorf("--json: %+v", res)
					}
				}
				continue
			}
			for _, e := range engines {
				if l := r.lines("FAIL", e); len(l) != 1 || !strings.Contains(l[0], "connection refused") {
					t.Errorf("%s: %q, want one FAIL line saying connection refused:\n%s", e, l, r.stdout)
				}
			}
		}
	})

	// A server that accepts and never answers: each engine's check ends at --timeout.
	t.Run("timeout", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		addr := l.Addr().String() // connections wait in the backlog, unanswered
		r := runClusterBin(t, bin, nil, "--timeout", "1s", "--event-log-url", "nats://"+addr,
			"--postgres-dsn", "postgres://u@"+addr+"/db?sslmode=disable", "--clickhouse-url", "http://"+addr)
		if r.code != 1 {
			t.Fatalf("exit %d, stderr %q:\n%s", r.code, r.stderr, r.stdout)
		}
		for _, e := range engines {
			if l := r.lines("FAIL", e); len(l) != 1 || !strings.Contains(l[0], "timed out: no answer within the timeout") {
				t.Errorf("%s: %q, want one FAIL line saying it timed out:\n%s", e, l, r.stdout)
			}
		}
		if r.took > 8*time.Second { // 1 s each, at once; the rest is the process starting
			t.Errorf("took %v with --timeout 1s", r.took)
		}
	})

	t.Run("one engine configured", func(t *testing.T) {
		r := runClusterBin(t, bin, nil, "--clickhouse-url", chURL)
		if r.code != 0 {
			t.Fatalf("exit %d, stderr %q:\n%s", r.code, r.stderr, r.stdout)
		}
		for _, c := range []struct{ engine, setting string }{
			{engineNATS, "--event-log-url / MAILTRAIL_EVENT_LOG_URL"},
			{enginePostgres, "--postgres-dsn / MAILTRAIL_POSTGRES_DSN"},
		} {
			if l := r.lines("-", c.engine); len(l) != 1 || !strings.Contains(l[0], "not configured: "+c.setting) {
				t.Errorf("%s: %q:\n%s", c.engine, l, r.stdout)
			}
		}
		if len(r.lines("ok", engineClickHouse)) != 2 {
			t.Errorf("clickhouse:\n%s", r.stdout)
		}
	})

	t.Run("usage errors", func(t *testing.T) {
		const pw = "Us4ge-S3cret"
		for _, c := range []struct {
			args []string
			want string
		}{
			{nil, "mailtrail: cluster check: nothing to check: set --event-log-url, --postgres-dsn or --clickhouse-url"},
			{[]string{"--clickhouse-url", chURL, "--timeout", "0s"}, "mailtrail: cluster check: --timeout must be positive"},
			{[]string{"--postgres-dsn", "postgres://u:" + pw + "@host:port/db"}, "mailtrail: --postgres-dsn / MAILTRAIL_POSTGRES_DSN is not a PostgreSQL connection string"},
			{[]string{"--clickhouse-url", "tcp://default:" + pw + "@127.0.0.1:9000"}, "mailtrail: --clickhouse-url / MAILTRAIL_CLICKHOUSE_URL must be the http(s) URL"},
			{[]string{"--clickhouse-url", chURL, "--bogus"}, "mailtrail: cluster check: flag provided but not defined: -bogus"},
		} {
			r := runClusterBin(t, bin, nil, c.args...)
			if r.code != 2 || !strings.HasPrefix(r.stderr, c.want) || r.stdout != "" {
				t.Errorf("%q: exit %d, stderr %q, stdout %q; want 2 and %q", c.args, r.code, r.stderr, r.stdout, c.want)
			}
			if strings.Contains(r.stderr, pw) {
				t.Errorf("%q: the password is printed: %q", c.args, r.stderr)
			}
		}
	})
}

// serve --event-log-url --nats-creds authenticates the log's connection with the .creds
// file: on a server that requires it (operator mode, as clusters run with nsc are) it
// starts with the file and is refused without it, the error naming the authorization.
func TestServeEventLogWithNATSCreds(t *testing.T) {
	url, creds := natstest.OperatorServer(t)
	run := func(extra ...string) (string, error) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var logs bytes.Buffer
		args := append([]string{"serve", "--data-dir", t.TempDir(), "--addr", "127.0.0.1:0", "--log-format", "text",
			"--event-log-url", url, "--event-log-stream", "CREDS", "--event-log-replicas", "1"}, extra...)
		err := Run(ctx, args, cancelOnWrite(cancel), &logs)
		return logs.String(), err
	}
	if logs, err := run(); err == nil || !strings.Contains(strings.ToLower(err.Error()), "authorization") {
		t.Fatalf("serve without --nats-creds on a server that requires credentials: %v, want an authorization error\n%s", err, logs)
	}
	if logs, err := run("--nats-creds", creds); err != nil {
		t.Fatalf("serve with --nats-creds: %v\n%s", err, logs)
	}
}

// serve --event-log-url on a server that speaks only TLS and verifies its clients:
// refused without --nats-ca, or without the client certificate; running with both.
// cluster check connects with the same flags, and the certificate goes with its key.
func TestServeEventLogOverNATSTLS(t *testing.T) {
	url, files := natstest.TLSServer(t, true)
	run := func(extra ...string) (string, error) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var logs bytes.Buffer
		args := append([]string{"serve", "--data-dir", t.TempDir(), "--addr", "127.0.0.1:0", "--log-format", "text",
			"--event-log-url", url, "--event-log-stream", "TLS", "--event-log-replicas", "1"}, extra...)
		err := Run(ctx, args, cancelOnWrite(cancel), &logs)
		return logs.String(), err
	}
	if logs, err := run("--nats-cert", files.Cert, "--nats-key", files.Key); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("serve without --nats-ca: %v, want a certificate error\n%s", err, logs)
	}
	if logs, err := run("--nats-ca", files.CA); err == nil {
		t.Fatalf("serve without the client certificate started\n%s", logs)
	}
	if logs, err := run("--nats-ca", files.CA, "--nats-cert", files.Cert); err == nil || !strings.Contains(err.Error(), "--nats-cert and --nats-key go together") {
		t.Fatalf("serve with a certificate and no key: %v\n%s", err, logs)
	}
	if logs, err := run("--nats-ca", files.CA, "--nats-cert", files.Cert, "--nats-key", files.Key); err != nil {
		t.Fatalf("serve over TLS: %v\n%s", err, logs)
	}
	rs := checkNATS(checkCtx(t), natsCheckOptions{URL: url, TLS: eventlog.TLSFiles(files), Replicas: 1, MinPayload: minPayload})
	expectCheck(t, rs, "connect", checkOK)
	rs = checkNATS(checkCtx(t), natsCheckOptions{URL: url, Replicas: 1, MinPayload: minPayload})
	expectCheck(t, rs, "connect", checkFail)
}
