package mcp

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"regexp"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/jsonschema"
	"github.com/switchboard-mcp/switchboard/protocol"
)

// ToolHandler is the untyped form of a tool: it gets the raw call (name and
// arguments as JSON) and returns the result to send.
//
// A returned *jsonrpc.Error is a protocol error; any other error is
// reported to the client as a tool result with isError set, which lets the
// model see what went wrong and try again.
type ToolHandler func(ctx context.Context, req *Request, call *protocol.CallToolRequestParams) (*protocol.CallToolResult, error)

// ToolMiddleware wraps every tool call; it sees the tool's name and
// arguments in call.
type ToolMiddleware func(next ToolHandler) ToolHandler

// TypedToolHandler is a tool with Go types for its input and output. The
// arguments are validated against the input schema and decoded into an In;
// the Out value is turned into the tool's result:
//
//   - a struct, map or pointer to one: structuredContent, an outputSchema
//     inferred from the type, and the same JSON as a text block for clients
//     that do not read structured content;
//   - a string: one text block;
//   - []protocol.Content: those content blocks;
//   - *protocol.CallToolResult: sent as is.
//
// A returned *jsonrpc.Error is a protocol error; any other error becomes a
// result with isError set and the error's text.
type TypedToolHandler[In, Out any] func(ctx context.Context, req *Request, in In) (Out, error)

type serverTool struct {
	tool      *protocol.Tool
	handler   ToolHandler // the tool's own handler
	wrapped   ToolHandler // handler inside the tool middleware
	validator *jsonschema.Validator
	// taskAfterInput: the handler runs as an ordinary call first and
	// becomes a task when it calls Request.StartTask (see
	// WithTaskAfterInput).
	taskAfterInput bool
	// modernOutput is an output schema that is not an object schema,
	// inferred by AddTool: advertised to 2026-07-28 clients only.
	modernOutput jsontext.Value
	// nonObjectOutput: tool.OutputSchema is set and not an object schema
	// (hidden from clients before 2026-07-28).
	nonObjectOutput bool
}

var toolNameRE = regexp.MustCompile(`^[A-Za-z0-9_.\-]{1,128}$`)

// AddTool registers a typed tool, replacing any tool of the same name.
//
// Unless t.InputSchema is set, the input schema is inferred from In (which
// must be a struct or a map with string keys; see package jsonschema for the
// struct tags); likewise the output schema from Out when it is a struct.
// Arguments are validated against the input schema before the handler
// runs. AddTool panics if a schema cannot be inferred or compiled: that is
// a programming error, best found at start-up.
func AddTool[In, Out any](s *Server, t *protocol.Tool, h TypedToolHandler[In, Out]) {
	tool := *t
	if len(tool.InputSchema) == 0 {
		schema, err := jsonschema.ForType(reflect.TypeFor[In]())
		if err != nil {
			panic(fmt.Sprintf("mcp: tool %q: inferring the input schema: %v", t.Name, err))
		}
		tool.InputSchema = schema
	}
	kind := outputKindOf(reflect.TypeFor[Out]())
	var modernOutput jsontext.Value
	if kind == outStructured && len(tool.OutputSchema) == 0 {
		if schema, err := jsonschema.ForType(reflect.TypeFor[Out]()); err == nil && isObjectSchema(schema) {
			tool.OutputSchema = schema
		} else if err == nil {
			// Not an object (a slice, a number...): an output schema
			// from revision 2026-07-28 on, and none before.
			modernOutput = schema
		} else {
			panic(fmt.Sprintf("mcp: tool %q: inferring the output schema: %v", t.Name, err))
		}
	}
	v, err := jsonschema.Compile(tool.InputSchema)
	if err != nil {
		panic(fmt.Sprintf("mcp: tool %q: compiling the input schema: %v", t.Name, err))
	}
	handler := func(ctx context.Context, req *Request, call *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
		var in In
		args := call.Arguments
		if len(args) == 0 || string(args) == "null" {
			args = emptyObject
		}
		if err := json.Unmarshal(args, &in); err != nil {
			return ErrorResult(fmt.Errorf("invalid arguments: %s", paramsError(err))), nil
		}
		out, err := h(ctx, req, in)
		if err != nil {
			return nil, err
		}
		return toolResult(out, kind)
	}
	s.addTool(&serverTool{tool: &tool, handler: handler, validator: v, modernOutput: modernOutput})
}

var emptyObject = jsontext.Value("{}")

func isObjectSchema(s jsontext.Value) bool {
	var v struct {
		Type any `json:"type"`
	}
	return json.Unmarshal(s, &v) == nil && v.Type == "object"
}

// ToolOption configures a tool registered with Server.AddTool.
type ToolOption func(*toolOptions)

type toolOptions struct {
	noValidation   bool
	taskAfterInput bool
}

