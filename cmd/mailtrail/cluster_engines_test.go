package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/mailtrail/mailtrail/internal/store/eventlog/natstest"
)

// minPayload is what serve's event log needs (its group messages plus headers).
const minPayload = eventLogMessageBytes + 64<<10

func testPostgresDSN(t *testing.T) string {
	return testService(t, "MAILTRAIL_TEST_POSTGRES_DSN", "scripts/services.sh starts the machine's PostgreSQL; postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")
}

func testClickHouseURL(t *testing.T) string {
	return testService(t, "MAILTRAIL_TEST_CLICKHOUSE_URL", "scripts/clickhouse.sh start DIR prints it")
}

func checkCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// findCheck returns the result of check, failing the test when there is none.
func findCheck(t *testing.T, rs []checkResult, check string) checkResult {
	t.Helper()
	for _, r := range rs {
		if r.Check == check {
			return r
		}
	}
	t.Fatalf("no %q check in %+v", check, rs)
	return checkResult{}
}

// expectCheck checks one result's status and that its detail says each of want.
func expectCheck(t *testing.T, rs []checkResult, check string, s checkStatus, want ...string) {
	t.Helper()
	r := findCheck(t, rs, check)
	if r.Status != s {
		t.Errorf("%s: %s %q, want %s", check, r.Status, r.Detail, s)
	}
	for _, w := range want {
		if !strings.Contains(r.Detail, w) {
			t.Errorf("%s: %q does not say %q", check, r.Detail, w)
		}
	}
}

func TestClusterCheckNATSTestCluster(t *testing.T) {
	url := natstest.URL(t)
	stream := natstest.Stream(t, url)
	o := natsCheckOptions{URL: url, Stream: stream, Replicas: 3, MinPayload: minPayload}
	// Other tests kill and restart this cluster's servers (the log's leader-kill test):
	// while the cluster elects a new meta leader, JetStream does not answer. The check is
	// asked again, for a minute at most, until the cluster is whole.
	rs := checkNATS(checkCtx(t), o)
	for deadline := time.Now().Add(time.Minute); !checksHealthy(rs) && time.Now().Before(deadline); {
		time.Sleep(2 * time.Second)
		rs = checkNATS(checkCtx(t), o)
	}
	if !checksHealthy(rs) {
		t.Fatalf("not healthy: %+v", rs)
	}
	expectCheck(t, rs, "connect", checkOK, "nats://127.0.0.1:")
	expectCheck(t, rs, "version", checkOK, "nats-server 2.")
	expectCheck(t, rs, "jetstream", checkOK, "enabled")
	expectCheck(t, rs, "max_payload", checkOK, "8.00 MiB", "4.06 MiB")
	expectCheck(t, rs, "cluster", checkOK, "3 servers")
	expectCheck(t, rs, "stream "+stream, checkOK, "does not exist yet", "3 replicas")

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
	if _, err := js.CreateStream(checkCtx(t), jetstream.StreamConfig{Name: stream, Subjects: []string{strings.ToLower(stream) + ".>"}, Replicas: 3}); err != nil {
		t.Fatal(err)
	}
	var r checkResult
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		r = findCheck(t, checkNATS(checkCtx(t), o), "stream "+stream)
		if r.Status == checkOK {
			break
		}
	}
	if r.Status != checkOK || !strings.Contains(r.Detail, "3 replicas, 1 partition, leader ") || !strings.Contains(r.Detail, "every replica current") {
		t.Errorf("stream: %s %q", r.Status, r.Detail)
	}
	// serve would ask one replica: said, not failed.
	o.Replicas = 1
	expectCheck(t, checkNATS(checkCtx(t), o), "stream "+stream, checkWarn, "--event-log-replicas asks 1")
	// serve would ask another number of partitions than the stream's: it would refuse to
	// start, so the check fails.
	o.Replicas, o.Partitions = 3, 4
	expectCheck(t, checkNATS(checkCtx(t), o), "stream "+stream, checkFail, "--event-log-partitions is 4", "1 partition,")
}

