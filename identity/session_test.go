package identity_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-mcp/switchboard/auth"
	"github.com/switchboard-mcp/switchboard/authserver"
	"github.com/switchboard-mcp/switchboard/gateway"
	"github.com/switchboard-mcp/switchboard/identity"
	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

type swapRT struct{ tok atomic.Pointer[string] }

func (s *swapRT) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+*s.tok.Load())
	return http.DefaultTransport.RoundTrip(r)
}

// TestSessionBoundTool: a tool configured as session-bound is refused to
// a token whose grant is not bound to the caller's MCP session, allowed
// with a grant bound to it (mcp_binding=session:ID, approved for this
// session), and when the session ends the grant's token stops working.
func TestSessionBoundTool(t *testing.T) {
	asTS := httptest.NewUnstartedServer(nil)
	gwTS := httptest.NewUnstartedServer(nil)
	asURL, gwURL := "http://"+asTS.Listener.Addr().String(), "http://"+gwTS.Listener.Addr().String()+"/mcp"
	as, err := authserver.New(authserver.Options{Issuer: asURL, Resources: []string{gwURL}, AutoApprove: true,
		Clients: []authserver.Client{{ID: "app", RedirectURIs: []string{"http://127.0.0.1/cb"}}}})
	if err != nil {
		t.Fatal(err)
	}
	asTS.Config.Handler = as
	asTS.Start()
	defer asTS.Close()
	up := mcp.NewServer(protocol.Implementation{Name: "up", Version: "1"}, nil)
	for _, name := range []string{"delete_everything", "read"} {
		up.AddTool(&protocol.Tool{Name: name}, func(context.Context, *mcp.Request, *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
			return mcp.TextResult("done"), nil
		})
	}
	g, err := gateway.New(gateway.Options{Upstreams: []gateway.Upstream{{Name: "up", Server: up}},
		ServerOptions: &mcp.ServerOptions{OnSessionEnd: func(ss *mcp.ServerSession) { as.RevokeSession(ss.ID()) }},
		Hooks:         gateway.Hooks{Identify: identity.Identify(identity.Claims{}), Authorize: identity.SessionBound([]string{"delete_*"}, nil)}})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	v, _ := as.Verifier(gwURL)
	m, _ := auth.New(v, &auth.Options{Resource: gwURL, AuthorizationServers: []string{asURL}})
	mux := http.NewServeMux()
	m.Mount(mux, g.MCPHandler())
	gwTS.Config.Handler = mux
	gwTS.Start()
	defer gwTS.Close()

	token := func(binding string) string {
		t.Helper()
		verifier := strings.Repeat("v", 43)
		sum := sha256.Sum256([]byte(verifier))
		q := url.Values{"response_type": {"code"}, "client_id": {"app"}, "redirect_uri": {"http://127.0.0.1/cb"}, "resource": {gwURL},
			"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
		if binding != "" {
			q.Set(authserver.BindingParam, binding)
		}
		c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := c.Get(asURL + "/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		resp, err = http.PostForm(asURL+"/token", url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")},
			"client_id": {"app"}, "redirect_uri": {"http://127.0.0.1/cb"}, "code_verifier": {verifier}, "resource": {gwURL}})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var tr map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&tr)
		tok, _ := tr["access_token"].(string)
		if tok == "" {
			t.Fatalf("no token: %v", tr)
		}
		return tok
	}
	rt := &swapRT{}
	plain := token("")
	rt.tok.Store(&plain)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cs, err := mcp.NewClient(protocol.Implementation{Name: "c", Version: "1"}, nil).
		Connect(ctx, streamable.NewDialer(gwURL, &streamable.ClientOptions{HTTPClient: &http.Client{Transport: rt}}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CallToolArgs(ctx, "read", map[string]any{}); err != nil {
		t.Fatalf("an ordinary tool: %v", err)
	}
	_, err = cs.CallToolArgs(ctx, "delete_everything", map[string]any{})
	var je *jsonrpc.Error
	if !errors.As(err, &je) || je.Code != gateway.CodeDenied || !strings.Contains(je.Message, "mcp_binding=session:"+cs.SessionID()) {
		t.Fatalf("a session-bound tool with an unbound grant: %v", err)
	}
	// The person approves access for this session only.
	bound := token("session:" + cs.SessionID())
	rt.tok.Store(&bound)
	if res, err := cs.CallToolArgs(ctx, "delete_everything", map[string]any{}); err != nil || res.IsError {
		t.Fatalf("with a session-bound grant: %v %+v", err, res)
	}
	// The session ends: the bound grant is revoked with it.
	cs.Close()
	time.Sleep(100 * time.Millisecond)
	if _, err := v.Verify(context.Background(), bound); err == nil {
		t.Fatal("the session-bound token outlived its session")
	}
}
