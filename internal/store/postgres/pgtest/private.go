package pgtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Server is a PostgreSQL server of a test's own, which the test may kill and start again
// (never the machine's shared one): a cluster made by initdb in a temporary directory,
// run by the machine's postgres binaries as the postgres user, listening on a free port
// of 127.0.0.1 with trust authentication, fsync on. It is killed and removed when the
// test ends.
type Server struct {
	t    testing.TB
	bin  string // the directory of initdb and postgres
	dir  string
	port int
	cred *syscall.Credential
	cmd  *exec.Cmd
}

// Private makes and starts a Server. It skips the test where the machine has no
// PostgreSQL binaries or no postgres user, unless MAILTRAIL_REQUIRE_SERVICES is set (CI),
// where it fails.
func Private(t testing.TB) *Server {
	t.Helper()
	fail := t.Skipf
	if os.Getenv("MAILTRAIL_REQUIRE_SERVICES") != "" {
		fail = t.Fatalf
	}
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		fail("no PostgreSQL binaries in /usr/lib/postgresql/*/bin")
		return nil
	}
	s := &Server{t: t, bin: filepath.Dir(bins[len(bins)-1])}
	if os.Geteuid() == 0 { // initdb and postgres refuse to run as root
		u, err := user.Lookup("postgres")
		if err != nil {
			fail("no postgres user to run a private PostgreSQL server as: %v", err)
			return nil
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	dir, err := os.MkdirTemp("", "mailtrail-pg-")
	if err != nil {
		t.Fatal(err)
	}
	s.dir = dir
	t.Cleanup(func() {
		s.Kill()
		os.RemoveAll(dir)
	})
	if s.cred != nil {
		if err := os.Chown(dir, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	initdb := exec.Command(filepath.Join(s.bin, "initdb"), "-D", filepath.Join(dir, "data"), "-U", "postgres", "--auth=trust", "--no-instructions")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	initdb.Dir = dir
	if out, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	s.Start()
	return s
}

// DSN is the server's DSN.
func (s *Server) DSN() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.port)
}

// Start starts the server (crash recovery first, after a Kill) and waits until it takes
// connections.
func (s *Server) Start() {
	s.t.Helper()
	cmd := exec.Command(filepath.Join(s.bin, "postgres"), "-D", filepath.Join(s.dir, "data"), "-p", strconv.Itoa(s.port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="+s.dir, "-c", "fsync=on", "-c", "synchronous_commit=on")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred, Setpgid: true} // out of the test's group: a signal to it does not reach the server
	log, err := os.OpenFile(filepath.Join(s.dir, "postgres.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		s.t.Fatal(err)
	}
	defer log.Close()
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.cmd = cmd
	go cmd.Wait()
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn, err := pgx.Connect(ctx, s.DSN())
		cancel()
		if err == nil {
			conn.Close(context.Background())
			return
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(s.dir, "postgres.log"))
			s.t.Fatalf("the private PostgreSQL server did not start: %v\n%s", err, b)
		}
	}
}

// Kill kills the server and every process of it with SIGKILL, as a crash of its machine
// would end them (no shutdown, no checkpoint), and waits until they are gone. Each of the
// postmaster's children is a process group of its own (PostgreSQL calls setsid), so they
// are found by their working directory, the data directory every one of them runs in: a
// backend left alive would hold the shared memory, and the next start would refuse it
// ("pre-existing shared memory block is still in use", seen on a busy machine).
func (s *Server) Kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(s.cmd.Process.Pid, syscall.SIGKILL) // first, so that it forks no more
	data := filepath.Join(s.dir, "data")
	if real, err := filepath.EvalSymlinks(data); err == nil {
		data = real
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		left := false
		for _, pid := range processesIn(data) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			left = true
		}
		if !left {
			break
		}
	}
	s.cmd = nil
}

// processesIn returns the processes whose working directory is dir (a zombie has none).
func processesIn(dir string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if cwd, err := os.Readlink(filepath.Join("/proc", e.Name(), "cwd")); err == nil && cwd == dir {
			pids = append(pids, pid)
		}
	}
	return pids
}
