package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/internal/store/eventlog"
)

// eventLogCrashKills is how many times TestEventLogCrashKill9UnderLoad kills the binary.
const eventLogCrashKills = 24

// The crash test of the write path of --event-log: the binary under load (the same
// workers and oracle as TestCrashKill9UnderLoad) is killed with SIGKILL 24 times in one
// data directory, at points drawn at random among
//
//   - publish: after a random time of load (appends acknowledged on the log, the
//     projector applying them),
//   - projection: as soon as an answer says the store is behind the log (acknowledged
//     positions not applied yet: the kill leaves a tail),
//   - start: 1–30 ms after a restart is ready, when the previous kill's tail has just
//     been applied (or still is) and the clients' retries arrive,
//   - shutdown: a random instant after SIGTERM (the pipeline draining into the log, the
//     projector catching up before the exit),
//
// then stopped with SIGTERM under load, killed once more after the load, and started
// cleanly (which applies the tail). The clients reach each restarted binary as soon as
// it listens, and send a batch that got no answer again first (a kill's tail holds the
// batches whose answers were lost). Every acknowledged event is then in the store exactly
// once, a retry is never stored twice nor answered as new, every answer names the row
// stored, the figures equal a recount of the rows, and the store's position is the log's
// end.
func TestEventLogCrashKill9UnderLoad(t *testing.T) {
	var tails []uint64 // per kill: positions acknowledged to a client but not applied (at least)
	var points = map[string]int{}
	res := runCrashTest(t, crashPlan{args: []string{"--event-log"}, cycles: eventLogCrashKills, killAfterLoad: true, early: true,
		end: func(c *crashCycle) string {
			how := eventLogKill(c, points)
			tails = append(tails, unappliedTail(c.t, c.dataDir, c.h.maxPos.Load()))
			return how + fmt.Sprintf("; tail left ≥ %d positions", tails[len(tails)-1])
		}})
	if t.Failed() {
		return
	}
	var withTail int
	var longest uint64
	for _, n := range tails {
		if n > 0 {
			withTail++
		}
		longest = max(longest, n)
	}
	t.Logf("kill points %v; %d of %d kills left acknowledged positions unapplied (longest tail ≥ %d)", points, withTail, len(tails), longest)
	if withTail == 0 {
		// Every kill found the store caught up: the test did not exercise the tail.
		t.Errorf("no kill left an acknowledged position unapplied: the projection tail was never tested")
	}

	// The stopped data directory: the store's position is the log's last message, and the
	// log holds at least every position a client was answered.
	head, pos := eventLogHead(t, res.dataDir)
	if pos != head || head < res.h.maxPos.Load() {
		t.Errorf("after the clean restart and stop: store at position %d, log ends at %d, clients were answered up to %d; want all equal (the last two may differ by unanswered appends)",
			pos, head, res.h.maxPos.Load())
	}
}

