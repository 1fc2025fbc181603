package oauthclient

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Config configures a Transport. Only Authorize and RedirectURL are
// needed for the usual authorization code flow with Client ID Metadata
// Documents or Dynamic Client Registration; everything else has defaults.
type Config struct {
	// ServerURL is the MCP server's URL. Tokens are only ever attached to
	// requests for this URL's origin. Empty means the URL of the first
	// request the Transport sees.
	ServerURL string

	// ClientID and ClientSecret are pre-registered credentials, used
	// first when set (the MCP registration order). ClientSecret is empty
	// for a public client.
	ClientID, ClientSecret string
	// ClientIssuer binds pre-registered credentials to one authorization
	// server: the client refuses to use them with any other. Empty binds
	// them to the first authorization server they are used with.
	ClientIssuer string
	// ClientAuthMethod forces the token endpoint authentication method of
	// pre-registered credentials (none, client_secret_basic,
	// client_secret_post, private_key_jwt). Empty chooses from the
	// server's token_endpoint_auth_methods_supported.
	ClientAuthMethod string
	// PrivateKey enables private_key_jwt client authentication (RFC
	// 7523), with KeyID as the JWS kid and SigningAlg as the algorithm
	// (empty: chosen from the key and the server's metadata).
	PrivateKey crypto.Signer
	KeyID      string
	SigningAlg string

	// ClientMetadataURL is the client's Client ID Metadata Document URL,
	// used as client_id with authorization servers that advertise
	// client_id_metadata_document_supported (second in the registration
	// order). It must be an https URL with a path.
	ClientMetadataURL string
	// ClientMetadata is sent in Dynamic Client Registration requests
	// (third in the registration order) and served as the Client ID
	// Metadata Document (see MetadataDocument). Unset fields get
	// defaults: client_name "Switchboard", redirect_uris [RedirectURL],
	// grant_types [authorization_code refresh_token], response_types
	// [code], and application_type "native" for loopback redirect URIs,
	// else "web".
	ClientMetadata ClientMetadata

	// RedirectURL is the redirect URI of the authorization code flow.
	RedirectURL string
	// Authorize takes the person through the authorization endpoint
	// (HeadlessAuthorize, or a LoopbackAuthorizer's Authorize).
	Authorize AuthorizeFunc

	// Scopes, when set, replace the scope selection of the first
	// authorization (the challenge's scope, else the protected resource
	// metadata's scopes_supported, else none). Step-up authorizations add
	// the challenged scopes to them.
	Scopes []string
	// DisableOfflineAccess stops the client from adding offline_access to
	// the requested scopes when the authorization server lists it.
	DisableOfflineAccess bool

	// Grant selects how tokens are obtained: GrantAuthorizationCode
	// (default, with PKCE), GrantClientCredentials (a client acting on its
	// own behalf, needs ClientID), or GrantJWTBearer (RFC 7523 with an
	// assertion from Assertion, e.g. an ID-JAG from IDJAGExchange).
	Grant string
	// Assertion produces the authorization grant for GrantJWTBearer.
	// Without a ClientID the grant is sent without client authentication
	// (workload identity federation: the assertion identifies the
	// workload).
	Assertion AssertionFunc

	// DPoP selects sender-constrained tokens (RFC 9449): DPoPOff (the
	// default), DPoPAuto (when the authorization server advertises
	// dpop_signing_alg_values_supported) or DPoPAlways. DPoP-bound tokens
	// are sent with the DPoP scheme and a fresh proof on every request,
	// and server-provided nonces are honoured.
	DPoP string
	// DPoPKey is the proof-of-possession key; nil means one generated
	// for the Transport (when DPoP is on).
	DPoPKey *DPoPKey

	// TokenStore keeps tokens and client registrations (default: a new
	// MemoryStore).
	TokenStore TokenStore
	// HTTPClient makes discovery, registration and token requests; it
	// must not be an *http.Client that uses this Transport. Default: a
	// client with a 30 s timeout.
	HTTPClient *http.Client
	// MaxStepUps bounds the step-up authorizations (after 403
	// insufficient_scope) for one request. Default 2, so a request causes
	// at most three authorizations; negative disables step-up.
	MaxStepUps int
	// MaxBufferedBody bounds how much of a request body without GetBody
	// is buffered so that it can be sent again after authorization
	// (default 8 MiB). Larger bodies are streamed and not retried.
	MaxBufferedBody int64
	// InsecureAllowHTTP allows plain-HTTP authorization servers on
	// non-loopback hosts. Only for testing.
	InsecureAllowHTTP bool
	// Logger receives debug messages about discovery and token requests
	// (never token values). Default: none.
	Logger *slog.Logger
	// Now returns the current time (default time.Now); for tests.
	Now func() time.Time
}

