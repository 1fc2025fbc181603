package authserver_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-mcp/switchboard/auth"
	"github.com/switchboard-mcp/switchboard/authserver"
	"github.com/switchboard-mcp/switchboard/internal/everything"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

// whoami is a tool that reports the token the auth middleware verified,
// read from the context the MCP layer hands to tool handlers.
func addWhoami(s *mcp.Server) {
	s.AddTool(&protocol.Tool{Name: "whoami", Description: "Reports the caller's verified token"},
		func(ctx context.Context, _ *mcp.Request, _ *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
			info := auth.TokenInfoFrom(ctx)
			if info == nil {
				return mcp.TextResult("no token info"), nil
			}
			return mcp.TextResult(fmt.Sprintf("sub=%s client=%s scope=%s", info.Subject, info.ClientID, auth.FormatScope(info.Scopes))), nil
		})
}

// world is an authorization server and a protected MCP server on loopback.
type world struct {
	as       *authserver.Server
	asURL    string
	mcpURL   string // the canonical resource URI
	http     *http.Client
	redirect string
}

// newWorld starts both servers. verifier chooses the resource server's
// verifier: nil means a JWTVerifier on the AS's JWKS, discovered over
// HTTP like a separate deployment would.
func newWorld(t *testing.T, srv *mcp.Server, useInProcess bool) *world {
	t.Helper()
	asTS := httptest.NewUnstartedServer(nil)
	rsTS := httptest.NewUnstartedServer(nil)
	w := &world{
		asURL:    "http://" + asTS.Listener.Addr().String(),
		mcpURL:   "http://" + rsTS.Listener.Addr().String() + "/mcp",
		redirect: "http://127.0.0.1:1/callback", // never dialed: the test reads the Location header
		http: &http.Client{Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}},
	}
	as, err := authserver.New(authserver.Options{
		Issuer:          w.asURL,
		AutoApprove:     true,
		Resources:       []string{w.mcpURL},
		ScopesSupported: []string{"mcp", "mcp:echo"},
	})
	if err != nil {
		t.Fatal(err)
	}
	w.as = as
	asTS.Config.Handler = as
	asTS.Start()
	t.Cleanup(asTS.Close)

	var v auth.Verifier
	if useInProcess {
		if v, err = as.Verifier(w.mcpURL); err != nil {
			t.Fatal(err)
		}
	} else {
		meta := w.getJSON(t, w.asURL+authserver.WellKnownOAuth)
		if v, err = auth.NewJWTVerifier(auth.JWTOptions{Issuer: w.asURL, Audience: w.mcpURL, JWKSURL: meta["jwks_uri"].(string)}); err != nil {
			t.Fatal(err)
		}
	}
	mw, err := auth.New(v, &auth.Options{
		Resource:             w.mcpURL,
		AuthorizationServers: []string{w.asURL},
		Scopes:               []string{"mcp"},
		ToolScopes:           map[string][]string{"echo": {"mcp:echo"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	h := streamable.NewHandler(srv, nil)
	t.Cleanup(func() { h.Close(); srv.Close() })
	mux := http.NewServeMux()
	mw.Mount(mux, h)
	rsTS.Config.Handler = mux
	rsTS.Start()
	t.Cleanup(rsTS.Close)
	return w
}

func (w *world) getJSON(t *testing.T, u string) map[string]any {
	t.Helper()
	resp, err := w.http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&m) != nil {
		t.Fatalf("GET %s: %d", u, resp.StatusCode)
	}
	return m
}

// rpc POSTs a JSON-RPC message to the MCP endpoint and returns the
// response and its decoded JSON-RPC message (from JSON or SSE).
func (w *world) rpc(t *testing.T, token, sid, body string) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", w.mcpURL, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if sid != "" {
		req.Header.Set("Mcp-Session-Id", sid)
		req.Header.Set("MCP-Protocol-Version", "2025-11-25")
	}
	resp, err := w.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return resp, nil
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			if line, ok := strings.CutPrefix(sc.Text(), "data:"); ok && strings.Contains(line, `"id"`) {
				data = []byte(strings.TrimSpace(line))
			}
		}
	}
	var msg map[string]any
	if err := json.Unmarshal(data, &msg); err != nil {
		t.Fatalf("response %q: %v", data, err)
	}
	return resp, msg
}

var challengeParam = regexp.MustCompile(`(\w+)="([^"]*)"`)

