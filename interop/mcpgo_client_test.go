package interop

import (
	"context"
	"fmt"
	"log/slog"
	"os/exec"
	"testing"

	mcpgoclient "github.com/mark3labs/mcp-go/client"
	mcpgotransport "github.com/mark3labs/mcp-go/client/transport"
	mcpgo "github.com/mark3labs/mcp-go/mcp"
)

// mcpGoClient adapts a github.com/mark3labs/mcp-go client to peerClient.
type mcpGoClient struct {
	c     *mcpgoclient.Client
	init  *mcpgo.InitializeResult
	log   notifLog
	token int
}

// TestMCPGoClient is part A for mcp-go's client.
func TestMCPGoClient(t *testing.T) {
	t.Parallel()
	runPartA(t, "mcp-go", connectMCPGo(pinnedVersion))
}

// connectMCPGo connects offering version ("" for the SDK's default).
func connectMCPGo(version string) connectA {
	return func(ctx context.Context, t *testing.T, transport string, cmdline []string, url string) (peerClient, error) {
		return connectMCPGoVersion(ctx, t, transport, cmdline, url, version)
	}
}

type mcpGoHandlers struct{}

func (mcpGoHandlers) CreateMessage(ctx context.Context, req mcpgo.CreateMessageRequest) (*mcpgo.CreateMessageResult, error) {
	params, err := toObj(req.CreateMessageParams)
	if err != nil {
		return nil, err
	}
	reply := samplingReply(params)
	// mcp-go keeps Content as any; decode it into its text type.
	content, _ := reply["content"].(obj)
	delete(reply, "content")
	var res mcpgo.CreateMessageResult
	if err := fromObj(reply, &res); err != nil {
		return nil, err
	}
	res.Content = mcpgo.TextContent{Type: "text", Text: fmt.Sprint(content["text"])}
	return &res, nil
}

func (mcpGoHandlers) Elicit(ctx context.Context, req mcpgo.ElicitationRequest) (*mcpgo.ElicitationResult, error) {
	params, err := toObj(req.Params)
	if err != nil {
		return nil, err
	}
	var res mcpgo.ElicitationResult
	if err := fromObj(elicitReply(params), &res); err != nil {
		return nil, err
	}
	return &res, nil
}

func connectMCPGoVersion(ctx context.Context, t *testing.T, transport string, cmdline []string, url, version string) (peerClient, error) {
	var tr mcpgotransport.Interface
	switch transport {
	case "stdio":
		stderr := newTailBuffer(64 << 10)
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("server stderr:\n%s", stderr)
			}
		})
		tr = mcpgotransport.NewStdioWithOptions(cmdline[0], nil, cmdline[1:],
			mcpgotransport.WithCommandLogger(slog.New(slog.DiscardHandler)),
			mcpgotransport.WithCommandStderrWriter(stderr),
			mcpgotransport.WithCommandFunc(func(_ context.Context, command string, env []string, args []string) (*exec.Cmd, error) {
				return groupCommand(t, command, args...), nil
			}))
	case "http":
		hopts := []mcpgotransport.StreamableHTTPCOption{mcpgotransport.WithHTTPLogger(slog.New(slog.DiscardHandler))}
		if version != "" && version < modernVersion {
			// Resource updates arrive on the standalone GET stream. mcp-go
			// keeps a transport with continuous listening on a pre-2026
			// revision (RequiresLegacyProtocol), so it is set only when a
			// legacy version is pinned anyway.
			hopts = append(hopts, mcpgotransport.WithContinuousListening())
		}
		h, err := mcpgotransport.NewStreamableHTTP(url, hopts...)
		if err != nil {
			return nil, err
		}
		tr = h
	default:
		return nil, fmt.Errorf("unknown transport %q", transport)
	}
	opts := []mcpgoclient.ClientOption{
		mcpgoclient.WithSamplingHandler(mcpGoHandlers{}),
		mcpgoclient.WithElicitationHandler(mcpGoHandlers{}),
	}
	if version != "" {
		// Without this the client probes with server/discover (2026-07-28) first.
		opts = append(opts, mcpgoclient.WithProtocolVersion(version))
	}
	c := mcpgoclient.NewClient(tr, opts...)
	p := &mcpGoClient{c: c}
	// The transport lives as long as the test, not the connect context.
	life, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := c.Start(life); err != nil {
		return nil, err
	}
	c.OnNotification(func(n mcpgo.JSONRPCNotification) {
		p.log.add(n.Method, n.Params)
	})
	req := mcpgo.InitializeRequest{}
	req.Params.ProtocolVersion = version
	req.Params.ClientInfo = mcpgo.Implementation{Name: "interop-mcp-go", Version: "1"}
	res, err := c.Initialize(ctx, req)
	if err != nil {
		c.Close()
		return nil, err
	}
	p.init = res
	return p, nil
}

