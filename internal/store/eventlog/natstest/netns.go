package natstest

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// NetCluster is a three-server JetStream cluster whose servers run in network namespaces
// of their own, so that a test can cut one off from the others for real (its link to
// them down) while its clients still reach it.
//
//   - the cluster's network: a bridge in the test's namespace, each server's namespace
//     linked to it (10.C.D.N/24, server N); the servers' routes, and the test's own view
//     of servers 1 and 2 (ClusterURL), go over it;
//   - the client network of server 3: a second bridge and link (10.C.D+1.3/24), over
//     which ClientURL reaches server 3 only.
//
// Cut(3) takes server 3's link to the cluster's network down: it can no longer reach a
// majority (nor they it), while a client on ClientURL still reaches it. It needs root
// and iproute2 (ip netns, veth, bridge), which the machine's sandbox gives; without them
// the test skips, or fails under MAILTRAIL_REQUIRE_SERVICES.
type NetCluster struct {
	t      testing.TB
	prefix string // of the interfaces' and namespaces' names
	net    string // "10.C.D", the cluster network; client network 10.C.(D+1)
	client string
}

// StartNetCluster starts a NetCluster of the nats-server binary that
// scripts/nats-cluster.sh built in its directory (MAILTRAIL_TEST_NATS_DIR), every write
// synced; it is removed when the test ends.
func StartNetCluster(t testing.TB) *NetCluster {
	t.Helper()
	bin := filepath.Join(Dir(t), "nats-server")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("the nats-server scripts/nats-cluster.sh builds: %v", err)
	}
	if os.Geteuid() != 0 {
		skipOrFail(t, "network namespaces need root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		skipOrFail(t, "network namespaces need iproute2's ip")
	}
	r := rand.Uint32()
	c := &NetCluster{t: t, prefix: fmt.Sprintf("mt%04x", r&0xffff)}
	c.net = fmt.Sprintf("10.%d.%d", 100+(r>>16)%100, 2*((r>>24)%100))
	c.client = fmt.Sprintf("10.%d.%d", 100+(r>>16)%100, 2*((r>>24)%100)+1)
	t.Cleanup(c.remove)
	br, cbr := c.prefix+"b", c.prefix+"k"
	c.ip("link", "add", br, "type", "bridge")
	c.ip("addr", "add", c.net+".254/24", "dev", br)
	c.ip("link", "set", br, "up")
	c.ip("link", "add", cbr, "type", "bridge")
	c.ip("addr", "add", c.client+".254/24", "dev", cbr)
	c.ip("link", "set", cbr, "up")
	dir := t.TempDir()
	var routes []string
	for n := 1; n <= 3; n++ {
		routes = append(routes, fmt.Sprintf("nats://%s.%d:6222", c.net, n))
	}
	for n := 1; n <= 3; n++ {
		ns := c.ns(n)
		c.ip("netns", "add", ns)
		c.ip("-n", ns, "link", "set", "lo", "up")
		c.link(ns, fmt.Sprintf("%sc%d", c.prefix, n), br, fmt.Sprintf("%s.%d/24", c.net, n))
		if n == 3 {
			c.link(ns, c.prefix+"x3", cbr, c.client+".3/24")
		}
		conf := filepath.Join(dir, fmt.Sprintf("n%d.conf", n))
		if err := os.WriteFile(conf, []byte(fmt.Sprintf(`server_name: mt-p%d
listen: 0.0.0.0:4222
http: 0.0.0.0:8222
max_payload: 8MB
ping_interval: "2s"
ping_max: 2
jetstream {
  store_dir: %q
  sync_interval: always
}
cluster {
  name: mailtrail-netns
  listen: %s.%d:6222
  routes: [%s]
}
`, n, filepath.Join(dir, fmt.Sprintf("n%d", n)), c.net, n, strings.Join(routes, ","))), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("ip", "netns", "exec", ns, bin, "-c", conf, "-l", filepath.Join(dir, fmt.Sprintf("n%d.log", n)))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			cmd.Process.Kill()
			cmd.Wait()
		})
	}
	// Ready when every server's JetStream answers and the cluster has a meta leader.
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		ok := 0
		for n := 1; n <= 3; n++ {
			if resp, err := http.Get(fmt.Sprintf("http://%s.%d:8222/healthz", c.net, n)); err == nil {
				if resp.StatusCode == http.StatusOK {
					ok++
				}
				resp.Body.Close()
			}
		}
		if ok == 3 && c.hasMetaLeader() {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("the namespaced cluster did not start within 60 s (%d servers healthy); logs in %s", ok, dir)
		}
	}
}

func (c *NetCluster) hasMetaLeader() bool {
	resp, err := http.Get(fmt.Sprintf("http://%s.1:8222/jsz", c.net))
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return strings.Contains(b.String(), `"leader"`)
}

// ClientURL is server 3's client URL on its client network (which Cut leaves up).
func (c *NetCluster) ClientURL() string { return fmt.Sprintf("nats://%s.3:4222", c.client) }

// ClusterURL is the client URLs of servers 1 and 2, over the cluster's network (for the
// test's own look at the stream, from the majority's side).
func (c *NetCluster) ClusterURL() string {
	return fmt.Sprintf("nats://%s.1:4222,nats://%s.2:4222", c.net, c.net)
}

// Cut takes server n's link to the cluster's network down: its routes stall, and no
// packet passes until Heal.
func (c *NetCluster) Cut(n int) { c.ip("link", "set", fmt.Sprintf("%sc%dr", c.prefix, n), "down") }

// Heal brings server n's link to the cluster's network up again.
func (c *NetCluster) Heal(n int) {
	c.ip("link", "set", fmt.Sprintf("%sc%dr", c.prefix, n), "master", c.prefix+"b", "up")
}

func (c *NetCluster) ns(n int) string { return fmt.Sprintf("%sn%d", c.prefix, n) }

// link makes a veth pair, name inside namespace ns with address addr, name+"r" in the
// test's namespace on bridge br.
func (c *NetCluster) link(ns, name, br, addr string) {
	c.ip("link", "add", name+"r", "type", "veth", "peer", "name", name)
	c.ip("link", "set", name, "netns", ns)
	c.ip("link", "set", name+"r", "master", br, "up")
	c.ip("-n", ns, "addr", "add", addr, "dev", name)
	c.ip("-n", ns, "link", "set", name, "up")
}

func (c *NetCluster) ip(args ...string) {
	c.t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		c.t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// remove deletes the namespaces (their links go with them) and the bridges.
func (c *NetCluster) remove() {
	for n := 1; n <= 3; n++ {
		exec.Command("ip", "netns", "del", c.ns(n)).Run()
	}
	exec.Command("ip", "link", "del", c.prefix+"b").Run()
	exec.Command("ip", "link", "del", c.prefix+"k").Run()
}

func skipOrFail(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("MAILTRAIL_REQUIRE_SERVICES") != "" {
		t.Fatal(why)
	}
	t.Skip(why)
}