// challenge parses a Bearer WWW-Authenticate header (simple form).
func challenge(t *testing.T, resp *http.Response) map[string]string {
	t.Helper()
	h := resp.Header.Get("WWW-Authenticate")
	if !strings.HasPrefix(h, "Bearer ") {
		t.Fatalf("WWW-Authenticate = %q", h)
	}
	out := map[string]string{}
	for _, m := range challengeParam.FindAllStringSubmatch(h, -1) {
		out[m[1]] = m[2]
	}
	return out
}

// authorize runs registration (once), PKCE and the token request, like an
// MCP client, and returns the token response.
func (w *world) authorize(t *testing.T, clientID, scope, binding string) map[string]any {
	t.Helper()
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	verifier := base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {w.redirect},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
		"resource": {w.mcpURL}, "scope": {scope}, "state": {"xyz"},
	}
	if binding != "" {
		q.Set(authserver.BindingParam, binding)
	}
	meta := w.getJSON(t, w.asURL+authserver.WellKnownOAuth)
	resp, err := w.http.Get(meta["authorization_endpoint"].(string) + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc == nil || loc.Query().Get("code") == "" {
		t.Fatalf("authorize: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if loc.Query().Get("state") != "xyz" || loc.Query().Get("iss") != w.asURL {
		t.Fatalf("redirect %s", loc)
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "code_verifier": {verifier},
		"client_id": {clientID}, "redirect_uri": {w.redirect}, "resource": {w.mcpURL}}
	tresp, err := w.http.PostForm(meta["token_endpoint"].(string), form)
	if err != nil {
		t.Fatal(err)
	}
	defer tresp.Body.Close()
	var tok map[string]any
	if err := json.NewDecoder(tresp.Body).Decode(&tok); err != nil || tresp.StatusCode != 200 {
		t.Fatalf("token: %d %v", tresp.StatusCode, tok)
	}
	return tok
}

// register performs Dynamic Client Registration for a public client.
func (w *world) register(t *testing.T) string {
	t.Helper()
	meta := w.getJSON(t, w.asURL+authserver.WellKnownOAuth)
	body := `{"client_name":"e2e","redirect_uris":["` + w.redirect + `"],"token_endpoint_auth_method":"none","grant_types":["authorization_code","refresh_token"]}`
	resp, err := w.http.Post(meta["registration_endpoint"].(string), "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var c map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil || resp.StatusCode != 201 {
		t.Fatalf("register: %d %v", resp.StatusCode, c)
	}
	return c["client_id"].(string)
}

const initialize = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"e2e","version":"1"}}}`

func toolCall(id int, name, args string) string {
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":%q,"arguments":%s}}`, id, name, args)
}

func resultText(t *testing.T, msg map[string]any) string {
	t.Helper()
	res, ok := msg["result"].(map[string]any)
	if !ok {
		t.Fatalf("no result: %v", msg)
	}
	content, _ := res["content"].([]any)
	if len(content) == 0 {
		t.Fatalf("no content: %v", msg)
	}
	text, _ := content[0].(map[string]any)["text"].(string)
	return text
}

