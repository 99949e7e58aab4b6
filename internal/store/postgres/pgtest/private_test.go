package pgtest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"
)

// Kill ends every process of the server, the backends too (each a process group of its
// own), and the server starts again at once on the same shared memory key: a backend
// left alive would hold the shared memory, and the start would be refused.
func TestPrivateKillEndsEveryProcess(t *testing.T) {
	s := Private(t)
	ctx := context.Background()
	var conns []*pgx.Conn
	for range 3 { // three backends
		c, err := pgx.Connect(ctx, s.DSN())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	data, _ := filepath.EvalSymlinks(filepath.Join(s.dir, "data"))
	if n := len(processesIn(data)); n < 4 {
		t.Fatalf("%d processes run in the data directory, want the postmaster, its helpers and 3 backends", n)
	}
	s.Kill()
	if left := processesIn(data); len(left) != 0 {
		t.Fatalf("processes %v of the server outlived Kill", left)
	}
	for _, c := range conns {
		c.Close(ctx)
	}
	s.Start()
	c, err := pgx.Connect(ctx, s.DSN())
	if err != nil {
		t.Fatalf("after Kill and Start: %v", err)
	}
	c.Close(ctx)
}
