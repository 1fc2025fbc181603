package main

import (
	"context"
	"fmt"
	"os"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
)

// The everything client under the pre-release conformance suite (0.2.x),
// which names the revision to speak in MCP_CONFORMANCE_PROTOCOL_VERSION and
// has client scenarios of revision 2026-07-28 (see conformance-next/).

// conformanceRevision makes the client speak the revision the suite asks
// for when it is a stateless one (2026-07-28); other revisions keep the
// initialize handshake.
func conformanceRevision(opts *mcp.ClientOptions) {
	if v := os.Getenv("MCP_CONFORMANCE_PROTOCOL_VERSION"); protocol.IsModernVersion(v) {
		opts.ProtocolVersion = v
	}
}

// modernScenario returns what the client does in the client scenarios the
// 0.2.x suite added, after connecting and listing the tools (nil: nothing
// more). Tool failures are the scenario's business: the checks are about
// what the client sends.
func modernScenario(scenario, scenarioCtx string, opts *mcp.ClientOptions, logf func(string, ...any)) func(context.Context, *mcp.ClientSession) error {
	switch scenario {
	case "sep-2322-client-request-state":
		opts.Elicit = func(_ context.Context, _ *mcp.ClientSession, p *protocol.ElicitRequestParams) (*protocol.ElicitResult, error) {
			logf("input request %q: accepting", p.Message)
			return &protocol.ElicitResult{Action: protocol.ElicitActionAccept, Content: map[string]any{"confirmed": true}}, nil
		}
		return func(ctx context.Context, cs *mcp.ClientSession) error {
			for _, name := range []string{"test_mrtr_echo_state", "test_mrtr_unrelated", "test_mrtr_no_state", "test_mrtr_no_result_type"} {
				if _, err := cs.CallToolArgs(ctx, name, map[string]any{}); err != nil {
					logf("%s: %v", name, err)
				}
			}
			return nil
		}
	case "http-standard-headers", "http-invalid-tool-headers":
		return exerciseAll(logf)
	case "http-custom-headers":
		var c struct {
			ToolCalls []struct {
				Name      string         `json:"name"`
				Arguments jsontext.Value `json:"arguments"`
			} `json:"toolCalls"`
		}
		if scenarioCtx != "" {
			if err := json.Unmarshal([]byte(scenarioCtx), &c); err != nil {
				return func(context.Context, *mcp.ClientSession) error {
					return fmt.Errorf("MCP_CONFORMANCE_CONTEXT: %w", err)
				}
			}
		}
		return func(ctx context.Context, cs *mcp.ClientSession) error {
			for _, tc := range c.ToolCalls {
				if _, err := cs.CallTool(ctx, &protocol.CallToolRequestParams{Name: tc.Name, Arguments: tc.Arguments}); err != nil {
					logf("%s: %v", tc.Name, err)
				}
			}
			return nil
		}
	case "json-schema-2020-12-preservation":
		return func(ctx context.Context, cs *mcp.ClientSession) error {
			for tool, err := range cs.Tools(ctx) {
				if err != nil {
					return err
				}
				if tool.Name == "json_schema_2020_12_tool" {
					args, err := json.Marshal(map[string]jsontext.Value{"schema": tool.InputSchema})
					if err != nil {
						return err
					}
					_, err = cs.CallTool(ctx, &protocol.CallToolRequestParams{Name: "json_schema_echo", Arguments: args})
					return err
				}
			}
			return fmt.Errorf("json_schema_2020_12_tool is not listed")
		}
	}
	return nil
}

// exerciseAll calls every listed tool, reads every listed resource and
// gets every listed prompt, with empty arguments.
func exerciseAll(logf func(string, ...any)) func(context.Context, *mcp.ClientSession) error {
	return func(ctx context.Context, cs *mcp.ClientSession) error {
		for tool, err := range cs.Tools(ctx) {
			if err != nil {
				return err
			}
			if _, err := cs.CallToolArgs(ctx, tool.Name, map[string]any{}); err != nil {
				logf("%s: %v", tool.Name, err)
			}
		}
		for r, err := range cs.Resources(ctx) {
			if err != nil {
				logf("resources/list: %v", err)
				break
			}
			if _, err := cs.ReadResource(ctx, r.URI); err != nil {
				logf("%s: %v", r.URI, err)
			}
		}
		for p, err := range cs.Prompts(ctx) {
			if err != nil {
				logf("prompts/list: %v", err)
				break
			}
			if _, err := cs.GetPrompt(ctx, p.Name, nil); err != nil {
				logf("%s: %v", p.Name, err)
			}
		}
		return nil
	}
}
