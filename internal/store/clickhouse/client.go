// Package clickhouse keeps the event log's raw events in ClickHouse, exactly once by
// construction: a Shipper reads the log in order from the position ClickHouse holds,
// uploads blocks of events to a staging table, checks that each staged block is
// complete, copies it server-side into a ReplacingMergeTree keyed on the event id, then
// records the block's last position. Reads count distinct event ids, so a block copied
// twice (a crash between the copy and the position) never counts twice.
//
// It speaks ClickHouse's HTTP interface with net/http alone (the Go driver fails against
// Debian's 18.16), and its SQL runs on 18.16 and on current releases. docs/cluster.md,
// "Raw events in ClickHouse", has the protocol and why it is exact.
package clickhouse

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// DefaultDatabase is the database Open uses when none is given.
const DefaultDatabase = "mailtrail"

// DB is a ClickHouse server's HTTP interface and the database holding mailtrail's
// tables. It is safe for concurrent use.
type DB struct {
	base     url.URL // scheme, host and path; no user, no query
	user     string
	password string
	hasUser  bool
	database string
	hc       *http.Client
	// replicated: the tables of events and positions are Replicated (WithReplicated).
	replicated bool
}

// Open returns the DB of the ClickHouse HTTP interface at rawURL (http(s)://HOST:8123; a
// USER:PASSWORD@ in it is sent as basic authentication) and creates database and its
// tables when they are missing (Schema). It fails when the URL is not one, or when the
// schema cannot be created; no error contains the password.
func Open(ctx context.Context, rawURL, database string, opts ...Option) (*DB, error) {
	db, err := New(rawURL, database, opts...)
	if err != nil {
		return nil, err
	}
	if err := db.Schema(ctx); err != nil {
		return nil, err
	}
	return db, nil
}

// Option configures a DB.
type Option func(*DB, *http.Transport) error

// WithReplicated makes Schema create the events and the shipped positions as Replicated
// tables (ReplicatedReplacingMergeTree, under /clickhouse/mailtrail/DATABASE/TABLE in the
// server's ZooKeeper, the replica named by its {replica} macro): every server of the
// database's replicas holds them, and a block copied again is dropped by the server's
// insert dedupe, a second guard beside the distinct counts. The staging table stays each
// server's own.
func WithReplicated() Option {
	return func(db *DB, _ *http.Transport) error {
		db.replicated = true
		return nil
	}
}

// WithCA makes the DB trust only the certificate authorities of the PEM bundle in file
// for an https:// URL (a server whose certificate a private authority signed).
func WithCA(file string) Option {
	return func(_ *DB, tr *http.Transport) error {
		tc, err := TLSConfig(file)
		if err != nil {
			return err
		}
		tr.TLSClientConfig = tc
		return nil
	}
}

// TLSConfig returns the client TLS configuration that trusts only the certificate
// authorities of the PEM bundle in file; an error when the file cannot be read or holds
// none.
func TLSConfig(file string) (*tls.Config, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("clickhouse: CA file %s holds no PEM certificate", file)
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// New returns the DB of rawURL and database (DefaultDatabase when empty) without
// touching the server. It fails when rawURL is not an http(s) URL or database is not
// a plain name, or when an option fails.
func New(rawURL, database string, opts ...Option) (*DB, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("clickhouse: not an http(s) URL of ClickHouse's HTTP interface, e.g. http://127.0.0.1:8123")
	}
	if database == "" {
		database = DefaultDatabase
	}
	if !plainName(database) {
		return nil, fmt.Errorf("clickhouse: database name %q: letters, digits and _ only", database)
	}
	// ClickHouse closes a kept-alive connection after keep_alive_timeout (3 s by
	// default): the client drops its idle ones before that, so that a request seldom
	// meets a connection the server is closing.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.IdleConnTimeout = 2 * time.Second
	db := &DB{database: database, hc: &http.Client{Timeout: 5 * time.Minute, Transport: tr}}
	for _, o := range opts {
		if err := o(db, tr); err != nil {
			return nil, err
		}
	}
	if u.User != nil {
		db.hasUser = true
		db.user = u.User.Username()
		db.password, _ = u.User.Password()
	}
	db.base = *u
	db.base.User = nil
	db.base.RawQuery = ""
	db.base.Fragment = ""
	db.base.Path = strings.TrimRight(db.base.Path, "/") + "/"
	return db, nil
}

