package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail/internal/store/eventlog"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// natsCheckOptions says which JetStream to check and what the event log will ask of it.
type natsCheckOptions struct {
	URL      string // the servers' nats:// URLs, comma-separated (--event-log-url)
	Creds    string // a .creds file (user JWT and NKey seed), "" for none
	TLS      eventlog.TLSFiles
	Stream   string // the event log's stream (--event-log-stream), checked if it exists
	Replicas int    // the replicas serve creates the stream with (--event-log-replicas)
	// Partitions is the number of partitions serve runs the stream with
	// (--event-log-partitions): a stream created with another number is refused at start.
	Partitions int
	// MinPayload is the largest message the log publishes (its group message plus
	// headers): every server's max_payload must be at least this.
	MinPayload int64
}

// syncIntervalReason is why a server older than 2.10 fails: it syncs its files every two
// minutes and cannot be told to sync each write before its acknowledgement.
const syncIntervalReason = "cannot sync every write before acknowledging (no sync_interval): never acknowledge on it"

// checkNATS checks the JetStream at o.URL: connection, server version, JetStream, max_payload,
// the cluster's servers and, when it exists, the log's stream. ctx bounds the whole check;
// a failed connection ends it with one failed result.
func checkNATS(ctx context.Context, o natsCheckOptions) []checkResult {
	r := &checkList{engine: engineNATS}
	nc, err := natsConnect(ctx, o)
	if err != nil {
		r.add("connect", checkFail, "%s: %s", redactURLs(o.URL), err)
		return r.list
	}
	defer nc.Close()
	r.add("connect", checkOK, "%s (server %s%s)", nc.ConnectedUrlRedacted(), nc.ConnectedServerName(), clusterSuffix(nc))
	natsVersion(r, nc.ConnectedServerVersion())
	js, err := jetstream.New(nc)
	if err != nil {
		r.add("jetstream", checkFail, "%v", err)
		return r.list
	}
	ai, err := js.AccountInfo(ctx)
	if err != nil {
		r.add("jetstream", checkFail, "JetStream is not available to this account: %v (the servers need a jetstream block)", err)
		return r.list
	}
	r.add("jetstream", checkOK, "enabled: %d streams, %s stored", ai.Streams, mib(int64(ai.Store)))
	if p := nc.MaxPayload(); p < o.MinPayload {
		r.add("max_payload", checkFail, "max_payload %s is less than the %s the event log publishes at most: its large groups would be refused (set max_payload: 8MB on every server)", mib(p), mib(o.MinPayload))
	} else {
		r.add("max_payload", checkOK, "%s (the event log needs %s)", mib(p), mib(o.MinPayload))
	}
	natsCluster(r, nc, o.Replicas)
	natsStream(ctx, r, js, o)
	return r.list
}

// natsConnect connects once to the first server of o.URL that answers, within ctx. When
// none does, the error says why the first one did not.
func natsConnect(ctx context.Context, o natsCheckOptions) (*nats.Conn, error) {
	timeout := 5 * time.Second
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	opts := []nats.Option{nats.Name("mailtrail-cluster-check"), nats.Timeout(timeout), nats.NoReconnect()}
	if o.Creds != "" {
		opts = append(opts, nats.UserCredentials(o.Creds))
	}
	opts = append(opts, o.TLS.NATSOptions()...)
	nc, err := nats.Connect(o.URL, opts...)
	if errors.Is(err, nats.ErrNoServers) {
		// The client hides the dial errors behind "no servers": dial the first one
		// again to tell a refusal from a timeout.
		if addr := firstHostPort(o.URL); addr != "" {
			var d net.Dialer
			c, derr := d.DialContext(ctx, "tcp", addr)
			if derr != nil {
				return nil, fmt.Errorf("no server answered (%s: %s)", addr, dialReason(derr))
			}
			c.Close()
		}
	}
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return nil, errors.New(timedOut)
	case err != nil:
		return nil, errors.New(scrubSecrets(err.Error(), natsPasswords(o.URL)...))
	}
	return nc, nil
}

