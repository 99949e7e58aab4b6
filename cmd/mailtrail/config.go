package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/geo"
	"github.com/mailtrail/mailtrail/internal/secrets"
	"github.com/mailtrail/mailtrail/internal/store/clickhouse"
	"github.com/mailtrail/mailtrail/internal/store/eventlog"
	"github.com/mailtrail/mailtrail/internal/token"
)

// Config is every setting of the binary. Flags win over MAILTRAIL_* environment variables,
// which win over the defaults.
type Config struct {
	Addr              string
	DataDir           string
	PublicURL         string
	AdminToken        string
	SecretKey         string
	SecretKeyID       int
	OldSecretKeys     string
	ClientIPHeader    string
	TrustedProxies    string
	TrackingWait      time.Duration
	TrackingBudget    int
	HookSlots         int
	RetentionInterval time.Duration
	UnsubscribeMailto string
	Synchronous       string
	LogLevel          string
	LogFormat         string
	MaxBatch          int
	MaxQueue          int
	QueueWait         time.Duration
	CommitWait        time.Duration // a queued ingest request waits this long for its commit, then 503
	ShutdownTimeout   time.Duration
	DebugAddr         string
	MetricsAddr       string // a separate listener for /metrics; "" = on the main listener
	AccessLog         bool   // one log line per request (route pattern, status, truncated client)
	EventLog          bool   // acknowledge writes on the event log; the store is its projection (docs/eventlog.md)
	// Cluster makes serve an API node of the cluster mode: events acknowledged on the log
	// of EventLogURL, everything else read and written in the workers' PostgreSQL, no
	// store of its own (docs/cluster.md, "API nodes").
	Cluster  bool
	ReadWait time.Duration // how long a read waits for the projection to reach its position, then 503
	// SegmentSnapshotInterval is how often serve writes the segment index's snapshot
	// while it runs (0: only at a clean stop).
	SegmentSnapshotInterval time.Duration
	EventLogRetention       time.Duration // how long the log keeps applied events
	EventLogMaxPending      int           // keys the sink's dedupe index holds at most (eventlog.SinkOptions.MaxPending)
	// ProjectorNice is how much lower than the acknowledgements' the projector's CPU
	// priority is (a nice increment of its thread; 0: the same).
	ProjectorNice int
	// EventLogURL, when set, is an external JetStream cluster (comma-separated nats://
	// URLs) that holds the event log instead of the embedded server; it implies EventLog.
	EventLogURL      string
	EventLogStream   string // the stream's name on that cluster (its subjects are its name in lower case)
	EventLogReplicas int    // the stream's replicas on that cluster
	// EventLogPartitions is the number of partitions of the stream on that cluster: each
	// event goes to its message's, and each is applied by one worker at a time.
	EventLogPartitions int
	// The cluster mode's engines (docs/cluster.md): NATSCreds is a .creds file for the
	// JetStream of EventLogURL (the log's connection and `cluster check`), PostgresDSN and
	// ClickHouseURL the PostgreSQL and ClickHouse (HTTP interface) it will use.
	NATSCreds string
	// NATSCA, NATSCert and NATSKey are PEM files of a TLS connection to those servers:
	// the authorities to trust, a client certificate and its key.
	NATSCA, NATSCert, NATSKey string
	PostgresDSN               string
	ClickHouseURL             string
	// PostgresSchema is the PostgreSQL schema of the cluster mode's tables ("" the
	// connection's search_path); ClickHouseDB the ClickHouse database of raw events.
	PostgresSchema string
	ClickHouseDB   string
	ClickHouseCA   string // PEM bundle of the authorities of an https ClickHouse
	// ClickHouseReplicated makes the worker create Replicated tables (clickhouse.WithReplicated).
	ClickHouseReplicated bool
	GeoIPDB              string // path of a MaxMind-format .mmdb; "" = no geography (open it with geoDB)
	// Outbound webhook subscriptions (internal/outbound).
	WebhooksAllowPrivate bool          // http and private/loopback/link-local receivers allowed
	WebhooksRetryFor     time.Duration // a subscription failing this long is disabled; 0 = 24h
	// Bounce mailboxes (internal/mailbox).
	IMAPAllowPrivate  bool // mailboxes on private, loopback or link-local addresses allowed
	IMAPAllowInsecure bool // imap:// without STARTTLS may log in in clear text

	envErrs []error // MAILTRAIL_* values bind could not parse; validate reports them
}

