package authserver

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/go-json-experiment/json"

	"github.com/switchboard-mcp/switchboard/auth"
)

// Client is a pre-registered OAuth client.
type Client struct {
	// ID is the client identifier. It must not be an https URL (those
	// name Client ID Metadata Documents).
	ID string
	// Secret makes the client confidential; empty means a public client,
	// which authenticates with its ID only and must use PKCE.
	Secret string
	// AuthMethod is the token endpoint authentication method:
	// "client_secret_basic" (default with a Secret), "client_secret_post",
	// or "none" (default without).
	AuthMethod string
	// Name is shown on the consent page.
	Name string
	// RedirectURIs are the exact redirect URIs the client may use: https,
	// or http on a loopback host.
	RedirectURIs []string
	// GrantTypes the client may use. Nil means authorization_code and
	// refresh_token, plus client_credentials for confidential clients.
	GrantTypes []string
	// Scopes restricts the scopes the client may obtain; nil means any
	// the server supports.
	Scopes []string
}

// clientKind tells where a client came from.
type clientKind int

const (
	kindPreregistered    clientKind = iota // Options.Clients
	kindMachine                            // provisioned in the Storage by an administrator
	kindDynamic                            // Dynamic Client Registration
	kindMetadataDocument                   // Client ID Metadata Document
)

// clientRecord is a client as the server keeps it. Secrets are kept as
// SHA-256 digests.
type clientRecord struct {
	id           string
	kind         clientKind
	secretHash   [32]byte
	confidential bool
	authMethod   string
	name         string
	uri          string
	redirectURIs []string
	grantTypes   []string
	scopes       []string
}

func (c *clientRecord) allowsGrant(g string) bool { return slices.Contains(c.grantTypes, g) }

// provisioned reports whether an administrator set the client up (in
// Options or in the Storage), rather than the client itself.
func (c *clientRecord) provisioned() bool {
	return c.kind == kindPreregistered || c.kind == kindMachine
}

// recordOf turns a stored client into the server's form.
func recordOf(c *StoredClient) *clientRecord {
	rec := &clientRecord{
		id:           c.ID,
		kind:         kindDynamic,
		authMethod:   c.AuthMethod,
		name:         c.Name,
		uri:          c.URI,
		redirectURIs: c.RedirectURIs,
		grantTypes:   c.GrantTypes,
		scopes:       c.Scopes,
	}
	if c.Kind == ClientMachine {
		rec.kind = kindMachine
	}
	if len(c.SecretHash) == len(rec.secretHash) {
		copy(rec.secretHash[:], c.SecretHash)
		rec.confidential = true
	}
	return rec
}

func (c *clientRecord) checkSecret(secret string) bool {
	h := hashOf(secret)
	return c.confidential && subtle.ConstantTimeCompare(h[:], c.secretHash[:]) == 1
}

func newPreregistered(c Client) (*clientRecord, error) {
	if c.ID == "" || len(c.ID) > 255 || isURLClientID(c.ID) {
		return nil, errors.New("client id must be non-empty, at most 255 bytes, and not an URL")
	}
	rec := &clientRecord{id: c.ID, kind: kindPreregistered, name: c.Name, confidential: c.Secret != "", authMethod: c.AuthMethod}
	if rec.confidential {
		rec.secretHash = hashOf(c.Secret)
	}
	switch rec.authMethod {
	case "":
		rec.authMethod = "none"
		if rec.confidential {
			rec.authMethod = "client_secret_basic"
		}
	case "none":
		if rec.confidential {
			return nil, errors.New(`auth method "none" with a secret`)
		}
	case "client_secret_basic", "client_secret_post":
		if !rec.confidential {
			return nil, fmt.Errorf("auth method %q without a secret", rec.authMethod)
		}
	default:
		return nil, fmt.Errorf("unsupported auth method %q", rec.authMethod)
	}
	for _, u := range c.RedirectURIs {
		if err := checkRedirectURI(u, !rec.confidential); err != nil {
			return nil, err
		}
	}
	rec.redirectURIs = slices.Clone(c.RedirectURIs)
	rec.grantTypes = slices.Clone(c.GrantTypes)
	if rec.grantTypes == nil {
		rec.grantTypes = []string{"authorization_code", "refresh_token"}
		if rec.confidential {
			rec.grantTypes = append(rec.grantTypes, "client_credentials")
		}
	}
	for _, g := range rec.grantTypes {
		switch g {
		case "authorization_code", "refresh_token":
		case "client_credentials", GrantTokenExchange:
			if !rec.confidential {
				return nil, fmt.Errorf("%s needs a confidential client", g)
			}
		case GrantJWTBearer:
		default:
			return nil, fmt.Errorf("unsupported grant type %q", g)
		}
	}
	for _, sc := range c.Scopes {
		if !auth.ValidScopeToken(sc) {
			return nil, fmt.Errorf("invalid scope %q", sc)
		}
	}
	rec.scopes = slices.Clone(c.Scopes)
	return rec, nil
}

