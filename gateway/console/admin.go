// Package console serves the gateway's admin API (JSON under /api/) and
// its web console (/ui/), embedded in the binary.
//
// The admin API reports the upstreams with their health and everything
// they offer, the live client sessions and the gateway's recent logs
// (streamed), and acts on the gateway: enable, disable or restart an
// upstream, reload the configuration. See docs/console.md.
//
// Access: with no token configured, the API answers only requests that
// come from a loopback address and name a loopback host (so that a web
// page elsewhere cannot reach it through DNS rebinding); with a token,
// every request must carry it as a bearer token. Every state-changing
// route takes POST with a JSON body type, and refuses a browser request
// whose Origin is not the API's own (CSRF).
package console

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/switchboard-mcp/switchboard/gateway"
)

// Options configure the admin API and the console.
type Options struct {
	// Token, if set, is required of every API request as
	// "Authorization: Bearer TOKEN", from any address. Empty means the API
	// answers loopback requests only.
	Token string
	// Authorize, if set, is asked first: a request it accepts is served
	// whatever its address (for example one carrying an OAuth access
	// token with an admin scope).
	Authorize func(*http.Request) bool
	// Reload reloads the configuration file; nil when the gateway runs
	// without one (the route then answers 409).
	Reload func() error
	// Logs, if set, holds the gateway's recent logs.
	Logs *LogBuffer
	// Version is reported by /api/status.
	Version string
	// Routes are more routes of the admin API (patterns of
	// http.ServeMux under /api/), served behind the same access checks:
	// governance adds the tool approvals there.
	Routes map[string]http.Handler
	// AppsSandbox is the URL of the sandbox proxy (Sandbox, served on
	// another origin than the console's) through which the playground
	// renders MCP Apps; empty: the console does not render apps.
	AppsSandbox string
}

// Paths of the console.
const (
	PathAPI = "/api/"
	PathUI  = "/ui/"
)

// Admin serves the admin API of a gateway.
type Admin struct {
	g       *gateway.Gateway
	opts    Options
	mux     *http.ServeMux
	started time.Time
	apps    appsCache
}

// NewAdmin returns the admin API of g.
func NewAdmin(g *gateway.Gateway, opts Options) *Admin {
	a := &Admin{g: g, opts: opts, mux: http.NewServeMux(), started: time.Now()}
	a.mux.HandleFunc("GET /api/status", a.status)
	a.mux.HandleFunc("GET /api/upstreams", a.upstreams)
	a.mux.HandleFunc("GET /api/upstreams/{name}", a.upstream)
	a.mux.HandleFunc("GET /api/upstreams/{name}/exposed-uri", a.exposedURI)
	a.mux.HandleFunc("POST /api/upstreams/{name}/{action}", a.act)
	a.mux.HandleFunc("GET /api/apps/policy", a.policy)
	a.mux.HandleFunc("POST /api/reload", a.reload)
	a.mux.HandleFunc("GET /api/sessions", a.sessions)
	a.mux.HandleFunc("GET /api/logs", a.logs)
	a.mux.HandleFunc("GET /api/logs/stream", a.logStream)
	for pattern, h := range opts.Routes {
		a.mux.Handle(pattern, h)
	}
	a.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no route %s %s", r.Method, r.URL.Path))
	})
	return a
}

// Mount adds the admin API (/api/) and the console (/ui/, and / redirecting
// to it) to mux.
func (a *Admin) Mount(mux *http.ServeMux) {
	mux.Handle(PathAPI, a)
	ui := a.UI()
	mux.Handle(PathUI, ui)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, PathUI, http.StatusFound)
	})
}

