package authserver

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/switchboard-mcp/switchboard/auth"
	"github.com/switchboard-mcp/switchboard/internal/httpsec"
)

// BindingParam is the authorization request parameter that binds a grant
// to the life of an MCP session or task (a Switchboard extension): its
// value is "session:<Mcp-Session-Id>" or "task:<taskId>". Tokens of a
// bound grant carry the binding in the "mcp_binding" claim, come without
// a refresh token, and stop working when the MCP server calls
// [Server.RevokeBinding]; renewing access then needs a new authorization
// request, and so the person's approval again.
const BindingParam = "mcp_binding"

// authRequest is a validated authorization request.
type authRequest struct {
	client        *clientRecord
	redirectURI   string
	redirectGiven bool
	state         string
	challenge     string
	resource      string
	scopes        []string
	binding       string
}

// pendingAuth is an authorization request waiting on the consent page.
type pendingAuth struct {
	req     *authRequest
	csrf    string
	subject string
	person  *Person
	addr    string // the address that opened it (see clientAddress)
	expires time.Time
}

// authCode is an issued authorization code.
type authCode struct {
	req     *authRequest
	subject string
	person  *Person
	expires time.Time
	used    bool
	grantID string // the grant the code was redeemed for
}

// authError is an error to send to the client's redirect URI.
type authError struct{ code, desc string }

func (e *authError) Error() string { return e.code + ": " + e.desc }

// maxAuthParam bounds any single authorization request parameter.
const maxAuthParam = 4096

// parseAuthRequest validates an authorization request. Errors before the
// redirect URI is known good are returned as plain errors (shown to the
// user, never redirected); later ones as *authError with the request.
func (s *Server) parseAuthRequest(r *http.Request, q url.Values) (*authRequest, error) {
	for k, v := range q {
		if len(v) > 1 {
			if k == "client_id" || k == "redirect_uri" {
				return nil, fmt.Errorf("parameter %s given more than once", k)
			}
		}
		for _, x := range v {
			if len(x) > maxAuthParam {
				return nil, fmt.Errorf("parameter %s too long", k)
			}
		}
	}
	client, err := s.lookupClient(r, q.Get("client_id"))
	if err != nil {
		return nil, fmt.Errorf("invalid client: %w", err)
	}
	req := &authRequest{client: client, state: q.Get("state")}
	switch ru := q.Get("redirect_uri"); {
	case ru != "":
		if !matchRedirectURI(client.redirectURIs, ru) {
			return nil, errors.New("redirect_uri is not registered for this client")
		}
		req.redirectURI, req.redirectGiven = ru, true
	case len(client.redirectURIs) == 1:
		req.redirectURI = client.redirectURIs[0]
	default:
		return nil, errors.New("redirect_uri is required")
	}
	// From here on errors go back to the client.
	for k, v := range q {
		if len(v) > 1 {
			return req, &authError{"invalid_request", "parameter " + k + " given more than once"}
		}
	}
	if q.Get("response_type") != "code" {
		return req, &authError{"unsupported_response_type", "only response_type=code is supported"}
	}
	if !client.allowsGrant("authorization_code") {
		return req, &authError{"unauthorized_client", "the client may not use the authorization code grant"}
	}
	req.challenge = q.Get("code_challenge")
	switch m := q.Get("code_challenge_method"); {
	case req.challenge == "":
		return req, &authError{"invalid_request", "PKCE is required: code_challenge is missing"}
	case m != "S256":
		return req, &authError{"invalid_request", "code_challenge_method must be S256"}
	case !validChallenge(req.challenge):
		return req, &authError{"invalid_request", "malformed code_challenge"}
	}
	res := q.Get("resource")
	if res == "" {
		return req, &authError{"invalid_target", "the resource parameter is required (RFC 8707)"}
	}
	if req.resource, err = s.checkResource(res); err != nil {
		return req, &authError{"invalid_target", err.Error()}
	}
	if req.scopes, err = s.checkScopes(client, q.Get("scope")); err != nil {
		return req, &authError{"invalid_scope", err.Error()}
	}
	if b := q.Get(BindingParam); b != "" {
		if err := validBinding(b); err != nil {
			return req, &authError{"invalid_request", err.Error()}
		}
		revoked, err := s.store.BindingRevoked(r.Context(), b)
		if err != nil {
			return req, &authError{"temporarily_unavailable", "the server cannot reach its storage"}
		}
		if revoked {
			return req, &authError{"invalid_request", "the " + BindingParam + " has ended"}
		}
		req.binding = b
	}
	return req, nil
}