func (p *mcpGoClient) InitializeResult() obj {
	o, _ := toObj(p.init)
	return o
}

func (p *mcpGoClient) List(ctx context.Context, kind string) ([]obj, error) {
	var v any
	var err error
	switch kind {
	case "tools":
		var r *mcpgo.ListToolsResult
		r, err = p.c.ListTools(ctx, mcpgo.ListToolsRequest{})
		if err == nil {
			v = r.Tools
		}
	case "resources":
		var r *mcpgo.ListResourcesResult
		r, err = p.c.ListResources(ctx, mcpgo.ListResourcesRequest{})
		if err == nil {
			v = r.Resources
		}
	case "resourceTemplates":
		var r *mcpgo.ListResourceTemplatesResult
		r, err = p.c.ListResourceTemplates(ctx, mcpgo.ListResourceTemplatesRequest{})
		if err == nil {
			v = r.ResourceTemplates
		}
	case "prompts":
		var r *mcpgo.ListPromptsResult
		r, err = p.c.ListPrompts(ctx, mcpgo.ListPromptsRequest{})
		if err == nil {
			v = r.Prompts
		}
	default:
		return nil, fmt.Errorf("unknown list %q", kind)
	}
	if err != nil {
		return nil, err
	}
	var out []obj
	if err := recode(v, &out); err != nil {
		return nil, err
	}
	return out, nil
}

func (p *mcpGoClient) CallTool(ctx context.Context, name string, args obj, progress bool) (obj, any, error) {
	req := mcpgo.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = args
	var token any
	if progress {
		p.token++
		token = fmt.Sprintf("mcp-go-progress-%d", p.token)
		req.Params.Meta = &mcpgo.Meta{ProgressToken: token}
	}
	res, err := p.c.CallTool(ctx, req)
	if err != nil {
		return nil, token, err
	}
	o, err := toObj(res)
	return o, token, err
}

func (p *mcpGoClient) ReadResource(ctx context.Context, uri string) (obj, error) {
	req := mcpgo.ReadResourceRequest{}
	req.Params.URI = uri
	res, err := p.c.ReadResource(ctx, req)
	if err != nil {
		return nil, err
	}
	return toObj(res)
}

func (p *mcpGoClient) GetPrompt(ctx context.Context, name string, args map[string]string) (obj, error) {
	req := mcpgo.GetPromptRequest{}
	req.Params.Name = name
	req.Params.Arguments = args
	res, err := p.c.GetPrompt(ctx, req)
	if err != nil {
		return nil, err
	}
	return toObj(res)
}

func (p *mcpGoClient) Complete(ctx context.Context, ref obj, arg, value string) (obj, error) {
	req := mcpgo.CompleteRequest{}
	switch ref["type"] {
	case "ref/prompt":
		req.Params.Ref = mcpgo.PromptReference{Type: "ref/prompt", Name: fmt.Sprint(ref["name"])}
	default:
		req.Params.Ref = mcpgo.ResourceReference{Type: "ref/resource", URI: fmt.Sprint(ref["uri"])}
	}
	req.Params.Argument.Name = arg
	req.Params.Argument.Value = value
	res, err := p.c.Complete(ctx, req)
	if err != nil {
		return nil, err
	}
	return toObj(res)
}

func (p *mcpGoClient) SetLevel(ctx context.Context, level string) error {
	req := mcpgo.SetLevelRequest{}
	req.Params.Level = mcpgo.LoggingLevel(level)
	return p.c.SetLevel(ctx, req)
}

func (p *mcpGoClient) Subscribe(ctx context.Context, uri string) error {
	req := mcpgo.SubscribeRequest{}
	req.Params.URI = uri
	return p.c.Subscribe(ctx, req)
}

func (p *mcpGoClient) Unsubscribe(ctx context.Context, uri string) error {
	req := mcpgo.UnsubscribeRequest{}
	req.Params.URI = uri
	return p.c.Unsubscribe(ctx, req)
}

func (p *mcpGoClient) Ping(ctx context.Context) error { return p.c.Ping(ctx) }

func (p *mcpGoClient) Notifications() []notification { return p.log.all() }

func (p *mcpGoClient) Close() error { return p.c.Close() }
