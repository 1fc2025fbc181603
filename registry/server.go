package registry

import (
	"bytes"
	"context"
	"crypto/subtle"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/goccy/go-yaml"
)

//go:embed openapi/openapi.yaml
var openAPIYAML []byte

// OpenAPI returns the OpenAPI document of the Registry API this server
// implements (the official release v1.8.14's docs/reference/api/openapi.yaml).
func OpenAPI() []byte { return bytes.Clone(openAPIYAML) }

var openAPIJSON = sync.OnceValues(func() ([]byte, error) {
	j, err := yaml.YAMLToJSON(openAPIYAML)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	err = json.Compact(&b, j)
	return b.Bytes(), err
})

// APIVersions are the path prefixes served: "/v0" (which the official
// publisher CLI uses) and "/v0.1" (the stable API).
var APIVersions = []string{"/v0", "/v0.1"}

// VersionInfo is the body of the version route.
type VersionInfo struct {
	// Version is the program's version.
	Version string `json:"version"`
	// GitCommit is the commit it was built from, if known.
	GitCommit string `json:"git_commit"`
	// BuildTime is when it was built, if known.
	BuildTime string `json:"build_time"`
}

// Options configure [NewServer].
type Options struct {
	// Store keeps the servers. Required.
	Store Store
	// Auth issues and checks tokens; nil makes the write routes answer
	// 501 and the login routes 404.
	Auth *Auth
	// Curation filters what reads show.
	Curation *Curation
	// ReadTokens, when AnonymousReads is false, are the bearer tokens that
	// may read (admin tokens and registry JWTs may too).
	ReadTokens []string
	// AnonymousReads lets anyone read (the default of the configuration
	// file; GitHub Copilot's allowlist check reads without credentials).
	AnonymousReads bool
	// Validate adjusts the server.json validation of publish and edit.
	Validate ValidateOptions
	// Version is what the version route answers.
	Version VersionInfo
	// Logger receives errors (default: discarded).
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Server serves the Registry API: /v0 and /v0.1 routes, health, ping,
// version, validate, the login routes, and the OpenAPI document at
// /openapi.yaml and /openapi.json. Mount it at the root of a host or under
// a path prefix with http.StripPrefix.
type Server struct {
	opts Options
	mux  *http.ServeMux
	log  *slog.Logger
}

// NewServer returns the API handler.
func NewServer(opts Options) (*Server, error) {
	if opts.Store == nil {
		return nil, errors.New("registry: a store is required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{opts: opts, mux: http.NewServeMux(), log: opts.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	for _, p := range APIVersions {
		s.mux.HandleFunc("GET "+p+"/servers", s.read(s.list))
		s.mux.HandleFunc("GET "+p+"/servers/{serverName}/versions", s.read(s.versions))
		s.mux.HandleFunc("GET "+p+"/servers/{serverName}/versions/{version}", s.read(s.get))
		s.mux.HandleFunc("PUT "+p+"/servers/{serverName}/versions/{version}", s.edit)
		s.mux.HandleFunc("DELETE "+p+"/servers/{serverName}/versions/{version}", s.notImplemented("Deletion is not supported by this registry; set the status to deleted instead"))
		s.mux.HandleFunc("PATCH "+p+"/servers/{serverName}/versions/{version}/status", s.status)
		s.mux.HandleFunc("PATCH "+p+"/servers/{serverName}/status", s.status)
		s.mux.HandleFunc("POST "+p+"/publish", s.publish)
		s.mux.HandleFunc("POST "+p+"/validate", s.validate)
		s.mux.HandleFunc("POST "+p+"/auth/{method}", s.login)
		s.mux.HandleFunc("GET "+p+"/health", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
		})
		s.mux.HandleFunc("GET "+p+"/ping", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusOK, map[string]bool{"pong": true})
		})
		s.mux.HandleFunc("GET "+p+"/version", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusOK, s.opts.Version)
		})
	}
	s.mux.HandleFunc("GET /openapi.yaml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/openapi+yaml")
		w.Write(openAPIYAML)
	})
	s.mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, r *http.Request) {
		b, err := openAPIJSON()
		if err != nil {
			problem(w, http.StatusInternalServerError, "OpenAPI document unavailable", nil)
			return
		}
		w.Header().Set("Content-Type", "application/openapi+json")
		w.Write(b)
	})
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		detail := "Endpoint not found. See /openapi.yaml for the API."
		if p := r.URL.Path; !strings.HasPrefix(p, "/v0/") && !strings.HasPrefix(p, "/v0.1/") {
			detail = fmt.Sprintf("Endpoint not found. Did you mean '/v0.1%s' or '/v0%s'? See /openapi.yaml for the API.", p, p)
		}
		problem(w, http.StatusNotFound, detail, nil)
	})
	return s, nil
}

