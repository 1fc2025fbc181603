// Package e2e runs the oauthclient Transport against Switchboard's own
// authorization server (package authserver) and resource server
// middleware (package auth), over loopback HTTP: the two halves of MCP
// authorization meeting on the wire. It lives apart from package
// oauthclient so that the client's own tests do not depend on the
// servers.
package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-mcp/switchboard/auth"
	"github.com/switchboard-mcp/switchboard/authserver"
	"github.com/switchboard-mcp/switchboard/oauthclient"
)

// world is an authserver and an auth-protected echo endpoint.
type world struct {
	as     *authserver.Server
	asURL  string
	mcpURL string
	echoes atomic.Int32
}

func newWorld(t *testing.T, opts authserver.Options, rsOpts auth.Options) *world {
	t.Helper()
	return newWorldAt(t, "/mcp", opts, rsOpts)
}

// newWorldAt is newWorld with the MCP endpoint at pathQuery (a path and
// an optional query) instead of /mcp.
func newWorldAt(t *testing.T, pathQuery string, opts authserver.Options, rsOpts auth.Options) *world {
	t.Helper()
	asTS := httptest.NewUnstartedServer(nil)
	rsTS := httptest.NewUnstartedServer(nil)
	w := &world{
		asURL:  "http://" + asTS.Listener.Addr().String(),
		mcpURL: "http://" + rsTS.Listener.Addr().String() + pathQuery,
	}
	opts.Issuer = w.asURL
	opts.AutoApprove = true
	opts.Resources = []string{w.mcpURL}
	as, err := authserver.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	w.as = as
	asTS.Config.Handler = as
	asTS.Start()
	t.Cleanup(asTS.Close)

	v, err := as.Verifier(w.mcpURL)
	if err != nil {
		t.Fatal(err)
	}
	rsOpts.Resource = w.mcpURL
	rsOpts.AuthorizationServers = []string{w.asURL}
	mw, err := auth.New(v, &rsOpts)
	if err != nil {
		t.Fatal(err)
	}
	echo := http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.echoes.Add(1)
		rw.Header().Set("Content-Type", "application/json")
		io.Copy(rw, r.Body)
	})
	mux := http.NewServeMux()
	mw.Mount(mux, echo)
	rsTS.Config.Handler = mux
	rsTS.Start()
	t.Cleanup(rsTS.Close)
	return w
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// rpc sends a JSON-RPC request through c and returns the HTTP status.
func rpc(t *testing.T, ctx context.Context, c *http.Client, u, method, tool string) int {
	t.Helper()
	params := "{}"
	if tool != "" {
		params = fmt.Sprintf(`{"name":%q,"arguments":{}}`, tool)
	}
	body := fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":%q,"params":%s}`, method, params)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == 200 && string(got) != body {
		t.Fatalf("%s: echo %q", method, got)
	}
	return resp.StatusCode
}

const redirect = "http://127.0.0.1:1/callback"

func TestAuthServerDCRStepUpRefresh(t *testing.T) {
	ctx := testCtx(t)
	w := newWorld(t, authserver.Options{ScopesSupported: []string{"mcp", "mcp:echo"}},
		auth.Options{Scopes: []string{"mcp"}, ToolScopes: map[string][]string{"echo": {"mcp:echo"}}})
	var skew atomic.Int64
	store := oauthclient.NewMemoryStore()
	rt := oauthclient.NewTransport(nil, &oauthclient.Config{
		ServerURL:   w.mcpURL,
		RedirectURL: redirect,
		Authorize:   oauthclient.HeadlessAuthorize(nil),
		TokenStore:  store,
		Now:         func() time.Time { return time.Now().Add(time.Duration(skew.Load())) },
	})
	c := &http.Client{Transport: rt}

	if st := rpc(t, ctx, c, w.mcpURL, "tools/list", ""); st != 200 {
		t.Fatalf("tools/list: HTTP %d", st)
	}
	first := rt.Token()
	if !slices.Equal(first.Scopes, []string{"mcp"}) || first.Issuer != w.asURL || first.RefreshToken == "" {
		t.Fatalf("first token %v", first)
	}
	// The echo tool needs mcp:echo: 403 insufficient_scope, step-up.
	if st := rpc(t, ctx, c, w.mcpURL, "tools/call", "echo"); st != 200 {
		t.Fatalf("tools/call echo: HTTP %d", st)
	}
	stepped := rt.Token()
	if !slices.Contains(stepped.Scopes, "mcp") || !slices.Contains(stepped.Scopes, "mcp:echo") {
		t.Fatalf("step-up token scopes %v", stepped.Scopes)
	}
	// The client's clock runs past the expiry: it refreshes (rotation).
	skew.Store(int64(time.Hour))
	if st := rpc(t, ctx, c, w.mcpURL, "tools/call", "echo"); st != 200 {
		t.Fatalf("after refresh: HTTP %d", st)
	}
	refreshed := rt.Token()
	if refreshed.AccessToken == stepped.AccessToken || refreshed.RefreshToken == stepped.RefreshToken {
		t.Error("token was not refreshed and rotated")
	}
	if got, err := store.Token(ctx, w.asURL, w.mcpURL); err != nil || got.AccessToken != refreshed.AccessToken {
		t.Errorf("store holds %v, %v", got, err)
	}
	if n := w.echoes.Load(); n != 3 {
		t.Errorf("%d requests reached the endpoint, want 3", n)
	}
}

