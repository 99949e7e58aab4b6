package httpd

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/mailtrail/mailtrail"
)

// readablePosts are the API routes whose method changes data in general but which only
// read: the route table declares them keyRead, and this list says so a second time, so a
// write route made readable by mistake fails TestRouteAccessDeclared.
var readablePosts = map[string]bool{
	"POST /api/v1/segments/evaluate":        true,
	"POST /api/v1/segments/{name}/evaluate": true,
	"POST /api/v1/suppressions/check":       true,
}

// Every API route declares its access: the API's GETs and the readable POSTs are open
// to a read-only key, every other method needs a key of scope all, the admin API the admin
// token, and nothing else is behind a key.
func TestRouteAccessDeclared(t *testing.T) {
	for _, rt := range (&Server{}).Routes() {
		id := rt.Method + " " + rt.Pattern
		var want access
		switch {
		case strings.HasPrefix(rt.Pattern, "/api/v1/admin/"):
			want = adminOnly
		case strings.HasPrefix(rt.Pattern, "/api/v1/"):
			want = keyWrite
			if rt.Method == http.MethodGet || readablePosts[id] {
				want = keyRead
			}
		default:
			want = public
		}
		if rt.access != want {
			t.Errorf("%s: access %d, want %d", id, rt.access, want)
		}
	}
}

// A read-only key is refused, with the one 403 body, on every route declared keyWrite
// (the same request with a key of scope all is not), and let through on every keyRead
// route.
func TestReadOnlyKeyOnEveryRoute(t *testing.T) {
	h := newHookServer(t)
	ctx := context.Background()
	org, err := h.s.store.Authenticate(ctx, h.key)
	if err != nil {
		t.Fatal(err)
	}
	_, ro, err := h.s.store.CreateAPIKey(ctx, org.ID, "bi", mailtrail.ScopeRead)
	if err != nil {
		t.Fatal(err)
	}
	const forbidden = `{"error":{"code":"forbidden","message":"this API key is read-only: use a key with scope all to change data"}}` + "\n"
	param := regexp.MustCompile(`\{[^}]+\}`)
	n := 0
	for _, rt := range h.s.Routes() {
		if rt.access != keyRead && rt.access != keyWrite {
			continue
		}
		n++
		path := param.ReplaceAllString(rt.Pattern, "x")
		rec := h.do(rt.Method, path, http.Header{"Authorization": {"Bearer " + ro}}, []byte(`{}`))
		refused := rec.Code == http.StatusForbidden && rec.Body.String() == forbidden
		switch rt.access {
		case keyWrite:
			if !refused {
				t.Errorf("%s %s with a read-only key: %d %s, want 403 %s", rt.Method, rt.Pattern, rec.Code, rec.Body, forbidden)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("%s %s: Content-Type %q", rt.Method, rt.Pattern, ct)
			}
			if all := h.do(rt.Method, path, http.Header{"Authorization": {"Bearer " + h.key}}, []byte(`{}`)); all.Code == http.StatusForbidden {
				t.Errorf("%s %s refused a key of scope all: %s", rt.Method, rt.Pattern, all.Body)
			}
		case keyRead:
			if refused || rec.Code == http.StatusUnauthorized {
				t.Errorf("%s %s refused a read-only key: %d %s", rt.Method, rt.Pattern, rec.Code, rec.Body)
			}
		}
	}
	if n < 40 {
		t.Fatalf("only %d authenticated routes walked", n)
	}
}

// Without a key, or with an unknown one, every authenticated route answers 401 before
// its handler runs.
func TestKeyRequiredOnEveryAPIRoute(t *testing.T) {
	h := newHookServer(t)
	param := regexp.MustCompile(`\{[^}]+\}`)
	const missing = `{"error":{"code":"unauthorized","message":"missing API key: send Authorization: Bearer <key>"}}` + "\n"
	for _, rt := range h.s.Routes() {
		if rt.access != keyRead && rt.access != keyWrite {
			continue
		}
		path := param.ReplaceAllString(rt.Pattern, "x")
		if rec := h.do(rt.Method, path, nil, []byte(`{}`)); rec.Code != http.StatusUnauthorized || rec.Body.String() != missing {
			t.Errorf("%s %s without a key: %d %s", rt.Method, rt.Pattern, rec.Code, rec.Body)
		}
		if rec := h.do(rt.Method, path, http.Header{"Authorization": {"Bearer nope"}}, []byte(`{}`)); rec.Code != http.StatusUnauthorized {
			t.Errorf("%s %s with an unknown key: %d %s", rt.Method, rt.Pattern, rec.Code, rec.Body)
		}
	}
}
