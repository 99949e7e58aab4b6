package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// chVersion is what SELECT version() answers: 18.16.1, 24.8.4.13, …
var chVersion = regexp.MustCompile(`^[0-9]+\.[0-9]+(\.[0-9]+)*$`)

// checkClickHouse checks ClickHouse's HTTP interface at rawURL (http://HOST:8123, a user and
// password in it sent as basic authentication): GET /ping must answer "Ok.", then SELECT
// version() is sent as a query; with replicated (--clickhouse-replicated), the server's
// ZooKeeper (system.zookeeper) and its {replica} macro (system.macros) are checked too.
// client is used as given (its timeout too); ctx bounds the whole check. No answer
// contains the URL's password.
func checkClickHouse(ctx context.Context, client *http.Client, rawURL string, replicated bool) []checkResult {
	r := &checkList{engine: engineClickHouse}
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		r.add("connect", checkFail, "not an http(s) URL of ClickHouse's HTTP interface, e.g. http://127.0.0.1:8123")
		return r.list
	}
	where := u.Redacted()
	var password string
	if u.User != nil {
		password, _ = u.User.Password()
	}
	base := *u
	base.User = nil
	base.Path = strings.TrimRight(base.Path, "/")
	base.RawQuery = ""

	do := func(method, path, body string) (int, string, error) {
		target := base
		target.Path += path
		req, err := http.NewRequestWithContext(ctx, method, target.String(), strings.NewReader(body))
		if err != nil {
			return 0, "", err
		}
		if u.User != nil {
			req.SetBasicAuth(u.User.Username(), password)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return resp.StatusCode, strings.TrimSpace(string(b)), err
	}
	reason := func(err error) string {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is said once, by the result
		}
		return scrubSecrets(dialReason(err), password)
	}

	code, body, err := do(http.MethodGet, "/ping", "")
	switch {
	case err != nil:
		r.add("connect", checkFail, "GET %s/ping: %s", where, reason(err))
		return r.list
	case code != http.StatusOK || body != "Ok.":
		r.add("connect", checkFail, "GET %s/ping answered %d %q, not ClickHouse's \"Ok.\": is this its HTTP interface (port 8123)?", where, code, clip(body))
		return r.list
	}
	r.add("connect", checkOK, "%s answers /ping", where)

	code, body, err = do(http.MethodPost, "/", "SELECT version()")
	switch {
	case err != nil:
		r.add("version", checkFail, "SELECT version(): %s", reason(err))
	case code != http.StatusOK:
		r.add("version", checkFail, "SELECT version() answered %d: %s", code, scrubSecrets(clip(body), password))
	case !chVersion.MatchString(body):
		r.add("version", checkFail, "SELECT version() answered %q, not a ClickHouse version", clip(body))
	default:
		r.add("version", checkOK, "ClickHouse %s", body)
	}
	if !replicated {
		return r.list
	}
	code, body, err = do(http.MethodPost, "/", "SELECT count() FROM system.zookeeper WHERE path = '/'")
	switch {
	case err != nil:
		r.add("zookeeper", checkFail, "the server's ZooKeeper: %s", reason(err))
	case code != http.StatusOK:
		r.add("zookeeper", checkFail, "--clickhouse-replicated needs the server to use ZooKeeper (its <zookeeper> setting); reading system.zookeeper answered %d: %s", code, scrubSecrets(clip(body), password))
	default:
		r.add("zookeeper", checkOK, "the server reaches its ZooKeeper")
	}
	code, body, err = do(http.MethodPost, "/", "SELECT substitution FROM system.macros WHERE macro = 'replica'")
	switch {
	case err != nil:
		r.add("replica", checkFail, "the server's {replica} macro: %s", reason(err))
	case code != http.StatusOK:
		r.add("replica", checkFail, "reading system.macros answered %d: %s", code, scrubSecrets(clip(body), password))
	case body == "":
		r.add("replica", checkFail, "--clickhouse-replicated needs the server's {replica} macro (<macros><replica>NAME</replica></macros>), a name of its own among the replicas")
	default:
		r.add("replica", checkOK, "the server is replica %q", clip(body))
	}
	return r.list
}

// clip shortens an answer quoted in a result.
func clip(s string) string {
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}
