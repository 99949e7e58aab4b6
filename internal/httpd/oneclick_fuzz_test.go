package httpd

import (
	"bytes"
	"mime/multipart"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzOneClickBody: any body under any content type is read within its bound without a
// panic, and is accepted only when it really carries List-Unsubscribe=One-Click.
func FuzzOneClickBody(f *testing.F) {
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	mw.WriteField("List-Unsubscribe", "One-Click")
	mw.Close()
	f.Add("multipart/form-data; boundary="+mw.Boundary(), mp.Bytes())
	f.Add("application/x-www-form-urlencoded", []byte("List-Unsubscribe=One-Click"))
	f.Add("", []byte("List-Unsubscribe=One-Click&x=%zz"))
	f.Add("text/plain", []byte("List-Unsubscribe=One-Click"))
	f.Add("multipart/form-data; boundary=x", []byte("--x\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--x--"))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		r := httptest.NewRequest("POST", "/api/track/unsubscribe/x", bytes.NewReader(body))
		r.Header.Set("Content-Type", ct)
		if ok, _ := oneClickBody(httptest.NewRecorder(), r); !ok {
			return
		}
		// Accepted: the body must say One-Click for List-Unsubscribe.
		if !bytes.Contains(body, []byte("One-Click")) || !bytes.Contains(body, []byte("List-Unsubscribe")) {
			t.Fatalf("accepted %q as %q", body, ct)
		}
		if strings.HasPrefix(ct, "application/x-www-form-urlencoded") || ct == "" {
			if v, err := url.ParseQuery(string(body)); err != nil || v.Get("List-Unsubscribe") != "One-Click" {
				t.Fatalf("accepted form %q", body)
			}
		}
	})
}
