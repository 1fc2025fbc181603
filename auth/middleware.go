package auth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
)

// DefaultMaxBodyBytes bounds the JSON-RPC body the middleware reads to find
// the method and tool name of a request (the Streamable HTTP transport's
// own default bound).
const DefaultMaxBodyBytes = 4 << 20

// maxHintBytes bounds the body read from an unauthenticated request to
// name the scopes its 401 challenge asks for.
const maxHintBytes = 64 << 10

// maxTokenBytes bounds the length of an accepted bearer token.
const maxTokenBytes = 16 << 10

// sessionHeader is the Streamable HTTP session header.
const sessionHeader = "Mcp-Session-Id"

// Options configure a [Middleware].
type Options struct {
	// Resource is the canonical URI of the protected MCP endpoint, such as
	// "https://mcp.example.com/mcp" (required). It is the "resource" of the
	// metadata document and the audience every token must carry.
	Resource string

	// AuthorizationServers lists the issuer identifiers of the
	// authorization servers clients should use (required unless Metadata
	// lists them).
	AuthorizationServers []string

	// Metadata, if set, is served as the Protected Resource Metadata
	// document instead of one built from Resource, AuthorizationServers
	// and ScopesSupported. Its Resource must equal Resource.
	Metadata *ProtectedResourceMetadata

	// ScopesSupported is advertised in the metadata document; clients
	// request these scopes when a challenge names none. Nil means Scopes.
	ScopesSupported []string

	// Scopes are required of every request.
	Scopes []string
	// MethodScopes are required, in addition to Scopes, of requests whose
	// JSON-RPC method is the key (such as "tools/call" or
	// "resources/read").
	MethodScopes map[string][]string
	// ToolScopes are required, in addition, of tools/call requests whose
	// params.name is the key.
	ToolScopes map[string][]string

	// ResourceMetadataURL is the URL announced in challenges. Empty means
	// the path-suffixed well-known URL derived from Resource (see
	// [MetadataURL]).
	ResourceMetadataURL string

	// MaxBodyBytes bounds the body read to find the JSON-RPC method and tool
	// name (default [DefaultMaxBodyBytes]). Larger bodies get 413.
	MaxBodyBytes int64

	// DisableSessionBinding turns off the check that an MCP session is
	// used only by the principal (issuer, subject and client) that created
	// it. See [Middleware].
	DisableSessionBinding bool
	// MaxSessions bounds the session-to-principal table (default 100000);
	// beyond it the least needed entries are forgotten.
	MaxSessions int
	// SessionTTL is how long an unused entry of that table is kept
	// (default 24 hours).
	SessionTTL time.Duration

	// RefuseMachineTokens refuses, with 403, tokens a client obtained on
	// its own behalf ([TokenInfo.IsMachine]): only tokens a person
	// approved are accepted.
	RefuseMachineTokens bool
	// Policy, if set, decides about every request whose token is valid and
	// has the scopes the request needs: a non-nil error refuses the
	// request with 403 (without a step-up challenge), and the error's text
	// is sent to the client as the reason, so it must not contain secrets.
	// It runs after RefuseMachineTokens and before the session check.
	Policy func(r *http.Request, info *TokenInfo) error

	// KeepAuthorizationHeader passes the Authorization header on to the
	// next handler. By default it is removed once the token is verified,
	// so that no handler can forward the token (token passthrough is
	// forbidden) or log it by accident.
	KeepAuthorizationHeader bool

	// KeepSubjectToken makes the verified token available to the
	// request's handlers through [SubjectTokenFrom], for one use only:
	// as the subject_token of an RFC 8693 token exchange (or, where an
	// administrator explicitly allowed it, passthrough of a bearer token
	// to a named upstream). It is still removed from the headers.
	KeepSubjectToken bool

	// DPoP, if set, accepts DPoP-bound tokens (RFC 9449): "Authorization:
	// DPoP <token>" with a proof in the DPoP header, checked for this
	// request's method and URL, its time, the token's hash, the token's
	// cnf.jkt, replays and (optionally) nonces. A DPoP-bound token is
	// never accepted as a bearer token. Without DPoP such tokens are
	// refused.
	DPoP *DPoPOptions

	// Logger receives rejections at debug level and verifier failures at
	// warning level. Tokens are never logged.
	Logger *slog.Logger
}

