package oauthclient

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// ErrNoClient is returned when the client has no way to identify itself
// to the authorization server: no pre-registered credentials, no usable
// Client ID Metadata Document, and no registration endpoint.
var ErrNoClient = errors.New("oauthclient: no client registration possible: configure a client id (pre-registration), a client metadata document URL, or use an authorization server that supports dynamic client registration")

// obtain runs discovery, registration and the configured grant.
func (t *Transport) obtain(ctx context.Context, ch *Challenge, stepUp bool) (*Token, error) {
	t.mu.Lock()
	server := t.server
	disc := t.disc
	prevRequested := slices.Clone(t.requested)
	t.mu.Unlock()

	// A step-up keeps the discovery of the first authorization; anything
	// else discovers afresh (the server may have moved to another
	// authorization server).
	if !stepUp || disc == nil {
		d, err := t.discover(ctx, ch, server)
		if err != nil {
			return nil, err
		}
		disc = d
		t.mu.Lock()
		t.disc = d
		t.mu.Unlock()
	}

	scopes := t.selectScopes(ch, disc, prevRequested, stepUp)
	client, err := t.clientFor(ctx, disc)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.requested = slices.Clone(scopes)
	t.mu.Unlock()

	var tok *Token
	switch t.grant() {
	case GrantAuthorizationCode:
		tok, err = t.authorizationCode(ctx, disc, client, scopes)
	case GrantClientCredentials:
		form := url.Values{"grant_type": {GrantClientCredentials}}
		if len(scopes) > 0 {
			form.Set("scope", strings.Join(scopes, " "))
		}
		form.Set("resource", disc.resource)
		tok, err = t.tokenRequest(ctx, disc, client, form)
	case GrantJWTBearer:
		if t.cfg.Assertion == nil {
			return nil, errors.New("oauthclient: the jwt-bearer grant needs Config.Assertion")
		}
		var assertion string
		assertion, err = t.cfg.Assertion(ctx, AssertionRequest{Issuer: disc.issuer, Resource: disc.resource, Scopes: scopes})
		if err != nil {
			return nil, fmt.Errorf("oauthclient: obtaining an assertion: %w", err)
		}
		form := url.Values{"grant_type": {GrantJWTBearer}, "assertion": {assertion}}
		if len(scopes) > 0 {
			form.Set("scope", strings.Join(scopes, " "))
		}
		form.Set("resource", disc.resource)
		tok, err = t.tokenRequest(ctx, disc, client, form)
	default:
		return nil, fmt.Errorf("oauthclient: unsupported grant %q", t.grant())
	}
	if err != nil {
		return nil, err
	}
	if tok.Resource, err = CanonicalResource(server.String()); err != nil {
		return nil, err
	}
	if len(tok.Scopes) == 0 {
		tok.Scopes = scopes
	}
	t.logf("obtained token", "token", tok)
	return tok, nil
}

// selectScopes applies the MCP scope selection strategy: for a first
// authorization, Config.Scopes, else the challenge's scope, else the
// protected resource metadata's scopes_supported, else none; for a
// re-authorization, the union of the scopes requested before and the
// challenged ones. offline_access is added when the authorization server
// lists it and the grant can use refresh tokens.
func (t *Transport) selectScopes(ch *Challenge, d *discovery, prev []string, reauth bool) []string {
	var challenged []string
	if ch != nil {
		challenged = ch.Scopes()
	}
	var scopes []string
	switch {
	case reauth || len(prev) > 0:
		// Re-authorization: keep what was requested, add what is asked.
		scopes = union(prev, challenged)
		if len(scopes) == 0 {
			scopes = union(t.cfg.Scopes, nil)
		}
	case len(t.cfg.Scopes) > 0:
		scopes = union(t.cfg.Scopes, nil)
	case len(challenged) > 0:
		scopes = union(challenged, nil)
	case d.prm != nil && len(d.prm.ScopesSupported) > 0:
		scopes = union(d.prm.ScopesSupported, nil)
	}
	if len(scopes) > 0 && t.grant() == GrantAuthorizationCode && !t.cfg.DisableOfflineAccess &&
		slices.Contains(d.as.ScopesSupported, "offline_access") && !slices.Contains(scopes, "offline_access") {
		scopes = append(scopes, "offline_access")
	}
	return scopes
}

