package mcp

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/protocol"
)

// Ping checks that the server answers.
func (cs *ClientSession) Ping(ctx context.Context) error {
	return cs.Call(ctx, protocol.MethodPing, nil, nil)
}

// ListTools returns one page of the server's tools.
func (cs *ClientSession) ListTools(ctx context.Context, p *protocol.PaginatedRequestParams) (*protocol.ListToolsResult, error) {
	var res protocol.ListToolsResult
	if err := cs.Call(ctx, protocol.MethodToolsList, orEmpty(p), &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// Tools iterates over every tool of the server, fetching pages as needed.
// Iteration stops at the first error, which is yielded.
func (cs *ClientSession) Tools(ctx context.Context) iter.Seq2[*protocol.Tool, error] {
	return paginate(ctx, func(cursor string) ([]protocol.Tool, string, error) {
		r, err := cs.ListTools(ctx, &protocol.PaginatedRequestParams{Cursor: cursor})
		if err != nil {
			return nil, "", err
		}
		return r.Tools, r.NextCursor, nil
	})
}

// CallTool calls a tool. A tool that failed is a result with IsError set,
// not an error; an error is a protocol or transport failure.
func (cs *ClientSession) CallTool(ctx context.Context, p *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
	var res protocol.CallToolResult
	if err := cs.Call(ctx, protocol.MethodToolsCall, p, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// CallToolArgs calls a tool with arguments given as any value that encodes
// to a JSON object (a struct or a map).
func (cs *ClientSession) CallToolArgs(ctx context.Context, name string, args any) (*protocol.CallToolResult, error) {
	var raw jsontext.Value
	if args != nil {
		b, err := json.Marshal(args)
		if err != nil {
			return nil, fmt.Errorf("mcp: encoding the arguments of %s: %w", name, err)
		}
		raw = b
	}
	return cs.CallTool(ctx, &protocol.CallToolRequestParams{Name: name, Arguments: raw})
}

// ListResources returns one page of the server's resources.
func (cs *ClientSession) ListResources(ctx context.Context, p *protocol.PaginatedRequestParams) (*protocol.ListResourcesResult, error) {
	var res protocol.ListResourcesResult
	if err := cs.Call(ctx, protocol.MethodResourcesList, orEmpty(p), &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// Resources iterates over every resource of the server.
func (cs *ClientSession) Resources(ctx context.Context) iter.Seq2[*protocol.Resource, error] {
	return paginate(ctx, func(cursor string) ([]protocol.Resource, string, error) {
		r, err := cs.ListResources(ctx, &protocol.PaginatedRequestParams{Cursor: cursor})
		if err != nil {
			return nil, "", err
		}
		return r.Resources, r.NextCursor, nil
	})
}

// ListResourceTemplates returns one page of the server's resource
// templates.
func (cs *ClientSession) ListResourceTemplates(ctx context.Context, p *protocol.PaginatedRequestParams) (*protocol.ListResourceTemplatesResult, error) {
	var res protocol.ListResourceTemplatesResult
	if err := cs.Call(ctx, protocol.MethodResourcesTemplatesList, orEmpty(p), &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// ResourceTemplates iterates over every resource template of the server.
func (cs *ClientSession) ResourceTemplates(ctx context.Context) iter.Seq2[*protocol.ResourceTemplate, error] {
	return paginate(ctx, func(cursor string) ([]protocol.ResourceTemplate, string, error) {
		r, err := cs.ListResourceTemplates(ctx, &protocol.PaginatedRequestParams{Cursor: cursor})
		if err != nil {
			return nil, "", err
		}
		return r.ResourceTemplates, r.NextCursor, nil
	})
}

// ReadResource reads a resource.
func (cs *ClientSession) ReadResource(ctx context.Context, uri string) (*protocol.ReadResourceResult, error) {
	var res protocol.ReadResourceResult
	if err := cs.Call(ctx, protocol.MethodResourcesRead, &protocol.ReadResourceRequestParams{URI: uri}, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// Subscribe asks for notifications/resources/updated about uri; they reach
// ClientOptions.OnResourceUpdated.
func (cs *ClientSession) Subscribe(ctx context.Context, uri string) error {
	return cs.Call(ctx, protocol.MethodResourcesSubscribe, &protocol.SubscribeRequestParams{URI: uri}, nil)
}

// Unsubscribe ends a subscription.
func (cs *ClientSession) Unsubscribe(ctx context.Context, uri string) error {
	return cs.Call(ctx, protocol.MethodResourcesUnsubscribe, &protocol.UnsubscribeRequestParams{URI: uri}, nil)
}

// ListPrompts returns one page of the server's prompts.
func (cs *ClientSession) ListPrompts(ctx context.Context, p *protocol.PaginatedRequestParams) (*protocol.ListPromptsResult, error) {
	var res protocol.ListPromptsResult
	if err := cs.Call(ctx, protocol.MethodPromptsList, orEmpty(p), &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// Prompts iterates over every prompt of the server.
func (cs *ClientSession) Prompts(ctx context.Context) iter.Seq2[*protocol.Prompt, error] {
	return paginate(ctx, func(cursor string) ([]protocol.Prompt, string, error) {
		r, err := cs.ListPrompts(ctx, &protocol.PaginatedRequestParams{Cursor: cursor})
		if err != nil {
			return nil, "", err
		}
		return r.Prompts, r.NextCursor, nil
	})
}

// GetPrompt renders a prompt with arguments.
func (cs *ClientSession) GetPrompt(ctx context.Context, name string, args map[string]string) (*protocol.GetPromptResult, error) {
	var res protocol.GetPromptResult
	if err := cs.Call(ctx, protocol.MethodPromptsGet, &protocol.GetPromptRequestParams{Name: name, Arguments: args}, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// Complete asks for completions of a prompt or resource template argument.
func (cs *ClientSession) Complete(ctx context.Context, p *protocol.CompleteRequestParams) (*protocol.CompleteResult, error) {
	var res protocol.CompleteResult
	if err := cs.Call(ctx, protocol.MethodCompletionComplete, p, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// SetLogLevel asks the server to send log messages at level and above.
func (cs *ClientSession) SetLogLevel(ctx context.Context, level protocol.LoggingLevel) error {
	return cs.Call(ctx, protocol.MethodLoggingSetLevel, &protocol.SetLevelRequestParams{Level: level}, nil)
}

// CallToolTask starts a tool call as a task and returns the new task. The
// server must declare task support for tools/call.
func (cs *ClientSession) CallToolTask(ctx context.Context, p *protocol.CallToolRequestParams, ttl time.Duration) (*protocol.CreateTaskResult, error) {
	q := *p
	q.Task = &protocol.TaskMetadata{}
	if ttl > 0 {
		ms := ttl.Milliseconds()
		q.Task.TTL = &ms
	}
	var res protocol.CreateTaskResult
	if err := cs.Call(ctx, protocol.MethodToolsCall, &q, &res); err != nil {
		return nil, err
	}
	if res.Task.TaskID == "" {
		return nil, errors.New("mcp: the server answered a task-augmented call without a task")
	}
	return &res, nil
}

// GetTask returns a task's state.
func (cs *ClientSession) GetTask(ctx context.Context, taskID string) (*protocol.GetTaskResult, error) {
	var res protocol.GetTaskResult
	if err := cs.Call(ctx, protocol.MethodTasksGet, &protocol.GetTaskRequestParams{TaskID: taskID}, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// ListTasks returns one page of the tasks the server keeps for this
// client.
func (cs *ClientSession) ListTasks(ctx context.Context, p *protocol.PaginatedRequestParams) (*protocol.ListTasksResult, error) {
	var res protocol.ListTasksResult
	if err := cs.Call(ctx, protocol.MethodTasksList, orEmpty(p), &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// Tasks iterates over every task the server keeps for this client.
func (cs *ClientSession) Tasks(ctx context.Context) iter.Seq2[*protocol.Task, error] {
	return paginate(ctx, func(cursor string) ([]protocol.Task, string, error) {
		r, err := cs.ListTasks(ctx, &protocol.PaginatedRequestParams{Cursor: cursor})
		if err != nil {
			return nil, "", err
		}
		return r.Tasks, r.NextCursor, nil
	})
}

// CancelTask asks the server to cancel a task.
func (cs *ClientSession) CancelTask(ctx context.Context, taskID string) (*protocol.CancelTaskResult, error) {
	var res protocol.CancelTaskResult
	if err := cs.Call(ctx, protocol.MethodTasksCancel, &protocol.CancelTaskRequestParams{TaskID: taskID}, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// TaskResult waits for a task to finish (tasks/result blocks on the
// server, relaying any request the task makes of the client) and decodes
// the result of the original request into result.
func (cs *ClientSession) TaskResult(ctx context.Context, taskID string, result any) error {
	return cs.Call(ctx, protocol.MethodTasksResult, &protocol.GetTaskPayloadRequestParams{TaskID: taskID}, result)
}

// CallToolAsTask runs a tool call as a task and waits for its result:
// it starts the task, polls tasks/get at the server's suggested interval
// (reporting each state to onStatus, which may be nil) until the task
// needs input or ends, then fetches the result with tasks/result.
// Cancelling ctx cancels the task.
//
// In revision 2026-07-28 tasks are the tasks extension, where the server
// decides which calls become tasks: CallToolAsTask then needs
// ClientOptions.TasksExtension and makes the call with CallTool, which
// follows a task the server starts (ttl is not used there; onStatus sees
// each state polled). A call the server answers at once returns its
// result.
func (cs *ClientSession) CallToolAsTask(ctx context.Context, p *protocol.CallToolRequestParams, ttl time.Duration, onStatus func(*protocol.Task)) (*protocol.CallToolResult, error) {
	if v := cs.modernState(); v != nil {
		if !cs.client.opts.TasksExtension {
			return nil, fmt.Errorf("mcp: in protocol revision %s a tool call runs as a task only with ClientOptions.TasksExtension", v.version)
		}
		if onStatus != nil {
			ctx = context.WithValue(ctx, taskStatusKey{}, onStatus)
		}
		return cs.CallTool(ctx, p)
	}
	created, err := cs.CallToolTask(ctx, p, ttl)
	if err != nil {
		return nil, err
	}
	task := created.Task
	for {
		if onStatus != nil {
			onStatus(&task)
		}
		if task.Status.IsTerminal() || task.Status == protocol.TaskStatusInputRequired {
			break
		}
		wait := time.Duration(task.PollInterval) * time.Millisecond
		if wait <= 0 {
			wait = time.Second
		}
		select {
		case <-ctx.Done():
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			_, _ = cs.CancelTask(cctx, task.TaskID)
			cancel()
			return nil, ctx.Err()
		case <-time.After(wait):
		}
		got, err := cs.GetTask(ctx, task.TaskID)
		if err != nil {
			return nil, err
		}
		task = got.Task
	}
	if task.Status == protocol.TaskStatusCancelled {
		return nil, fmt.Errorf("mcp: task %s was cancelled: %s", task.TaskID, task.StatusMessage)
	}
	var res protocol.CallToolResult
	if err := cs.TaskResult(ctx, task.TaskID, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

func orEmpty(p *protocol.PaginatedRequestParams) *protocol.PaginatedRequestParams {
	if p == nil {
		return &protocol.PaginatedRequestParams{}
	}
	return p
}

// maxPages bounds pagination against a server whose cursors never end.
const maxPages = 10000

func paginate[T any](ctx context.Context, page func(cursor string) ([]T, string, error)) iter.Seq2[*T, error] {
	return func(yield func(*T, error) bool) {
		cursor := ""
		seen := map[string]bool{}
		for n := 0; ; n++ {
			if n == maxPages {
				yield(nil, fmt.Errorf("mcp: pagination stopped after %d pages", maxPages))
				return
			}
			if err := ctx.Err(); err != nil {
				yield(nil, err)
				return
			}
			items, next, err := page(cursor)
			if err != nil {
				yield(nil, err)
				return
			}
			for i := range items {
				if !yield(&items[i], nil) {
					return
				}
			}
			if next == "" {
				return
			}
			if seen[next] {
				yield(nil, fmt.Errorf("mcp: the server repeated the cursor %q", next))
				return
			}
			seen[next] = true
			cursor = next
		}
	}
}

// ApplyElicitDefaults returns content with the default of every field of
// schema that content leaves out. It does not modify content.
func ApplyElicitDefaults(schema *protocol.ElicitSchema, content map[string]any) map[string]any {
	out := make(map[string]any, len(schema.Properties))
	for k, v := range content {
		out[k] = v
	}
	for name, ps := range schema.Properties {
		if _, ok := out[name]; ok {
			continue
		}
		if d, ok := elicitDefault(ps); ok {
			out[name] = d
		}
	}
	return out
}

func elicitDefault(ps protocol.PrimitiveSchema) (any, bool) {
	switch s := ps.(type) {
	case *protocol.StringSchema:
		if s.Default != nil {
			return *s.Default, true
		}
	case *protocol.NumberSchema:
		if s.Default != nil {
			return *s.Default, true
		}
	case *protocol.BooleanSchema:
		if s.Default != nil {
			return *s.Default, true
		}
	case *protocol.UntitledSingleSelectEnumSchema:
		if s.Default != "" {
			return s.Default, true
		}
	case *protocol.TitledSingleSelectEnumSchema:
		if s.Default != "" {
			return s.Default, true
		}
	case *protocol.LegacyTitledEnumSchema:
		if s.Default != "" {
			return s.Default, true
		}
	case *protocol.UntitledMultiSelectEnumSchema:
		if s.Default != nil {
			return s.Default, true
		}
	case *protocol.TitledMultiSelectEnumSchema:
		if s.Default != nil {
			return s.Default, true
		}
	}
	return nil, false
}

// IsProtocolError reports whether err is a JSON-RPC error from the peer
// with the given code.
func IsProtocolError(err error, code int64) bool {
	var je *jsonrpc.Error
	return errors.As(err, &je) && je.Code == code
}
