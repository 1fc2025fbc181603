package mcp_test

// Tests of the hooks a proxy (such as Switchboard's gateway) builds on:
// Batch, WithoutValidation, CallToolResult.Raw and ResourceFallback.

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
)

func TestBatchSendsOneListChangedPerKind(t *testing.T) {
	srv := mcp.NewServer(srvImpl, nil)
	defer srv.Close()
	h := newSessHarness(t, srv)
	h.initialize(protocol.LatestVersion, protocol.ClientCapabilities{})
	noop := func(context.Context, *mcp.Request, *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
		return nil, nil
	}
	srv.Batch(func() {
		for _, name := range []string{"a", "b", "c"} {
			srv.AddTool(&protocol.Tool{Name: name}, noop)
		}
		srv.Batch(func() { srv.RemoveTools("b") }) // nested
		srv.AddPrompt(&protocol.Prompt{Name: "p"}, func(context.Context, *mcp.Request, map[string]string) (*protocol.GetPromptResult, error) {
			return &protocol.GetPromptResult{}, nil
		})
		if n := len(h.out.requests(protocol.NotificationToolsListChanged)); n != 0 {
			t.Errorf("%d tools/list_changed sent inside the batch", n)
		}
	})
	if n := len(h.out.requests(protocol.NotificationToolsListChanged)); n != 1 {
		t.Errorf("tools/list_changed sent %d times, want 1", n)
	}
	if n := len(h.out.requests(protocol.NotificationPromptsListChanged)); n != 1 {
		t.Errorf("prompts/list_changed sent %d times, want 1", n)
	}
	if n := len(h.out.requests(protocol.NotificationResourcesListChanged)); n != 0 {
		t.Errorf("resources/list_changed sent %d times, want 0", n)
	}
	var list protocol.ListToolsResult
	h.mustCall(protocol.MethodToolsList, nil, &list)
	if len(list.Tools) != 2 {
		t.Errorf("tools after the batch: %v, want a and c", list.Tools)
	}
}

// A proxied tool: its schema need not compile, its arguments reach the
// handler unchecked, and its raw result is sent byte for byte, to
// 2025-11-25 sessions and to 2026-07-28 requests (decorated) alike.
func TestRawToolWithoutValidation(t *testing.T) {
	const raw = `{"content":[{"type":"text","text":"hi","x-future":1}],"isError":true,"x-extra":{"a":[1,2]}}`
	srv := mcp.NewServer(srvImpl, nil)
	defer srv.Close()
	var gotArgs string
	srv.AddTool(&protocol.Tool{Name: "proxied", InputSchema: jsontext.Value(`{"type":"object","properties":{"n":{"type":"integer","minimum":"not a number"}}}`)},
		func(_ context.Context, _ *mcp.Request, call *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
			gotArgs = string(call.Arguments)
			return &protocol.CallToolResult{IsError: true, Raw: jsontext.Value(raw)}, nil
		}, mcp.WithoutValidation())

	h := newSessHarness(t, srv)
	h.initialize(protocol.LatestVersion, protocol.ClientCapabilities{})
	resp, _ := h.request(protocol.MethodToolsCall, `{"name":"proxied","arguments":{"n":"x"}}`)
	if resp.Error != nil {
		t.Fatalf("call: %v", resp.Error)
	}
	if string(resp.Result) != raw {
		t.Errorf("result %s, want %s", resp.Result, raw)
	}
	if gotArgs != `{"n":"x"}` {
		t.Errorf("handler got arguments %s", gotArgs)
	}

	// Revision 2026-07-28: the raw result gains the revision's members.
	out := srv.HandleStateless(context.Background(), &jsonrpc.Request{ID: jsonrpc.Int64ID(1), Method: protocol.MethodToolsCall,
		Params: jsontext.Value(`{"name":"proxied","arguments":{},"_meta":{"` + protocol.MetaProtocolVersion + `":"2026-07-28","` + protocol.MetaClientCapabilities + `":{}}}`)},
		newFrameSink(t))
	for _, want := range []string{`"x-future":1`, `"x-extra":{"a":[1,2]}`, `"resultType":"complete"`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("2026-07-28 response %s lacks %s", out, want)
		}
	}
}