// union returns the elements of a then b, without duplicates, in order.
func union(a, b []string) []string {
	var out []string
	for _, s := range slices.Concat(a, b) {
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// clientFor returns the client identity to use with the discovered
// authorization server, in the MCP registration order: pre-registered,
// Client ID Metadata Document, a registration stored for this issuer,
// Dynamic Client Registration.
func (t *Transport) clientFor(ctx context.Context, d *discovery) (*ClientInfo, error) {
	if t.cfg.ClientID != "" {
		// Pre-registered credentials belong to one authorization server:
		// Config.ClientIssuer when set, else the first one they are used
		// with. A server that moves to another one gets an error, not our
		// credentials.
		t.mu.Lock()
		bound := t.cfg.ClientIssuer
		if bound == "" {
			if t.preIssuer == "" {
				t.preIssuer = d.issuer
			}
			bound = t.preIssuer
		}
		t.mu.Unlock()
		if bound != d.issuer {
			return nil, fmt.Errorf("oauthclient: the pre-registered client belongs to %s, not %s", bound, d.issuer)
		}
		return &ClientInfo{
			Issuer:                  d.issuer,
			ClientID:                t.cfg.ClientID,
			ClientSecret:            t.cfg.ClientSecret,
			TokenEndpointAuthMethod: t.cfg.ClientAuthMethod,
		}, nil
	}
	if t.grant() == GrantJWTBearer {
		// Workload identity federation: the assertion authenticates the
		// workload; no client id, no registration (SEP-1933).
		return &ClientInfo{Issuer: d.issuer, TokenEndpointAuthMethod: AuthMethodNone}, nil
	}
	if t.grant() != GrantAuthorizationCode {
		return nil, fmt.Errorf("oauthclient: the %s grant needs a pre-registered client id", t.grant())
	}
	if t.cfg.ClientMetadataURL != "" && d.as.ClientIDMetadataDocumentSupported {
		if err := checkClientMetadataURL(t.cfg.ClientMetadataURL); err != nil {
			return nil, err
		}
		method := AuthMethodNone
		if t.cfg.PrivateKey != nil {
			method = AuthMethodPrivateKeyJWT
		}
		return &ClientInfo{Issuer: d.issuer, ClientID: t.cfg.ClientMetadataURL, TokenEndpointAuthMethod: method}, nil
	}
	if c, err := t.store.Client(ctx, d.issuer); err == nil {
		expired := c.ClientSecretExpiresAt != 0 && !t.cfg.Now().Before(time.Unix(c.ClientSecretExpiresAt, 0))
		if !expired && slices.Contains(c.RedirectURIs, t.cfg.RedirectURL) {
			return c, nil
		}
	} else if !errors.Is(err, ErrNotFound) {
		t.logf("token store", "err", err)
	}
	if d.as.RegistrationEndpoint == "" {
		return nil, ErrNoClient
	}
	c, err := t.register(ctx, d)
	if err != nil {
		return nil, err
	}
	if err := t.store.SaveClient(ctx, c); err != nil {
		t.logf("saving client registration failed", "err", err)
	}
	return c, nil
}

// checkClientMetadataURL applies the MCP rule for Client ID Metadata
// Document URLs: https with a path.
func checkClientMetadataURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.Fragment != "" || strings.TrimPrefix(u.Path, "/") == "" {
		return fmt.Errorf("oauthclient: client metadata URL %q must be an https URL with a path", raw)
	}
	return nil
}

// MetadataDocument returns the Client ID Metadata Document for cfg: its
// ClientMetadata with defaults applied and client_id set to
// ClientMetadataURL. Serve it at that URL.
func (cfg *Config) MetadataDocument() ClientMetadata {
	md := cfg.clientMetadata()
	md.ClientID = cfg.ClientMetadataURL
	if md.TokenEndpointAuthMethod == "" {
		md.TokenEndpointAuthMethod = AuthMethodNone
		if cfg.PrivateKey != nil {
			md.TokenEndpointAuthMethod = AuthMethodPrivateKeyJWT
		}
	}
	return md
}

// clientMetadata returns ClientMetadata with defaults.
func (cfg *Config) clientMetadata() ClientMetadata {
	md := cfg.ClientMetadata
	md.RedirectURIs = slices.Clone(md.RedirectURIs)
	md.GrantTypes = slices.Clone(md.GrantTypes)
	md.ResponseTypes = slices.Clone(md.ResponseTypes)
	if md.ClientName == "" {
		md.ClientName = "Switchboard"
	}
	if len(md.RedirectURIs) == 0 && cfg.RedirectURL != "" {
		md.RedirectURIs = []string{cfg.RedirectURL}
	}
	if len(md.GrantTypes) == 0 {
		md.GrantTypes = []string{GrantAuthorizationCode, GrantRefreshToken}
	}
	if len(md.ResponseTypes) == 0 {
		md.ResponseTypes = []string{"code"}
	}
	if md.ApplicationType == "" {
		md.ApplicationType = "web"
		if u, err := url.Parse(cfg.RedirectURL); err == nil && (u.Scheme == "http" && isLoopbackHost(u.Hostname()) || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "")) {
			md.ApplicationType = "native"
		}
	}
	return md
}