// isURLClientID reports whether id has the form of a Client ID Metadata
// Document URL.
func isURLClientID(id string) bool {
	return strings.HasPrefix(id, "https://") || strings.HasPrefix(id, "http://")
}

// checkRedirectURI enforces MCP's and RFC 8252's rules on a redirect URI:
// an absolute URI without fragment or user information that uses https,
// or http on a loopback host; public (native) clients may also use a
// private-use URI scheme named after a reversed domain name, such as
// "com.example.app:/oauth2redirect" (RFC 8252 section 7.1).
func checkRedirectURI(s string, public bool) error {
	if len(s) > 2048 {
		return errors.New("redirect URI too long")
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("redirect URI %q: %w", s, err)
	}
	switch {
	case u.Fragment != "" || strings.Contains(s, "#"):
		return fmt.Errorf("redirect URI %q: must not have a fragment", s)
	case u.User != nil:
		return fmt.Errorf("redirect URI %q: must not have user information", s)
	case u.Scheme == "https" || u.Scheme == "http":
		switch {
		case u.Host == "":
			return fmt.Errorf("redirect URI %q: not an absolute URL", s)
		case u.Scheme == "https", auth.IsLoopbackHost(u.Hostname()):
			return nil
		}
		return fmt.Errorf("redirect URI %q: must use https, or http on localhost", s)
	case isPrivateUseScheme(u.Scheme):
		if !public {
			return fmt.Errorf("redirect URI %q: private-use URI schemes are for public (native) clients", s)
		}
		if u.Opaque != "" || u.Path == "" {
			return fmt.Errorf("redirect URI %q: want the form scheme:/path", s)
		}
		return nil
	}
	return fmt.Errorf("redirect URI %q: must use https, http on localhost, or (native clients) a private-use scheme such as com.example.app:/path", s)
}

// isPrivateUseScheme reports whether scheme has the form RFC 8252
// section 7.1 asks of private-use URI schemes: a reversed domain name,
// so at least one period, and none of the schemes browsers treat
// specially.
func isPrivateUseScheme(scheme string) bool {
	scheme = strings.ToLower(scheme)
	if !strings.Contains(scheme, ".") || strings.HasPrefix(scheme, ".") || strings.HasSuffix(scheme, ".") {
		return false
	}
	switch scheme {
	case "http", "https", "javascript", "data", "file", "blob", "about", "vbscript", "ftp", "ws", "wss":
		return false
	}
	return true
}

// matchRedirectURI reports whether got is one of the registered redirect
// URIs. Matching is exact, except that an http redirect URI on a
// loopback host (127.0.0.1, [::1], localhost) matches with any port, as
// RFC 8252 section 7.3 requires: native apps listen on a port the
// operating system chooses at the time of the request.
func matchRedirectURI(registered []string, got string) bool {
	if slices.Contains(registered, got) {
		return true
	}
	u, err := url.Parse(got)
	if err != nil || u.Scheme != "http" || u.User != nil || u.Fragment != "" || strings.Contains(got, "#") ||
		!auth.IsLoopbackHost(u.Hostname()) {
		return false
	}
	for _, r := range registered {
		ru, err := url.Parse(r)
		if err != nil || ru.Scheme != "http" || !auth.IsLoopbackHost(ru.Hostname()) {
			continue
		}
		if strings.EqualFold(ru.Hostname(), u.Hostname()) && ru.EscapedPath() == u.EscapedPath() &&
			ru.RawQuery == u.RawQuery && ru.ForceQuery == u.ForceQuery {
			return true
		}
	}
	return false
}

// ClientMetadata is the client metadata of Dynamic Client Registration
// (RFC 7591 section 2) and of Client ID Metadata Documents.
type ClientMetadata struct {
	ClientID                string   `json:"client_id,omitempty"`
	ClientSecret            string   `json:"client_secret,omitempty"`
	ClientIDIssuedAt        int64    `json:"client_id_issued_at,omitempty"`
	ClientSecretExpiresAt   *int64   `json:"client_secret_expires_at,omitempty"`
	RedirectURIs            []string `json:"redirect_uris,omitempty"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method,omitempty"`
	GrantTypes              []string `json:"grant_types,omitempty"`
	ResponseTypes           []string `json:"response_types,omitempty"`
	ClientName              string   `json:"client_name,omitempty"`
	ClientURI               string   `json:"client_uri,omitempty"`
	LogoURI                 string   `json:"logo_uri,omitempty"`
	Scope                   string   `json:"scope,omitempty"`
	Contacts                []string `json:"contacts,omitempty"`
	TOSURI                  string   `json:"tos_uri,omitempty"`
	PolicyURI               string   `json:"policy_uri,omitempty"`
	JWKSURI                 string   `json:"jwks_uri,omitempty"`
	SoftwareID              string   `json:"software_id,omitempty"`
	SoftwareVersion         string   `json:"software_version,omitempty"`
}

