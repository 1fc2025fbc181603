package auth

import (
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/switchboard-mcp/switchboard/internal/resourceuri/resourceuritest"
)

// echoBody is a next handler that reports the body and token it saw.
type echoBody struct {
	body  []byte
	authz string // the Authorization header it saw
	info  *TokenInfo
	sid   string // Mcp-Session-Id to return on initialize
}

func (e *echoBody) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.body, _ = io.ReadAll(r.Body)
	e.info = TokenInfoFrom(r.Context())
	e.authz = r.Header.Get("Authorization")
	if e.sid != "" && strings.Contains(string(e.body), `"initialize"`) {
		w.Header().Set("Mcp-Session-Id", e.sid)
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("ok"))
}

type mwFixture struct {
	m    *Middleware
	next *echoBody
	h    http.Handler
	clk  *fixedClock
}

func newMW(t *testing.T, mutate func(*Options)) *mwFixture {
	t.Helper()
	clk := newClock()
	k1, _ := testRSAKeys(t)
	v, err := NewJWTVerifier(JWTOptions{Issuer: testIssuer, Audience: testResource,
		Keys: map[string]crypto.PublicKey{"k1": k1.Public()}, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	opts := &Options{
		Resource:             testResource,
		AuthorizationServers: []string{testIssuer},
		Scopes:               []string{"mcp"},
		MethodScopes:         map[string][]string{"resources/read": {"files:read"}},
		ToolScopes:           map[string][]string{"delete": {"files:write"}},
	}
	if mutate != nil {
		mutate(opts)
	}
	m, err := New(v, opts)
	if err != nil {
		t.Fatal(err)
	}
	next := &echoBody{}
	return &mwFixture{m: m, next: next, h: m.Wrap(next), clk: clk}
}

func (f *mwFixture) token(t *testing.T, mutate func(map[string]any)) string {
	k1, _ := testRSAKeys(t)
	c := baseClaims(f.clk.Now())
	if mutate != nil {
		mutate(c)
	}
	return mint(t, jose.RS256, k1, "k1", c)
}

func (f *mwFixture) do(method, body, token string, hdr ...string) *httptest.ResponseRecorder {
	var r *http.Request
	if body == "" {
		r = httptest.NewRequest(method, "/mcp", nil)
	} else {
		r = httptest.NewRequest(method, "/mcp", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Add(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	return w
}

const (
	initBody   = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
	echoCall   = `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}`
	deleteCall = `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"delete","arguments":{}}}`
)

func TestMiddlewareNoToken(t *testing.T) {
	f := newMW(t, nil)
	w := f.do("POST", initBody, "")
	if w.Code != http.StatusUnauthorized {
		t.Fatalf("status = %d", w.Code)
	}
	want := `Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", scope="mcp"`
	if got := w.Header().Get("WWW-Authenticate"); got != want {
		t.Fatalf("WWW-Authenticate = %s\nwant %s", got, want)
	}
	if f.next.body != nil {
		t.Fatal("next handler called")
	}
	// The hint names the tool's scope too.
	w = f.do("POST", deleteCall, "")
	if got := w.Header().Get("WWW-Authenticate"); !strings.HasSuffix(got, `scope="mcp files:write"`) {
		t.Fatalf("WWW-Authenticate = %s", got)
	}
	// Another scheme is no bearer token.
	w = f.do("POST", initBody, "", "Authorization", "Basic dTpw")
	if w.Code != http.StatusUnauthorized || strings.Contains(w.Header().Get("WWW-Authenticate"), "error=") {
		t.Fatalf("Basic: %d %s", w.Code, w.Header().Get("WWW-Authenticate"))
	}
}

func TestMiddlewareInvalidToken(t *testing.T) {
	f := newMW(t, nil)
	tok := f.token(t, func(c map[string]any) { c["aud"] = "https://other.example.com/mcp" })
	w := f.do("POST", initBody, tok)
	if w.Code != http.StatusUnauthorized {
		t.Fatalf("status = %d", w.Code)
	}
	got := w.Header().Get("WWW-Authenticate")
	if !strings.HasPrefix(got, `Bearer error="invalid_token", error_description="token is not meant for this resource (audience mismatch)", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", scope="mcp"`) {
		t.Fatalf("WWW-Authenticate = %s", got)
	}
	if strings.Contains(w.Body.String(), tok) || strings.Contains(got, tok) {
		t.Fatal("token echoed back")
	}
}

// TestMiddlewareTokenForAnotherResource: a token the same authorization
// server minted for another MCP server is refused (RFC 8707).
func TestMiddlewareTokenForAnotherResource(t *testing.T) {
	f := newMW(t, nil)
	other := f.token(t, func(c map[string]any) { c["aud"] = "https://mcp.example.com/other-mcp" })
	w := f.do("POST", initBody, other)
	if w.Code != http.StatusUnauthorized || !strings.Contains(w.Header().Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Fatalf("status = %d, WWW-Authenticate = %s", w.Code, w.Header().Get("WWW-Authenticate"))
	}
}

func TestMiddlewareInsufficientScope(t *testing.T) {
	f := newMW(t, nil)
	tok := f.token(t, func(c map[string]any) { c["scope"] = "mcp files:read" })
	w := f.do("POST", deleteCall, tok)
	if w.Code != http.StatusForbidden {
		t.Fatalf("status = %d", w.Code)
	}
	want := `Bearer error="insufficient_scope", error_description="the request needs scope files:write", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", scope="mcp files:read files:write"`
	if got := w.Header().Get("WWW-Authenticate"); got != want {
		t.Fatalf("WWW-Authenticate = %s\nwant %s", got, want)
	}
	if f.next.body != nil {
		t.Fatal("next handler called")
	}
	// Other tools need only the global scope.
	if w := f.do("POST", echoCall, tok); w.Code != http.StatusOK {
		t.Fatalf("echo: status = %d", w.Code)
	}
}

func TestMiddlewareMethodScopes(t *testing.T) {
	f := newMW(t, nil)
	tok := f.token(t, func(c map[string]any) { c["scope"] = "mcp" })
	read := `{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"file:///x"}}`
	if w := f.do("POST", read, tok); w.Code != http.StatusForbidden || !strings.Contains(w.Header().Get("WWW-Authenticate"), `scope="mcp files:read"`) {
		t.Fatalf("status = %d, %s", w.Code, w.Header().Get("WWW-Authenticate"))
	}
	// A batch needs the scopes of every request in it.
	batch := `[` + echoCall + `,` + read + `]`
	if w := f.do("POST", batch, tok); w.Code != http.StatusForbidden {
		t.Fatalf("batch: status = %d", w.Code)
	}
	// Global scope missing: 403 for every method.
	tok = f.token(t, func(c map[string]any) { c["scope"] = "files:read" })
	if w := f.do("GET", "", tok); w.Code != http.StatusForbidden {
		t.Fatalf("GET without mcp: status = %d", w.Code)
	}
}

// TestMiddlewareUnreadableToolName: a tools/call whose name cannot be read
// needs every tool scope.
func TestMiddlewareUnreadableToolName(t *testing.T) {
	f := newMW(t, nil)
	tok := f.token(t, func(c map[string]any) { c["scope"] = "mcp" })
	for _, body := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","name":"delete"}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":7}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call"}`,
	} {
		if w := f.do("POST", body, tok); w.Code != http.StatusForbidden {
			t.Errorf("%s: status = %d", body, w.Code)
		}
	}
}

func TestMiddlewareBodyRestored(t *testing.T) {
	f := newMW(t, nil)
	tok := f.token(t, nil)
	w := f.do("POST", echoCall, tok)
	if w.Code != http.StatusOK {
		t.Fatalf("status = %d: %s", w.Code, w.Body)
	}
	if string(f.next.body) != echoCall {
		t.Fatalf("next saw body %q", f.next.body)
	}
	if f.next.info == nil || f.next.info.Subject != "alice" {
		t.Fatalf("TokenInfo = %+v", f.next.info)
	}
	if f.next.authz != "" {
		t.Fatal("the Authorization header reached the next handler")
	}
	f = newMW(t, func(o *Options) { o.KeepAuthorizationHeader = true })
	tok = f.token(t, nil)
	f.do("POST", echoCall, tok)
	if f.next.authz != "Bearer "+tok {
		t.Fatal("KeepAuthorizationHeader did not keep it")
	}
}

func TestMiddlewareBodyTooLarge(t *testing.T) {
	f := newMW(t, func(o *Options) { o.MaxBodyBytes = 100 })
	tok := f.token(t, nil)
	body := `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"` + strings.Repeat("x", 200) + `"}}`
	if w := f.do("POST", body, tok); w.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status = %d", w.Code)
	}
}

func TestMiddlewareMalformedRequests(t *testing.T) {
	f := newMW(t, nil)
	tok := f.token(t, nil)
	tests := []struct {
		name   string
		target string
		hdr    []string
	}{
		{"token in query", "/mcp?access_token=" + tok, []string{"Authorization", "Bearer " + tok}},
		{"token only in query", "/mcp?access_token=abc", nil},
		{"two Authorization headers", "/mcp", []string{"Authorization", "Bearer " + tok, "Authorization", "Bearer " + tok}},
		{"empty bearer", "/mcp", []string{"Authorization", "Bearer "}},
		{"bad characters", "/mcp", []string{"Authorization", "Bearer a,b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", tt.target, strings.NewReader(initBody))
			for i := 0; i+1 < len(tt.hdr); i += 2 {
				r.Header.Add(tt.hdr[i], tt.hdr[i+1])
			}
			w := httptest.NewRecorder()
			f.h.ServeHTTP(w, r)
			if w.Code != http.StatusBadRequest || !strings.Contains(w.Header().Get("WWW-Authenticate"), `error="invalid_request"`) {
				t.Fatalf("status = %d, WWW-Authenticate = %s", w.Code, w.Header().Get("WWW-Authenticate"))
			}
		})
	}
}

func TestMiddlewareVerifierUnavailable(t *testing.T) {
	m, err := New(VerifierFunc(func(context.Context, string) (*TokenInfo, error) {
		return nil, io.ErrUnexpectedEOF
	}), &Options{Resource: testResource, AuthorizationServers: []string{testIssuer}})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("POST", "/mcp", strings.NewReader(initBody))
	r.Header.Set("Authorization", "Bearer abc")
	w := httptest.NewRecorder()
	m.Wrap(&echoBody{}).ServeHTTP(w, r)
	if w.Code != http.StatusServiceUnavailable {
		t.Fatalf("status = %d", w.Code)
	}
}

// TestMiddlewareSessionBinding: a session created by one principal cannot
// be used with another principal's token.
func TestMiddlewareSessionBinding(t *testing.T) {
	f := newMW(t, nil)
	f.next.sid = "sess-1"
	alice := f.token(t, nil)
	bob := f.token(t, func(c map[string]any) { c["sub"] = "bob" })
	if w := f.do("POST", initBody, alice); w.Code != http.StatusOK {
		t.Fatalf("initialize: %d", w.Code)
	}
	if w := f.do("POST", echoCall, alice, "Mcp-Session-Id", "sess-1"); w.Code != http.StatusOK {
		t.Fatalf("alice: %d", w.Code)
	}
	if w := f.do("POST", echoCall, bob, "Mcp-Session-Id", "sess-1"); w.Code != http.StatusNotFound {
		t.Fatalf("bob on alice's session: %d", w.Code)
	}
	// Deleting the session forgets it.
	if w := f.do("DELETE", "", alice, "Mcp-Session-Id", "sess-1"); w.Code != http.StatusOK {
		t.Fatalf("delete: %d", w.Code)
	}
	if n := f.m.sessions.len(); n != 0 {
		t.Fatalf("table has %d entries after DELETE", n)
	}
}

func TestMiddlewareSessionBoundToken(t *testing.T) {
	f := newMW(t, nil)
	tok := f.token(t, func(c map[string]any) { c[BindingClaim] = "session:s1" })
	if w := f.do("POST", echoCall, tok, "Mcp-Session-Id", "s1"); w.Code != http.StatusOK {
		t.Fatalf("own session: %d", w.Code)
	}
	for _, hdr := range [][]string{{"Mcp-Session-Id", "s2"}, nil} {
		w := f.do("POST", echoCall, tok, hdr...)
		if w.Code != http.StatusUnauthorized || !strings.Contains(w.Header().Get("WWW-Authenticate"), "bound to another MCP session") {
			t.Fatalf("%v: status = %d %s", hdr, w.Code, w.Header().Get("WWW-Authenticate"))
		}
	}
}

func TestMiddlewareOptionsPassThrough(t *testing.T) {
	f := newMW(t, nil)
	if w := f.do("OPTIONS", "", ""); w.Code != http.StatusOK {
		t.Fatalf("status = %d", w.Code)
	}
}

func TestMount(t *testing.T) {
	f := newMW(t, func(o *Options) { o.ScopesSupported = []string{"mcp", "files:read"} })
	mux := http.NewServeMux()
	f.m.Mount(mux, f.next)
	for _, path := range []string{"/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"} {
		r := httptest.NewRequest("GET", path, nil)
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/json" || w.Header().Get("Access-Control-Allow-Origin") != "*" {
			t.Fatalf("%s: %d %v", path, w.Code, w.Header())
		}
		var doc map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		if doc["resource"] != testResource || !slices.Equal(toStrings(doc["authorization_servers"]), []string{testIssuer}) ||
			!slices.Equal(toStrings(doc["scopes_supported"]), []string{"mcp", "files:read"}) ||
			!slices.Equal(toStrings(doc["bearer_methods_supported"]), []string{"header"}) {
			t.Fatalf("%s: %s", path, w.Body)
		}
	}
	r := httptest.NewRequest("POST", "/mcp", strings.NewReader(initBody))
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	if w.Code != http.StatusUnauthorized {
		t.Fatalf("/mcp: %d", w.Code)
	}
}