// ServeHTTP serves the admin API.
func (a *Admin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if code, msg := a.allowed(r); code != 0 {
		if code == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="switchboard-admin"`)
		}
		writeError(w, code, "forbidden", msg)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		if code, msg := checkCSRF(r); code != 0 {
			writeError(w, code, "csrf", msg)
			return
		}
	}
	a.mux.ServeHTTP(w, r)
}

// allowed decides whether r may use the API: 0 when it may, else the
// status and the reason.
func (a *Admin) allowed(r *http.Request) (int, string) {
	if a.opts.Authorize != nil && a.opts.Authorize(r) {
		return 0, ""
	}
	if a.opts.Token != "" {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(a.opts.Token)) != 1 {
			return http.StatusUnauthorized, "the admin API needs the admin token: Authorization: Bearer TOKEN"
		}
		return 0, ""
	}
	if !loopbackAddr(r.RemoteAddr) || !loopbackHost(r.Host) {
		return http.StatusForbidden, "the admin API answers loopback requests only; set an admin token (serve --admin-token or SWITCHBOARD_ADMIN_TOKEN) to reach it from elsewhere"
	}
	return 0, ""
}

// checkCSRF refuses state-changing requests a web page of another origin
// could make: the body must be JSON (a cross-origin form cannot send that
// type without a preflight), and an Origin header, which browsers send,
// must be the request's own.
func checkCSRF(r *http.Request) (int, string) {
	ct := r.Header.Get("Content-Type")
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	if !strings.EqualFold(strings.TrimSpace(ct), "application/json") {
		return http.StatusUnsupportedMediaType, "state-changing requests need Content-Type: application/json"
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return 0, ""
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || !strings.EqualFold(u.Host, r.Host) {
		return http.StatusForbidden, fmt.Sprintf("Origin %q is not this server's", origin)
	}
	return 0, ""
}

func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// apiError is the body of every error answer.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	var e apiError
	e.Error.Code, e.Error.Message = code, msg
	writeJSON(w, status, e)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v, json.Deterministic(true))
	if err != nil {
		http.Error(w, `{"error":{"code":"internal","message":"encoding the answer failed"}}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
	w.Write([]byte("\n"))
}

// Status is the answer of GET /api/status.
type Status struct {
	Name       string                   `json:"name"`
	Version    string                   `json:"version"`
	Started    time.Time                `json:"started"`
	Ready      bool                     `json:"ready"`
	Sessions   int                      `json:"sessions"`
	Upstreams  []gateway.UpstreamStatus `json:"upstreams"`
	Collisions []gateway.Collision      `json:"collisions"`
	Reloadable bool                     `json:"reloadable"`
	// AppsSandbox is the URL of the sandbox proxy of MCP Apps ("" when the
	// console renders none).
	AppsSandbox string `json:"appsSandbox"`
}

func (a *Admin) status(w http.ResponseWriter, r *http.Request) {
	ups, collisions := a.g.Status()
	if ups == nil {
		ups = []gateway.UpstreamStatus{}
	}
	if collisions == nil {
		collisions = []gateway.Collision{}
	}
	writeJSON(w, http.StatusOK, Status{
		Name: a.g.Server().Implementation().Name, Version: a.opts.Version, Started: a.started,
		Ready: a.g.Ready(), Sessions: len(a.g.Sessions()), Upstreams: ups, Collisions: collisions,
		Reloadable: a.opts.Reload != nil, AppsSandbox: a.opts.AppsSandbox,
	})
}

func (a *Admin) upstreams(w http.ResponseWriter, r *http.Request) {
	ups, _ := a.g.Status()
	if ups == nil {
		ups = []gateway.UpstreamStatus{}
	}
	writeJSON(w, http.StatusOK, ups)
}

func (a *Admin) upstream(w http.ResponseWriter, r *http.Request) {
	d, ok := a.g.Upstream(r.PathValue("name"))
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no upstream named %q", r.PathValue("name")))
		return
	}
	out := upstreamWithApps{UpstreamDetail: d}
	if declaresApps(d) {
		out.Apps = a.apps.check(r.Context(), a.g, d)
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *Admin) act(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if _, ok := a.g.Upstream(name); !ok {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no upstream named %q", name))
		return
	}
	var err error
	switch action := r.PathValue("action"); action {
	case "enable":
		err = a.g.SetEnabled(name, true)
	case "disable":
		err = a.g.SetEnabled(name, false)
	case "restart":
		err = a.g.Restart(name)
	default:
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("unknown action %q (enable, disable or restart)", action))
		return
	}
	if err != nil {
		writeError(w, http.StatusConflict, "failed", err.Error())
		return
	}
	d, _ := a.g.Upstream(name)
	writeJSON(w, http.StatusOK, d.UpstreamStatus)
}

func (a *Admin) reload(w http.ResponseWriter, r *http.Request) {
	if a.opts.Reload == nil {
		writeError(w, http.StatusConflict, "no_config", "the gateway runs without a configuration file: there is nothing to reload")
		return
	}
	if err := a.opts.Reload(); err != nil {
		writeError(w, http.StatusUnprocessableEntity, "invalid_config", err.Error())
		return
	}
	ups, _ := a.g.Status()
	writeJSON(w, http.StatusOK, ups)
}

func (a *Admin) sessions(w http.ResponseWriter, r *http.Request) {
	s := a.g.Sessions()
	if s == nil {
		s = []gateway.SessionInfo{}
	}
	writeJSON(w, http.StatusOK, s)
}

func (a *Admin) logs(w http.ResponseWriter, r *http.Request) {
	if a.opts.Logs == nil {
		writeJSON(w, http.StatusOK, []LogRecord{})
		return
	}
	since, err := parseSince(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, a.opts.Logs.Since(since))
}

func parseSince(r *http.Request) (int64, error) {
	s := r.URL.Query().Get("since")
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, errors.New("since must be a non-negative record number")
	}
	return n, nil
}

// logStream streams log records as Server-Sent Events: the kept records
// after ?since=N first, then new ones as they come, each event's id its
// sequence number.
func (a *Admin) logStream(w http.ResponseWriter, r *http.Request) {
	if a.opts.Logs == nil {
		writeError(w, http.StatusNotFound, "no_logs", "the gateway keeps no logs for the console")
		return
	}
	since, err := parseSince(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		if n, err := strconv.ParseInt(id, 10, 64); err == nil && n > since {
			since = n
		}
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	live := a.opts.Logs.Watch(ctx)
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	send := func(rec LogRecord) bool {
		if rec.Seq <= since {
			return true
		}
		since = rec.Seq
		b, _ := json.Marshal(rec)
		_ = rc.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if _, err := fmt.Fprintf(w, "id: %d\ndata: %s\n\n", rec.Seq, b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	for _, rec := range a.opts.Logs.Since(since) {
		if !send(rec) {
			return
		}
	}
	_ = rc.Flush()
	keep := time.NewTicker(25 * time.Second)
	defer keep.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case rec, ok := <-live:
			if !ok || !send(rec) {
				return
			}
		case <-keep.C:
			_ = rc.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if _, err := w.Write([]byte(": keep-alive\n\n")); err != nil || rc.Flush() != nil {
				return
			}
		}
	}
}