// register performs Dynamic Client Registration (RFC 7591).
func (t *Transport) register(ctx context.Context, d *discovery) (*ClientInfo, error) {
	if t.cfg.RedirectURL == "" {
		return nil, errors.New("oauthclient: dynamic client registration needs Config.RedirectURL")
	}
	md := t.cfg.clientMetadata()
	if md.TokenEndpointAuthMethod == "" {
		md.TokenEndpointAuthMethod = registrationAuthMethod(d.as.TokenEndpointAuthMethodsSupported, t.cfg.PrivateKey != nil)
	}
	body, err := json.Marshal(md)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.as.RegistrationEndpoint, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := t.httpClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("oauthclient: client registration: %w", err)
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(io.LimitReader(resp.Body, maxMetadataSize+1))
	if err != nil {
		return nil, fmt.Errorf("oauthclient: client registration: %w", err)
	}
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return nil, parseOAuthError("registration", resp.StatusCode, rb)
	}
	if len(rb) > maxMetadataSize {
		return nil, errors.New("oauthclient: client registration response too large")
	}
	var info ClientInfo
	if err := json.Unmarshal(rb, &info); err != nil || info.ClientID == "" {
		return nil, errors.New("oauthclient: client registration response has no client_id")
	}
	info.Issuer = d.issuer
	if info.TokenEndpointAuthMethod == "" {
		info.TokenEndpointAuthMethod = md.TokenEndpointAuthMethod
	}
	if len(info.RedirectURIs) == 0 {
		info.RedirectURIs = md.RedirectURIs
	}
	t.logf("registered client", "issuer", d.issuer, "client_id", info.ClientID, "auth_method", info.TokenEndpointAuthMethod)
	return &info, nil
}

// registrationAuthMethod picks the token endpoint authentication method to
// ask for in a registration: a public client ("none") when the server
// allows it or says nothing, else the first secret-based method it lists.
func registrationAuthMethod(supported []string, haveKey bool) string {
	if haveKey && slices.Contains(supported, AuthMethodPrivateKeyJWT) {
		return AuthMethodPrivateKeyJWT
	}
	if len(supported) == 0 || slices.Contains(supported, AuthMethodNone) {
		return AuthMethodNone
	}
	for _, m := range []string{AuthMethodClientSecretBasic, AuthMethodClientSecretPost} {
		if slices.Contains(supported, m) {
			return m
		}
	}
	return AuthMethodNone
}

