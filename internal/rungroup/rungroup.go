// Package rungroup owns the background parts of a process: each has a name, they start in
// the order they were added and stop in the reverse order, each drained (its Run returned)
// before the one added before it is stopped. The order is the list of Add calls, in one
// place.
package rungroup

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Part is one background part.
type Part struct {
	// Name names the part in errors.
	Name string
	// Start, when set, prepares the part before its Run starts; it runs on Start's
	// goroutine, after the Start of every part added before it. An error fails the
	// group's Start.
	Start func(ctx context.Context) error
	// Run does the part's work, on its own goroutine, until the part is stopped. Its
	// context carries the values of Start's context but is cancelled only when the group
	// stops the part. An error returned before the part is stopped is a failure of the
	// group (see Failed).
	Run func(ctx context.Context) error
	// Stop, when set, asks Run to end and drain within ctx (the group's Stop context), and
	// returns an error when it could not; then the group does not wait for Run. Without
	// Stop, stopping the part cancels Run's context. Either way Run must then return
	// promptly: the group waits for it before stopping the next part.
	Stop func(ctx context.Context) error
}

// Group runs parts. The zero value is an empty group; Add every part before Start.
type Group struct {
	parts   []*running
	started int // parts whose Run was started, a prefix of parts

	mu       sync.Mutex
	stopping bool
	err      error // the first failure
	failed   chan struct{}
}

type running struct {
	Part
	cancel context.CancelFunc
	done   chan struct{}
}

// Add appends p to the group: it starts after the parts added before it and stops before
// them. It panics when p has no Name or no Run, or when the group has started.
func (g *Group) Add(p Part) {
	if p.Name == "" || p.Run == nil {
		panic("rungroup: a part needs a Name and a Run")
	}
	if g.failed != nil {
		panic("rungroup: Add after Start")
	}
	g.parts = append(g.parts, &running{Part: p})
}

// Names returns the names of the parts in start order (they stop in the reverse order).
func (g *Group) Names() []string {
	names := make([]string, len(g.parts))
	for i, p := range g.parts {
		names[i] = p.Name
	}
	return names
}

// Start starts every part in the order they were added: for each, its Start, then its Run
// on a new goroutine. When a part's Start fails, the parts already started are stopped (in
// reverse order, within ctx) and Start returns the error, naming the part.
func (g *Group) Start(ctx context.Context) error {
	g.mu.Lock()
	g.failed = make(chan struct{})
	g.mu.Unlock()
	base := context.WithoutCancel(ctx)
	for _, p := range g.parts {
		if p.Part.Start != nil {
			if err := p.Part.Start(ctx); err != nil {
				err = fmt.Errorf("start %s: %w", p.Name, err)
				return errors.Join(err, g.Stop(ctx))
			}
		}
		var rctx context.Context
		rctx, p.cancel = context.WithCancel(base)
		p.done = make(chan struct{})
		g.started++
		go func() {
			defer close(p.done)
			if err := p.Run(rctx); err != nil {
				g.fail(fmt.Errorf("%s: %w", p.Name, err))
			}
		}()
	}
	return nil
}

// fail records the first failure of a part that was not being stopped.
func (g *Group) fail(err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopping || g.err != nil {
		return
	}
	g.err = err
	close(g.failed)
}

// Failed returns a channel closed when a part's Run returned an error before Stop was
// called. It is nil before Start.
func (g *Group) Failed() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.failed
}

// Err returns the first failure (see Failed), naming its part, or nil.
func (g *Group) Err() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.err
}

// Stop stops the started parts in the reverse order of their start: for each, its Stop
// (or the cancellation of its Run's context), then the wait for its Run to return. A
// part whose Stop fails is not waited for, and the next part is stopped all the same.
// Stop returns the Stop errors, each naming its part; it does nothing when called again.
func (g *Group) Stop(ctx context.Context) error {
	g.mu.Lock()
	if g.stopping {
		g.mu.Unlock()
		return nil
	}
	g.stopping = true
	g.mu.Unlock()
	var errs []error
	for i := g.started - 1; i >= 0; i-- {
		p := g.parts[i]
		if p.Part.Stop != nil {
			if err := p.Part.Stop(ctx); err != nil {
				errs = append(errs, fmt.Errorf("stop %s: %w", p.Name, err))
				p.cancel()
				continue
			}
		}
		p.cancel()
		<-p.done
	}
	return errors.Join(errs...)
}
