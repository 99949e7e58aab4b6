package clustercheck_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/mailtrail/mailtrail/internal/clustercheck"
	"github.com/mailtrail/mailtrail/internal/store/eventlog/natstest"
)

// minPayload is what serve's event log needs (4 MiB groups plus 64 KiB of headers).
const minPayload = 4<<20 + 64<<10

// service returns the variable env (a test engine scripts/test.sh starts). Without it the
// test skips, unless MAILTRAIL_REQUIRE_SERVICES is set (CI), where it fails.
func service(t *testing.T, env, how string) string {
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

func postgresDSN(t *testing.T) string {
	return service(t, "MAILTRAIL_TEST_POSTGRES_DSN", "scripts/services.sh starts the machine's PostgreSQL; postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")
}

func clickhouseURL(t *testing.T) string {
	return service(t, "MAILTRAIL_TEST_CLICKHOUSE_URL", "scripts/clickhouse.sh start DIR prints it")
}

// closedPort returns a loopback address nothing listens on: a dial is refused at once
// and never leaves the machine.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func ctx5s(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// find returns the result of check, failing the test when there is none.
func find(t *testing.T, rs []clustercheck.Result, check string) clustercheck.Result {
	t.Helper()
	for _, r := range rs {
		if r.Check == check {
			return r
		}
	}
	t.Fatalf("no %q check in %+v", check, rs)
	return clustercheck.Result{}
}

// expect checks one result's status and that its detail says each of want.
func expect(t *testing.T, rs []clustercheck.Result, check string, s clustercheck.Status, want ...string) {
	t.Helper()
	r := find(t, rs, check)
	if r.Status != s {
		t.Errorf("%s: %s %q, want %s", check, r.Status, r.Detail, s)
	}
	for _, w := range want {
		if !strings.Contains(r.Detail, w) {
			t.Errorf("%s: %q does not say %q", check, r.Detail, w)
		}
	}
}

func TestNATSTestCluster(t *testing.T) {
	url := natstest.URL(t)
	stream := natstest.Stream(t, url)
	o := clustercheck.NATSOptions{URL: url, Stream: stream, Replicas: 3, MinPayload: minPayload}
	rs := clustercheck.NATS(ctx5s(t), o)
	if !clustercheck.Healthy(rs) {
		t.Fatalf("not healthy: %+v", rs)
	}
	expect(t, rs, "connect", clustercheck.OK, "nats://127.0.0.1:")
	expect(t, rs, "version", clustercheck.OK, "nats-server 2.")
	expect(t, rs, "jetstream", clustercheck.OK, "enabled")
	expect(t, rs, "max_payload", clustercheck.OK, "8.00 MiB", "4.06 MiB")
	expect(t, rs, "cluster", clustercheck.OK, "3 servers")
	expect(t, rs, "stream "+stream, clustercheck.OK, "does not exist yet", "3 replicas")

	// The stream as serve creates it: three replicas, a leader, every replica current
	// (a new stream's followers may take a moment to report it).
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateStream(ctx5s(t), jetstream.StreamConfig{Name: stream, Subjects: []string{strings.ToLower(stream) + ".>"}, Replicas: 3}); err != nil {
		t.Fatal(err)
	}
	var r clustercheck.Result
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		r = find(t, clustercheck.NATS(ctx5s(t), o), "stream "+stream)
		if r.Status == clustercheck.OK {
			break
		}
	}
	if r.Status != clustercheck.OK || !strings.Contains(r.Detail, "3 replicas, leader ") || !strings.Contains(r.Detail, "every replica current") {
		t.Errorf("stream: %s %q", r.Status, r.Detail)
	}
	// serve would ask one replica: said, not failed.
	o.Replicas = 1
	expect(t, clustercheck.NATS(ctx5s(t), o), "stream "+stream, clustercheck.Warn, "--event-log-replicas asks 1")
}

