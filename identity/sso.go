package identity

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/switchboard-mcp/switchboard/authserver"
)

// SSOCallbackPath is where the provider sends people back, on the
// authorization server's host.
const SSOCallbackPath = "/sso/callback"

// SSOOptions configure single sign-on at the embedded authorization
// server through an OpenID Connect provider.
type SSOOptions struct {
	// Name is shown on the consent page (default the issuer's host).
	Name string
	// Issuer, ClientID and ClientSecret: the provider and this server's
	// client there (a confidential web client whose redirect URI is
	// CallbackURL).
	Issuer, ClientID, ClientSecret string
	// Scopes requested (default openid profile email; offline_access is
	// added so that access can be checked again at every refresh).
	Scopes []string
	// SubjectClaim, GroupsClaim and TenantClaim name the claims of the ID
	// token or userinfo (defaults sub, groups, tenant).
	SubjectClaim, GroupsClaim, TenantClaim string
	// RequiredGroups: a person outside all of them cannot sign in, and
	// loses access at their next token when the provider removes them.
	RequiredGroups []string
	// CallbackURL is this server's redirect URI at the provider: the
	// authorization server's issuer + SSOCallbackPath.
	CallbackURL string
	// Vault keeps each person's provider refresh token (sealed), to check
	// their access again at every refresh of their grants.
	Vault *Vault
	// HTTPClient talks to the provider (default: 30 s timeout).
	HTTPClient *http.Client
	// Logger receives diagnostics; tokens are never logged.
	Logger *slog.Logger
}

// SSO delegates the embedded authorization server's sign-in to an OpenID
// Connect provider: authorization code with PKCE and nonce at the
// provider, the person's subject, groups and tenant from configured
// claims, a sign-in session cookie on the authorization server's host,
// and a check at the provider at every refresh (authserver.Options
// .Revalidate), so that access granted and withdrawn at the provider
// takes effect here at the next token.
type SSO struct {
	o        SSOOptions
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
	oauth    oauth2.Config
	hc       *http.Client
	log      *slog.Logger

	mu       sync.Mutex
	pending  map[string]*ssoPending // by state
	sessions map[string]*ssoSession // by cookie value
}

type ssoPending struct {
	returnTo, verifier, nonce string
	expires                   time.Time
}

type ssoSession struct {
	person  *authserver.Person
	authURI string // the authorization request it signed in for
	expires time.Time
}

// ssoCookie is the sign-in session cookie.
const ssoCookie = "sb_sso"

// ssoSessionTTL bounds a sign-in session (the authorization server asks
// again afterwards).
const ssoSessionTTL = 10 * time.Minute

// NewSSO discovers the provider and returns the SSO.
func NewSSO(ctx context.Context, o SSOOptions) (*SSO, error) {
	if o.Issuer == "" || o.ClientID == "" || o.CallbackURL == "" {
		return nil, errors.New("identity: SSO needs the issuer, a client id and the callback URL")
	}
	s := &SSO{o: o, hc: o.HTTPClient, log: o.Logger, pending: map[string]*ssoPending{}, sessions: map[string]*ssoSession{}}
	if s.hc == nil {
		s.hc = &http.Client{Timeout: 30 * time.Second}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.o.SubjectClaim == "" {
		s.o.SubjectClaim = "sub"
	}
	if s.o.GroupsClaim == "" {
		s.o.GroupsClaim = "groups"
	}
	if s.o.TenantClaim == "" {
		s.o.TenantClaim = "tenant"
	}
	if s.o.Name == "" {
		if u, err := url.Parse(o.Issuer); err == nil {
			s.o.Name = u.Host
		}
	}
	scopes := s.o.Scopes
	if len(scopes) == 0 {
		scopes = []string{oidc.ScopeOpenID, "profile", "email"}
	}
	if !slices.Contains(scopes, oidc.ScopeOfflineAccess) {
		scopes = append(slices.Clone(scopes), oidc.ScopeOfflineAccess)
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, s.hc), o.Issuer)
	if err != nil {
		return nil, fmt.Errorf("identity: SSO provider %s: %w", o.Issuer, err)
	}
	s.provider = p
	s.verifier = p.Verifier(&oidc.Config{ClientID: o.ClientID})
	s.oauth = oauth2.Config{ClientID: o.ClientID, ClientSecret: o.ClientSecret, Endpoint: p.Endpoint(), RedirectURL: o.CallbackURL, Scopes: scopes}
	return s, nil
}

