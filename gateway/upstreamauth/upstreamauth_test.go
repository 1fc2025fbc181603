package upstreamauth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/switchboard-mcp/switchboard/auth"
	"github.com/switchboard-mcp/switchboard/authserver"
	"github.com/switchboard-mcp/switchboard/gateway"
	"github.com/switchboard-mcp/switchboard/gateway/config"
	"github.com/switchboard-mcp/switchboard/gateway/upstreamauth"
	"github.com/switchboard-mcp/switchboard/identity"
	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/oauthclient"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/store"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

// lateServer is an httptest server whose handler is set once its URL is
// known.
type lateServer struct {
	*httptest.Server
	h atomic.Pointer[http.Handler]
}

func newLateServer(t *testing.T) *lateServer {
	ls := &lateServer{}
	ls.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := ls.h.Load()
		if h == nil {
			http.Error(w, "not ready", 503)
			return
		}
		(*h).ServeHTTP(w, r)
	}))
	t.Cleanup(ls.Close)
	return ls
}

func (ls *lateServer) set(h http.Handler) { ls.h.Store(&h) }

// userHeader names the person signing in at a test authorization server
// (the test's stand-in for a login form).
const userHeader = "X-Test-User"

func identifyByHeader(w http.ResponseWriter, r *http.Request) (*authserver.Person, error) {
	u := r.Header.Get(userHeader)
	if u == "" {
		return nil, errors.New("no user")
	}
	return &authserver.Person{Subject: u, Claims: map[string]any{"groups": []any{"staff"}}}, nil
}

// asUser is an HTTP client that signs in as user at the test
// authorization servers.
func asUser(user string) *http.Client {
	return &http.Client{Transport: headerRT{user}, Timeout: 10 * time.Second}
}

type headerRT struct{ user string }

func (h headerRT) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(userHeader, h.user)
	return http.DefaultTransport.RoundTrip(r)
}

// world is a gateway in front of an upstream MCP server protected by its
// own authorization server (as2), with the gateway's own authorization
// server (as1) in front.
type world struct {
	gw, up           *lateServer
	as1, as2         *authserver.Server
	as1srv, as2srv   *lateServer
	gwURL, upURL     string
	reg              *upstreamauth.Registry
	auths            map[string]*upstreamauth.Auth
	seenAuthz        []string // Authorization headers the upstream received
	mu               sync.Mutex
	vault            *identity.Vault
	refreshes        atomic.Int64
	g                *gateway.Gateway
	clientTokensSeen []string
	completed        []string // elicitation ids the clients were told are complete
}

// as2Extra, when set, adjusts the upstream authorization server's
// options (the ID-JAG test trusts its identity provider there).
var as2Extra func(o *authserver.Options)

// vaultInit, when set, fills the gateway's vault before it starts.
var vaultInit func(v *identity.Vault)