// An AssertionFunc returns an assertion (a JWT authorization grant, RFC
// 7523) for the authorization server and resource in req.
type AssertionFunc func(ctx context.Context, req AssertionRequest) (string, error)

// AssertionRequest tells an AssertionFunc what the assertion is for.
type AssertionRequest struct {
	// Issuer is the authorization server's issuer identifier (the
	// audience of the assertion).
	Issuer string
	// Resource is the RFC 8707 resource identifier of the MCP server.
	Resource string
	// Scopes are the scopes the client is about to request.
	Scopes []string
}

// Transport is an http.RoundTripper that authorizes requests to one MCP
// server with OAuth 2.1 as the MCP specification defines it. It adds the
// bearer token to every request for the server's origin (and to no
// other), and when the server answers 401 it discovers the authorization
// server, registers if needed, obtains a token and sends the request
// again; when the server answers 403 insufficient_scope it re-authorizes
// with the union of the scopes requested so far and the challenged ones
// (at most MaxStepUps times per request). Expired tokens are refreshed
// before use, and a 401 with a refreshable token tries a refresh first.
//
// A Transport is safe for concurrent use; one authorization runs at a
// time, and requests that meet a 401 meanwhile use its result.
type Transport struct {
	base       http.RoundTripper
	cfg        Config
	httpClient *http.Client
	store      TokenStore
	logger     *slog.Logger

	flight chan struct{} // one authorization at a time
	dpop   *DPoPKey      // nil when DPoP is off
	nonces nonceCache

	mu        sync.Mutex
	server    *url.URL
	tok       *Token
	gen       uint64 // incremented when tok changes
	loaded    bool   // the store was consulted
	disc      *discovery
	requested []string // scopes of the last authorization request
	preIssuer string   // the issuer pre-registered credentials were first used with
}

// NewTransport returns a Transport that sends requests with base (nil:
// http.DefaultTransport) and authorizes them as cfg says. cfg is copied.
func NewTransport(base http.RoundTripper, cfg *Config) *Transport {
	if base == nil {
		base = http.DefaultTransport
	}
	t := &Transport{base: base, flight: make(chan struct{}, 1)}
	if cfg != nil {
		t.cfg = *cfg
		t.cfg.Scopes = slices.Clone(cfg.Scopes)
	}
	t.httpClient = t.cfg.HTTPClient
	if t.httpClient == nil {
		t.httpClient = &http.Client{Timeout: 30 * time.Second}
	}
	t.store = t.cfg.TokenStore
	if t.store == nil {
		t.store = NewMemoryStore()
	}
	t.logger = t.cfg.Logger
	if t.cfg.MaxStepUps == 0 {
		t.cfg.MaxStepUps = 2
	}
	if t.cfg.MaxBufferedBody <= 0 {
		t.cfg.MaxBufferedBody = 8 << 20
	}
	if t.cfg.Now == nil {
		t.cfg.Now = time.Now
	}
	if t.cfg.DPoP != DPoPOff {
		t.dpop = t.cfg.DPoPKey
		if t.dpop == nil {
			t.dpop, _ = NewDPoPKey() // never fails (crypto/rand)
		}
	}
	if t.cfg.ServerURL != "" {
		if u, err := url.Parse(t.cfg.ServerURL); err == nil && u.IsAbs() {
			u.Fragment, u.RawFragment = "", ""
			t.server = u
		}
	}
	return t
}

func (t *Transport) grant() string {
	if t.cfg.Grant == "" {
		return GrantAuthorizationCode
	}
	return t.cfg.Grant
}

func (t *Transport) logf(msg string, args ...any) {
	if t.logger != nil {
		t.logger.Debug("oauthclient: "+msg, args...)
	}
}

// serverURL returns the MCP server URL, fixing it from the first request
// when Config.ServerURL was empty.
func (t *Transport) serverURL(req *url.URL) *url.URL {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.server == nil {
		u := *req
		u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = "", false, "", ""
		u.User = nil
		t.server = &u
	}
	return t.server
}

