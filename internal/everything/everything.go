// Package everything builds the demo server behind `switchboard demo
// everything`: every fixture the official MCP conformance suite's server
// scenarios expect (tools, resources, templates, prompts, completion,
// logging, sampling, elicitation, SSE polling), plus an echo tool, a
// task-capable tool and two MCP Apps (a counter that calls a tool back, a
// view of the host context).
package everything

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/apps"
	"github.com/switchboard-mcp/switchboard/jsonschema"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
)

// A 1×1 PNG and a tiny WAV, as the conformance fixtures use.
var (
	testImage = mustBase64("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==")
	testAudio = mustBase64("UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=")
)

func mustBase64(s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// WatchedURI is the resource whose updates the demo announces.
const WatchedURI = "test://watched-resource"

// NewServer returns the demo server.
func NewServer(opts *mcp.ServerOptions) *mcp.Server {
	var o mcp.ServerOptions
	if opts != nil {
		o = *opts
	}
	o.ListFilter = schemaFormFilter(o.ListFilter)
	opts = &o
	s := mcp.NewServer(protocol.Implementation{
		Name:    "switchboard-everything",
		Title:   "Switchboard everything demo",
		Version: "1.0.0",
	}, apps.Declare(opts))
	addTools(s)
	addResources(s)
	addPrompts(s)
	addV2026(s)
	addApps(s)
	return s
}

// The two forms of json_schema_2020_12_tool's input schema.
const jsonSchemaTool = "json_schema_2020_12_tool"

var (
	jsonSchema2020Legacy = jsontext.Value(`{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object",` +
		`"$defs":{"address":{"type":"object","properties":{"street":{"type":"string"},"city":{"type":"string"}}}},` +
		`"properties":{"name":{"type":"string"},"address":{"$ref":"#/$defs/address"}},"additionalProperties":false}`)
	jsonSchema2020Modern = jsontext.Value(`{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object",` +
		`"$defs":{"address":{"$anchor":"addressDef","type":"object","properties":{"street":{"type":"string"},"city":{"type":"string"}}}},` +
		`"properties":{"name":{"type":"string"},"address":{"$ref":"#/$defs/address"},"contactMethod":{"type":"string","enum":["phone","email"]},` +
		`"phone":{"type":"string"},"email":{"type":"string"}},` +
		`"allOf":[{"anyOf":[{"required":["phone"]},{"required":["email"]}]}],` +
		`"if":{"properties":{"contactMethod":{"const":"phone"}},"required":["contactMethod"]},"then":{"required":["phone"]},"else":{"required":["email"]},` +
		`"additionalProperties":false}`)
	jsonSchemaLegacyValidator = mustCompile(jsonSchema2020Legacy)
	jsonSchemaModernValidator = mustCompile(jsonSchema2020Modern)
)

func mustCompile(schema jsontext.Value) *jsonschema.Validator {
	v, err := jsonschema.Compile(schema)
	if err != nil {
		panic(err)
	}
	return v
}

// isModern reports whether version is a stateless revision (2026-07-28 or
// later).
func isModern(version string) bool { return version >= protocol.Version20260728 }

// schemaFormFilter shows json_schema_2020_12_tool in its 2026-07-28 form
// to clients of that revision, then applies next (the caller's filter).
func schemaFormFilter(next func(context.Context, *mcp.Request, any) any) func(context.Context, *mcp.Request, any) any {
	return func(ctx context.Context, r *mcp.Request, item any) any {
		if t, ok := item.(*protocol.Tool); ok && t.Name == jsonSchemaTool && r != nil && isModern(r.ProtocolVersion()) {
			cp := *t
			cp.InputSchema = jsonSchema2020Modern
			item = &cp
		}
		if next != nil {
			return next(ctx, r, item)
		}
		return item
	}
}

// Empty is the input of tools that take no arguments.
type Empty struct{}

// EchoInput is the input of the echo tool.
type EchoInput struct {
	Text string `json:"text" description:"The text to echo back"`
}

// SamplingInput is the input of test_sampling.
type SamplingInput struct {
	Prompt string `json:"prompt" description:"The prompt to send to the LLM"`
}

// ElicitationInput is the input of test_elicitation.
type ElicitationInput struct {
	Message string `json:"message" description:"The message to show the user"`
}

// AddInput is the input of the add tool.
type AddInput struct {
	A float64 `json:"a" description:"First number"`
	B float64 `json:"b" description:"Second number"`
}

// AddOutput is the structured output of the add tool.
type AddOutput struct {
	Sum float64 `json:"sum" description:"a + b"`
}

// CountInput is the input of the count_slowly tool.
type CountInput struct {
	To      int `json:"to" description:"Count from 1 to this number" jsonschema:"minimum=1,maximum=100"`
	DelayMS int `json:"delayMs,omitzero" description:"Milliseconds between numbers" jsonschema:"minimum=0,maximum=10000,default=100"`
}

func text(s string) []protocol.Content {
	return []protocol.Content{&protocol.TextContent{Text: s}}
}

func addTools(s *mcp.Server) {
	mcp.AddTool(s, &protocol.Tool{Name: "echo", Description: "Returns its text argument as one text block",
		Annotations: &protocol.ToolAnnotations{ReadOnlyHint: ptr(true), OpenWorldHint: ptr(false)}},
		func(ctx context.Context, req *mcp.Request, in EchoInput) (string, error) {
			return in.Text, nil
		})

	mcp.AddTool(s, &protocol.Tool{Name: "add", Title: "Add two numbers", Description: "Adds a and b"},
		func(ctx context.Context, req *mcp.Request, in AddInput) (AddOutput, error) {
			return AddOutput{Sum: in.A + in.B}, nil
		})

	mcp.AddTool(s, &protocol.Tool{Name: "test_simple_text", Description: "Tests simple text content response"},
		func(ctx context.Context, req *mcp.Request, _ Empty) (string, error) {
			return "This is a simple text response for testing.", nil
		})

	mcp.AddTool(s, &protocol.Tool{Name: "test_image_content", Description: "Tests image content response"},
		func(ctx context.Context, req *mcp.Request, _ Empty) ([]protocol.Content, error) {
			return []protocol.Content{&protocol.ImageContent{Data: testImage, MIMEType: "image/png"}}, nil
		})

	mcp.AddTool(s, &protocol.Tool{Name: "test_audio_content", Description: "Tests audio content response"},
		func(ctx context.Context, req *mcp.Request, _ Empty) ([]protocol.Content, error) {
			return []protocol.Content{&protocol.AudioContent{Data: testAudio, MIMEType: "audio/wav"}}, nil
		})

	mcp.AddTool(s, &protocol.Tool{Name: "test_embedded_resource", Description: "Tests embedded resource content response"},
		func(ctx context.Context, req *mcp.Request, _ Empty) ([]protocol.Content, error) {
			return []protocol.Content{&protocol.EmbeddedResource{Resource: &protocol.TextResourceContents{
				URI: "test://embedded-resource", MIMEType: "text/plain", Text: "This is an embedded resource content.",
			}}}, nil
		})

	mcp.AddTool(s, &protocol.Tool{Name: "test_multiple_content_types", Description: "Tests response with multiple content types (text, image, resource)"},
		func(ctx context.Context, req *mcp.Request, _ Empty) ([]protocol.Content, error) {
			return []protocol.Content{
				&protocol.TextContent{Text: "Multiple content types test:"},
				&protocol.ImageContent{Data: testImage, MIMEType: "image/png"},
				&protocol.EmbeddedResource{Resource: &protocol.TextResourceContents{
					URI: "test://mixed-content-resource", MIMEType: "application/json", Text: `{"test":"data","value":123}`,
				}},
			}, nil
		})

	mcp.AddTool(s, &protocol.Tool{Name: "test_tool_with_logging", Description: "Tests tool that emits log messages during execution"},
		func(ctx context.Context, req *mcp.Request, _ Empty) (string, error) {
			for i, msg := range []string{"Tool execution started", "Tool processing data", "Tool execution completed"} {
				if i > 0 {
					if err := sleep(ctx, 50*time.Millisecond); err != nil {
						return "", err
					}
				}
				if err := req.Log(ctx, protocol.LoggingLevelInfo, "everything", msg); err != nil {
					return "", err
				}
			}
			return "Tool with logging executed successfully", nil
		})

	mcp.AddTool(s, &protocol.Tool{Name: "test_tool_with_progress", Description: "Tests tool that reports progress notifications"},
		func(ctx context.Context, req *mcp.Request, _ Empty) (string, error) {
			for i, p := range []float64{0, 50, 100} {
				if i > 0 {
					if err := sleep(ctx, 50*time.Millisecond); err != nil {
						return "", err
					}
				}
				if err := req.Progress(ctx, p, 100, fmt.Sprintf("Completed step %g of 100", p)); err != nil {
					return "", err
				}
			}
			tok, _ := req.Meta().ProgressToken()
			return tok.String(), nil
		})

	mcp.AddTool(s, &protocol.Tool{Name: "test_error_handling", Description: "Tests error response handling"},
		func(ctx context.Context, req *mcp.Request, _ Empty) (string, error) {
			return "", fmt.Errorf("This tool intentionally returns an error for testing")
		})

	mcp.AddTool(s, &protocol.Tool{Name: "test_reconnection",
		Description: "Tests SSE stream disconnection and client reconnection (SEP-1699): the server closes the stream mid-call and sends the result after the client reconnects."},
		func(ctx context.Context, req *mcp.Request, _ Empty) (string, error) {
			req.CloseStream(500 * time.Millisecond)
			if err := sleep(ctx, 100*time.Millisecond); err != nil {
				return "", err
			}
			return "Reconnection test completed successfully. If you received this, the client properly reconnected after stream closure.", nil
		})

	mcp.AddTool(s, &protocol.Tool{Name: "test_sampling", Description: "Tests server-initiated sampling (LLM completion request)"},
		func(ctx context.Context, req *mcp.Request, in SamplingInput) (string, error) {
			res, err := req.CreateMessage(ctx, &protocol.CreateMessageRequestParams{
				Messages:  []protocol.SamplingMessage{{Role: protocol.RoleUser, Content: []protocol.SamplingContent{&protocol.TextContent{Text: in.Prompt}}}},
				MaxTokens: 100,
			})
			if err != nil {
				return "", fmt.Errorf("sampling failed: %w", err)
			}
			reply := "No response"
			for _, c := range res.Content {
				if t, ok := c.(*protocol.TextContent); ok {
					reply = t.Text
					break
				}
			}
			return "LLM response: " + reply, nil
		})

	mcp.AddTool(s, &protocol.Tool{Name: "test_elicitation", Description: "Tests server-initiated elicitation (user input request)"},
		func(ctx context.Context, req *mcp.Request, in ElicitationInput) (string, error) {
			res, err := req.Elicit(ctx, &protocol.ElicitRequestParams{
				Message: in.Message,
				RequestedSchema: &protocol.ElicitSchema{
					Properties: map[string]protocol.PrimitiveSchema{
						"response": &protocol.StringSchema{Description: "User's response"},
					},
					Required: []string{"response"},
				},
			})
			if err != nil {
				return "", fmt.Errorf("elicitation failed: %w", err)
			}
			return fmt.Sprintf("User response: action=%s, content=%s", res.Action, compact(res.Content)), nil
		})

	mcp.AddTool(s, &protocol.Tool{Name: "test_elicitation_sep1034_defaults", Description: "Tests elicitation with default values per SEP-1034"},
		func(ctx context.Context, req *mcp.Request, _ Empty) (string, error) {
			res, err := req.Elicit(ctx, &protocol.ElicitRequestParams{
				Message: "Please review and update the form fields with defaults",
				RequestedSchema: &protocol.ElicitSchema{
					Properties: map[string]protocol.PrimitiveSchema{
						"name":     &protocol.StringSchema{Description: "User name", Default: ptr("John Doe")},
						"age":      &protocol.NumberSchema{Type: "integer", Description: "User age", Default: ptr(30.0)},
						"score":    &protocol.NumberSchema{Type: "number", Description: "User score", Default: ptr(95.5)},
						"status":   &protocol.UntitledSingleSelectEnumSchema{Description: "User status", Enum: []string{"active", "inactive", "pending"}, Default: "active"},
						"verified": &protocol.BooleanSchema{Description: "Verification status", Default: ptr(true)},
					},
					Required: []string{},
				},
			})
			if err != nil {
				return "", fmt.Errorf("elicitation failed: %w", err)
			}
			return fmt.Sprintf("Elicitation completed: action=%s, content=%s", res.Action, compact(res.Content)), nil
		})

	mcp.AddTool(s, &protocol.Tool{Name: "test_elicitation_sep1330_enums", Description: "Tests elicitation with enum schema improvements per SEP-1330"},
		func(ctx context.Context, req *mcp.Request, _ Empty) (string, error) {
			res, err := req.Elicit(ctx, &protocol.ElicitRequestParams{
				Message: "Please select options from the enum fields",
				RequestedSchema: &protocol.ElicitSchema{
					Properties: map[string]protocol.PrimitiveSchema{
						"untitledSingle": &protocol.UntitledSingleSelectEnumSchema{Description: "Select one option", Enum: []string{"option1", "option2", "option3"}},
						"titledSingle": &protocol.TitledSingleSelectEnumSchema{Description: "Select one option with titles", OneOf: []protocol.EnumOption{
							{Const: "value1", Title: "First Option"}, {Const: "value2", Title: "Second Option"}, {Const: "value3", Title: "Third Option"}}},
						"legacyEnum": &protocol.LegacyTitledEnumSchema{Description: "Select one option (legacy)", Enum: []string{"opt1", "opt2", "opt3"},
							EnumNames: []string{"Option One", "Option Two", "Option Three"}},
						"untitledMulti": &protocol.UntitledMultiSelectEnumSchema{Description: "Select multiple options", MinItems: ptr(1), MaxItems: ptr(3),
							Items: protocol.UntitledEnumItems{Enum: []string{"option1", "option2", "option3"}}},
						"titledMulti": &protocol.TitledMultiSelectEnumSchema{Description: "Select multiple options with titles", MinItems: ptr(1), MaxItems: ptr(3),
							Items: protocol.TitledEnumItems{AnyOf: []protocol.EnumOption{
								{Const: "value1", Title: "First Choice"}, {Const: "value2", Title: "Second Choice"}, {Const: "value3", Title: "Third Choice"}}}},
					},
					Required: []string{},
				},
			})
			if err != nil {
				return "", fmt.Errorf("elicitation failed: %w", err)
			}
			return fmt.Sprintf("Elicitation completed: action=%s, content=%s", res.Action, compact(res.Content)), nil
		})

	// json_schema_2020_12_tool in two forms: the 0.1.16 suite's (which
	// the interop matrix calls with {name, address}) for clients before
	// 2026-07-28, and the pre-release suite's, with the keywords SEP-2106
	// allows (allOf/anyOf, if/then/else, $anchor), for 2026-07-28 clients
	// (see ListFilter in NewServer). Arguments are validated against the
	// form the client was shown.
	s.AddTool(&protocol.Tool{
		Name:        jsonSchemaTool,
		Description: "Tool with JSON Schema 2020-12 features for conformance testing (SEP-1613)",
		InputSchema: jsonSchema2020Legacy,
	}, func(ctx context.Context, req *mcp.Request, call *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
		args := call.Arguments
		if len(args) == 0 || string(args) == "null" {
			args = jsontext.Value("{}")
		}
		v := jsonSchemaLegacyValidator
		if isModern(req.ProtocolVersion()) {
			v = jsonSchemaModernValidator
		}
		if err := v.ValidateJSON(args); err != nil {
			return mcp.ErrorResult(fmt.Errorf("invalid arguments for tool %q: %v", jsonSchemaTool, err)), nil
		}
		return mcp.TextResult("JSON Schema 2020-12 tool called with: " + string(args)), nil
	}, mcp.WithoutValidation())

	mcp.AddTool(s, &protocol.Tool{Name: "count_slowly", Title: "Count slowly",
		Description: "Counts from 1 to `to`, reporting progress; can run as a task (tasks/get, tasks/result)",
		Execution:   &protocol.ToolExecution{TaskSupport: protocol.TaskSupportOptional}},
		func(ctx context.Context, req *mcp.Request, in CountInput) (string, error) {
			delay := time.Duration(in.DelayMS) * time.Millisecond
			for i := 1; i <= in.To; i++ {
				if err := sleep(ctx, delay); err != nil {
					// On stderr too, where a gateway's tests see that the
					// client's cancellation reached this upstream.
					fmt.Fprintf(os.Stderr, "count_slowly: stopped at %d of %d: %v\n", i-1, in.To, context.Cause(ctx))
					return "", err
				}
				if err := req.Progress(ctx, float64(i), float64(in.To), fmt.Sprintf("counted %d", i)); err != nil {
					return "", err
				}
			}
			return fmt.Sprintf("counted to %d", in.To), nil
		})
}

func addResources(s *mcp.Server) {
	s.AddResource(&protocol.Resource{URI: "test://static-text", Name: "static-text", Title: "Static Text Resource",
		Description: "A static text resource for testing", MIMEType: "text/plain"},
		func(ctx context.Context, req *mcp.Request, uri string, _ map[string]string) (*protocol.ReadResourceResult, error) {
			return mcp.TextResource(uri, "text/plain", "This is the content of the static text resource."), nil
		})
	s.AddResource(&protocol.Resource{URI: "test://static-binary", Name: "static-binary", Title: "Static Binary Resource",
		Description: "A static binary resource (image) for testing", MIMEType: "image/png"},
		func(ctx context.Context, req *mcp.Request, uri string, _ map[string]string) (*protocol.ReadResourceResult, error) {
			return mcp.BlobResource(uri, "image/png", testImage), nil
		})
	s.AddResource(&protocol.Resource{URI: WatchedURI, Name: "watched-resource", Title: "Watched Resource",
		Description: "A resource clients can subscribe to; `switchboard demo everything` updates it every few seconds", MIMEType: "text/plain"},
		func(ctx context.Context, req *mcp.Request, uri string, _ map[string]string) (*protocol.ReadResourceResult, error) {
			return mcp.TextResource(uri, "text/plain", "Watched resource content"), nil
		})
	s.AddResourceTemplate(&protocol.ResourceTemplate{URITemplate: "test://template/{id}/data", Name: "template",
		Title: "Resource Template", Description: "A resource template with parameter substitution", MIMEType: "application/json"},
		func(ctx context.Context, req *mcp.Request, uri string, vars map[string]string) (*protocol.ReadResourceResult, error) {
			id := vars["id"]
			b, _ := json.Marshal(map[string]any{"id": id, "templateTest": true, "data": "Data for ID: " + id}, json.Deterministic(true))
			return mcp.TextResource(uri, "application/json", string(b)), nil
		})
}

func addPrompts(s *mcp.Server) {
	user := func(c protocol.Content) protocol.PromptMessage {
		return protocol.PromptMessage{Role: protocol.RoleUser, Content: c}
	}
	s.AddPrompt(&protocol.Prompt{Name: "test_simple_prompt", Title: "Simple Test Prompt", Description: "A simple prompt without arguments"},
		func(ctx context.Context, req *mcp.Request, args map[string]string) (*protocol.GetPromptResult, error) {
			return &protocol.GetPromptResult{Messages: []protocol.PromptMessage{
				user(&protocol.TextContent{Text: "This is a simple prompt for testing."}),
			}}, nil
		})
	s.AddPrompt(&protocol.Prompt{Name: "test_prompt_with_arguments", Title: "Prompt With Arguments", Description: "A prompt with required arguments",
		Arguments: []protocol.PromptArgument{
			{Name: "arg1", Description: "First test argument", Required: true},
			{Name: "arg2", Description: "Second test argument", Required: true},
		}},
		func(ctx context.Context, req *mcp.Request, args map[string]string) (*protocol.GetPromptResult, error) {
			return &protocol.GetPromptResult{Messages: []protocol.PromptMessage{
				user(&protocol.TextContent{Text: fmt.Sprintf("Prompt with arguments: arg1='%s', arg2='%s'", args["arg1"], args["arg2"])}),
			}}, nil
		},
		mcp.WithPromptCompleter(func(ctx context.Context, req *mcp.Request, arg, value string, _ map[string]string) (*protocol.Completion, error) {
			var out []string
			for _, v := range []string{"alpha", "beta", "gamma", "paris", "park"} {
				if len(value) <= len(v) && v[:len(value)] == value {
					out = append(out, v)
				}
			}
			return &protocol.Completion{Values: out, Total: len(out)}, nil
		}))
	s.AddPrompt(&protocol.Prompt{Name: "test_prompt_with_embedded_resource", Title: "Prompt With Embedded Resource",
		Description: "A prompt that includes an embedded resource",
		Arguments:   []protocol.PromptArgument{{Name: "resourceUri", Description: "URI of the resource to embed", Required: true}}},
		func(ctx context.Context, req *mcp.Request, args map[string]string) (*protocol.GetPromptResult, error) {
			return &protocol.GetPromptResult{Messages: []protocol.PromptMessage{
				user(&protocol.EmbeddedResource{Resource: &protocol.TextResourceContents{URI: args["resourceUri"], MIMEType: "text/plain", Text: "Embedded resource content for testing."}}),
				user(&protocol.TextContent{Text: "Please process the embedded resource above."}),
			}}, nil
		})
	s.AddPrompt(&protocol.Prompt{Name: "test_prompt_with_image", Title: "Prompt With Image", Description: "A prompt that includes image content"},
		func(ctx context.Context, req *mcp.Request, args map[string]string) (*protocol.GetPromptResult, error) {
			return &protocol.GetPromptResult{Messages: []protocol.PromptMessage{
				user(&protocol.ImageContent{Data: testImage, MIMEType: "image/png"}),
				user(&protocol.TextContent{Text: "Please analyze the image above."}),
			}}, nil
		})
}

// UpdateWatched announces an update of the watched resource every interval
// until ctx ends.
func UpdateWatched(ctx context.Context, s *mcp.Server, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.ResourceUpdated(ctx, WatchedURI)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func compact(v any) string {
	if v == nil {
		return "{}"
	}
	b, err := json.Marshal(v, json.Deterministic(true))
	if err != nil {
		return "{}"
	}
	return string(b)
}

func ptr[T any](v T) *T { return &v }