func toStrings(v any) []string {
	arr, _ := v.([]any)
	var out []string
	for _, x := range arr {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

func TestNewRejectsBadOptions(t *testing.T) {
	v := VerifierFunc(func(context.Context, string) (*TokenInfo, error) { return nil, nil })
	for name, o := range map[string]*Options{
		"no resource":       {AuthorizationServers: []string{testIssuer}},
		"fragment":          {Resource: testResource + "#x", AuthorizationServers: []string{testIssuer}},
		"no AS":             {Resource: testResource},
		"http AS":           {Resource: testResource, AuthorizationServers: []string{"http://as.example.com"}},
		"bad scope":         {Resource: testResource, AuthorizationServers: []string{testIssuer}, Scopes: []string{"a b"}},
		"metadata resource": {Resource: testResource, Metadata: &ProtectedResourceMetadata{Resource: "https://x.example.com", AuthorizationServers: []string{testIssuer}}},
	} {
		if _, err := New(v, o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestCanonicalResource checks the rule shared with oauthclient (package
// internal/resourceuri): both sides canonicalize a server's URI alike.
func TestCanonicalResource(t *testing.T) {
	for _, tt := range resourceuritest.Cases {
		got, err := CanonicalResource(tt.In)
		if tt.Want == "" {
			if err == nil {
				t.Errorf("%q: accepted as %q", tt.In, got)
			}
			continue
		}
		if err != nil || got != tt.Want {
			t.Errorf("%q = %q, %v; want %q", tt.In, got, err, tt.Want)
		}
	}
}

func TestMetadataURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://mcp.example.com/mcp", "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"},
		{"https://mcp.example.com", "https://mcp.example.com/.well-known/oauth-protected-resource"},
		{"https://mcp.example.com/public/mcp/", "https://mcp.example.com/.well-known/oauth-protected-resource/public/mcp"},
		{"http://127.0.0.1:8080/mcp", "http://127.0.0.1:8080/.well-known/oauth-protected-resource/mcp"},
	}
	for _, tt := range tests {
		if got, err := MetadataURL(tt.in); err != nil || got != tt.want {
			t.Errorf("%q = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestParseScope(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  bool
	}{
		{"", nil, false},
		{"a", []string{"a"}, false},
		{"a b:c d/e", []string{"a", "b:c", "d/e"}, false},
		{"a a", []string{"a"}, false},
		{" a", nil, true},
		{"a ", nil, true},
		{"a  b", nil, true},
		{`a"b`, nil, true},
		{`a\b`, nil, true},
		{"a\tb", nil, true},
		{"é", nil, true},
	}
	for _, tt := range tests {
		got, err := ParseScope(tt.in)
		if (err != nil) != tt.err || !slices.Equal(got, tt.want) {
			t.Errorf("ParseScope(%q) = %q, %v", tt.in, got, err)
		}
	}
}

func TestIsToken68(t *testing.T) {
	for s, want := range map[string]bool{"abc": true, "a.b-c_d~e+f/g": true, "abc==": true, "": false, "=": false, "a=b": false, "a b": false, "a,b": false} {
		if got := isToken68(s); got != want {
			t.Errorf("isToken68(%q) = %v", s, got)
		}
	}
}

// TestMiddlewareRejectsBadTokens: every unacceptable token gets 401 with
// error="invalid_token" (RFC 6750 section 3.1) and the metadata pointer.
func TestMiddlewareRejectsBadTokens(t *testing.T) {
	f := newMW(t, nil)
	k1, _ := testRSAKeys(t)
	now := f.clk.Now()
	claims := func(mut func(map[string]any)) map[string]any {
		c := baseClaims(now)
		mut(c)
		return c
	}
	enc := func(s string) string { return strings.TrimRight(base64URL(s), "=") }
	none := enc(`{"alg":"none","kid":"k1"}`) + "." + enc(`{"iss":"`+testIssuer+`","aud":"`+testResource+`","exp":9999999999}`) + "."
	tests := map[string]string{
		"wrong audience":       mint(t, jose.RS256, k1, "k1", claims(func(c map[string]any) { c["aud"] = "https://api.example.com" })),
		"another resource":     mint(t, jose.RS256, k1, "k1", claims(func(c map[string]any) { c["aud"] = "https://mcp.example.com/other" })),
		"expired":              mint(t, jose.RS256, k1, "k1", claims(func(c map[string]any) { c["exp"] = now.Add(-time.Hour).Unix() })),
		"not yet valid":        mint(t, jose.RS256, k1, "k1", claims(func(c map[string]any) { c["nbf"] = now.Add(time.Hour).Unix() })),
		"wrong issuer":         mint(t, jose.RS256, k1, "k1", claims(func(c map[string]any) { c["iss"] = "https://evil.example.com" })),
		"alg none":             none,
		"HMAC with public key": mint(t, jose.HS256, k1.PublicKey.N.Bytes(), "k1", baseClaims(now)),
		"unknown kid":          mint(t, jose.RS256, k1, "k9", baseClaims(now)),
		"garbage":              "abc.def.ghi",
	}
	for name, tok := range tests {
		t.Run(name, func(t *testing.T) {
			w := f.do("POST", initBody, tok)
			ch := w.Header().Get("WWW-Authenticate")
			if w.Code != http.StatusUnauthorized || !strings.HasPrefix(ch, `Bearer error="invalid_token"`) ||
				!strings.Contains(ch, `resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"`) {
				t.Fatalf("status %d, WWW-Authenticate %s", w.Code, ch)
			}
		})
	}
}

func base64URL(s string) string { return base64.URLEncoding.EncodeToString([]byte(s)) }
