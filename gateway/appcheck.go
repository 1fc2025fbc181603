package gateway

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/apps"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
)

// ErrNotConnected is CheckApps' error for an upstream without a live
// session.
var ErrNotConnected = errors.New("the upstream is not connected")

// CheckApps validates the MCP Apps an upstream declares, in its own names:
// the static rules of the official validator (apps.ValidateSource,
// APP-001 to APP-009 and APP-011) over the tools and resources it last
// listed, reading each ui:// resource a tool references once over its
// shared session. It is the gateway's health check of an upstream's apps;
// it calls no tool. The console reports it with the upstream's detail.
func (g *Gateway) CheckApps(ctx context.Context, name string) (*apps.Report, error) {
	g.mu.Lock()
	u := g.upstreams[name]
	g.mu.Unlock()
	if u == nil {
		return nil, fmt.Errorf("no upstream named %q", name)
	}
	u.mu.Lock()
	cs, lists := u.cs, u.lists
	u.mu.Unlock()
	if cs == nil {
		return nil, ErrNotConnected
	}
	return apps.ValidateSource(ctx, upstreamSource{cs: cs, lists: lists})
}

// upstreamSource is what CheckApps validates: an upstream's last lists
// and its shared session for reads.
type upstreamSource struct {
	cs    *mcp.ClientSession
	lists upstreamLists
}

func (s upstreamSource) Tools(context.Context) ([]protocol.Tool, error) {
	return slices.Clone(s.lists.tools), nil
}

func (s upstreamSource) Resources(context.Context) ([]protocol.Resource, error) {
	return slices.Clone(s.lists.resources), nil
}

func (s upstreamSource) Read(ctx context.Context, uri string) (jsontext.Value, error) {
	var raw jsontext.Value
	err := s.cs.Call(ctx, protocol.MethodResourcesRead, map[string]any{"uri": uri}, &raw)
	return raw, err
}

// ExposedURI returns the URI under which the gateway exposes uri of the
// named upstream (rewritten when several upstreams are enabled, for ui://
// URIs, or when another upstream lists the same URI; see RewriteURI). A
// host that renders an app of that upstream maps through it the ui:// URIs
// the app's view asks for in its own server's names.
func (g *Gateway) ExposedURI(upstream, uri string) (string, bool) {
	g.mu.Lock()
	u := g.upstreams[upstream]
	g.mu.Unlock()
	if u == nil {
		return "", false
	}
	return g.cat.Load().exposeURI(u, uri), true
}