// tokenAuthMethod decides how the client authenticates at the token
// endpoint: what the registration (or configuration) says when the
// client has the credentials for it, else the best method the server
// lists that the client can do (RFC 8414: client_secret_basic when the
// server lists none).
func tokenAuthMethod(c *ClientInfo, supported []string, haveKey bool) string {
	can := func(m string) bool {
		switch m {
		case AuthMethodNone:
			return true
		case AuthMethodClientSecretBasic, AuthMethodClientSecretPost:
			return c.ClientSecret != ""
		case AuthMethodPrivateKeyJWT:
			return haveKey
		}
		return false
	}
	if m := c.TokenEndpointAuthMethod; m != "" && can(m) {
		return m
	}
	if len(supported) == 0 {
		supported = []string{AuthMethodClientSecretBasic}
	}
	prefs := []string{AuthMethodPrivateKeyJWT, AuthMethodClientSecretBasic, AuthMethodClientSecretPost, AuthMethodNone}
	if c.ClientSecret == "" && !haveKey {
		prefs = []string{AuthMethodNone}
	}
	for _, m := range prefs {
		if can(m) && slices.Contains(supported, m) {
			return m
		}
	}
	// The server lists nothing we can do: fall back to what our
	// credentials allow and let the server decide.
	switch {
	case haveKey:
		return AuthMethodPrivateKeyJWT
	case c.ClientSecret != "":
		return AuthMethodClientSecretBasic
	}
	return AuthMethodNone
}

// authorizationCode runs the authorization code grant with PKCE.
func (t *Transport) authorizationCode(ctx context.Context, d *discovery, client *ClientInfo, scopes []string) (*Token, error) {
	if t.cfg.Authorize == nil {
		return nil, errors.New("oauthclient: authorization needed but Config.Authorize is not set")
	}
	if t.cfg.RedirectURL == "" {
		return nil, errors.New("oauthclient: authorization needed but Config.RedirectURL is not set")
	}
	verifier, err := newPKCE()
	if err != nil {
		return nil, err
	}
	state, err := randomString(24)
	if err != nil {
		return nil, err
	}
	au, err := url.Parse(d.as.AuthorizationEndpoint)
	if err != nil {
		return nil, fmt.Errorf("oauthclient: authorization_endpoint: %w", err)
	}
	q := au.Query()
	q.Set("response_type", "code")
	q.Set("client_id", client.ClientID)
	q.Set("redirect_uri", t.cfg.RedirectURL)
	q.Set("code_challenge", verifier.challenge)
	q.Set("code_challenge_method", "S256")
	q.Set("state", state)
	if len(scopes) > 0 {
		q.Set("scope", strings.Join(scopes, " "))
	}
	q.Set("resource", d.resource)
	au.RawQuery = q.Encode()

	t.logf("authorizing", "issuer", d.issuer, "client_id", client.ClientID, "scope", strings.Join(scopes, " "), "resource", d.resource)
	resp, err := t.cfg.Authorize(ctx, au.String())
	if err != nil {
		return nil, fmt.Errorf("oauthclient: authorization: %w", err)
	}
	// RFC 9207: the recorded issuer is the validated metadata's issuer
	// (for the 2025-03-26 default endpoints, which have no metadata, the
	// authorization base URL).
	code, err := validateAuthorizationResponse(resp, d.issuer, d.as.AuthorizationResponseIssParameterSupported, state)
	if err != nil {
		return nil, err
	}
	form := url.Values{
		"grant_type":    {GrantAuthorizationCode},
		"code":          {code},
		"redirect_uri":  {t.cfg.RedirectURL},
		"code_verifier": {verifier.verifier},
		"resource":      {d.resource},
	}
	return t.tokenRequest(ctx, d, client, form)
}

