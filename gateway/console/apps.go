package console

import (
	"context"
	"embed"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/switchboard-mcp/switchboard/apps"
	"github.com/switchboard-mcp/switchboard/gateway"
)

// MCP Apps in the console: the playground is a host (static/apps.js). A
// web host must show a view through a sandbox proxy on another origin;
// Sandbox serves that proxy, on the second listener of "switchboard serve"
// (--apps-addr). The proxy page carries the view's Content-Security-Policy
// as an HTTP header, built here from the domains the view declares
// (apps.Policy: never looser than the spec's default), so the view, which
// the proxy loads into a frame of its own origin, cannot escape it.

//go:embed sandbox
var sandboxFS embed.FS

// Paths of the sandbox listener.
const (
	PathSandbox   = "/sandbox"
	PathSandboxJS = "/sandbox.js"
)

// SandboxOptions configure the sandbox proxy.
type SandboxOptions struct {
	// HostOrigins are the origins allowed to frame the sandbox (the
	// console's), besides any loopback origin (http://127.0.0.1:…,
	// http://localhost:…, http://[::1]:…), which is always allowed.
	HostOrigins []string
	// Logger records the policy of each view the sandbox serves (the
	// spec's audit trail). Nil discards.
	Logger *slog.Logger
}

// Sandbox returns the handler of the sandbox proxy: GET /sandbox?host=
// ORIGIN&csp=JSON serves the proxy page with the Content-Security-Policy
// of a view that declares csp (apps.CSP as JSON; absent: the spec's
// default), framable by host only; GET /sandbox.js its script. Serve it
// on an origin other than the console's.
func Sandbox(opts SandboxOptions) http.Handler {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	page, _ := sandboxFS.ReadFile("sandbox/sandbox.html")
	script, _ := sandboxFS.ReadFile("sandbox/sandbox.js")
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PathSandbox, func(w http.ResponseWriter, r *http.Request) {
		host := r.URL.Query().Get("host")
		if !allowedHost(host, opts.HostOrigins) {
			http.Error(w, "the sandbox serves the Switchboard console only: host must be its origin (a loopback origin, or one given to the gateway)", http.StatusForbidden)
			return
		}
		var csp *apps.CSP
		if s := r.URL.Query().Get("csp"); s != "" {
			csp = new(apps.CSP)
			if err := json.Unmarshal([]byte(s), csp); err != nil {
				http.Error(w, "csp: not a JSON object of domain lists: "+err.Error(), http.StatusBadRequest)
				return
			}
		}
		policy, dropped := apps.Policy(csp)
		policy += "; frame-ancestors " + host
		log.Info("app sandbox", "host", host, "policy", policy, "dropped", dropped)
		h := w.Header()
		h.Set("Content-Security-Policy", policy)
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		w.Write(page)
	})
	mux.HandleFunc("GET "+PathSandboxJS, func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/javascript; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Content-Type-Options", "nosniff")
		w.Write(script)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "this listener serves the console's MCP Apps sandbox only ("+PathSandbox+")", http.StatusNotFound)
	})
	return mux
}

// allowedHost reports whether origin may frame the sandbox: an http(s)
// origin (no path) on a loopback host, or one of extra.
func allowedHost(origin string, extra []string) bool {
	for _, o := range extra {
		if strings.EqualFold(strings.TrimSuffix(o, "/"), origin) {
			return true
		}
	}
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.User != nil || u.Fragment != "" {
		return false
	}
	if strings.ContainsAny(origin, " ;,'\"") {
		return false
	}
	return loopbackHost(u.Host)
}

// SandboxOrigin returns the origin of a sandbox listening on addr
// (http://HOST:PORT).
func SandboxOrigin(addr net.Addr) string {
	return "http://" + addr.String()
}

// appsCache keeps each upstream's last apps check for a short while: the
// detail page asks for it at every visit.
type appsCache struct {
	mu      sync.Mutex
	entries map[string]appsEntry
}

type appsEntry struct {
	at       time.Time
	restarts int
	state    gateway.State
	report   *apps.Report
	err      string
}

const appsCacheTTL = 15 * time.Second

// AppsCheck is the MCP Apps part of an upstream's detail.
type AppsCheck struct {
	*apps.Report
	// Error says why the check could not run (the upstream is not
	// connected, ...).
	Error string `json:"error,omitempty"`
}

// check returns the apps report of an upstream, from the cache when it is
// fresh and the upstream has not changed.
func (c *appsCache) check(ctx context.Context, g *gateway.Gateway, d gateway.UpstreamDetail) *AppsCheck {
	c.mu.Lock()
	e, ok := c.entries[d.Name]
	c.mu.Unlock()
	if ok && time.Since(e.at) < appsCacheTTL && e.restarts == d.Restarts && e.state == d.State {
		return &AppsCheck{Report: e.report, Error: e.err}
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	rep, err := g.CheckApps(ctx, d.Name)
	e = appsEntry{at: time.Now(), restarts: d.Restarts, state: d.State, report: rep}
	if err != nil {
		e.err = err.Error()
		if errors.Is(err, gateway.ErrNotConnected) {
			e.err = "the upstream is not connected"
		}
	}
	c.mu.Lock()
	if c.entries == nil {
		c.entries = map[string]appsEntry{}
	}
	c.entries[d.Name] = e
	c.mu.Unlock()
	return &AppsCheck{Report: e.report, Error: e.err}
}

// upstreamWithApps is the answer of GET /api/upstreams/{name}.
type upstreamWithApps struct {
	gateway.UpstreamDetail
	// Apps is the check of the upstream's MCP Apps (absent when it
	// declares none).
	Apps *AppsCheck `json:"apps,omitempty"`
}

// declaresApps reports whether the detail shows an app: a tool with
// _meta.ui (or the flat key), or a ui:// resource.
func declaresApps(d gateway.UpstreamDetail) bool {
	for _, t := range d.Tools {
		if _, ok := t.Tool.Meta[apps.MetaUI]; ok {
			return true
		}
		if _, ok := t.Tool.Meta[apps.MetaResourceURIFlat]; ok {
			return true
		}
	}
	for _, r := range d.Resources {
		if strings.HasPrefix(r.Original, apps.Scheme) {
			return true
		}
	}
	return false
}

// policy answers GET /api/apps/policy?csp=JSON: the Content-Security-
// Policy the sandbox applies to a view that declares csp, and the entries
// it leaves out.
func (a *Admin) policy(w http.ResponseWriter, r *http.Request) {
	var csp *apps.CSP
	if s := r.URL.Query().Get("csp"); s != "" {
		csp = new(apps.CSP)
		if err := json.Unmarshal([]byte(s), csp); err != nil {
			writeError(w, http.StatusBadRequest, "bad_request", "csp: "+err.Error())
			return
		}
	}
	policy, dropped := apps.Policy(csp)
	if dropped == nil {
		dropped = []string{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"policy": policy, "dropped": dropped, "default": csp == nil})
}

// exposedURI answers GET /api/upstreams/{name}/exposed-uri?uri=URI: the
// URI under which the gateway exposes the upstream's own URI.
func (a *Admin) exposedURI(w http.ResponseWriter, r *http.Request) {
	uri := r.URL.Query().Get("uri")
	if uri == "" {
		writeError(w, http.StatusBadRequest, "bad_request", "uri is required")
		return
	}
	e, ok := a.g.ExposedURI(r.PathValue("name"), uri)
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", "no upstream named "+r.PathValue("name"))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"uri": e})
}
