package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/store/clickhouse"
	"github.com/mailtrail/mailtrail/internal/store/postgres"
)

// runCluster is `mailtrail cluster VERB`: the cluster mode's commands (docs/cluster.md).
func runCluster(ctx context.Context, args []string, stdout io.Writer) error {
	verb, err := group("cluster", args, stdout,
		[2]string{"check", "check [--timeout 5s] [--json]"},
		[2]string{"copy-orgs", "copy-orgs --data-dir DIR --postgres-dsn DSN [--postgres-schema S] [--messages]"})
	if err != nil {
		return err
	}
	switch verb {
	case "check":
		return runClusterCheck(ctx, args[1:], stdout)
	case "copy-orgs":
		return runCopyOrgs(ctx, args[1:], stdout)
	}
	return nil
}

// clusterReport is the --json answer of cluster check.
type clusterReport struct {
	Healthy bool          `json:"healthy"`
	Results []checkResult `json:"results"`
}

// runClusterCheck is `mailtrail cluster check`: every configured engine is checked at
// once, each within the timeout; one line per check. It returns a statusError of 1 when a
// check failed, any other error (status 2) when it could not run.
func runClusterCheck(ctx context.Context, args []string, stdout io.Writer) error {
	var timeout time.Duration
	var asJSON bool
	l := newLeaf("cluster check", "mailtrail cluster check [--timeout 5s] [--json] [--event-log-url URLS] [--nats-creds FILE] [--nats-ca FILE] [--nats-cert FILE --nats-key FILE] [--postgres-dsn DSN] [--clickhouse-url URL] [--clickhouse-ca FILE]",
		"Tells which of the cluster mode's engines are reachable and fit for mailtrail, one line per check\n"+
			"(ok, WARN or FAIL with the reason), and which are not configured:\n"+
			"  NATS (--event-log-url): the server's version (2.10+: older ones cannot sync each write before\n"+
			"    acknowledging), JetStream, max_payload, the cluster's servers, the --event-log-stream stream\n"+
			"    if it exists (replicas, leader, replicas current);\n"+
			"  PostgreSQL (--postgres-dsn): version (13+), fsync and synchronous_commit on, a table can be\n"+
			"    created (a temporary one, rolled back);\n"+
			"  ClickHouse (--clickhouse-url): GET /ping, SELECT version() over its HTTP interface.\n"+
			"It writes nothing that outlives it and prints no password. Exit status: 0 when every configured\n"+
			"engine is healthy (warnings allowed), 1 when a check failed, 2 when nothing is configured or\n"+
			"a setting is wrong. See docs/cluster.md.",
		func(fs *flag.FlagSet) {
			fs.DurationVar(&timeout, "timeout", 5*time.Second, "how long each engine's checks may take")
			fs.BoolVar(&asJSON, "json", false, `print {"healthy": bool, "results": [{"engine", "check", "status", "detail"}]} instead of lines`)
		},
		"event-log-url", "nats-creds", "nats-ca", "nats-cert", "nats-key", "event-log-stream", "event-log-replicas", "event-log-partitions", "postgres-dsn", "clickhouse-url", "clickhouse-ca", "clickhouse-replicated")
	if err := l.parse(args, stdout); err != nil {
		return err
	}
	cfg := l.cfg
	switch {
	case l.fs.NArg() > 0:
		return fmt.Errorf("cluster check: unexpected argument %q", l.fs.Arg(0))
	case timeout <= 0:
		return errors.New("cluster check: --timeout must be positive, e.g. 5s")
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	if cfg.EventLogURL == "" && cfg.PostgresDSN == "" && cfg.ClickHouseURL == "" {
		return errors.New("cluster check: nothing to check: set --event-log-url, --postgres-dsn or --clickhouse-url (or MAILTRAIL_EVENT_LOG_URL, MAILTRAIL_POSTGRES_DSN, MAILTRAIL_CLICKHOUSE_URL)")
	}

	results := checkCluster(ctx, cfg, timeout)
	healthy := checksHealthy(results)
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(clusterReport{Healthy: healthy, Results: results}); err != nil {
			return err
		}
	} else {
		printClusterResults(stdout, results)
	}
	if !healthy {
		var failed []string
		for _, r := range results {
			if r.Status == checkFail {
				failed = append(failed, r.Engine+" "+r.Check)
			}
		}
		return &statusError{code: 1, err: fmt.Errorf("cluster check: %d failed: %s", len(failed), strings.Join(failed, ", "))}
	}
	return nil
}

