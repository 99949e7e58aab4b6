package main

// The checks of `mailtrail cluster check`: whether the engines of the cluster mode
// (docs/cluster.md) are reachable and fit for mailtrail, a NATS JetStream cluster for the
// event log, PostgreSQL and ClickHouse. They live in cmd/ because they use the engines'
// drivers, which only cmd/ and the store adapters import (docs/architecture.md). Each
// check connects, reads, and writes nothing that outlives it (a temporary table rolled
// back at most); its answers never contain a password.

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"
)

// checkStatus is the outcome of one check.
type checkStatus string

// The outcomes of a check. Only checkFail makes the cluster unhealthy: a warning is worth
// reading, checkNotConfigured says an engine was not asked about.
const (
	checkOK            checkStatus = "ok"
	checkWarn          checkStatus = "warn"
	checkFail          checkStatus = "fail"
	checkNotConfigured checkStatus = "not_configured"
)

// The engines checked, as checkResult.Engine names them.
const (
	engineNATS       = "nats"
	enginePostgres   = "postgres"
	engineClickHouse = "clickhouse"
)

// checkResult is one check of one engine: what was checked, its outcome and why, in words an
// operator can act on. Detail never holds a password.
type checkResult struct {
	Engine string      `json:"engine"`
	Check  string      `json:"check"`
	Status checkStatus `json:"status"`
	Detail string      `json:"detail"`
}

// checkList collects the checks of one engine.
type checkList struct {
	engine string
	list   []checkResult
}

func (r *checkList) add(check string, s checkStatus, format string, args ...any) {
	r.list = append(r.list, checkResult{Engine: r.engine, Check: check, Status: s, Detail: fmt.Sprintf(format, args...)})
}

// checksHealthy reports whether no result failed.
func checksHealthy(rs []checkResult) bool {
	for _, r := range rs {
		if r.Status == checkFail {
			return false
		}
	}
	return true
}

// scrubSecrets removes every secret from s (a password echoed by a driver's error, say).
func scrubSecrets(s string, secrets ...string) string {
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