// envValueError says that the variable env holds a value that is not want. The value is
// quoted unless the variable holds a secret.
func envValueError(env, value, want string) error {
	switch {
	case secretLike(env):
		return fmt.Errorf("%s: the value is not %s", env, want)
	case value == "":
		return fmt.Errorf("%s: \"\" is not %s (unset the variable to use the default)", env, want)
	}
	return fmt.Errorf("%s: %q is not %s", env, value, want)
}

// secretLike reports whether the variable env holds a secret, which errors must not echo.
// An id of a secret (MAILTRAIL_SECRET_KEY_ID) is not one: it is inside every tracking link.
func secretLike(env string) bool {
	if strings.HasSuffix(env, "_ID") {
		return false
	}
	for _, w := range []string{"SECRET", "TOKEN", "PASSWORD", "DSN"} {
		if strings.Contains(env, w) {
			return true
		}
	}
	return false
}

// bind registers the flags of c on fs, with defaults taken from the environment. A
// MAILTRAIL_* variable whose value does not parse as its flag's type is recorded, and
// validate reports it: the start stops instead of running on the default.
func (c *Config) bind(fs *flag.FlagSet) {
	c.envErrs = nil
	str := func(p *string, name, env, def, usage string) {
		if v, ok := os.LookupEnv(env); ok {
			def = v
		}
		fs.StringVar(p, name, def, usage+" (env "+env+")")
	}
	// fromEnv sets the flag name from the variable env, if set; want is the expected form.
	fromEnv := func(name, env, want string) {
		if v, ok := os.LookupEnv(env); ok {
			if err := fs.Set(name, v); err != nil {
				c.envErrs = append(c.envErrs, envValueError(env, v, want))
			}
		}
	}
	integer := func(p *int, name, env string, def int, usage string) {
		fs.IntVar(p, name, def, usage+" (env "+env+")")
		fromEnv(name, env, fmt.Sprintf("a whole number, e.g. %d", def))
	}
	dur := func(p *time.Duration, name, env string, def time.Duration, usage string) {
		fs.DurationVar(p, name, def, usage+" (env "+env+")")
		fromEnv(name, env, "a duration: a number with a unit (ms, s, m, h), e.g. "+def.String())
	}
	boolean := func(p *bool, name, env string, def bool, usage string) {
		fs.BoolVar(p, name, def, usage+" (env "+env+")")
		fromEnv(name, env, "true or false")
	}
	str(&c.Addr, "addr", "MAILTRAIL_ADDR", "127.0.0.1:8080", "listen address")
	str(&c.DataDir, "data-dir", "MAILTRAIL_DATA_DIR", "./mailtrail-data", "directory of the embedded store")
	str(&c.PublicURL, "public-url", "MAILTRAIL_PUBLIC_URL", "", "base URL of tracking links and webhook URLs, as recipients reach it (default http://ADDR)")
	str(&c.AdminToken, "admin-token", "MAILTRAIL_ADMIN_TOKEN", "", "bearer token of the admin API (empty: admin API off)")
	str(&c.SecretKey, "secret-key", "MAILTRAIL_SECRET_KEY", "", "secret (≥32 characters) that signs tracking ids; generated into DATA_DIR/secret.key when empty")
	integer(&c.SecretKeyID, "secret-key-id", "MAILTRAIL_SECRET_KEY_ID", 1, "key id (0-15) of the signing secret, for rotation")
	str(&c.OldSecretKeys, "old-secret-keys", "MAILTRAIL_OLD_SECRET_KEYS", "", "retired secrets that still verify, as ID:SECRET,ID:SECRET")
	str(&c.ClientIPHeader, "client-ip-header", "MAILTRAIL_CLIENT_IP_HEADER", "", "header with the client address set by a trusted proxy, e.g. X-Forwarded-For")
	str(&c.TrustedProxies, "trusted-proxies", "MAILTRAIL_TRUSTED_PROXIES", "127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7", "proxies whose client-ip-header is believed (CIDRs)")
	dur(&c.TrackingWait, "tracking-wait", "MAILTRAIL_TRACKING_WAIT", time.Second, "how long the pixel and click redirect wait for their event to commit")
	dur(&c.RetentionInterval, "retention-interval", "MAILTRAIL_RETENTION_INTERVAL", time.Hour, "how often raw events past their organization's retention_days are deleted")
	str(&c.UnsubscribeMailto, "unsubscribe-mailto", "MAILTRAIL_UNSUBSCRIBE_MAILTO", "", "address added as a mailto: to List-Unsubscribe (optional)")
	str(&c.Synchronous, "synchronous", "MAILTRAIL_SYNCHRONOUS", "FULL", "SQLite synchronous level: FULL (survives power loss) or NORMAL (survives process crashes)")
	str(&c.LogLevel, "log-level", "MAILTRAIL_LOG_LEVEL", "info", "debug, info, warn or error")
	str(&c.LogFormat, "log-format", "MAILTRAIL_LOG_FORMAT", "json", "json or text")
	integer(&c.TrackingBudget, "tracking-budget", "MAILTRAIL_TRACKING_BUDGET", 20, "opens of one message (or clicks of one link) stored per hour; more are answered and only counted (0: no limit)")
	integer(&c.HookSlots, "webhook-concurrency", "MAILTRAIL_WEBHOOK_CONCURRENCY", 16, "webhook requests of one connection in progress at once; more get 503 with Retry-After (0: no limit)")
	integer(&c.MaxBatch, "max-batch", "MAILTRAIL_MAX_BATCH", 5000, "events per store transaction")
	integer(&c.MaxQueue, "max-queue", "MAILTRAIL_MAX_QUEUE", 50000, "events waiting for the store at most; beyond, requests wait then get 503")
	dur(&c.QueueWait, "queue-wait", "MAILTRAIL_QUEUE_WAIT", 2*time.Second, "how long a request waits for room in a full queue before 503")
	str(&c.DebugAddr, "debug-addr", "MAILTRAIL_DEBUG_ADDR", "", "address of a separate listener serving /debug/pprof (empty: off; keep it on loopback)")
	str(&c.MetricsAddr, "metrics-addr", "MAILTRAIL_METRICS_ADDR", "", "address of a separate listener serving /metrics, which the main listener then no longer serves (empty: /metrics on --addr)")
	boolean(&c.AccessLog, "access-log", "MAILTRAIL_ACCESS_LOG", false, "log one line per request: method, route pattern (never the path), status, bytes, duration, client address truncated to /24 or /48")
	str(&c.GeoIPDB, "geoip-db", "MAILTRAIL_GEOIP_DB", "", "MaxMind GeoLite2/GeoIP2 City or Country database (.mmdb) giving the country and city of opens and clicks (empty: none)")
	dur(&c.CommitWait, "commit-wait", "MAILTRAIL_COMMIT_WAIT", 5*time.Second, "how long a queued request waits for its commit before 503 (events not yet taken by the committer are withdrawn)")
	boolean(&c.EventLog, "event-log", "MAILTRAIL_EVENT_LOG", false, "acknowledge events once they are in the durable event log (<data-dir>/eventlog, an embedded NATS JetStream) and apply them to the store behind the acknowledgement (docs/eventlog.md)")
	boolean(&c.Cluster, "cluster", "MAILTRAIL_CLUSTER", false, "run as an API node of the cluster mode: acknowledge events on the event log of --event-log-url, read and write everything else in the PostgreSQL of --postgres-dsn that mailtrail worker projects the log into; the data directory holds only its ownership. Any number of API nodes run behind a load balancer (docs/cluster.md, \"API nodes\")")
	str(&c.EventLogURL, "event-log-url", "MAILTRAIL_EVENT_LOG_URL", "", "keep the event log on an external JetStream cluster instead of the embedded server: its servers' nats:// URLs, comma-separated (user:password@ in them when it asks for credentials); implies --event-log (docs/eventlog.md, \"On an external JetStream\")")
	str(&c.EventLogStream, "event-log-stream", "MAILTRAIL_EVENT_LOG_STREAM", "EVENTS", "with --event-log-url: the stream's name on the cluster, one per data directory (letters, digits, - and _)")
	integer(&c.EventLogReplicas, "event-log-replicas", "MAILTRAIL_EVENT_LOG_REPLICAS", 3, "with --event-log-url: the stream's replicas (1–5; an acknowledgement waits for a majority of them to have synced the write)")
	integer(&c.EventLogPartitions, "event-log-partitions", "MAILTRAIL_EVENT_LOG_PARTITIONS", 1, "with --event-log-url: the stream's partitions (1–64), fixed when it is created; each event goes to its message's, and the workers apply the partitions at once (docs/cluster.md)")
	str(&c.NATSCreds, "nats-creds", "MAILTRAIL_NATS_CREDS", "", "a NATS .creds file (user JWT and NKey seed) the event log and mailtrail cluster check authenticate to the servers of --event-log-url with (docs/cluster.md)")
	str(&c.NATSCA, "nats-ca", "MAILTRAIL_NATS_CA", "", "PEM bundle of the authorities that sign the NATS servers' TLS certificates (tls:// URLs or servers that require TLS; empty: the system's)")
	str(&c.NATSCert, "nats-cert", "MAILTRAIL_NATS_CERT", "", "a client certificate (PEM) for NATS servers that verify their clients (mutual TLS); with --nats-key")
	str(&c.NATSKey, "nats-key", "MAILTRAIL_NATS_KEY", "", "the private key (PEM) of --nats-cert")
	str(&c.PostgresDSN, "postgres-dsn", "MAILTRAIL_POSTGRES_DSN", "", "the cluster mode's PostgreSQL: postgres://USER:PASSWORD@HOST:5432/DB?sslmode=… or key=value pairs; checked by mailtrail cluster check; mailtrail worker projects the event log into it (docs/cluster.md)")
	str(&c.ClickHouseURL, "clickhouse-url", "MAILTRAIL_CLICKHOUSE_URL", "", "the cluster mode's ClickHouse, its HTTP interface: http(s)://[USER:PASSWORD@]HOST:8123; checked by mailtrail cluster check; mailtrail worker ships raw events to it when set (docs/cluster.md)")
	str(&c.PostgresSchema, "postgres-schema", "MAILTRAIL_POSTGRES_SCHEMA", "", "the PostgreSQL schema of mailtrail's tables, created if missing (lower-case letters, digits and _; empty: the connection's search_path, public by default)")
	str(&c.ClickHouseCA, "clickhouse-ca", "MAILTRAIL_CLICKHOUSE_CA", "", "PEM bundle of the authorities that sign an https --clickhouse-url's certificate (empty: the system's)")
	str(&c.ClickHouseDB, "clickhouse-database", "MAILTRAIL_CLICKHOUSE_DATABASE", "mailtrail", "the ClickHouse database of raw events, created if missing (letters, digits and _)")
	boolean(&c.ClickHouseReplicated, "clickhouse-replicated", "MAILTRAIL_CLICKHOUSE_REPLICATED", false, "create ClickHouse's tables of raw events and positions as Replicated tables (the server needs ZooKeeper and a {replica} macro): every replica of the database holds them, and a block copied again is dropped by the server (docs/cluster.md); set it before the tables exist")
	integer(&c.EventLogMaxPending, "event-log-max-pending", "MAILTRAIL_EVENT_LOG_MAX_PENDING", eventlog.DefaultMaxPending, "with --event-log: dedupe and idempotency keys acknowledged but not applied to the store at most (about 110 bytes each); beyond, events with keys get 503 until the store catches up")
	integer(&c.ProjectorNice, "projector-nice", "MAILTRAIL_PROJECTOR_NICE", 10, "with --event-log: how much lower the projector's CPU priority is than the acknowledgements' (a nice increment of its thread, up to 19, Linux only; 0: the same): on a busy machine acknowledgements get the cores first and the projector applies behind them with what is left (docs/architecture.md)")
	dur(&c.EventLogRetention, "event-log-retention", "MAILTRAIL_EVENT_LOG_RETENTION", 24*time.Hour, "with --event-log: how long the log keeps events after the store applied them (at most 7 days, the shortest retention of raw events an organization may set)")
	dur(&c.ReadWait, "read-wait", "MAILTRAIL_READ_WAIT", 2*time.Second, "with --event-log: how long a read that must see earlier writes waits for the store to apply them before 503")
	dur(&c.SegmentSnapshotInterval, "segment-snapshot-interval", "MAILTRAIL_SEGMENT_SNAPSHOT_INTERVAL", 10*time.Minute, "how often the segment index is written to <data-dir>/segments.snapshot while serve runs: a start, after a crash too, loads it and reads only the events since (0: only at a clean stop)")
	dur(&c.ShutdownTimeout, "shutdown-timeout", "MAILTRAIL_SHUTDOWN_TIMEOUT", 20*time.Second, "deadline to drain requests and the ingest queue on shutdown")
	boolean(&c.WebhooksAllowPrivate, "webhooks-allow-private", "MAILTRAIL_WEBHOOKS_ALLOW_PRIVATE", false, "let outbound webhook subscriptions use http and private, loopback or link-local addresses (local receivers only)")
	boolean(&c.IMAPAllowPrivate, "imap-allow-private", "MAILTRAIL_IMAP_ALLOW_PRIVATE", false, "let bounce mailboxes (imap_url) be on private, loopback or link-local addresses (a mail server on the local network)")
	boolean(&c.IMAPAllowInsecure, "imap-allow-insecure", "MAILTRAIL_IMAP_ALLOW_INSECURE", false, "let imap:// bounce mailboxes whose server has no STARTTLS log in in clear text")
	dur(&c.WebhooksRetryFor, "webhooks-retry-for", "MAILTRAIL_WEBHOOKS_RETRY_FOR", 24*time.Hour, "how long an outbound webhook subscription is retried while failing before it is disabled")
}

