package everything

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
)

// Fixtures of revision 2026-07-28: the tools and prompt the pre-release
// conformance suite (0.2.x) expects of a stateless server. They are
// ordinary handlers: each asks for input with Request.Elicit,
// CreateMessage, ListRoots or Input, which a 2025-11-25 session delivers as
// server-initiated requests and a 2026-07-28 request as multi round-trip
// input requests (with the keys the suite looks for).

func addV2026(s *mcp.Server) {
	mcp.AddTool(s, &protocol.Tool{Name: "test_missing_capability", Description: "Test tool requiring sampling: fails with -32021 for clients without it"},
		func(ctx context.Context, req *mcp.Request, _ Empty) (string, error) {
			res, err := req.CreateMessage(mcp.WithInputKey(ctx, "sample"), &protocol.CreateMessageRequestParams{
				Messages:  []protocol.SamplingMessage{{Role: protocol.RoleUser, Content: protocol.SamplingContents{&protocol.TextContent{Text: "Say success"}}}},
				MaxTokens: 10,
			})
			if err != nil {
				return "", err
			}
			return "Success: " + samplingText(res), nil
		})

	mcp.AddTool(s, &protocol.Tool{Name: "test_input_required_result_elicitation", Description: "MRTR: asks the user's name with an elicitation (input key user_name)"},
		func(ctx context.Context, req *mcp.Request, _ Empty) (string, error) {
			res, err := req.Elicit(mcp.WithInputKey(ctx, "user_name"), askString("What is your name?", "name"))
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("Hello, %v!", res.Content["name"]), nil
		})

	mcp.AddTool(s, &protocol.Tool{Name: "test_input_required_result_sampling", Description: "MRTR: asks the client's model a question (input key capital_question)"},
		func(ctx context.Context, req *mcp.Request, _ Empty) (string, error) {
			res, err := req.CreateMessage(mcp.WithInputKey(ctx, "capital_question"), &protocol.CreateMessageRequestParams{
				Messages:  []protocol.SamplingMessage{{Role: protocol.RoleUser, Content: protocol.SamplingContents{&protocol.TextContent{Text: "What is the capital of France?"}}}},
				MaxTokens: 100,
			})
			if err != nil {
				return "", err
			}
			return "Sampling result: " + samplingText(res), nil
		})

	mcp.AddTool(s, &protocol.Tool{Name: "test_input_required_result_list_roots", Description: "MRTR: asks the client for its roots (input key client_roots)"},
		func(ctx context.Context, req *mcp.Request, _ Empty) (string, error) {
			res, err := req.ListRoots(mcp.WithInputKey(ctx, "client_roots"))
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("Found %d root(s)", len(res.Roots)), nil
		})

	confirm := func(name string) {
		mcp.AddTool(s, &protocol.Tool{Name: name, Description: "MRTR: asks for a confirmation; the answer comes back with an HMAC-protected requestState"},
			func(ctx context.Context, req *mcp.Request, _ Empty) (string, error) {
				res, err := req.Elicit(mcp.WithInputKey(ctx, "confirm"), &protocol.ElicitRequestParams{
					Message: "Please confirm",
					RequestedSchema: &protocol.ElicitSchema{
						Properties: map[string]protocol.PrimitiveSchema{"ok": &protocol.BooleanSchema{}},
						Required:   []string{"ok"},
					},
				})
				if err != nil {
					return "", err
				}
				return fmt.Sprintf("integrity-ok: action=%s, ok=%v", res.Action, res.Content["ok"]), nil
			})
	}
	confirm("test_input_required_result_request_state")
	confirm("test_input_required_result_tampered_state")

	mcp.AddTool(s, &protocol.Tool{Name: "test_input_required_result_multiple_inputs", Description: "MRTR: an elicitation, a sample and the roots in one round"},
		func(ctx context.Context, req *mcp.Request, _ Empty) (string, error) {
			name, _ := protocol.NewInputRequest(protocol.MethodElicitationCreate, askString("What is your name?", "name"))
			greeting, _ := protocol.NewInputRequest(protocol.MethodSamplingCreateMessage, &protocol.CreateMessageRequestParams{
				Messages:  []protocol.SamplingMessage{{Role: protocol.RoleUser, Content: protocol.SamplingContents{&protocol.TextContent{Text: "Generate a greeting"}}}},
				MaxTokens: 50,
			})
			roots, _ := protocol.NewInputRequest(protocol.MethodRootsList, nil)
			res, err := req.Input(ctx, protocol.InputRequests{"user_name": name, "greeting": greeting, "client_roots": roots})
			if err != nil {
				return "", err
			}
			var (
				er protocol.ElicitResult
				cm protocol.CreateMessageResult
				lr protocol.ListRootsResult
			)
			if err := decodeAll(res, map[string]any{"user_name": &er, "greeting": &cm, "client_roots": &lr}); err != nil {
				return "", err
			}
			return fmt.Sprintf("Name: %v; Greeting: %s; Roots: %d", er.Content["name"], samplingText(&cm), len(lr.Roots)), nil
		})

	mcp.AddTool(s, &protocol.Tool{Name: "test_input_required_result_multi_round", Description: "MRTR: two elicitations, one round each (step1, step2)"},
		func(ctx context.Context, req *mcp.Request, _ Empty) (string, error) {
			first, err := req.Elicit(mcp.WithInputKey(ctx, "step1"), askString("Step 1: What is your name?", "name"))
			if err != nil {
				return "", err
			}
			second, err := req.Elicit(mcp.WithInputKey(ctx, "step2"), askString("Step 2: What is your favorite color?", "color"))
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("Multi-round complete for %v who likes %v", first.Content["name"], second.Content["color"]), nil
		})

	mcp.AddTool(s, &protocol.Tool{Name: "test_input_required_result_capabilities", Description: "MRTR: asks only for what the client declared (elicit_input, sample_input)"},
		func(ctx context.Context, req *mcp.Request, _ Empty) (string, error) {
			caps := req.ClientCapabilities()
			ins := protocol.InputRequests{}
			if caps.SupportsElicitationForm() {
				ins["elicit_input"], _ = protocol.NewInputRequest(protocol.MethodElicitationCreate, askString("Elicitation input", "value"))
			}
			if caps.SupportsSampling() {
				ins["sample_input"], _ = protocol.NewInputRequest(protocol.MethodSamplingCreateMessage, &protocol.CreateMessageRequestParams{
					Messages:  []protocol.SamplingMessage{{Role: protocol.RoleUser, Content: protocol.SamplingContents{&protocol.TextContent{Text: "Sample request"}}}},
					MaxTokens: 50,
				})
			}
			if len(ins) == 0 {
				return "No supported capabilities declared", nil
			}
			res, err := req.Input(ctx, ins)
			if err != nil {
				return "", err
			}
			keys := make([]string, 0, len(res))
			for k := range res {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			return "capabilities-ok: received " + strings.Join(keys, ","), nil
		})

	mcp.AddTool(s, &protocol.Tool{Name: "test_streaming_elicitation", Description: "Diagnostic tool: reports progress on its response stream, then answers"},
		func(ctx context.Context, req *mcp.Request, _ Empty) (string, error) {
			if err := req.Progress(ctx, 50, 100, "half way"); err != nil {
				return "", err
			}
			return "Streaming complete", nil
		})

	mcp.AddTool(s, &protocol.Tool{Name: "test_logging_tool", Description: "Diagnostic tool: logs one info message (sent only when the request asks for a log level)"},
		func(ctx context.Context, req *mcp.Request, _ Empty) (string, error) {
			if err := req.Log(ctx, protocol.LoggingLevelInfo, "everything", "Diagnostic trace logging activated"); err != nil {
				return "", err
			}
			return "Logging evaluated", nil
		})

	var toolFlip, promptFlip atomic.Bool
	mcp.AddTool(s, &protocol.Tool{Name: "test_trigger_tool_change", Description: "Adds or removes the tool dynamic_tool, so that subscribers hear of a tools list change"},
		func(ctx context.Context, req *mcp.Request, _ Empty) (string, error) {
			if toolFlip.Load() {
				s.RemoveTools("dynamic_tool")
			} else {
				mcp.AddTool(s, &protocol.Tool{Name: "dynamic_tool", Description: "Appears and disappears with test_trigger_tool_change"},
					func(ctx context.Context, req *mcp.Request, _ Empty) (string, error) { return "dynamic", nil })
			}
			toolFlip.Store(!toolFlip.Load())
			return "Mutation triggered", nil
		})
	mcp.AddTool(s, &protocol.Tool{Name: "test_trigger_prompt_change", Description: "Adds or removes the prompt dynamic_prompt, so that subscribers hear of a prompts list change"},
		func(ctx context.Context, req *mcp.Request, _ Empty) (string, error) {
			if promptFlip.Load() {
				s.RemovePrompts("dynamic_prompt")
			} else {
				s.AddPrompt(&protocol.Prompt{Name: "dynamic_prompt", Description: "Appears and disappears with test_trigger_prompt_change"},
					func(ctx context.Context, req *mcp.Request, args map[string]string) (*protocol.GetPromptResult, error) {
						return &protocol.GetPromptResult{Messages: []protocol.PromptMessage{{Role: protocol.RoleUser, Content: &protocol.TextContent{Text: "dynamic"}}}}, nil
					})
			}
			promptFlip.Store(!promptFlip.Load())
			return "Mutation triggered", nil
		})

	s.AddTool(&protocol.Tool{Name: "test_custom_headers", Description: "Mirrors its annotated arguments in Mcp-Param-* headers (x-mcp-header); the server checks them against the body",
		InputSchema: jsontext.Value(`{"type":"object","properties":{` +
			`"region":{"type":"string","description":"Region to route to","x-mcp-header":"Region"},` +
			`"priority":{"type":"integer","description":"Priority","x-mcp-header":"Priority"},` +
			`"verbose":{"type":"boolean","description":"Verbose output","x-mcp-header":"Verbose"},` +
			`"query":{"type":"string","description":"Not mirrored"}},"required":["region"]}`)},
		func(ctx context.Context, req *mcp.Request, call *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
			return mcp.TextResult("Custom headers checked: " + string(call.Arguments)), nil
		})

	addTaskFixtures(s)

	s.AddPrompt(&protocol.Prompt{Name: "test_input_required_result_prompt", Description: "MRTR: a prompt that asks for context with an elicitation (input key user_context)"},
		func(ctx context.Context, req *mcp.Request, args map[string]string) (*protocol.GetPromptResult, error) {
			res, err := req.Elicit(mcp.WithInputKey(ctx, "user_context"), askString("What context should the prompt use?", "context"))
			if err != nil {
				return nil, err
			}
			return &protocol.GetPromptResult{Messages: []protocol.PromptMessage{{Role: protocol.RoleUser,
				Content: &protocol.TextContent{Text: fmt.Sprintf("Prompt with context: %v", res.Content["context"])}}}}, nil
		})
}

// askString is a form elicitation for one required string field.
func askString(message, field string) *protocol.ElicitRequestParams {
	return &protocol.ElicitRequestParams{
		Mode:    protocol.ElicitModeForm,
		Message: message,
		RequestedSchema: &protocol.ElicitSchema{
			Properties: map[string]protocol.PrimitiveSchema{field: &protocol.StringSchema{}},
			Required:   []string{field},
		},
	}
}

func samplingText(res *protocol.CreateMessageResult) string {
	for _, c := range res.Content {
		if t, ok := c.(*protocol.TextContent); ok {
			return t.Text
		}
	}
	return "no response"
}

func decodeAll(res protocol.InputResponses, into map[string]any) error {
	for k, v := range into {
		raw := res[k]
		if len(raw) == 0 {
			raw = jsontext.Value(`{}`)
		}
		if err := json.Unmarshal(raw, v, protocol.UnionUnmarshalers); err != nil {
			return fmt.Errorf("input %s: %w", k, err)
		}
	}
	return nil
}

// GreetInput is the input of greet.
type GreetInput struct {
	Name string `json:"name,omitzero" description:"Who to greet"`
}

// ComputeInput is the input of slow_compute.
type ComputeInput struct {
	Seconds float64 `json:"seconds,omitzero" description:"How long to work" jsonschema:"minimum=0,maximum=60"`
}

// addTaskFixtures adds the tools the tasks extension's conformance
// scenarios expect: a plain tool and tools that become tasks for clients
// that declare io.modelcontextprotocol/tasks.
func addTaskFixtures(s *mcp.Server) {
	optional := &protocol.ToolExecution{TaskSupport: protocol.TaskSupportOptional}
	mcp.AddTool(s, &protocol.Tool{Name: "greet", Description: "Greets synchronously (never a task)"},
		func(ctx context.Context, req *mcp.Request, in GreetInput) (string, error) {
			if in.Name == "" {
				in.Name = "world"
			}
			return fmt.Sprintf("Hello, %s!", in.Name), nil
		})
	mcp.AddTool(s, &protocol.Tool{Name: "slow_compute", Description: "Works for `seconds` seconds; a task for clients with the tasks extension", Execution: optional},
		func(ctx context.Context, req *mcp.Request, in ComputeInput) (string, error) {
			if err := sleep(ctx, time.Duration(in.Seconds*float64(time.Second))); err != nil {
				return "", err
			}
			return fmt.Sprintf("Computed after %gs", in.Seconds), nil
		})
	mcp.AddTool(s, &protocol.Tool{Name: "failing_job", Description: "Always ends with a tool error; runs only as a task",
		Execution: &protocol.ToolExecution{TaskSupport: protocol.TaskSupportRequired}},
		func(ctx context.Context, req *mcp.Request, _ Empty) (string, error) {
			if err := sleep(ctx, 500*time.Millisecond); err != nil {
				return "", err
			}
			return "", fmt.Errorf("the job failed")
		})
	mcp.AddTool(s, &protocol.Tool{Name: "protocol_error_job", Description: "Always ends with a protocol error", Execution: optional},
		func(ctx context.Context, req *mcp.Request, _ Empty) (string, error) {
			return "", &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "internal failure of protocol_error_job"}
		})
	mcp.AddTool(s, &protocol.Tool{Name: "confirm_delete", Description: "Asks for a confirmation (one elicitation), then completes", Execution: optional},
		func(ctx context.Context, req *mcp.Request, _ Empty) (string, error) {
			res, err := req.Elicit(ctx, &protocol.ElicitRequestParams{Mode: protocol.ElicitModeForm, Message: "Delete the item?",
				RequestedSchema: &protocol.ElicitSchema{Properties: map[string]protocol.PrimitiveSchema{"confirm": &protocol.BooleanSchema{}}}})
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("Deletion %s (confirm=%v)", res.Action, res.Content["confirm"]), nil
		})
	// Gathers input through multi round-trip requests, then becomes a
	// task (the tasks-mrtr-composition scenario): its task's result names
	// the user given in the first round.
	s.AddTool(&protocol.Tool{Name: "test_tool_with_task", Description: "Asks for a user name (input_required), then continues as a task that greets them",
		InputSchema: jsontext.Value(`{"type":"object","properties":{}}`),
		Execution:   &protocol.ToolExecution{TaskSupport: protocol.TaskSupportRequired}},
		func(ctx context.Context, req *mcp.Request, _ *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
			res, err := req.Elicit(mcp.WithInputKey(ctx, "user_name"), askString("What is your name?", "name"))
			if err != nil {
				return nil, err
			}
			name, _ := res.Content["name"].(string)
			if res.Action != protocol.ElicitActionAccept || name == "" {
				name = "anonymous"
			}
			return req.StartTask(ctx, func(ctx context.Context, _ *mcp.Request) (*protocol.CallToolResult, error) {
				if err := sleep(ctx, 100*time.Millisecond); err != nil {
					return nil, err
				}
				return mcp.TextResult(fmt.Sprintf("Hello, %s! (from a task)", name)), nil
			})
		}, mcp.WithTaskAfterInput())
	mcp.AddTool(s, &protocol.Tool{Name: "multi_input", Description: "Asks for two inputs at once, then completes", Execution: optional},
		func(ctx context.Context, req *mcp.Request, _ Empty) (string, error) {
			first, _ := protocol.NewInputRequest(protocol.MethodElicitationCreate, askString("First value?", "value"))
			second, _ := protocol.NewInputRequest(protocol.MethodElicitationCreate, askString("Second value?", "value"))
			res, err := req.Input(ctx, protocol.InputRequests{"first": first, "second": second})
			if err != nil {
				return "", err
			}
			var a, b protocol.ElicitResult
			if err := decodeAll(res, map[string]any{"first": &a, "second": &b}); err != nil {
				return "", err
			}
			return fmt.Sprintf("Inputs: %v, %v", a.Content["value"], b.Content["value"]), nil
		})
}