// validChallenge checks an S256 code challenge: 43 base64url characters.
func validChallenge(c string) bool {
	if len(c) != 43 {
		return false
	}
	for i := 0; i < len(c); i++ {
		if !isUnreservedB64(c[i]) {
			return false
		}
	}
	return true
}

func isUnreservedB64(c byte) bool {
	return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') || c == '-' || c == '_'
}

// validVerifier checks a PKCE code verifier (RFC 7636 section 4.1).
func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !isUnreservedB64(c) && c != '.' && c != '~' {
			return false
		}
	}
	return true
}

// validBinding checks an mcp_binding value.
func validBinding(b string) error {
	kind, id, ok := strings.Cut(b, ":")
	if !ok || (kind != "session" && kind != "task") {
		return errors.New(BindingParam + ` must be "session:<id>" or "task:<id>"`)
	}
	if id == "" || len(id) > 256 {
		return errors.New(BindingParam + " id must have 1 to 256 characters")
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return errors.New(BindingParam + " id must be visible ASCII")
		}
	}
	return nil
}

// checkResource canonicalizes a resource indicator and checks it is one the
// server issues tokens for.
func (s *Server) checkResource(res string) (string, error) {
	c, err := auth.CanonicalResource(res)
	if err != nil {
		return "", err
	}
	if len(s.resources) > 0 && !slices.Contains(s.resources, c) {
		return "", fmt.Errorf("this server does not issue tokens for %s", c)
	}
	return c, nil
}

// checkScopes parses a requested scope and checks it against the server
// and the client.
func (s *Server) checkScopes(c *clientRecord, scope string) ([]string, error) {
	scopes, err := auth.ParseScope(scope)
	if err != nil {
		return nil, err
	}
	if err := s.checkScopesSupported(scopes); err != nil {
		return nil, err
	}
	if c.scopes != nil {
		for _, sc := range scopes {
			if !slices.Contains(c.scopes, sc) {
				return nil, fmt.Errorf("the client may not request scope %q", sc)
			}
		}
	}
	return scopes, nil
}

// serveAuthorize is the authorization endpoint: GET starts a request, POST
// answers the consent page.
func (s *Server) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", pageCSP(""))
	// same-origin, not no-referrer: under no-referrer a browser sends
	// "Origin: null" with the consent form's POST (Fetch, "append a
	// request Origin header"), which consent's origin check refuses. The
	// authorization request's URL still never goes to another origin.
	h.Set("Referrer-Policy", "same-origin")
	switch r.Method {
	case http.MethodGet:
		s.startAuthorization(w, r)
	case http.MethodPost:
		s.consent(w, r)
	default:
		h.Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func (s *Server) startAuthorization(w http.ResponseWriter, r *http.Request) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		s.errorPage(w, http.StatusBadRequest, "The authorization request is malformed.")
		return
	}
	req, err := s.parseAuthRequest(r, q)
	if err != nil {
		var ae *authError
		if req != nil && errors.As(err, &ae) {
			s.redirectError(w, r, req, ae, http.StatusFound)
			return
		}
		s.log.Info("authserver: refused authorization request", "client_id", q.Get("client_id"), "reason", err.Error())
		s.errorPage(w, http.StatusBadRequest, "The authorization request was refused: "+err.Error()+".")
		return
	}
	subject := DefaultSubject
	var person *Person
	switch {
	case s.opts.Identify != nil:
		if person, err = s.opts.Identify(w, r); err != nil || person == nil || person.Subject == "" {
			if err == nil {
				err = errors.New("no subject")
			}
			if !errors.Is(err, ErrHandled) {
				s.errorPage(w, http.StatusUnauthorized, "You are not signed in: "+err.Error())
			}
			return
		}
		subject = person.Subject
	case s.opts.Authenticate != nil:
		if subject, err = s.opts.Authenticate(w, r); err != nil {
			if !errors.Is(err, ErrHandled) {
				s.errorPage(w, http.StatusUnauthorized, "You are not signed in: "+err.Error())
			}
			return
		}
	}
	if s.opts.AutoApprove {
		s.issueCodeFor(w, r, req, subject, person, http.StatusFound)
		return
	}
	p := &pendingAuth{req: req, csrf: randomToken(32), subject: subject, person: person, addr: clientAddress(r), expires: s.now().Add(s.opts.ConsentTTL)}
	id := randomToken(16)
	if !s.addPending(r.Context(), id, p) {
		w.Header().Set("Retry-After", "60")
		s.errorPage(w, http.StatusServiceUnavailable, "Too many sign-ins are waiting for an answer; try again in a minute.")
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name:     consentCookie(id),
		Value:    p.csrf,
		Path:     s.issuerPath + PathAuthorize,
		MaxAge:   int(s.opts.ConsentTTL / time.Second),
		HttpOnly: true,
		Secure:   strings.HasPrefix(s.issuer, "https://"),
		SameSite: http.SameSiteStrictMode,
	})
	s.renderConsent(w, id, p)
}