// sameOrigin compares scheme, host and port.
func sameOrigin(a, b *url.URL) bool { return originOf(a) == originOf(b) }

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL == nil {
		return nil, errors.New("oauthclient: request has no URL")
	}
	server := t.serverURL(req.URL)
	if !sameOrigin(req.URL, server) {
		// Never send the token anywhere but the MCP server's origin.
		return t.base.RoundTrip(req)
	}
	req, replayable, err := t.replayable(req)
	if err != nil {
		return nil, err
	}
	ctx := req.Context()
	tok, gen := t.currentToken(ctx, server)

	var (
		stepUps      int
		nonceRetried bool
		refreshed    bool
		authorized   bool
		first        = true
	)
	for {
		out := req.Clone(ctx)
		if !first && req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, fmt.Errorf("oauthclient: rewinding request body: %w", err)
			}
			out.Body = body
		}
		first = false
		if tok != nil {
			if err := t.attach(out, tok); err != nil {
				return nil, err
			}
		}
		resp, err := t.base.RoundTrip(out)
		if err != nil || !replayable {
			return resp, err
		}
		switch resp.StatusCode {
		case http.StatusUnauthorized:
			ch, _ := AuthChallenge(resp.Header)
			if tok != nil && tok.TokenType == TokenTypeDPoP && ch.Error() == "use_dpop_nonce" && !nonceRetried {
				// RFC 9449 section 9: send the request again with the
				// resource server's nonce.
				if t.nonces.note(out.URL.String(), resp.Header) != "" {
					nonceRetried = true
					discard(resp)
					continue
				}
			}
			if authorized {
				return resp, nil
			}
			discard(resp)
			if tok != nil && tok.RefreshToken != "" && !refreshed {
				refreshed = true
				if nt, ng, err := t.refreshAfter(ctx, gen); err == nil {
					tok, gen = nt, ng
					continue
				} else {
					t.logf("refresh failed; authorizing again", "err", err)
				}
			}
			nt, ng, err := t.authorize(ctx, gen, &ch, false)
			if err != nil {
				return nil, err
			}
			authorized = true
			tok, gen = nt, ng
		case http.StatusForbidden:
			ch, ok := AuthChallenge(resp.Header)
			if !ok || ch.Error() != "insufficient_scope" || tok == nil || stepUps >= t.cfg.MaxStepUps {
				return resp, nil
			}
			discard(resp)
			stepUps++
			nt, ng, err := t.authorize(ctx, gen, &ch, true)
			if err != nil {
				return nil, err
			}
			tok, gen = nt, ng
		default:
			if tok != nil && tok.TokenType == TokenTypeDPoP {
				t.nonces.note(out.URL.String(), resp.Header)
			}
			return resp, nil
		}
	}
}

// attach puts tok on out: "Authorization: Bearer", or for a DPoP-bound
// token "Authorization: DPoP" with a fresh proof for this request.
func (t *Transport) attach(out *http.Request, tok *Token) error {
	if tok.TokenType != TokenTypeDPoP {
		out.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		return nil
	}
	if t.dpop == nil {
		return errors.New("oauthclient: a DPoP-bound token but no DPoP key")
	}
	proof, err := t.dpop.Proof(out.Method, out.URL.String(), tok.AccessToken, t.nonces.get(out.URL.String()), t.cfg.Now())
	if err != nil {
		return err
	}
	out.Header.Set("Authorization", TokenTypeDPoP+" "+tok.AccessToken)
	out.Header.Set("DPoP", proof)
	return nil
}

// discard drains a little of resp's body (so the connection can be
// reused) and closes it.
func discard(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

// replayable makes sure req's body can be sent again: it uses GetBody
// when the request has one, and otherwise buffers up to MaxBufferedBody
// bytes. It reports false when the body was too large to buffer (the
// returned request then streams it once).
func (t *Transport) replayable(req *http.Request) (*http.Request, bool, error) {
	if req.Body == nil || req.Body == http.NoBody || req.GetBody != nil {
		return req, true, nil
	}
	limit := t.cfg.MaxBufferedBody
	buf, err := io.ReadAll(io.LimitReader(req.Body, limit+1))
	if err != nil {
		req.Body.Close()
		return nil, false, fmt.Errorf("oauthclient: reading request body: %w", err)
	}
	r := req.Clone(req.Context())
	if int64(len(buf)) > limit {
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(buf), req.Body), req.Body}
		return r, false, nil
	}
	req.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(buf))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf)), nil }
	r.ContentLength = int64(len(buf))
	return r, true, nil
}

// currentToken returns the token to send now: the one in memory, else a
// stored one for the server; an expired token is refreshed first when
// possible. It may return nil.
func (t *Transport) currentToken(ctx context.Context, server *url.URL) (*Token, uint64) {
	t.mu.Lock()
	if !t.loaded {
		t.loaded = true
		if res, err := CanonicalResource(server.String()); err == nil {
			if tok, err := t.store.Token(ctx, "", res); err == nil {
				t.tok = tok
				t.gen++
			} else if !errors.Is(err, ErrNotFound) {
				t.logf("token store", "err", err)
			}
		}
	}
	tok, gen := t.tok, t.gen
	t.mu.Unlock()
	if tok != nil && tok.Expired(t.cfg.Now()) && tok.RefreshToken != "" {
		if nt, ng, err := t.refreshAfter(ctx, gen); err == nil {
			return nt, ng
		} else {
			t.logf("refreshing an expired token failed", "err", err)
		}
	}
	return tok, gen
}

