package mcp

import (
	"context"
	"fmt"

	"github.com/go-json-experiment/json"
	"github.com/yosida95/uritemplate/v3"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/protocol"
)

// ResourceHandler reads a resource. For a resource template, vars holds the
// values of the template's variables matched in the requested URI; it is
// nil for a static resource.
type ResourceHandler func(ctx context.Context, req *Request, uri string, vars map[string]string) (*protocol.ReadResourceResult, error)

type serverResource struct {
	resource *protocol.Resource
	handler  ResourceHandler
}

type serverTemplate struct {
	template *protocol.ResourceTemplate
	compiled *uritemplate.Template
	handler  ResourceHandler
}

// AddResource registers a resource with a fixed URI, replacing any of the
// same URI. It panics if the resource has no URI or no name.
func (s *Server) AddResource(r *protocol.Resource, h ResourceHandler) {
	if r.URI == "" || r.Name == "" {
		panic("mcp: a resource needs a uri and a name")
	}
	res := *r
	s.mu.Lock()
	s.resources.add(res.URI, &serverResource{resource: &res, handler: h})
	s.mu.Unlock()
	s.resourcesChanged()
}

// AddResourceTemplate registers a family of resources whose URIs match an
// RFC 6570 URI template, replacing any template with the same text. It
// panics if the template does not parse.
func (s *Server) AddResourceTemplate(t *protocol.ResourceTemplate, h ResourceHandler) {
	if t.URITemplate == "" || t.Name == "" {
		panic("mcp: a resource template needs a uriTemplate and a name")
	}
	compiled, err := uritemplate.New(t.URITemplate)
	if err != nil {
		panic(fmt.Sprintf("mcp: resource template %q: %v", t.URITemplate, err))
	}
	tmpl := *t
	s.mu.Lock()
	s.templates.add(tmpl.URITemplate, &serverTemplate{template: &tmpl, compiled: compiled, handler: h})
	s.mu.Unlock()
	s.resourcesChanged()
}

// RemoveResources removes resources by URI and templates by template text.
func (s *Server) RemoveResources(uris ...string) {
	s.mu.Lock()
	n := s.resources.remove(uris...) + s.templates.remove(uris...)
	s.mu.Unlock()
	if n > 0 {
		s.resourcesChanged()
	}
}

func (s *Server) resourcesChanged() {
	s.listChanged(protocol.NotificationResourcesListChanged)
}

// ResourceUpdated tells every session subscribed to uri that the resource
// changed.
func (s *Server) ResourceUpdated(ctx context.Context, uri string) {
	s.broadcast(protocol.NotificationResourcesUpdated, &protocol.ResourceUpdatedNotificationParams{URI: uri},
		func(ss *ServerSession) bool { return ss.subscribed(uri) })
}

// ResourceNotFound returns the protocol error for a resource that does not
// exist, with {"uri": uri} as data. The message repeats at most
// jsonrpc.EchoLimit bytes of the URI, the data at most 1 KiB.
func ResourceNotFound(uri string) *jsonrpc.Error {
	data, _ := json.Marshal(map[string]string{"uri": jsonrpc.Elide(uri, 1024)})
	return &jsonrpc.Error{Code: protocol.CodeResourceNotFound, Message: "resource not found: " + jsonrpc.Elide(uri, jsonrpc.EchoLimit), Data: data}
}

// DefaultMaxURILength is the default of ServerOptions.MaxURILength.
const DefaultMaxURILength = 8192

// checkURI refuses a URI longer than the server's bound with -32602,
// before anything matches it against a URI template (matching costs more
// than linear time in the URI's length).
func (s *Server) checkURI(uri string) error {
	if len(uri) > s.opts.MaxURILength {
		return jsonrpc.ErrInvalidParams("uri too long: %d bytes, the limit is %d", len(uri), s.opts.MaxURILength)
	}
	return nil
}

