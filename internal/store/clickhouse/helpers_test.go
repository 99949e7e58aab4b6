package clickhouse_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/store/clickhouse"
	"github.com/mailtrail/mailtrail/internal/store/eventlog"
)

// chURL returns the test ClickHouse (scripts/clickhouse.sh start DIR prints it). Without
// it the test skips, unless MAILTRAIL_REQUIRE_SERVICES is set (scripts/test.sh), where it
// fails.
func chURL(t *testing.T) string {
	t.Helper()
	v := os.Getenv("MAILTRAIL_TEST_CLICKHOUSE_URL")
	if v == "" {
		if os.Getenv("MAILTRAIL_REQUIRE_SERVICES") != "" {
			t.Fatal("MAILTRAIL_TEST_CLICKHOUSE_URL is not set: scripts/clickhouse.sh start DIR prints it")
		}
		t.Skip("MAILTRAIL_TEST_CLICKHOUSE_URL is not set (scripts/clickhouse.sh start DIR prints it)")
	}
	return v
}

// testDB opens a database of its own on url (mt_test_<random>), dropped at cleanup.
func testDB(t *testing.T, url string) *clickhouse.DB {
	t.Helper()
	name := fmt.Sprintf("mt_test_%016x", rand.Uint64())
	db, err := clickhouse.Open(context.Background(), url, name)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.DropDatabase(context.Background()); err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
	})
	return db
}

// openLog opens an embedded event log in a temporary directory.
func openLog(t *testing.T) *eventlog.Log {
	t.Helper()
	l, err := eventlog.Open(context.Background(), t.TempDir(), eventlog.Options{Partitions: 2})
	if err != nil {
		t.Fatalf("eventlog.Open: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

var orgs = []string{"org-1", "org-2"}
var campaigns = []string{"c-1", "c-2", "it's \\ a\tcampaign"}

// event returns a distinct event named by n, with strings that need escaping.
func event(n int) *mailtrail.Event {
	at := time.UnixMilli(1_764_000_000_000 + int64(n)*997).UTC()
	ev := &mailtrail.Event{
		ID: fmt.Sprintf("ev-%d", n), OrgID: orgs[n%len(orgs)], CampaignID: campaigns[n%len(campaigns)],
		CustomerID: fmt.Sprintf("cu-%d", n%13), CustomerEmail: fmt.Sprintf("p%d@example.com", n%13),
		MessageID: fmt.Sprintf("m-%d", n%17), Type: mailtrail.EventTypes[n%len(mailtrail.EventTypes)],
		OccurredAt: at, ReceivedAt: at.Add(time.Second), Source: mailtrail.SourceAPI,
		Metadata: mailtrail.Metadata{UserAgent: "Mozilla/5.0", IP: "192.0.2.7", Client: "Gmail", Country: "FR", City: "Paris"},
	}
	if n%5 == 0 {
		ev.Metadata.LinkURL = fmt.Sprintf("https://example.com/a\tb\nc\\d'é?n=%d", n)
	}
	return ev
}

// key is what CountsByType answers for.
type key struct{ org, campaign string }

// appendEvents appends n events from number from, in appends of 1 to 40 events, and
// adds them to counts (a recount of what was appended).
func appendEvents(t *testing.T, l *eventlog.Log, from, n int, counts map[key]map[mailtrail.EventType]int64) {
	t.Helper()
	for i := from; i < from+n; {
		size := min(1+rand.IntN(40), from+n-i)
		evs := make([]*mailtrail.Event, size)
		for j := range evs {
			evs[j] = event(i + j)
			k := key{evs[j].OrgID, evs[j].CampaignID}
			if counts[k] == nil {
				counts[k] = map[mailtrail.EventType]int64{}
			}
			counts[k][evs[j].Type]++
		}
		if _, err := l.Append(context.Background(), i%2, "", evs); err != nil {
			t.Fatalf("Append: %v", err)
		}
		i += size
	}
}

// head returns the log's last position.
func head(t *testing.T, l *eventlog.Log) uint64 {
	t.Helper()
	h, err := l.Projection().Head(context.Background())
	if err != nil {
		t.Fatalf("Head: %v", err)
	}
	return h
}

// shipAll runs s until it has shipped position pos (within a minute).
func shipAll(t *testing.T, s *clickhouse.Shipper, pos uint64) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	deadline := time.Now().Add(time.Minute)
	for s.Position() < pos && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if s.Position() < pos {
		t.Fatalf("shipped up to %d of %d within a minute", s.Position(), pos)
	}
}

// checkCounts compares ClickHouse's counts with the recount.
func checkCounts(t *testing.T, db *clickhouse.DB, want map[key]map[mailtrail.EventType]int64) {
	t.Helper()
	var total int64
	for k, w := range want {
		got, err := db.CountsByType(context.Background(), k.org, k.campaign)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(w) {
			t.Errorf("%s / %q: counts %v, want %v", k.org, k.campaign, got, w)
		}
		for _, n := range w {
			total += n
		}
	}
	_, ids, err := db.Rows(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if ids != total {
		t.Errorf("%d distinct events in ClickHouse, %d appended", ids, total)
	}
}

// cutProxy forwards loopback TCP connections to ClickHouse. Armed with cutAfter > 0, the
// first connection to carry that many bytes towards the server is cut at the next
// occurrence of marker there, markerOff bytes into it (no marker: at cutAfter exactly):
// the server gets the bytes before the cut and then the end of its input (a half-close,
// as when a client dies mid-upload; the answer still travels back), the client's
// further bytes are dropped. Later connections are forwarded whole.
type cutProxy struct {
	ln        net.Listener
	target    string
	cutAfter  atomic.Int64
	marker    []byte
	markerOff int
	cuts      atomic.Int64
	wg        sync.WaitGroup
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() { ln.Close(); p.wg.Wait() })
	return p
}

func (p *cutProxy) addr() string { return p.ln.Addr().String() }

func (p *cutProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.serve(c.(*net.TCPConn))
		}()
	}
}