func TestResourceFallback(t *testing.T) {
	srv := mcp.NewServer(srvImpl, &mcp.ServerOptions{
		ResourceFallback: func(_ context.Context, _ *mcp.Request, uri string, vars map[string]string) (*protocol.ReadResourceResult, error) {
			if vars != nil {
				t.Errorf("fallback got vars %v", vars)
			}
			if uri == "x://missing" {
				return nil, mcp.ResourceNotFound(uri)
			}
			return mcp.TextResource(uri, "text/plain", "from the fallback"), nil
		},
	})
	defer srv.Close()
	srv.AddResource(&protocol.Resource{URI: "x://listed", Name: "listed"}, func(_ context.Context, _ *mcp.Request, uri string, _ map[string]string) (*protocol.ReadResourceResult, error) {
		return mcp.TextResource(uri, "text/plain", "listed"), nil
	})
	h := newSessHarness(t, srv)
	h.initialize(protocol.LatestVersion, protocol.ClientCapabilities{})
	for uri, want := range map[string]string{"x://listed": "listed", "x://other": "from the fallback"} {
		var res protocol.ReadResourceResult
		h.mustCall(protocol.MethodResourcesRead, map[string]string{"uri": uri}, &res)
		if got := res.Contents[0].(*protocol.TextResourceContents).Text; got != want {
			t.Errorf("read %s: %q, want %q", uri, got, want)
		}
	}
	if err := h.call(protocol.MethodResourcesRead, map[string]string{"uri": "x://missing"}, nil); err == nil || err.Code != protocol.CodeResourceNotFound {
		t.Errorf("read of a URI the fallback does not know: %v", err)
	}
	if err := h.call(protocol.MethodResourcesSubscribe, map[string]string{"uri": "x://other"}, nil); err != nil {
		t.Errorf("subscribe through the fallback: %v", err)
	}
}

// A handler keeps values across the rounds of a multi round-trip request
// with SetRequestState, and a client that wants the input_required result
// itself (WithInputRequiredResult) gets it as it came and retries itself.
func TestRequestStateCarryAndRawInputRequired(t *testing.T) {
	srv := mcp.NewServer(srvImpl, nil)
	defer srv.Close()
	runs := 0
	srv.AddTool(&protocol.Tool{Name: "ask"}, func(ctx context.Context, req *mcp.Request, _ *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
		runs++
		kept, ok := req.RequestState("round")
		if !ok {
			if err := req.SetRequestState("round", jsontext.Value(`{"n":1}`)); err != nil {
				return nil, err
			}
		}
		res, err := req.Elicit(mcp.WithInputKey(ctx, "who"), &protocol.ElicitRequestParams{Message: "who?", RequestedSchema: &protocol.ElicitSchema{}})
		if err != nil {
			return nil, err
		}
		return mcp.TextResult(fmt.Sprintf("%v kept=%s", res.Content["name"], kept)), nil
	})
	cs := c26Client(t, c26Pipe(t, srv), c26Handlers(&mcp.ClientOptions{ProtocolVersion: protocol.Version20260728}))
	ctx := mcp.WithInputRequiredResult(context.Background())
	var ir protocol.InputRequiredResult
	if err := cs.Call(ctx, protocol.MethodToolsCall, map[string]any{"name": "ask"}, &ir); err != nil {
		t.Fatal(err)
	}
	if ir.ResultType != protocol.ResultTypeInputRequired || ir.RequestState == "" || ir.InputRequests["who"].Method != protocol.MethodElicitationCreate {
		t.Fatalf("first round: %+v", ir)
	}
	var res protocol.CallToolResult
	err := cs.Call(ctx, protocol.MethodToolsCall, map[string]any{
		"name":           "ask",
		"requestState":   ir.RequestState,
		"inputResponses": map[string]any{"who": map[string]any{"action": "accept", "content": map[string]any{"name": "ada"}}},
	}, &res)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Content[0].(*protocol.TextContent).Text; got != `ada kept={"n":1}` || runs != 2 {
		t.Errorf("second round: %q after %d runs", got, runs)
	}
}

