package interop

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"testing"
	"time"

	gosdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// goSDKClient adapts a github.com/modelcontextprotocol/go-sdk client
// session to peerClient.
type goSDKClient struct {
	cs    *gosdk.ClientSession
	log   notifLog
	token int
	// level is the log level last asked for. At 2026-07-28 the SDK still
	// sends logging/setLevel (which that revision removed) and never puts
	// the level in a request's _meta, so CallTool adds it there itself.
	level string
}

// TestGoSDKClient is part A for the official Go SDK's client.
func TestGoSDKClient(t *testing.T) {
	t.Parallel()
	runPartA(t, "go-sdk", connectGoSDK(pinnedVersion))
}

// connectGoSDK connects offering version ("" for the SDK's default).
func connectGoSDK(version string) connectA {
	return func(ctx context.Context, t *testing.T, transport string, cmdline []string, url string) (peerClient, error) {
		return connectGoSDKVersion(ctx, t, transport, cmdline, url, version)
	}
}

func connectGoSDKVersion(ctx context.Context, t *testing.T, transport string, cmdline []string, url, version string) (peerClient, error) {
	p := &goSDKClient{}
	client := gosdk.NewClient(&gosdk.Implementation{Name: "interop-go-sdk", Version: "1"}, &gosdk.ClientOptions{
		Logger: slog.New(slog.DiscardHandler),
		CreateMessageHandler: func(ctx context.Context, req *gosdk.CreateMessageRequest) (*gosdk.CreateMessageResult, error) {
			params, err := toObj(req.Params)
			if err != nil {
				return nil, err
			}
			var res gosdk.CreateMessageResult
			if err := fromObj(samplingReply(params), &res); err != nil {
				return nil, err
			}
			return &res, nil
		},
		ElicitationHandler: func(ctx context.Context, req *gosdk.ElicitRequest) (*gosdk.ElicitResult, error) {
			params, err := toObj(req.Params)
			if err != nil {
				return nil, err
			}
			var res gosdk.ElicitResult
			if err := fromObj(elicitReply(params), &res); err != nil {
				return nil, err
			}
			return &res, nil
		},
		LoggingMessageHandler: func(_ context.Context, req *gosdk.LoggingMessageRequest) {
			p.log.add("notifications/message", req.Params)
		},
		ProgressNotificationHandler: func(_ context.Context, req *gosdk.ProgressNotificationClientRequest) {
			p.log.add("notifications/progress", req.Params)
		},
		ResourceUpdatedHandler: func(_ context.Context, req *gosdk.ResourceUpdatedNotificationRequest) {
			p.log.add("notifications/resources/updated", req.Params)
		},
	})
	var tr gosdk.Transport
	switch transport {
	case "stdio":
		cmd := groupCommand(t, cmdline[0], cmdline[1:]...)
		stderr := newTailBuffer(64 << 10)
		cmd.Stderr = stderr
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("server stderr:\n%s", stderr)
			}
		})
		tr = &gosdk.CommandTransport{Command: cmd, TerminateDuration: 2 * time.Second}
	case "http":
		tr = &gosdk.StreamableClientTransport{Endpoint: url, HTTPClient: &http.Client{}, MaxRetries: 3}
	default:
		return nil, fmt.Errorf("unknown transport %q", transport)
	}
	// Without a version the SDK offers 2026-07-28 first (server/discover).
	cs, err := client.Connect(ctx, tr, &gosdk.ClientSessionOptions{ProtocolVersion: version})
	if err != nil {
		return nil, err
	}
	p.cs = cs
	return p, nil
}

func (p *goSDKClient) InitializeResult() obj {
	o, _ := toObj(p.cs.InitializeResult())
	return o
}

func (p *goSDKClient) List(ctx context.Context, kind string) ([]obj, error) {
	var out []obj
	add := func(v any, err error) error {
		if err != nil {
			return err
		}
		o, err := toObj(v)
		if err != nil {
			return err
		}
		out = append(out, o)
		return nil
	}
	switch kind {
	case "tools":
		for v, err := range p.cs.Tools(ctx, nil) {
			if err := add(v, err); err != nil {
				return nil, err
			}
		}
	case "resources":
		for v, err := range p.cs.Resources(ctx, nil) {
			if err := add(v, err); err != nil {
				return nil, err
			}
		}
	case "resourceTemplates":
		for v, err := range p.cs.ResourceTemplates(ctx, nil) {
			if err := add(v, err); err != nil {
				return nil, err
			}
		}
	case "prompts":
		for v, err := range p.cs.Prompts(ctx, nil) {
			if err := add(v, err); err != nil {
				return nil, err
			}
		}
	default:
		return nil, fmt.Errorf("unknown list %q", kind)
	}
	return out, nil
}

func (p *goSDKClient) CallTool(ctx context.Context, name string, args obj, progress bool) (obj, any, error) {
	params := &gosdk.CallToolParams{Name: name, Arguments: args}
	if p.level != "" && p.cs.InitializeResult().ProtocolVersion >= modernVersion {
		params.Meta = gosdk.Meta{gosdk.MetaKeyLogLevel: p.level}
	}
	var token any
	if progress {
		p.token++
		token = fmt.Sprintf("go-sdk-progress-%d", p.token)
		params.SetProgressToken(token)
	}
	res, err := p.cs.CallTool(ctx, params)
	if err != nil {
		return nil, token, err
	}
	o, err := toObj(res)
	return o, token, err
}

func (p *goSDKClient) ReadResource(ctx context.Context, uri string) (obj, error) {
	res, err := p.cs.ReadResource(ctx, &gosdk.ReadResourceParams{URI: uri})
	if err != nil {
		return nil, err
	}
	return toObj(res)
}

func (p *goSDKClient) GetPrompt(ctx context.Context, name string, args map[string]string) (obj, error) {
	res, err := p.cs.GetPrompt(ctx, &gosdk.GetPromptParams{Name: name, Arguments: args})
	if err != nil {
		return nil, err
	}
	return toObj(res)
}

func (p *goSDKClient) Complete(ctx context.Context, ref obj, arg, value string) (obj, error) {
	var r gosdk.CompleteReference
	if err := fromObj(ref, &r); err != nil {
		return nil, err
	}
	res, err := p.cs.Complete(ctx, &gosdk.CompleteParams{Ref: &r, Argument: gosdk.CompleteParamsArgument{Name: arg, Value: value}})
	if err != nil {
		return nil, err
	}
	return toObj(res)
}

func (p *goSDKClient) SetLevel(ctx context.Context, level string) error {
	p.level = level
	return p.cs.SetLoggingLevel(ctx, &gosdk.SetLoggingLevelParams{Level: gosdk.LoggingLevel(level)})
}

func (p *goSDKClient) Subscribe(ctx context.Context, uri string) error {
	return p.cs.Subscribe(ctx, &gosdk.SubscribeParams{URI: uri})
}

func (p *goSDKClient) Unsubscribe(ctx context.Context, uri string) error {
	return p.cs.Unsubscribe(ctx, &gosdk.UnsubscribeParams{URI: uri})
}

func (p *goSDKClient) Ping(ctx context.Context) error { return p.cs.Ping(ctx, nil) }

func (p *goSDKClient) Notifications() []notification { return p.log.all() }

func (p *goSDKClient) Close() error { return p.cs.Close() }
