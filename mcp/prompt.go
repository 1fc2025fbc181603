package mcp

import (
	"context"
	"strings"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/protocol"
)

// PromptHandler renders a prompt with the given arguments. Required
// arguments are checked before it runs.
type PromptHandler func(ctx context.Context, req *Request, args map[string]string) (*protocol.GetPromptResult, error)

// Completer suggests values for one argument of a prompt or one variable
// of a resource template. value is what the user typed so far; context
// holds the values of the other arguments already chosen.
type Completer func(ctx context.Context, req *Request, argument, value string, context map[string]string) (*protocol.Completion, error)

// CompletionHandler answers completion/complete requests in full.
type CompletionHandler func(ctx context.Context, req *Request, p *protocol.CompleteRequestParams) (*protocol.CompleteResult, error)

type serverPrompt struct {
	prompt   *protocol.Prompt
	handler  PromptHandler
	complete Completer
}

// PromptOption configures a prompt.
type PromptOption func(*serverPrompt)

// WithPromptCompleter sets the completer for the prompt's arguments.
func WithPromptCompleter(c Completer) PromptOption {
	return func(p *serverPrompt) { p.complete = c }
}

// AddPrompt registers a prompt, replacing any prompt of the same name.
func (s *Server) AddPrompt(p *protocol.Prompt, h PromptHandler, opts ...PromptOption) {
	if p.Name == "" {
		panic("mcp: a prompt needs a name")
	}
	prompt := *p
	sp := &serverPrompt{prompt: &prompt, handler: h}
	for _, o := range opts {
		o(sp)
	}
	s.mu.Lock()
	s.prompts.add(prompt.Name, sp)
	s.mu.Unlock()
	s.listChanged(protocol.NotificationPromptsListChanged)
}

// RemovePrompts removes the named prompts.
func (s *Server) RemovePrompts(names ...string) {
	s.mu.Lock()
	n := s.prompts.remove(names...)
	s.mu.Unlock()
	if n > 0 {
		s.listChanged(protocol.NotificationPromptsListChanged)
	}
}

func (s *Server) listPrompts(ctx context.Context, r *Request, cursor string) (*protocol.ListPromptsResult, error) {
	s.mu.RLock()
	page, next, err := s.prompts.page(cursor, s.opts.PageSize)
	s.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	res := &protocol.ListPromptsResult{Prompts: make([]protocol.Prompt, 0, len(page)), NextCursor: next}
	for _, p := range page {
		if v := filterItem(s, ctx, r, p.prompt); v != nil {
			res.Prompts = append(res.Prompts, *v)
		}
	}
	return res, nil
}

func (s *Server) getPrompt(ctx context.Context, r *Request, p *protocol.GetPromptRequestParams) (any, error) {
	s.mu.RLock()
	sp, ok := s.prompts.get(p.Name)
	s.mu.RUnlock()
	if !ok {
		return nil, jsonrpc.ErrInvalidParams("unknown prompt %s", jsonrpc.QuoteElided(p.Name, jsonrpc.EchoLimit))
	}
	var missing []string
	for _, a := range sp.prompt.Arguments {
		if _, ok := p.Arguments[a.Name]; a.Required && !ok {
			missing = append(missing, a.Name)
		}
	}
	if len(missing) > 0 {
		return nil, jsonrpc.ErrInvalidParams("prompt %q: missing required arguments: %s", p.Name, strings.Join(missing, ", "))
	}
	args := p.Arguments
	if args == nil {
		args = map[string]string{}
	}
	return sp.handler(ctx, r, args)
}

// templateCompleters holds completers for resource templates, by template.
func (s *Server) hasCompleters() bool {
	for _, p := range s.prompts.all() {
		if p.complete != nil {
			return true
		}
	}
	return false
}

func (s *Server) complete(ctx context.Context, r *Request, p *protocol.CompleteRequestParams) (any, error) {
	var c Completer
	switch ref := p.Ref.(type) {
	case *protocol.PromptReference:
		s.mu.RLock()
		sp, ok := s.prompts.get(ref.Name)
		s.mu.RUnlock()
		if !ok {
			return nil, jsonrpc.ErrInvalidParams("unknown prompt %s", jsonrpc.QuoteElided(ref.Name, jsonrpc.EchoLimit))
		}
		c = sp.complete
	case *protocol.ResourceTemplateReference:
		if err := s.checkURI(ref.URI); err != nil {
			return nil, err
		}
		s.mu.RLock()
		_, ok := s.templates.get(ref.URI)
		s.mu.RUnlock()
		if !ok {
			if _, _, found := s.findResource(ref.URI); !found {
				return nil, jsonrpc.ErrInvalidParams("unknown resource template %s", jsonrpc.QuoteElided(ref.URI, jsonrpc.EchoLimit))
			}
		}
	default:
		return nil, jsonrpc.ErrInvalidParams("completion/complete needs a ref/prompt or ref/resource reference")
	}
	if c == nil {
		if s.opts.Completion != nil {
			return s.opts.Completion(ctx, r, p)
		}
		return &protocol.CompleteResult{Completion: protocol.Completion{Values: []string{}}}, nil
	}
	var context map[string]string
	if p.Context != nil {
		context = p.Context.Arguments
	}
	comp, err := c(ctx, r, p.Argument.Name, p.Argument.Value, context)
	if err != nil {
		return nil, err
	}
	if comp == nil {
		comp = &protocol.Completion{}
	}
	if comp.Values == nil {
		comp.Values = []string{}
	}
	if len(comp.Values) > 100 {
		// The spec caps a response at 100 values.
		if comp.Total == 0 {
			comp.Total = len(comp.Values)
		}
		comp.Values = comp.Values[:100]
		comp.HasMore = true
	}
	return &protocol.CompleteResult{Completion: *comp}, nil
}
