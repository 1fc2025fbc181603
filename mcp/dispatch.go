package mcp

import (
	"context"
	"fmt"
	"strings"

	"github.com/go-json-experiment/json"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/protocol"
)

// MethodHandler serves one request and returns its result (any value that
// encodes to the method's result object) or an error. A *jsonrpc.Error is
// sent as is; any other error becomes an internal error (-32603).
type MethodHandler func(ctx context.Context, req *Request) (result any, err error)

// Middleware wraps the handling of every method. It sees the method name
// and raw params in req, and the result or error on the way out.
type Middleware func(next MethodHandler) MethodHandler

// decodeParams decodes a request's params into a new P. Absent params
// decode as an empty object.
func decodeParams[P any](r *Request) (*P, error) {
	p := new(P)
	if len(r.Params) == 0 {
		return p, nil
	}
	if err := json.Unmarshal(r.Params, p); err != nil {
		return nil, jsonrpc.ErrInvalidParams("invalid params for %s: %v", r.Method, paramsError(err))
	}
	return p, nil
}

func paramsError(err error) string {
	var se *json.SemanticError
	if e, ok := err.(*json.SemanticError); ok {
		se = e
		if se.JSONPointer != "" {
			return fmt.Sprintf("at %s: %v", se.JSONPointer, se.Err)
		}
	}
	return err.Error()
}

// dispatch routes a request to the feature that serves its method.
func (s *Server) dispatch(ctx context.Context, r *Request) (any, error) {
	if r.v26 != nil && !r.v26.dispatching {
		return s.dispatchModern(ctx, r)
	}
	switch r.Method {
	case protocol.MethodInitialize:
		if r.Session == nil {
			return nil, jsonrpc.ErrMethodNotFound(r.Method)
		}
		if len(s.opts.SupportedVersions) == 0 {
			return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidRequest, Message: "this server serves only stateless revisions (" +
				strings.Join(s.v26.versions, ", ") + "): send requests with their _meta instead of initialize"}
		}
		p, err := decodeParams[protocol.InitializeRequestParams](r)
		if err != nil {
			return nil, err
		}
		r.setMeta(p.Meta)
		return r.Session.initialize(p)
	case protocol.MethodPing:
		return emptyResult{}, nil
	case protocol.MethodToolsList:
		p, err := decodeParams[protocol.PaginatedRequestParams](r)
		if err != nil {
			return nil, err
		}
		r.setMeta(p.Meta)
		return s.listTools(ctx, r, p.Cursor)
	case protocol.MethodToolsCall:
		p, err := decodeParams[protocol.CallToolRequestParams](r)
		if err != nil {
			return nil, err
		}
		if p.Name == "" {
			return nil, jsonrpc.ErrInvalidParams("tools/call needs a tool name")
		}
		r.setMeta(p.Meta)
		return s.callTool(ctx, r, p)
	case protocol.MethodResourcesList:
		p, err := decodeParams[protocol.PaginatedRequestParams](r)
		if err != nil {
			return nil, err
		}
		r.setMeta(p.Meta)
		return s.listResources(ctx, r, p.Cursor)
	case protocol.MethodResourcesTemplatesList:
		p, err := decodeParams[protocol.PaginatedRequestParams](r)
		if err != nil {
			return nil, err
		}
		r.setMeta(p.Meta)
		return s.listResourceTemplates(ctx, r, p.Cursor)
	case protocol.MethodResourcesRead:
		p, err := decodeParams[protocol.ReadResourceRequestParams](r)
		if err != nil {
			return nil, err
		}
		r.setMeta(p.Meta)
		return s.readResource(ctx, r, p)
	case protocol.MethodResourcesSubscribe, protocol.MethodResourcesUnsubscribe:
		p, err := decodeParams[protocol.SubscribeRequestParams](r)
		if err != nil {
			return nil, err
		}
		r.setMeta(p.Meta)
		return s.subscribe(r, p.URI, r.Method == protocol.MethodResourcesSubscribe)
	case protocol.MethodPromptsList:
		p, err := decodeParams[protocol.PaginatedRequestParams](r)
		if err != nil {
			return nil, err
		}
		r.setMeta(p.Meta)
		return s.listPrompts(ctx, r, p.Cursor)
	case protocol.MethodPromptsGet:
		p, err := decodeParams[protocol.GetPromptRequestParams](r)
		if err != nil {
			return nil, err
		}
		r.setMeta(p.Meta)
		return s.getPrompt(ctx, r, p)
	case protocol.MethodCompletionComplete:
		p, err := decodeParams[protocol.CompleteRequestParams](r)
		if err != nil {
			return nil, err
		}
		r.setMeta(p.Meta)
		return s.complete(ctx, r, p)
	case protocol.MethodLoggingSetLevel:
		p, err := decodeParams[protocol.SetLevelRequestParams](r)
		if err != nil {
			return nil, err
		}
		r.setMeta(p.Meta)
		if !p.Level.Valid() {
			return nil, jsonrpc.ErrInvalidParams("unknown logging level %s", jsonrpc.QuoteElided(string(p.Level), jsonrpc.EchoLimit))
		}
		if r.Session != nil {
			r.Session.setLogLevel(p.Level)
		}
		return emptyResult{}, nil
	case protocol.MethodTasksGet, protocol.MethodTasksResult, protocol.MethodTasksCancel:
		p, err := decodeParams[protocol.GetTaskRequestParams](r)
		if err != nil {
			return nil, err
		}
		if p.TaskID == "" {
			return nil, jsonrpc.ErrInvalidParams("%s needs a taskId", r.Method)
		}
		return s.taskMethod(ctx, r, p.TaskID)
	case protocol.MethodTasksList:
		p, err := decodeParams[protocol.PaginatedRequestParams](r)
		if err != nil {
			return nil, err
		}
		r.setMeta(p.Meta)
		return s.listTasks(ctx, r, p.Cursor)
	}
	return nil, jsonrpc.ErrMethodNotFound(r.Method)
}
