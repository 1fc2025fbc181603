// Package upstreamauth gives each upstream of the gateway its own
// credentials, so that a client's token is never passed on (the MCP
// specification forbids token passthrough): a credential mode per
// upstream (see config.UpstreamAuth) applied by an http.RoundTripper on
// the upstream's HTTP client, plus a client middleware that starts a
// person's consent with a URL mode elicitation (oauth-user) and relays
// an upstream's 401 challenge to the client intact when the gateway
// cannot obtain credentials itself.
//
// The caller of an upstream request is the one the auth middleware
// verified for the client request it relays (auth.TokenInfoFrom on the
// request's context); the gateway's own requests (initialize, lists,
// pings) have none and use the gateway's own credentials
// (client-credentials when a client secret is configured) or none.
package upstreamauth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-mcp/switchboard/auth"
	"github.com/switchboard-mcp/switchboard/gateway/config"
	"github.com/switchboard-mcp/switchboard/identity"
)

// Token types of RFC 8693.
const (
	TokenTypeAccessToken = "urn:ietf:params:oauth:token-type:access_token"
	TokenTypeIDJAG       = "urn:ietf:params:oauth:token-type:id-jag"
	GrantTokenExchange   = "urn:ietf:params:oauth:grant-type:token-exchange"
	GrantJWTBearer       = "urn:ietf:params:oauth:grant-type:jwt-bearer"
)