// Debian's nats-server 2.9.10 runs on 127.0.0.1:4222 on the project's machines: a real
// server that must never acknowledge the log's writes.
func TestClusterCheckNATSDebian29(t *testing.T) {
	nc, err := nats.Connect("nats://127.0.0.1:4222", nats.Timeout(2*time.Second), nats.NoReconnect())
	if err != nil {
		t.Skipf("no NATS on 127.0.0.1:4222 (Debian's nats-server, a fixture of the machine, not of the project): %v", err)
	}
	v := nc.ConnectedServerVersion()
	nc.Close()
	if !strings.HasPrefix(v, "2.9.") {
		t.Skipf("the server on 127.0.0.1:4222 is %s, not Debian's 2.9", v)
	}
	rs := checkNATS(checkCtx(t), natsCheckOptions{URL: "nats://127.0.0.1:4222", Stream: "EVENTS", Replicas: 3, MinPayload: minPayload})
	if checksHealthy(rs) {
		t.Fatalf("healthy: %+v", rs)
	}
	expectCheck(t, rs, "version", checkFail, "nats-server "+v, "cannot sync every write before acknowledging (no sync_interval): never acknowledge on it")
	expectCheck(t, rs, "cluster", checkFail, "single server", "3 replicas")
	expectCheck(t, rs, "max_payload", checkFail, "1.00 MiB") // Debian's default
}

func TestClusterCheckNATSRefused(t *testing.T) {
	addr := loopbackClosed(t)
	rs := checkNATS(checkCtx(t), natsCheckOptions{URL: "nats://admin:n4ts-s3cret@" + addr, Stream: "EVENTS", Replicas: 3, MinPayload: minPayload})
	if len(rs) != 1 {
		t.Fatalf("%d results after a failed connection: %+v", len(rs), rs)
	}
	expectCheck(t, rs, "connect", checkFail, addr, "connection refused")
	if strings.Contains(rs[0].Detail, "n4ts-s3cret") {
		t.Errorf("the password is in %q", rs[0].Detail)
	}
}

