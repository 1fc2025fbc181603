package mcp_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/go-json-experiment/json"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
)

func newResourceServer(opts *mcp.ServerOptions) *mcp.Server {
	srv := newSrv(opts)
	srv.AddResource(&protocol.Resource{URI: "test://readme", Name: "readme", Title: "Read me", MIMEType: "text/markdown"},
		func(ctx context.Context, req *mcp.Request, uri string, vars map[string]string) (*protocol.ReadResourceResult, error) {
			if vars != nil {
				return nil, errors.New("a static resource got template variables")
			}
			return mcp.TextResource(uri, "text/markdown", "# Hello"), nil
		})
	srv.AddResource(&protocol.Resource{URI: "test://logo.png", Name: "logo", MIMEType: "image/png"},
		func(ctx context.Context, req *mcp.Request, uri string, _ map[string]string) (*protocol.ReadResourceResult, error) {
			return mcp.BlobResource(uri, "image/png", []byte{0, 1, 2, 0xff, 0xfe}), nil
		})
	srv.AddResource(&protocol.Resource{URI: "test://gone", Name: "gone"},
		func(ctx context.Context, req *mcp.Request, uri string, _ map[string]string) (*protocol.ReadResourceResult, error) {
			return nil, nil // vanished since it was listed
		})
	srv.AddResource(&protocol.Resource{URI: "test://broken", Name: "broken"},
		func(ctx context.Context, req *mcp.Request, uri string, _ map[string]string) (*protocol.ReadResourceResult, error) {
			return nil, errors.New("backend down")
		})
	vars := func(ctx context.Context, req *mcp.Request, uri string, vars map[string]string) (*protocol.ReadResourceResult, error) {
		b, _ := json.Marshal(vars, json.Deterministic(true))
		return mcp.TextResource(uri, "application/json", string(b)), nil
	}
	srv.AddResourceTemplate(&protocol.ResourceTemplate{URITemplate: "test://users/{user}/posts/{post}", Name: "post"}, vars)
	srv.AddResourceTemplate(&protocol.ResourceTemplate{URITemplate: "file:///{+path}", Name: "file"}, vars)
	srv.AddResourceTemplate(&protocol.ResourceTemplate{URITemplate: "search://items{?q,limit}", Name: "search"}, vars)
	return srv
}

func TestResourceRead(t *testing.T) {
	srv := newResourceServer(nil)
	h := newSessHarness(t, srv)
	h.initialize(protocol.LatestVersion, protocol.ClientCapabilities{})

	tests := []struct {
		uri      string
		wantRaw  string
		wantCode int64
	}{
		{uri: "test://readme", wantRaw: `{"contents":[{"uri":"test://readme","mimeType":"text/markdown","text":"# Hello"}]}`},
		{uri: "test://logo.png", wantRaw: `{"contents":[{"uri":"test://logo.png","mimeType":"image/png","blob":"AAEC//4="}]}`},
		{uri: "test://users/ann/posts/42", wantRaw: `{"contents":[{"uri":"test://users/ann/posts/42","mimeType":"application/json","text":"{\"post\":\"42\",\"user\":\"ann\"}"}]}`},
		{uri: "file:///etc/app/config.yaml", wantRaw: `{"contents":[{"uri":"file:///etc/app/config.yaml","mimeType":"application/json","text":"{\"path\":\"etc/app/config.yaml\"}"}]}`},
		{uri: "search://items?q=go&limit=5", wantRaw: `{"contents":[{"uri":"search://items?q=go&limit=5","mimeType":"application/json","text":"{\"limit\":\"5\",\"q\":\"go\"}"}]}`},
		{uri: "test://users/ann", wantCode: protocol.CodeResourceNotFound},
		{uri: "test://nope", wantCode: protocol.CodeResourceNotFound},
		{uri: "test://gone", wantCode: protocol.CodeResourceNotFound},
		{uri: "test://broken", wantCode: jsonrpc.CodeInternalError},
		{uri: "", wantCode: jsonrpc.CodeInvalidParams},
	}
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			resp, _ := h.request(protocol.MethodResourcesRead, map[string]string{"uri": tt.uri})
			if tt.wantCode != 0 {
				if resp.Error == nil || resp.Error.Code != tt.wantCode {
					t.Fatalf("got %s %v, want error %d", resp.Result, resp.Error, tt.wantCode)
				}
				if tt.wantCode == protocol.CodeResourceNotFound && string(resp.Error.Data) != `{"uri":"`+tt.uri+`"}` {
					t.Errorf("not-found data = %s", resp.Error.Data)
				}
				return
			}
			if resp.Error != nil {
				t.Fatal(resp.Error)
			}
			if string(resp.Result) != tt.wantRaw {
				t.Errorf("\n got %s\nwant %s", resp.Result, tt.wantRaw)
			}
			var res protocol.ReadResourceResult
			if err := json.Unmarshal(resp.Result, &res, protocol.UnionUnmarshalers); err != nil {
				t.Fatal(err)
			}
			if b, ok := res.Contents[0].(*protocol.BlobResourceContents); ok && !bytes.Equal(b.Blob, []byte{0, 1, 2, 0xff, 0xfe}) {
				t.Errorf("blob round trip: %v", b.Blob)
			}
		})
	}
}