// WithTaskAfterInput registers a task-capable tool whose handler decides
// when to become a task (the tasks extension of revision 2026-07-28):
// instead of answering with a task handle at once, the server runs the
// handler as an ordinary call, so that it can first gather input through
// multi round-trip requests (Request.Elicit and the like, each round an
// input_required result), and the call becomes a task when the handler
// calls Request.StartTask with the rest of its work. Without the option a
// task-capable tool called by a client that declares the extension is a
// task from the start.
func WithTaskAfterInput() ToolOption {
	return func(o *toolOptions) { o.taskAfterInput = true }
}

// WithoutValidation registers a tool whose arguments the server does not
// check: the input schema is advertised as given, but not compiled, and
// the handler gets the arguments as the client sent them. It is for
// handlers that check them elsewhere, such as a proxy whose upstream
// server validates; a schema that does not compile is then no error.
func WithoutValidation() ToolOption {
	return func(o *toolOptions) { o.noValidation = true }
}

// AddTool registers an untyped tool, replacing any tool of the same name.
// If t.InputSchema is empty, the tool takes any object. Arguments are
// validated against the input schema before the handler runs (unless
// WithoutValidation is given). It panics if the schema does not compile.
func (s *Server) AddTool(t *protocol.Tool, h ToolHandler, opts ...ToolOption) {
	var o toolOptions
	for _, opt := range opts {
		opt(&o)
	}
	tool := *t
	if len(tool.InputSchema) == 0 {
		tool.InputSchema = jsontext.Value(`{"type":"object"}`)
	}
	st := &serverTool{tool: &tool, handler: h, taskAfterInput: o.taskAfterInput}
	if !o.noValidation {
		v, err := jsonschema.Compile(tool.InputSchema)
		if err != nil {
			panic(fmt.Sprintf("mcp: tool %q: compiling the input schema: %v", t.Name, err))
		}
		st.validator = v
	}
	s.addTool(st)
}

func (s *Server) addTool(st *serverTool) {
	if st.tool.Name == "" {
		panic("mcp: a tool needs a name")
	}
	if !toolNameRE.MatchString(st.tool.Name) {
		s.log.Warn("tool name outside the spec's recommended characters (A-Z a-z 0-9 _ - ., 1 to 128)", "tool", st.tool.Name)
	}
	st.nonObjectOutput = len(st.tool.OutputSchema) > 0 && !isObjectSchema(st.tool.OutputSchema)
	s.mu.Lock()
	st.wrapped = chainTools(st.handler, s.toolMW)
	s.tools.add(st.tool.Name, st)
	s.mu.Unlock()
	s.toolsChanged()
}

// RemoveTools removes the named tools. Sessions are told if any existed.
func (s *Server) RemoveTools(names ...string) {
	s.mu.Lock()
	n := s.tools.remove(names...)
	s.mu.Unlock()
	if n > 0 {
		s.toolsChanged()
	}
}

// Tools returns the registered tools in name order.
func (s *Server) Tools() []*protocol.Tool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*protocol.Tool, 0, s.tools.len())
	for _, st := range s.tools.all() {
		out = append(out, st.tool)
	}
	return out
}

func (s *Server) toolsChanged() {
	s.listChanged(protocol.NotificationToolsListChanged)
}

func chainTools(h ToolHandler, mw []ToolMiddleware) ToolHandler {
	for i := len(mw) - 1; i >= 0; i-- {
		h = mw[i](h)
	}
	return h
}

// rewrapTools rebuilds the middleware chain of every registered tool. It
// replaces the entries rather than mutating them: calls in flight keep the
// entry they looked up. The caller holds s.mu.
func (s *Server) rewrapTools() {
	for _, st := range s.tools.all() {
		c := *st
		c.wrapped = chainTools(c.handler, s.toolMW)
		s.tools.add(c.tool.Name, &c)
	}
}

func (s *Server) listTools(ctx context.Context, r *Request, cursor string) (*protocol.ListToolsResult, error) {
	s.mu.RLock()
	page, next, err := s.tools.page(cursor, s.opts.PageSize)
	s.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	res := &protocol.ListToolsResult{Tools: make([]protocol.Tool, 0, len(page)), NextCursor: next}
	for _, st := range page {
		if t := filterItem(s, ctx, r, toolForRequest(r, st)); t != nil {
			res.Tools = append(res.Tools, *t)
		}
	}
	return res, nil
}

func (s *Server) callTool(ctx context.Context, r *Request, p *protocol.CallToolRequestParams) (any, error) {
	s.mu.RLock()
	st, ok := s.tools.get(p.Name)
	s.mu.RUnlock()
	if !ok {
		return nil, jsonrpc.ErrInvalidParams("unknown tool %s", jsonrpc.QuoteElided(p.Name, jsonrpc.EchoLimit))
	}
	if res, err := s.checkTaskSupport(r, st, p); res != nil || err != nil {
		return res, err
	}
	if p.Task != nil {
		return s.startToolTask(ctx, r, st, p)
	}
	return runTool(ctx, r, st, p)
}