// Middleware protects an MCP endpoint as an OAuth 2.1 resource server.
//
// Every request must carry "Authorization: Bearer <token>" accepted by the
// Verifier. Without a token the answer is 401 with
//
//	WWW-Authenticate: Bearer resource_metadata="…", scope="…"
//
// naming the metadata document (RFC 9728 section 5.1) and the scopes the
// request needs; with an unacceptable token the challenge adds
// error="invalid_token". A valid token lacking a required scope gets 403
// with error="insufficient_scope" and a scope parameter listing the
// token's scopes together with the missing ones (MCP's step-up
// authorization). Tokens in the query string, and requests with several
// Authorization headers, get 400 invalid_request.
//
// Required scopes come from Options.Scopes, Options.MethodScopes (by
// JSON-RPC method) and Options.ToolScopes (by the name of the tool a
// tools/call request calls). To know the method the middleware reads the
// POST body, up to Options.MaxBodyBytes, decodes it with the same decoder
// the transports use, and hands the next handler an identical body. A
// batch needs the scopes of all its requests.
//
// The verified token's description reaches handlers through the request
// context ([TokenInfoFrom]); the token itself is never forwarded, logged
// or stored by the middleware, the Authorization header is removed from
// the request the next handler sees (unless
// Options.KeepAuthorizationHeader), and handlers must not pass the token
// on to other services (token passthrough is forbidden by the MCP specification: call
// upstream services with tokens of their own).
//
// Session binding: the Mcp-Session-Id returned by an initialize request is
// recorded with the principal that made it (issuer, subject, client id),
// and later requests naming that session with another principal's token
// get 404, as if the session did not exist. A token whose grant is bound
// to a session ([BindingClaim] "session:<id>") is accepted only on
// requests carrying that session id.
type Middleware struct {
	v            Verifier
	resource     string
	metaURL      string
	metaDoc      *ProtectedResourceMetadata
	metaHandler  http.Handler
	scopes       []string
	methodScopes map[string][]string
	toolScopes   map[string][]string
	allToolScope []string
	maxBody      int64
	sessions     *sessionTable
	keepAuthz    bool
	noMachines   bool
	policy       func(*http.Request, *TokenInfo) error
	dpop         *dpopState
	keepSubject  bool
	log          *slog.Logger
}