// ServerOptions.ListFilter filters what lists show, per request, and may
// show a modified copy; EditCapabilities adjusts what is declared.
func TestListFilterAndEditCapabilities(t *testing.T) {
	keep := func(ok bool, item any) any {
		if ok {
			return item
		}
		return nil
	}
	srv := mcp.NewServer(srvImpl, &mcp.ServerOptions{
		ListFilter: func(_ context.Context, r *mcp.Request, item any) any {
			switch v := item.(type) {
			case *protocol.Tool:
				if v.Name == "open" {
					c := *v
					c.Description = "edited for this request"
					return &c
				}
				return keep(!strings.HasPrefix(v.Name, "secret"), item)
			case *protocol.Prompt:
				return keep(v.Name != "hidden", item)
			case *protocol.Resource:
				return keep(v.URI != "x://hidden", item)
			case *protocol.ResourceTemplate:
				return nil
			}
			return item
		},
		EditCapabilities: func(version string, c *protocol.ServerCapabilities) {
			if c.Extensions == nil {
				c.Extensions = map[string]jsontext.Value{}
			}
			c.Extensions["io.example/ext"] = jsontext.Value(`{"v":"` + version + `"}`)
		},
	})
	defer srv.Close()
	noop := func(context.Context, *mcp.Request, *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
		return nil, nil
	}
	for _, n := range []string{"open", "secret_a", "secret_b"} {
		srv.AddTool(&protocol.Tool{Name: n}, noop)
	}
	for _, n := range []string{"hidden", "shown"} {
		srv.AddPrompt(&protocol.Prompt{Name: n}, func(context.Context, *mcp.Request, map[string]string) (*protocol.GetPromptResult, error) {
			return &protocol.GetPromptResult{}, nil
		})
	}
	read := func(context.Context, *mcp.Request, string, map[string]string) (*protocol.ReadResourceResult, error) {
		return nil, nil
	}
	srv.AddResource(&protocol.Resource{URI: "x://hidden", Name: "h"}, read)
	srv.AddResource(&protocol.Resource{URI: "x://shown", Name: "s"}, read)
	srv.AddResourceTemplate(&protocol.ResourceTemplate{URITemplate: "x://t/{id}", Name: "t"}, read)
	h := newSessHarness(t, srv)
	init := h.initialize(protocol.LatestVersion, protocol.ClientCapabilities{})
	if string(init.Capabilities.Extensions["io.example/ext"]) != `{"v":"`+protocol.LatestVersion+`"}` {
		t.Errorf("capabilities: %+v", init.Capabilities)
	}
	var tools protocol.ListToolsResult
	h.mustCall(protocol.MethodToolsList, nil, &tools)
	var prompts protocol.ListPromptsResult
	h.mustCall(protocol.MethodPromptsList, nil, &prompts)
	var res protocol.ListResourcesResult
	h.mustCall(protocol.MethodResourcesList, nil, &res)
	var tmpl protocol.ListResourceTemplatesResult
	h.mustCall(protocol.MethodResourcesTemplatesList, nil, &tmpl)
	if len(tools.Tools) != 1 || tools.Tools[0].Name != "open" || tools.Tools[0].Description != "edited for this request" || len(prompts.Prompts) != 1 || prompts.Prompts[0].Name != "shown" ||
		len(res.Resources) != 1 || res.Resources[0].URI != "x://shown" || len(tmpl.ResourceTemplates) != 0 {
		t.Errorf("lists: %+v %+v %+v %+v", tools.Tools, prompts.Prompts, res.Resources, tmpl.ResourceTemplates)
	}
}
