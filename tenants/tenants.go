// Package tenants isolates the organizations that share a gateway. A
// tenant has its upstreams — its own (servers configured with its
// credentials) and its share of common ones — and its identities
// (gateway.Identity.Tenant) see and use those only: Tenants.Authorize,
// the gateway's Hooks.Authorize, hides every other upstream's tools,
// prompts and resources, refuses their use, and keeps other upstreams'
// log messages from the tenant's sessions. Identities without a tenant
// see only the upstreams that belong to no tenant.
//
// Each tenant has its own audit stream (Audit, a gateway observer that
// files each event under its tenant, with EventFilter as the hook for a
// durable audit store) and may read its own sessions and audit at
// /api/tenants/NAME/ with its admin token (Handler); a tenant's token
// opens no other tenant's.
package tenants

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/switchboard-mcp/switchboard/gateway"
)

// Rule is the rule name of the gateway denials across tenants.
const Rule = "tenant-isolation"

// Tenant is one tenant.
type Tenant struct {
	// Name is what identities carry in Identity.Tenant.
	Name string
	// Upstreams are the upstreams the tenant may use.
	Upstreams []string
	// AdminToken opens the tenant's own admin routes (Handler).
	AdminToken string
}

// Tenants is a set of tenants. It is immutable and safe for concurrent
// use.
type Tenants struct {
	byName map[string]*Tenant
	owned  map[string]bool // upstreams that belong to some tenant
}

// New returns the set of ts.
func New(ts []Tenant) (*Tenants, error) {
	s := &Tenants{byName: map[string]*Tenant{}, owned: map[string]bool{}}
	for _, t := range ts {
		if t.Name == "" {
			return nil, fmt.Errorf("tenants: a tenant has no name")
		}
		if _, dup := s.byName[t.Name]; dup {
			return nil, fmt.Errorf("tenants: two tenants are named %q", t.Name)
		}
		t := t
		s.byName[t.Name] = &t
		for _, u := range t.Upstreams {
			s.owned[u] = true
		}
	}
	return s, nil
}