// Limits on client metadata.
const (
	maxRedirectURIs   = 20
	maxMetadataString = 2048
	maxRegisterBody   = 64 << 10
)

// registrationError is an RFC 7591 section 3.2.2 error.
type registrationError struct {
	code, desc string
}

func (e *registrationError) Error() string { return e.code + ": " + e.desc }

func regErr(code, format string, args ...any) error {
	return &registrationError{code: code, desc: fmt.Sprintf(format, args...)}
}

// validateMetadata checks metadata common to registration and metadata
// documents and returns the grant types it asks for. public tells whether
// the client will be a public (native or browser) client.
func validateMetadata(m *ClientMetadata, public bool) ([]string, error) {
	for _, s := range []string{m.ClientName, m.ClientURI, m.LogoURI, m.Scope, m.TOSURI, m.PolicyURI, m.SoftwareID, m.SoftwareVersion, m.JWKSURI} {
		if len(s) > maxMetadataString {
			return nil, regErr("invalid_client_metadata", "a metadata value is too long")
		}
	}
	if len(m.RedirectURIs) > maxRedirectURIs {
		return nil, regErr("invalid_redirect_uri", "too many redirect URIs")
	}
	for _, u := range m.RedirectURIs {
		if err := checkRedirectURI(u, public); err != nil {
			return nil, regErr("invalid_redirect_uri", "%v", err)
		}
	}
	if m.Scope != "" {
		if _, err := auth.ParseScope(m.Scope); err != nil {
			return nil, regErr("invalid_client_metadata", "%v", err)
		}
	}
	grants := m.GrantTypes
	if len(grants) == 0 {
		grants = []string{"authorization_code"}
	}
	for _, g := range grants {
		if g != "authorization_code" && g != "refresh_token" && g != "client_credentials" {
			return nil, regErr("invalid_client_metadata", "unsupported grant type %q", g)
		}
	}
	for _, rt := range m.ResponseTypes {
		if rt != "code" {
			return nil, regErr("invalid_client_metadata", "unsupported response type %q", rt)
		}
	}
	if slices.Contains(grants, "authorization_code") && len(m.RedirectURIs) == 0 {
		return nil, regErr("invalid_redirect_uri", "redirect_uris is required for the authorization_code grant")
	}
	return grants, nil
}

// serveRegister implements Dynamic Client Registration (RFC 7591).
func (s *Server) serveRegister(w http.ResponseWriter, r *http.Request) {
	if !corsPOST(w, r) {
		return
	}
	if !isMediaType(r.Header.Get("Content-Type"), "application/json") {
		writeJSONError(w, http.StatusBadRequest, "invalid_client_metadata", "the request must be application/json")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRegisterBody))
	if err != nil {
		writeJSONError(w, http.StatusRequestEntityTooLarge, "invalid_client_metadata", "request too large")
		return
	}
	var m ClientMetadata
	if err := json.Unmarshal(body, &m); err != nil {
		writeJSONError(w, http.StatusBadRequest, "invalid_client_metadata", "malformed client metadata")
		return
	}
	rec, resp, err := s.register(r.Context(), &m)
	if err != nil {
		var re *registrationError
		if errors.As(err, &re) {
			writeJSONError(w, http.StatusBadRequest, re.code, re.desc)
			return
		}
		if !errors.Is(err, errTooManyClients) {
			s.log.Error("authserver: storage failed", "op", "register", "error", err.Error())
			err = errors.New("the server cannot reach its storage; try again")
		}
		w.Header().Set("Retry-After", "60")
		writeJSONError(w, http.StatusServiceUnavailable, "temporarily_unavailable", err.Error())
		return
	}
	s.log.Info("authserver: client registered", "client_id", rec.id, "name", rec.name)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, resp)
}

// errTooManyClients refuses a registration when MaxClients are stored.
var errTooManyClients = errors.New("too many registered clients; try again later")