func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Identify is the authorization server's Options.Identify: the person of
// the sign-in session, or a redirect to the provider (ErrHandled).
func (s *SSO) Identify(w http.ResponseWriter, r *http.Request) (*authserver.Person, error) {
	// A sign-in serves the one authorization request it was made for
	// (and its consent form): every new authorization asks the provider
	// again, so that what the provider withdrew is not granted here.
	if c, err := r.Cookie(ssoCookie); err == nil {
		s.mu.Lock()
		sess := s.sessions[c.Value]
		ok := sess != nil && time.Now().Before(sess.expires) && (r.Method == http.MethodPost || sess.authURI == r.URL.RequestURI())
		if ok && r.Method == http.MethodPost {
			delete(s.sessions, c.Value) // the consent is answered
		}
		s.mu.Unlock()
		if ok {
			return sess.person, nil
		}
	}
	if r.Method != http.MethodGet {
		return nil, errors.New("the sign-in session ended")
	}
	state, verifier, nonce := randomID(24), oauth2.GenerateVerifier(), randomID(16)
	s.mu.Lock()
	now := time.Now()
	for k, p := range s.pending {
		if now.After(p.expires) {
			delete(s.pending, k)
		}
	}
	if len(s.pending) >= 10000 {
		s.mu.Unlock()
		return nil, errors.New("too many sign-ins in progress")
	}
	s.pending[state] = &ssoPending{returnTo: r.URL.RequestURI(), verifier: verifier, nonce: nonce, expires: now.Add(10 * time.Minute)}
	s.mu.Unlock()
	http.Redirect(w, r, s.oauth.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce)), http.StatusFound)
	return nil, authserver.ErrHandled
}

// ssoTokens is a person's provider tokens, sealed in the vault.
type ssoTokens struct {
	RefreshToken string    `json:"refresh_token,omitempty"`
	AccessToken  string    `json:"access_token"`
	Expiry       time.Time `json:"expiry,omitzero"`
}

func (s *SSO) vaultName(subject string) string { return "sso/" + url.PathEscape(subject) }

// ServeHTTP is the redirect endpoint (SSOCallbackPath): it redeems the
// code, verifies the ID token (signature, issuer, audience, expiry,
// nonce), reads the person's claims (ID token, then userinfo), checks
// the required groups, opens the sign-in session and returns to the
// authorization request.
func (s *SSO) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	fail := func(status int, msg string) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprintf(w, "<!DOCTYPE html><title>Sign-in</title><h1>Sign-in failed</h1><p>%s</p>", html.EscapeString(msg))
	}
	q := r.URL.Query()
	s.mu.Lock()
	p := s.pending[q.Get("state")]
	delete(s.pending, q.Get("state"))
	s.mu.Unlock()
	if p == nil || time.Now().After(p.expires) {
		fail(http.StatusBadRequest, "This sign-in expired or was already used; start again from the application.")
		return
	}
	if e := q.Get("error"); e != "" {
		fail(http.StatusForbidden, "The identity provider refused the sign-in: "+e)
		return
	}
	ctx := oidc.ClientContext(r.Context(), s.hc)
	tok, err := s.oauth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(p.verifier))
	if err != nil {
		s.log.Warn("identity: SSO code exchange failed", "error", err.Error())
		fail(http.StatusBadGateway, "The identity provider did not complete the sign-in.")
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := s.verifier.Verify(ctx, raw)
	if err != nil || idt.Nonce != p.nonce {
		fail(http.StatusForbidden, "The identity provider's ID token is not valid.")
		return
	}
	claims := map[string]any{}
	if err := idt.Claims(&claims); err != nil {
		fail(http.StatusBadGateway, "Malformed ID token claims.")
		return
	}
	if ui, err := s.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
		extra := map[string]any{}
		if ui.Claims(&extra) == nil && extra["sub"] == claims["sub"] {
			for k, v := range extra {
				if _, ok := claims[k]; !ok || k == s.o.GroupsClaim {
					claims[k] = v
				}
			}
		}
	}
	person, err := s.person(claims)
	if err != nil {
		fail(http.StatusForbidden, err.Error())
		return
	}
	if s.o.Vault != nil {
		b, _ := json.Marshal(ssoTokens{RefreshToken: tok.RefreshToken, AccessToken: tok.AccessToken, Expiry: tok.Expiry})
		if err := s.o.Vault.Put(r.Context(), s.vaultName(person.Subject), b); err != nil {
			fail(http.StatusInternalServerError, "The sign-in could not be stored.")
			return
		}
	}
	id := randomID(32)
	s.mu.Lock()
	for k, v := range s.sessions {
		if time.Now().After(v.expires) {
			delete(s.sessions, k)
		}
	}
	s.sessions[id] = &ssoSession{person: person, authURI: p.returnTo, expires: time.Now().Add(ssoSessionTTL)}
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: ssoCookie, Value: id, Path: "/", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteLaxMode, MaxAge: int(ssoSessionTTL / time.Second)})
	s.log.Info("identity: signed in through SSO", "subject", person.Subject, "provider", s.o.Name)
	http.Redirect(w, r, p.returnTo, http.StatusFound)
}

