package registry_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/switchboard-mcp/switchboard/registry"
)

// contract is the OpenAPI document, loaded and validated.
func contract(t *testing.T) *openapi3.T {
	t.Helper()
	l := openapi3.NewLoader()
	doc, err := l.LoadFromData(registry.OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	// The document's own publish examples lack the required "transport"
	// of their packages, and its root carries a "$id" that OpenAPI does not
	// define; everything else validates.
	if err := doc.Validate(context.Background(), openapi3.DisableExamplesValidation(), openapi3.AllowExtraSiblingFields("$id")); err != nil {
		t.Fatalf("the OpenAPI document does not validate: %v", err)
	}
	return doc
}

// call is one request of the contract test: the document's path template
// and its parameters, and what status is expected.
type call struct {
	method, template string
	params           map[string]string // path parameters (raw, encoded by the test)
	query            string
	token            string
	body             any
	status           int
}

// TestContract drives every route and parameter of the OpenAPI document:
// the requests are valid per the document, 2xx bodies validate against
// its schemas, and error statuses are documented (or the official
// server's 422 for malformed parameters, see docs/registry.md).
func TestContract(t *testing.T) {
	doc := contract(t)
	e := newEnv(t, nil)
	e.publish("com.example/contract", "1.0.0", "Contract test server")
	e.publish("com.example/contract", "1.0.1+build.5", "Contract test server")
	e.publish("com.example/other", "0.1.0", "Another server")
	var tr registry.TokenResponse
	e.do("POST", "/v0/auth/none", "", nil).json(t, &tr)

	name := map[string]string{"serverName": "com.example/contract"}
	ver := func(v string) map[string]string {
		return map[string]string{"serverName": "com.example/contract", "version": v}
	}
	good := serverJSON("com.example/contract", "2.0.0", "Contract test server")
	calls := []call{
		{method: "GET", template: "/v0.1/servers", status: 200},
		{method: "GET", template: "/v0.1/servers", query: "limit=1", status: 200},
		{method: "GET", template: "/v0.1/servers", query: "limit=1&cursor=" + url.QueryEscape("com.example/contract:1.0.0"), status: 200},
		{method: "GET", template: "/v0.1/servers", query: "search=contract", status: 200},
		{method: "GET", template: "/v0.1/servers", query: "updated_since=2020-01-01T00:00:00Z", status: 200},
		{method: "GET", template: "/v0.1/servers", query: "version=latest", status: 200},
		{method: "GET", template: "/v0.1/servers", query: "version=1.0.0", status: 200},
		{method: "GET", template: "/v0.1/servers", query: "include_deleted=true", status: 200},
		{method: "GET", template: "/v0.1/servers", query: "limit=1000", status: 422},
		{method: "GET", template: "/v0.1/servers", query: "updated_since=not-a-time", status: 400},
		{method: "GET", template: "/v0.1/servers/{serverName}/versions", params: name, status: 200},
		{method: "GET", template: "/v0.1/servers/{serverName}/versions", params: name, query: "include_deleted=true", status: 200},
		{method: "GET", template: "/v0.1/servers/{serverName}/versions", params: map[string]string{"serverName": "com.example/unknown"}, status: 404},
		{method: "GET", template: "/v0.1/servers/{serverName}/versions/{version}", params: ver("latest"), status: 200},
		{method: "GET", template: "/v0.1/servers/{serverName}/versions/{version}", params: ver("1.0.1+build.5"), status: 200},
		{method: "GET", template: "/v0.1/servers/{serverName}/versions/{version}", params: ver("1.0.0"), query: "include_deleted=false", status: 200},
		{method: "GET", template: "/v0.1/servers/{serverName}/versions/{version}", params: ver("9.9.9"), status: 404},
		{method: "PUT", template: "/v0.1/servers/{serverName}/versions/{version}", params: ver("1.0.0"), token: adminToken, body: serverJSON("com.example/contract", "1.0.0", "Edited description"), status: 200},
		{method: "PUT", template: "/v0.1/servers/{serverName}/versions/{version}", params: ver("1.0.0"), token: "invalid", body: good, status: 401},
		{method: "PUT", template: "/v0.1/servers/{serverName}/versions/{version}", params: ver("1.0.0"), body: good, status: 422},
		{method: "PUT", template: "/v0.1/servers/{serverName}/versions/{version}", params: ver("1.0.0"), token: tr.RegistryToken, body: serverJSON("com.example/contract", "1.0.0", "x"), status: 403},
		{method: "PUT", template: "/v0.1/servers/{serverName}/versions/{version}", params: ver("7.7.7"), token: adminToken, body: serverJSON("com.example/contract", "7.7.7", "x"), status: 404},
		{method: "DELETE", template: "/v0.1/servers/{serverName}/versions/{version}", params: ver("1.0.0"), token: adminToken, status: 501},
		{method: "PATCH", template: "/v0.1/servers/{serverName}/versions/{version}/status", params: ver("1.0.0"), token: adminToken, body: map[string]any{"status": "deprecated", "statusMessage": "Please upgrade"}, status: 200},
		{method: "PATCH", template: "/v0.1/servers/{serverName}/versions/{version}/status", params: ver("1.0.0"), token: adminToken, body: map[string]any{"status": "deprecated", "statusMessage": "Please upgrade"}, status: 400},
		{method: "PATCH", template: "/v0.1/servers/{serverName}/versions/{version}/status", params: ver("1.0.0"), token: "invalid", body: map[string]any{"status": "active"}, status: 401},
		{method: "PATCH", template: "/v0.1/servers/{serverName}/versions/{version}/status", params: ver("1.0.0"), body: map[string]any{"status": "active"}, status: 422},
		{method: "PATCH", template: "/v0.1/servers/{serverName}/versions/{version}/status", params: ver("1.0.0"), token: tr.RegistryToken, body: map[string]any{"status": "active"}, status: 403},
		{method: "PATCH", template: "/v0.1/servers/{serverName}/versions/{version}/status", params: ver("3.0.0"), token: adminToken, body: map[string]any{"status": "active"}, status: 404},
		{method: "PATCH", template: "/v0.1/servers/{serverName}/status", params: name, token: adminToken, body: map[string]any{"status": "deprecated", "statusMessage": "Retired"}, status: 200},
		{method: "PATCH", template: "/v0.1/servers/{serverName}/status", params: name, token: adminToken, body: map[string]any{"status": "deprecated", "statusMessage": "Retired"}, status: 400},
		{method: "PATCH", template: "/v0.1/servers/{serverName}/status", params: name, token: "invalid", body: map[string]any{"status": "active"}, status: 401},
		{method: "PATCH", template: "/v0.1/servers/{serverName}/status", params: name, token: tr.RegistryToken, body: map[string]any{"status": "active"}, status: 403},
		{method: "PATCH", template: "/v0.1/servers/{serverName}/status", params: map[string]string{"serverName": "com.example/unknown"}, token: adminToken, body: map[string]any{"status": "active"}, status: 404},
		{method: "POST", template: "/v0.1/publish", token: adminToken, body: good, status: 200},
		{method: "POST", template: "/v0.1/publish", token: "invalid", body: good, status: 401},
		{method: "POST", template: "/v0.1/publish", body: good, status: 422},
		{method: "POST", template: "/v0.1/publish", token: tr.RegistryToken, body: serverJSON("com.example/contract", "3.0.0", "x"), status: 403},
	}
	seen := map[string]bool{}
	for _, c := range calls {
		t.Run(c.method+" "+c.template+"?"+c.query+" "+strconv.Itoa(c.status), func(t *testing.T) {
			seen[c.method+" "+c.template] = true
			item := doc.Paths.Find(c.template)
			if item == nil {
				t.Fatalf("%s is not in the document", c.template)
			}
			op := item.GetOperation(c.method)
			if op == nil {
				t.Fatalf("%s %s is not in the document", c.method, c.template)
			}
			p := c.template
			for k, v := range c.params {
				p = strings.ReplaceAll(p, "{"+k+"}", url.PathEscape(v))
			}
			if c.query != "" {
				p += "?" + c.query
			}
			var body []byte
			if c.body != nil {
				body = mustJSON(c.body)
			}
			req, _ := http.NewRequest(c.method, e.srv.URL+p, bytes.NewReader(body))
			if body != nil {
				req.Header.Set("Content-Type", "application/json")
			}
			if c.token != "" {
				req.Header.Set("Authorization", "Bearer "+c.token)
			}
			// Validation fills in defaults (include_deleted=false): check a
			// copy, send the request as written.
			vreq := req.Clone(context.Background())
			vreq.Body = io.NopCloser(bytes.NewReader(body))
			in := &openapi3filter.RequestValidationInput{
				Request:    vreq,
				PathParams: c.params,
				Route:      &routers.Route{Spec: doc, Path: c.template, PathItem: item, Method: c.method, Operation: op},
				Options:    &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
			}
			if c.status < 400 {
				if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
					t.Fatalf("the request does not follow the document: %v", err)
				}
			}
			req.Body = io.NopCloser(bytes.NewReader(body))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			rb, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, c.status, rb)
			}
			if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
				t.Errorf("no CORS header")
			}
			documented := op.Responses.Status(c.status) != nil
			if c.status >= 400 {
				// Errors are problem+json; the statuses are the document's,
				// or 422 for malformed parameters (the official server's).
				if !documented && c.status != 422 && !(c.status == 404 && c.method == "GET") && !(c.status == 400 && c.template == "/v0.1/servers") {
					t.Errorf("status %d is not documented for %s %s", c.status, c.method, c.template)
				}
				if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
					t.Errorf("error content type %q", ct)
				}
				return
			}
			if !documented {
				t.Fatalf("status %d is not documented", c.status)
			}
			out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
				Body: io.NopCloser(bytes.NewReader(rb)), Options: &openapi3filter.Options{IncludeResponseStatus: true}}
			if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
				t.Fatalf("the response does not follow the document: %v\n%s", err, rb)
			}
		})
	}
	// Every operation of the document was exercised.
	for _, path := range doc.Paths.InMatchingOrder() {
		for method := range doc.Paths.Value(path).Operations() {
			if !seen[method+" "+path] {
				t.Errorf("%s %s is not exercised", method, path)
			}
		}
	}
}

func mustJSON(v any) []byte {
	var b bytes.Buffer
	enc := jsonEncoder(&b)
	enc.Encode(v)
	return bytes.TrimSpace(b.Bytes())
}