// validate checks every setting and fills derived defaults; its errors say what to fix.
func (c *Config) validate() error {
	errs := append([]error(nil), c.envErrs...)
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("--addr / MAILTRAIL_ADDR %q is not host:port", c.Addr))
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			errs = append(errs, fmt.Errorf("--metrics-addr / MAILTRAIL_METRICS_ADDR %q is not host:port", c.MetricsAddr))
		}
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("--data-dir / MAILTRAIL_DATA_DIR is empty"))
	}
	if c.PublicURL == "" {
		host, port, _ := net.SplitHostPort(c.Addr)
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "localhost"
		}
		c.PublicURL = "http://" + net.JoinHostPort(host, port)
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		errs = append(errs, fmt.Errorf("--public-url / MAILTRAIL_PUBLIC_URL %q must be an http(s) URL such as https://track.example.com", c.PublicURL))
	}
	if c.AdminToken != "" && len(c.AdminToken) < 16 {
		errs = append(errs, errors.New("--admin-token / MAILTRAIL_ADMIN_TOKEN must be at least 16 characters"))
	}
	if c.SecretKey != "" && len(c.SecretKey) < 32 {
		errs = append(errs, errors.New("--secret-key / MAILTRAIL_SECRET_KEY must be at least 32 characters"))
	}
	if c.SecretKeyID < 0 || c.SecretKeyID > token.MaxKeyID {
		errs = append(errs, fmt.Errorf("--secret-key-id / MAILTRAIL_SECRET_KEY_ID must be 0 to %d", token.MaxKeyID))
	}
	if _, err := c.oldKeys(); err != nil {
		errs = append(errs, err)
	}
	if _, err := c.proxies(); err != nil {
		errs = append(errs, err)
	}
	if c.Synchronous = strings.ToUpper(c.Synchronous); c.Synchronous != "FULL" && c.Synchronous != "NORMAL" {
		errs = append(errs, errors.New("--synchronous / MAILTRAIL_SYNCHRONOUS must be FULL or NORMAL"))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, errors.New("--log-level / MAILTRAIL_LOG_LEVEL must be debug, info, warn or error"))
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		errs = append(errs, errors.New("--log-format / MAILTRAIL_LOG_FORMAT must be json or text"))
	}
	if c.RetentionInterval <= 0 {
		errs = append(errs, errors.New("--retention-interval / MAILTRAIL_RETENTION_INTERVAL must be positive, e.g. 1h"))
	}
	if c.HookSlots < 0 {
		errs = append(errs, errors.New("--webhook-concurrency / MAILTRAIL_WEBHOOK_CONCURRENCY must be 0 (no limit) or more"))
	}
	if c.TrackingBudget < 0 {
		errs = append(errs, errors.New("--tracking-budget / MAILTRAIL_TRACKING_BUDGET must be 0 (no limit) or more"))
	}
	if c.MaxBatch < 1 || c.MaxQueue < c.MaxBatch {
		errs = append(errs, errors.New("--max-batch must be ≥ 1 and --max-queue ≥ --max-batch"))
	}
	if c.WebhooksRetryFor < 0 {
		errs = append(errs, errors.New("--webhooks-retry-for / MAILTRAIL_WEBHOOKS_RETRY_FOR must be positive, e.g. 24h"))
	}
	if c.ProjectorNice < 0 || c.ProjectorNice > 19 {
		errs = append(errs, errors.New("--projector-nice / MAILTRAIL_PROJECTOR_NICE must be 0 to 19"))
	}
	if c.EventLogMaxPending < 0 || (c.EventLogMaxPending > 0 && c.EventLogMaxPending < 1000) {
		errs = append(errs, fmt.Errorf("--event-log-max-pending / MAILTRAIL_EVENT_LOG_MAX_PENDING must be at least 1000 (0: the default, %d)", eventlog.DefaultMaxPending))
	}
	if c.EventLogRetention < 0 || c.EventLogRetention > mailtrail.MinRetentionDays*24*time.Hour {
		errs = append(errs, fmt.Errorf("--event-log-retention / MAILTRAIL_EVENT_LOG_RETENTION must be between 0 (the default, 24h) and %dd, the shortest raw-event retention an organization may set", mailtrail.MinRetentionDays))
	}
	if c.TrackingWait <= 0 || c.QueueWait <= 0 || c.ShutdownTimeout <= 0 || c.ReadWait < 0 {
		errs = append(errs, errors.New("--tracking-wait, --queue-wait, --shutdown-timeout and --read-wait must be positive"))
	}
	if c.EventLogURL != "" {
		c.EventLog = true
		for _, u := range strings.Split(c.EventLogURL, ",") {
			if pu, err := url.Parse(strings.TrimSpace(u)); err != nil || (pu.Scheme != "nats" && pu.Scheme != "tls") || pu.Host == "" {
				errs = append(errs, errors.New("--event-log-url / MAILTRAIL_EVENT_LOG_URL must be nats:// (or tls://) URLs, comma-separated, e.g. nats://10.0.0.1:4222,nats://10.0.0.2:4222"))
				break
			}
		}
	}
	if c.EventLogStream == "" {
		c.EventLogStream = "EVENTS"
	}
	if c.EventLogReplicas == 0 {
		c.EventLogReplicas = 3
	}
	if !validStreamName(c.EventLogStream) {
		errs = append(errs, errors.New("--event-log-stream / MAILTRAIL_EVENT_LOG_STREAM must be 1–64 letters, digits, - or _"))
	}
	if c.EventLogReplicas < 1 || c.EventLogReplicas > 5 {
		errs = append(errs, errors.New("--event-log-replicas / MAILTRAIL_EVENT_LOG_REPLICAS must be between 1 and 5"))
	}
	if c.EventLogPartitions == 0 {
		c.EventLogPartitions = 1
	}
	if c.EventLogPartitions < 1 || c.EventLogPartitions > 64 {
		errs = append(errs, errors.New("--event-log-partitions / MAILTRAIL_EVENT_LOG_PARTITIONS must be between 1 and 64"))
	}
	if c.Cluster && (c.EventLogURL == "" || c.PostgresDSN == "") {
		errs = append(errs, errors.New("--cluster needs --event-log-url (the cluster's JetStream) and --postgres-dsn (the workers' PostgreSQL)"))
	}
	if c.Cluster && c.SecretKey == "" {
		errs = append(errs, errors.New("--cluster needs --secret-key / MAILTRAIL_SECRET_KEY, the same on every API node: a tracking link signed by one node is verified by whichever node it reaches, and secrets sealed by one are opened by all"))
	}
	errs = append(errs, c.validateCluster()...)
	if c.SegmentSnapshotInterval < 0 {
		errs = append(errs, errors.New("--segment-snapshot-interval must be 0 (only at a clean stop) or positive"))
	}
	// Opened once here so that a bad file stops every command at its start; the wiring
	// opens it again with geoDB (a memory map: cheap).
	if db, err := c.geoDB(); err != nil {
		errs = append(errs, err)
	} else if db != nil {
		db.Close()
	}
	return errors.Join(errs...)
}

