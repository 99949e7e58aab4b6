package httpd

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"testing"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/esp"
)

// The webhooks service, called without HTTP: the connection is looked up before the body
// is opened (a request to no connection is refused unread), the body is opened once,
// bounded to the vendor's limit, and a signed request is stored and counted.
func TestWebhookServiceSteps(t *testing.T) {
	h := newHookServer(t)
	c := h.genericConn()
	body := genericEvents(2, h.clock())
	opened := 0
	var bound int64
	in := func(connID, sig string) inbound {
		return inbound{Vendor: "generic", ConnID: connID, Header: http.Header{esp.GenericSignatureHeader: {sig}},
			ContentLength: int64(len(body)), Route: "test",
			Body: func(n int64) io.Reader { opened++; bound = n; return bytes.NewReader(body) }}
	}
	ctx := context.Background()

	if _, err := h.s.hooks.receive(ctx, in("conn_doesnotexist", "")); mailtrail.ErrorCode(err) != mailtrail.ENOTFOUND || opened != 0 {
		t.Fatalf("no connection: %v, body opened %d times", err, opened)
	}
	if _, err := h.s.hooks.receive(ctx, in(c.ID, "t=1,v1=00")); mailtrail.ErrorCode(err) != mailtrail.EUNAUTHORIZED || opened != 1 {
		t.Fatalf("bad signature: %v, body opened %d times", err, opened)
	}
	if v, _ := h.s.opt.Vendors.Get("generic"); bound != v.MaxBody() {
		t.Errorf("body bounded to %d, want the vendor's %d", bound, v.MaxBody())
	}
	ts := strconv.FormatInt(h.clock().Unix(), 10)
	m := hmac.New(sha256.New, []byte(genericKey))
	m.Write([]byte(ts + "." + string(body)))
	out, err := h.s.hooks.receive(ctx, in(c.ID, "t="+ts+",v1="+hex.EncodeToString(m.Sum(nil))))
	if err != nil || out.Accepted != 2 || out.Unattributed != 2 {
		t.Fatalf("signed: %+v %v", out, err)
	}
	if got := h.s.conns.Health(c.ID).Counts; got.AcceptedEvents != 2 || got.SignatureFailures != 1 {
		t.Errorf("health %+v", got)
	}
}