// checkCluster checks every configured engine at once, each within timeout, and returns
// their results in a fixed order: NATS, PostgreSQL, ClickHouse; an engine not configured
// is one checkNotConfigured result naming its setting.
func checkCluster(ctx context.Context, cfg *Config, timeout time.Duration) []checkResult {
	type engine struct {
		name, setting string
		configured    bool
		check         func(ctx context.Context) []checkResult
	}
	engines := []engine{
		{engineNATS, "--event-log-url / MAILTRAIL_EVENT_LOG_URL", cfg.EventLogURL != "", func(ctx context.Context) []checkResult {
			return checkNATS(ctx, natsCheckOptions{URL: cfg.EventLogURL, Creds: cfg.NATSCreds, TLS: cfg.natsTLS(),
				Stream: cfg.EventLogStream, Replicas: cfg.EventLogReplicas, Partitions: cfg.EventLogPartitions, MinPayload: eventLogMessageBytes + 64<<10})
		}},
		{enginePostgres, "--postgres-dsn / MAILTRAIL_POSTGRES_DSN", cfg.PostgresDSN != "", func(ctx context.Context) []checkResult {
			return checkPostgres(ctx, cfg.PostgresDSN)
		}},
		{engineClickHouse, "--clickhouse-url / MAILTRAIL_CLICKHOUSE_URL", cfg.ClickHouseURL != "", func(ctx context.Context) []checkResult {
			// No redirects: the check is of this URL, and a redirect would carry its password elsewhere.
			client := &http.Client{Timeout: timeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			if cfg.ClickHouseCA != "" {
				tc, err := clickhouse.TLSConfig(cfg.ClickHouseCA) // read by validate already
				if err != nil {
					return []checkResult{{Engine: engineClickHouse, Check: "connect", Status: checkFail, Detail: err.Error()}}
				}
				client.Transport = &http.Transport{TLSClientConfig: tc}
			}
			return checkClickHouse(ctx, client, cfg.ClickHouseURL, cfg.ClickHouseReplicated)
		}},
	}
	out := make([][]checkResult, len(engines))
	var wg sync.WaitGroup
	for i, e := range engines {
		if !e.configured {
			out[i] = []checkResult{{Engine: e.name, Check: "configured", Status: checkNotConfigured, Detail: e.setting + " is not set"}}
			continue
		}
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			out[i] = e.check(ctx)
		})
	}
	wg.Wait()
	var all []checkResult
	for _, rs := range out {
		all = append(all, rs...)
	}
	return all
}

// printClusterResults writes one aligned line per result: status, engine, check, detail.
func printClusterResults(w io.Writer, results []checkResult) {
	label := map[checkStatus]string{checkOK: "ok", checkWarn: "WARN", checkFail: "FAIL", checkNotConfigured: "-"}
	width := 0
	for _, r := range results {
		width = max(width, len(r.Check))
	}
	for _, r := range results {
		detail := r.Detail
		if r.Status == checkNotConfigured {
			detail = "not configured: " + detail
		}
		fmt.Fprintf(w, "%-4s  %-10s  %-*s  %s\n", label[r.Status], r.Engine, width, r.Check, detail)
	}
}

