package httpd

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// openAPIMethods are the operation keys of an OpenAPI path item.
var openAPIMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

var (
	wildcardRest = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*)\.\.\.\}`)
	pathParam    = regexp.MustCompile(`\{([^{}]+)\}`)
)

func loadOpenAPI(t *testing.T) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(openapiDoc, &doc); err != nil {
		t.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	if v, _ := doc["openapi"].(string); v != "3.0.3" {
		t.Fatalf("openapi = %q, want 3.0.3", v)
	}
	return doc
}

// openAPIPath converts a ServeMux pattern to an OpenAPI path: {name...} becomes {name}
// and a trailing {$} is dropped.
func openAPIPath(pattern string) string {
	p := strings.TrimSuffix(pattern, "{$}")
	return wildcardRest.ReplaceAllString(p, "{$1}")
}

// documentedOps returns "METHOD path" of every operation of doc.
func documentedOps(doc map[string]any) map[string]bool {
	ops := map[string]bool{}
	paths, _ := doc["paths"].(map[string]any)
	for path, item := range paths {
		item, _ := item.(map[string]any)
		for key := range item {
			if slices.Contains(openAPIMethods, key) {
				ops[strings.ToUpper(key)+" "+path] = true
			}
		}
	}
	return ops
}

// routeDrift lists the routes missing from doc and the operations of doc that no route
// serves. A GET route also serves HEAD, so a documented HEAD is accepted beside it.
func routeDrift(doc map[string]any, routes []Route) []string {
	registered := map[string]bool{}
	for _, rt := range routes {
		registered[rt.Method+" "+openAPIPath(rt.Pattern)] = true
	}
	documented := documentedOps(doc)
	var problems []string
	for op := range registered {
		if !documented[op] {
			problems = append(problems, "route not documented: "+op)
		}
	}
	for op := range documented {
		if registered[op] {
			continue
		}
		if path, ok := strings.CutPrefix(op, "HEAD "); ok && registered["GET "+path] {
			continue
		}
		problems = append(problems, "documented operation has no route: "+op)
	}
	sort.Strings(problems)
	return problems
}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc := loadOpenAPI(t)
	for _, p := range routeDrift(doc, (&Server{}).Routes()) {
		t.Error(p)
	}
}

func TestOpenAPIDriftIsDetected(t *testing.T) {
	doc := loadOpenAPI(t)
	routes := (&Server{}).Routes()

	added := append(slices.Clone(routes), Route{Method: "GET", Pattern: "/api/v1/undocumented/{id}"})
	got := routeDrift(doc, added)
	if want := []string{"route not documented: GET /api/v1/undocumented/{id}"}; !slices.Equal(got, want) {
		t.Errorf("with an undocumented route: drift = %q, want %q", got, want)
	}

	method := slices.Clone(routes)
	for i := range method {
		if method[i].Pattern == "/api/v1/messages" {
			method[i].Method = "PUT"
		}
	}
	got = routeDrift(doc, method)
	want := []string{"documented operation has no route: POST /api/v1/messages", "route not documented: PUT /api/v1/messages"}
	if !slices.Equal(got, want) {
		t.Errorf("with a changed method: drift = %q, want %q", got, want)
	}

	removed := slices.DeleteFunc(slices.Clone(routes), func(rt Route) bool { return rt.Pattern == "/readyz" })
	got = routeDrift(doc, removed)
	if want := []string{"documented operation has no route: GET /readyz"}; !slices.Equal(got, want) {
		t.Errorf("with a removed route: drift = %q, want %q", got, want)
	}
}

func TestOpenAPIPathConversion(t *testing.T) {
	for in, want := range map[string]string{
		"/api/track/open/{token}": "/api/track/open/{token}",
		"/files/{path...}":        "/files/{path}",
		"/index/{$}":              "/index/",
		"/healthz":                "/healthz",
	} {
		if got := openAPIPath(in); got != want {
			t.Errorf("openAPIPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// resolveRef returns the value a local JSON pointer $ref names, or false.
func resolveRef(doc map[string]any, ref string) (any, bool) {
	ptr, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, false
	}
	var cur any = doc
	for _, tok := range strings.Split(ptr, "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[tok]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func TestOpenAPIRefsResolve(t *testing.T) {
	doc := loadOpenAPI(t)
	n := 0
	var walk func(at string, v any)
	walk = func(at string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				n++
				if _, ok := resolveRef(doc, ref); !ok {
					t.Errorf("%s: $ref %q does not resolve", at, ref)
				}
			}
			for k, c := range v {
				walk(at+"/"+k, c)
			}
		case []any:
			for _, c := range v {
				walk(at+"[]", c)
			}
		}
	}
	walk("#", doc)
	if n == 0 {
		t.Error("no $ref found: the walk is broken")
	}
}

// deref follows v's $ref, if any.
func deref(doc map[string]any, v any) map[string]any {
	m, _ := v.(map[string]any)
	if ref, ok := m["$ref"].(string); ok {
		r, _ := resolveRef(doc, ref)
		m, _ = r.(map[string]any)
	}
	return m
}

func TestOpenAPIOperations(t *testing.T) {
	doc := loadOpenAPI(t)
	paths, _ := doc["paths"].(map[string]any)
	opIDs := map[string]string{}
	for path, item := range paths {
		item, _ := item.(map[string]any)
		var inPath []string
		for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
			inPath = append(inPath, m[1])
		}
		for _, method := range openAPIMethods {
			op, ok := item[method].(map[string]any)
			if !ok {
				continue
			}
			name := strings.ToUpper(method) + " " + path
			if s, _ := op["summary"].(string); s == "" {
				t.Errorf("%s: no summary", name)
			}
			if s, _ := op["description"].(string); s == "" {
				t.Errorf("%s: no description", name)
			}
			if id, _ := op["operationId"].(string); id == "" {
				t.Errorf("%s: no operationId", name)
			} else if prev, dup := opIDs[id]; dup {
				t.Errorf("%s: operationId %q already used by %s", name, id, prev)
			} else {
				opIDs[id] = name
			}
			if resp, _ := op["responses"].(map[string]any); len(resp) == 0 {
				t.Errorf("%s: no responses", name)
			}

			declared := map[string]bool{}
			params, _ := item["parameters"].([]any)
			opParams, _ := op["parameters"].([]any)
			for _, p := range append(slices.Clone(params), opParams...) {
				p := deref(doc, p)
				if p["in"] != "path" {
					continue
				}
				pname, _ := p["name"].(string)
				if p["required"] != true {
					t.Errorf("%s: path parameter %q is not required", name, pname)
				}
				declared[pname] = true
			}
			for _, want := range inPath {
				if !declared[want] {
					t.Errorf("%s: path parameter {%s} is not declared", name, want)
				}
			}
			for got := range declared {
				if !slices.Contains(inPath, got) {
					t.Errorf("%s: declared path parameter %q is not in the path", name, got)
				}
			}
		}
	}
}

// TestOpenAPIErrorCodes keeps the ErrorCode enum equal to the codes the server maps to
// statuses.
func TestOpenAPIErrorCodes(t *testing.T) {
	doc := loadOpenAPI(t)
	schema, _ := resolveRef(doc, "#/components/schemas/ErrorCode")
	enum, _ := schema.(map[string]any)["enum"].([]any)
	var got, want []string
	for _, e := range enum {
		s, _ := e.(string)
		got = append(got, s)
	}
	for code := range statusOf {
		want = append(want, code)
	}
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("ErrorCode enum = %q, want the codes of statusOf %q", got, want)
	}
	for _, name := range []string{"apiKey", "adminToken"} {
		if _, ok := resolveRef(doc, "#/components/securitySchemes/"+name); !ok {
			t.Errorf("security scheme %s missing", name)
		}
	}
}

func TestOpenAPIServed(t *testing.T) {
	s := New(nil, nil, nil, nil, Options{})
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/openapi.json", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /openapi.json: status %d", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if rec.Body.String() != string(openapiDoc) {
		t.Error("GET /openapi.json does not serve the embedded document")
	}
}