func (s *Server) listResources(ctx context.Context, req *Request, cursor string) (*protocol.ListResourcesResult, error) {
	s.mu.RLock()
	page, next, err := s.resources.page(cursor, s.opts.PageSize)
	s.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	res := &protocol.ListResourcesResult{Resources: make([]protocol.Resource, 0, len(page)), NextCursor: next}
	for _, r := range page {
		if v := filterItem(s, ctx, req, r.resource); v != nil {
			res.Resources = append(res.Resources, *v)
		}
	}
	return res, nil
}

func (s *Server) listResourceTemplates(ctx context.Context, req *Request, cursor string) (*protocol.ListResourceTemplatesResult, error) {
	s.mu.RLock()
	page, next, err := s.templates.page(cursor, s.opts.PageSize)
	s.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	res := &protocol.ListResourceTemplatesResult{ResourceTemplates: make([]protocol.ResourceTemplate, 0, len(page)), NextCursor: next}
	for _, t := range page {
		if v := filterItem(s, ctx, req, t.template); v != nil {
			res.ResourceTemplates = append(res.ResourceTemplates, *v)
		}
	}
	return res, nil
}

// findResource returns the handler for uri and the template variables. A
// URI longer than the server's bound matches nothing (callers report it
// with checkURI first).
func (s *Server) findResource(uri string) (ResourceHandler, map[string]string, bool) {
	if len(uri) > s.opts.MaxURILength {
		return nil, nil, false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if r, ok := s.resources.get(uri); ok {
		return r.handler, nil, true
	}
	for _, t := range s.templates.all() {
		if vals := t.compiled.Match(uri); vals != nil {
			vars := make(map[string]string, len(t.compiled.Varnames()))
			for _, name := range t.compiled.Varnames() {
				if v := vals.Get(name); v.Valid() {
					vars[name] = v.String()
				}
			}
			return t.handler, vars, true
		}
	}
	if s.opts.ResourceFallback != nil {
		return s.opts.ResourceFallback, nil, true
	}
	return nil, nil, false
}

func (s *Server) readResource(ctx context.Context, r *Request, p *protocol.ReadResourceRequestParams) (any, error) {
	if p.URI == "" {
		return nil, jsonrpc.ErrInvalidParams("resources/read needs a uri")
	}
	if err := s.checkURI(p.URI); err != nil {
		return nil, err
	}
	h, vars, ok := s.findResource(p.URI)
	if !ok {
		return nil, ResourceNotFound(p.URI)
	}
	res, err := h(ctx, r, p.URI, vars)
	if err != nil {
		return nil, err
	}
	if res == nil {
		return nil, ResourceNotFound(p.URI)
	}
	return res, nil
}

func (s *Server) subscribe(r *Request, uri string, on bool) (any, error) {
	if uri == "" {
		return nil, jsonrpc.ErrInvalidParams("a uri is required")
	}
	if r.Session == nil {
		return nil, jsonrpc.ErrMethodNotFound(r.Method)
	}
	if !on {
		r.Session.unsubscribe(uri)
		return emptyResult{}, nil
	}
	if err := s.checkURI(uri); err != nil {
		return nil, err
	}
	if _, _, ok := s.findResource(uri); !ok {
		return nil, ResourceNotFound(uri)
	}
	r.Session.subscribe(uri)
	return emptyResult{}, nil
}

// TextResource returns a read result holding one text resource.
func TextResource(uri, mimeType, text string) *protocol.ReadResourceResult {
	return &protocol.ReadResourceResult{Contents: []protocol.ResourceContents{
		&protocol.TextResourceContents{URI: uri, MIMEType: mimeType, Text: text},
	}}
}

// BlobResource returns a read result holding one binary resource.
func BlobResource(uri, mimeType string, data []byte) *protocol.ReadResourceResult {
	return &protocol.ReadResourceResult{Contents: []protocol.ResourceContents{
		&protocol.BlobResourceContents{URI: uri, MIMEType: mimeType, Blob: data},
	}}
}