// Database returns the name of the database holding the tables.
func (db *DB) Database() string { return db.database }

// plainName reports whether s is a name that needs no quoting in SQL.
func plainName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// do sends one statement: query travels in the URL (so a cut request is no statement at
// all), body, when not nil, is the statement's data. It returns the answer's body, or an
// error with the server's message.
func (db *DB) do(ctx context.Context, query string, body io.Reader) (string, error) {
	resp, err := db.send(ctx, query, body)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return "", fmt.Errorf("clickhouse: %s: read the answer: %w", verb(query), err)
	}
	return string(b), nil
}

// Select runs query, a read starting with "SELECT ", and copies the server's answer to w
// as it arrives, without the size limit of the package's other reads: for answers of
// millions of rows (benchmarks, exports). It returns the bytes copied, and an error with
// the server's message when the server refuses the query, or the copy's error. An error
// the server meets after it has started to answer arrives inside the copied bytes (the
// HTTP status is sent by then): callers check what they read, e.g. its row count.
func (db *DB) Select(ctx context.Context, query string, w io.Writer) (int64, error) {
	if !strings.HasPrefix(query, "SELECT ") {
		return 0, errors.New("clickhouse: Select runs reads only (SELECT …)")
	}
	resp, err := db.send(ctx, query, nil)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return n, fmt.Errorf("clickhouse: %s: read the answer: %w", verb(query), err)
	}
	return n, nil
}

// send sends one statement as do describes and returns the server's answer when its
// status is 200 OK, for the caller to read and close; otherwise an error with the
// server's message.
func (db *DB) send(ctx context.Context, query string, body io.Reader) (*http.Response, error) {
	u := db.base
	u.RawQuery = url.Values{"query": {query}}.Encode()
	method := http.MethodPost
	if body == nil {
		body = http.NoBody
		if strings.HasPrefix(query, "SELECT ") {
			// A read goes as GET: ClickHouse runs it read-only, and net/http sends it again
			// on a fresh connection when a kept-alive one turns out closed.
			method = http.MethodGet
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: %w", err)
	}
	if db.hasUser {
		req.SetBasicAuth(db.user, db.password)
	}
	if body == http.NoBody {
		// Every statement without data may run twice (the shipper's protocol is exact
		// under any repeat): net/http may then send it again on a fresh connection when
		// a kept-alive one turns out closed by the server, as it does for a GET. The key
		// only marks the request; a nil value sends no header.
		req.Header["Idempotency-Key"] = nil
	}
	resp, err := db.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL says nothing the caller does not know, and is long
		}
		return nil, fmt.Errorf("clickhouse: %s: %w", verb(query), err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
		if err != nil {
			return nil, fmt.Errorf("clickhouse: %s: %d, read the answer: %w", verb(query), resp.StatusCode, err)
		}
		msg := strings.TrimSpace(string(b))
		if len(msg) > 300 {
			msg = msg[:300] + "…"
		}
		if db.password != "" {
			msg = strings.ReplaceAll(msg, db.password, "xxxxx")
		}
		return nil, fmt.Errorf("clickhouse: %s: %d %s", verb(query), resp.StatusCode, msg)
	}
	return resp, nil
}

// exec runs a statement that answers nothing.
func (db *DB) exec(ctx context.Context, query string) error {
	_, err := db.do(ctx, query, nil)
	return err
}

// verb names a statement in errors: its first words, never its literals.
func verb(query string) string {
	f := strings.Fields(query)
	if len(f) > 3 {
		f = f[:3]
	}
	return strings.Join(f, " ")
}

// Quote returns s as a ClickHouse string literal (backslash and quote escaped, NUL as
// \0): for SQL built by callers such as the benchmarks.
func Quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', '\'':
			b.WriteByte('\\')
			b.WriteByte(c)
		case 0:
			b.WriteString(`\0`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// table returns the qualified name of one of the database's tables.
func (db *DB) table(name string) string { return db.database + "." + name }