// eventLogKill ends c's process at a random point (see TestEventLogCrashKill9UnderLoad)
// and says which.
func eventLogKill(c *crashCycle, points map[string]int) string {
	t, d := c.t, c.d
	switch point := []string{"publish", "projection", "start", "shutdown"}[c.rng.IntN(4)]; point {
	case "publish":
		points[point]++
		p := c.loadFor(100*time.Millisecond, 1200*time.Millisecond)
		d.kill(t)
		return fmt.Sprintf("publish: SIGKILL after %s of load", p.Round(time.Millisecond))
	case "projection":
		points[point]++
		p := c.loadFor(50*time.Millisecond, 500*time.Millisecond)
		// Poll a cheap read until its answer says the store is behind (the lag header),
		// then kill at once; a load that never shows a lag is killed anyway.
		var lag string
		for range 200 {
			if lag = projectionLag(c); lag != "" && lag != "0" {
				break
			}
		}
		d.kill(t)
		return fmt.Sprintf("projection: SIGKILL after %s of load, at Mailtrail-Projection-Lag %s", p.Round(time.Millisecond), lag)
	case "start":
		points[point]++
		p := c.loadFor(time.Millisecond, 30*time.Millisecond)
		d.kill(t)
		return fmt.Sprintf("start: SIGKILL %s after ready", p.Round(time.Millisecond))
	default:
		points[point]++
		p := c.loadFor(100*time.Millisecond, 800*time.Millisecond)
		if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatalf("sigterm: %v", err)
		}
		q := c.loadFor(time.Millisecond, 200*time.Millisecond)
		select {
		case <-d.exited:
			if d.err != nil {
				t.Errorf("SIGTERM under load: want exit 0, got %v", d.err)
			}
			return fmt.Sprintf("shutdown: SIGTERM after %s of load, exited by itself within %s", p.Round(time.Millisecond), q.Round(time.Millisecond))
		default:
		}
		// It may still exit by itself between the check above and the kill (the kill then
		// finds it done): its exit status says which it was.
		if err := d.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
			t.Fatalf("kill: %v", err)
		}
		<-d.exited
		var exit *exec.ExitError
		switch {
		case d.err == nil:
			return fmt.Sprintf("shutdown: SIGTERM after %s of load, exited by itself within %s (as the SIGKILL came)", p.Round(time.Millisecond), q.Round(time.Millisecond))
		case errors.As(d.err, &exit) && exit.Sys().(syscall.WaitStatus).Signal() == syscall.SIGKILL:
			return fmt.Sprintf("shutdown: SIGTERM after %s of load, SIGKILL %s later", p.Round(time.Millisecond), q.Round(time.Millisecond))
		default:
			t.Errorf("SIGTERM under load: want exit 0 or the SIGKILL, got %v", d.err)
			return "shutdown: failed"
		}
	}
}

// projectionLag answers a cheap read and returns its Mailtrail-Projection-Lag ("" on an
// error).
func projectionLag(c *crashCycle) string {
	req, err := http.NewRequestWithContext(c.t.Context(), http.MethodGet, c.d.base+"/api/v1/settings", nil)
	if err != nil {
		return ""
	}
	req.Header.Set("Authorization", "Bearer "+c.h.apiKey)
	resp, err := c.h.client.Do(req)
	if err != nil {
		return ""
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.Header.Get("Mailtrail-Projection-Lag")
}

// storePosition reads the event log position the stopped store of dataDir has applied.
func storePosition(t *testing.T, dataDir string) uint64 {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dataDir, "mailtrail.db")+"?mode=ro")
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	defer db.Close()
	var pos uint64
	err = db.QueryRow(`SELECT pos FROM projection_positions WHERE stream = ?`, projectionStream).Scan(&pos)
	if err != nil && err != sql.ErrNoRows {
		t.Fatalf("read the store's position: %v", err)
	}
	return pos
}

// unappliedTail returns how many positions a client was answered (up to answered) that the
// stopped store of dataDir has not applied: a lower bound of the tail the kill left.
func unappliedTail(t *testing.T, dataDir string, answered uint64) uint64 {
	t.Helper()
	return sub0(answered, storePosition(t, dataDir))
}

// sub0 returns a−b, or 0 when b ≥ a.
func sub0(a, b uint64) uint64 {
	if b >= a {
		return 0
	}
	return a - b
}

// eventLogHead opens the stopped data directory's event log (as the binary does) and
// returns its last position, with the store's.
func eventLogHead(t *testing.T, dataDir string) (head, pos uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	l, err := eventlog.Open(ctx, filepath.Join(dataDir, eventLogDir), eventlog.Options{MaxMessageBytes: eventLogMessageBytes})
	if err != nil {
		t.Fatalf("open the event log: %v", err)
	}
	defer l.Close()
	head, err = l.Projection().Head(ctx)
	if err != nil {
		t.Fatalf("event log head: %v", err)
	}
	return head, storePosition(t, dataDir)
}

// logPosition parses a write's Mailtrail-Log-Position header.
func logPosition(t *testing.T, resp *http.Response) uint64 {
	t.Helper()
	v := resp.Header.Get("Mailtrail-Log-Position")
	pos, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		t.Fatalf("%s %s: Mailtrail-Log-Position %q: %v", resp.Request.Method, resp.Request.URL.Path, v, err)
	}
	return pos
}