// runCopyOrgs is `mailtrail cluster copy-orgs`: the organizations of a data directory's
// store, with their settings, created in PostgreSQL under the same ids (or brought up to
// date there), so that a worker projecting that store's event log into PostgreSQL knows
// them. It takes the data directory as the offline commands do (not beside a running
// server) but applies nothing of the log and changes nothing in the store; running it
// again is harmless.
//
// With --messages it also copies every message the store has instrumented (ids,
// campaigns, recipients, links, creation times), so that events naming a message sent
// before serve ran with --postgres-dsn count in PostgreSQL too; messages PostgreSQL has
// already are left as they are.
func runCopyOrgs(ctx context.Context, args []string, stdout io.Writer) error {
	var withMessages bool
	l := newLeaf("cluster copy-orgs", "mailtrail cluster copy-orgs --data-dir DIR --postgres-dsn DSN [--postgres-schema S] [--messages]",
		"Copies the organizations of the store in --data-dir (their ids, names, time zones and settings)\n"+
			"into PostgreSQL, creating or updating each: a worker (mailtrail worker) projecting that store's\n"+
			"event log into PostgreSQL needs them, and retries an event of an organization it does not know.\n"+
			"serve --event-log-url with --postgres-dsn does it by itself while it runs (every few seconds);\n"+
			"run this one while serve is stopped, e.g. before the first worker starts.\n"+
			"With --messages it also copies every message the store has instrumented, so that the events of\n"+
			"emails sent before serve ran with --postgres-dsn count there too: run it before the first\n"+
			"worker, since a worker skips an event of a message PostgreSQL does not know. Running it again\n"+
			"copies only what PostgreSQL lacks; it prints its progress.",
		func(fs *flag.FlagSet) {
			fs.BoolVar(&withMessages, "messages", false, "also copy every message the store has instrumented (ids, recipients, links)")
		}, "data-dir", "postgres-dsn", "postgres-schema")
	if err := l.parse(args, stdout); err != nil {
		return err
	}
	cfg := l.cfg
	if l.fs.NArg() > 0 {
		return fmt.Errorf("cluster copy-orgs: unexpected argument %q", l.fs.Arg(0))
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	if cfg.PostgresDSN == "" {
		return errors.New("cluster copy-orgs: --postgres-dsn (MAILTRAIL_POSTGRES_DSN) is required")
	}
	st, err := openStore(ctx, cfg, apiHint("cluster copy-orgs"))
	if err != nil {
		return err
	}
	defer st.Close()
	pg, err := postgres.Open(ctx, cfg.PostgresDSN, postgres.Options{Schema: cfg.PostgresSchema})
	if err != nil {
		return fmt.Errorf("cluster copy-orgs: %w", err)
	}
	defer pg.Close()
	n, err := copyOrgs(ctx, st, pg, nil)
	if err != nil {
		return fmt.Errorf("cluster copy-orgs: %w", err)
	}
	fmt.Fprintf(stdout, "copied %d organizations to PostgreSQL\n", n)
	if !withMessages {
		return nil
	}
	orgs, err := st.Orgs(ctx)
	if err != nil {
		return fmt.Errorf("cluster copy-orgs: %w", err)
	}
	for _, o := range orgs {
		if err := copyMessages(ctx, st, pg, o.ID, stdout); err != nil {
			return fmt.Errorf("cluster copy-orgs: organization %s: %w", o.ID, err)
		}
	}
	return nil
}

// messageSource is what copyMessages reads messages from: the SQLite store.
type messageSource interface {
	MessagesAfter(ctx context.Context, orgID string, after int64, limit int) ([]*mailtrail.Message, int64, error)
}

// copyMessagesPage is how many messages copyMessages reads and writes at a time.
const copyMessagesPage = 5000

// copyMessages copies every message of an organization from the store to PostgreSQL,
// a page at a time in the order they were created, printing its progress every few
// seconds and a total at the end.
func copyMessages(ctx context.Context, st messageSource, pg *postgres.DB, orgID string, stdout io.Writer) error {
	var read, added int
	var after int64
	start, last := time.Now(), time.Now()
	for {
		page, next, err := st.MessagesAfter(ctx, orgID, after, copyMessagesPage)
		if err != nil {
			return err
		}
		if len(page) == 0 {
			break
		}
		n, err := pg.AdoptMessages(ctx, orgID, page)
		if err != nil {
			return err
		}
		read, added, after = read+len(page), added+n, next
		if time.Since(last) >= 5*time.Second {
			fmt.Fprintf(stdout, "organization %s: %d messages read, %d new in PostgreSQL (%.0f/s)\n", orgID, read, added, float64(read)/time.Since(start).Seconds())
			last = time.Now()
		}
	}
	fmt.Fprintf(stdout, "organization %s: copied %d messages to PostgreSQL (%d were there already)\n", orgID, added, read-added)
	return nil
}

// orgSource is what copyOrgs reads organizations from: the SQLite store.
type orgSource interface {
	Orgs(ctx context.Context) ([]mailtrail.Organization, error)
	OrgSettings(ctx context.Context, orgID string) (*mailtrail.OrgSettings, error)
}

// orgCopy is an organization as it was last copied.
type orgCopy struct {
	org      mailtrail.Organization
	settings mailtrail.OrgSettings
}

// copyOrgs creates or updates in pg every organization of src, with its settings, unless
// copied (when not nil) records it copied as it is now; it records what it copies there
// and returns how many it wrote.
func copyOrgs(ctx context.Context, src orgSource, pg *postgres.DB, copied map[string]orgCopy) (int, error) {
	orgs, err := src.Orgs(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, o := range orgs {
		s, err := src.OrgSettings(ctx, o.ID)
		if err != nil {
			return n, fmt.Errorf("organization %s: %w", o.ID, err)
		}
		c := orgCopy{org: o, settings: *s}
		if prev, ok := copied[o.ID]; ok && prev == c {
			continue
		}
		if err := pg.AdoptOrg(ctx, o, *s); err != nil {
			return n, fmt.Errorf("organization %s: %w", o.ID, err)
		}
		if copied != nil {
			copied[o.ID] = c
		}
		n++
	}
	return n, nil
}