// Debian's nats-server 2.9.10 runs on 127.0.0.1:4222 on the project's machines: a real
// server that must never acknowledge the log's writes.
func TestNATSDebian29(t *testing.T) {
	nc, err := nats.Connect("nats://127.0.0.1:4222", nats.Timeout(2*time.Second), nats.NoReconnect())
	if err != nil {
		t.Skipf("no NATS on 127.0.0.1:4222 (Debian's nats-server, a fixture of the machine, not of the project): %v", err)
	}
	v := nc.ConnectedServerVersion()
	nc.Close()
	if !strings.HasPrefix(v, "2.9.") {
		t.Skipf("the server on 127.0.0.1:4222 is %s, not Debian's 2.9", v)
	}
	rs := clustercheck.NATS(ctx5s(t), clustercheck.NATSOptions{URL: "nats://127.0.0.1:4222", Stream: "EVENTS", Replicas: 3, MinPayload: minPayload})
	if clustercheck.Healthy(rs) {
		t.Fatalf("healthy: %+v", rs)
	}
	expect(t, rs, "version", clustercheck.Fail, "nats-server "+v, "cannot sync every write before acknowledging (no sync_interval): never acknowledge on it")
	expect(t, rs, "cluster", clustercheck.Fail, "single server", "3 replicas")
	expect(t, rs, "max_payload", clustercheck.Fail, "1.00 MiB") // Debian's default
}

func TestNATSRefused(t *testing.T) {
	addr := closedPort(t)
	rs := clustercheck.NATS(ctx5s(t), clustercheck.NATSOptions{URL: "nats://admin:n4ts-s3cret@" + addr, Stream: "EVENTS", Replicas: 3, MinPayload: minPayload})
	if len(rs) != 1 {
		t.Fatalf("%d results after a failed connection: %+v", len(rs), rs)
	}
	expect(t, rs, "connect", clustercheck.Fail, addr, "connection refused")
	if strings.Contains(rs[0].Detail, "n4ts-s3cret") {
		t.Errorf("the password is in %q", rs[0].Detail)
	}
}