// natsTLS returns the TLS files of the connections to the NATS servers.
func (c *Config) natsTLS() eventlog.TLSFiles {
	return eventlog.TLSFiles{CA: c.NATSCA, Cert: c.NATSCert, Key: c.NATSKey}
}

// clickhouseOptions returns the options of the connections to ClickHouse.
func (c *Config) clickhouseOptions() []clickhouse.Option {
	var opts []clickhouse.Option
	if c.ClickHouseCA != "" {
		opts = append(opts, clickhouse.WithCA(c.ClickHouseCA))
	}
	if c.ClickHouseReplicated {
		opts = append(opts, clickhouse.WithReplicated())
	}
	return opts
}

// validateCluster checks the settings of the cluster mode's engines. Its errors never
// echo a DSN or a URL: they may hold a password.
func (c *Config) validateCluster() []error {
	var errs []error
	for _, f := range []struct{ path, setting string }{
		{c.NATSCreds, "--nats-creds / MAILTRAIL_NATS_CREDS"}, {c.NATSCA, "--nats-ca / MAILTRAIL_NATS_CA"},
		{c.NATSCert, "--nats-cert / MAILTRAIL_NATS_CERT"}, {c.NATSKey, "--nats-key / MAILTRAIL_NATS_KEY"},
	} {
		if f.path == "" {
			continue
		}
		if fh, err := os.Open(f.path); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.setting, err))
		} else {
			fh.Close()
		}
	}
	if c.ClickHouseCA != "" {
		if _, err := clickhouse.TLSConfig(c.ClickHouseCA); err != nil {
			errs = append(errs, fmt.Errorf("--clickhouse-ca / MAILTRAIL_CLICKHOUSE_CA: %w", err))
		}
	}
	if (c.NATSCert == "") != (c.NATSKey == "") {
		errs = append(errs, errors.New("--nats-cert and --nats-key go together: a client certificate and its private key"))
	}
	if c.PostgresDSN != "" {
		if _, err := pgx.ParseConfig(c.PostgresDSN); err != nil {
			errs = append(errs, errors.New("--postgres-dsn / MAILTRAIL_POSTGRES_DSN is not a PostgreSQL connection string: postgres://USER:PASSWORD@HOST:5432/DB?sslmode=require, or key=value pairs (host=… user=… dbname=…)"))
		}
	}
	if c.ClickHouseURL != "" {
		if u, err := url.Parse(c.ClickHouseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, errors.New("--clickhouse-url / MAILTRAIL_CLICKHOUSE_URL must be the http(s) URL of ClickHouse's HTTP interface, e.g. http://10.0.0.5:8123"))
		}
	}
	return errs
}