// addPending records a consent page waiting for an answer, within the
// bounds of Options: an address over its bound loses its own oldest page;
// a client over its bound, or a full table, refuses the new page and
// keeps the old ones. It reports whether p was added.
func (s *Server) addPending(ctx context.Context, id string, p *pendingAuth) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(ctx)
	if ids := s.pendingByAddr[p.addr]; len(ids) >= s.opts.MaxPendingPerAddress {
		s.dropPendingLocked(ids[0])
	}
	if len(s.pending) >= s.opts.MaxPendingConsents || s.pendingByClient[p.req.client.id] >= s.opts.MaxPendingPerClient {
		s.log.Warn("authserver: pending consents at their bound; authorization request refused", "client_id", p.req.client.id)
		return false
	}
	s.pending[id] = p
	s.pendingByClient[p.req.client.id]++
	s.pendingByAddr[p.addr] = append(s.pendingByAddr[p.addr], id)
	return true
}

// dropPendingLocked forgets a pending consent. s.mu must be held.
func (s *Server) dropPendingLocked(id string) {
	p := s.pending[id]
	if p == nil {
		return
	}
	delete(s.pending, id)
	if n := s.pendingByClient[p.req.client.id] - 1; n > 0 {
		s.pendingByClient[p.req.client.id] = n
	} else {
		delete(s.pendingByClient, p.req.client.id)
	}
	ids := slices.DeleteFunc(s.pendingByAddr[p.addr], func(x string) bool { return x == id })
	if len(ids) > 0 {
		s.pendingByAddr[p.addr] = ids
	} else {
		delete(s.pendingByAddr, p.addr)
	}
}

// maxCodes bounds issued authorization codes not yet expired.
const maxCodes = 10000

func consentCookie(id string) string { return "sb_consent_" + id[:12] }

// consent handles the consent form.
func (s *Server) consent(w http.ResponseWriter, r *http.Request) {
	if err := httpsec.CheckHostOrigin(r, s.opts.AllowedHosts, nil); err != nil {
		s.errorPage(w, http.StatusForbidden, "This form must be submitted from the consent page.")
		return
	}
	if !isMediaType(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		s.errorPage(w, http.StatusBadRequest, "Malformed consent form.")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 16<<10))
	if err != nil {
		s.errorPage(w, http.StatusBadRequest, "Malformed consent form.")
		return
	}
	form, err := ParseForm(body)
	if err != nil {
		s.errorPage(w, http.StatusBadRequest, "Malformed consent form.")
		return
	}
	id := form["request_id"]
	if len(id) < 16 {
		s.errorPage(w, http.StatusBadRequest, "Malformed consent form.")
		return
	}
	cookie, err := r.Cookie(consentCookie(id))
	s.mu.Lock()
	p := s.pending[id]
	ok := p != nil && err == nil && s.now().Before(p.expires) &&
		subtle.ConstantTimeCompare([]byte(form["csrf_token"]), []byte(p.csrf)) == 1 &&
		subtle.ConstantTimeCompare([]byte(cookie.Value), []byte(p.csrf)) == 1
	if ok {
		s.dropPendingLocked(id) // one answer per page
	}
	s.mu.Unlock()
	if !ok {
		s.errorPage(w, http.StatusForbidden, "This consent page has expired or was not opened in this browser. Start again from the application.")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: consentCookie(id), Value: "", Path: s.issuerPath + PathAuthorize, MaxAge: -1})
	if s.opts.Identify != nil {
		person, err := s.opts.Identify(w, r)
		if err != nil || person == nil || person.Subject != p.subject {
			if !errors.Is(err, ErrHandled) {
				s.errorPage(w, http.StatusForbidden, "The signed-in user changed; start again from the application.")
			}
			return
		}
	} else if s.opts.Authenticate != nil {
		subject, err := s.opts.Authenticate(w, r)
		if err != nil || subject != p.subject {
			if !errors.Is(err, ErrHandled) {
				s.errorPage(w, http.StatusForbidden, "The signed-in user changed; start again from the application.")
			}
			return
		}
	}
	if form["decision"] != "approve" {
		s.redirectError(w, r, p.req, &authError{"access_denied", "the user denied the request"}, http.StatusSeeOther)
		return
	}
	s.issueCodeFor(w, r, p.req, p.subject, p.person, http.StatusSeeOther)
}

