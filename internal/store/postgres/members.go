package postgres

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Leases taken without waiting, and groups of processes that count each other (the
// workers that share a stream's partitions between them): both session advisory locks,
// so that a process that dies leaves them at once.

// Lease is the session lock of a name (as Hold takes it) taken without waiting, on a
// connection of its own that it keeps between tries, so that a process trying it every
// second does not connect every second.
type Lease struct {
	db   *DB
	name string
	key  int64
	conn *pgx.Conn
}

// NewLease returns the lease of name, not held.
func (db *DB) NewLease(name string) *Lease {
	return &Lease{db: db, name: name, key: lockKey("hold "+name, db.schema)}
}

// Try takes the lease if no other process holds it: true once held, until Release or
// until the connection is lost (then the lock is too, and the position each write
// compares and sets, WriteAt, keeps a second holder from applying anything twice).
func (l *Lease) Try(ctx context.Context) (bool, error) {
	if l.conn == nil || l.conn.IsClosed() {
		conn, err := pgx.ConnectConfig(ctx, l.db.pool.Config().ConnConfig.Copy())
		if err != nil {
			return false, fmt.Errorf("postgres: connect: %w", err)
		}
		l.conn = conn
	}
	var ok bool
	if err := l.conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, l.key).Scan(&ok); err != nil {
		l.Close()
		return false, fmt.Errorf("postgres: hold %s: %w", l.name, err)
	}
	return ok, nil
}

// Release gives the lease up; the connection stays for the next Try (or is closed when
// the unlock fails, which releases it too).
func (l *Lease) Release() {
	if l.conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := l.conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, l.key); err != nil {
		l.Close()
	}
}

// Close ends the lease's session (releasing the lease if held).
func (l *Lease) Close() {
	if l.conn != nil {
		closer(l.conn)()
		l.conn = nil
	}
}

// closer returns the function that releases conn's session locks and ends the session
// (which releases them too, but only once the server has seen the connection end).
func closer(conn *pgx.Conn) func() {
	return func() {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = conn.Exec(cctx, `SELECT pg_advisory_unlock_all()`)
		conn.Close(cctx)
	}
}

// groupTag is the first key of the locks of group's members.
func (db *DB) groupTag(group string) int32 {
	return int32(uint64(lockKey("group "+group, db.schema)) & 0x7fffffff)
}

// Member is this process's membership of a group (Join).
type Member struct {
	conn  *pgx.Conn
	leave func()
}

// Ping tells whether the membership's session is alive: an error means it is gone (the
// connection was lost, PostgreSQL restarted), and Members no longer counts it.
func (m *Member) Ping(ctx context.Context) error { return m.conn.Ping(ctx) }

// Leave ends the membership.
func (m *Member) Leave() { m.leave() }

// Join makes this process a member of group until Leave or until its session ends (the
// process dies, the connection is lost): Members counts it meanwhile.
func (db *DB) Join(ctx context.Context, group string) (*Member, error) {
	conn, err := pgx.ConnectConfig(ctx, db.pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	for range 8 { // a member id another member drew already: draw again
		var b [4]byte
		_, _ = rand.Read(b[:])
		var ok bool
		if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, $2)`, db.groupTag(group), int32(binary.BigEndian.Uint32(b[:])&0x7fffffff)).Scan(&ok); err != nil {
			conn.Close(context.WithoutCancel(ctx))
			return nil, fmt.Errorf("postgres: join %s: %w", group, err)
		}
		if ok {
			return &Member{conn: conn, leave: closer(conn)}, nil
		}
	}
	conn.Close(context.WithoutCancel(ctx))
	return nil, fmt.Errorf("postgres: join %s: no free member id", group)
}

// Members counts the members of group: the processes that joined it and whose session
// is alive.
func (db *DB) Members(ctx context.Context, group string) (int, error) {
	var n int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2 AND granted
		AND classid = $1::bigint::oid AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
		int64(db.groupTag(group))).Scan(&n); err != nil {
		return 0, fmt.Errorf("postgres: members of %s: %w", group, err)
	}
	return n, nil
}
