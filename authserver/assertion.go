package authserver

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-json-experiment/json"

	"github.com/switchboard-mcp/switchboard/auth"
)

// GrantJWTBearer is the RFC 7523 JWT bearer grant type: enterprise-managed
// authorization (an ID-JAG from a trusted identity provider) and workload
// identity federation (a workload's JWT).
const GrantJWTBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// GrantProfileIDJAG is the authorization grant profile of ID-JAG
// (draft-ietf-oauth-identity-assertion-authz-grant), advertised in
// authorization_grant_profiles_supported.
const GrantProfileIDJAG = "urn:ietf:params:oauth:grant-profile:id-jag"

// IDJAGType is the typ header of an Identity Assertion JWT Authorization
// Grant.
const IDJAGType = "oauth-id-jag+jwt"

// Values of the mcp_grant claim (auth.GrantClaim) of tokens issued for
// assertions.
const (
	// GrantIDJAG marks tokens issued for an ID-JAG: a person, vouched
	// for by the enterprise identity provider.
	GrantIDJAG = auth.GrantIDJAG
	// GrantWorkload marks tokens issued to a workload for its own
	// identity token: no person behind them.
	GrantWorkload = auth.GrantWorkload
)

// AssertionIssuer is an issuer whose JWTs the token endpoint accepts as
// authorization grants: an enterprise identity provider issuing ID-JAGs
// (Options.IDJAGIssuers), or a workload identity issuer such as a
// Kubernetes cluster, SPIFFE or a cloud (Options.WorkloadIssuers).
type AssertionIssuer struct {
	// Issuer is the JWTs' "iss" (required).
	Issuer string
	// JWKSURL is where the issuer's keys are published: https, or http on
	// loopback only. Either it or Keys is required.
	JWKSURL string
	// Keys are verification keys given directly, by key id.
	Keys map[string]crypto.PublicKey
	// Claims are rules on claims: each named claim must be present and
	// equal one of the listed values (a value ending in "*" matches by
	// prefix; a list claim matches when any element does). For example
	// {"sub": ["system:serviceaccount:ci:*"]}.
	Claims map[string][]string
	// Scopes bounds the scopes tokens for this issuer's JWTs may carry;
	// nil means any the server supports.
	Scopes []string
	// Resources bounds the resources tokens may be issued for; nil means
	// any the server issues for.
	Resources []string
	// SubjectPrefix is prepended to the JWT's sub to form the token's
	// subject (for example "k8s:"), keeping identities of different
	// issuers apart. Empty means the sub as it is.
	SubjectPrefix string
	// CopyClaims lists claims copied from the JWT into the access token
	// (for example "email", "groups", "tenant").
	CopyClaims []string
	// Audiences are the audiences accepted (TokenExchangeIssuers: the
	// resources subject tokens were issued for, required there; for
	// assertions the default is this server's issuer or token endpoint).
	Audiences []string
	// HTTPClient fetches the JWKS (default: 10 s timeout).
	HTTPClient *http.Client
}

// assertionVerifier checks JWTs of one issuer for one audience.
type assertionVerifier struct {
	is  AssertionIssuer
	vs  []*auth.JWTVerifier // one per accepted audience
	idj bool
}

func newAssertionVerifier(is AssertionIssuer, audiences []string, idjag bool) (*assertionVerifier, error) {
	if is.Issuer == "" {
		return nil, errors.New("an assertion issuer needs its issuer")
	}
	if is.JWKSURL != "" {
		u, err := url.Parse(is.JWKSURL)
		if err != nil || !(u.Scheme == "https" || (u.Scheme == "http" && auth.IsLoopbackHost(u.Hostname()))) {
			return nil, fmt.Errorf("issuer %s: the JWKS URL must be https", is.Issuer)
		}
	}
	av := &assertionVerifier{is: is, idj: idjag}
	for _, aud := range audiences {
		v, err := auth.NewJWTVerifier(auth.JWTOptions{Issuer: is.Issuer, Audience: aud, JWKSURL: is.JWKSURL, Keys: is.Keys, HTTPClient: is.HTTPClient, Leeway: 30 * time.Second})
		if err != nil {
			return nil, fmt.Errorf("issuer %s: %w", is.Issuer, err)
		}
		av.vs = append(av.vs, v)
	}
	return av, nil
}

