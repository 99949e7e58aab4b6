package mailbox

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/esp/bouncemail"
)

// Poll reads account a's mailbox once: in batches of Options.BatchSize unseen, undeleted
// messages (read with BODY.PEEK, so reading marks nothing), it parses each, commits the
// events of the whole batch through the Ingester, and only then moves the batch's
// messages to ProcessedMailbox (or deletes them). Mail that is no report (an auto-reply)
// is processed with no events. A message that cannot be parsed or is too large is
// flagged \Seen and left in place for a person. A failed commit leaves the batch untouched
// and ends the poll with the error. Cancelling ctx closes the connection.
func (p *Poller) Poll(ctx context.Context, a Account) (Stats, error) {
	var st Stats
	c, mailbox, err := p.dial(ctx, a)
	if err != nil {
		return st, err
	}
	defer c.Close()
	stopWatch := context.AfterFunc(ctx, func() { c.Close() })
	defer stopWatch()
	if err := c.Login(a.Username, a.Password).Wait(); err != nil {
		return st, fmt.Errorf("mailbox: login: %w", err)
	}
	defer c.Logout() // best effort; Close follows
	if _, err := c.Select(mailbox, nil).Wait(); err != nil {
		return st, fmt.Errorf("mailbox: select %q: %w", mailbox, err)
	}
	if !a.Delete {
		if err := ensureMailbox(c, ProcessedMailbox); err != nil {
			return st, err
		}
	}
	for st.Messages+st.Invalid < p.opt.MaxPerPoll {
		if ctx.Err() != nil {
			return st, ctx.Err()
		}
		found, err := c.UIDSearch(&imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagSeen, imap.FlagDeleted}}, nil).Wait()
		if err != nil {
			return st, fmt.Errorf("mailbox: search: %w", err)
		}
		uids := found.AllUIDs()
		if len(uids) == 0 {
			return st, nil
		}
		if len(uids) > p.opt.BatchSize {
			uids = uids[:p.opt.BatchSize]
		}
		if err := p.batch(ctx, c, a, uids, &st); err != nil {
			return st, err
		}
		select {
		case <-p.stop:
			return st, nil // the next poll goes on
		default:
		}
	}
	return st, nil
}

// batch handles the messages uids: fetch, parse, commit, then move or delete.
func (p *Poller) batch(ctx context.Context, c *imapclient.Client, a Account, uids []imap.UID, st *Stats) error {
	sizes, err := c.Fetch(imap.UIDSetNum(uids...), &imap.FetchOptions{UID: true, RFC822Size: true}).Collect()
	if err != nil {
		return fmt.Errorf("mailbox: fetch sizes: %w", err)
	}
	var small, invalid []imap.UID
	for _, m := range sizes {
		if m.RFC822Size > p.opt.MaxMessage {
			invalid = append(invalid, m.UID)
		} else {
			small = append(small, m.UID)
		}
	}
	var (
		done   []imap.UID
		events []mailtrail.Event
	)
	if len(small) > 0 {
		body := &imap.FetchItemBodySection{Peek: true}
		msgs, err := c.Fetch(imap.UIDSetNum(small...), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{body}}).Collect()
		if err != nil {
			return fmt.Errorf("mailbox: fetch: %w", err)
		}
		now := p.opt.Now()
		for _, m := range msgs {
			rep, err := bouncemail.Parse(m.FindBodySection(body))
			if err != nil {
				invalid = append(invalid, m.UID)
				continue
			}
			evs, ignored := bouncemail.Events(rep, a.Vendor, now)
			if len(ignored) > 0 && p.opt.OnIgnored != nil {
				p.opt.OnIgnored(a.Vendor, ignored)
			}
			events = append(events, evs...)
			done = append(done, m.UID)
		}
	}
	if len(events) > 0 {
		res, err := p.ing.Ingest(ctx, a.OrgID, events)
		if err != nil {
			return fmt.Errorf("mailbox: commit: %w", err)
		}
		st.Events += res.Accepted
		st.Duplicates += res.Duplicates
	}
	// Committed: from here a failure only means the messages are read again next time.
	if len(done) > 0 {
		if err := p.finish(c, a, done); err != nil {
			return err
		}
		st.Messages += len(done)
		p.count(a.Vendor, OutcomeProcessed, len(done))
	}
	if len(invalid) > 0 {
		seen := &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagSeen}}
		if err := c.Store(imap.UIDSetNum(invalid...), seen, nil).Close(); err != nil {
			return fmt.Errorf("mailbox: flag invalid: %w", err)
		}
		st.Invalid += len(invalid)
		p.count(a.Vendor, OutcomeInvalid, len(invalid))
		p.opt.Logger.WarnContext(ctx, "mailbox: messages left unread for review (not a message, or too large)",
			"connection", a.ConnID, "count", len(invalid))
	}
	return nil
}