// TestEndToEnd walks the MCP authorization flow over raw HTTP: discovery
// from the 401, metadata, registration, PKCE, token, initialize, a tool
// call whose handler sees the token, step-up on a tool-level scope.
func TestEndToEnd(t *testing.T) {
	srv := everything.NewServer(nil)
	addWhoami(srv)
	w := newWorld(t, srv, false)

	// 1. Unauthenticated initialize: 401 pointing at the metadata.
	resp, _ := w.rpc(t, "", "", initialize)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("initialize without token: %d", resp.StatusCode)
	}
	ch := challenge(t, resp)
	if ch["scope"] != "mcp" || ch["resource_metadata"] == "" {
		t.Fatalf("challenge %v", ch)
	}

	// 2. Protected Resource Metadata names the authorization server.
	prm := w.getJSON(t, ch["resource_metadata"])
	if prm["resource"] != w.mcpURL {
		t.Fatalf("PRM resource %v, want %s", prm["resource"], w.mcpURL)
	}
	issuer := prm["authorization_servers"].([]any)[0].(string)
	if issuer != w.asURL {
		t.Fatalf("authorization server %s", issuer)
	}
	// 3. Authorization server metadata advertises PKCE S256.
	asMeta := w.getJSON(t, issuer+authserver.WellKnownOAuth)
	if fmt.Sprint(asMeta["code_challenge_methods_supported"]) != "[S256]" {
		t.Fatalf("AS metadata %v", asMeta)
	}

	// 4. Register, authorize with PKCE (auto-approved), get a token with
	// the challenged scope.
	clientID := w.register(t)
	tok := w.authorize(t, clientID, ch["scope"], "")
	at := tok["access_token"].(string)

	// 5. initialize succeeds.
	resp, msg := w.rpc(t, at, "", initialize)
	if resp.StatusCode != 200 || msg["result"] == nil {
		t.Fatalf("initialize: %d %v", resp.StatusCode, msg)
	}
	sid := resp.Header.Get("Mcp-Session-Id")
	if sid == "" {
		t.Fatal("no session id")
	}
	if resp, _ := w.rpc(t, at, sid, `{"jsonrpc":"2.0","method":"notifications/initialized"}`); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("initialized: %d", resp.StatusCode)
	}

	// 6. The tool handler sees the verified token through its context.
	_, msg = w.rpc(t, at, sid, toolCall(2, "whoami", `{}`))
	if got, want := resultText(t, msg), "sub="+authserver.DefaultSubject+" client="+clientID+" scope=mcp"; got != want {
		t.Fatalf("whoami = %q, want %q", got, want)
	}

	// 7. A tool that needs more scope: 403 insufficient_scope.
	resp, _ = w.rpc(t, at, sid, toolCall(3, "echo", `{"text":"hi"}`))
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("echo with scope mcp: %d", resp.StatusCode)
	}
	ch = challenge(t, resp)
	if ch["error"] != "insufficient_scope" || ch["scope"] != "mcp mcp:echo" {
		t.Fatalf("step-up challenge %v", ch)
	}

	// 8. Step-up: a new token with the challenged scopes works on the same
	// session.
	tok = w.authorize(t, clientID, ch["scope"], "")
	at2 := tok["access_token"].(string)
	resp, msg = w.rpc(t, at2, sid, toolCall(4, "echo", `{"text":"hi"}`))
	if resp.StatusCode != 200 || resultText(t, msg) != "hi" {
		t.Fatalf("echo after step-up: %d %v", resp.StatusCode, msg)
	}

	// 9. A token for another principal cannot ride the session.
	other := w.register(t)
	tok = w.authorize(t, other, "mcp", "")
	if resp, _ := w.rpc(t, tok["access_token"].(string), sid, toolCall(5, "whoami", `{}`)); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("other client on the session: %d", resp.StatusCode)
	}
}

// TestEndToEndSessionBoundGrant: a grant bound to an MCP session dies when
// the session ends (the server's OnSessionEnd calls RevokeSession).
func TestEndToEndSessionBoundGrant(t *testing.T) {
	var as *authserver.Server
	ended := make(chan string, 1)
	srv := everything.NewServer(&mcp.ServerOptions{OnSessionEnd: func(ss *mcp.ServerSession) {
		as.RevokeSession(ss.ID())
		ended <- ss.ID()
	}})
	addWhoami(srv)
	w := newWorld(t, srv, true)
	as = w.as

	clientID := w.register(t)
	at := w.authorize(t, clientID, "mcp", "")["access_token"].(string)
	resp, _ := w.rpc(t, at, "", initialize)
	sid := resp.Header.Get("Mcp-Session-Id")
	if resp.StatusCode != 200 || sid == "" {
		t.Fatalf("initialize: %d", resp.StatusCode)
	}
	w.rpc(t, at, sid, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)

	tok := w.authorize(t, clientID, "mcp mcp:echo", "session:"+sid)
	if _, ok := tok["refresh_token"]; ok {
		t.Fatal("session-bound grant has a refresh token")
	}
	bound := tok["access_token"].(string)
	if resp, msg := w.rpc(t, bound, sid, toolCall(2, "echo", `{"text":"bound"}`)); resp.StatusCode != 200 || resultText(t, msg) != "bound" {
		t.Fatalf("bound token on its session: %d", resp.StatusCode)
	}

	// End the session.
	req, _ := http.NewRequest("DELETE", w.mcpURL, nil)
	req.Header.Set("Authorization", "Bearer "+at)
	req.Header.Set("Mcp-Session-Id", sid)
	req.Header.Set("MCP-Protocol-Version", "2025-11-25")
	dresp, err := w.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	dresp.Body.Close()
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("OnSessionEnd not called")
	}
	// The bound token is dead, even on a new session.
	resp, _ = w.rpc(t, bound, sid, toolCall(3, "echo", `{"text":"x"}`))
	if resp.StatusCode != http.StatusUnauthorized || challenge(t, resp)["error"] != "invalid_token" {
		t.Fatalf("bound token after session end: %d", resp.StatusCode)
	}
	// The unbound token still works for a new session.
	if resp, _ := w.rpc(t, at, "", initialize); resp.StatusCode != 200 {
		t.Fatalf("unbound token: %d", resp.StatusCode)
	}
}