// verify returns the claims of a valid assertion for one of the accepted
// audiences.
func (av *assertionVerifier) verify(ctx context.Context, jwt string) (*auth.TokenInfo, error) {
	var last error
	for _, v := range av.vs {
		info, err := v.Verify(ctx, jwt)
		if err == nil {
			return info, nil
		}
		last = err
		if !errors.Is(err, auth.ErrInvalidToken) {
			return nil, err
		}
		var ite *auth.InvalidTokenError
		if !errors.As(err, &ite) || !strings.Contains(ite.Reason, "audience") {
			return nil, err
		}
	}
	return nil, last
}

// checkRules applies the issuer's claim rules.
func (is *AssertionIssuer) checkRules(claims map[string]any) error {
	for _, name := range sortedRuleKeys(is.Claims) {
		want := is.Claims[name]
		var have []string
		switch v := claims[name].(type) {
		case string:
			have = []string{v}
		case []any:
			for _, e := range v {
				if s, ok := e.(string); ok {
					have = append(have, s)
				}
			}
		}
		ok := false
		for _, h := range have {
			for _, w := range want {
				if w == h || (strings.HasSuffix(w, "*") && strings.HasPrefix(h, strings.TrimSuffix(w, "*"))) {
					ok = true
				}
			}
		}
		if !ok {
			return fmt.Errorf("claim %q does not satisfy the issuer's rules", name)
		}
	}
	return nil
}

func sortedRuleKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// ParseAssertionHeader returns the typ and the unverified iss of a JWT
// assertion, to choose how to verify it. It checks only the shape.
func ParseAssertionHeader(jwt string) (typ, iss string, err error) {
	if len(jwt) > 16<<10 || strings.Count(jwt, ".") != 2 {
		return "", "", errors.New("the assertion is not a compact JWS")
	}
	jws, err := jose.ParseSignedCompact(jwt, []jose.SignatureAlgorithm{
		jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512, jose.ES256, jose.ES384, jose.ES512, jose.EdDSA})
	if err != nil || len(jws.Signatures) != 1 {
		return "", "", errors.New("the assertion is malformed or not asymmetrically signed")
	}
	typ, _ = jws.Signatures[0].Protected.ExtraHeaders[jose.HeaderType].(string)
	var c struct {
		Iss string `json:"iss"`
	}
	if err := json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &c); err != nil {
		return "", "", errors.New("the assertion's claims are malformed")
	}
	return typ, c.Iss, nil
}