// New returns a Middleware that accepts the tokens v verifies. It checks
// opts: Resource must be an absolute http(s) URI and the metadata must
// name at least one authorization server.
func New(v Verifier, opts *Options) (*Middleware, error) {
	if v == nil {
		return nil, errors.New("auth: nil Verifier")
	}
	if opts == nil {
		return nil, errors.New("auth: Options.Resource is required")
	}
	res, err := CanonicalResource(opts.Resource)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	m := &Middleware{
		v:            v,
		resource:     res,
		methodScopes: cloneScopeMap(opts.MethodScopes),
		toolScopes:   cloneScopeMap(opts.ToolScopes),
		scopes:       slices.Clone(opts.Scopes),
		maxBody:      opts.MaxBodyBytes,
		keepAuthz:    opts.KeepAuthorizationHeader,
		noMachines:   opts.RefuseMachineTokens,
		policy:       opts.Policy,
		dpop:         newDPoPState(opts.DPoP),
		keepSubject:  opts.KeepSubjectToken,
		log:          opts.Logger,
	}
	for _, set := range [][]string{m.scopes} {
		for _, s := range set {
			if !ValidScopeToken(s) {
				return nil, fmt.Errorf("auth: invalid scope %q", s)
			}
		}
	}
	for _, mp := range []map[string][]string{m.methodScopes, m.toolScopes} {
		for _, set := range mp {
			for _, s := range set {
				if !ValidScopeToken(s) {
					return nil, fmt.Errorf("auth: invalid scope %q", s)
				}
			}
		}
	}
	for _, name := range sortedKeys(m.toolScopes) {
		m.allToolScope = union(m.allToolScope, m.toolScopes[name])
	}
	if m.maxBody <= 0 {
		m.maxBody = DefaultMaxBodyBytes
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if opts.Metadata != nil {
		doc := *opts.Metadata
		m.metaDoc = &doc
	} else {
		supported := opts.ScopesSupported
		if supported == nil {
			supported = opts.Scopes
		}
		m.metaDoc = &ProtectedResourceMetadata{
			Resource:               res,
			AuthorizationServers:   slices.Clone(opts.AuthorizationServers),
			ScopesSupported:        slices.Clone(supported),
			BearerMethodsSupported: []string{"header"},
		}
		if opts.DPoP != nil {
			m.metaDoc.DPoPSigningAlgValuesSupported = slices.Clone(DPoPAlgorithms)
			m.metaDoc.DPoPBoundAccessTokensRequired = opts.DPoP.Required
		}
	}
	if c, err := CanonicalResource(m.metaDoc.Resource); err != nil || c != res {
		return nil, fmt.Errorf("auth: metadata resource %q differs from Options.Resource %q", m.metaDoc.Resource, res)
	}
	if err := m.metaDoc.Validate(); err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	m.metaHandler = MetadataHandler(m.metaDoc)
	m.metaURL = opts.ResourceMetadataURL
	if m.metaURL == "" {
		m.metaURL, _ = MetadataURL(res)
	} else if strings.ContainsAny(m.metaURL, "\"\\") {
		return nil, errors.New("auth: ResourceMetadataURL must not contain quotes or backslashes")
	}
	if !opts.DisableSessionBinding {
		m.sessions = newSessionTable(opts.MaxSessions, opts.SessionTTL)
	}
	return m, nil
}

// Resource returns the canonical resource URI tokens must be meant for.
func (m *Middleware) Resource() string { return m.resource }

// MetadataURL returns the URL of the Protected Resource Metadata document
// announced in challenges.
func (m *Middleware) MetadataURL() string { return m.metaURL }

// Metadata returns a copy of the Protected Resource Metadata document.
func (m *Middleware) Metadata() ProtectedResourceMetadata { return *m.metaDoc }

// MetadataHandler serves the Protected Resource Metadata document. Mount
// it at the path of [Middleware.MetadataURL] and at
// [WellKnownPRMPath], or use [Middleware.Mount].
func (m *Middleware) MetadataHandler() http.Handler { return m.metaHandler }

// Mount registers on mux the protected handler h at the resource's path
// (for example /mcp) and the metadata document at both well-known paths:
// the path-suffixed one (/.well-known/oauth-protected-resource/mcp) and
// the root one (/.well-known/oauth-protected-resource).
func (m *Middleware) Mount(mux *http.ServeMux, h http.Handler) {
	u, _ := url.Parse(m.resource)
	path := strings.TrimSuffix(u.Path, "/")
	if path == "" {
		mux.Handle("/", m.Wrap(h))
	} else {
		mux.Handle(path, m.Wrap(h))
		mux.Handle(WellKnownPRMPath+path, m.metaHandler)
	}
	mux.Handle(WellKnownPRMPath, m.metaHandler)
}

// RequiredScopes returns the scopes a request needs: Options.Scopes, the
// scopes of method, and for tools/call those of tool.
func (m *Middleware) RequiredScopes(method, tool string) []string {
	return m.required([]call{{method: method, tool: tool}})
}

// Wrap returns next protected by the middleware.
func (m *Middleware) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.serve(w, r, next)
	})
}

