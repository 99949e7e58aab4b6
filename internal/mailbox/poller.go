// Package mailbox polls the bounce mailboxes that connections name (vendors smtp and
// ocimail) over IMAP: unseen messages are parsed as delivery status notifications or ARF
// complaint reports, their events attributed and committed through the same path as
// webhooks, and only then moved to a "Processed" mailbox or deleted. A crash between
// fetch and commit leaves the message unseen and in place; the next poll reads it again
// and the events' dedupe keys make that harmless.
package mailbox

import (
	"context"
	"crypto/tls"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/egress"
	"github.com/mailtrail/mailtrail/internal/ingest"
)

// Account is one bounce mailbox to poll, with its login in clear (the caller unseals it).
type Account struct {
	ConnID, OrgID, Vendor string
	// URL is imaps://host:port/MAILBOX or imap://host:port/MAILBOX (INBOX when no path).
	URL                string
	Username, Password string
	Interval           time.Duration
	// Delete expunges processed messages instead of moving them to ProcessedMailbox.
	Delete bool
}

// Source lists the mailboxes to poll; it is read again every Options.Refresh.
type Source interface {
	Accounts(ctx context.Context) ([]Account, error)
}

// Ingester attributes a connection's events within orgID and commits them; it returns
// only when they are durable (ingest.ESP).
type Ingester interface {
	Ingest(ctx context.Context, orgID string, events []mailtrail.Event) (ingest.ESPResult, error)
}

// Message outcomes, passed to Options.OnMessage.
const (
	OutcomeProcessed = "processed" // events committed (or none to record), message moved or deleted
	OutcomeInvalid   = "invalid"   // not a message, or too large: flagged \Seen and left for a person
)

// ProcessedMailbox receives processed messages (created when missing).
const ProcessedMailbox = "Processed"

// Options configure a Poller. Zero values take the defaults noted.
type Options struct {
	Logger     *slog.Logger
	Now        func() time.Time // default time.Now
	Refresh    time.Duration    // how often Source is read again; default 1 minute
	BatchSize  int              // messages fetched and committed together; default 50
	MaxPerPoll int              // messages taken from one mailbox in one poll; default 1000
	MaxMessage int64            // larger messages are left as invalid; default 10 MiB
	Timeout    time.Duration    // dial and per-command bound; default 30 s
	// TLSConfig for imaps:// and STARTTLS (nil: the system roots, server name from the URL).
	TLSConfig *tls.Config
	// Egress says which addresses mailboxes may be dialled at (the zero policy: public
	// addresses only; every address dialled is checked, after DNS).
	Egress egress.Policy
	// AllowInsecure lets imap:// mailboxes whose server has no STARTTLS log in in clear
	// text (the operator's --imap-allow-insecure). Without it such a poll fails before the
	// login is sent.
	AllowInsecure bool
	// OnMessage, when set, is called once per message handled, with its vendor and outcome.
	OnMessage func(vendor, outcome string)
	// OnIgnored, when set, is called with report kinds recognised but not recorded.
	OnIgnored func(vendor string, kinds map[string]int)
}

// Stats is what one poll of one mailbox did.
type Stats struct {
	Messages   int // messages moved or deleted after their events were committed
	Invalid    int // messages flagged \Seen and left in place
	Events     int // events accepted (new)
	Duplicates int // events already stored
}

// Poller polls every account of a Source at its interval. Run starts it; Close stops it.
type Poller struct {
	src Source
	ing Ingester
	opt Options

	stop     chan struct{} // closed by Close: start no new poll or batch
	stopOnce sync.Once
	done     chan struct{} // closed when Run returns
	started  atomic.Bool
	abortMu  sync.Mutex
	abort    context.CancelFunc // cancels the poll in progress (Close past its deadline)
}

// New returns a poller of src's accounts that commits through ing.
func New(src Source, ing Ingester, opt Options) *Poller {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Refresh <= 0 {
		opt.Refresh = time.Minute
	}
	if opt.BatchSize <= 0 {
		opt.BatchSize = 50
	}
	if opt.MaxPerPoll <= 0 {
		opt.MaxPerPoll = 1000
	}
	if opt.MaxMessage <= 0 {
		opt.MaxMessage = 10 << 20
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 30 * time.Second
	}
	return &Poller{src: src, ing: ing, opt: opt, stop: make(chan struct{}), done: make(chan struct{})}
}

// Run polls each account when its interval has passed, until ctx is cancelled or Close is
// called. A failing mailbox is logged and tried again at its next interval.
func (p *Poller) Run(ctx context.Context) {
	if !p.started.CompareAndSwap(false, true) {
		return // one Run per poller
	}
	defer close(p.done)
	if p.stopping(ctx) {
		return
	}
	var (
		accounts []Account
		loadedAt time.Time
		next     = map[string]time.Time{}
	)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		now := p.opt.Now()
		if loadedAt.IsZero() || now.Sub(loadedAt) >= p.opt.Refresh {
			list, err := p.src.Accounts(ctx)
			if err != nil {
				p.opt.Logger.ErrorContext(ctx, "mailbox: accounts not loaded", "err", err.Error())
			} else {
				accounts, loadedAt = list, now
			}
		}
		for _, a := range accounts {
			if p.stopping(ctx) {
				return
			}
			if at, ok := next[a.ConnID]; ok && now.Before(at) {
				continue
			}
			next[a.ConnID] = now.Add(a.Interval)
			st, err := p.pollAbortable(ctx, a)
			if err != nil {
				p.opt.Logger.WarnContext(ctx, "mailbox: poll failed", "connection", a.ConnID, "err", err.Error())
			} else if st.Messages+st.Invalid > 0 {
				p.opt.Logger.InfoContext(ctx, "mailbox: polled", "connection", a.ConnID, "messages", st.Messages,
					"invalid", st.Invalid, "events", st.Events, "duplicates", st.Duplicates)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-p.stop:
			return
		case <-tick.C:
		}
	}
}

func (p *Poller) pollAbortable(ctx context.Context, a Account) (Stats, error) {
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	p.abortMu.Lock()
	p.abort = cancel
	p.abortMu.Unlock()
	defer func() {
		p.abortMu.Lock()
		p.abort = nil
		p.abortMu.Unlock()
	}()
	return p.Poll(pctx, a)
}

// stopping reports whether Run must return.
func (p *Poller) stopping(ctx context.Context) bool {
	select {
	case <-ctx.Done():
		return true
	case <-p.stop:
		return true
	default:
		return false
	}
}

// Close stops the poller: no new poll or batch starts, and the batch in progress finishes
// (commit, then move). It returns when Run has returned, or cancels the poll in progress
// when ctx ends first and returns ctx's error; messages of a cancelled batch stay unseen
// in place and are read again by the next poll. Close of a poller never run returns at
// once.
func (p *Poller) Close(ctx context.Context) error {
	p.stopOnce.Do(func() { close(p.stop) })
	if !p.started.Load() {
		return nil
	}
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
	}
	p.abortMu.Lock()
	if p.abort != nil {
		p.abort()
	}
	p.abortMu.Unlock()
	<-p.done
	return ctx.Err()
}