func TestResourceLists(t *testing.T) {
	srv := newResourceServer(&mcp.ServerOptions{PageSize: 2})
	h := newSessHarness(t, srv)
	h.initialize(protocol.LatestVersion, protocol.ClientCapabilities{})

	var uris []string
	cursor := ""
	for range 10 {
		var res protocol.ListResourcesResult
		h.mustCall(protocol.MethodResourcesList, &protocol.PaginatedRequestParams{Cursor: cursor}, &res)
		for _, r := range res.Resources {
			uris = append(uris, r.URI)
		}
		if cursor = res.NextCursor; cursor == "" {
			break
		}
	}
	if got := strings.Join(uris, " "); got != "test://broken test://gone test://logo.png test://readme" {
		t.Errorf("resources: %s", got)
	}
	var templates []string
	cursor = ""
	for range 10 {
		var res protocol.ListResourceTemplatesResult
		h.mustCall(protocol.MethodResourcesTemplatesList, &protocol.PaginatedRequestParams{Cursor: cursor}, &res)
		for _, r := range res.ResourceTemplates {
			templates = append(templates, r.URITemplate)
		}
		if cursor = res.NextCursor; cursor == "" {
			break
		}
	}
	if got := strings.Join(templates, " "); got != "file:///{+path} search://items{?q,limit} test://users/{user}/posts/{post}" {
		t.Errorf("templates: %s", got)
	}
	for _, m := range []string{protocol.MethodResourcesList, protocol.MethodResourcesTemplatesList, protocol.MethodPromptsList} {
		if err := h.call(m, `{"cursor":"bogus!"}`, nil); err == nil || err.Code != jsonrpc.CodeInvalidParams {
			t.Errorf("%s with a bad cursor: %v", m, err)
		}
	}

	// Runtime changes are announced to initialized sessions.
	srv.AddResource(&protocol.Resource{URI: "test://new", Name: "new"}, nil)
	srv.RemoveResources("test://new", "file:///{+path}")
	srv.RemoveResources("test://not-there")
	if n := len(h.out.requests(protocol.NotificationResourcesListChanged)); n != 2 {
		t.Errorf("%d resources/list_changed, want 2", n)
	}
	if err := h.call(protocol.MethodResourcesRead, `{"uri":"file:///etc/hosts"}`, nil); err == nil || err.Code != protocol.CodeResourceNotFound {
		t.Errorf("read through a removed template: %v", err)
	}
}

func TestResourceRegistrationPanics(t *testing.T) {
	srv := newSrv(nil)
	for name, add := range map[string]func(){
		"resource without uri":  func() { srv.AddResource(&protocol.Resource{Name: "x"}, nil) },
		"resource without name": func() { srv.AddResource(&protocol.Resource{URI: "x://"}, nil) },
		"template without name": func() { srv.AddResourceTemplate(&protocol.ResourceTemplate{URITemplate: "x://{a}"}, nil) },
		"bad template":          func() { srv.AddResourceTemplate(&protocol.ResourceTemplate{URITemplate: "x://{a", Name: "x"}, nil) },
		"prompt without name":   func() { srv.AddPrompt(&protocol.Prompt{}, nil) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			add()
		})
	}
}