func (m *Middleware) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	if r.Method == http.MethodOptions {
		// CORS preflight carries no credentials by design.
		next.ServeHTTP(w, r)
		return
	}
	scheme, token, err := authzToken(r, m.dpop != nil)
	if err != nil {
		m.log.Debug("auth: malformed request", "reason", err.Error(), "remote", r.RemoteAddr)
		m.challenge(w, http.StatusBadRequest, "invalid_request", err.Error(), m.scopes)
		return
	}
	if token == "" || (scheme == "Bearer" && m.dpop != nil && m.dpop.opts.Required) {
		calls, _, _ := peekCalls(r, min(m.maxBody, maxHintBytes))
		m.challenge(w, http.StatusUnauthorized, "", "", m.required(calls))
		return
	}
	info, err := m.v.Verify(r.Context(), token)
	if err == nil && info == nil {
		err = errors.New("verifier returned no token information")
	}
	if err == nil {
		err = m.checkDPoP(w, r, scheme, token, info)
		if errors.Is(err, errHandled) {
			return
		}
	}
	if err != nil {
		var ite *InvalidTokenError
		if errors.As(err, &ite) || errors.Is(err, ErrInvalidToken) {
			reason := "the access token is not valid"
			if ite != nil {
				reason = ite.Reason
			}
			m.log.Debug("auth: token rejected", "reason", reason, "remote", r.RemoteAddr)
			calls, _, _ := peekCalls(r, min(m.maxBody, maxHintBytes))
			m.challenge(w, http.StatusUnauthorized, "invalid_token", reason, m.required(calls))
			return
		}
		m.log.Warn("auth: token verification unavailable", "error", err.Error())
		w.Header().Set("Retry-After", "5")
		http.Error(w, "token verification is unavailable", http.StatusServiceUnavailable)
		return
	}

	sid := r.Header.Get(sessionHeader)
	if kind, id, ok := strings.Cut(info.Binding, ":"); ok && kind == "session" && id != sid {
		m.log.Debug("auth: session-bound token used outside its session", "remote", r.RemoteAddr)
		m.challenge(w, http.StatusUnauthorized, "invalid_token", "the access token is bound to another MCP session", m.scopes)
		return
	}

	calls, tooLarge, _ := peekCalls(r, m.maxBody)
	if tooLarge {
		http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		return
	}
	required := m.required(calls)
	if missing := info.MissingScopes(required); len(missing) > 0 {
		m.log.Debug("auth: insufficient scope", "missing", FormatScope(missing), "remote", r.RemoteAddr)
		m.challenge(w, http.StatusForbidden, "insufficient_scope",
			"the request needs scope "+FormatScope(missing), union(info.Scopes, required))
		return
	}

	if m.noMachines && info.IsMachine() {
		m.forbid(w, r, "this server accepts only tokens a person approved, not client credentials")
		return
	}
	if m.policy != nil {
		if err := m.policy(r, info); err != nil {
			m.forbid(w, r, err.Error())
			return
		}
	}

	principal := info.Issuer + "\x00" + info.Subject + "\x00" + info.ClientID
	if m.sessions != nil && sid != "" {
		if !m.sessions.check(sid, principal) {
			m.log.Debug("auth: session used by another principal", "remote", r.RemoteAddr)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write(jsonrpc.AppendErrorResponse(nil, jsonrpc.ID{}, &jsonrpc.Error{Code: -32001, Message: "session not found"}))
			return
		}
	}

	ctx := WithTokenInfo(r.Context(), info)
	if m.keepSubject {
		ctx = context.WithValue(ctx, subjectTokenKey{}, &SubjectToken{Token: token, DPoPBound: info.IsDPoPBound()})
	}
	r = r.WithContext(ctx)
	if !m.keepAuthz {
		// The token stays here: handlers (and transport.RequestInfo, which
		// carries the headers into MCP handlers) see only TokenInfo.
		r.Header = r.Header.Clone()
		r.Header.Del("Authorization")
		r.Header.Del("DPoP")
	}
	if m.sessions != nil {
		switch {
		case sid == "" && isInitialize(calls):
			w = &sessionRecorder{ResponseWriter: w, table: m.sessions, principal: principal}
		case sid != "" && r.Method == http.MethodDelete:
			w = &sessionRecorder{ResponseWriter: w, table: m.sessions, forget: sid}
		}
	}
	next.ServeHTTP(w, r)
}