// runTool validates the arguments and runs the tool (inside its
// middleware), mapping plain errors to error results.
func runTool(ctx context.Context, r *Request, st *serverTool, p *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
	if st.validator != nil {
		args := p.Arguments
		if len(args) == 0 || string(args) == "null" {
			args = emptyObject
		}
		if err := st.validator.ValidateJSON(args); err != nil {
			// The validator's issues may repeat argument names and values.
			return ErrorResult(fmt.Errorf("invalid arguments for tool %q: %s", p.Name, jsonrpc.Elide(err.Error(), maxErrorMessage))), nil
		}
	}
	res, err := st.wrapped(ctx, r, p)
	if err != nil {
		if je, ok := protocolError(err); ok {
			return nil, je
		}
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			return nil, err
		}
		return ErrorResult(err), nil
	}
	if res == nil {
		res = &protocol.CallToolResult{}
	}
	if res.Content == nil && res.Raw == nil {
		res.Content = []protocol.Content{}
	}
	if len(res.StructuredContent) > 0 && (r == nil || !r.modern()) && !isObjectValue(res.StructuredContent) {
		// Before 2026-07-28 structured content is an object; the text
		// content carries the value.
		res.StructuredContent = nil
	}
	return res, nil
}

// filterItem applies ServerOptions.ListFilter to a list item.
func filterItem[T any](s *Server, ctx context.Context, r *Request, item *T) *T {
	if s.opts.ListFilter == nil {
		return item
	}
	out, _ := s.opts.ListFilter(ctx, r, item).(*T)
	return out
}

// ErrorResult returns a tool result reporting err to the model.
func ErrorResult(err error) *protocol.CallToolResult {
	return &protocol.CallToolResult{
		IsError: true,
		Content: []protocol.Content{&protocol.TextContent{Text: err.Error()}},
	}
}

// TextResult returns a tool result holding one text block.
func TextResult(text string) *protocol.CallToolResult {
	return &protocol.CallToolResult{Content: []protocol.Content{&protocol.TextContent{Text: text}}}
}

type outputKind int

const (
	outStructured outputKind = iota
	outText
	outContent
	outResult
	outAny
)

var (
	typeCallToolResult = reflect.TypeFor[*protocol.CallToolResult]()
	typeContentSlice   = reflect.TypeFor[[]protocol.Content]()
)

func outputKindOf(t reflect.Type) outputKind {
	switch {
	case t == typeCallToolResult:
		return outResult
	case t == typeContentSlice:
		return outContent
	case t.Kind() == reflect.String:
		return outText
	case t.Kind() == reflect.Interface:
		return outAny
	}
	return outStructured
}

func toolResult[Out any](out Out, kind outputKind) (*protocol.CallToolResult, error) {
	switch kind {
	case outResult:
		if r := any(out).(*protocol.CallToolResult); r != nil {
			return r, nil
		}
		return &protocol.CallToolResult{}, nil
	case outContent:
		return &protocol.CallToolResult{Content: any(out).([]protocol.Content)}, nil
	case outText:
		return TextResult(reflect.ValueOf(out).String()), nil
	case outAny:
		switch v := any(out).(type) {
		case nil:
			return &protocol.CallToolResult{}, nil
		case *protocol.CallToolResult:
			return v, nil
		case string:
			return TextResult(v), nil
		case []protocol.Content:
			return &protocol.CallToolResult{Content: v}, nil
		}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, jsonrpc.ErrInternal("encoding the tool's output: %v", err)
	}
	if string(b) == "null" {
		// A nil pointer or map: there is no structured content to send,
		// and a tool with an output schema must send some.
		return ErrorResult(errors.New("the tool returned no output")), nil
	}
	// Any JSON value is structured content from revision 2026-07-28 on;
	// runTool drops one that is not an object for earlier clients.
	return &protocol.CallToolResult{Content: []protocol.Content{&protocol.TextContent{Text: string(b)}}, StructuredContent: jsontext.Value(b)}, nil
}

// isObjectValue reports whether v, JSON, is an object.
func isObjectValue(v jsontext.Value) bool {
	for _, c := range v {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return c == '{'
	}
	return false
}

// toolForRequest is what tools/list shows r of t (registered as st): the
// revisions before 2026-07-28 know only object output schemas, so a tool
// whose output schema is anything else is shown to their clients without
// one; 2026-07-28 clients see the non-object schema AddTool inferred.
func toolForRequest(r *Request, st *serverTool) *protocol.Tool {
	t := st.tool
	modern := r != nil && r.modern()
	switch {
	case modern && len(t.OutputSchema) == 0 && len(st.modernOutput) > 0:
		cp := *t
		cp.OutputSchema = st.modernOutput
		return &cp
	case !modern && st.nonObjectOutput:
		cp := *t
		cp.OutputSchema = nil
		return &cp
	}
	return t
}