// refresh uses old's refresh token. disc may be nil (a token from the
// store): the authorization server's metadata is then discovered from the
// token's issuer.
func (t *Transport) refresh(ctx context.Context, old *Token, disc *discovery) (*Token, error) {
	if disc == nil || disc.issuer != old.Issuer {
		as, err := t.discoverAS(ctx, old.Issuer)
		if err != nil {
			return nil, err
		}
		disc = &discovery{as: as, issuer: as.Issuer, resource: old.ResourceIndicator}
	}
	client, err := t.clientForRefresh(ctx, old)
	if err != nil {
		return nil, err
	}
	resource := old.ResourceIndicator
	if resource == "" {
		resource = old.Resource
	}
	form := url.Values{
		"grant_type":    {GrantRefreshToken},
		"refresh_token": {old.RefreshToken},
		"resource":      {resource},
	}
	tok, err := t.tokenRequest(ctx, &discovery{as: disc.as, issuer: disc.issuer, resource: resource}, client, form)
	if err != nil {
		return nil, err
	}
	tok.Resource = old.Resource
	if tok.RefreshToken == "" {
		tok.RefreshToken = old.RefreshToken // the server did not rotate it
	}
	if len(tok.Scopes) == 0 {
		tok.Scopes = slices.Clone(old.Scopes)
	}
	t.logf("refreshed token", "token", tok)
	return tok, nil
}

// clientForRefresh finds the client that obtained old.
func (t *Transport) clientForRefresh(ctx context.Context, old *Token) (*ClientInfo, error) {
	switch {
	case old.ClientID != "" && old.ClientID == t.cfg.ClientID:
		return &ClientInfo{Issuer: old.Issuer, ClientID: t.cfg.ClientID, ClientSecret: t.cfg.ClientSecret, TokenEndpointAuthMethod: t.cfg.ClientAuthMethod}, nil
	case old.ClientID != "" && old.ClientID == t.cfg.ClientMetadataURL:
		method := AuthMethodNone
		if t.cfg.PrivateKey != nil {
			method = AuthMethodPrivateKeyJWT
		}
		return &ClientInfo{Issuer: old.Issuer, ClientID: old.ClientID, TokenEndpointAuthMethod: method}, nil
	}
	c, err := t.store.Client(ctx, old.Issuer)
	if err != nil || c.ClientID != old.ClientID {
		return nil, errors.New("oauthclient: the client that obtained the token is unknown")
	}
	return c, nil
}

// tokenRequest POSTs form to the token endpoint with client
// authentication and turns the answer into a Token (the caller sets its
// Resource).
func (t *Transport) tokenRequest(ctx context.Context, d *discovery, client *ClientInfo, form url.Values) (*Token, error) {
	method := tokenAuthMethod(client, d.as.TokenEndpointAuthMethodsSupported, t.cfg.PrivateKey != nil)
	tr, err := t.postAuthenticated(ctx, d, client, method, form)
	// A pre-registered secret whose method nobody stated: the server may
	// have registered the other secret method. Try it once, as the server
	// rejected the client before looking at the grant.
	var oe *OAuthError
	if err != nil && client.TokenEndpointAuthMethod == "" && errors.As(err, &oe) && oe.Code == "invalid_client" {
		alt := map[string]string{AuthMethodClientSecretBasic: AuthMethodClientSecretPost, AuthMethodClientSecretPost: AuthMethodClientSecretBasic}[method]
		supported := d.as.TokenEndpointAuthMethodsSupported
		if alt != "" && (len(supported) == 0 || slices.Contains(supported, alt)) {
			t.logf("token endpoint refused the client; trying the other secret method", "method", alt)
			tr, err = t.postAuthenticated(ctx, d, client, alt, form)
		}
	}
	if err != nil {
		return nil, err
	}
	tt := tr.TokenType
	if tt == "" {
		tt = "Bearer"
	}
	switch {
	case strings.EqualFold(tt, "Bearer"):
		tt = "Bearer"
	case strings.EqualFold(tt, TokenTypeDPoP) && t.useDPoP(d):
		tt = TokenTypeDPoP
	default:
		return nil, fmt.Errorf("oauthclient: unsupported token_type %q", sanitize(tt))
	}
	tok := &Token{
		AccessToken:       tr.AccessToken,
		TokenType:         tt,
		RefreshToken:      tr.RefreshToken,
		Scopes:            strings.Fields(tr.Scope),
		Issuer:            d.issuer,
		ResourceIndicator: d.resource,
		ClientID:          client.ClientID,
	}
	if tr.ExpiresIn > 0 {
		tok.Expiry = t.cfg.Now().Add(time.Duration(tr.ExpiresIn) * time.Second)
	}
	return tok, nil
}

