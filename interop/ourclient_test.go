package interop

import (
	"context"
	stdjson "encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport"
	"github.com/switchboard-mcp/switchboard/transport/stdio"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

// ourClient adapts Switchboard's own client (mcp.ClientSession) to
// peerClient, for part B.
type ourClient struct {
	cs  *mcp.ClientSession
	log notifLog

	mu        sync.Mutex
	sentToken any // _meta.progressToken of the last tools/call sent
}

// v2obj re-encodes a protocol value (whose unions need the v2 JSON
// package) as a JSON object.
func v2obj(v any) (obj, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var o obj
	if err := stdjson.Unmarshal(b, &o); err != nil {
		return nil, fmt.Errorf("%s: %w", b, err)
	}
	return o, nil
}

// v2decode decodes the JSON object o into the protocol value out.
func v2decode(o obj, out any) error {
	b, err := stdjson.Marshal(o)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

// elicitRequired answers an elicitation by accepting with only the
// required properties set ("interop" for strings); the client's
// ApplyElicitDefaults fills in the defaults of the others.
func elicitRequired(params obj) obj {
	content := obj{}
	schema, _ := params["requestedSchema"].(obj)
	props, _ := schema["properties"].(obj)
	req, _ := schema["required"].([]any)
	for _, r := range req {
		name, _ := r.(string)
		p, _ := props[name].(obj)
		switch p["type"] {
		case "string":
			content[name] = "interop"
		case "number", "integer":
			content[name] = 1
		case "boolean":
			content[name] = true
		}
	}
	return obj{"action": "accept", "content": content}
}

// connectOurs connects Switchboard's client through d, asking for the
// protocol revision version (pinnedVersion or modernVersion).
func connectOurs(ctx context.Context, d transport.Dialer, version string) (*ourClient, error) {
	p := &ourClient{}
	c := mcp.NewClient(protocol.Implementation{Name: "interop-switchboard", Version: "1"}, &mcp.ClientOptions{
		ProtocolVersion:     version,
		Timeout:             20 * time.Second,
		ApplyElicitDefaults: true,
		// Note the progress token the client puts in each tools/call: a
		// server that sends its progress notifications after the result
		// (mcp-go's stdio server can) leaves mcp.WithProgress's callback
		// uncalled.
		Sending: []mcp.ClientMiddleware{func(next mcp.CallHandler) mcp.CallHandler {
			return func(ctx context.Context, method string, params jsontext.Value) (jsontext.Value, error) {
				if method == protocol.MethodToolsCall {
					var o struct {
						Meta obj `json:"_meta"`
					}
					_ = stdjson.Unmarshal(params, &o)
					p.mu.Lock()
					p.sentToken = o.Meta["progressToken"]
					p.mu.Unlock()
				}
				return next(ctx, method, params)
			}
		}},
		CreateMessage: func(ctx context.Context, _ *mcp.ClientSession, params *protocol.CreateMessageRequestParams) (*protocol.CreateMessageResult, error) {
			o, err := v2obj(params)
			if err != nil {
				return nil, err
			}
			var res protocol.CreateMessageResult
			if err := v2decode(samplingReply(o), &res); err != nil {
				return nil, err
			}
			return &res, nil
		},
		Elicit: func(ctx context.Context, _ *mcp.ClientSession, params *protocol.ElicitRequestParams) (*protocol.ElicitResult, error) {
			o, err := v2obj(params)
			if err != nil {
				return nil, err
			}
			var res protocol.ElicitResult
			if err := v2decode(elicitRequired(o), &res); err != nil {
				return nil, err
			}
			return &res, nil
		},
		OnLog: func(_ context.Context, _ *mcp.ClientSession, n *protocol.LoggingMessageNotificationParams) {
			o, _ := v2obj(n)
			p.log.add(protocol.NotificationMessage, o)
		},
		OnProgress: func(_ context.Context, _ *mcp.ClientSession, n *protocol.ProgressNotificationParams) {
			o, _ := v2obj(n)
			p.log.add(protocol.NotificationProgress, o)
		},
		OnResourceUpdated: func(_ context.Context, _ *mcp.ClientSession, n *protocol.ResourceUpdatedNotificationParams) {
			o, _ := v2obj(n)
			p.log.add(protocol.NotificationResourcesUpdated, o)
		},
		OnNotification: func(_ context.Context, _ *mcp.ClientSession, method string, params jsontext.Value) {
			var o obj
			_ = stdjson.Unmarshal(params, &o)
			p.log.add(method, o)
		},
	})
	cs, err := c.Connect(ctx, d)
	if err != nil {
		return nil, err
	}
	p.cs = cs
	return p, nil
}

// dialer returns the dialer for a part B server over transport.
func dialerFor(t *testing.T, transport string, cmdline []string, url string) (transport.Dialer, error) {
	switch transport {
	case "stdio":
		stderr := newTailBuffer(64 << 10)
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("server stderr:\n%s", stderr)
			}
		})
		return stdio.Command(cmdline[0], cmdline[1:], &stdio.CommandOptions{
			InheritEnv:      true,
			Stderr:          stderr,
			ShutdownTimeout: 2 * time.Second,
		}), nil
	case "http":
		return streamable.NewDialer(url, nil), nil
	}
	return nil, fmt.Errorf("unknown transport %q", transport)
}

