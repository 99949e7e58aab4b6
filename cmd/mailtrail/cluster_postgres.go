package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// minPostgres is the oldest PostgreSQL major version supported (server_version_num).
const minPostgres = 130000

// checkPostgres checks the PostgreSQL server at dsn (a postgres:// URL or key=value pairs):
// connection, version, durability settings (fsync, synchronous_commit) and whether it
// lets this user create a table, with a temporary one, rolled back. ctx bounds the whole
// check; no answer contains the DSN's password.
func checkPostgres(ctx context.Context, dsn string) []checkResult {
	r := &checkList{engine: enginePostgres}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		r.add("connect", checkFail, "not a PostgreSQL connection string (postgres://USER:PASSWORD@HOST:5432/DB?sslmode=disable, or key=value pairs)")
		return r.list
	}
	where := fmt.Sprintf("%s@%s/%s", cfg.User, net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))), cfg.Database)
	fail := func(check, what string, err error) {
		r.add(check, checkFail, "%s: %s", what, scrubSecrets(pgReason(err), cfg.Password))
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		fail("connect", where, err)
		return r.list
	}
	defer conn.Close(context.WithoutCancel(ctx))
	r.add("connect", checkOK, "%s", where)

	var version, num string
	if err := conn.QueryRow(ctx, "SELECT version(), current_setting('server_version_num')").Scan(&version, &num); err != nil {
		fail("version", "SELECT version()", err)
		return r.list
	}
	if n, err := strconv.Atoi(num); err != nil || n < minPostgres {
		r.add("version", checkWarn, "%s: PostgreSQL 13 or later is supported", version)
	} else {
		r.add("version", checkOK, "%s", version)
	}

	for _, s := range []struct{ name, why string }{
		{"fsync", "a crash of the machine may lose or corrupt committed transactions"},
		{"synchronous_commit", "a commit returns before it is on disk"},
	} {
		var v string
		if err := conn.QueryRow(ctx, "SHOW "+s.name).Scan(&v); err != nil {
			fail(s.name, "SHOW "+s.name, err)
			continue
		}
		if v == "off" {
			r.add(s.name, checkFail, "%s is off: %s, and a 2xx must be durable", s.name, s.why)
		} else {
			r.add(s.name, checkOK, "%s", v)
		}
	}

	if err := pgCreateTable(ctx, conn); err != nil {
		fail("create table", "cannot create a table", err)
	} else {
		r.add("create table", checkOK, "a temporary table created and rolled back")
	}
	return r.list
}

// pgCreateTable creates a temporary table and writes a row in a transaction it rolls
// back: the user may create tables, and the server takes writes (not a standby).
func pgCreateTable(ctx context.Context, conn *pgx.Conn) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, "CREATE TEMPORARY TABLE mailtrail_cluster_check (id bigint) ON COMMIT DROP"); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, "INSERT INTO mailtrail_cluster_check VALUES (1)")
	return err
}

// pgReason words a pgx error: the dial's reason when the server could not be reached,
// else the driver's message.
func pgReason(err error) string {
	var ne *net.OpError
	if errors.As(err, &ne) {
		return dialReason(ne)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return timedOut
	}
	return strings.TrimSpace(err.Error())
}