// forbid refuses a request whose token is valid but not allowed here. The
// challenge carries no error code, so that clients do not try a step-up
// that cannot help (RFC 6750 section 3.1 defines no code for this case).
func (m *Middleware) forbid(w http.ResponseWriter, r *http.Request, reason string) {
	m.log.Debug("auth: refused by policy", "reason", reason, "remote", r.RemoteAddr)
	w.Header().Set("WWW-Authenticate", `Bearer resource_metadata="`+m.metaURL+`"`)
	http.Error(w, "forbidden: "+reason, http.StatusForbidden)
}

// bearerToken extracts the bearer token of r (RFC 6750 section 2.1). It
// returns "" without error when r carries no bearer credentials, and an
// error for requests RFC 6750 calls malformed.
func bearerToken(r *http.Request) (string, error) {
	_, tok, err := authzToken(r, false)
	return tok, err
}

// authzToken extracts the access token of r and its scheme: "Bearer", or
// "DPoP" when dpop is accepted (RFC 9449 section 7.1). It returns ""
// without error when r carries no such credentials.
func authzToken(r *http.Request, dpop bool) (string, string, error) {
	if q := r.URL.RawQuery; q != "" && strings.Contains(q, "access_token") {
		if vals, err := url.ParseQuery(q); err == nil && vals.Has("access_token") {
			return "", "", errors.New("access tokens must not be sent in the query string")
		}
	}
	hs := r.Header.Values("Authorization")
	if len(hs) == 0 {
		return "", "", nil
	}
	if len(hs) > 1 {
		return "", "", errors.New("more than one Authorization header")
	}
	scheme, tok, ok := strings.Cut(hs[0], " ")
	switch {
	case ok && strings.EqualFold(scheme, "Bearer"):
		scheme = "Bearer"
	case ok && dpop && strings.EqualFold(scheme, "DPoP"):
		scheme = "DPoP"
	default:
		return "", "", nil // another scheme: no credentials we take
	}
	tok = strings.TrimLeft(tok, " ")
	if tok == "" {
		return "", "", errors.New("empty " + strings.ToLower(scheme) + " token")
	}
	if len(tok) > maxTokenBytes {
		return "", "", errors.New("access token too long")
	}
	if !isToken68(tok) {
		return "", "", errors.New("access token has invalid characters")
	}
	return scheme, tok, nil
}

// isToken68 reports whether s matches RFC 7235's token68:
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func isToken68(s string) bool {
	i := 0
	for i < len(s) {
		c := s[i]
		if ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' {
			i++
			continue
		}
		break
	}
	if i == 0 {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] != '=' {
			return false
		}
	}
	return true
}

// challenge writes an error response with a Bearer challenge (RFC 6750
// section 3, RFC 9728 section 5.1).
func (m *Middleware) challenge(w http.ResponseWriter, status int, code, desc string, scopes []string) {
	var b strings.Builder
	b.WriteString("Bearer ")
	if code != "" {
		fmt.Fprintf(&b, `error="%s", `, code)
		if desc != "" {
			fmt.Fprintf(&b, `error_description="%s", `, quotableDesc(desc))
		}
	}
	fmt.Fprintf(&b, `resource_metadata="%s"`, m.metaURL)
	if len(scopes) > 0 {
		fmt.Fprintf(&b, `, scope="%s"`, FormatScope(scopes))
	}
	h := w.Header()
	if m.dpop == nil || !m.dpop.opts.Required {
		h.Set("WWW-Authenticate", b.String())
	}
	if m.dpop != nil {
		// RFC 9449 section 7.1: the DPoP scheme with the algorithms
		// accepted in proofs.
		d := strings.Replace(b.String(), "Bearer ", "DPoP ", 1)
		h.Add("WWW-Authenticate", d+`, algs="`+dpopAlgs()+`"`)
	}
	h.Add("Access-Control-Expose-Headers", "WWW-Authenticate")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if code == "" {
		// No token was sent: RFC 6750 section 3.1 says the challenge
		// carries no error code; the body still explains.
		code, desc = "invalid_request", orText(desc, "this resource needs an OAuth access token (Authorization: Bearer)")
	}
	body, _ := json.Marshal(map[string]string{"error": code, "error_description": desc})
	_, _ = w.Write(body)
}