// firstHostPort returns host:port of the first URL (port 4222 when it has none).
func firstHostPort(urls string) string {
	first, _, _ := strings.Cut(urls, ",")
	u, err := url.Parse(strings.TrimSpace(first))
	if err != nil || u.Hostname() == "" {
		return ""
	}
	port := u.Port()
	if port == "" {
		port = "4222"
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// natsPasswords returns the passwords and tokens in the URLs, to scrub from errors.
func natsPasswords(urls string) []string {
	var out []string
	for _, p := range strings.Split(urls, ",") {
		if u, err := url.Parse(strings.TrimSpace(p)); err == nil && u.User != nil {
			pw, ok := u.User.Password()
			if !ok {
				pw = u.User.Username() // nats://TOKEN@host
			}
			out = append(out, pw)
		}
	}
	return out
}

func clusterSuffix(nc *nats.Conn) string {
	if name := nc.ConnectedClusterName(); name != "" {
		return ", cluster " + name
	}
	return ""
}

// natsVersion fails a server older than 2.10: it has no sync_interval.
func natsVersion(r *checkList, v string) {
	major, minor, ok := majorMinor(v)
	switch {
	case !ok:
		r.add("version", checkWarn, "nats-server %q: not a version this check knows; 2.10 or later is needed", v)
	case major < 2 || major == 2 && minor < 10:
		r.add("version", checkFail, "nats-server %s %s", v, syncIntervalReason)
	default:
		r.add("version", checkOK, "nats-server %s (every server must run with sync_interval: always, which a client cannot see)", v)
	}
}

// majorMinor parses the first two numbers of a version such as "2.9.10" or "v2.15.3-beta".
func majorMinor(v string) (major, minor int, ok bool) {
	parts := strings.SplitN(strings.TrimPrefix(v, "v"), ".", 3)
	if len(parts) < 2 {
		return 0, 0, false
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(parts[1])
	return major, minor, err1 == nil && err2 == nil
}

// natsCluster reports the servers the client knows (those given and those the cluster
// advertised): a stream of replicas servers needs at least that many.
func natsCluster(r *checkList, nc *nats.Conn, replicas int) {
	var servers []string
	for _, s := range nc.Servers() {
		if u, err := url.Parse(s); err == nil {
			s = u.Host
		}
		servers = append(servers, s)
	}
	slices.Sort(servers)
	servers = slices.Compact(servers)
	name := nc.ConnectedClusterName()
	switch {
	case name == "" && replicas > 1:
		r.add("cluster", checkFail, "a single server, in no cluster: a stream of %d replicas (--event-log-replicas) cannot be placed, and its loss stops every acknowledgement", replicas)
	case name == "":
		r.add("cluster", checkWarn, "a single server, in no cluster: its loss stops every acknowledgement")
	case len(servers) < replicas:
		r.add("cluster", checkWarn, "cluster %s: %d servers known (%s), fewer than the stream's %d replicas (--event-log-replicas)", name, len(servers), strings.Join(servers, ", "), replicas)
	default:
		r.add("cluster", checkOK, "cluster %s: %d servers (%s)", name, len(servers), strings.Join(servers, ", "))
	}
}

// natsStream reports the log's stream when it exists: its replicas, its leader and
// whether every replica is current.
func natsStream(ctx context.Context, r *checkList, js jetstream.JetStream, o natsCheckOptions) {
	if o.Stream == "" {
		return
	}
	check := "stream " + o.Stream
	st, err := js.Stream(ctx, o.Stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		r.add(check, checkOK, "does not exist yet: serve --event-log-url creates it with %d replicas", o.Replicas)
		return
	}
	if err != nil {
		r.add(check, checkFail, "cannot read it: %v", err)
		return
	}
	info, err := st.Info(ctx)
	if err != nil {
		r.add(check, checkFail, "cannot read its state: %v", err)
		return
	}
	n := info.Config.Replicas
	ci := info.Cluster
	if ci == nil || ci.Leader == "" {
		r.add(check, checkFail, "%d replicas and no leader: appends are refused until one is elected", n)
		return
	}
	var behind []string
	for _, p := range ci.Replicas {
		if !p.Current || p.Offline {
			state := fmt.Sprintf("%s (%d operations behind", p.Name, p.Lag)
			if p.Offline {
				state += ", offline"
			}
			behind = append(behind, state+")")
		}
	}
	parts := eventlog.StreamPartitions(info)
	partsText := fmt.Sprintf("%d partitions", parts)
	if parts == 1 {
		partsText = "1 partition"
	}
	current := fmt.Sprintf("%d messages, %d replicas, %s, leader %s", info.State.Msgs, n, partsText, ci.Leader)
	switch {
	case o.Partitions > 0 && parts != o.Partitions:
		r.add(check, checkFail, "%s; --event-log-partitions is %d: serve refuses to start on a stream created with another number of partitions (keep %d, or start a new stream)", current, o.Partitions, parts)
	case len(behind) > 0:
		r.add(check, checkWarn, "%s; not current: %s", current, strings.Join(behind, ", "))
	case n != o.Replicas:
		r.add(check, checkWarn, "%s, every replica current; --event-log-replicas asks %d (a stream keeps the replicas it was created with)", current, o.Replicas)
	default:
		r.add(check, checkOK, "%s, every replica current", current)
	}
}