// issueCodeFor stores a new authorization code and redirects to the
// client.
func (s *Server) issueCodeFor(w http.ResponseWriter, r *http.Request, req *authRequest, subject string, person *Person, status int) {
	code := randomToken(32)
	s.mu.Lock()
	s.sweepLocked(r.Context())
	if len(s.codes) >= maxCodes {
		// Codes live a minute: wait rather than evict someone else's.
		s.mu.Unlock()
		w.Header().Set("Retry-After", "60")
		s.errorPage(w, http.StatusServiceUnavailable, "Too many sign-ins at once; try again in a minute.")
		return
	}
	s.codes[hashOf(code)] = &authCode{req: req, subject: subject, person: person, expires: s.now().Add(s.opts.CodeTTL)}
	s.mu.Unlock()
	s.log.Info("authserver: authorization approved", "client_id", req.client.id, "subject", subject, "scope", auth.FormatScope(req.scopes), "resource", req.resource, "binding", req.binding)
	s.redirect(w, r, req, url.Values{"code": {code}}, status)
}

func (s *Server) redirectError(w http.ResponseWriter, r *http.Request, req *authRequest, e *authError, status int) {
	s.redirect(w, r, req, url.Values{"error": {e.code}, "error_description": {e.desc}}, status)
}

// redirect sends the user agent to the client's redirect URI with params,
// the state and the issuer (RFC 9207).
func (s *Server) redirect(w http.ResponseWriter, r *http.Request, req *authRequest, params url.Values, status int) {
	u, err := url.Parse(req.redirectURI)
	if err != nil {
		s.errorPage(w, http.StatusBadRequest, "Invalid redirect URI.")
		return
	}
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	if req.state != "" {
		q.Set("state", req.state)
	}
	q.Set("iss", s.issuer)
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), status)
}