// postAuthenticated sends a token request authenticated with method.
// form is not modified.
func (t *Transport) postAuthenticated(ctx context.Context, d *discovery, client *ClientInfo, method string, base url.Values) (*tokenResponse, error) {
	form := url.Values{}
	for k, v := range base {
		form[k] = slices.Clone(v)
	}
	header := http.Header{}
	switch method {
	case AuthMethodClientSecretBasic:
		// RFC 6749 Section 2.3.1: form-encode, then Basic.
		cred := url.QueryEscape(client.ClientID) + ":" + url.QueryEscape(client.ClientSecret)
		header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(cred)))
	case AuthMethodClientSecretPost:
		form.Set("client_id", client.ClientID)
		form.Set("client_secret", client.ClientSecret)
	case AuthMethodPrivateKeyJWT:
		alg, err := chooseAlg(t.cfg.PrivateKey, t.cfg.SigningAlg, d.as.TokenEndpointAuthSigningAlgValuesSupported)
		if err != nil {
			return nil, err
		}
		aud := d.as.Issuer
		if aud == "" {
			aud = d.issuer
		}
		assertion, err := clientAssertion(t.cfg.PrivateKey, alg, t.cfg.KeyID, client.ClientID, aud, t.cfg.Now())
		if err != nil {
			return nil, fmt.Errorf("oauthclient: signing client assertion: %w", err)
		}
		form.Set("client_id", client.ClientID)
		form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		form.Set("client_assertion", assertion)
	default:
		if client.ClientID != "" {
			form.Set("client_id", client.ClientID)
		}
	}
	if !t.useDPoP(d) {
		return postToken(ctx, t.httpClient, d.as.TokenEndpoint, form, header)
	}
	// RFC 9449 section 5: a proof for the token endpoint; a
	// use_dpop_nonce answer is retried once with the server's nonce
	// (section 8).
	var tr *tokenResponse
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		proof, perr := t.dpop.Proof(http.MethodPost, d.as.TokenEndpoint, "", t.nonces.get(d.as.TokenEndpoint), t.cfg.Now())
		if perr != nil {
			return nil, perr
		}
		header.Set("DPoP", proof)
		var rh http.Header
		tr, rh, err = postTokenHeader(ctx, t.httpClient, d.as.TokenEndpoint, form, header)
		fresh := t.nonces.note(d.as.TokenEndpoint, rh)
		var oe *OAuthError
		if err == nil || !errors.As(err, &oe) || oe.Code != "use_dpop_nonce" || fresh == "" {
			break
		}
	}
	return tr, err
}

// postToken sends a token request and decodes a successful answer.
func postToken(ctx context.Context, client *http.Client, endpoint string, form url.Values, header http.Header) (*tokenResponse, error) {
	tr, _, err := postTokenHeader(ctx, client, endpoint, form, header)
	return tr, err
}

// postTokenHeader is postToken that also returns the response's header
// (nil when there was no response).
func postTokenHeader(ctx context.Context, client *http.Client, endpoint string, form url.Values, header http.Header) (*tokenResponse, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		// The transport error names the URL only; the form (with the
		// code, verifier or refresh token) is not part of it.
		return nil, nil, fmt.Errorf("oauthclient: token request: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxMetadataSize+1))
	if err != nil {
		return nil, resp.Header, fmt.Errorf("oauthclient: token response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, resp.Header, parseOAuthError("token", resp.StatusCode, body)
	}
	if len(body) > maxMetadataSize {
		return nil, resp.Header, errors.New("oauthclient: token response too large")
	}
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		return nil, resp.Header, errors.New("oauthclient: token response is not valid JSON")
	}
	if tr.AccessToken == "" {
		return nil, resp.Header, errors.New("oauthclient: token response has no access_token")
	}
	return &tr, resp.Header, nil
}
