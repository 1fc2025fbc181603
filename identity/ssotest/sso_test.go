// Package ssotest tests single sign-on at the embedded authorization
// server against a real OpenID Connect provider: the example OP of
// github.com/zitadel/oidc/v3, started by the test, with a person who
// signs in through its login form over HTTP (TestSSO) and in a real
// headless Chromium driven through chromedp (TestSSOInBrowser; Debian's
// chromium or $CHROMIUM, screenshots in $SCREENSHOT_DIR, default
// ./screenshots). It is its own module so that the provider's and
// chromedp's dependencies stay out of Switchboard's.
package ssotest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/switchboard-mcp/switchboard/auth"
	"github.com/switchboard-mcp/switchboard/authserver"
	"github.com/switchboard-mcp/switchboard/gateway"
	"github.com/switchboard-mcp/switchboard/identity"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/oauthclient"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/store"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

// groupStorage is the example OP's storage with a "groups" claim the
// test controls, in ID tokens and at the userinfo endpoint.
type groupStorage struct {
	*storage.Storage
	mu     sync.Mutex
	groups map[string][]string // by user id
}

func (s *groupStorage) addGroups(u *oidc.UserInfo, subject string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groups[subject]
	u.AppendClaims("groups", append([]string{}, g...))
	u.AppendClaims("tenant", "acme")
}

func (s *groupStorage) SetUserinfoFromRequest(ctx context.Context, u *oidc.UserInfo, token op.IDTokenRequest, scopes []string) error {
	if err := s.Storage.SetUserinfoFromRequest(ctx, u, token, scopes); err != nil {
		return err
	}
	s.addGroups(u, token.GetSubject())
	return nil
}

func (s *groupStorage) SetUserinfoFromToken(ctx context.Context, u *oidc.UserInfo, tokenID, subject, origin string) error {
	if err := s.Storage.SetUserinfoFromToken(ctx, u, tokenID, subject, origin); err != nil {
		return err
	}
	s.addGroups(u, subject)
	return nil
}

func (s *groupStorage) setGroups(user string, g ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[user] = g
}

// lateServer is an httptest server whose handler is set once its URL is
// known.
type lateServer struct {
	*httptest.Server
	h atomic.Pointer[http.Handler]
}

func newLateServer(t *testing.T) *lateServer {
	ls := &lateServer{}
	ls.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := ls.h.Load(); h != nil {
			(*h).ServeHTTP(w, r)
			return
		}
		http.Error(w, "not ready", 503)
	}))
	t.Cleanup(ls.Close)
	return ls
}

func (ls *lateServer) set(h http.Handler) { ls.h.Store(&h) }

const clientRedirect = "http://127.0.0.1:9/callback"

// browser is a person's browser: cookies, redirects followed, except to
// the MCP client's redirect URI, whose parameters it returns.
type browser struct {
	t        *testing.T
	c        *http.Client
	user     string
	consents []string // the consent pages it saw
}

func newBrowser(t *testing.T, user string) *browser {
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t, user: user}
	b.c = &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), clientRedirect) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	return b
}

var (
	idRE      = regexp.MustCompile(`name="id" value="([^"]+)"`)
	requestRE = regexp.MustCompile(`name="request_id" value="([^"]+)"`)
	csrfRE    = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
)