func (p *cutProxy) serve(c *net.TCPConn) {
	defer c.Close()
	sc, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	s := sc.(*net.TCPConn)
	defer s.Close()
	back := make(chan struct{})
	go func() {
		io.Copy(c, s)
		c.CloseWrite()
		close(back)
	}()
	var sent int64
	buf := make([]byte, 32<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			chunk := buf[:n]
			if limit := p.cutAfter.Load(); limit > 0 && sent+int64(n) >= limit {
				at := int(max(0, limit-sent)) // the cut's offset in chunk
				if p.marker != nil {
					i := bytes.Index(chunk[at:], p.marker)
					if i < 0 {
						at = -1 // not in this chunk: cut in a later one
					} else {
						at += i + p.markerOff
					}
				}
				if at >= 0 && p.cutAfter.CompareAndSwap(limit, 0) {
					s.Write(chunk[:at])
					s.CloseWrite() // the server reads the end of its input mid-body
					p.cuts.Add(1)
					go io.Copy(io.Discard, c)
					<-back // the server answers and closes; then the client's side is closed too
					return
				}
			}
			if _, werr := s.Write(chunk); werr != nil {
				return
			}
			sent += int64(n)
		}
		if err != nil {
			s.CloseWrite()
			<-back
			return
		}
	}
}

// crashingAfterCopy returns a shipper of l's events to db whose first n copies "crash"
// once the block is copied into the events table, before its position is stored (so
// each such block is copied again), and the count of those crashes.
func crashingAfterCopy(db *clickhouse.DB, l *eventlog.Log, n int) (*clickhouse.Shipper, *int) {
	crashes := new(int)
	return clickhouse.NewShipper(db, l.Projection(), clickhouse.ShipperOptions{RetryMin: time.Millisecond,
		AfterCopy: func(b clickhouse.Block) error {
			if *crashes < n {
				*crashes++
				return errors.New("crash after the copy")
			}
			return nil
		}}), crashes
}