// geoDB opens the --geoip-db database. It returns nil and no error when none is set, and
// an error naming the flag, the path and what to fix when the file cannot be used.
func (c *Config) geoDB() (*geo.DB, error) {
	if c.GeoIPDB == "" {
		return nil, nil
	}
	db, err := geo.Open(c.GeoIPDB)
	if err != nil {
		return nil, fmt.Errorf("--geoip-db / MAILTRAIL_GEOIP_DB: %w (set it to a GeoLite2-City .mmdb file, or leave it empty for no country and city)", err)
	}
	return db, nil
}

// oldSecret is a retired service secret of --old-secret-keys, with its key id.
type oldSecret struct {
	id     uint8
	secret []byte
}

// oldSecrets parses --old-secret-keys; an error names the flag.
func (c *Config) oldSecrets() ([]oldSecret, error) {
	var out []oldSecret
	for _, part := range strings.Split(c.OldSecretKeys, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		id, secret, ok := strings.Cut(strings.TrimSpace(part), ":")
		n, err := strconv.Atoi(id)
		if !ok || err != nil || n < 0 || n > token.MaxKeyID || len(secret) < 32 {
			return nil, errors.New("--old-secret-keys / MAILTRAIL_OLD_SECRET_KEYS must be ID:SECRET pairs (id 0-15, secret ≥32 characters), comma-separated")
		}
		out = append(out, oldSecret{id: uint8(n), secret: []byte(secret)})
	}
	return out, nil
}