// quotableDesc keeps the characters RFC 6750 allows in error_description
// (%x20-21 / %x23-5B / %x5D-7E), replacing others with '?'.
func quotableDesc(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			b[i] = '?'
		}
	}
	if len(b) > 200 {
		b = b[:200]
	}
	return string(b)
}

// call is what the middleware needs to know of one JSON-RPC request.
type call struct {
	method  string
	tool    string
	badArg  bool // tools/call whose params.name could not be read
	unknown bool // a body that did not decode: any method
}

// peekCalls reads r's body, up to limit bytes, restores it for the next
// handler and returns the requests it holds. A body that does not decode
// gives one call of unknown method, which needs every configured scope.
// tooLarge reports a body over limit, which is not restored and must not be
// served.
func peekCalls(r *http.Request, limit int64) (calls []call, tooLarge bool, err error) {
	if r.Method != http.MethodPost || r.Body == nil || r.Body == http.NoBody {
		return nil, false, nil
	}
	if r.ContentLength > limit {
		return nil, true, nil
	}
	buf, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if int64(len(buf)) > limit {
		// Put back what was read, followed by the rest, so a caller that
		// only wanted a hint leaves the body intact.
		r.Body = readCloser{io.MultiReader(bytes.NewReader(buf), r.Body), r.Body}
		return nil, true, nil
	}
	orig := r.Body
	r.Body = readCloser{bytes.NewReader(buf), orig}
	if err == nil {
		r.ContentLength = int64(len(buf))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf)), nil }
	} else {
		// A failed read is reported to the next handler by the same
		// failure.
		r.Body = readCloser{io.MultiReader(bytes.NewReader(buf), errReader{err}), orig}
		return nil, false, err
	}
	return parseCalls(buf), false, nil
}

// parseCalls decodes a JSON-RPC message or batch with the decoder the
// transports use and returns its requests and notifications.
func parseCalls(body []byte) []call {
	msgs, _, _, err := jsonrpc.DecodeBatch(body)
	if err != nil {
		// The transport refuses such a body with the same decoder; should
		// the two ever disagree, the request needs every scope.
		return []call{{unknown: true}}
	}
	var calls []call
	for _, msg := range msgs {
		req, ok := msg.(*jsonrpc.Request)
		if !ok {
			continue
		}
		c := call{method: req.Method}
		if req.Method == "tools/call" {
			var p struct {
				Name string `json:"name"`
			}
			if len(req.Params) == 0 || json.Unmarshal(req.Params, &p) != nil || p.Name == "" {
				c.badArg = true
			}
			c.tool = p.Name
		}
		calls = append(calls, c)
	}
	return calls
}

func isInitialize(calls []call) bool {
	return len(calls) == 1 && calls[0].method == "initialize"
}

// required returns the scopes calls need.
func (m *Middleware) required(calls []call) []string {
	req := slices.Clone(m.scopes)
	for _, c := range calls {
		if c.unknown {
			for _, k := range sortedKeys(m.methodScopes) {
				req = union(req, m.methodScopes[k])
			}
			req = union(req, m.allToolScope)
			continue
		}
		req = union(req, m.methodScopes[c.method])
		if c.method == "tools/call" {
			if c.badArg {
				// Unknown tool: ask for every tool scope rather than none.
				req = union(req, m.allToolScope)
			} else {
				req = union(req, m.toolScopes[c.tool])
			}
		}
	}
	return req
}

type readCloser struct {
	io.Reader
	c io.Closer
}

func (rc readCloser) Close() error { return rc.c.Close() }

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// union returns a followed by the elements of b not in a.
func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func cloneScopeMap(m map[string][]string) map[string][]string {
	out := make(map[string][]string, len(m))
	for k, v := range m {
		out[k] = slices.Clone(v)
	}
	return out
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func orText(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