var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#222}
h1{font-size:1.4rem}.box{border:1px solid #ccc;border-radius:8px;padding:1rem 1.25rem;margin:1rem 0}
.warn{background:#fff4e5;border-color:#f0a020}.host{font-weight:bold;font-size:1.1rem}
code{background:#f3f3f3;padding:0 .25rem;border-radius:3px;word-break:break-all}
button{font-size:1rem;padding:.5rem 1.25rem;margin-right:.75rem;border-radius:6px;border:1px solid #888;cursor:pointer}
button.approve{background:#1a7f37;color:#fff;border-color:#1a7f37}
</style></head><body>
{{if .Error}}<h1>Authorization error</h1><p>{{.Error}}</p>{{else}}
<h1>Allow {{.ClientName}} to access {{.Resource}}?</h1>
<div class="box">
<p>Application: <b>{{.ClientName}}</b>{{if .ClientURL}} (client id <code>{{.ClientID}}</code>, hosted at <span class="host">{{.ClientHost}}</span>){{else}} (client id <code>{{.ClientID}}</code>){{end}}</p>
<p>After you answer, you will be sent to <span class="host">{{.RedirectHost}}</span> (<code>{{.RedirectURI}}</code>).</p>
{{if .LoopbackOnly}}<p class="box warn">This application receives the answer on this computer (<code>{{.RedirectHost}}</code>). Any program on this computer could claim to be {{.ClientName}}: approve only if you just started this sign-in yourself.</p>{{end}}
<p>Signed in as <b>{{if .PersonName}}{{.PersonName}} ({{.Subject}}){{else}}{{.Subject}}{{end}}</b>{{if .PersonEmail}}, <code>{{.PersonEmail}}</code>{{end}}{{if .Provider}} through <b>{{.Provider}}</b>{{end}}.</p>
{{if .Groups}}<p>Groups: {{range .Groups}}<code>{{.}}</code> {{end}}</p>{{end}}
<p>Access to: <code>{{.Resource}}</code></p>
{{if .Scopes}}<p>Permissions requested:</p><ul>{{range .Scopes}}<li><code>{{.}}</code></li>{{end}}</ul>{{else}}<p>No specific permissions requested.</p>{{end}}
{{if .Binding}}<p>This access ends with <code>{{.Binding}}</code>.</p>{{end}}
</div>
<form method="post" action="{{.Action}}">
<input type="hidden" name="request_id" value="{{.RequestID}}">
<input type="hidden" name="csrf_token" value="{{.CSRF}}">
<button class="approve" type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>{{end}}
</body></html>
`))

type pageData struct {
	Title, Error                     string
	ClientName, ClientID, ClientHost string
	ClientURL                        bool
	RedirectURI, RedirectHost        string
	LoopbackOnly                     bool
	Subject, Resource, Binding       string
	PersonName, PersonEmail          string
	Provider                         string
	Groups                           []string
	Scopes                           []string
	Action, RequestID, CSRF          string
}

func (s *Server) renderConsent(w http.ResponseWriter, id string, p *pendingAuth) {
	c := p.req.client
	d := pageData{
		Title:      "Authorize " + c.name,
		ClientName: c.name,
		ClientID:   c.id,
		Subject:    p.subject,
		Resource:   p.req.resource,
		Groups:     groupsOf(p.person),
		Binding:    p.req.binding,
		Scopes:     p.req.scopes,
		Action:     s.issuerPath + PathAuthorize,
		RequestID:  id,
		CSRF:       p.csrf,
	}
	if d.ClientName == "" {
		d.ClientName = c.id
	}
	if p.person != nil {
		d.PersonName, d.PersonEmail, d.Provider = p.person.Name, p.person.Email, p.person.Provider
	}
	if c.kind == kindMetadataDocument {
		if u, err := url.Parse(c.id); err == nil {
			d.ClientURL, d.ClientHost = true, u.Host
		}
	}
	d.RedirectURI = p.req.redirectURI
	if u, err := url.Parse(p.req.redirectURI); err == nil {
		d.RedirectHost = u.Host
		d.LoopbackOnly = auth.IsLoopbackHost(u.Hostname())
		if u.Scheme != "http" && u.Scheme != "https" {
			// A private-use scheme: any app on the device may claim it.
			d.RedirectHost, d.LoopbackOnly = u.Scheme+":", true
		}
	}
	// The form's answer redirects to the client: browsers hold that
	// redirect to form-action too (Chromium blocks it under 'self' alone).
	w.Header().Set("Content-Security-Policy", pageCSP(formActionSource(p.req.redirectURI)))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = pageTemplate.Execute(w, d)
}

// pageCSP is the Content-Security-Policy of the authorization endpoint's
// pages; redirect, if not empty, is a source the consent form's answer
// may redirect to.
func pageCSP(redirect string) string {
	formAction := "'self'"
	if redirect != "" {
		formAction += " " + redirect
	}
	return "default-src 'none'; style-src 'unsafe-inline'; form-action " + formAction + "; frame-ancestors 'none'"
}

// formActionSource is the CSP source expression of a redirect URI: its
// origin (http and https) or its scheme (a private-use scheme), or ""
// when it has none or it would not be a single plain source.
func formActionSource(redirectURI string) string {
	u, err := url.Parse(redirectURI)
	if err != nil || u.Scheme == "" {
		return ""
	}
	src := strings.ToLower(u.Scheme) + ":"
	if src == "http:" || src == "https:" {
		if u.Host == "" {
			return ""
		}
		src += "//" + u.Host
	}
	for _, c := range src {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(".-+:/[]", c)) {
			return ""
		}
	}
	return src
}

func (s *Server) errorPage(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = pageTemplate.Execute(w, pageData{Title: "Authorization error", Error: msg})
}

// groupsOf returns the "groups" claim of a person, for the consent page.
func groupsOf(p *Person) []string {
	if p == nil {
		return nil
	}
	var out []string
	switch v := p.Claims["groups"].(type) {
	case []string:
		out = v
	case []any:
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}