// Names returns the tenants' names, sorted.
func (s *Tenants) Names() []string {
	out := make([]string, 0, len(s.byName))
	for n := range s.byName {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// May reports whether identities of tenant ("" for none) may use
// upstream.
func (s *Tenants) May(tenant, upstream string) bool {
	if tenant == "" {
		return !s.owned[upstream]
	}
	t, ok := s.byName[tenant]
	return ok && slices.Contains(t.Upstreams, upstream)
}

// Owners returns the tenants that may use upstream.
func (s *Tenants) Owners(upstream string) []string {
	var out []string
	for _, n := range s.Names() {
		if slices.Contains(s.byName[n].Upstreams, upstream) {
			out = append(out, n)
		}
	}
	return out
}

// Authorize is the gateway's Hooks.Authorize for tenants: a feature of
// an upstream the caller's tenant may not use is hidden and refused.
func (s *Tenants) Authorize(_ context.Context, a *gateway.Access) error {
	tenant := ""
	if a.Identity != nil {
		tenant = a.Identity.Tenant
	}
	if tenant != "" {
		if _, ok := s.byName[tenant]; !ok {
			return &gateway.Denial{Rule: Rule, Reason: fmt.Sprintf("tenant %q is not configured", tenant)}
		}
	}
	if a.Upstream == "" || s.May(tenant, a.Upstream) {
		return nil
	}
	who := "callers without a tenant"
	if tenant != "" {
		who = fmt.Sprintf("tenant %q", tenant)
	}
	return &gateway.Denial{Rule: Rule, Reason: fmt.Sprintf("%s may not use upstream %q", who, a.Upstream)}
}

// EventFilter returns whether an event belongs to tenant's audit stream:
// its requests, and the notices about upstreams it may use. An audit store
// filters by it (or by Event.Tenant) before it shows a tenant its events.
func (s *Tenants) EventFilter(tenant string) func(*gateway.Event) bool {
	return func(e *gateway.Event) bool {
		if e.Kind == gateway.KindNotice {
			return e.Upstream != "" && s.May(tenant, e.Upstream)
		}
		return e.Tenant == tenant
	}
}

// Audit keeps each tenant's recent events (the "" tenant for callers
// without one): a gateway observer (Hooks.Observe).
type Audit struct {
	t   *Tenants
	max int

	mu     sync.Mutex
	events map[string][]*gateway.Event
}

// NewAudit returns an Audit keeping the last max events of each tenant
// (0: 1000).
func NewAudit(t *Tenants, max int) *Audit {
	if max <= 0 {
		max = 1000
	}
	return &Audit{t: t, max: max, events: map[string][]*gateway.Event{}}
}

// Observe files e under its tenant; a notice goes to every tenant that
// may use its upstream.
func (au *Audit) Observe(_ context.Context, e *gateway.Event) {
	var to []string
	if e.Kind == gateway.KindNotice {
		to = au.t.Owners(e.Upstream)
		if !au.t.owned[e.Upstream] {
			to = append(to, "")
		}
	} else {
		to = []string{e.Tenant}
	}
	au.mu.Lock()
	defer au.mu.Unlock()
	for _, t := range to {
		l := append(au.events[t], e)
		if len(l) > au.max {
			l = l[len(l)-au.max:]
		}
		au.events[t] = l
	}
}

// Events returns tenant's events, oldest first.
func (au *Audit) Events(tenant string) []*gateway.Event {
	au.mu.Lock()
	defer au.mu.Unlock()
	return slices.Clone(au.events[tenant])
}

// PathAPI is the prefix of the tenants' admin routes.
const PathAPI = "/api/tenants/"

// Handler serves each tenant's own admin routes, with the tenant's admin
// token (Authorization: Bearer):
//
//	GET /api/tenants/NAME/sessions  the tenant's client sessions
//	GET /api/tenants/NAME/audit     the tenant's recent events (?limit=N)
//
// A token of another tenant gets 403, no token or a wrong one 401.
func Handler(g *gateway.Gateway, s *Tenants, au *Audit) http.Handler {
	mux := http.NewServeMux()
	check := func(w http.ResponseWriter, r *http.Request) (string, bool) {
		name := r.PathValue("tenant")
		got, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		w.Header().Set("Cache-Control", "no-store")
		owner := ""
		for _, n := range s.Names() {
			if tok := s.byName[n].AdminToken; tok != "" && got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(tok)) == 1 {
				owner = n
			}
		}
		switch {
		case owner == "":
			w.Header().Set("WWW-Authenticate", `Bearer realm="switchboard-tenant"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthorized", "message": "a tenant admin token is required: Authorization: Bearer TOKEN"})
			return "", false
		case owner != name:
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "forbidden", "message": fmt.Sprintf("this token is tenant %q's; it does not open tenant %q", owner, name)})
			return "", false
		}
		return name, true
	}
	mux.HandleFunc("GET "+PathAPI+"{tenant}/sessions", func(w http.ResponseWriter, r *http.Request) {
		name, ok := check(w, r)
		if !ok {
			return
		}
		out := []gateway.SessionInfo{}
		for _, si := range g.Sessions() {
			if si.Tenant == name {
				out = append(out, si)
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{"sessions": out})
	})
	mux.HandleFunc("GET "+PathAPI+"{tenant}/audit", func(w http.ResponseWriter, r *http.Request) {
		name, ok := check(w, r)
		if !ok {
			return
		}
		evs := au.Events(name)
		if n, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && n > 0 && n < len(evs) {
			evs = evs[len(evs)-n:]
		}
		keep := s.EventFilter(name)
		out := []auditRecord{}
		for _, e := range evs {
			if keep(e) {
				out = append(out, recordOf(e))
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{"events": out})
	})
	return mux
}

// auditRecord is an event as the tenant audit route shows it.
type auditRecord struct {
	Kind     gateway.EventKind `json:"kind"`
	Time     string            `json:"time"`
	Method   string            `json:"method"`
	Server   string            `json:"server,omitempty"`
	Upstream string            `json:"upstream,omitempty"`
	Name     string            `json:"name,omitempty"`
	Original string            `json:"original,omitempty"`
	Session  string            `json:"session,omitempty"`
	Subject  string            `json:"subject,omitempty"`
	Tenant   string            `json:"tenant,omitempty"`
	Outcome  gateway.Outcome   `json:"outcome"`
	Denial   *gateway.Denial   `json:"denial,omitempty"`
	Limited  *gateway.Limited  `json:"limited,omitempty"`
	Notice   *gateway.Notice   `json:"notice,omitempty"`
	Duration float64           `json:"durationMs"`
}

func recordOf(e *gateway.Event) auditRecord {
	r := auditRecord{Kind: e.Kind, Time: e.Time.UTC().Format("2006-01-02T15:04:05.000Z07:00"), Method: e.Method, Server: e.VirtualServer,
		Upstream: e.Upstream, Name: e.Name, Original: e.Original, Session: e.Session, Tenant: e.Tenant, Outcome: e.Outcome,
		Denial: e.Denial, Limited: e.Limited, Notice: e.Notice, Duration: float64(e.Duration.Microseconds()) / 1000}
	if e.Identity != nil {
		r.Subject = e.Identity.Subject
	}
	return r
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