// ServeHTTP serves the API, with CORS on every route (preflights
// included), NUL bytes refused and trailing slashes redirected as the
// official registry does.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Expose-Headers", "Content-Type, Content-Length")
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS")
		if rh := r.Header.Get("Access-Control-Request-Headers"); rh != "" {
			h.Set("Access-Control-Allow-Headers", rh)
		}
		h.Set("Access-Control-Max-Age", "600")
		h.Add("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if strings.ContainsRune(r.URL.Path, 0) || strings.Contains(r.URL.RawPath, "%00") || strings.Contains(r.URL.RawQuery, "%00") || strings.ContainsRune(r.URL.RawQuery, 0) {
		problem(w, http.StatusBadRequest, "Invalid request: URL contains null bytes", nil)
		return
	}
	if p := r.URL.Path; p != "/" && strings.HasSuffix(p, "/") {
		u := url.URL{Path: path.Clean(p), RawQuery: r.URL.RawQuery}
		http.Redirect(w, r, u.String(), http.StatusPermanentRedirect)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// ErrorDetail is one entry of a problem's "errors" (huma's form).
type ErrorDetail struct {
	// Message says what is wrong.
	Message string `json:"message,omitempty"`
	// Location says where: "query.limit", "header.Authorization", "body.packages[0].version".
	Location string `json:"location,omitempty"`
	// Value is the offending value, when there is one.
	Value any `json:"value,omitempty"`
}

// Problem is an error body (RFC 9457 application/problem+json), in the
// form of the official registry's framework (huma).
type Problem struct {
	// Title is the status text ("Unprocessable Entity").
	Title string `json:"title"`
	// Status is the HTTP status.
	Status int `json:"status"`
	// Detail explains the error.
	Detail string `json:"detail,omitempty"`
	// Errors lists the individual problems of a 422.
	Errors []ErrorDetail `json:"errors,omitempty"`
}

func problem(w http.ResponseWriter, status int, detail string, errs []ErrorDetail) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(Problem{Title: http.StatusText(status), Status: status, Detail: detail, Errors: errs})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		problem(w, http.StatusInternalServerError, "encoding the response failed", nil)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

func (s *Server) notImplemented(detail string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { problem(w, http.StatusNotImplemented, detail, nil) }
}

func (s *Server) internal(w http.ResponseWriter, what string, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	s.log.Error("registry: "+what, "err", err)
	problem(w, http.StatusInternalServerError, "Failed to "+what, nil)
}

// bearer returns the request's bearer token, or "".
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "Bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// read guards a read route with the read policy.
func (s *Server) read(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.opts.AnonymousReads && !s.mayRead(bearer(r)) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="mcp-registry"`)
			problem(w, http.StatusUnauthorized, "Reading this registry requires a bearer token", nil)
			return
		}
		h(w, r)
	}
}

func (s *Server) mayRead(tok string) bool {
	if tok == "" {
		return false
	}
	for _, t := range s.opts.ReadTokens {
		if t != "" && subtle.ConstantTimeCompare([]byte(t), []byte(tok)) == 1 {
			return true
		}
	}
	if s.opts.Auth != nil {
		if _, err := s.opts.Auth.Verify(tok); err == nil {
			return true
		}
	}
	return false
}

// pathName returns the (decoded) serverName path value.
func pathValue(r *http.Request, key string) (string, error) {
	v := r.PathValue(key)
	// ServeMux decodes path values; a name may also arrive encoded twice.
	if strings.Contains(v, "%") {
		if d, err := url.PathUnescape(v); err == nil {
			v = d
		}
	}
	return v, nil
}

func validationError(w http.ResponseWriter, errs ...ErrorDetail) {
	problem(w, http.StatusUnprocessableEntity, "validation failed", errs)
}

// queryBool reads a boolean query parameter as huma does.
func queryBool(q url.Values, key string) (val, set bool, bad *ErrorDetail) {
	vs, ok := q[key]
	if !ok || len(vs) == 0 || vs[0] == "" {
		return false, false, nil
	}
	b, err := strconv.ParseBool(vs[0])
	if err != nil {
		return false, true, &ErrorDetail{Message: "invalid boolean", Location: "query." + key, Value: vs[0]}
	}
	return b, true, nil
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	lq := &ListQuery{}
	limit := 30
	var errs []ErrorDetail
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		switch {
		case err != nil:
			errs = append(errs, ErrorDetail{Message: "invalid integer", Location: "query.limit", Value: v})
		case n < 1:
			errs = append(errs, ErrorDetail{Message: "expected number >= 1", Location: "query.limit", Value: n})
		case n > 100:
			errs = append(errs, ErrorDetail{Message: "expected number <= 100", Location: "query.limit", Value: n})
		default:
			limit = n
		}
	}
	inc, incSet, bad := queryBool(q, "include_deleted")
	if bad != nil {
		errs = append(errs, *bad)
	}
	if len(errs) > 0 {
		validationError(w, errs...)
		return
	}
	if v := q.Get("updated_since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			problem(w, http.StatusBadRequest, "Invalid updated_since format: expected RFC3339 timestamp (e.g., 2025-08-07T13:15:04.280Z)", nil)
			return
		}
		lq.UpdatedSince = &t
	}
	if v := q.Get("search"); v != "" {
		if utf8.RuneCountInString(strings.TrimSpace(v)) < 3 {
			problem(w, http.StatusUnprocessableEntity, "search must contain at least 3 characters after trimming surrounding whitespace", nil)
			return
		}
		lq.Search = v
	}
	switch v := q.Get("version"); v {
	case "":
	case "latest":
		lq.Latest = true
	default:
		lq.Version = v
	}
	if lq.UpdatedSince != nil {
		if incSet && !inc {
			problem(w, http.StatusBadRequest, "Cannot set include_deleted=false when using updated_since (incremental sync requires deleted servers)", nil)
			return
		}
		inc = true
	}
	lq.IncludeDeleted = inc
	lq.AfterName, lq.AfterVersion = parseCursor(q.Get("cursor"))
	page, next, err := s.page(r.Context(), lq, limit)
	if err != nil {
		s.internal(w, "get registry list", err)
		return
	}
	writeList(w, page, next)
}

// page reads one page of limit entries, leaving out what curation hides,
// and the cursor of the next page ("" on the last one).
func (s *Server) page(ctx context.Context, lq *ListQuery, limit int) ([]Record, string, error) {
	c := s.opts.Curation
	lq.Approval = c.approvalFilter()
	var out []Record
	for rounds := 0; len(out) <= limit; rounds++ {
		lq.Limit = limit + 1 - len(out)
		if c.Active() && lq.Limit < 32 {
			lq.Limit = 32
		}
		recs, err := s.opts.Store.List(ctx, lq)
		if err != nil {
			return nil, "", err
		}
		for _, r := range recs {
			if c.byPattern(r.Name) == Shown {
				out = append(out, r)
			}
		}
		if len(recs) < lq.Limit || rounds > 1000 {
			break
		}
		last := recs[len(recs)-1]
		lq.AfterName, lq.AfterVersion = last.Name, last.Version
	}
	if len(out) > limit {
		last := out[limit-1]
		return out[:limit], makeCursor(last.Name, last.Version), nil
	}
	return out, "", nil
}

// writeList encodes a list body, the stored documents copied as they are.
func writeList(w http.ResponseWriter, recs []Record, next string) {
	var b bytes.Buffer
	b.Grow(len(recs) * 1024)
	b.WriteString(`{"servers":[`)
	for i := range recs {
		if i > 0 {
			b.WriteByte(',')
		}
		writeRecord(&b, &recs[i])
	}
	b.WriteString(`],"metadata":`)
	m, _ := json.Marshal(ListMetadata{NextCursor: next, Count: len(recs)})
	b.Write(m)
	b.WriteByte('}')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	w.Write(b.Bytes())
}

func writeRecord(b *bytes.Buffer, r *Record) {
	b.WriteString(`{"server":`)
	b.Write(r.Server)
	b.WriteString(`,"_meta":{"` + MetaOfficial + `":`)
	m, _ := json.Marshal(&r.Official)
	b.Write(m)
	b.WriteString(`}}`)
}

func writeOne(w http.ResponseWriter, r *Record) {
	var b bytes.Buffer
	writeRecord(&b, r)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	w.Write(b.Bytes())
}

// refusedByPattern answers the refusal of a name the allow and deny lists
// refuse, before any lookup.
func (s *Server) refusedByPattern(w http.ResponseWriter, name string) bool {
	c := s.opts.Curation
	if c.byPattern(name) == Refused {
		problem(w, c.refusalStatus(), "Server blocked by this registry's policy", nil)
		return true
	}
	return false
}

// shown applies the approval state of a found server; it writes the
// refusal or the 404 and returns false when the server is not shown.
func (s *Server) shown(w http.ResponseWriter, name, approval string) bool {
	c := s.opts.Curation
	var a *Approval
	if approval != "" {
		a = &Approval{Name: name, State: approval}
	}
	switch c.Decide(name, a) {
	case Refused:
		problem(w, c.refusalStatus(), "Server blocked by this registry's policy", nil)
		return false
	case Hidden:
		problem(w, http.StatusNotFound, "Server not found", nil)
		return false
	}
	return true
}

func (s *Server) get(w http.ResponseWriter, r *http.Request) {
	name, _ := pathValue(r, "serverName")
	version, _ := pathValue(r, "version")
	inc, _, bad := queryBool(r.URL.Query(), "include_deleted")
	if bad != nil {
		validationError(w, *bad)
		return
	}
	if s.refusedByPattern(w, name) {
		return
	}
	var rec *Record
	var err error
	if version == "latest" {
		rec, err = s.opts.Store.Latest(r.Context(), name, inc)
	} else {
		rec, err = s.opts.Store.Get(r.Context(), name, version)
		if err == nil && !inc && rec.Official.Status == StatusDeleted {
			err = ErrNotFound
		}
	}
	if errors.Is(err, ErrNotFound) {
		problem(w, http.StatusNotFound, "Server not found", nil)
		return
	}
	if err != nil {
		s.internal(w, "get server details", err)
		return
	}
	if !s.shown(w, name, rec.Approval) {
		return
	}
	writeOne(w, rec)
}

func (s *Server) versions(w http.ResponseWriter, r *http.Request) {
	name, _ := pathValue(r, "serverName")
	inc, _, bad := queryBool(r.URL.Query(), "include_deleted")
	if bad != nil {
		validationError(w, *bad)
		return
	}
	if s.refusedByPattern(w, name) {
		return
	}
	recs, err := s.opts.Store.Versions(r.Context(), name, inc)
	if errors.Is(err, ErrNotFound) {
		problem(w, http.StatusNotFound, "Server not found", nil)
		return
	}
	if err != nil {
		s.internal(w, "get server versions", err)
		return
	}
	if !s.shown(w, name, recs[0].Approval) {
		return
	}
	writeList(w, recs, "")
}

// authorize checks the request's registry token; it writes 401/501 and
// returns nil when there is none valid.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) *Claims {
	if s.opts.Auth == nil {
		problem(w, http.StatusNotImplemented, "Publishing is not supported by this registry", nil)
		return nil
	}
	if _, ok := r.Header["Authorization"]; !ok {
		// The official server requires the header before reading the
		// request: 422, not 401.
		validationError(w, ErrorDetail{Message: "required header parameter is missing", Location: "header.Authorization", Value: ""})
		return nil
	}
	tok := bearer(r)
	if tok == "" {
		problem(w, http.StatusUnauthorized, "Invalid Authorization header format. Expected 'Bearer <token>'", nil)
		return nil
	}
	c, err := s.opts.Auth.Verify(tok)
	if err != nil {
		problem(w, http.StatusUnauthorized, "Invalid or expired Registry JWT token", []ErrorDetail{{Message: err.Error()}})
		return nil
	}
	return c
}

// readDoc reads and validates a server.json request body.
func (s *Server) readDoc(w http.ResponseWriter, r *http.Request, failDetail string) (*ServerJSON, json.RawMessage, bool) {
	max := s.opts.Validate.MaxSize
	if max <= 0 {
		max = DefaultMaxDocumentSize
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(max)+1))
	if err != nil {
		problem(w, http.StatusBadRequest, "Reading the request body failed", nil)
		return nil, nil, false
	}
	if len(body) > max {
		problem(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("server.json larger than %d bytes", max), nil)
		return nil, nil, false
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, body); err != nil {
		problem(w, http.StatusBadRequest, "Request body is not valid JSON", []ErrorDetail{{Message: err.Error(), Location: "body"}})
		return nil, nil, false
	}
	res := Validate(compact.Bytes(), &s.opts.Validate)
	if !res.Valid {
		var errs []ErrorDetail
		for _, i := range res.Issues {
			if i.Severity == SeverityError {
				loc := "body"
				if i.Path != "" {
					loc += "." + i.Path
				}
				errs = append(errs, ErrorDetail{Message: i.Message + " [" + i.Reference + "]", Location: loc})
			}
		}
		problem(w, http.StatusUnprocessableEntity, failDetail, errs)
		return nil, nil, false
	}
	var sj ServerJSON
	if err := json.Unmarshal(compact.Bytes(), &sj); err != nil {
		problem(w, http.StatusUnprocessableEntity, failDetail, []ErrorDetail{{Message: err.Error(), Location: "body"}})
		return nil, nil, false
	}
	return &sj, compact.Bytes(), true
}

func permissionMessage(name string, c *Claims) string {
	var pats []string
	for _, p := range c.Permissions {
		if p.Action == ActionPublish {
			pats = append(pats, p.ResourcePattern)
		}
	}
	msg := "You do not have permission to publish this server"
	if len(pats) > 0 {
		msg += ". You have permission to publish: " + strings.Join(pats, ", ")
	} else {
		msg += ". You do not have any publish permissions"
	}
	return msg + ". Attempting to publish: " + name
}

func (s *Server) publish(w http.ResponseWriter, r *http.Request) {
	c := s.authorize(w, r)
	if c == nil {
		return
	}
	sj, doc, ok := s.readDoc(w, r, "Failed to publish server, invalid schema: call /validate for details")
	if !ok {
		return
	}
	if !c.Can(ActionPublish, sj.Name) {
		problem(w, http.StatusForbidden, permissionMessage(sj.Name, c), nil)
		return
	}
	if s.opts.Curation.byPattern(sj.Name) == Refused {
		problem(w, http.StatusForbidden, "This registry's policy does not accept "+sj.Name, nil)
		return
	}
	rec, err := s.opts.Store.Publish(r.Context(), sj, doc, s.opts.Now())
	if errors.Is(err, ErrDuplicateVersion) || errors.Is(err, ErrTooManyVersions) {
		problem(w, http.StatusBadRequest, "Failed to publish server", []ErrorDetail{{Message: err.Error()}})
		return
	}
	if err != nil {
		s.internal(w, "publish server", err)
		return
	}
	if s.opts.Curation != nil && s.opts.Curation.RequireApproval {
		if a, err := s.opts.Store.Approval(r.Context(), sj.Name); err == nil && a == nil {
			s.opts.Store.SetApproval(r.Context(), Approval{Name: sj.Name, State: ApprovalPending, UpdatedAt: s.opts.Now()})
		}
	}
	writeOne(w, rec)
}

func (s *Server) edit(w http.ResponseWriter, r *http.Request) {
	c := s.authorize(w, r)
	if c == nil {
		return
	}
	name, _ := pathValue(r, "serverName")
	version, _ := pathValue(r, "version")
	sj, doc, ok := s.readDoc(w, r, "Failed to edit server, invalid schema: call /validate for details")
	if !ok {
		return
	}
	if sj.Name != name || sj.Version != version {
		problem(w, http.StatusBadRequest, "The body's name and version must be those of the path", nil)
		return
	}
	if !c.Can(ActionEdit, name) {
		problem(w, http.StatusForbidden, "You do not have edit permissions for this server", nil)
		return
	}
	rec, err := s.opts.Store.Edit(r.Context(), sj, doc, s.opts.Now())
	if errors.Is(err, ErrNotFound) {
		problem(w, http.StatusNotFound, "Server version not found", nil)
		return
	}
	if err != nil {
		s.internal(w, "edit server", err)
		return
	}
	writeOne(w, rec)
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 8<<10))
	if err != nil {
		problem(w, http.StatusBadRequest, "Reading the request body failed", nil)
		return
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		problem(w, http.StatusBadRequest, "Request body is not valid JSON", []ErrorDetail{{Message: err.Error(), Location: "body"}})
		return
	}
	var u StatusUpdate
	var errs []ErrorDetail
	if _, ok := raw["status"]; !ok {
		errs = append(errs, ErrorDetail{Message: "expected required property status to be present", Location: "body"})
	} else if json.Unmarshal(raw["status"], &u.Status) != nil || !u.Status.Valid() {
		errs = append(errs, ErrorDetail{Message: "expected value to be one of \"active, deprecated, deleted\"", Location: "body.status", Value: string(raw["status"])})
	}
	if m, ok := raw["statusMessage"]; ok && string(m) != "null" {
		var msg string
		if json.Unmarshal(m, &msg) != nil {
			errs = append(errs, ErrorDetail{Message: "expected string", Location: "body.statusMessage"})
		} else if utf8.RuneCountInString(msg) > 500 {
			errs = append(errs, ErrorDetail{Message: "expected length <= 500", Location: "body.statusMessage"})
		} else {
			u.StatusMessage = &msg
		}
	}
	if len(errs) > 0 {
		validationError(w, errs...)
		return
	}
	c := s.authorize(w, r)
	if c == nil {
		return
	}
	name, _ := pathValue(r, "serverName")
	version, _ := pathValue(r, "version")
	var current []Record
	if version != "" {
		rec, err := s.opts.Store.Get(r.Context(), name, version)
		if errors.Is(err, ErrNotFound) {
			problem(w, http.StatusNotFound, "Server version not found", nil)
			return
		} else if err != nil {
			s.internal(w, "get server", err)
			return
		}
		current = []Record{*rec}
	} else {
		recs, err := s.opts.Store.Versions(r.Context(), name, true)
		if errors.Is(err, ErrNotFound) {
			problem(w, http.StatusNotFound, "Server not found", nil)
			return
		} else if err != nil {
			s.internal(w, "get server versions", err)
			return
		}
		current = recs
	}
	if !c.Can(ActionPublish, name) && !c.Can(ActionEdit, name) {
		problem(w, http.StatusForbidden, "You do not have publish or edit permissions for this server", nil)
		return
	}
	if u.Status == StatusActive && u.StatusMessage != nil {
		problem(w, http.StatusBadRequest, "status_message cannot be provided when setting status to active", nil)
		return
	}
	changes := false
	for _, rec := range current {
		o := rec.Official
		same := o.Status == u.Status && (o.StatusMessage == nil) == (u.StatusMessage == nil) &&
			(o.StatusMessage == nil || *o.StatusMessage == *u.StatusMessage)
		if !same {
			changes = true
		}
	}
	if !changes {
		if version != "" {
			problem(w, http.StatusBadRequest, "No changes to apply: status and message are already set to the provided values", nil)
		} else {
			problem(w, http.StatusBadRequest, "No changes to apply: all versions already have the requested status and message", nil)
		}
		return
	}
	msg := u.StatusMessage
	if u.Status == StatusActive {
		msg = nil
	}
	recs, err := s.opts.Store.SetStatus(r.Context(), name, version, StatusChange{Status: u.Status, Message: msg}, s.opts.Now())
	if errors.Is(err, ErrNotFound) {
		problem(w, http.StatusNotFound, "Server not found", nil)
		return
	}
	if err != nil {
		s.internal(w, "update server status", err)
		return
	}
	if version != "" {
		writeOne(w, &recs[0])
		return
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"updatedCount":%d,"servers":[`, len(recs))
	for i := range recs {
		if i > 0 {
			b.WriteByte(',')
		}
		writeRecord(&b, &recs[i])
	}
	b.WriteString("]}")
	w.Header().Set("Content-Type", "application/json")
	w.Write(b.Bytes())
}

func (s *Server) validate(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, DefaultMaxDocumentSize*4))
	if err != nil {
		problem(w, http.StatusBadRequest, "Reading the request body failed", nil)
		return
	}
	writeJSON(w, http.StatusOK, Validate(body, &s.opts.Validate))
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	a := s.opts.Auth
	method := r.PathValue("method")
	enabled := a != nil && strings.Contains(","+strings.Join(a.Methods(), ",")+",", ","+method+",")
	if !enabled {
		problem(w, http.StatusNotFound, "Login method "+strconv.Quote(method)+" is not available on this registry", nil)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		problem(w, http.StatusBadRequest, "Reading the request body failed", nil)
		return
	}
	var tr *TokenResponse
	var title string
	switch method {
	case MethodNone:
		tr, err = a.LoginNone()
		title = "Failed to generate token"
	case MethodHTTP, MethodDNS:
		var p KeyProof
		if err := json.Unmarshal(body, &p); err != nil {
			problem(w, http.StatusBadRequest, "Request body is not valid JSON", []ErrorDetail{{Message: err.Error(), Location: "body"}})
			return
		}
		if p.Domain == "" || p.Timestamp == "" || p.SignedTimestamp == "" {
			validationError(w, ErrorDetail{Message: "expected required properties domain, timestamp and signed_timestamp to be present", Location: "body"})
			return
		}
		if method == MethodHTTP {
			tr, err = a.LoginHTTP(r.Context(), p)
			title = "HTTP authentication failed"
		} else {
			tr, err = a.LoginDNS(r.Context(), p)
			title = "DNS authentication failed"
		}
	case MethodOIDC:
		var p struct {
			OIDCToken string `json:"oidc_token"`
		}
		if err := json.Unmarshal(body, &p); err != nil || p.OIDCToken == "" {
			validationError(w, ErrorDetail{Message: "expected required property oidc_token to be present", Location: "body"})
			return
		}
		tr, err = a.LoginOIDC(r.Context(), p.OIDCToken)
		title = "Token exchange failed"
	}
	if err != nil {
		problem(w, http.StatusUnauthorized, title, []ErrorDetail{{Message: err.Error()}})
		return
	}
	writeJSON(w, http.StatusOK, tr)
}
