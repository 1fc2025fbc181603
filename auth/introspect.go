package auth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-json-experiment/json"
)

// IntrospectionOptions configure an [IntrospectionVerifier].
type IntrospectionOptions struct {
	// Endpoint is the authorization server's introspection endpoint
	// (RFC 7662), its metadata's introspection_endpoint (required).
	Endpoint string
	// ClientID and ClientSecret are this resource server's credentials at
	// the authorization server (RFC 7662 requires the caller to
	// authenticate).
	ClientID     string
	ClientSecret string
	// AuthMethod is how the credentials are sent: "client_secret_basic"
	// (default) or "client_secret_post".
	AuthMethod string

	// Issuer, if set, must equal the response's "iss" when it has one.
	Issuer string
	// Audience is the protected resource's canonical URI (required): the
	// response's "aud" must contain it.
	Audience string

	// CacheTTL bounds how long an active answer is reused (default one
	// minute; negative disables caching). An answer is never reused past
	// the token's expiry. Revocation at the authorization server takes
	// effect here within CacheTTL.
	CacheTTL time.Duration
	// MaxCacheEntries bounds the cache (default 10000).
	MaxCacheEntries int
	// Leeway is the tolerated clock skew on exp and nbf (default
	// [DefaultLeeway]; negative means none).
	Leeway time.Duration
	// MaxResponseBytes bounds an introspection response (default 64 KiB).
	MaxResponseBytes int64
	// HTTPClient calls the endpoint (default: a client with a 10 second
	// timeout).
	HTTPClient *http.Client
	// Now returns the current time (default time.Now).
	Now func() time.Time
}

// IntrospectionVerifier verifies opaque (or any) access tokens by asking
// the authorization server (RFC 7662). Answers are cached under a SHA-256
// digest of the token, never the token itself. It is safe for concurrent
// use.
type IntrospectionVerifier struct {
	opts     IntrospectionOptions
	audience string
	client   *http.Client
	now      func() time.Time

	mu    sync.Mutex
	cache map[[32]byte]introspectEntry
}

type introspectEntry struct {
	info  *TokenInfo
	until time.Time
}

// NewIntrospectionVerifier returns a verifier for opts.
func NewIntrospectionVerifier(opts IntrospectionOptions) (*IntrospectionVerifier, error) {
	u, err := url.Parse(opts.Endpoint)
	if err != nil || (u.Scheme != "https" && !(u.Scheme == "http" && IsLoopbackHost(u.Hostname()))) {
		return nil, errors.New("auth: IntrospectionOptions.Endpoint must be an https URL (http only on loopback)")
	}
	aud, err := CanonicalResource(opts.Audience)
	if err != nil {
		return nil, fmt.Errorf("auth: IntrospectionOptions.Audience: %w", err)
	}
	switch opts.AuthMethod {
	case "":
		opts.AuthMethod = "client_secret_basic"
	case "client_secret_basic", "client_secret_post":
	default:
		return nil, fmt.Errorf("auth: unsupported introspection AuthMethod %q", opts.AuthMethod)
	}
	if opts.ClientID == "" {
		return nil, errors.New("auth: IntrospectionOptions.ClientID is required")
	}
	if opts.CacheTTL == 0 {
		opts.CacheTTL = time.Minute
	}
	if opts.MaxCacheEntries <= 0 {
		opts.MaxCacheEntries = 10000
	}
	if opts.Leeway == 0 {
		opts.Leeway = DefaultLeeway
	} else if opts.Leeway < 0 {
		opts.Leeway = 0
	}
	if opts.MaxResponseBytes <= 0 {
		opts.MaxResponseBytes = 64 << 10
	}
	v := &IntrospectionVerifier{opts: opts, audience: aud, client: opts.HTTPClient, now: opts.Now, cache: make(map[[32]byte]introspectEntry)}
	if v.client == nil {
		v.client = &http.Client{Timeout: 10 * time.Second}
	}
	if v.now == nil {
		v.now = time.Now
	}
	return v, nil
}

// Verify implements [Verifier].
func (v *IntrospectionVerifier) Verify(ctx context.Context, token string) (*TokenInfo, error) {
	key := sha256.Sum256([]byte(token))
	now := v.now()
	if v.opts.CacheTTL > 0 {
		v.mu.Lock()
		e, ok := v.cache[key]
		v.mu.Unlock()
		if ok && now.Before(e.until) {
			return e.info, nil
		}
	}
	claims, err := v.introspect(ctx, token)
	if err != nil {
		return nil, err
	}
	info, err := v.check(claims, now)
	if err != nil {
		return nil, err
	}
	if v.opts.CacheTTL > 0 {
		until := now.Add(v.opts.CacheTTL)
		if !info.Expiry.IsZero() && info.Expiry.Before(until) {
			until = info.Expiry
		}
		v.mu.Lock()
		if len(v.cache) >= v.opts.MaxCacheEntries {
			for k, e := range v.cache {
				if !now.Before(e.until) || len(v.cache) >= v.opts.MaxCacheEntries {
					delete(v.cache, k)
				}
			}
		}
		v.cache[key] = introspectEntry{info: info, until: until}
		v.mu.Unlock()
	}
	return info, nil
}

func (v *IntrospectionVerifier) introspect(ctx context.Context, token string) (map[string]any, error) {
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	if v.opts.AuthMethod == "client_secret_post" {
		form.Set("client_id", v.opts.ClientID)
		form.Set("client_secret", v.opts.ClientSecret)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.opts.Endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if v.opts.AuthMethod == "client_secret_basic" {
		req.SetBasicAuth(url.QueryEscape(v.opts.ClientID), url.QueryEscape(v.opts.ClientSecret))
	}
	resp, err := v.client.Do(req)
	if err != nil {
		// The error may quote the URL, never the token (it is in the body).
		return nil, fmt.Errorf("auth: introspection request failed: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("auth: introspection endpoint answered %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, v.opts.MaxResponseBytes+1))
	if err != nil {
		return nil, fmt.Errorf("auth: reading introspection response: %w", err)
	}
	if int64(len(body)) > v.opts.MaxResponseBytes {
		return nil, errors.New("auth: introspection response too large")
	}
	active, claims, err := ParseIntrospectionResponse(body)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	if !active {
		return nil, invalid("token is not active")
	}
	return claims, nil
}

func (v *IntrospectionVerifier) check(claims map[string]any, now time.Time) (*TokenInfo, error) {
	info, err := claimsToInfo(claims)
	if err != nil {
		return nil, err
	}
	if tt, _ := claims["token_type"].(string); strings.Contains(strings.ToLower(tt), "refresh") {
		return nil, invalid("a refresh token is not an access token")
	}
	if v.opts.Issuer != "" && info.Issuer != "" && info.Issuer != v.opts.Issuer {
		return nil, invalid("wrong issuer")
	}
	if err := checkAudience(info.Audience, v.audience); err != nil {
		return nil, err
	}
	if err := checkTimes(claims, now, v.opts.Leeway); err != nil {
		return nil, err
	}
	return info, nil
}

// ParseIntrospectionResponse parses an RFC 7662 introspection response: a
// JSON object whose "active" member is a boolean. It returns the members as
// decoded JSON. Duplicate member names are an error.
func ParseIntrospectionResponse(data []byte) (active bool, claims map[string]any, err error) {
	if err := json.Unmarshal(data, &claims); err != nil || claims == nil {
		return false, nil, errors.New("introspection response is not a JSON object")
	}
	a, ok := claims["active"].(bool)
	if !ok {
		return false, nil, errors.New(`introspection response has no boolean "active" member`)
	}
	return a, claims, nil
}
