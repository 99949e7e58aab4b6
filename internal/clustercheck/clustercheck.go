// Package clustercheck tells whether the engines of the cluster mode (docs/cluster.md) are
// reachable and fit for mailtrail: a NATS JetStream cluster for the event log, PostgreSQL
// and ClickHouse. Each check connects, reads, and writes nothing that outlives it (a
// temporary table rolled back at most); its answers never contain a password.
package clustercheck

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"
)

// Status is the outcome of one check.
type Status string

// The outcomes of a check. Only Fail makes the cluster unhealthy: a Warn is worth
// reading, NotConfigured says an engine was not asked about.
const (
	OK            Status = "ok"
	Warn          Status = "warn"
	Fail          Status = "fail"
	NotConfigured Status = "not_configured"
)

// The engines checked, as Result.Engine names them.
const (
	EngineNATS       = "nats"
	EnginePostgres   = "postgres"
	EngineClickHouse = "clickhouse"
)

// Result is one check of one engine: what was checked, its outcome and why, in words an
// operator can act on. Detail never holds a password.
type Result struct {
	Engine string `json:"engine"`
	Check  string `json:"check"`
	Status Status `json:"status"`
	Detail string `json:"detail"`
}

// results collects the checks of one engine.
type results struct {
	engine string
	list   []Result
}

func (r *results) add(check string, s Status, format string, args ...any) {
	r.list = append(r.list, Result{Engine: r.engine, Check: check, Status: s, Detail: fmt.Sprintf(format, args...)})
}

// Healthy reports whether no result failed.
func Healthy(rs []Result) bool {
	for _, r := range rs {
		if r.Status == Fail {
			return false
		}
	}
	return true
}

// scrub removes every secret from s (a password echoed by a driver's error, say).
func scrub(s string, secrets ...string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "xxxxx")
		}
	}
	return s
}

// redactURLs returns comma-separated URLs with their passwords replaced by xxxxx.
func redactURLs(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if u, err := url.Parse(p); err == nil {
			p = u.Redacted()
		}
		parts[i] = p
	}
	return strings.Join(parts, ",")
}

// timedOut is the reason of a check that got no answer in time: a firewall dropping the
// connection, a host down, or a server that accepts and does not answer.
const timedOut = "timed out: no answer within the timeout"

// dialReason words a dial error for an operator: a refusal, a timeout or the error.
func dialReason(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused (nothing listens there)"
	case errors.As(err, &ne) && ne.Timeout():
		return timedOut
	}
	return err.Error()
}

// mib formats a byte count in MiB.
func mib(n int64) string {
	return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20))
}