// A .creds file that is not one stops the connection with the client's reason.
func TestNATSBadCreds(t *testing.T) {
	url := natstest.URL(t)
	creds := filepath.Join(t.TempDir(), "user.creds")
	if err := os.WriteFile(creds, []byte("not a credentials file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rs := clustercheck.NATS(ctx5s(t), clustercheck.NATSOptions{URL: url, Creds: creds, Replicas: 3, MinPayload: minPayload})
	expect(t, rs, "connect", clustercheck.Fail, "nats:")
}

func TestPostgres(t *testing.T) {
	dsn := postgresDSN(t)
	rs := clustercheck.Postgres(ctx5s(t), dsn)
	if !clustercheck.Healthy(rs) {
		t.Fatalf("not healthy: %+v", rs)
	}
	expect(t, rs, "connect", clustercheck.OK, "@127.0.0.1:5432/")
	expect(t, rs, "version", clustercheck.OK, "PostgreSQL 1")
	expect(t, rs, "fsync", clustercheck.OK, "on")
	expect(t, rs, "synchronous_commit", clustercheck.OK, "on")
	expect(t, rs, "create table", clustercheck.OK, "rolled back")
}

// synchronous_commit off for the session (a startup parameter of the DSN): the server's
// real answer, refused.
func TestPostgresSynchronousCommitOff(t *testing.T) {
	dsn := postgresDSN(t)
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	rs := clustercheck.Postgres(ctx5s(t), dsn+sep+"synchronous_commit=off")
	if clustercheck.Healthy(rs) {
		t.Fatalf("healthy: %+v", rs)
	}
	expect(t, rs, "synchronous_commit", clustercheck.Fail, "synchronous_commit is off", "a 2xx must be durable")
	expect(t, rs, "fsync", clustercheck.OK)
}

func TestPostgresRefused(t *testing.T) {
	addr := closedPort(t)
	const pw = "pg-S3cret-pw"
	for _, dsn := range []string{
		"postgres://mailtrail:" + pw + "@" + addr + "/mailtrail?sslmode=disable",
		"host=127.0.0.1 port=" + addr[strings.LastIndex(addr, ":")+1:] + " user=mailtrail password=" + pw + " dbname=mailtrail sslmode=disable",
	} {
		rs := clustercheck.Postgres(ctx5s(t), dsn)
		if len(rs) != 1 {
			t.Fatalf("%d results after a failed connection: %+v", len(rs), rs)
		}
		expect(t, rs, "connect", clustercheck.Fail, "mailtrail@"+addr+"/mailtrail", "connection refused")
		if strings.Contains(rs[0].Detail, pw) {
			t.Errorf("the password is in %q", rs[0].Detail)
		}
	}
	rs := clustercheck.Postgres(ctx5s(t), "postgres://u:"+pw+"@host:notaport/db")
	expect(t, rs, "connect", clustercheck.Fail, "not a PostgreSQL connection string")
	if strings.Contains(rs[0].Detail, pw) {
		t.Errorf("the password is in %q", rs[0].Detail)
	}
}

func TestClickHouse(t *testing.T) {
	url := clickhouseURL(t)
	rs := clustercheck.ClickHouse(ctx5s(t), http.DefaultClient, url)
	if !clustercheck.Healthy(rs) {
		t.Fatalf("not healthy: %+v", rs)
	}
	expect(t, rs, "connect", clustercheck.OK, url, "/ping")
	expect(t, rs, "version", clustercheck.OK, "ClickHouse 1")
}

func TestClickHouseRefused(t *testing.T) {
	addr := closedPort(t)
	rs := clustercheck.ClickHouse(ctx5s(t), http.DefaultClient, "http://default:ch-S3cret@"+addr)
	if len(rs) != 1 {
		t.Fatalf("%d results after a failed connection: %+v", len(rs), rs)
	}
	expect(t, rs, "connect", clustercheck.Fail, addr, "connection refused")
	if strings.Contains(rs[0].Detail, "ch-S3cret") {
		t.Errorf("the password is in %q", rs[0].Detail)
	}
}

// Something else answers: a web server, or a server that pings like ClickHouse but is not.
func TestClickHouseSomethingElse(t *testing.T) {
	web := httptest.NewServer(http.NotFoundHandler())
	defer web.Close()
	rs := clustercheck.ClickHouse(ctx5s(t), http.DefaultClient, web.URL)
	expect(t, rs, "connect", clustercheck.Fail, "answered 404", "not ClickHouse")

	pinger := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ping" {
			w.Write([]byte("Ok.\n"))
			return
		}
		w.Write([]byte("<html>hello</html>"))
	}))
	defer pinger.Close()
	rs = clustercheck.ClickHouse(ctx5s(t), http.DefaultClient, pinger.URL)
	expect(t, rs, "connect", clustercheck.OK)
	expect(t, rs, "version", clustercheck.Fail, "<html>hello</html>", "not a ClickHouse version")

	rs = clustercheck.ClickHouse(ctx5s(t), http.DefaultClient, "nats://127.0.0.1:4222")
	expect(t, rs, "connect", clustercheck.Fail, "not an http(s) URL")
}

// A wrong password: ClickHouse's own refusal, without the password.
func TestClickHouseWrongPassword(t *testing.T) {
	url := clickhouseURL(t)
	const pw = "wr0ng-S3cret"
	rs := clustercheck.ClickHouse(ctx5s(t), http.DefaultClient, strings.Replace(url, "http://", "http://default:"+pw+"@", 1))
	expect(t, rs, "version", clustercheck.Fail, "answered")
	for _, r := range rs {
		if strings.Contains(r.Detail, pw) {
			t.Errorf("the password is in %q", r.Detail)
		}
	}
}