// person turns the provider's claims into the authorization server's
// person, checking the required groups.
func (s *SSO) person(claims map[string]any) (*authserver.Person, error) {
	sub, _ := claims[s.o.SubjectClaim].(string)
	if sub == "" {
		return nil, fmt.Errorf("the identity provider named no subject (claim %q)", s.o.SubjectClaim)
	}
	groups := stringList(claims[s.o.GroupsClaim])
	if err := s.checkGroups(groups); err != nil {
		return nil, err
	}
	p := &authserver.Person{Subject: sub, Provider: s.o.Name, Claims: map[string]any{"idp": s.o.Issuer}}
	p.Name, _ = claims["name"].(string)
	if p.Name == "" {
		gn, _ := claims["given_name"].(string)
		fn, _ := claims["family_name"].(string)
		p.Name = strings.TrimSpace(gn + " " + fn)
	}
	p.Email, _ = claims["email"].(string)
	if p.Email != "" {
		p.Claims["email"] = p.Email
	}
	if groups != nil {
		g := make([]any, len(groups))
		for i, x := range groups {
			g[i] = x
		}
		p.Claims["groups"] = g
	}
	if t, ok := claims[s.o.TenantClaim].(string); ok && t != "" {
		p.Claims["tenant"] = t
	}
	return p, nil
}

func (s *SSO) checkGroups(groups []string) error {
	if len(s.o.RequiredGroups) == 0 {
		return nil
	}
	for _, g := range groups {
		if slices.Contains(s.o.RequiredGroups, g) {
			return nil
		}
	}
	return fmt.Errorf("you are not in a group allowed to use this server (%s)", strings.Join(s.o.RequiredGroups, ", "))
}

// Revalidate is the authorization server's Options.Revalidate: before a
// grant is refreshed it refreshes the person's provider token and reads
// their claims again; a person the provider no longer knows, or who left
// the required groups, gets no new token.
func (s *SSO) Revalidate(ctx context.Context, g *authserver.StoredGrant) (map[string]any, error) {
	if idp, _ := g.Claims["idp"].(string); idp != s.o.Issuer || s.o.Vault == nil {
		return nil, nil // not a grant of this provider
	}
	b, err := s.o.Vault.Get(ctx, s.vaultName(g.Subject))
	if err != nil {
		return nil, fmt.Errorf("no sign-in at %s on record", s.o.Name)
	}
	var st ssoTokens
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, err
	}
	ctx = oidc.ClientContext(ctx, s.hc)
	// Always ask the provider: its refresh is where it says no.
	old := &oauth2.Token{AccessToken: st.AccessToken, RefreshToken: st.RefreshToken, Expiry: time.Unix(1, 0)}
	if st.RefreshToken == "" {
		old.Expiry = st.Expiry
	}
	tok, err := s.oauth.TokenSource(ctx, old).Token()
	if err != nil {
		return nil, fmt.Errorf("%s refused to renew the sign-in", s.o.Name)
	}
	ui, err := s.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		return nil, fmt.Errorf("%s did not confirm the person", s.o.Name)
	}
	claims := map[string]any{}
	if err := ui.Claims(&claims); err != nil {
		return nil, err
	}
	p, err := s.person(claims)
	if err != nil {
		return nil, err
	}
	if p.Subject != g.Subject {
		return nil, errors.New("the provider answered for another person")
	}
	nb, _ := json.Marshal(ssoTokens{RefreshToken: orString(tok.RefreshToken, st.RefreshToken), AccessToken: tok.AccessToken, Expiry: tok.Expiry})
	if err := s.o.Vault.Put(ctx, s.vaultName(g.Subject), nb); err != nil {
		return nil, err
	}
	out := map[string]any{"groups": p.Claims["groups"], "tenant": p.Claims["tenant"], "email": p.Claims["email"]}
	return out, nil
}

func orString(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
