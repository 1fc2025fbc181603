package gateway

import (
	"sort"
	"time"

	"github.com/switchboard-mcp/switchboard/protocol"
)

// SessionInfo describes a client session of the gateway.
type SessionInfo struct {
	// ID is the transport's session id ("" on stdio).
	ID string `json:"id"`
	// Client is the client's self-description from initialize.
	Client protocol.Implementation `json:"client"`
	// ProtocolVersion is the negotiated revision.
	ProtocolVersion string `json:"protocolVersion"`
	// Started is when the session began.
	Started time.Time `json:"started"`
	// InFlight counts the relayed calls of the session in flight.
	InFlight int64 `json:"inFlight"`
	// Server names the virtual server the session is connected to (""
	// for the gateway's main endpoint).
	Server string `json:"server,omitempty"`
	// Subject and Tenant are who the session's first request came from
	// (Hooks.Identify), when known.
	Subject string `json:"subject,omitempty"`
	Tenant  string `json:"tenant,omitempty"`
}

// Sessions reports the client sessions, oldest first. Clients of revision
// 2026-07-28 have no session and do not appear.
func (g *Gateway) Sessions() []SessionInfo {
	var out []SessionInfo
	for server, ss := range g.allSessions() {
		fs := g.frontSession(ss)
		si := SessionInfo{
			ID:              ss.ID(),
			Client:          ss.ClientInfo(),
			ProtocolVersion: ss.ProtocolVersion(),
			Started:         fs.started,
			InFlight:        fs.inflight.Load(),
			Server:          server,
		}
		if id := fs.identity(); id != nil {
			si.Subject, si.Tenant = id.Subject, id.Tenant
		}
		out = append(out, si)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Started.Equal(out[j].Started) {
			return out[i].Started.Before(out[j].Started)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// ExposedTool is a tool of an upstream as the gateway exposes it.
type ExposedTool struct {
	// Name is the exposed name; Original the upstream's own.
	Name     string        `json:"name"`
	Original string        `json:"original"`
	Tool     protocol.Tool `json:"tool"`
}

// ExposedPrompt is a prompt of an upstream as the gateway exposes it.
type ExposedPrompt struct {
	Name     string          `json:"name"`
	Original string          `json:"original"`
	Prompt   protocol.Prompt `json:"prompt"`
}

// ExposedResource is a resource of an upstream as the gateway exposes it.
type ExposedResource struct {
	// URI is the exposed URI; Original the upstream's own.
	URI      string            `json:"uri"`
	Original string            `json:"original"`
	Resource protocol.Resource `json:"resource"`
}

// ExposedTemplate is a resource template of an upstream as the gateway
// exposes it.
type ExposedTemplate struct {
	URITemplate string                    `json:"uriTemplate"`
	Original    string                    `json:"original"`
	Template    protocol.ResourceTemplate `json:"template"`
}

// UpstreamDetail is an upstream's status and everything the gateway
// exposes of it.
type UpstreamDetail struct {
	UpstreamStatus
	Instructions string            `json:"instructions,omitempty"`
	Tools        []ExposedTool     `json:"tools"`
	Prompts      []ExposedPrompt   `json:"prompts"`
	Resources    []ExposedResource `json:"resources"`
	Templates    []ExposedTemplate `json:"resourceTemplates"`
	// Collisions are the names of this upstream's features that another
	// upstream claims too (not exposed).
	Collisions []Collision `json:"collisions,omitempty"`
}

// Upstream reports one upstream in detail.
func (g *Gateway) Upstream(name string) (UpstreamDetail, bool) {
	st, collisions := g.Status()
	var d UpstreamDetail
	found := false
	for _, s := range st {
		if s.Name == name {
			d.UpstreamStatus, found = s, true
		}
	}
	if !found {
		return d, false
	}
	g.mu.Lock()
	u := g.upstreams[name]
	g.mu.Unlock()
	if u != nil {
		u.mu.Lock()
		d.Instructions = u.lists.instructions
		u.mu.Unlock()
	}
	c := g.cat.Load()
	d.Tools, d.Prompts, d.Resources, d.Templates = []ExposedTool{}, []ExposedPrompt{}, []ExposedResource{}, []ExposedTemplate{}
	for n, e := range c.tools {
		if e.u == u {
			d.Tools = append(d.Tools, ExposedTool{Name: n, Original: e.orig, Tool: e.tool})
		}
	}
	for n, e := range c.prompts {
		if e.u == u {
			d.Prompts = append(d.Prompts, ExposedPrompt{Name: n, Original: e.orig, Prompt: e.prompt})
		}
	}
	for uri, e := range c.resources {
		if e.u == u {
			d.Resources = append(d.Resources, ExposedResource{URI: uri, Original: e.orig, Resource: e.res})
		}
	}
	for text, e := range c.templates {
		if e.u == u {
			d.Templates = append(d.Templates, ExposedTemplate{URITemplate: text, Original: e.orig, Template: e.tmpl})
		}
	}
	sort.Slice(d.Tools, func(i, j int) bool { return d.Tools[i].Name < d.Tools[j].Name })
	sort.Slice(d.Prompts, func(i, j int) bool { return d.Prompts[i].Name < d.Prompts[j].Name })
	sort.Slice(d.Resources, func(i, j int) bool { return d.Resources[i].URI < d.Resources[j].URI })
	sort.Slice(d.Templates, func(i, j int) bool { return d.Templates[i].URITemplate < d.Templates[j].URITemplate })
	for _, col := range collisions {
		for _, o := range col.Upstreams {
			if o == name {
				d.Collisions = append(d.Collisions, col)
			}
		}
	}
	return d, true
}
