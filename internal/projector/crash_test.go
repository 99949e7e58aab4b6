package projector_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/internal/ingest"
	"github.com/mailtrail/mailtrail/internal/projector"
	"github.com/mailtrail/mailtrail/internal/store/storetest"
)

// The environment of the crash test's child: the store file and the organization.
const (
	crashEnvStore = "MAILTRAIL_PROJECTOR_CRASH_STORE"
	crashEnvOrg   = "MAILTRAIL_PROJECTOR_CRASH_ORG"
	crashEnvOpts  = "MAILTRAIL_PROJECTOR_CRASH_OPTIONS" // "MaxEvents ReadMax"
	crashRecords  = 300
	crashKills    = 5
)

// TestCrashChild is the process TestCrashKill9 kills: it applies the crash log to the
// store file named by the environment, with the MaxEvents and ReadMax it names, and
// prints its position after every commit. Run alone it does nothing.
func TestCrashChild(t *testing.T) {
	path, org := os.Getenv(crashEnvStore), os.Getenv(crashEnvOrg)
	if path == "" {
		t.Skip("the child of TestCrashKill9")
	}
	log := newLog(mixed(crashRecords)(org))
	db := openStore(t, path)
	defer db.Close()
	var opt projector.Options
	if _, err := fmt.Sscan(os.Getenv(crashEnvOpts), &opt.MaxEvents, &opt.ReadMax); err != nil {
		t.Fatalf("%s: %v", crashEnvOpts, err)
	}
	p := projector.New(log, db, opt)
	p.Subscribe("progress", func(ingest.ChangeSet) { fmt.Printf("pos %d\n", p.Position()) })
	ctx, cancel := context.WithCancel(context.Background())
	last, _ := log.Head(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	waitFor(t, "the log applied", func() bool { return p.Position() == last })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	fmt.Println("done")
}

// A projector process killed with SIGKILL at random points of its work, several times,
// then finished by a fresh projector: the store holds every record once, its figures
// equal one clean application of the log and a recount of its raw events
// (storetest.Figures checks the recount). Twice: a few events per transaction (one Read
// each), and transactions merging the records of several Reads.
func TestCrashKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills processes; skipped with -short")
	}
	want := cleanFigures(t, msgs, mixed(crashRecords))
	for _, c := range []struct {
		name               string
		maxEvents, readMax int
	}{{"one read per transaction", 8, 4}, {"merged reads", 60, 2}} {
		t.Run(c.name, func(t *testing.T) { crashKill9(t, want, c.maxEvents, c.readMax) })
	}
}

func crashKill9(t *testing.T, want string, maxEvents, readMax int) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 3))
	path, org := newStore(t, msgs)
	log := newLog(mixed(crashRecords)(org))
	last, _ := log.Head(context.Background())

	midway := 0
	for kill := 0; kill < crashKills; kill++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashEnvStore+"="+path, crashEnvOrg+"="+org, fmt.Sprintf("%s=%d %d", crashEnvOpts, maxEvents, readMax))
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill after a random number of commits: the child goes on committing while the
		// signal is on its way, so it dies at any point of a transaction.
		commits, at, finished := 0, 1+r.IntN(25), false
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			if line == "done" {
				finished = true
				break
			}
			if strings.HasPrefix(line, "pos ") {
				if commits++; commits == at {
					break
				}
			}
		}
		cmd.Process.Kill()
		cmd.Wait()
		db := openStore(t, path)
		pos, err := db.Position(context.Background(), "events")
		db.Close()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("kill %d after %d commits: position %d of %d", kill, commits, pos, last)
		if !finished && pos < last {
			midway++
		}
		if pos == last {
			break
		}
	}
	if midway == 0 {
		t.Fatal("no child was killed before the end of the log: the test proves nothing")
	}

	db := openStore(t, path)
	defer db.Close()
	runToEnd(t, log, db, last, projector.Options{})
	if got := storetest.Figures(t, db, org, "camp"); got != want {
		t.Fatalf("figures after the crashes differ from one clean application:\n%s", storetest.DiffLines(want, got))
	}
	if n := strings.Count(want, "\nev"); n < crashRecords {
		t.Fatalf("%d events stored for %d records", n, crashRecords)
	}
}