// A server whose URI has a query (one endpoint per tenant, say): its
// canonical URI keeps the query on both sides (RFC 8707 allows it, and
// the MCP spec's canonical URI is the server's URI), so the client asks
// for a token bound to exactly that URI, and the server accepts it.
func TestAuthServerResourceWithQuery(t *testing.T) {
	ctx := testCtx(t)
	w := newWorldAt(t, "/mcp?tenant=a", authserver.Options{}, auth.Options{})
	store := oauthclient.NewMemoryStore()
	rt := oauthclient.NewTransport(nil, &oauthclient.Config{
		ServerURL:   w.mcpURL,
		RedirectURL: redirect,
		Authorize:   oauthclient.HeadlessAuthorize(nil),
		TokenStore:  store,
	})
	c := &http.Client{Transport: rt}
	if st := rpc(t, ctx, c, w.mcpURL, "tools/list", ""); st != 200 {
		t.Fatalf("tools/list: HTTP %d", st)
	}
	serverSide, err := auth.CanonicalResource(w.mcpURL)
	if err != nil {
		t.Fatal(err)
	}
	clientSide, err := oauthclient.CanonicalResource(w.mcpURL)
	if err != nil || clientSide != serverSide || !strings.HasSuffix(serverSide, "/mcp?tenant=a") {
		t.Fatalf("canonical URI: server side %q, client side %q (%v)", serverSide, clientSide, err)
	}
	if tok := rt.Token(); tok == nil || tok.Resource != serverSide {
		t.Fatalf("token for %v, want %q", tok, serverSide)
	}
	if _, err := store.Token(ctx, w.asURL, serverSide); err != nil {
		t.Errorf("the token is not stored under %q: %v", serverSide, err)
	}
}

func TestAuthServerPreRegistered(t *testing.T) {
	for _, method := range []string{"client_secret_basic", "client_secret_post"} {
		t.Run(method, func(t *testing.T) {
			ctx := testCtx(t)
			w := newWorld(t, authserver.Options{
				DisableRegistration: true,
				Clients: []authserver.Client{{
					ID: "app id", Secret: "s3cr%t:+", AuthMethod: method, RedirectURIs: []string{redirect},
				}},
			}, auth.Options{})
			c := &http.Client{Transport: oauthclient.NewTransport(nil, &oauthclient.Config{
				ServerURL: w.mcpURL, RedirectURL: redirect, Authorize: oauthclient.HeadlessAuthorize(nil),
				ClientID: "app id", ClientSecret: "s3cr%t:+",
			})}
			if st := rpc(t, ctx, c, w.mcpURL, "tools/list", ""); st != 200 {
				t.Fatalf("HTTP %d", st)
			}
		})
	}
}

func TestAuthServerClientCredentials(t *testing.T) {
	ctx := testCtx(t)
	w := newWorld(t, authserver.Options{
		Clients: []authserver.Client{{ID: "svc", Secret: "svc-secret"}},
	}, auth.Options{})
	c := &http.Client{Transport: oauthclient.NewTransport(nil, &oauthclient.Config{
		ServerURL: w.mcpURL, Grant: oauthclient.GrantClientCredentials, ClientID: "svc", ClientSecret: "svc-secret",
	})}
	if st := rpc(t, ctx, c, w.mcpURL, "tools/list", ""); st != 200 {
		t.Fatalf("HTTP %d", st)
	}
}

func TestAuthServerCIMD(t *testing.T) {
	ctx := testCtx(t)
	cfg := &oauthclient.Config{RedirectURL: redirect, Authorize: oauthclient.HeadlessAuthorize(nil)}
	var docURL string
	var fetched atomic.Int32
	doc := httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		fetched.Add(1)
		c := *cfg
		c.ClientMetadataURL = docURL
		rw.Header().Set("Content-Type", "application/json")
		json.NewEncoder(rw).Encode(c.MetadataDocument())
	}))
	t.Cleanup(doc.Close)
	docURL = doc.URL + "/client.json"
	pool := x509.NewCertPool()
	pool.AddCert(doc.Certificate())
	w := newWorld(t, authserver.Options{
		DisableRegistration: true,
		CIMD:                authserver.CIMDOptions{AllowLoopback: true, TLSConfig: &tls.Config{RootCAs: pool}},
	}, auth.Options{})
	cfg.ServerURL = w.mcpURL
	cfg.ClientMetadataURL = docURL
	c := &http.Client{Transport: oauthclient.NewTransport(nil, cfg)}
	if st := rpc(t, ctx, c, w.mcpURL, "tools/list", ""); st != 200 {
		t.Fatalf("HTTP %d", st)
	}
	if fetched.Load() == 0 {
		t.Error("the authorization server never fetched the client metadata document")
	}
}

func TestAuthServerResourceMismatch(t *testing.T) {
	ctx := testCtx(t)
	w := newWorld(t, authserver.Options{}, auth.Options{})
	// A client configured for a different path on the same origin: the
	// metadata's resource (…/mcp) does not cover …/other.
	other := strings.TrimSuffix(w.mcpURL, "/mcp") + "/other"
	c := &http.Client{Transport: oauthclient.NewTransport(nil, &oauthclient.Config{
		ServerURL: other, RedirectURL: redirect, Authorize: oauthclient.HeadlessAuthorize(nil),
	})}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, other, strings.NewReader(`{}`))
	resp, err := c.Do(req)
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Fatal("request to an unprotected path succeeded unexpectedly")
		}
	}
}