// A .creds file that is not one stops the connection with the client's reason.
func TestClusterCheckNATSBadCreds(t *testing.T) {
	url := natstest.URL(t)
	creds := filepath.Join(t.TempDir(), "user.creds")
	if err := os.WriteFile(creds, []byte("not a credentials file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rs := checkNATS(checkCtx(t), natsCheckOptions{URL: url, Creds: creds, Replicas: 3, MinPayload: minPayload})
	expectCheck(t, rs, "connect", checkFail, "nats:")
}

func TestClusterCheckPostgres(t *testing.T) {
	dsn := testPostgresDSN(t)
	rs := checkPostgres(checkCtx(t), dsn)
	if !checksHealthy(rs) {
		t.Fatalf("not healthy: %+v", rs)
	}
	expectCheck(t, rs, "connect", checkOK, "@127.0.0.1:5432/")
	expectCheck(t, rs, "version", checkOK, "PostgreSQL 1")
	expectCheck(t, rs, "fsync", checkOK, "on")
	expectCheck(t, rs, "synchronous_commit", checkOK, "on")
	expectCheck(t, rs, "create table", checkOK, "rolled back")
}

// synchronous_commit off for the session (a startup parameter of the DSN): the server's
// real answer, refused.
func TestClusterCheckPostgresSynchronousCommitOff(t *testing.T) {
	dsn := testPostgresDSN(t)
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	rs := checkPostgres(checkCtx(t), dsn+sep+"synchronous_commit=off")
	if checksHealthy(rs) {
		t.Fatalf("healthy: %+v", rs)
	}
	expectCheck(t, rs, "synchronous_commit", checkFail, "synchronous_commit is off", "a 2xx must be durable")
	expectCheck(t, rs, "fsync", checkOK)
}

func TestClusterCheckPostgresRefused(t *testing.T) {
	addr := loopbackClosed(t)
	const pw = "pg-S3cret-pw"
	for _, dsn := range []string{
		"postgres://mailtrail:" + pw + "@" + addr + "/mailtrail?sslmode=disable",
		"host=127.0.0.1 port=" + addr[strings.LastIndex(addr, ":")+1:] + " user=mailtrail password=" + pw + " dbname=mailtrail sslmode=disable",
	} {
		rs := checkPostgres(checkCtx(t), dsn)
		if len(rs) != 1 {
			t.Fatalf("%d results after a failed connection: %+v", len(rs), rs)
		}
		expectCheck(t, rs, "connect", checkFail, "mailtrail@"+addr+"/mailtrail", "connection refused")
		if strings.Contains(rs[0].Detail, pw) {
			t.Errorf("the password is in %q", rs[0].Detail)
		}
	}
	rs := checkPostgres(checkCtx(t), "postgres://u:"+pw+"@host:notaport/db")
	expectCheck(t, rs, "connect", checkFail, "not a PostgreSQL connection string")
	if strings.Contains(rs[0].Detail, pw) {
		t.Errorf("the password is in %q", rs[0].Detail)
	}
}

func TestClusterCheckClickHouse(t *testing.T) {
	url := testClickHouseURL(t)
	rs := checkClickHouse(checkCtx(t), http.DefaultClient, url, false)
	if !checksHealthy(rs) {
		t.Fatalf("not healthy: %+v", rs)
	}
	expectCheck(t, rs, "connect", checkOK, url, "/ping")
	expectCheck(t, rs, "version", checkOK, "ClickHouse 1")
}

// With --clickhouse-replicated the check asks for the server's ZooKeeper and its
// {replica} macro: a replica has both, a server without ZooKeeper fails, saying what to set.
func TestClusterCheckClickHouseReplicated(t *testing.T) {
	replica, _, ok := strings.Cut(os.Getenv("MAILTRAIL_TEST_CLICKHOUSE_REPLICAS"), ",")
	if !ok {
		if os.Getenv("MAILTRAIL_REQUIRE_SERVICES") != "" {
			t.Fatal("MAILTRAIL_TEST_CLICKHOUSE_REPLICAS is not set (scripts/test.sh starts two replicas)")
		}
		t.Skip("MAILTRAIL_TEST_CLICKHOUSE_REPLICAS is not set (scripts/test.sh starts two replicas)")
	}
	rs := checkClickHouse(checkCtx(t), http.DefaultClient, replica, true)
	if !checksHealthy(rs) {
		t.Fatalf("a replica: not healthy: %+v", rs)
	}
	expectCheck(t, rs, "zookeeper", checkOK, "ZooKeeper")
	expectCheck(t, rs, "replica", checkOK, "replica")
	rs = checkClickHouse(checkCtx(t), http.DefaultClient, testClickHouseURL(t), true)
	expectCheck(t, rs, "zookeeper", checkFail, "<zookeeper>")
	expectCheck(t, rs, "replica", checkFail, "<macros>")
}

func TestClusterCheckClickHouseRefused(t *testing.T) {
	addr := loopbackClosed(t)
	rs := checkClickHouse(checkCtx(t), http.DefaultClient, "http://default:ch-S3cret@"+addr, false)
	if len(rs) != 1 {
		t.Fatalf("%d results after a failed connection: %+v", len(rs), rs)
	}
	expectCheck(t, rs, "connect", checkFail, addr, "connection refused")
	if strings.Contains(rs[0].Detail, "ch-S3cret") {
		t.Errorf("the password is in %q", rs[0].Detail)
	}
}

// Something else answers: a web server, or a server that pings like ClickHouse but is not.
func TestClusterCheckClickHouseSomethingElse(t *testing.T) {
	web := httptest.NewServer(http.NotFoundHandler())
	defer web.Close()
	rs := checkClickHouse(checkCtx(t), http.DefaultClient, web.URL, false)
	expectCheck(t, rs, "connect", checkFail, "answered 404", "not ClickHouse")

	pinger := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ping" {
			w.Write([]byte("Ok.\n"))
			return
		}
		w.Write([]byte("<html>hello</html>"))
	}))
	defer pinger.Close()
	rs = checkClickHouse(checkCtx(t), http.DefaultClient, pinger.URL, false)
	expectCheck(t, rs, "connect", checkOK)
	expectCheck(t, rs, "version", checkFail, "<html>hello</html>", "not a ClickHouse version")

	rs = checkClickHouse(checkCtx(t), http.DefaultClient, "nats://127.0.0.1:4222", false)
	expectCheck(t, rs, "connect", checkFail, "not an http(s) URL")
}

// A wrong password: ClickHouse's own refusal, without the password.
func TestClusterCheckClickHouseWrongPassword(t *testing.T) {
	url := testClickHouseURL(t)
	const pw = "wr0ng-S3cret"
	rs := checkClickHouse(checkCtx(t), http.DefaultClient, strings.Replace(url, "http://", "http://default:"+pw+"@", 1), false)
	expectCheck(t, rs, "version", checkFail, "answered")
	for _, r := range rs {
		if strings.Contains(r.Detail, pw) {
			t.Errorf("the password is in %q", r.Detail)
		}
	}
}