// register validates dynamic registration metadata and stores the client.
func (s *Server) register(ctx context.Context, m *ClientMetadata) (*clientRecord, *ClientMetadata, error) {
	method := m.TokenEndpointAuthMethod
	if method == "" {
		method = "client_secret_basic" // RFC 7591 section 2
	}
	if method != "none" && method != "client_secret_basic" && method != "client_secret_post" {
		return nil, nil, regErr("invalid_client_metadata", "unsupported token_endpoint_auth_method %q", method)
	}
	grants, err := validateMetadata(m, method == "none")
	if err != nil {
		return nil, nil, err
	}
	if slices.Contains(grants, "client_credentials") {
		// A client that obtains tokens with no person and no consent
		// page must be provisioned by an administrator (Options.Clients,
		// "switchboard auth-server clients add"), never by open
		// registration.
		return nil, nil, regErr("invalid_client_metadata", "client_credentials clients are provisioned by the administrator, not registered")
	}
	if m.Scope != "" {
		scopes, _ := auth.ParseScope(m.Scope)
		if err := s.checkScopesSupported(scopes); err != nil {
			return nil, nil, regErr("invalid_client_metadata", "%v", err)
		}
	}
	rec := &clientRecord{
		id:           "sb-" + randomToken(16),
		kind:         kindDynamic,
		authMethod:   method,
		name:         m.ClientName,
		uri:          m.ClientURI,
		redirectURIs: slices.Clone(m.RedirectURIs),
		grantTypes:   slices.Clone(grants),
		// The scope of a registration is informational (RFC 7591 allows
		// treating it as a limit, but MCP clients register with the
		// scope of their first challenge and must be able to step up).
		confidential: method != "none",
	}
	resp := *m
	resp.ClientID = rec.id
	resp.ClientIDIssuedAt = s.now().Unix()
	resp.TokenEndpointAuthMethod = method
	resp.GrantTypes = rec.grantTypes
	resp.ClientSecret = ""
	resp.ClientSecretExpiresAt = nil
	if rec.confidential {
		secret := randomToken(32)
		rec.secretHash = hashOf(secret)
		resp.ClientSecret = secret
		zero := int64(0)
		resp.ClientSecretExpiresAt = &zero
	}
	now := s.now()
	sc := &StoredClient{
		ID: rec.id, Kind: ClientRegistered, AuthMethod: rec.authMethod, Name: rec.name, URI: rec.uri,
		RedirectURIs: rec.redirectURIs, GrantTypes: rec.grantTypes, CreatedAt: now,
		ExpiresAt: now.Add(s.opts.UnusedClientTTL),
	}
	if rec.confidential {
		sc.SecretHash = rec.secretHash[:]
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(ctx)
	n, err := s.store.CountClients(ctx, ClientRegistered)
	if err != nil {
		return nil, nil, err
	}
	if n >= s.opts.MaxClients {
		return nil, nil, errTooManyClients
	}
	if err := s.store.CreateClient(ctx, sc); err != nil {
		return nil, nil, err
	}
	return rec, &resp, nil
}

// checkScopesSupported reports scopes the server does not support.
func (s *Server) checkScopesSupported(scopes []string) error {
	if len(s.opts.ScopesSupported) == 0 {
		return nil
	}
	for _, sc := range scopes {
		if !slices.Contains(s.opts.ScopesSupported, sc) {
			return fmt.Errorf("unsupported scope %q", sc)
		}
	}
	return nil
}

// lookupClient returns a registered client, or fetches the metadata
// document of a URL client id.
func (s *Server) lookupClient(r *http.Request, id string) (*clientRecord, error) {
	if id == "" {
		return nil, errors.New("missing client_id")
	}
	if isURLClientID(id) {
		if s.cimd == nil {
			return nil, errors.New("client ID metadata documents are not accepted")
		}
		return s.cimd.get(r.Context(), id)
	}
	if c := s.static[id]; c != nil {
		return c, nil
	}
	sc, err := s.store.Client(r.Context(), id)
	if errors.Is(err, ErrNotFound) || (err == nil && !sc.ExpiresAt.IsZero() && !s.now().Before(sc.ExpiresAt)) {
		return nil, errors.New("unknown client")
	} else if err != nil {
		s.log.Error("authserver: storage failed", "op", "client", "error", err.Error())
		return nil, errors.New("the server cannot reach its storage")
	}
	return recordOf(sc), nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeJSONError writes an OAuth error response (RFC 6749 section 5.2).
func writeJSONError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

// corsPOST handles CORS and the method check of endpoints that browser
// based clients call; it returns false when the response is complete.
func corsPOST(w http.ResponseWriter, r *http.Request) bool {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	switch r.Method {
	case http.MethodPost:
		return true
	case http.MethodOptions:
		h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
		w.WriteHeader(http.StatusNoContent)
	default:
		h.Set("Allow", "POST, OPTIONS")
		writeJSONError(w, http.StatusMethodNotAllowed, "invalid_request", "use POST")
	}
	return false
}

// isMediaType reports whether a Content-Type header names media type mt.
func isMediaType(header, mt string) bool {
	base, _, _ := strings.Cut(header, ";")
	return strings.EqualFold(strings.TrimSpace(base), mt)
}