func TestResourceSubscriptions(t *testing.T) {
	srv := newResourceServer(nil)
	a := newSessHarness(t, srv)
	a.initialize(protocol.LatestVersion, protocol.ClientCapabilities{})
	b := newSessHarness(t, srv)
	b.initialize(protocol.LatestVersion, protocol.ClientCapabilities{})

	updates := func(h *sessHarness) []string {
		var out []string
		for _, n := range h.out.requests(protocol.NotificationResourcesUpdated) {
			out = append(out, decodeParamsAs[protocol.ResourceUpdatedNotificationParams](t, n).URI)
		}
		return out
	}
	a.mustCall(protocol.MethodResourcesSubscribe, `{"uri":"test://readme"}`, nil)
	a.mustCall(protocol.MethodResourcesSubscribe, `{"uri":"test://users/ann/posts/1"}`, nil) // through a template
	b.mustCall(protocol.MethodResourcesSubscribe, `{"uri":"test://logo.png"}`, nil)
	if err := a.call(protocol.MethodResourcesSubscribe, `{"uri":"test://nope"}`, nil); err == nil || err.Code != protocol.CodeResourceNotFound {
		t.Errorf("subscribe to an unknown resource: %v", err)
	}
	if err := a.call(protocol.MethodResourcesSubscribe, `{}`, nil); err == nil || err.Code != jsonrpc.CodeInvalidParams {
		t.Errorf("subscribe without uri: %v", err)
	}

	ctx := context.Background()
	srv.ResourceUpdated(ctx, "test://readme")
	srv.ResourceUpdated(ctx, "test://users/ann/posts/1")
	srv.ResourceUpdated(ctx, "test://logo.png")
	srv.ResourceUpdated(ctx, "test://broken") // nobody subscribed
	if got := strings.Join(updates(a), " "); got != "test://readme test://users/ann/posts/1" {
		t.Errorf("session a got updates %s", got)
	}
	if got := strings.Join(updates(b), " "); got != "test://logo.png" {
		t.Errorf("session b got updates %s", got)
	}

	a.mustCall(protocol.MethodResourcesUnsubscribe, `{"uri":"test://readme"}`, nil)
	a.mustCall(protocol.MethodResourcesUnsubscribe, `{"uri":"test://never-subscribed"}`, nil)
	srv.ResourceUpdated(ctx, "test://readme")
	if got := strings.Join(updates(a), " "); got != "test://readme test://users/ann/posts/1" {
		t.Errorf("update after unsubscribe reached session a: %s", got)
	}
	// Subscribing twice is one subscription.
	b.mustCall(protocol.MethodResourcesSubscribe, `{"uri":"test://logo.png"}`, nil)
	srv.ResourceUpdated(ctx, "test://logo.png")
	if got := len(updates(b)); got != 2 {
		t.Errorf("session b got %d updates, want 2", got)
	}
}

func newPromptServer() *mcp.Server {
	srv := newSrv(nil)
	srv.AddPrompt(&protocol.Prompt{Name: "review", Title: "Code review", Arguments: []protocol.PromptArgument{
		{Name: "language", Required: true}, {Name: "style"},
	}}, func(ctx context.Context, req *mcp.Request, args map[string]string) (*protocol.GetPromptResult, error) {
		return &protocol.GetPromptResult{Description: "review", Messages: []protocol.PromptMessage{
			{Role: protocol.RoleUser, Content: &protocol.TextContent{Text: fmt.Sprintf("Review this %s code (style %q)", args["language"], args["style"])}},
		}}, nil
	}, mcp.WithPromptCompleter(func(ctx context.Context, req *mcp.Request, arg, value string, context map[string]string) (*protocol.Completion, error) {
		if arg == "many" {
			vals := make([]string, 150)
			for i := range vals {
				vals[i] = fmt.Sprint(i)
			}
			return &protocol.Completion{Values: vals}, nil
		}
		if arg == "fail" {
			return nil, jsonrpc.ErrInvalidParams("no completions for %s", arg)
		}
		var out []string
		for _, l := range []string{"go", "golang", "python", "rust"} {
			if strings.HasPrefix(l, value) {
				out = append(out, l+"|"+context["style"])
			}
		}
		return &protocol.Completion{Values: out, Total: len(out)}, nil
	}))
	srv.AddPrompt(&protocol.Prompt{Name: "rich"}, func(ctx context.Context, req *mcp.Request, args map[string]string) (*protocol.GetPromptResult, error) {
		return &protocol.GetPromptResult{Messages: []protocol.PromptMessage{
			{Role: protocol.RoleUser, Content: &protocol.EmbeddedResource{Resource: &protocol.TextResourceContents{URI: "test://readme", MIMEType: "text/plain", Text: "hi"}}},
			{Role: protocol.RoleUser, Content: &protocol.ImageContent{Data: []byte("PNG"), MIMEType: "image/png"}},
			{Role: protocol.RoleAssistant, Content: &protocol.TextContent{Text: "seen"}},
		}}, nil
	})
	srv.AddPrompt(&protocol.Prompt{Name: "fails"}, func(ctx context.Context, req *mcp.Request, args map[string]string) (*protocol.GetPromptResult, error) {
		return nil, errors.New("template store offline")
	})
	return srv
}