// oldKeys are the token keys of the retired secrets: they still verify tracking ids.
func (c *Config) oldKeys() ([]token.Key, error) {
	old, err := c.oldSecrets()
	if err != nil {
		return nil, err
	}
	keys := make([]token.Key, len(old))
	for i, o := range old {
		keys[i] = token.KeyFromSecret(o.id, o.secret)
	}
	return keys, nil
}

// keyring returns the sealing keys of the service secret (secret, from c.secret) and of
// the retired secrets: values sealed at rest under a retired secret still open.
func (c *Config) keyring(secret []byte) (secrets.Keyring, error) {
	old, err := c.oldSecrets()
	if err != nil {
		return secrets.Keyring{}, err
	}
	olds := make([][]byte, len(old))
	for i, o := range old {
		olds[i] = o.secret
	}
	return secrets.NewKeyring(secret, olds...), nil
}

func (c *Config) proxies() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, p := range strings.Split(c.TrustedProxies, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		pfx, err := netip.ParsePrefix(p)
		if err != nil {
			return nil, fmt.Errorf("--trusted-proxies / MAILTRAIL_TRUSTED_PROXIES: %q is not a CIDR", p)
		}
		out = append(out, pfx)
	}
	return out, nil
}

// secret returns the configured secret, or the one in DATA_DIR/secret.key, creating it
// (mode 0600) on first start.
func (c *Config) secret() ([]byte, error) {
	if c.SecretKey != "" {
		return []byte(c.SecretKey), nil
	}
	path := filepath.Join(c.DataDir, "secret.key")
	b, err := os.ReadFile(path)
	if err == nil {
		s := strings.TrimSpace(string(b))
		if len(s) < 32 {
			return nil, fmt.Errorf("%s holds fewer than 32 characters: delete it to generate a new one (links already sent stop working) or set MAILTRAIL_SECRET_KEY", path)
		}
		return []byte(s), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	s := hex.EncodeToString(raw)
	if err := writeFileAtomic(path, []byte(s+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return []byte(s), nil
}

// writeFileAtomic writes data to a temporary file, syncs it and renames it over path, so
// a crash leaves either no file or the whole file.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// validStreamName reports whether name can name a JetStream stream (and, in lower case,
// its subjects): 1–64 letters, digits, - and _.
func validStreamName(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