// Options configure an [Auth].
type Options struct {
	// Upstream is the upstream's name; URL its MCP endpoint.
	Upstream, URL string
	// Config is the upstream's "auth".
	Config config.UpstreamAuth
	// Vault keeps each person's tokens (oauth-user).
	Vault *identity.Vault
	// CallbackURL is the gateway's OAuth redirect URI (oauth-user), the
	// URL where [Callbacks] is mounted, when Config.RedirectURL is unset.
	CallbackURL string
	// Base sends the requests (default http.DefaultTransport); HTTPClient
	// makes the token and metadata requests (default: 30 s timeout).
	Base       http.RoundTripper
	HTTPClient *http.Client // see Base
	// Logger receives diagnostics; tokens are never logged.
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Auth applies one upstream's credential mode.
type Auth struct {
	o    Options
	cfg  config.UpstreamAuth
	res  string // the resource parameter ("" with OmitResource)
	base http.RoundTripper
	hc   *http.Client
	log  *slog.Logger
	now  func() time.Time

	mu    sync.Mutex
	as    *asMetadata
	cache map[string]*cached // tokens by caller
	sf    map[string]*flight // one token request per caller at a time
}

type cached struct {
	token, typ string
	expiry     time.Time
}

type flight struct {
	done chan struct{}
	tok  *cached
	err  error
}

// New returns the Auth of an upstream.
func New(o Options) (*Auth, error) {
	a := &Auth{o: o, cfg: o.Config, base: o.Base, hc: o.HTTPClient, log: o.Logger, now: o.Now,
		cache: map[string]*cached{}, sf: map[string]*flight{}}
	if a.cfg.Mode == "" {
		a.cfg.Mode = config.AuthNone
	}
	if a.base == nil {
		a.base = http.DefaultTransport
	}
	if a.hc == nil {
		a.hc = &http.Client{Timeout: 30 * time.Second}
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.now == nil {
		a.now = time.Now
	}
	if !a.cfg.OmitResource {
		a.res = a.cfg.Resource
		if a.res == "" {
			a.res = o.URL
		}
	}
	switch a.cfg.Mode {
	case config.AuthPassthrough:
		if !a.cfg.AllowPassthrough {
			return nil, fmt.Errorf("upstream %q: passthrough needs allowPassthrough", o.Upstream)
		}
	case config.AuthOAuthUser:
		if o.Vault == nil {
			return nil, fmt.Errorf("upstream %q: oauth-user needs the vault (a data directory)", o.Upstream)
		}
		if a.cfg.RedirectURL == "" {
			a.cfg.RedirectURL = o.CallbackURL
		}
		if a.cfg.RedirectURL == "" {
			return nil, fmt.Errorf("upstream %q: oauth-user needs a redirect URL", o.Upstream)
		}
	}
	return a, nil
}

// Mode returns the credential mode.
func (a *Auth) Mode() string { return a.cfg.Mode }

// ErrDPoPBound refuses the passthrough of a DPoP-bound token.
var ErrDPoPBound = errors.New("upstreamauth: the caller's token is DPoP-bound and is never forwarded")

// RoundTrip implements http.RoundTripper: it puts the upstream's
// credentials for the caller on req.
func (a *Auth) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	caller := auth.TokenInfoFrom(ctx)
	// The request is the gateway's own (the client's token never reaches
	// it: the auth middleware removes it); headers configured for the
	// upstream stay, and a credential of the mode replaces any
	// Authorization among them.
	out := req.Clone(ctx)
	var tok *cached
	var err error
	switch a.cfg.Mode {
	case config.AuthNone:
	case config.AuthStatic:
		for k, v := range a.cfg.Headers {
			out.Header.Set(k, v)
		}
	case config.AuthClientCredentials:
		tok, err = a.token(ctx, "", a.clientCredentials)
	case config.AuthTokenExchange:
		if st := auth.SubjectTokenFrom(ctx); st != nil && caller != nil {
			tok, err = a.token(ctx, tokenKey(st.Token), func(ctx context.Context) (*cached, error) { return a.exchange(ctx, st.Token) })
		} else if a.cfg.ClientSecret != "" {
			tok, err = a.token(ctx, "", a.clientCredentials)
		}
	case config.AuthIDJAG:
		if st := auth.SubjectTokenFrom(ctx); st != nil && caller != nil {
			tok, err = a.token(ctx, tokenKey(st.Token), func(ctx context.Context) (*cached, error) { return a.idjag(ctx, st.Token) })
		} else if a.cfg.ClientSecret != "" {
			tok, err = a.token(ctx, "", a.clientCredentials)
		}
	case config.AuthPassthrough:
		if st := auth.SubjectTokenFrom(ctx); st != nil {
			if st.DPoPBound {
				return nil, ErrDPoPBound
			}
			tok = &cached{token: st.Token, typ: "Bearer"}
		}
	case config.AuthOAuthUser:
		if caller != nil {
			tok, err = a.userToken(ctx, PersonKey(caller))
			if errors.Is(err, identity.ErrNotFound) {
				err = nil // no consent yet: the upstream's 401 decides
			}
		} else if a.cfg.ClientSecret != "" {
			tok, err = a.token(ctx, "", a.clientCredentials)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("upstream %q credentials: %w", a.o.Upstream, err)
	}
	if tok != nil {
		out.Header.Set("Authorization", "Bearer "+tok.token)
	}
	resp, err := a.base.RoundTrip(out)
	if err != nil || resp.StatusCode != http.StatusUnauthorized || tok == nil || out.GetBody == nil {
		return resp, err
	}
	// A token the upstream no longer accepts: forget it and try once
	// with a fresh one (a refresh for oauth-user).
	key := ""
	switch a.cfg.Mode {
	case config.AuthTokenExchange, config.AuthIDJAG:
		if st := auth.SubjectTokenFrom(ctx); st != nil && caller != nil {
			key = tokenKey(st.Token)
		}
	case config.AuthOAuthUser:
		if caller != nil {
			nt, rerr := a.refreshUser(ctx, PersonKey(caller), true)
			if rerr != nil || nt == nil {
				return resp, nil
			}
			return a.retry(resp, out, nt)
		}
	case config.AuthPassthrough:
		return resp, nil
	}
	a.mu.Lock()
	delete(a.cache, key)
	a.mu.Unlock()
	var nt *cached
	switch {
	case key == "":
		nt, err = a.token(ctx, "", a.clientCredentials)
	case a.cfg.Mode == config.AuthTokenExchange:
		nt, err = a.token(ctx, key, func(ctx context.Context) (*cached, error) { return a.exchange(ctx, auth.SubjectTokenFrom(ctx).Token) })
	default:
		nt, err = a.token(ctx, key, func(ctx context.Context) (*cached, error) { return a.idjag(ctx, auth.SubjectTokenFrom(ctx).Token) })
	}
	if err != nil {
		return resp, nil
	}
	return a.retry(resp, out, nt)
}

// retry sends out again with tok, after the 401 resp.
func (a *Auth) retry(resp *http.Response, out *http.Request, tok *cached) (*http.Response, error) {
	body, err := out.GetBody()
	if err != nil {
		return resp, nil
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	again := out.Clone(out.Context())
	again.Body = body
	again.Header.Set("Authorization", "Bearer "+tok.token)
	return a.base.RoundTrip(again)
}

// tokenKey is the cache key of a caller's token: a digest, never the
// token.
func tokenKey(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// PersonKey names a person for the vault: their issuer and subject.
func PersonKey(info *auth.TokenInfo) string {
	if info.Issuer == "" {
		return info.Subject
	}
	return info.Issuer + " " + info.Subject
}

// token returns the cached token under key, or obtains one with get (one
// request per key at a time).
func (a *Auth) token(ctx context.Context, key string, get func(context.Context) (*cached, error)) (*cached, error) {
	a.mu.Lock()
	if c := a.cache[key]; c != nil && (c.expiry.IsZero() || a.now().Add(10*time.Second).Before(c.expiry)) {
		a.mu.Unlock()
		return c, nil
	}
	if f := a.sf[key]; f != nil {
		a.mu.Unlock()
		select {
		case <-f.done:
			return f.tok, f.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f := &flight{done: make(chan struct{})}
	a.sf[key] = f
	a.mu.Unlock()
	f.tok, f.err = get(context.WithoutCancel(ctx))
	a.mu.Lock()
	delete(a.sf, key)
	if f.err == nil {
		a.cache[key] = f.tok
		if len(a.cache) > 10000 {
			for k, c := range a.cache {
				if !c.expiry.IsZero() && a.now().After(c.expiry) {
					delete(a.cache, k)
				}
			}
		}
	}
	a.mu.Unlock()
	close(f.done)
	return f.tok, f.err
}

// clientCredentials obtains the gateway's own token.
func (a *Auth) clientCredentials(ctx context.Context) (*cached, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	a.addCommon(form)
	return a.post(ctx, form, true)
}

// exchange trades the caller's token for one meant for the upstream (RFC
// 8693 section 2.1).
func (a *Auth) exchange(ctx context.Context, subject string) (*cached, error) {
	form := url.Values{
		"grant_type":           {GrantTokenExchange},
		"subject_token":        {subject},
		"subject_token_type":   {TokenTypeAccessToken},
		"requested_token_type": {TokenTypeAccessToken},
	}
	aud := a.cfg.Audience
	if aud == "" {
		aud = a.o.URL
	}
	form.Set("audience", aud)
	a.addCommon(form)
	return a.post(ctx, form, a.cfg.ClientID != "")
}

// idjag obtains an ID-JAG for the caller from the enterprise identity
// provider, then an access token for it from the upstream's
// authorization server.
func (a *Auth) idjag(ctx context.Context, subject string) (*cached, error) {
	md, err := a.metadata(ctx)
	if err != nil {
		return nil, err
	}
	form := url.Values{
		"grant_type":           {GrantTokenExchange},
		"requested_token_type": {TokenTypeIDJAG},
		"audience":             {md.Issuer},
		"subject_token":        {subject},
		"subject_token_type":   {TokenTypeAccessToken},
	}
	if a.res != "" {
		form.Set("resource", a.res)
	}
	if len(a.cfg.Scopes) > 0 {
		form.Set("scope", strings.Join(a.cfg.Scopes, " "))
	}
	idp := a.cfg.IDP
	idpSecret, err := a.resolve(ctx, idp.ClientSecret)
	if err != nil {
		return nil, err
	}
	jag, err := postForm(ctx, a.hc, idp.TokenEndpoint, form, idp.ClientID, idpSecret)
	if err != nil {
		return nil, fmt.Errorf("ID-JAG from the identity provider: %w", err)
	}
	grant := url.Values{"grant_type": {GrantJWTBearer}, "assertion": {jag.AccessToken}}
	if a.res != "" {
		grant.Set("resource", a.res)
	}
	if len(a.cfg.Scopes) > 0 {
		grant.Set("scope", strings.Join(a.cfg.Scopes, " "))
	}
	return a.post(ctx, grant, true)
}

func (a *Auth) addCommon(form url.Values) {
	if a.res != "" {
		form.Set("resource", a.res)
	}
	if len(a.cfg.Scopes) > 0 {
		form.Set("scope", strings.Join(a.cfg.Scopes, " "))
	}
}

// post sends a token request to the upstream's authorization server.
func (a *Auth) post(ctx context.Context, form url.Values, authn bool) (*cached, error) {
	md, err := a.metadata(ctx)
	if err != nil {
		return nil, err
	}
	id, secret := "", ""
	if authn {
		id = a.cfg.ClientID
		if secret, err = a.clientSecret(ctx); err != nil {
			return nil, err
		}
	}
	tr, err := postForm(ctx, a.hc, md.TokenEndpoint, form, id, secret)
	if err != nil {
		return nil, err
	}
	return tr.cached(a.now()), nil
}

// tokenResponse is an RFC 6749 token response.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
}

func (tr *tokenResponse) cached(now time.Time) *cached {
	c := &cached{token: tr.AccessToken, typ: tr.TokenType}
	if tr.ExpiresIn > 0 {
		c.expiry = now.Add(time.Duration(tr.ExpiresIn) * time.Second)
	}
	return c
}

// TokenError is an OAuth error answer from a token endpoint.
type TokenError struct {
	// Status is the HTTP status; Code and Desc the error and
	// error_description.
	Status     int
	Code, Desc string
}

// Error describes the refusal.
func (e *TokenError) Error() string {
	return fmt.Sprintf("token endpoint answered %d %s: %s", e.Status, e.Code, e.Desc)
}

// postForm POSTs a token request, with client_secret_basic when id is
// set (client_id alone for a public client).
func postForm(ctx context.Context, hc *http.Client, endpoint string, form url.Values, id, secret string) (*tokenResponse, error) {
	if endpoint == "" {
		return nil, errors.New("no token endpoint")
	}
	if id != "" && secret == "" {
		form.Set("client_id", id)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if id != "" && secret != "" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
			Desc  string `json:"error_description"`
		}
		_ = json.Unmarshal(body, &e)
		return nil, &TokenError{Status: resp.StatusCode, Code: e.Error, Desc: e.Desc}
	}
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil || tr.AccessToken == "" {
		return nil, errors.New("malformed token response")
	}
	return &tr, nil
}

// asMetadata is what the gateway needs of the upstream's authorization
// server.
type asMetadata struct {
	Issuer                string `json:"issuer"`
	AuthorizationEndpoint string `json:"authorization_endpoint"`
	TokenEndpoint         string `json:"token_endpoint"`
	RevocationEndpoint    string `json:"revocation_endpoint"`
}

// metadata returns the upstream authorization server's endpoints: from
// the configuration, its issuer's metadata, or the upstream's protected
// resource metadata.
func (a *Auth) metadata(ctx context.Context) (*asMetadata, error) {
	a.mu.Lock()
	md := a.as
	a.mu.Unlock()
	if md != nil {
		return md, nil
	}
	md = &asMetadata{Issuer: a.cfg.Issuer, TokenEndpoint: a.cfg.TokenEndpoint, AuthorizationEndpoint: a.cfg.AuthorizationEndpoint}
	issuer := a.cfg.Issuer
	if issuer == "" && md.TokenEndpoint == "" {
		// The upstream's protected resource metadata names it (RFC 9728).
		prm, err := prmURL(a.o.URL)
		if err != nil {
			return nil, err
		}
		var doc struct {
			AuthorizationServers []string `json:"authorization_servers"`
		}
		if err := getJSON(ctx, a.hc, prm, &doc); err != nil || len(doc.AuthorizationServers) == 0 {
			return nil, fmt.Errorf("upstream %q: no authorization server configured or discoverable (%v)", a.o.Upstream, err)
		}
		issuer = doc.AuthorizationServers[0]
	}
	if issuer != "" && (md.TokenEndpoint == "" || md.AuthorizationEndpoint == "" || md.Issuer == "") {
		var doc asMetadata
		var err error
		for _, u := range asMetadataURLs(issuer) {
			if err = getJSON(ctx, a.hc, u, &doc); err == nil && doc.Issuer == strings.TrimSuffix(issuer, "/") || err == nil && doc.Issuer == issuer {
				break
			}
			if err == nil {
				err = fmt.Errorf("metadata issuer %q is not %q", doc.Issuer, issuer)
			}
		}
		if err != nil {
			if md.TokenEndpoint == "" {
				return nil, fmt.Errorf("upstream %q: authorization server metadata: %w", a.o.Upstream, err)
			}
		} else {
			md.Issuer = doc.Issuer
			md.RevocationEndpoint = doc.RevocationEndpoint
			if md.TokenEndpoint == "" {
				md.TokenEndpoint = doc.TokenEndpoint
			}
			if md.AuthorizationEndpoint == "" {
				md.AuthorizationEndpoint = doc.AuthorizationEndpoint
			}
		}
	}
	a.mu.Lock()
	a.as = md
	a.mu.Unlock()
	return md, nil
}

func prmURL(resource string) (string, error) {
	u, err := url.Parse(resource)
	if err != nil || !u.IsAbs() {
		return "", fmt.Errorf("bad upstream URL %q", resource)
	}
	u.Path = auth.WellKnownPRMPath + strings.TrimSuffix(u.Path, "/")
	u.RawPath, u.RawQuery, u.Fragment = "", "", ""
	return u.String(), nil
}

func asMetadataURLs(issuer string) []string {
	u, err := url.Parse(issuer)
	if err != nil {
		return nil
	}
	p := strings.TrimSuffix(u.Path, "/")
	origin := u.Scheme + "://" + u.Host
	return []string{
		origin + "/.well-known/oauth-authorization-server" + p,
		origin + "/.well-known/openid-configuration" + p,
		origin + p + "/.well-known/openid-configuration",
	}
}

func getJSON(ctx context.Context, hc *http.Client, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", u, resp.Status)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(v)
}

// VaultRefPrefix marks a secret of the configuration kept in the vault:
// "vault:NAME" is the vault secret "config/NAME" ("switchboard keys
// secret set NAME"), so that client secrets are sealed at rest and
// rotated with the other secrets.
const VaultRefPrefix = "vault:"

// VaultConfigName is the vault name of a configuration secret.
func VaultConfigName(name string) string { return "config/" + name }

// resolve returns a configured secret, reading "vault:NAME" references
// from the vault.
func (a *Auth) resolve(ctx context.Context, v string) (string, error) {
	name, ok := strings.CutPrefix(v, VaultRefPrefix)
	if !ok {
		return v, nil
	}
	if a.o.Vault == nil {
		return "", fmt.Errorf("upstream %q: %s needs the vault", a.o.Upstream, v)
	}
	b, err := a.o.Vault.Get(ctx, VaultConfigName(name))
	if err != nil {
		return "", fmt.Errorf("upstream %q: the vault secret %q: %w", a.o.Upstream, name, err)
	}
	return string(b), nil
}

// clientSecret returns the gateway's client secret at the upstream's
// authorization server.
func (a *Auth) clientSecret(ctx context.Context) (string, error) {
	return a.resolve(ctx, a.cfg.ClientSecret)
}