func newWorld(t *testing.T, upstreams map[string]config.UpstreamAuth, as2TTL time.Duration) *world {
	t.Helper()
	w := &world{auths: map[string]*upstreamauth.Auth{}}
	w.as1srv, w.as2srv, w.gw, w.up = newLateServer(t), newLateServer(t), newLateServer(t), newLateServer(t)
	w.gwURL, w.upURL = w.gw.URL+"/mcp", w.up.URL+"/mcp"
	callback := w.gw.URL + "/oauth/callback"
	var err error
	w.as1, err = authserver.New(authserver.Options{Issuer: w.as1srv.URL, Resources: []string{w.gwURL}, AutoApprove: true,
		Identify: identifyByHeader, RateLimits: authserver.RateLimits{Disable: true}})
	if err != nil {
		t.Fatal(err)
	}
	w.as1srv.set(w.as1)
	as2Opts := authserver.Options{Issuer: w.as2srv.URL, Resources: []string{w.upURL}, AutoApprove: true,
		Identify: identifyByHeader, AccessTokenTTL: as2TTL, RateLimits: authserver.RateLimits{Disable: true},
		Clients: []authserver.Client{{ID: "gw", Secret: "gw-secret", Name: "Switchboard gateway", RedirectURIs: []string{callback},
			GrantTypes: []string{"authorization_code", "refresh_token", "client_credentials", authserver.GrantTokenExchange, authserver.GrantJWTBearer}}},
		TokenExchangeIssuers: []authserver.AssertionIssuer{{Issuer: w.as1.Issuer(), JWKSURL: w.as1srv.URL + "/jwks", Audiences: []string{w.gwURL}, CopyClaims: []string{"groups"}}},
	}
	if as2Extra != nil {
		as2Extra(&as2Opts)
	}
	w.as2, err = authserver.New(as2Opts)
	if err != nil {
		t.Fatal(err)
	}
	// Count refreshes at the upstream's authorization server.
	w.as2srv.set(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			_ = r.ParseForm()
			if r.PostForm.Get("grant_type") == "refresh_token" {
				w.refreshes.Add(1)
			}
			r.Body = http.NoBody
			r2 := r.Clone(r.Context())
			r2.Body = nopBody(r.PostForm.Encode())
			r2.ContentLength = int64(len(r.PostForm.Encode()))
			w.as2.ServeHTTP(rw, r2)
			return
		}
		w.as2.ServeHTTP(rw, r)
	}))

	// The upstream: a whoami tool behind as2.
	srv := mcp.NewServer(protocol.Implementation{Name: "upstream", Version: "1"}, nil)
	srv.AddTool(&protocol.Tool{Name: "whoami"}, func(ctx context.Context, _ *mcp.Request, _ *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
		info := auth.TokenInfoFrom(ctx)
		b, _ := json.Marshal(map[string]any{"sub": info.Subject, "aud": info.Audience, "client": info.ClientID, "act": info.Claims["act"], "grant": info.Grant, "groups": info.Claims["groups"]})
		return mcp.TextResult(string(b)), nil
	})
	v2, _ := w.as2.Verifier(w.upURL)
	m2, err := auth.New(v2, &auth.Options{Resource: w.upURL, AuthorizationServers: []string{w.as2.Issuer()}, DisableSessionBinding: true})
	if err != nil {
		t.Fatal(err)
	}
	upMux := http.NewServeMux()
	m2.Mount(upMux, streamable.NewHandler(srv, nil))
	w.up.set(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if a := r.Header.Get("Authorization"); a != "" {
			w.mu.Lock()
			w.seenAuthz = append(w.seenAuthz, strings.TrimPrefix(a, "Bearer "))
			w.mu.Unlock()
		}
		upMux.ServeHTTP(rw, r)
	}))

	// The gateway.
	db, err := store.Open(context.Background(), t.TempDir(), &store.Options{MasterKey: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	w.vault, err = identity.NewVault(context.Background(), db.Identity())
	if err != nil {
		t.Fatal(err)
	}
	if vaultInit != nil {
		vaultInit(w.vault)
	}
	w.reg = upstreamauth.NewRegistry()
	var ups []gateway.Upstream
	for name, cfg := range upstreams {
		a, err := upstreamauth.New(upstreamauth.Options{Upstream: name, URL: w.upURL, Config: cfg, Vault: w.vault, CallbackURL: callback})
		if err != nil {
			t.Fatal(err)
		}
		w.auths[name] = a
		ups = append(ups, gateway.Upstream{Name: name, URL: w.upURL, HTTPClient: &http.Client{Transport: a}})
	}
	w.reg.Set(w.auths)
	w.g, err = gateway.New(gateway.Options{Upstreams: ups, Naming: gateway.NamingAlways,
		Hooks: gateway.Hooks{Identify: identity.Identify(identity.Claims{}), UpstreamMiddleware: []mcp.ClientMiddleware{w.reg.Middleware()}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.g.Close() })
	v1, _ := w.as1.Verifier(w.gwURL)
	m1, err := auth.New(v1, &auth.Options{Resource: w.gwURL, AuthorizationServers: []string{w.as1.Issuer()}, KeepSubjectToken: true})
	if err != nil {
		t.Fatal(err)
	}
	gwMux := http.NewServeMux()
	m1.Mount(gwMux, w.g.MCPHandler())
	gwMux.Handle("/oauth/callback", w.reg)
	w.gw.set(gwMux)
	return w
}

type nopBodyT struct{ *strings.Reader }

func (nopBodyT) Close() error { return nil }

func nopBody(s string) nopBodyT { return nopBodyT{strings.NewReader(s)} }

// connect signs user in at as1 (through the MCP authorization flow) and
// connects to the gateway.
func (w *world) connect(t *testing.T, user string, elicitURL bool) (*mcp.ClientSession, *oauthclient.Transport) {
	t.Helper()
	rt := oauthclient.NewTransport(nil, &oauthclient.Config{
		ServerURL: w.gwURL, RedirectURL: "http://127.0.0.1:9/callback", Authorize: oauthclient.HeadlessAuthorize(asUser(user)),
	})
	opts := &mcp.ClientOptions{OnElicitationComplete: func(_ context.Context, _ *mcp.ClientSession, p *protocol.ElicitationCompleteNotificationParams) {
		w.mu.Lock()
		w.completed = append(w.completed, p.ElicitationID)
		w.mu.Unlock()
	}}
	if elicitURL {
		opts.Elicit = func(context.Context, *mcp.ClientSession, *protocol.ElicitRequestParams) (*protocol.ElicitResult, error) {
			return &protocol.ElicitResult{Action: protocol.ElicitActionDecline}, nil
		}
		opts.ElicitURL = true
	}
	c := mcp.NewClient(protocol.Implementation{Name: "test-client", Version: "1"}, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cs, err := c.Connect(ctx, streamable.NewDialer(w.gwURL, &streamable.ClientOptions{HTTPClient: &http.Client{Transport: rt}}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	w.mu.Lock()
	w.clientTokensSeen = append(w.clientTokensSeen, rt.Token().AccessToken)
	w.mu.Unlock()
	return cs, rt
}

type whoami struct {
	Sub    string         `json:"sub"`
	Aud    []string       `json:"aud"`
	Client string         `json:"client"`
	Act    map[string]any `json:"act"`
	Grant  string         `json:"grant"`
	Groups []any          `json:"groups"`
}

func call(t *testing.T, cs *mcp.ClientSession, tool string) (*whoami, *protocol.CallToolResult, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := cs.CallToolArgs(ctx, tool, map[string]any{})
	if err != nil {
		return nil, nil, err
	}
	if res.IsError {
		return nil, res, nil
	}
	var who whoami
	text := res.Content[0].(*protocol.TextContent).Text
	if err := json.Unmarshal([]byte(text), &who); err != nil {
		t.Fatalf("whoami: %v (%s)", err, text)
	}
	return &who, res, nil
}

func waitTool(t *testing.T, cs *mcp.ClientSession, name string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for tool, err := range cs.Tools(context.Background()) {
			if err == nil && tool.Name == name {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("tool %s never listed", name)
}

// TestTokenExchange: the upstream behind its own authorization server
// sees a token exchanged for the caller (RFC 8693), audience-bound to
// the upstream, with the caller as subject and the gateway as actor —
// never the client's own token.
func TestTokenExchange(t *testing.T) {
	w := newWorld(t, map[string]config.UpstreamAuth{
		"up": {Mode: config.AuthTokenExchange, Issuer: "", ClientID: "gw", ClientSecret: "gw-secret"},
	}, 0)
	// Issuer discovered from the upstream's protected resource metadata.
	cs, _ := w.connect(t, "alice", false)
	waitTool(t, cs, "up_whoami")
	who, res, err := call(t, cs, "up_whoami")
	if err != nil || who == nil {
		t.Fatalf("call: %v %+v", err, res)
	}
	if who.Sub != "alice" || !slices.Contains(who.Aud, w.upURL) || who.Act["sub"] != "gw" || who.Grant != auth.GrantTokenExchange {
		t.Fatalf("the upstream saw %+v", who)
	}
	if len(who.Groups) != 1 || who.Groups[0] != "staff" {
		t.Errorf("groups were not carried: %+v", who.Groups)
	}
	cs2, _ := w.connect(t, "bob", false)
	if who, _, _ := call(t, cs2, "up_whoami"); who == nil || who.Sub != "bob" {
		t.Fatalf("bob: %+v", who)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, seen := range w.seenAuthz {
		for _, ct := range w.clientTokensSeen {
			if seen == ct {
				t.Fatal("the upstream received a client's own token")
			}
		}
	}
}

// TestOAuthUser: the gateway is the OAuth client of the upstream's
// authorization server for each person; consent starts with a URL
// elicitation; two people get distinct tokens; tokens are refreshed by
// the gateway (twice in a row); revoking one person leaves the other
// working.
func TestOAuthUser(t *testing.T) {
	w := newWorld(t, map[string]config.UpstreamAuth{
		"up": {Mode: config.AuthOAuthUser, ClientID: "gw", ClientSecret: "gw-secret", Issuer: ""},
	}, time.Second) // upstream access tokens live a second: every call refreshes
	a := w.auths["up"]
	csA, _ := w.connect(t, "alice", true)
	csB, _ := w.connect(t, "bob", true)
	waitTool(t, csA, "up_whoami")

	consent := func(cs *mcp.ClientSession, user string) {
		t.Helper()
		_, _, err := call(t, cs, "up_whoami")
		var je *jsonrpc.Error
		if !errors.As(err, &je) || je.Code != protocol.CodeURLElicitationRequired {
			t.Fatalf("%s's first call: %v, want a URL elicitation", user, err)
		}
		d, ok := protocol.URLElicitationRequired(je)
		if !ok || len(d.Elicitations) != 1 {
			t.Fatalf("elicitation data %v", je.Data)
		}
		// The person opens the URL: signs in at the upstream's
		// authorization server, which redirects to the gateway.
		resp, err := asUser(user).Get(d.Elicitations[0].URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Request.URL.Path != "/oauth/callback" {
			t.Fatalf("%s's consent ended at %s with %d", user, resp.Request.URL, resp.StatusCode)
		}
		// The client is told that the elicitation is complete.
		deadline := time.Now().Add(5 * time.Second)
		for {
			w.mu.Lock()
			done := slices.Contains(w.completed, d.Elicitations[0].ElicitationID)
			w.mu.Unlock()
			if done {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s's client was not told the elicitation %s is complete", user, d.Elicitations[0].ElicitationID)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	consent(csA, "alice")
	consent(csB, "bob")

	seen := map[string]string{}
	for _, p := range []struct {
		cs   *mcp.ClientSession
		user string
	}{{csA, "alice"}, {csB, "bob"}} {
		before := w.refreshes.Load()
		for range 2 { // refresh works twice in a row
			time.Sleep(1100 * time.Millisecond)
			who, res, err := call(t, p.cs, "up_whoami")
			if err != nil || who == nil {
				t.Fatalf("%s: %v %+v", p.user, err, res)
			}
			if who.Sub != p.user || who.Client != "gw" || !slices.Contains(who.Aud, w.upURL) {
				t.Fatalf("%s: upstream saw %+v", p.user, who)
			}
		}
		if n := w.refreshes.Load() - before; n < 2 {
			t.Fatalf("%s: %d refreshes, want at least 2", p.user, n)
		}
		w.mu.Lock()
		seen[p.user] = w.seenAuthz[len(w.seenAuthz)-1]
		w.mu.Unlock()
	}
	if seen["alice"] == seen["bob"] {
		t.Fatal("alice and bob used the same upstream token")
	}
	// Revoke alice: her next call needs consent again; bob goes on.
	if err := a.RevokeUser(context.Background(), w.as1.Issuer()+" alice"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := call(t, csA, "up_whoami"); err == nil || !strings.Contains(err.Error(), "Sign in") {
		t.Fatalf("alice after revocation: %v", err)
	}
	if who, _, err := call(t, csB, "up_whoami"); err != nil || who == nil || who.Sub != "bob" {
		t.Fatalf("bob after alice's revocation: %v %+v", err, who)
	}
	// The vault holds bob's tokens sealed, never in the clear.
	names, _ := w.vault.Names(context.Background(), "upstream/up/user/")
	if len(names) != 1 || !strings.Contains(names[0], url.PathEscape(w.as1.Issuer()+" bob")) {
		t.Fatalf("vault names %v", names)
	}
}

// TestUnauthorizedRelay: when the gateway cannot start consent (the
// client does not support URL elicitation), the upstream's 401 challenge
// reaches the client intact, in the tool result's _meta.
func TestUnauthorizedRelay(t *testing.T) {
	w := newWorld(t, map[string]config.UpstreamAuth{
		"up": {Mode: config.AuthOAuthUser, ClientID: "gw", ClientSecret: "gw-secret"},
	}, 0)
	cs, _ := w.connect(t, "carol", false)
	waitTool(t, cs, "up_whoami")
	_, res, err := call(t, cs, "up_whoami")
	if err != nil || res == nil || !res.IsError {
		t.Fatalf("want a tool error, got %v %+v", err, res)
	}
	raw, _ := json.Marshal(res.Meta)
	var meta map[string]upstreamauth.UnauthorizedData
	_ = json.Unmarshal(raw, &meta)
	d := meta[upstreamauth.MetaKey]
	if d.Status != 401 || len(d.WWWAuthenticate) == 0 || !strings.Contains(d.WWWAuthenticate[0], `resource_metadata="`+w.up.URL+"/.well-known/oauth-protected-resource/mcp") {
		t.Fatalf("relayed challenge %+v (meta %s)", d, raw)
	}
}

// TestClientCredentials: the gateway calls the upstream with its own
// token (client credentials at the upstream's authorization server, the
// token endpoint found through the upstream's metadata), whoever calls.
func TestClientCredentials(t *testing.T) {
	// The client secret is sealed in the vault ("switchboard keys secret
	// set gw") and named by reference.
	vaultInit = func(v *identity.Vault) {
		if err := v.Put(context.Background(), upstreamauth.VaultConfigName("gw"), []byte("gw-secret")); err != nil {
			t.Fatal(err)
		}
	}
	defer func() { vaultInit = nil }()
	w := newWorld(t, map[string]config.UpstreamAuth{
		"cc": {Mode: config.AuthClientCredentials, ClientID: "gw", ClientSecret: upstreamauth.VaultRefPrefix + "gw"},
	}, 0)
	cs, _ := w.connect(t, "dave", false)
	waitTool(t, cs, "cc_whoami")
	who, res, err := call(t, cs, "cc_whoami")
	if err != nil || who == nil {
		t.Fatalf("call: %v %+v", err, res)
	}
	if who.Sub != "gw" || who.Grant != auth.GrantClientCredentials || !slices.Contains(who.Aud, w.upURL) {
		t.Fatalf("the upstream saw %+v", who)
	}
}

// TestIDJAGMode: in mode id-jag the gateway asks the enterprise identity
// provider for an ID-JAG for the caller (token exchange with the
// caller's token), presents it to the upstream's authorization server
// (jwt-bearer), and the upstream sees a token for the caller, for
// itself.
func TestIDJAGMode(t *testing.T) {
	// The enterprise IdP: it trusts the gateway's authorization server's
	// tokens (the caller's sign-in) and mints ID-JAGs for the gateway.
	idpKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	var as1Verify func(string) (*auth.TokenInfo, error)
	idp := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/jwks":
			_ = json.NewEncoder(rw).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &idpKey.PublicKey, KeyID: "k", Algorithm: "ES256", Use: "sig"}}})
		case "/token":
			_ = r.ParseForm()
			user, pass, _ := r.BasicAuth()
			info, err := as1Verify(r.PostForm.Get("subject_token"))
			if user != "gw-at-idp" || pass != "idp-secret" || err != nil || r.PostForm.Get("requested_token_type") != upstreamauth.TokenTypeIDJAG {
				http.Error(rw, `{"error":"invalid_grant"}`, 400)
				return
			}
			s, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: idpKey}, (&jose.SignerOptions{}).WithType("oauth-id-jag+jwt").WithHeader("kid", "k"))
			now := time.Now()
			jag, _ := jwt.Signed(s).Claims(map[string]any{"iss": "http://" + r.Host, "sub": info.Subject, "aud": r.PostForm.Get("audience"),
				"resource": r.PostForm.Get("resource"), "client_id": "gw", "scope": "", "jti": fmt.Sprint(now.UnixNano()),
				"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()}).Serialize()
			_ = json.NewEncoder(rw).Encode(map[string]any{"access_token": jag, "issued_token_type": upstreamauth.TokenTypeIDJAG, "token_type": "N_A"})
		}
	}))
	defer idp.Close()
	as2Extra = func(o *authserver.Options) {
		o.IDJAGIssuers = []authserver.AssertionIssuer{{Issuer: idp.URL, JWKSURL: idp.URL + "/jwks"}}
	}
	defer func() { as2Extra = nil }()
	w := newWorld(t, map[string]config.UpstreamAuth{
		"jag": {Mode: config.AuthIDJAG, ClientID: "gw", ClientSecret: "gw-secret",
			IDP: &config.IDPClient{TokenEndpoint: idp.URL + "/token", ClientID: "gw-at-idp", ClientSecret: "idp-secret"}},
	}, 0)
	v1, _ := w.as1.Verifier(w.gwURL)
	as1Verify = func(tok string) (*auth.TokenInfo, error) { return v1.Verify(context.Background(), tok) }
	cs, _ := w.connect(t, "erin", false)
	waitTool(t, cs, "jag_whoami")
	who, res, err := call(t, cs, "jag_whoami")
	if err != nil || who == nil {
		t.Fatalf("call: %v %+v", err, res)
	}
	if who.Sub != "erin" || who.Grant != auth.GrantIDJAG || who.Client != "gw" || !slices.Contains(who.Aud, w.upURL) {
		t.Fatalf("the upstream saw %+v", who)
	}
}