func TestPrompts(t *testing.T) {
	srv := newPromptServer()
	h := newSessHarness(t, srv)
	h.initialize(protocol.LatestVersion, protocol.ClientCapabilities{})

	var list protocol.ListPromptsResult
	h.mustCall(protocol.MethodPromptsList, nil, &list)
	if len(list.Prompts) != 3 || list.Prompts[1].Name != "review" || len(list.Prompts[1].Arguments) != 2 || !list.Prompts[1].Arguments[0].Required {
		t.Errorf("prompts/list: %+v", list.Prompts)
	}

	tests := []struct {
		name     string
		params   string
		wantRaw  string
		wantCode int64
	}{
		{name: "with args", params: `{"name":"review","arguments":{"language":"Go","style":"terse"}}`,
			wantRaw: `{"description":"review","messages":[{"role":"user","content":{"type":"text","text":"Review this Go code (style \"terse\")"}}]}`},
		{name: "optional arg omitted", params: `{"name":"review","arguments":{"language":"Go"}}`,
			wantRaw: `{"description":"review","messages":[{"role":"user","content":{"type":"text","text":"Review this Go code (style \"\")"}}]}`},
		{name: "embedded resource and image", params: `{"name":"rich"}`,
			wantRaw: `{"messages":[{"role":"user","content":{"type":"resource","resource":{"uri":"test://readme","mimeType":"text/plain","text":"hi"}}},` +
				`{"role":"user","content":{"type":"image","data":"UE5H","mimeType":"image/png"}},{"role":"assistant","content":{"type":"text","text":"seen"}}]}`},
		{name: "missing required arg", params: `{"name":"review","arguments":{"style":"x"}}`, wantCode: jsonrpc.CodeInvalidParams},
		{name: "no arguments", params: `{"name":"review"}`, wantCode: jsonrpc.CodeInvalidParams},
		{name: "unknown prompt", params: `{"name":"nope"}`, wantCode: jsonrpc.CodeInvalidParams},
		{name: "non-string argument", params: `{"name":"review","arguments":{"language":3}}`, wantCode: jsonrpc.CodeInvalidParams},
		{name: "handler error", params: `{"name":"fails"}`, wantCode: jsonrpc.CodeInternalError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, _ := h.request(protocol.MethodPromptsGet, tt.params)
			if tt.wantCode != 0 {
				if resp.Error == nil || resp.Error.Code != tt.wantCode {
					t.Fatalf("got %s %v, want error %d", resp.Result, resp.Error, tt.wantCode)
				}
				if tt.name == "missing required arg" && !strings.Contains(resp.Error.Message, "language") {
					t.Errorf("error does not name the missing argument: %s", resp.Error.Message)
				}
				return
			}
			if resp.Error != nil {
				t.Fatal(resp.Error)
			}
			if string(resp.Result) != tt.wantRaw {
				t.Errorf("\n got %s\nwant %s", resp.Result, tt.wantRaw)
			}
		})
	}

	srv.RemovePrompts("rich")
	srv.AddPrompt(&protocol.Prompt{Name: "late"}, nil)
	if n := len(h.out.requests(protocol.NotificationPromptsListChanged)); n != 2 {
		t.Errorf("%d prompts/list_changed, want 2", n)
	}
}