func (p *ourClient) InitializeResult() obj {
	o, _ := v2obj(p.cs.InitializeResult())
	return o
}

func (p *ourClient) List(ctx context.Context, kind string) ([]obj, error) {
	var out []obj
	add := func(v any, err error) error {
		if err != nil {
			return err
		}
		o, err := v2obj(v)
		if err != nil {
			return err
		}
		out = append(out, o)
		return nil
	}
	switch kind {
	case "tools":
		for v, err := range p.cs.Tools(ctx) {
			if err := add(v, err); err != nil {
				return nil, err
			}
		}
	case "resources":
		for v, err := range p.cs.Resources(ctx) {
			if err := add(v, err); err != nil {
				return nil, err
			}
		}
	case "resourceTemplates":
		for v, err := range p.cs.ResourceTemplates(ctx) {
			if err := add(v, err); err != nil {
				return nil, err
			}
		}
	case "prompts":
		for v, err := range p.cs.Prompts(ctx) {
			if err := add(v, err); err != nil {
				return nil, err
			}
		}
	default:
		return nil, fmt.Errorf("unknown list %q", kind)
	}
	return out, nil
}

func (p *ourClient) CallTool(ctx context.Context, name string, args obj, progress bool) (obj, any, error) {
	raw, err := stdjson.Marshal(args)
	if err != nil {
		return nil, nil, err
	}
	if progress {
		ctx = mcp.WithProgress(ctx, func(*protocol.ProgressNotificationParams) {})
	}
	res, err := p.cs.CallTool(ctx, &protocol.CallToolRequestParams{Name: name, Arguments: raw})
	var tok any
	if progress {
		p.mu.Lock()
		tok = p.sentToken
		p.mu.Unlock()
	}
	if err != nil {
		return nil, tok, err
	}
	o, err := v2obj(res)
	return o, tok, err
}

func (p *ourClient) ReadResource(ctx context.Context, uri string) (obj, error) {
	res, err := p.cs.ReadResource(ctx, uri)
	if err != nil {
		return nil, err
	}
	return v2obj(res)
}

func (p *ourClient) GetPrompt(ctx context.Context, name string, args map[string]string) (obj, error) {
	res, err := p.cs.GetPrompt(ctx, name, args)
	if err != nil {
		return nil, err
	}
	return v2obj(res)
}

func (p *ourClient) Complete(ctx context.Context, ref obj, arg, value string) (obj, error) {
	params := &protocol.CompleteRequestParams{Argument: protocol.CompleteArgument{Name: arg, Value: value}}
	switch ref["type"] {
	case "ref/prompt":
		params.Ref = &protocol.PromptReference{Name: fmt.Sprint(ref["name"])}
	default:
		params.Ref = &protocol.ResourceTemplateReference{URI: fmt.Sprint(ref["uri"])}
	}
	res, err := p.cs.Complete(ctx, params)
	if err != nil {
		return nil, err
	}
	return v2obj(res)
}

func (p *ourClient) SetLevel(ctx context.Context, level string) error {
	return p.cs.SetLogLevel(ctx, protocol.LoggingLevel(level))
}

func (p *ourClient) Subscribe(ctx context.Context, uri string) error { return p.cs.Subscribe(ctx, uri) }

func (p *ourClient) Unsubscribe(ctx context.Context, uri string) error {
	return p.cs.Unsubscribe(ctx, uri)
}

func (p *ourClient) Ping(ctx context.Context) error { return p.cs.Ping(ctx) }

func (p *ourClient) Notifications() []notification { return p.log.all() }

func (p *ourClient) Close() error { return p.cs.Close() }
