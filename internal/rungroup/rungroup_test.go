package rungroup_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/mailtrail/mailtrail/internal/rungroup"
)

// journal records what the parts did, in order.
type journal struct {
	mu   sync.Mutex
	list []string
}

func (j *journal) add(s string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.list = append(j.list, s)
}

func (j *journal) get() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.list)
}

// part returns a part that journals its start, its stop (when withStop) and the return of
// its Run, which ends when its context is cancelled or, with withStop, when Stop asks.
func part(j *journal, name string, withStop bool) rungroup.Part {
	stop := make(chan struct{})
	started := false
	p := rungroup.Part{Name: name,
		Start: func(context.Context) error { started = true; j.add("start " + name); return nil },
		Run: func(ctx context.Context) error {
			if !started {
				j.add("run before start " + name)
			}
			select {
			case <-ctx.Done():
			case <-stop:
			}
			j.add("end " + name)
			return nil
		}}
	if withStop {
		p.Stop = func(context.Context) error { j.add("stop " + name); close(stop); return nil }
	}
	return p
}

// Parts start in the order they were added and stop in the reverse order; each part's Run
// has returned before the part added before it is stopped, whether it is stopped by its
// Stop or by the cancellation of its context.
func TestStartAndStopOrder(t *testing.T) {
	var j journal
	var g rungroup.Group
	g.Add(part(&j, "store-indexer", false))
	g.Add(part(&j, "pipeline", true))
	g.Add(part(&j, "outbound", false))
	g.Add(part(&j, "mailbox", true))
	g.Add(part(&j, "http", true))
	if err := g.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := g.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []string{"start store-indexer", "start pipeline", "start outbound", "start mailbox", "start http",
		"stop http", "end http", "stop mailbox", "end mailbox", "end outbound", "stop pipeline", "end pipeline", "end store-indexer"}
	if got := j.get(); !slices.Equal(got, want) {
		t.Fatalf("journal\n got %q\nwant %q", got, want)
	}
	if err := g.Stop(context.Background()); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
}

// A part whose Run fails before it is stopped fails the group: Failed is closed and Err
// names the part. Stopping then stops every other part, in order.
func TestPartFails(t *testing.T) {
	var j journal
	var g rungroup.Group
	g.Add(part(&j, "a", false))
	boom := errors.New("listener closed")
	g.Add(rungroup.Part{Name: "http", Run: func(context.Context) error { return boom }})
	g.Add(part(&j, "c", true))
	if err := g.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-g.Failed()
	if err := g.Err(); !errors.Is(err, boom) || err.Error() != "http: listener closed" {
		t.Fatalf("Err = %v", err)
	}
	if err := g.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, want := j.get(), []string{"start a", "start c", "stop c", "end c", "end a"}; !slices.Equal(got, want) {
		t.Fatalf("journal %q, want %q", got, want)
	}
}

// A part whose Start fails starts nothing after it; the parts already started are stopped
// in reverse order, and Start's error names the part.
func TestStartFails(t *testing.T) {
	var j journal
	var g rungroup.Group
	g.Add(part(&j, "a", false))
	g.Add(part(&j, "b", true))
	g.Add(rungroup.Part{Name: "c", Start: func(context.Context) error { return errors.New("no port") },
		Run: func(context.Context) error { j.add("run c"); return nil }})
	g.Add(part(&j, "d", false))
	err := g.Start(context.Background())
	if err == nil || err.Error() != "start c: no port" {
		t.Fatalf("Start = %v", err)
	}
	if got, want := j.get(), []string{"start a", "start b", "stop b", "end b", "end a"}; !slices.Equal(got, want) {
		t.Fatalf("journal %q, want %q", got, want)
	}
}

// Cancelling Start's context stops no part: parts stop only through Stop, in order (a
// process's signal must not stop the pipeline before the HTTP server drained). A Stop
// that runs out of time is reported with its part's name, the group does not wait for
// that part's Run, and the parts before it are stopped all the same.
func TestContextCancellation(t *testing.T) {
	var j journal
	var g rungroup.Group
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "v"))
	g.Add(part(&j, "a", false))
	stuck := make(chan struct{})
	g.Add(rungroup.Part{Name: "pipeline",
		Run: func(ctx context.Context) error {
			if ctx.Value(ctxKey{}) != "v" {
				j.add("lost the values")
			}
			<-stuck
			j.add("end pipeline")
			return nil
		},
		Stop: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }})
	g.Add(part(&j, "c", false))
	runCtx := make(chan context.Context, 1)
	g.Add(rungroup.Part{Name: "d", Run: func(ctx context.Context) error { runCtx <- ctx; <-ctx.Done(); return nil }})
	if err := g.Start(ctx); err != nil {
		t.Fatal(err)
	}
	dctx := <-runCtx
	cancel()
	if dctx.Err() != nil {
		t.Fatal("cancelling Start's context cancelled a part's")
	}
	select {
	case <-g.Failed():
		t.Fatalf("the group failed: %v", g.Err())
	default:
	}
	if got := j.get(); len(got) != 2 {
		t.Fatalf("a part stopped when Start's context was cancelled: %q", got)
	}
	sctx, scancel := context.WithCancel(context.Background())
	scancel() // the shutdown deadline has passed
	err := g.Stop(sctx)
	if !errors.Is(err, context.Canceled) || err.Error() != "stop pipeline: context canceled" {
		t.Fatalf("Stop = %v", err)
	}
	if got, want := j.get(), []string{"start a", "start c", "end c", "end a"}; !slices.Equal(got, want) {
		t.Fatalf("journal %q, want %q", got, want)
	}
	close(stuck)
}

type ctxKey struct{}
