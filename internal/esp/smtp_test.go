package esp

import (
	"context"
	"encoding/base64"
	"net/http"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail"
)

func TestSMTPVendor(t *testing.T) {
	ctx := context.Background()
	body := readFileB(t, "bouncemail", "testdata", "gmail.eml")
	c := Credentials{Username: "pipe", Password: "pw", BearerToken: "tok"}
	for _, auth := range []string{"Bearer tok", "Basic " + base64.StdEncoding.EncodeToString([]byte("pipe:pw"))} {
		r := &Request{Header: http.Header{"Authorization": {auth}}, Body: body, Now: time.Now()}
		if err := (SMTP{}).Verify(ctx, r, c); err != nil {
			t.Errorf("%s: %v", auth, err)
		}
	}
	for _, auth := range []string{"", "Bearer to", "Basic " + base64.StdEncoding.EncodeToString([]byte("pipe:px"))} {
		r := &Request{Header: http.Header{"Authorization": {auth}}, Body: body}
		if err := (SMTP{}).Verify(ctx, r, c); codeB(err) != mailtrail.EUNAUTHORIZED {
			t.Errorf("%q: %v", auth, err)
		}
	}
	res, err := (SMTP{}).Parse(ctx, &Request{Body: body, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	evs := checkEventsB(t, "smtp", res.Events)
	if len(evs) != 1 || evs[0].Type != mailtrail.EventBounced || evs[0].MessageID != "msg_01HXGMAIL" || evs[0].CustomerEmail != "gina@gmail.com" {
		t.Fatalf("events %+v", evs)
	}
	res, err = (SMTP{}).Parse(ctx, &Request{Body: readFileB(t, "bouncemail", "testdata", "autoreply.eml"), Now: time.Now()})
	if err != nil || len(res.Events) != 0 || res.Ignored["not-report"] != 1 {
		t.Fatalf("auto-reply: %v %+v", err, res)
	}
	if _, err := (SMTP{}).Parse(ctx, &Request{Body: []byte("garbage")}); codeB(err) != mailtrail.EINVALID {
		t.Fatalf("garbage: %v", err)
	}
	if (SMTP{}).MaxBody() != 10<<20 {
		t.Fatal("max body")
	}
}

func TestRegisterB(t *testing.T) {
	r := Registry{}
	RegisterB(r, &recordingFetcherB{})
	want := map[string]int64{"ses": 256 << 10, "resend": 1 << 20, "ocimail": 1 << 20, "smtp": 10 << 20}
	for name, max := range want {
		v, ok := r.Get(name)
		if !ok || v.Name() != name || v.MaxBody() != max {
			t.Errorf("%s: %v %v", name, ok, v)
		}
	}
}