// Authorize signs in at the identity provider through its login form,
// approves on Switchboard's consent page, and returns the authorization
// response.
func (b *browser) Authorize(ctx context.Context, authURL string) (*oauthclient.AuthorizationResponse, error) {
	resp, err := b.c.Get(authURL)
	if err != nil {
		return nil, err
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := idRE.FindSubmatch(page)
	if m == nil {
		return nil, fmt.Errorf("no login form at %s (%d): %.300s", resp.Request.URL, resp.StatusCode, page)
	}
	login, _ := resp.Request.URL.Parse("/login/username")
	resp, err = b.c.PostForm(login.String(), url.Values{"id": {string(m[1])}, "username": {b.user}, "password": {"verysecure"}})
	if err != nil {
		return nil, err
	}
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || requestRE.FindSubmatch(page) == nil {
		return nil, fmt.Errorf("after the login: %d at %s: %.400s", resp.StatusCode, resp.Request.URL, page)
	}
	b.consents = append(b.consents, string(page))
	rid, csrf := requestRE.FindSubmatch(page)[1], csrfRE.FindSubmatch(page)[1]
	resp, err = b.c.PostForm(resp.Request.URL.Scheme+"://"+resp.Request.URL.Host+"/authorize",
		url.Values{"request_id": {string(rid)}, "csrf_token": {string(csrf)}, "decision": {"approve"}})
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(loc.String(), clientRedirect) {
		return nil, fmt.Errorf("the consent answered %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	return oauthclient.ParseAuthorizationResponse(loc.Query()), nil
}

// TestSSO: a person signs in through a real OpenID Connect provider
// (zitadel's example OP) to Switchboard's authorization server; the
// consent page shows who signs in and what the client asks for; the
// gateway sees the provider's subject, groups and tenant; when the
// provider removes the person from the required group, their next token
// is refused and access ends.
// ssoEnv is a running identity provider (zitadel's example OP, whose
// user "id1" is in the groups mcp-users and staff), Switchboard's
// authorization server signing in through it (mcp-users required), and
// a gateway behind the authorization server that records who calls.
type ssoEnv struct {
	idp, asSrv, gw *lateServer
	gwURL          string // the gateway's MCP endpoint
	gs             *groupStorage
	user           string // the login name of the IdP's user "id1"

	mu   sync.Mutex
	seen []*gateway.Identity // the identities of the tool calls
}

// identities returns the identities the gateway's policy saw for calls.
func (e *ssoEnv) identities() []*gateway.Identity {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]*gateway.Identity(nil), e.seen...)
}

func startSSO(t *testing.T) *ssoEnv {
	t.Helper()
	e := &ssoEnv{idp: newLateServer(t), asSrv: newLateServer(t), gw: newLateServer(t)}
	idp, asSrv, gw := e.idp, e.asSrv, e.gw
	gwURL := gw.URL + "/mcp"
	e.gwURL = gwURL

	// The identity provider, with its own client list (storage's global
	// one is shared by every test).
	clients := map[string]*storage.Client{"switchboard": storage.WebClient("switchboard", "sso-secret", asSrv.URL+identity.SSOCallbackPath)}
	gs := &groupStorage{Storage: storage.NewStorageWithClients(storage.NewUserStore(idp.URL), clients), groups: map[string][]string{}}
	gs.setGroups("id1", "mcp-users", "staff")
	idp.set(exampleop.SetupServer(idp.URL, gs, nil, false))
	e.gs = gs
	e.user = "test-user@127.0.0.1" // the example user store's user "id1"

	// Switchboard's authorization server, signing in through the IdP.
	ctx := context.Background()
	db, err := store.Open(ctx, t.TempDir(), &store.Options{MasterKey: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	vault, err := identity.NewVault(ctx, db.Identity())
	if err != nil {
		t.Fatal(err)
	}
	sso, err := identity.NewSSO(ctx, identity.SSOOptions{Name: "Example IdP", Issuer: idp.URL, ClientID: "switchboard", ClientSecret: "sso-secret",
		Scopes: []string{"openid", "profile", "email"}, RequiredGroups: []string{"mcp-users"}, CallbackURL: asSrv.URL + identity.SSOCallbackPath, Vault: vault})
	if err != nil {
		t.Fatal(err)
	}
	as, err := authserver.New(authserver.Options{Issuer: asSrv.URL, Resources: []string{gwURL}, Identify: sso.Identify, Revalidate: sso.Revalidate,
		AccessTokenTTL: time.Second, RateLimits: authserver.RateLimits{Disable: true}, Storage: db.AuthServer()})
	if err != nil {
		t.Fatal(err)
	}
	asMux := http.NewServeMux()
	asMux.Handle(identity.SSOCallbackPath, sso)
	asMux.Handle("/", as)
	asSrv.set(asMux)

	// The gateway, which records who calls.
	up := mcp.NewServer(protocol.Implementation{Name: "up", Version: "1"}, nil)
	up.AddTool(&protocol.Tool{Name: "hello"}, func(context.Context, *mcp.Request, *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
		return mcp.TextResult("hello"), nil
	})
	g, err := gateway.New(gateway.Options{Upstreams: []gateway.Upstream{{Name: "up", Server: up}},
		Hooks: gateway.Hooks{Identify: identity.Identify(identity.Claims{}), Authorize: func(_ context.Context, a *gateway.Access) error {
			if !a.Listing {
				e.mu.Lock()
				e.seen = append(e.seen, a.Identity)
				e.mu.Unlock()
			}
			return nil
		}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	v, _ := as.Verifier(gwURL)
	m, err := auth.New(v, &auth.Options{Resource: gwURL, AuthorizationServers: []string{as.Issuer()}})
	if err != nil {
		t.Fatal(err)
	}
	gwMux := http.NewServeMux()
	m.Mount(gwMux, g.MCPHandler())
	gw.set(gwMux)
	return e
}

// connect connects an MCP client ("Test MCP Client") to the gateway; it
// signs in with authorize, whose redirect URI is redirect.
func (e *ssoEnv) connect(ctx context.Context, t *testing.T, redirect string, authorize oauthclient.AuthorizeFunc) *mcp.ClientSession {
	t.Helper()
	rt := oauthclient.NewTransport(nil, &oauthclient.Config{ServerURL: e.gwURL, RedirectURL: redirect, Authorize: authorize,
		ClientMetadata: oauthclient.ClientMetadata{ClientName: "Test MCP Client"}})
	cs, err := mcp.NewClient(protocol.Implementation{Name: "c", Version: "1"}, nil).
		Connect(ctx, streamable.NewDialer(e.gwURL, &streamable.ClientOptions{HTTPClient: &http.Client{Transport: rt}}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// checkIdentity checks the identity of the gateway's last call: the
// IdP's subject, its groups and tenant, signed in through OAuth.
func (e *ssoEnv) checkIdentity(t *testing.T) {
	t.Helper()
	seen := e.identities()
	if len(seen) == 0 {
		t.Fatal("the gateway saw no call")
	}
	id := seen[len(seen)-1]
	if id == nil || id.Subject != "id1" || id.Tenant != "acme" || !contains(id.Groups, "mcp-users") || id.Method != "oauth" {
		t.Fatalf("the gateway saw %+v", id)
	}
}

func TestSSO(t *testing.T) {
	e := startSSO(t)
	gs, gwURL, user := e.gs, e.gwURL, e.user
	ctx := context.Background()

	// The person signs in from an MCP client.
	b := newBrowser(t, user)
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cs := e.connect(cctx, t, clientRedirect, b.Authorize)
	if res, err := cs.CallToolArgs(cctx, "hello", map[string]any{}); err != nil || res.IsError {
		t.Fatalf("call: %v %+v", err, res)
	}
	// The consent page said who signs in, through which provider, and
	// what the client asks for.
	if len(b.consents) != 1 {
		t.Fatalf("%d consent pages", len(b.consents))
	}
	for _, want := range []string{"Test User", "test-user@zitadel.ch", "Example IdP", "mcp-users", "Test MCP Client", gwURL} {
		if !strings.Contains(b.consents[0], want) {
			t.Errorf("the consent page does not show %q", want)
		}
	}
	e.checkIdentity(t)

	// Tokens live a second: the next call refreshes, and the refresh
	// asks the IdP again. Still in the group: it works.
	time.Sleep(1100 * time.Millisecond)
	if res, err := cs.CallToolArgs(cctx, "hello", map[string]any{}); err != nil || res.IsError {
		t.Fatalf("call after a refresh: %v %+v", err, res)
	}

	// The IdP removes the person from the group: the next token is
	// refused, and signing in again is refused too.
	gs.setGroups("id1", "staff")
	time.Sleep(1100 * time.Millisecond)
	before := len(e.identities())
	_, err := cs.CallToolArgs(cctx, "hello", map[string]any{})
	if err == nil {
		t.Fatal("a call after the group was removed at the IdP succeeded")
	}
	if after := len(e.identities()); after != before {
		t.Fatal("the call reached the gateway's policy with the old identity")
	}
	var oe *oauthclient.OAuthError
	t.Logf("after the group removal: %v (oauth error: %v)", err, errors.As(err, &oe))
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}
