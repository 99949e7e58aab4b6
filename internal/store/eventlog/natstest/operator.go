package natstest

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"
)

// OperatorServer starts a JetStream server on 127.0.0.1 in operator mode (decentralized
// JWT authentication, as a production cluster run with nsc is) with one account allowed
// JetStream, in this process, and returns its URL and a credentials file of a user of
// that account. It stops when the test ends.
func OperatorServer(t testing.TB) (url, creds string) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	okp, err := nkeys.CreateOperator()
	must(err)
	opub, err := okp.PublicKey()
	must(err)
	// JetStream needs the server's system account.
	skp, err := nkeys.CreateAccount()
	must(err)
	spub, err := skp.PublicKey()
	must(err)
	oc := jwt.NewOperatorClaims(opub)
	oc.SystemAccount = spub
	_, err = oc.Encode(okp) // signs the claims
	must(err)
	sjwt, err := jwt.NewAccountClaims(spub).Encode(okp)
	must(err)
	akp, err := nkeys.CreateAccount()
	must(err)
	apub, err := akp.PublicKey()
	must(err)
	ac := jwt.NewAccountClaims(apub)
	ac.Limits.JetStreamLimits = jwt.JetStreamLimits{MemoryStorage: -1, DiskStorage: -1, Streams: -1, Consumer: -1}
	ajwt, err := ac.Encode(okp)
	must(err)
	ukp, err := nkeys.CreateUser()
	must(err)
	upub, err := ukp.PublicKey()
	must(err)
	ujwt, err := jwt.NewUserClaims(upub).Encode(akp)
	must(err)
	seed, err := ukp.Seed()
	must(err)
	cf, err := jwt.FormatUserConfig(ujwt, seed)
	must(err)
	creds = filepath.Join(t.TempDir(), "user.creds")
	must(os.WriteFile(creds, cf, 0o600))

	resolver := &server.MemAccResolver{}
	must(resolver.Store(apub, ajwt))
	must(resolver.Store(spub, sjwt))
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(),
		SyncAlways: true, MaxPayload: 8 << 20, TrustedOperators: []*jwt.OperatorClaims{oc}, AccountResolver: resolver, SystemAccount: spub,
		NoLog: true, NoSigs: true})
	must(err)
	s.SetLogger(tlog{t}, false, false)
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("the operator-mode server did not start")
	}
	t.Cleanup(s.Shutdown)
	return s.ClientURL(), creds
}

// tlog is the test server's logger (its lines show with -v or when the test fails).
type tlog struct{ t testing.TB }

func (l tlog) Noticef(f string, a ...any) { l.t.Logf("nats: "+f, a...) }
func (l tlog) Warnf(f string, a ...any)   { l.t.Logf("nats: "+f, a...) }
func (l tlog) Fatalf(f string, a ...any)  { l.t.Logf("nats: "+f, a...) }
func (l tlog) Errorf(f string, a ...any)  { l.t.Logf("nats: "+f, a...) }
func (l tlog) Debugf(f string, a ...any)  {}
func (l tlog) Tracef(f string, a ...any)  {}
