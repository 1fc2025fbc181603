package upstreamauth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/auth"
	"github.com/switchboard-mcp/switchboard/gateway"
	"github.com/switchboard-mcp/switchboard/gateway/config"
	"github.com/switchboard-mcp/switchboard/identity"
	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport"
)

// userRecord is a person's tokens for one upstream, as the vault keeps
// them (sealed).
type userRecord struct {
	AccessToken   string    `json:"access_token"`
	RefreshToken  string    `json:"refresh_token,omitempty"`
	Expiry        time.Time `json:"expiry,omitzero"`
	Scope         string    `json:"scope,omitempty"`
	TokenEndpoint string    `json:"token_endpoint"`
	ClientID      string    `json:"client_id"`
}

// vaultName is where a person's tokens for this upstream are kept.
func (a *Auth) vaultName(person string) string {
	return "upstream/" + a.o.Upstream + "/user/" + url.PathEscape(person)
}

func (a *Auth) loadUser(ctx context.Context, person string) (*userRecord, error) {
	b, err := a.o.Vault.Get(ctx, a.vaultName(person))
	if err != nil {
		return nil, err
	}
	var r userRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("upstreamauth: a malformed vault record: %w", err)
	}
	return &r, nil
}

func (a *Auth) saveUser(ctx context.Context, person string, r *userRecord) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return a.o.Vault.Put(ctx, a.vaultName(person), b)
}

// userLock serializes the refreshes of one person's token.
var userLocks sync.Map // string -> *sync.Mutex

func lockFor(key string) *sync.Mutex {
	m, _ := userLocks.LoadOrStore(key, &sync.Mutex{})
	return m.(*sync.Mutex)
}

// userToken returns the person's token for the upstream, refreshed when
// it expired; an error wrapping identity.ErrNotFound means there is none
// (consent is needed).
func (a *Auth) userToken(ctx context.Context, person string) (*cached, error) {
	r, err := a.loadUser(ctx, person)
	if err != nil {
		return nil, err
	}
	if r.Expiry.IsZero() || a.now().Add(5*time.Second).Before(r.Expiry) {
		return &cached{token: r.AccessToken, expiry: r.Expiry}, nil
	}
	return a.refreshUser(ctx, person, false)
}

