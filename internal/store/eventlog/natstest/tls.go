package natstest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// TLSFiles are the PEM files of TLSServer: the certificate authority that signed the
// server's certificate and a client's, and that client's certificate and key.
type TLSFiles struct{ CA, Cert, Key string }

// Certs are PEM files made for a test: an authority, a server certificate for 127.0.0.1
// and a client certificate, both signed by it, with their keys.
type Certs struct {
	CA                    string
	ServerCert, ServerKey string
	ClientCert, ClientKey string
}

// NewCerts writes a test authority and certificates signed by it into a directory of
// the test.
func NewCerts(t testing.TB) Certs {
	t.Helper()
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mailtrail test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	must(err)
	ca, err := x509.ParseCertificate(caDER)
	must(err)
	issue := func(name string, serial int64, usage x509.ExtKeyUsage) (certFile, keyFile string) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		must(err)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		must(err)
		kb, err := x509.MarshalECPrivateKey(key)
		must(err)
		certFile, keyFile = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
		must(os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
		must(os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600))
		return certFile, keyFile
	}
	var c Certs
	c.CA = filepath.Join(dir, "ca.pem")
	must(os.WriteFile(c.CA, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600))
	c.ServerCert, c.ServerKey = issue("server", 2, x509.ExtKeyUsageServerAuth)
	c.ClientCert, c.ClientKey = issue("client", 3, x509.ExtKeyUsageClientAuth)
	return c
}

// TLSServer starts a JetStream server on 127.0.0.1 in this process that speaks only TLS
// (a certificate for 127.0.0.1 signed by a test authority) and, when verifyClients is
// set, takes only clients with a certificate of that authority. It returns its tls://
// URL and the files; it stops when the test ends.
func TLSServer(t testing.TB, verifyClients bool) (url string, files TLSFiles) {
	t.Helper()
	c := NewCerts(t)
	tc, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: c.ServerCert, KeyFile: c.ServerKey, CaFile: c.CA, Verify: verifyClients})
	if err != nil {
		t.Fatal(err)
	}
	tc.MinVersion = tls.VersionTLS12
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(),
		SyncAlways: true, MaxPayload: 8 << 20, TLS: true, TLSVerify: verifyClients, TLSConfig: tc, TLSTimeout: 2,
		NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	s.SetLogger(tlog{t}, false, false)
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("the TLS server did not start")
	}
	t.Cleanup(s.Shutdown)
	return "tls://" + s.Addr().String(), TLSFiles{CA: c.CA, Cert: c.ClientCert, Key: c.ClientKey}
}