// acquire takes the authorization slot.
func (t *Transport) acquire(ctx context.Context) error {
	select {
	case t.flight <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (t *Transport) release() { <-t.flight }

// newer returns the current token when it replaced the one of
// generation gen.
func (t *Transport) newer(gen uint64) (*Token, uint64, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.gen != gen && t.tok != nil {
		return t.tok, t.gen, true
	}
	return nil, 0, false
}

// setToken installs a new token and stores it.
func (t *Transport) setToken(ctx context.Context, tok *Token) uint64 {
	t.mu.Lock()
	t.tok = tok
	t.gen++
	gen := t.gen
	t.mu.Unlock()
	if err := t.store.SaveToken(ctx, tok); err != nil {
		t.logf("saving token failed", "err", err)
	}
	return gen
}

// refreshAfter refreshes the token of generation gen (unless another
// request already replaced it).
func (t *Transport) refreshAfter(ctx context.Context, gen uint64) (*Token, uint64, error) {
	if err := t.acquire(ctx); err != nil {
		return nil, 0, err
	}
	defer t.release()
	if tok, g, ok := t.newer(gen); ok {
		return tok, g, nil
	}
	t.mu.Lock()
	old := t.tok
	disc := t.disc
	t.mu.Unlock()
	if old == nil || old.RefreshToken == "" {
		return nil, 0, errors.New("oauthclient: no refresh token")
	}
	tok, err := t.refresh(ctx, old, disc)
	if err != nil {
		var oe *OAuthError
		if errors.As(err, &oe) && oe.Code == "invalid_grant" {
			// The refresh token is dead: forget it.
			t.mu.Lock()
			if t.tok == old {
				c := *old
				c.RefreshToken = ""
				t.tok = &c
			}
			t.mu.Unlock()
			if err := t.store.DeleteToken(ctx, old.Issuer, old.Resource); err != nil {
				t.logf("deleting token failed", "err", err)
			}
		}
		return nil, 0, err
	}
	return tok, t.setToken(ctx, tok), nil
}

// authorize obtains a new token after a challenge; stepUp adds the
// challenged scopes to those requested before. It returns the newer
// token if another request already replaced the token of generation gen.
func (t *Transport) authorize(ctx context.Context, gen uint64, ch *Challenge, stepUp bool) (*Token, uint64, error) {
	if err := t.acquire(ctx); err != nil {
		return nil, 0, err
	}
	defer t.release()
	if tok, g, ok := t.newer(gen); ok {
		return tok, g, nil
	}
	tok, err := t.obtain(ctx, ch, stepUp)
	if err != nil {
		return nil, 0, err
	}
	return tok, t.setToken(ctx, tok), nil
}

// Login obtains a token for the MCP server now, without waiting for a
// request to fail: it probes the server with an unauthenticated MCP
// initialize request to collect its challenge, then authorizes (for a
// server that answers the probe without a 401, discovery uses the
// well-known URLs). The token is saved in the TokenStore.
func (t *Transport) Login(ctx context.Context) (*Token, error) {
	t.mu.Lock()
	server := t.server
	t.mu.Unlock()
	if server == nil {
		return nil, errors.New("oauthclient: Login needs Config.ServerURL")
	}
	ch := t.probe(ctx, server)
	if err := t.acquire(ctx); err != nil {
		return nil, err
	}
	defer t.release()
	tok, err := t.obtain(ctx, ch, false)
	if err != nil {
		return nil, err
	}
	t.setToken(ctx, tok)
	return tok, nil
}

// probeBody is an MCP initialize request: servers that require
// authorization answer it with 401 and their challenge.
const probeBody = `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"switchboard-login","version":"1"}}}`

// probe sends an unauthenticated initialize and returns the Bearer
// challenge of a 401 answer (nil otherwise). A session the server opens
// anyway is deleted.
func (t *Transport) probe(ctx context.Context, server *url.URL) *Challenge {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, server.String(), strings.NewReader(probeBody))
	if err != nil {
		return nil
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		t.logf("probe failed", "err", err)
		return nil
	}
	discard(resp)
	if sid := resp.Header.Get("Mcp-Session-Id"); sid != "" && resp.StatusCode < 300 {
		if del, err := http.NewRequestWithContext(ctx, http.MethodDelete, server.String(), nil); err == nil {
			del.Header.Set("Mcp-Session-Id", sid)
			if r, err := t.base.RoundTrip(del); err == nil {
				discard(r)
			}
		}
	}
	if resp.StatusCode != http.StatusUnauthorized {
		return nil
	}
	if ch, ok := AuthChallenge(resp.Header); ok {
		return &ch
	}
	return &Challenge{Scheme: "Bearer", Params: map[string]string{}}
}

// Token returns the current token (nil if none), without revealing more
// than the caller asks for.
func (t *Transport) Token() *Token {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tok == nil {
		return nil
	}
	c := *t.tok
	return &c
}
