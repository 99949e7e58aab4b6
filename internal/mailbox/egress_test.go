package mailbox

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/egress"
)

// recorder is a loopback listener that keeps every byte its server read from clients.
type recorder struct {
	net.Listener
	mu       sync.Mutex
	accepted int
	read     bytes.Buffer
}

func (r *recorder) Accept() (net.Conn, error) {
	c, err := r.Listener.Accept()
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.accepted++
	r.mu.Unlock()
	return &recordedConn{Conn: c, r: r}, nil
}

func (r *recorder) seen() (int, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.accepted, r.read.String()
}

type recordedConn struct {
	net.Conn
	r *recorder
}

func (c *recordedConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.r.mu.Lock()
	c.r.read.Write(b[:n])
	c.r.mu.Unlock()
	return n, err
}

// recordingServer starts an IMAP server on 127.0.0.1 with STARTTLS when tlsCfg is set
// (and then no clear-text login), clear text only otherwise.
func recordingServer(t *testing.T, tlsCfg *tls.Config) (string, *recorder) {
	t.Helper()
	mem := imapmemserver.New()
	user := imapmemserver.NewUser(testUser, testPass)
	if err := user.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	mem.AddUser(user)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		TLSConfig:    tlsCfg,
		InsecureAuth: tlsCfg == nil,
		Logger:       log.New(io.Discard, "", 0),
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{Listener: ln}
	go func() { _ = srv.Serve(rec) }()
	t.Cleanup(func() { srv.Close() })
	return "imap://" + ln.Addr().String() + "/INBOX", rec
}

func account(url string) Account {
	return Account{ConnID: "conn_1", OrgID: "org_1", Vendor: "smtp", URL: url, Username: testUser, Password: testPass}
}

// Under the default policy a mailbox on a loopback address, by address or by a name that
// resolves to it, is never dialled.
func TestPollRefusesNonPublicMailbox(t *testing.T) {
	url, rec := recordingServer(t, nil)
	p := New(nil, &memIngester{stored: map[string]mailtrail.Event{}}, Options{AllowInsecure: true})
	port := url[strings.LastIndexByte(url, ':')+1 : strings.LastIndexByte(url, '/')]
	for _, u := range []string{url, "imap://localhost:" + port + "/INBOX", "imaps://[::1]:" + port + "/INBOX"} {
		if _, err := p.Poll(context.Background(), account(u)); !errors.Is(err, egress.ErrRefused) {
			t.Errorf("poll %s: %v, want egress.ErrRefused", u, err)
		}
	}
	if n, _ := rec.seen(); n != 0 {
		t.Fatalf("the loopback server accepted %d connections", n)
	}
}

// imap:// to a server without STARTTLS fails before the login is sent unless the operator
// allows clear text.
func TestPollRefusesClearTextLogin(t *testing.T) {
	url, rec := recordingServer(t, nil)
	p := New(nil, &memIngester{stored: map[string]mailtrail.Event{}}, Options{Egress: loopbackOnly})
	if _, err := p.Poll(context.Background(), account(url)); !errors.Is(err, ErrCleartext) {
		t.Fatalf("poll: %v, want ErrCleartext", err)
	}
	if _, read := rec.seen(); strings.Contains(strings.ToUpper(read), "LOGIN") || strings.Contains(read, testPass) {
		t.Fatalf("the login reached the server in clear text: %q", read)
	}
	p = New(nil, &memIngester{stored: map[string]mailtrail.Event{}}, Options{Egress: loopbackOnly, AllowInsecure: true})
	if _, err := p.Poll(context.Background(), account(url)); err != nil {
		t.Fatalf("poll with clear text allowed: %v", err)
	}
}

// imap:// to a server that takes STARTTLS logs in over TLS: the password never crosses
// in clear.
func TestPollStartTLS(t *testing.T) {
	ts := httptest.NewTLSServer(nil) // only for its certificate (127.0.0.1, example.com)
	ts.Close()
	url, rec := recordingServer(t, &tls.Config{Certificates: ts.TLS.Certificates})
	roots := x509.NewCertPool()
	roots.AddCert(ts.Certificate())
	p := New(nil, &memIngester{stored: map[string]mailtrail.Event{}}, Options{Egress: loopbackOnly,
		TLSConfig: &tls.Config{RootCAs: roots, ServerName: "example.com", MinVersion: tls.VersionTLS12}})
	if _, err := p.Poll(context.Background(), account(url)); err != nil {
		t.Fatalf("poll over STARTTLS: %v", err)
	}
	if _, read := rec.seen(); !strings.Contains(strings.ToUpper(read), "STARTTLS") || strings.Contains(read, testPass) {
		t.Fatalf("no STARTTLS, or the password in clear: %q", read)
	}
}