// finish moves uids to ProcessedMailbox, or deletes them.
func (p *Poller) finish(c *imapclient.Client, a Account, uids []imap.UID) error {
	set := imap.UIDSetNum(uids...)
	if !a.Delete {
		if _, err := c.Move(set, ProcessedMailbox).Wait(); err != nil {
			return fmt.Errorf("mailbox: move: %w", err)
		}
		return nil
	}
	del := &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}
	if err := c.Store(set, del, nil).Close(); err != nil {
		return fmt.Errorf("mailbox: delete: %w", err)
	}
	var err error
	if c.Caps().Has(imap.CapUIDPlus) || c.Caps().Has(imap.CapIMAP4rev2) {
		err = c.UIDExpunge(set).Close()
	} else {
		err = c.Expunge().Close()
	}
	if err != nil {
		return fmt.Errorf("mailbox: expunge: %w", err)
	}
	return nil
}

func (p *Poller) count(vendor, outcome string, n int) {
	if p.opt.OnMessage == nil {
		return
	}
	for range n {
		p.opt.OnMessage(vendor, outcome)
	}
}

// ensureMailbox creates name unless it exists.
func ensureMailbox(c *imapclient.Client, name string) error {
	list, err := c.List("", name, nil).Collect()
	if err != nil {
		return fmt.Errorf("mailbox: list: %w", err)
	}
	if len(list) > 0 {
		return nil
	}
	if err := c.Create(name, nil).Wait(); err != nil {
		var ie *imap.Error
		if errors.As(err, &ie) && ie.Code == imap.ResponseCodeAlreadyExists {
			return nil
		}
		return fmt.Errorf("mailbox: create %q: %w", name, err)
	}
	return nil
}

// ErrCleartext is the error of an imap:// mailbox whose server does not take STARTTLS
// when clear text is not allowed (Options.AllowInsecure): the login is never sent.
var ErrCleartext = errors.New("mailbox: the server does not offer STARTTLS; refusing to send the login in clear text (use imaps://, or let the operator allow insecure IMAP)")

// dial connects to a's server through the egress guard (Options.Egress): TLS for
// imaps://; for imap://, STARTTLS, or clear text only when Options.AllowInsecure. It
// returns the client and the mailbox named by the URL's path (INBOX when none).
func (p *Poller) dial(ctx context.Context, a Account) (*imapclient.Client, string, error) {
	u, err := url.Parse(a.URL)
	if err != nil || u.Hostname() == "" {
		return nil, "", fmt.Errorf("mailbox: bad URL for connection %s", a.ConnID)
	}
	mailbox := strings.TrimPrefix(u.Path, "/")
	if mailbox == "" {
		mailbox = "INBOX"
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"imaps": "993", "imap": "143"}[u.Scheme]
	}
	if u.Scheme != "imaps" && u.Scheme != "imap" {
		return nil, "", fmt.Errorf("mailbox: scheme %q: want imaps or imap", u.Scheme)
	}
	addr := net.JoinHostPort(u.Hostname(), port)
	conn, err := p.opt.Egress.Dialer(p.opt.Timeout).DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, "", fmt.Errorf("mailbox: dial: %w", err)
	}
	cfg := &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}
	if p.opt.TLSConfig != nil {
		cfg = p.opt.TLSConfig.Clone()
	}
	if u.Scheme == "imap" {
		if p.opt.AllowInsecure {
			return p.greet(imapclient.New(conn, &imapclient.Options{}), mailbox)
		}
		// STARTTLS or nothing: the deadline bounds a server that never answers.
		conn.SetDeadline(time.Now().Add(p.opt.Timeout))
		c, err := imapclient.NewStartTLS(conn, &imapclient.Options{TLSConfig: cfg})
		if err != nil {
			conn.Close()
			return nil, "", fmt.Errorf("%w: %v", ErrCleartext, err)
		}
		conn.SetDeadline(time.Time{})
		return p.greet(c, mailbox)
	}
	tc := tls.Client(conn, cfg)
	hctx, cancel := context.WithTimeout(ctx, p.opt.Timeout)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		conn.Close()
		return nil, "", fmt.Errorf("mailbox: tls: %w", err)
	}
	return p.greet(imapclient.New(tc, &imapclient.Options{}), mailbox)
}

// greet waits for the server's greeting on a new client.
func (p *Poller) greet(c *imapclient.Client, mailbox string) (*imapclient.Client, string, error) {
	if err := c.WaitGreeting(); err != nil {
		c.Close()
		return nil, "", fmt.Errorf("mailbox: greeting: %w", err)
	}
	return c, mailbox, nil
}