// refreshUser refreshes the person's token (force: even if it has not
// expired, as the upstream refused it). A dead refresh token deletes the
// record: consent is needed again.
func (a *Auth) refreshUser(ctx context.Context, person string, force bool) (*cached, error) {
	mu := lockFor(a.vaultName(person))
	mu.Lock()
	defer mu.Unlock()
	r, err := a.loadUser(ctx, person)
	if err != nil {
		return nil, err
	}
	fresh := r.Expiry.IsZero() || a.now().Add(5*time.Second).Before(r.Expiry)
	if fresh && !force {
		return &cached{token: r.AccessToken, expiry: r.Expiry}, nil
	}
	if r.RefreshToken == "" {
		_ = a.o.Vault.Delete(ctx, a.vaultName(person))
		return nil, fmt.Errorf("the token expired and cannot be refreshed: %w", identity.ErrNotFound)
	}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r.RefreshToken}}
	if a.res != "" {
		form.Set("resource", a.res)
	}
	secret, err := a.clientSecret(ctx)
	if err != nil {
		return nil, err
	}
	tr, err := postForm(ctx, a.hc, r.TokenEndpoint, form, r.ClientID, secret)
	var te *TokenError
	if errors.As(err, &te) && (te.Code == "invalid_grant" || te.Status == http.StatusUnauthorized) {
		_ = a.o.Vault.Delete(ctx, a.vaultName(person))
		return nil, fmt.Errorf("the refresh token was refused: %w", identity.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	nr := *r
	nr.AccessToken, nr.Expiry = tr.AccessToken, time.Time{}
	if tr.ExpiresIn > 0 {
		nr.Expiry = a.now().Add(time.Duration(tr.ExpiresIn) * time.Second)
	}
	if tr.RefreshToken != "" {
		nr.RefreshToken = tr.RefreshToken // rotated
	}
	if tr.Scope != "" {
		nr.Scope = tr.Scope
	}
	if err := a.saveUser(ctx, person, &nr); err != nil {
		return nil, err
	}
	a.log.Debug("upstreamauth: refreshed a person's token", "upstream", a.o.Upstream)
	return &cached{token: nr.AccessToken, expiry: nr.Expiry}, nil
}

// HasUserToken reports whether the vault holds the person's token.
func (a *Auth) HasUserToken(ctx context.Context, person string) bool {
	_, err := a.o.Vault.Get(ctx, a.vaultName(person))
	return err == nil
}

// RevokeUser forgets the person's tokens for the upstream and revokes
// the refresh token at its authorization server (RFC 7009) when it has a
// revocation endpoint. Other people's tokens are untouched.
func (a *Auth) RevokeUser(ctx context.Context, person string) error {
	r, err := a.loadUser(ctx, person)
	if errors.Is(err, identity.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if md, err := a.metadata(ctx); err == nil && md.RevocationEndpoint != "" {
		tok := r.RefreshToken
		if tok == "" {
			tok = r.AccessToken
		}
		secret, _ := a.clientSecret(ctx)
		_, _ = postFormRaw(ctx, a.hc, md.RevocationEndpoint, url.Values{"token": {tok}}, r.ClientID, secret)
	}
	return a.o.Vault.Delete(ctx, a.vaultName(person))
}

func postFormRaw(ctx context.Context, hc *http.Client, endpoint string, form url.Values, id, secret string) (int, error) {
	if id != "" && secret == "" {
		form.Set("client_id", id)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id != "" && secret != "" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// pendingConsent is an authorization request the gateway sent a person
// to, waiting for the redirect back.
type pendingConsent struct {
	a        *Auth
	person   string
	verifier string
	redirect string
	expires  time.Time
	// session and elicitation: whom to tell that the consent is
	// complete (notifications/elicitation/complete).
	session     *mcp.ServerSession
	elicitation string
}

// Registry holds the upstreams' Auths: the OAuth redirect endpoint of
// oauth-user consents ([Registry.ServeHTTP], mounted at the callback
// URL) and the upstream middleware ([Registry.Middleware]).
type Registry struct {
	mu      sync.Mutex
	byName  map[string]*Auth
	pending map[string]*pendingConsent // by state
}

// NewRegistry returns an empty Registry.
func NewRegistry() *Registry {
	return &Registry{byName: map[string]*Auth{}, pending: map[string]*pendingConsent{}}
}

// Set replaces the Auths (on start and configuration reloads).
func (r *Registry) Set(auths map[string]*Auth) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.byName = auths
}

// Get returns the Auth of an upstream, or nil.
func (r *Registry) Get(name string) *Auth {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.byName[name]
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// consentTTL is how long a consent link stays valid.
const consentTTL = 10 * time.Minute

// ConsentURL starts a person's authorization at the upstream's
// authorization server (authorization code with PKCE S256, state, the
// resource unless omitted) and returns the URL to send them to, with an
// elicitation id.
func (r *Registry) ConsentURL(ctx context.Context, a *Auth, person string) (string, string, error) {
	return r.consentURL(ctx, a, person, nil)
}

func (r *Registry) consentURL(ctx context.Context, a *Auth, person string, ss *mcp.ServerSession) (string, string, error) {
	md, err := a.metadata(ctx)
	if err != nil {
		return "", "", err
	}
	if md.AuthorizationEndpoint == "" {
		return "", "", errors.New("the upstream's authorization server has no authorization endpoint")
	}
	u, err := url.Parse(md.AuthorizationEndpoint)
	if err != nil {
		return "", "", err
	}
	verifier := randomString(32)
	sum := sha256.Sum256([]byte(verifier))
	state := randomString(24)
	q := u.Query()
	q.Set("response_type", "code")
	q.Set("client_id", a.cfg.ClientID)
	q.Set("redirect_uri", a.cfg.RedirectURL)
	q.Set("state", state)
	q.Set("code_challenge", base64.RawURLEncoding.EncodeToString(sum[:]))
	q.Set("code_challenge_method", "S256")
	if len(a.cfg.Scopes) > 0 {
		q.Set("scope", strings.Join(a.cfg.Scopes, " "))
	}
	if a.res != "" {
		q.Set("resource", a.res)
	}
	u.RawQuery = q.Encode()
	r.mu.Lock()
	now := a.now()
	for k, p := range r.pending {
		if now.After(p.expires) {
			delete(r.pending, k)
		}
	}
	if len(r.pending) >= 10000 {
		r.mu.Unlock()
		return "", "", errors.New("too many consents waiting")
	}
	eid := "consent-" + state[:12]
	r.pending[state] = &pendingConsent{a: a, person: person, verifier: verifier, redirect: a.cfg.RedirectURL, expires: now.Add(consentTTL),
		session: ss, elicitation: eid}
	r.mu.Unlock()
	return u.String(), eid, nil
}

// ServeHTTP is the OAuth redirect endpoint of oauth-user consents: it
// redeems the code at the upstream's authorization server and keeps the
// person's tokens in the vault.
func (r *Registry) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'")
	q := req.URL.Query()
	r.mu.Lock()
	p := r.pending[q.Get("state")]
	delete(r.pending, q.Get("state"))
	r.mu.Unlock()
	page := func(status int, msg string) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprintf(w, "<!DOCTYPE html><title>Switchboard</title><p>%s</p>", html.EscapeString(msg))
	}
	if p == nil || time.Now().After(p.expires) {
		page(http.StatusBadRequest, "This sign-in link has expired or was already used. Try the request again from your application.")
		return
	}
	if e := q.Get("error"); e != "" {
		page(http.StatusForbidden, "The sign-in was not completed: "+e)
		return
	}
	a := p.a
	md, err := a.metadata(req.Context())
	if err != nil {
		page(http.StatusBadGateway, "The upstream's authorization server cannot be reached.")
		return
	}
	if iss := q.Get("iss"); iss != "" && md.Issuer != "" && iss != md.Issuer {
		page(http.StatusBadRequest, "The answer came from another authorization server.")
		return
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {p.redirect}, "code_verifier": {p.verifier}}
	if a.res != "" {
		form.Set("resource", a.res)
	}
	secret, err := a.clientSecret(req.Context())
	if err != nil {
		page(http.StatusInternalServerError, "The gateway's client secret is not available.")
		return
	}
	tr, err := postForm(req.Context(), a.hc, md.TokenEndpoint, form, a.cfg.ClientID, secret)
	if err != nil {
		a.log.Warn("upstreamauth: redeeming a consent failed", "upstream", a.o.Upstream, "error", err.Error())
		page(http.StatusBadGateway, "The upstream's authorization server refused the sign-in.")
		return
	}
	rec := &userRecord{AccessToken: tr.AccessToken, RefreshToken: tr.RefreshToken, Scope: tr.Scope, TokenEndpoint: md.TokenEndpoint, ClientID: a.cfg.ClientID}
	if tr.ExpiresIn > 0 {
		rec.Expiry = a.now().Add(time.Duration(tr.ExpiresIn) * time.Second)
	}
	if err := a.saveUser(req.Context(), p.person, rec); err != nil {
		page(http.StatusInternalServerError, "The token could not be stored.")
		return
	}
	a.log.Info("upstreamauth: a person connected an upstream", "upstream", a.o.Upstream)
	if p.session != nil {
		// The client may retry now (URL mode elicitation, 2025-11-25).
		_ = p.session.CompleteElicitation(context.WithoutCancel(req.Context()), p.elicitation)
	}
	page(http.StatusOK, "Signed in to "+a.o.Upstream+". You can close this window and go back to your application.")
}

// CodeUpstreamUnauthorized is the JSON-RPC error code of a request an
// upstream refused with 401 when the gateway could not obtain
// credentials for it itself. The error's data carries the upstream's
// challenge intact (see [UnauthorizedData]).
const CodeUpstreamUnauthorized = -32044

// MetaKey is the _meta key of a tool result that carries an upstream's
// 401 challenge.
const MetaKey = "io.switchboard/upstream-unauthorized"

// UnauthorizedData is what the client learns of an upstream's 401: the
// upstream, the status and its WWW-Authenticate challenges verbatim
// (with resource_metadata, scope, error), so the client or its user can
// act on them.
type UnauthorizedData struct {
	// Upstream is the upstream's name.
	Upstream string `json:"upstream"`
	// Status is the upstream's HTTP status (401).
	Status int `json:"status"`
	// WWWAuthenticate holds the upstream's challenges, verbatim.
	WWWAuthenticate []string `json:"wwwAuthenticate,omitempty"`
}

// Middleware returns the upstream middleware (gateway.Hooks
// .UpstreamMiddleware) that starts an oauth-user consent with a URL
// elicitation when the person has no token yet and their client supports
// URL elicitation (the request fails with
// protocol.CodeURLElicitationRequired; the client retries once the person
// signed in), and turns an upstream's 401 into a relayed challenge: a
// tools/call gets a tool result with isError and the challenge in _meta
// (MetaKey); other requests a JSON-RPC error CodeUpstreamUnauthorized
// with UnauthorizedData.
func (r *Registry) Middleware() mcp.ClientMiddleware {
	return func(next mcp.CallHandler) mcp.CallHandler {
		return func(ctx context.Context, method string, params jsontext.Value) (jsontext.Value, error) {
			ri := gateway.RelayFrom(ctx)
			if ri == nil {
				return next(ctx, method, params)
			}
			a := r.Get(ri.Upstream)
			caller := auth.TokenInfoFrom(ctx)
			if a != nil && a.cfg.Mode == config.AuthOAuthUser && caller != nil && ri.Request != nil && wantsConsent(method) {
				person := PersonKey(caller)
				if _, err := a.userToken(ctx, person); errors.Is(err, identity.ErrNotFound) && supportsURLElicitation(ri.Request) {
					u, id, err := r.consentURL(ctx, a, person, ri.Request.Session)
					if err != nil {
						return nil, fmt.Errorf("starting the sign-in to upstream %q: %w", a.o.Upstream, err)
					}
					return nil, protocol.NewURLElicitationRequiredError(
						fmt.Sprintf("Sign in to %s to let the gateway act for you there, then try again.", a.o.Upstream),
						protocol.ElicitRequestParams{Message: fmt.Sprintf("Sign in to %s", a.o.Upstream), URL: u, ElicitationID: id})
				}
			}
			res, err := next(ctx, method, params)
			var he *transport.HTTPError
			if err == nil || !errors.As(err, &he) || he.StatusCode != http.StatusUnauthorized {
				return res, err
			}
			d := UnauthorizedData{Upstream: ri.Upstream, Status: he.StatusCode, WWWAuthenticate: http.Header(he.Header).Values("WWW-Authenticate")}
			return relay401(method, d)
		}
	}
}

func relay401(method string, d UnauthorizedData) (jsontext.Value, error) {
	msg := fmt.Sprintf("upstream %q requires authorization the gateway cannot obtain for you", d.Upstream)
	if len(d.WWWAuthenticate) > 0 {
		msg += ": WWW-Authenticate: " + strings.Join(d.WWWAuthenticate, ", ")
	}
	if method == protocol.MethodToolsCall {
		res := map[string]any{
			"content": []any{map[string]any{"type": "text", "text": msg}},
			"isError": true,
			"_meta":   map[string]any{MetaKey: d},
		}
		b, err := json.Marshal(res)
		return b, err
	}
	data, _ := json.Marshal(d)
	return nil, &jsonrpc.Error{Code: CodeUpstreamUnauthorized, Message: msg, Data: data}
}

// wantsConsent reports whether a method acts for the person (not the
// gateway's bookkeeping).
func wantsConsent(method string) bool {
	switch method {
	case protocol.MethodToolsCall, protocol.MethodResourcesRead, protocol.MethodPromptsGet:
		return true
	}
	return false
}

// supportsURLElicitation reports whether the client of r can be sent a
// URL mode elicitation.
func supportsURLElicitation(r *mcp.Request) bool {
	if !protocol.AllowsURLElicitation(r.ProtocolVersion()) {
		return false
	}
	c := r.ClientCapabilities()
	return c != nil && c.Elicitation != nil && c.Elicitation.URL != nil
}