func TestCompletion(t *testing.T) {
	srv := newPromptServer()
	var seen *protocol.CompleteRequestParams
	srv2 := newResourceServer(&mcp.ServerOptions{Completion: func(ctx context.Context, req *mcp.Request, p *protocol.CompleteRequestParams) (*protocol.CompleteResult, error) {
		seen = p
		ref := p.Ref.(*protocol.ResourceTemplateReference)
		return &protocol.CompleteResult{Completion: protocol.Completion{Values: []string{ref.URI + "#" + p.Argument.Name + "=" + p.Argument.Value + "*"}}}, nil
	}})
	h := newSessHarness(t, srv)
	init := h.initialize(protocol.LatestVersion, protocol.ClientCapabilities{})
	if init.Capabilities.Completions == nil {
		t.Error("completions capability missing with a prompt completer")
	}
	h2 := newSessHarness(t, srv2)
	h2.initialize(protocol.LatestVersion, protocol.ClientCapabilities{})

	tests := []struct {
		name     string
		h        *sessHarness
		params   string
		wantRaw  string
		wantCode int64
	}{
		{name: "prompt argument", h: h, params: `{"ref":{"type":"ref/prompt","name":"review"},"argument":{"name":"language","value":"go"},"context":{"arguments":{"style":"terse"}}}`,
			wantRaw: `{"completion":{"values":["go|terse","golang|terse"],"total":2}}`},
		{name: "no match", h: h, params: `{"ref":{"type":"ref/prompt","name":"review"},"argument":{"name":"language","value":"cobol"}}`,
			wantRaw: `{"completion":{"values":[]}}`},
		{name: "capped at 100", h: h, params: `{"ref":{"type":"ref/prompt","name":"review"},"argument":{"name":"many","value":""}}`,
			wantRaw: ""},
		{name: "prompt without completer", h: h, params: `{"ref":{"type":"ref/prompt","name":"rich"},"argument":{"name":"x","value":"y"}}`,
			wantRaw: `{"completion":{"values":[]}}`},
		{name: "completer error", h: h, params: `{"ref":{"type":"ref/prompt","name":"review"},"argument":{"name":"fail","value":""}}`, wantCode: jsonrpc.CodeInvalidParams},
		{name: "unknown prompt", h: h, params: `{"ref":{"type":"ref/prompt","name":"nope"},"argument":{"name":"x","value":""}}`, wantCode: jsonrpc.CodeInvalidParams},
		{name: "unknown ref type", h: h, params: `{"ref":{"type":"ref/tool","name":"x"},"argument":{"name":"x","value":""}}`, wantCode: jsonrpc.CodeInvalidParams},
		{name: "no ref", h: h, params: `{"argument":{"name":"x","value":""}}`, wantCode: jsonrpc.CodeInvalidParams},
		{name: "template variable", h: h2, params: `{"ref":{"type":"ref/resource","uri":"test://users/{user}/posts/{post}"},"argument":{"name":"user","value":"an"}}`,
			wantRaw: `{"completion":{"values":["test://users/{user}/posts/{post}#user=an*"]}}`},
		{name: "unknown template", h: h2, params: `{"ref":{"type":"ref/resource","uri":"test://other/{x}"},"argument":{"name":"x","value":""}}`, wantCode: jsonrpc.CodeInvalidParams},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, _ := tt.h.request(protocol.MethodCompletionComplete, tt.params)
			if tt.wantCode != 0 {
				if resp.Error == nil || resp.Error.Code != tt.wantCode {
					t.Fatalf("got %s %v, want error %d", resp.Result, resp.Error, tt.wantCode)
				}
				return
			}
			if resp.Error != nil {
				t.Fatal(resp.Error)
			}
			if tt.wantRaw == "" {
				var res protocol.CompleteResult
				json.Unmarshal(resp.Result, &res)
				if len(res.Completion.Values) != 100 || !res.Completion.HasMore || res.Completion.Total != 150 {
					t.Errorf("capped completion: %d values, hasMore %v, total %d", len(res.Completion.Values), res.Completion.HasMore, res.Completion.Total)
				}
				return
			}
			if string(resp.Result) != tt.wantRaw {
				t.Errorf("\n got %s\nwant %s", resp.Result, tt.wantRaw)
			}
		})
	}
	if seen == nil || seen.Argument.Name != "user" {
		t.Errorf("the completion handler saw %+v", seen)
	}
}
