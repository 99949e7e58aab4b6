package eventlog_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/store/eventlog"
)

// crashHelperEnv names the directory the helper process appends to; the helper runs only
// when it is set.
const crashHelperEnv = "EVENTLOG_CRASH_HELPER_DIR"

// TestCrashHelper is not a test: run by TestAckedAppendsSurviveSIGKILL in a child
// process, it appends from 8 goroutines until it is killed, and prints each acknowledged
// append as "acked SEQ INDEX N FIRST-EVENT-ID" after its acknowledgement.
func TestCrashHelper(t *testing.T) {
	dir := os.Getenv(crashHelperEnv)
	if dir == "" {
		t.Skip("the child process of TestAckedAppendsSurviveSIGKILL")
	}
	run := os.Getenv("EVENTLOG_CRASH_RUN")
	l, err := eventlog.Open(context.Background(), dir, eventlog.Options{Partitions: 2})
	if err != nil {
		fmt.Println("open failed:", err)
		os.Exit(1)
	}
	fmt.Println("ready")
	var out sync.Mutex
	deadline := time.Now().Add(time.Minute) // bounded, should the parent never kill it
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := 0; time.Now().Before(deadline); i++ {
				n := 1 + (i+w)%10
				evs := make([]*mailtrail.Event, n)
				for j := range evs {
					evs[j] = &mailtrail.Event{ID: fmt.Sprintf("r%s-w%d-a%d-e%d", run, w, i, j), OrgID: "o", Type: mailtrail.EventSent,
						OccurredAt: time.Now().UTC()}
				}
				r, err := l.Append(context.Background(), w%2, fmt.Sprintf("r%s-w%d-a%d", run, w, i), evs)
				if err != nil {
					fmt.Println("append failed:", err)
					os.Exit(1)
				}
				out.Lock()
				fmt.Fprintf(os.Stdout, "acked %d %d %d %s\n", r.Pos.Seq, r.Pos.Index, n, evs[0].ID)
				out.Unlock()
			}
		})
	}
	wg.Wait()
	os.Exit(0)
}

type ack struct {
	pos     eventlog.Position
	n       int
	firstID string
}

// TestAckedAppendsSurviveSIGKILL kills a process that appends (SIGKILL, so the server is
// never shut down) at a different point in each of three runs, then reopens the log:
// every append acknowledged before the kill is there, at its position, once.
func TestAckedAppendsSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	dir := t.TempDir()
	var acks []ack
	for run := range 3 {
		acks = append(acks, crashOnce(t, dir, run, 150+run*170)...)
		l, err := eventlog.Open(context.Background(), dir, eventlog.Options{Partitions: 2})
		if err != nil {
			t.Fatalf("run %d: reopen after SIGKILL: %v", run, err)
		}
		all := readAll(t, l, 10_000)
		l.Close()
		at := map[eventlog.Position]string{}
		seen := map[string]bool{}
		for _, r := range all {
			if seen[r.Event.ID] {
				t.Fatalf("run %d: event %s stored twice", run, r.Event.ID)
			}
			seen[r.Event.ID] = true
			at[r.Pos] = r.Event.ID
		}
		for _, a := range acks {
			prefix := strings.TrimSuffix(a.firstID, "-e0")
			for i := range a.n {
				p := eventlog.Position{Seq: a.pos.Seq, Index: a.pos.Index + i}
				if want := fmt.Sprintf("%s-e%d", prefix, i); at[p] != want {
					t.Fatalf("run %d: acknowledged %s at %v, the log holds %q there", run, want, p, at[p])
				}
			}
		}
		t.Logf("run %d: %d acknowledged appends, %d records in the log", run, len(acks), len(all))
	}
}

// crashOnce starts the helper on dir, SIGKILLs it once it has acknowledged kill appends,
// and returns every acknowledgement it printed.
func crashOnce(t *testing.T, dir string, run, kill int) []ack {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$")
	cmd.Env = append(os.Environ(), crashHelperEnv+"="+dir, "EVENTLOG_CRASH_RUN="+strconv.Itoa(run))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acks []ack
	killed := false
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasSuffix(line, "failed") || strings.Contains(line, "failed:") {
			t.Fatalf("run %d: helper: %s", run, line)
		}
		var a ack
		if _, err := fmt.Sscanf(line, "acked %d %d %d %s", &a.pos.Seq, &a.pos.Index, &a.n, &a.firstID); err != nil {
			continue
		}
		acks = append(acks, a)
		if len(acks) == kill && !killed {
			cmd.Process.Kill() // SIGKILL: no Close, no server shutdown
			killed = true
		}
	}
	cmd.Wait()
	if !killed {
		t.Fatalf("run %d: the helper ended after %d acknowledgements without being killed", run, len(acks))
	}
	return acks
}