// assertionGrant is the jwt-bearer grant: an ID-JAG (client
// authenticated, typ oauth-id-jag+jwt, aud our issuer, client_id the
// client, resource the token's audience, scopes intersected) or a
// workload JWT (no client, aud our token endpoint or issuer, claim
// rules).
func (s *Server) assertionGrant(ctx context.Context, c *clientRecord, form map[string]string) (*TokenResponse, *tokenError) {
	assertion := form["assertion"]
	if assertion == "" {
		return nil, tokErr("invalid_request", "assertion is required")
	}
	typ, iss, err := ParseAssertionHeader(assertion)
	if err != nil {
		return nil, tokErr("invalid_grant", "%v", err)
	}
	idjag := strings.EqualFold(typ, IDJAGType) || strings.EqualFold(typ, "application/"+IDJAGType)
	var av *assertionVerifier
	if idjag {
		av = s.idjag[iss]
	} else {
		av = s.workload[iss]
	}
	if av == nil {
		what := "workload identity"
		if idjag {
			what = "ID-JAG"
		}
		return nil, tokErr("invalid_grant", "the %s issuer is not trusted", what)
	}
	if idjag && c == nil {
		return nil, &tokenError{http.StatusUnauthorized, "invalid_client", "an ID-JAG must be presented by an authenticated client", false}
	}
	info, err := av.verify(ctx, assertion)
	if err != nil {
		if errors.Is(err, auth.ErrInvalidToken) {
			return nil, tokErr("invalid_grant", "%v", err)
		}
		s.log.Warn("authserver: verifying an assertion failed", "issuer", iss, "error", err.Error())
		return nil, &tokenError{http.StatusServiceUnavailable, "temporarily_unavailable", "the assertion issuer's keys are unavailable", false}
	}
	if info.Subject == "" {
		return nil, tokErr("invalid_grant", "the assertion has no subject")
	}
	jti, _ := info.Claims["jti"].(string)
	if idjag && jti == "" {
		return nil, tokErr("invalid_grant", "the ID-JAG has no jti")
	}
	if jti != "" && !s.assertionReplay.Add(iss+"\x00"+jti, info.Expiry.Add(time.Minute)) {
		return nil, tokErr("invalid_grant", "the assertion was already used")
	}
	if err := av.is.checkRules(info.Claims); err != nil {
		return nil, tokErr("invalid_grant", "%v", err)
	}

	// The resource: the ID-JAG's resource claim; for a workload, the
	// resource parameter. A resource parameter must agree.
	res := form["resource"]
	if idjag {
		claimRes, _ := info.Claims["resource"].(string)
		if claimRes == "" {
			return nil, tokErr("invalid_grant", "the ID-JAG has no resource")
		}
		if res != "" {
			a, err1 := auth.CanonicalResource(res)
			b, err2 := auth.CanonicalResource(claimRes)
			if err1 != nil || err2 != nil || a != b {
				return nil, tokErr("invalid_target", "the resource parameter differs from the ID-JAG's resource")
			}
		}
		res = claimRes
		cid, _ := info.Claims["client_id"].(string)
		if cid != c.id {
			return nil, tokErr("invalid_grant", "the ID-JAG was issued to another client")
		}
	}
	if res == "" {
		return nil, tokErr("invalid_target", "the resource parameter is required (RFC 8707)")
	}
	cr, err := s.checkResource(res)
	if err != nil {
		return nil, tokErr("invalid_target", "%v", err)
	}
	if av.is.Resources != nil && !slices.ContainsFunc(av.is.Resources, func(r string) bool {
		x, err := auth.CanonicalResource(r)
		return err == nil && x == cr
	}) {
		return nil, tokErr("invalid_target", "this issuer's assertions are not accepted for %s", cr)
	}

	// Scopes: what the client asks for, within what the assertion
	// grants (ID-JAG), the issuer may have and the server supports.
	var scopes []string
	asked, hasAsked := form["scope"]
	if hasAsked {
		if scopes, err = auth.ParseScope(asked); err != nil {
			return nil, tokErr("invalid_scope", "%v", err)
		}
	}
	if idjag {
		granted, _ := auth.ParseScope(stringClaim(info.Claims, "scope"))
		if !hasAsked {
			scopes = granted
		} else {
			scopes = slices.DeleteFunc(scopes, func(x string) bool { return !slices.Contains(granted, x) })
		}
	}
	if av.is.Scopes != nil {
		if !hasAsked && !idjag {
			scopes = slices.Clone(av.is.Scopes)
		}
		for _, x := range scopes {
			if !slices.Contains(av.is.Scopes, x) {
				if idjag {
					scopes = slices.DeleteFunc(scopes, func(y string) bool { return !slices.Contains(av.is.Scopes, y) })
					break
				}
				return nil, tokErr("invalid_scope", "scope %q is not permitted for this issuer", x)
			}
		}
	}
	if err := s.checkScopesSupported(scopes); err != nil {
		if idjag {
			scopes = slices.DeleteFunc(scopes, func(x string) bool { return s.checkScopesSupported([]string{x}) != nil })
		} else {
			return nil, tokErr("invalid_scope", "%v", err)
		}
	}
	if c != nil && c.scopes != nil {
		scopes = slices.DeleteFunc(scopes, func(x string) bool { return !slices.Contains(c.scopes, x) })
	}

	claims := map[string]any{}
	for _, k := range av.is.CopyClaims {
		if v, ok := info.Claims[k]; ok && !reservedClaim(k) {
			claims[k] = v
		}
	}
	if email, ok := info.Claims["email"].(string); ok && idjag {
		claims["email"] = email // account linking (the extension's fallback)
	}
	claims["idp"] = iss
	g := &StoredGrant{ID: randomToken(12), Subject: av.is.SubjectPrefix + info.Subject, Scopes: scopes, Resource: cr, Claims: claims}
	clientID := ""
	if c != nil {
		clientID = c.id
	}
	if idjag {
		g.GrantType, g.ClientID = GrantIDJAG, clientID
	} else {
		g.GrantType = GrantWorkload
		g.ClientID = clientID
		if g.ClientID == "" {
			// RFC 9068: a token without a resource owner names the
			// client (here the workload) as its subject.
			g.ClientID = g.Subject
		}
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if c == nil {
		c = &clientRecord{id: g.ClientID, kind: kindMachine}
	}
	return s.issueLocked(ctx, c, g, scopes, false, now)
}

// reservedClaim reports whether a claim is one the server sets itself.
func reservedClaim(k string) bool {
	switch k {
	case "iss", "sub", "aud", "exp", "iat", "nbf", "jti", "client_id", "scope", "cnf", auth.GrantClaim, auth.BindingClaim:
		return true
	}
	return false
}

func stringClaim(c map[string]any, k string) string {
	s, _ := c[k].(string)
	return s
}

// audiencesOf returns the audiences an assertion may carry: the issuer
// (ID-JAG, and workloads that use it) and the token endpoint (workloads,
// RFC 7523 section 3).
func (s *Server) audiencesOf(workload bool) []string {
	if !workload {
		return []string{s.issuer}
	}
	return []string{s.endpoint(PathToken), s.issuer}
}

// initAssertions builds the verifiers of Options.IDJAGIssuers and
// Options.WorkloadIssuers.
func (s *Server) initAssertions() error {
	s.idjag = map[string]*assertionVerifier{}
	s.workload = map[string]*assertionVerifier{}
	s.assertionReplay = auth.NewReplayCache(0)
	for _, is := range s.opts.IDJAGIssuers {
		auds := is.Audiences
		if auds == nil {
			auds = s.audiencesOf(false)
		}
		av, err := newAssertionVerifier(is, auds, true)
		if err != nil {
			return fmt.Errorf("authserver: IDJAGIssuers: %w", err)
		}
		s.idjag[is.Issuer] = av
	}
	s.exchange = map[string]*assertionVerifier{}
	for _, is := range s.opts.TokenExchangeIssuers {
		if len(is.Audiences) == 0 {
			return fmt.Errorf("authserver: TokenExchangeIssuers: %s needs Audiences", is.Issuer)
		}
		av, err := newAssertionVerifier(is, is.Audiences, false)
		if err != nil {
			return fmt.Errorf("authserver: TokenExchangeIssuers: %w", err)
		}
		s.exchange[is.Issuer] = av
	}
	for _, is := range s.opts.WorkloadIssuers {
		av, err := newAssertionVerifier(is, s.audiencesOf(true), false)
		if err != nil {
			return fmt.Errorf("authserver: WorkloadIssuers: %w", err)
		}
		s.workload[is.Issuer] = av
	}
	return nil
}

// Token exchange (RFC 8693).
const (
	GrantTokenExchange   = "urn:ietf:params:oauth:grant-type:token-exchange"
	TokenTypeAccessToken = "urn:ietf:params:oauth:token-type:access_token"
	TokenTypeJWT         = "urn:ietf:params:oauth:token-type:jwt"
)

// exchangeGrant is the token exchange grant (RFC 8693): an authenticated
// client (a gateway) trades the access token its caller presented (from
// an issuer of Options.TokenExchangeIssuers, for one of its audiences)
// for a token of this server for the requested audience or resource,
// with the caller as subject, the client as actor (act), and the scopes
// intersected with the subject token's.
func (s *Server) exchangeGrant(ctx context.Context, c *clientRecord, form map[string]string) (*TokenResponse, *tokenError) {
	if !c.confidential || !c.allowsGrant(GrantTokenExchange) {
		return nil, tokErr("unauthorized_client", "the client may not exchange tokens")
	}
	st := form["subject_token"]
	switch tt := form["subject_token_type"]; {
	case st == "":
		return nil, tokErr("invalid_request", "subject_token is required")
	case tt != TokenTypeAccessToken && tt != TokenTypeJWT:
		return nil, tokErr("invalid_request", "subject_token_type must be an access token or a JWT")
	}
	if rt := form["requested_token_type"]; rt != "" && rt != TokenTypeAccessToken {
		return nil, tokErr("invalid_request", "only access tokens are issued")
	}
	if _, ok := form["actor_token"]; ok {
		return nil, tokErr("invalid_request", "actor tokens are not supported; the client is the actor")
	}
	_, iss, err := ParseAssertionHeader(st)
	if err != nil {
		return nil, tokErr("invalid_grant", "%v", err)
	}
	av := s.exchange[iss]
	if av == nil {
		return nil, tokErr("invalid_grant", "the subject token's issuer is not trusted")
	}
	info, err := av.verify(ctx, st)
	if err != nil {
		if errors.Is(err, auth.ErrInvalidToken) {
			return nil, tokErr("invalid_grant", "%v", err)
		}
		return nil, &tokenError{http.StatusServiceUnavailable, "temporarily_unavailable", "the subject token issuer's keys are unavailable", false}
	}
	if info.Subject == "" || info.IsDPoPBound() {
		return nil, tokErr("invalid_grant", "the subject token has no subject or is DPoP-bound")
	}
	if err := av.is.checkRules(info.Claims); err != nil {
		return nil, tokErr("invalid_grant", "%v", err)
	}
	target := form["resource"]
	if target == "" {
		target = form["audience"]
	}
	if target == "" {
		return nil, tokErr("invalid_target", "resource or audience is required")
	}
	cr, err := s.checkResource(target)
	if err != nil {
		return nil, tokErr("invalid_target", "%v", err)
	}
	scopes := info.Scopes
	if sc, ok := form["scope"]; ok {
		req, err := auth.ParseScope(sc)
		if err != nil {
			return nil, tokErr("invalid_scope", "%v", err)
		}
		scopes = slices.DeleteFunc(req, func(x string) bool { return !slices.Contains(info.Scopes, x) })
	}
	if av.is.Scopes != nil {
		scopes = slices.DeleteFunc(slices.Clone(scopes), func(x string) bool { return !slices.Contains(av.is.Scopes, x) })
	}
	if c.scopes != nil {
		scopes = slices.DeleteFunc(slices.Clone(scopes), func(x string) bool { return !slices.Contains(c.scopes, x) })
	}
	claims := map[string]any{"act": map[string]any{"sub": c.id}, "idp": iss}
	for _, k := range av.is.CopyClaims {
		if v, ok := info.Claims[k]; ok && !reservedClaim(k) && k != "act" {
			claims[k] = v
		}
	}
	g := &StoredGrant{ID: randomToken(12), ClientID: c.id, Subject: av.is.SubjectPrefix + info.Subject, GrantType: auth.GrantTokenExchange,
		Scopes: scopes, Resource: cr, Claims: claims}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	resp, te := s.issueLocked(ctx, c, g, scopes, false, now)
	if resp != nil {
		resp.IssuedTokenType = TokenTypeAccessToken
	}
	return resp, te
}
