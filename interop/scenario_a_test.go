package interop

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// Part A: peer clients against `switchboard demo everything`.

// pinnedVersion is the protocol revision the Go peers are pinned to; they
// would otherwise try 2026-07-28 (server/discover) first.
const pinnedVersion = "2025-11-25"

// A stepA is one row of part A: a feature exercised on a connected peer.
type stepA struct {
	feature string
	http    bool // only over Streamable HTTP
	run     func(ctx context.Context, t *cellT, p peerClient, st *stateA)
}

// stateA carries what steps learn for later steps.
type stateA struct {
	transport    string
	subscribedAt time.Time
	subscribeOK  bool
}

// toolText calls name and returns the text of its single text block.
func callText(ctx context.Context, t *cellT, p peerClient, name string, args obj) (string, obj) {
	t.Helper()
	res, _, err := p.CallTool(ctx, name, args, false)
	if err != nil {
		t.Fatalf("tools/call %s: %v", name, err)
	}
	if res["isError"] == true {
		t.Fatalf("tools/call %s: isError: %s", name, mustJSON(res))
	}
	cs := contentOf(res)
	if len(cs) != 1 || cs[0]["type"] != "text" {
		t.Fatalf("tools/call %s: want one text block, got %s", name, mustJSON(res))
	}
	s, _ := cs[0]["text"].(string)
	return s, res
}

func wantText(t *cellT, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s: got %q, want %q", what, got, want)
	}
}

var demoTools = []string{
	"echo", "add", "test_simple_text", "test_image_content", "test_audio_content",
	"test_embedded_resource", "test_multiple_content_types", "test_tool_with_logging",
	"test_tool_with_progress", "test_error_handling", "test_reconnection", "test_sampling",
	"test_elicitation", "test_elicitation_sep1034_defaults", "test_elicitation_sep1330_enums",
	"json_schema_2020_12_tool", "count_slowly",
}

var stepsA = []stepA{
	{feature: "initialize (2025-11-25)", run: func(ctx context.Context, t *cellT, p peerClient, st *stateA) {
		ir := p.InitializeResult()
		if v := ir["protocolVersion"]; v != pinnedVersion {
			t.Errorf("protocolVersion = %v, want %s", v, pinnedVersion)
		}
		info, _ := ir["serverInfo"].(obj)
		if info["name"] != "switchboard-everything" {
			t.Errorf("serverInfo = %s", mustJSON(info))
		}
		caps, _ := ir["capabilities"].(obj)
		for _, c := range []string{"tools", "resources", "prompts", "completions", "logging"} {
			if _, ok := caps[c]; !ok {
				t.Errorf("capability %q missing: %s", c, mustJSON(caps))
			}
		}
		if res, _ := caps["resources"].(obj); res["subscribe"] != true {
			t.Errorf("resources.subscribe not declared: %s", mustJSON(caps))
		}
	}},
	{feature: "ping", run: func(ctx context.Context, t *cellT, p peerClient, st *stateA) {
		if err := p.Ping(ctx); err != nil {
			t.Fatal(err)
		}
	}},
	{feature: "tools/list", run: func(ctx context.Context, t *cellT, p peerClient, st *stateA) {
		tools, err := p.List(ctx, "tools")
		if err != nil {
			t.Fatal(err)
		}
		if m := missing(names(tools, "name"), demoTools); len(m) > 0 {
			t.Errorf("missing tools %v; got %v", m, names(tools, "name"))
		}
		for _, tool := range tools {
			if tool["name"] != "echo" {
				continue
			}
			schema, _ := tool["inputSchema"].(obj)
			props, _ := schema["properties"].(obj)
			if schema["type"] != "object" || props["text"] == nil {
				t.Errorf("echo inputSchema = %s", mustJSON(schema))
			}
		}
	}},
	{feature: "resources/list", run: func(ctx context.Context, t *cellT, p peerClient, st *stateA) {
		rs, err := p.List(ctx, "resources")
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"test://static-text", "test://static-binary", watchedURI}
		if m := missing(names(rs, "uri"), want); len(m) > 0 {
			t.Errorf("missing resources %v; got %v", m, names(rs, "uri"))
		}
	}},
	{feature: "resources/templates/list", run: func(ctx context.Context, t *cellT, p peerClient, st *stateA) {
		rs, err := p.List(ctx, "resourceTemplates")
		if err != nil {
			t.Fatal(err)
		}
		if m := missing(names(rs, "uriTemplate"), []string{"test://template/{id}/data"}); len(m) > 0 {
			t.Errorf("missing templates %v; got %v", m, names(rs, "uriTemplate"))
		}
	}},
	{feature: "prompts/list", run: func(ctx context.Context, t *cellT, p peerClient, st *stateA) {
		ps, err := p.List(ctx, "prompts")
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"test_simple_prompt", "test_prompt_with_arguments", "test_prompt_with_embedded_resource", "test_prompt_with_image"}
		if m := missing(names(ps, "name"), want); len(m) > 0 {
			t.Errorf("missing prompts %v; got %v", m, names(ps, "name"))
		}
		for _, pr := range ps {
			if pr["name"] == "test_prompt_with_arguments" {
				args, _ := pr["arguments"].([]any)
				if len(args) != 2 {
					t.Errorf("test_prompt_with_arguments arguments = %s", mustJSON(pr["arguments"]))
				}
			}
		}
	}},
	{feature: "logging/setLevel", run: func(ctx context.Context, t *cellT, p peerClient, st *stateA) {
		if err := p.SetLevel(ctx, "info"); err != nil {
			t.Fatal(err)
		}
	}},
	{feature: "resources/subscribe", run: func(ctx context.Context, t *cellT, p peerClient, st *stateA) {
		if err := p.Subscribe(ctx, watchedURI); err != nil {
			t.Fatal(err)
		}
		st.subscribedAt = time.Now()
		st.subscribeOK = true
	}},
	{feature: "tools/call echo", run: func(ctx context.Context, t *cellT, p peerClient, st *stateA) {
		got, _ := callText(ctx, t, p, "echo", obj{"text": "hello, interop ✓"})
		wantText(t, "echo", got, "hello, interop ✓")
	}},
	{feature: "tools/call add (structured)", run: func(ctx context.Context, t *cellT, p peerClient, st *stateA) {
		res, _, err := p.CallTool(ctx, "add", obj{"a": 2, "b": 3.5}, false)
		if err != nil {
			t.Fatal(err)
		}
		sc, _ := res["structuredContent"].(obj)
		if sc["sum"] != 5.5 {
			t.Errorf("structuredContent = %s, want {\"sum\":5.5}", mustJSON(res["structuredContent"]))
		}
		cs := contentOf(res)
		if len(cs) != 1 || cs[0]["type"] != "text" {
			t.Fatalf("content = %s, want the JSON as one text block", mustJSON(res["content"]))
		}
		var back obj
		if err := json.Unmarshal([]byte(cs[0]["text"].(string)), &back); err != nil || back["sum"] != 5.5 {
			t.Errorf("text block %q does not hold the structured content", cs[0]["text"])
		}
	}},
	{feature: "tools/call test_simple_text", run: func(ctx context.Context, t *cellT, p peerClient, st *stateA) {
		got, _ := callText(ctx, t, p, "test_simple_text", obj{})
		wantText(t, "test_simple_text", got, "This is a simple text response for testing.")
	}},
	{feature: "tools/call test_image_content", run: func(ctx context.Context, t *cellT, p peerClient, st *stateA) {
		res, _, err := p.CallTool(ctx, "test_image_content", obj{}, false)
		if err != nil {
			t.Fatal(err)
		}
		cs := contentOf(res)
		if len(cs) != 1 || cs[0]["type"] != "image" || cs[0]["mimeType"] != "image/png" || !sameBase64(fmt.Sprint(cs[0]["data"]), demoImageB64) {
			t.Errorf("content = %s", mustJSON(res["content"]))
		}
	}},
	{feature: "tools/call test_audio_content", run: func(ctx context.Context, t *cellT, p peerClient, st *stateA) {
		res, _, err := p.CallTool(ctx, "test_audio_content", obj{}, false)
		if err != nil {
			t.Fatal(err)
		}
		cs := contentOf(res)
		if len(cs) != 1 || cs[0]["type"] != "audio" || cs[0]["mimeType"] != "audio/wav" || !sameBase64(fmt.Sprint(cs[0]["data"]), demoAudioB64) {
			t.Errorf("content = %s", mustJSON(res["content"]))
		}
	}},
	{feature: "tools/call test_embedded_resource", run: func(ctx context.Context, t *cellT, p peerClient, st *stateA) {
		res, _, err := p.CallTool(ctx, "test_embedded_resource", obj{}, false)
		if err != nil {
			t.Fatal(err)
		}
		cs := contentOf(res)
		if len(cs) != 1 || cs[0]["type"] != "resource" {
			t.Fatalf("content = %s", mustJSON(res["content"]))
		}
		r, _ := cs[0]["resource"].(obj)
		want := obj{"uri": "test://embedded-resource", "mimeType": "text/plain", "text": "This is an embedded resource content."}
		if !reflect.DeepEqual(r, want) {
			t.Errorf("resource = %s, want %s", mustJSON(r), mustJSON(want))
		}
	}},
	{feature: "tools/call test_multiple_content_types", run: func(ctx context.Context, t *cellT, p peerClient, st *stateA) {
		res, _, err := p.CallTool(ctx, "test_multiple_content_types", obj{}, false)
		if err != nil {
			t.Fatal(err)
		}
		cs := contentOf(res)
		var types []string
		for _, c := range cs {
			types = append(types, fmt.Sprint(c["type"]))
		}
		if !slices.Equal(types, []string{"text", "image", "resource"}) {
			t.Fatalf("content types %v, want [text image resource]: %s", types, mustJSON(res["content"]))
		}
		if cs[0]["text"] != "Multiple content types test:" || !sameBase64(fmt.Sprint(cs[1]["data"]), demoImageB64) {
			t.Errorf("content = %s", mustJSON(res["content"]))
		}
		if r, _ := cs[2]["resource"].(obj); r["uri"] != "test://mixed-content-resource" || r["text"] != `{"test":"data","value":123}` {
			t.Errorf("resource = %s", mustJSON(cs[2]))
		}
	}},
	{feature: "tools/call test_tool_with_logging (+ log notifications)", run: func(ctx context.Context, t *cellT, p peerClient, st *stateA) {
		before := len(p.Notifications())
		got, _ := callText(ctx, t, p, "test_tool_with_logging", obj{})
		wantText(t, "result", got, "Tool with logging executed successfully")
		want := []string{"Tool execution started", "Tool processing data", "Tool execution completed"}
		ns, ok := waitNotifications(ctx, p, 2*time.Second, func(ns []notification) bool {
			return len(logMessages(ns[before:])) >= len(want)
		})
		if msgs := logMessages(ns[before:]); !ok || !slices.Equal(msgs, want) {
			t.Errorf("log messages %q, want %q (notifications: %v)", msgs, want, methodsOf(ns[before:]))
		}
	}},
	{feature: "tools/call test_tool_with_progress (+ progress)", run: func(ctx context.Context, t *cellT, p peerClient, st *stateA) {
		before := len(p.Notifications())
		res, token, err := p.CallTool(ctx, "test_tool_with_progress", obj{}, true)
		if err != nil {
			t.Fatal(err)
		}
		cs := contentOf(res)
		// The demo answers with the token as jsonrpc.ID.String() renders
		// it: JSON ("tok" with quotes) for strings; accept it bare too.
		if len(cs) != 1 || (cs[0]["text"] != fmt.Sprint(token) && cs[0]["text"] != mustJSON(token)) {
			t.Errorf("result %s, want the progress token %v as text", mustJSON(res["content"]), token)
		}
		ns, _ := waitNotifications(ctx, p, 2*time.Second, func(ns []notification) bool {
			return len(progressOf(ns[before:])) >= 3
		})
		ps := progressOf(ns[before:])
		var got []float64
		for _, p := range ps {
			got = append(got, p["progress"].(float64))
			if fmt.Sprint(p["progressToken"]) != fmt.Sprint(token) || p["total"] != 100.0 {
				t.Errorf("progress notification %s: want token %v, total 100", mustJSON(p), token)
			}
		}
		if !slices.Equal(got, []float64{0, 50, 100}) {
			t.Errorf("progress values %v, want [0 50 100]", got)
		}
	}},
	{feature: "tools/call test_error_handling (isError)", run: func(ctx context.Context, t *cellT, p peerClient, st *stateA) {
		res, _, err := p.CallTool(ctx, "test_error_handling", obj{}, false)
		if err != nil {
			t.Fatalf("want a tool result with isError, got a protocol error: %v", err)
		}
		cs := contentOf(res)
		if res["isError"] != true || len(cs) == 0 || !strings.Contains(fmt.Sprint(cs[0]["text"]), "This tool intentionally returns an error for testing") {
			t.Errorf("result = %s", mustJSON(res))
		}
	}},
	{feature: "tools/call json_schema_2020_12_tool", run: func(ctx context.Context, t *cellT, p peerClient, st *stateA) {
		got, _ := callText(ctx, t, p, "json_schema_2020_12_tool", obj{"name": "n", "address": obj{"city": "c"}})
		if !strings.HasPrefix(got, "JSON Schema 2020-12 tool called with: ") {
			t.Errorf("got %q", got)
		}
	}},
	{feature: "tools/call count_slowly", run: func(ctx context.Context, t *cellT, p peerClient, st *stateA) {
		got, _ := callText(ctx, t, p, "count_slowly", obj{"to": 3, "delayMs": 10})
		wantText(t, "count_slowly", got, "counted to 3")
	}},
	{feature: "tools/call unknown tool (error)", run: func(ctx context.Context, t *cellT, p peerClient, st *stateA) {
		res, _, err := p.CallTool(ctx, "no_such_tool", obj{}, false)
		if err == nil && res["isError"] != true {
			t.Errorf("calling an unknown tool succeeded: %s", mustJSON(res))
		}
	}},
	{feature: "sampling (test_sampling)", run: func(ctx context.Context, t *cellT, p peerClient, st *stateA) {
		got, _ := callText(ctx, t, p, "test_sampling", obj{"prompt": "What is 2+2?"})
		wantText(t, "test_sampling", got, "LLM response: sampled: What is 2+2?")
	}},
	{feature: "elicitation (test_elicitation)", run: func(ctx context.Context, t *cellT, p peerClient, st *stateA) {
		got, _ := callText(ctx, t, p, "test_elicitation", obj{"message": "Your name?"})
		wantText(t, "test_elicitation", got, `User response: action=accept, content={"response":"interop"}`)
	}},
	{feature: "elicitation defaults (SEP-1034)", run: func(ctx context.Context, t *cellT, p peerClient, st *stateA) {
		got, _ := callText(ctx, t, p, "test_elicitation_sep1034_defaults", obj{})
		wantText(t, "test_elicitation_sep1034_defaults", got,
			`Elicitation completed: action=accept, content={"age":30,"name":"John Doe","score":95.5,"status":"active","verified":true}`)
	}},
	{feature: "resources/read text", run: func(ctx context.Context, t *cellT, p peerClient, st *stateA) {
		res, err := p.ReadResource(ctx, "test://static-text")
		if err != nil {
			t.Fatal(err)
		}
		wantContents(t, res, obj{"uri": "test://static-text", "mimeType": "text/plain", "text": "This is the content of the static text resource."})
	}},
	{feature: "resources/read binary", run: func(ctx context.Context, t *cellT, p peerClient, st *stateA) {
		res, err := p.ReadResource(ctx, "test://static-binary")
		if err != nil {
			t.Fatal(err)
		}
		cs, _ := res["contents"].([]any)
		if len(cs) != 1 {
			t.Fatalf("contents = %s", mustJSON(res))
		}
		c, _ := cs[0].(obj)
		if c["uri"] != "test://static-binary" || c["mimeType"] != "image/png" || !sameBase64(fmt.Sprint(c["blob"]), demoImageB64) {
			t.Errorf("contents = %s", mustJSON(res))
		}
	}},
	{feature: "resources/read template", run: func(ctx context.Context, t *cellT, p peerClient, st *stateA) {
		res, err := p.ReadResource(ctx, "test://template/42/data")
		if err != nil {
			t.Fatal(err)
		}
		wantContents(t, res, obj{"uri": "test://template/42/data", "mimeType": "application/json",
			"text": `{"data":"Data for ID: 42","id":"42","templateTest":true}`})
	}},
	{feature: "resources/read unknown (error)", run: func(ctx context.Context, t *cellT, p peerClient, st *stateA) {
		res, err := p.ReadResource(ctx, "test://no-such-resource")
		if err == nil {
			t.Errorf("reading an unknown resource succeeded: %s", mustJSON(res))
		} else if !strings.Contains(err.Error(), "-32002") && !strings.Contains(strings.ToLower(err.Error()), "not found") {
			t.Errorf("error %q: want resource not found (-32002)", err)
		}
	}},
	{feature: "prompts/get simple", run: func(ctx context.Context, t *cellT, p peerClient, st *stateA) {
		res, err := p.GetPrompt(ctx, "test_simple_prompt", nil)
		if err != nil {
			t.Fatal(err)
		}
		wantMessages(t, res, []obj{{"role": "user", "content": obj{"type": "text", "text": "This is a simple prompt for testing."}}})
	}},
	{feature: "prompts/get with arguments", run: func(ctx context.Context, t *cellT, p peerClient, st *stateA) {
		res, err := p.GetPrompt(ctx, "test_prompt_with_arguments", map[string]string{"arg1": "one", "arg2": "two"})
		if err != nil {
			t.Fatal(err)
		}
		wantMessages(t, res, []obj{{"role": "user", "content": obj{"type": "text", "text": "Prompt with arguments: arg1='one', arg2='two'"}}})
	}},
	{feature: "prompts/get embedded resource", run: func(ctx context.Context, t *cellT, p peerClient, st *stateA) {
		res, err := p.GetPrompt(ctx, "test_prompt_with_embedded_resource", map[string]string{"resourceUri": "test://x"})
		if err != nil {
			t.Fatal(err)
		}
		wantMessages(t, res, []obj{
			{"role": "user", "content": obj{"type": "resource", "resource": obj{"uri": "test://x", "mimeType": "text/plain", "text": "Embedded resource content for testing."}}},
			{"role": "user", "content": obj{"type": "text", "text": "Please process the embedded resource above."}},
		})
	}},
	{feature: "prompts/get image", run: func(ctx context.Context, t *cellT, p peerClient, st *stateA) {
		res, err := p.GetPrompt(ctx, "test_prompt_with_image", nil)
		if err != nil {
			t.Fatal(err)
		}
		msgs, _ := res["messages"].([]any)
		if len(msgs) != 2 {
			t.Fatalf("messages = %s", mustJSON(res))
		}
		m0, _ := msgs[0].(obj)
		c0, _ := m0["content"].(obj)
		if c0["type"] != "image" || c0["mimeType"] != "image/png" || !sameBase64(fmt.Sprint(c0["data"]), demoImageB64) {
			t.Errorf("first message = %s", mustJSON(m0))
		}
	}},
	{feature: "completion/complete", run: func(ctx context.Context, t *cellT, p peerClient, st *stateA) {
		res, err := p.Complete(ctx, obj{"type": "ref/prompt", "name": "test_prompt_with_arguments"}, "arg1", "pa")
		if err != nil {
			t.Fatal(err)
		}
		c, _ := res["completion"].(obj)
		vals, _ := c["values"].([]any)
		if !reflect.DeepEqual(vals, []any{"paris", "park"}) {
			t.Errorf("completion = %s, want values [paris park]", mustJSON(res))
		}
	}},
	{feature: "notifications/resources/updated", run: func(ctx context.Context, t *cellT, p peerClient, st *stateA) {
		if !st.subscribeOK {
			t.Fatal("resources/subscribe failed")
		}
		// The demo announces an update of the watched resource every 5 s.
		wait := time.Until(st.subscribedAt.Add(7 * time.Second))
		ns, ok := waitNotifications(ctx, p, wait, func(ns []notification) bool {
			for _, n := range ns {
				if n.Method == "notifications/resources/updated" && n.Params["uri"] == watchedURI {
					return true
				}
			}
			return false
		})
		if !ok {
			t.Errorf("no notifications/resources/updated for %s within 7 s of subscribing; got %v", watchedURI, methodsOf(ns))
		}
	}},
	{feature: "resources/unsubscribe", run: func(ctx context.Context, t *cellT, p peerClient, st *stateA) {
		if err := p.Unsubscribe(ctx, watchedURI); err != nil {
			t.Fatal(err)
		}
	}},
	{feature: "SSE resumption (test_reconnection)", http: true, run: func(ctx context.Context, t *cellT, p peerClient, st *stateA) {
		got, _ := callText(ctx, t, p, "test_reconnection", obj{})
		if !strings.HasPrefix(got, "Reconnection test completed successfully") {
			t.Errorf("got %q", got)
		}
	}},
}

// featuresA lists the features of part A for transport.
func featuresA(transport string) []string {
	var out []string
	for _, s := range stepsA {
		if s.http && transport != "http" {
			continue
		}
		out = append(out, s.feature)
	}
	return out
}

func logMessages(ns []notification) []string {
	var out []string
	for _, n := range ns {
		if n.Method != "notifications/message" {
			continue
		}
		switch d := n.Params["data"].(type) {
		case string:
			out = append(out, d)
		default:
			out = append(out, mustJSON(d))
		}
	}
	return out
}

func progressOf(ns []notification) []obj {
	var out []obj
	for _, n := range ns {
		if n.Method == "notifications/progress" {
			out = append(out, n.Params)
		}
	}
	return out
}

func wantContents(t *cellT, res obj, want obj) {
	t.Helper()
	cs, _ := res["contents"].([]any)
	if len(cs) != 1 || !reflect.DeepEqual(cs[0], want) {
		t.Errorf("contents = %s, want [%s]", mustJSON(res["contents"]), mustJSON(want))
	}
}

func wantMessages(t *cellT, res obj, want []obj) {
	t.Helper()
	msgs, _ := res["messages"].([]any)
	got := make([]obj, 0, len(msgs))
	for _, m := range msgs {
		o, _ := m.(obj)
		got = append(got, o)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("messages = %s, want %s", mustJSON(got), mustJSON(want))
	}
}

// A connectA connects a peer client to the demo server over transport:
// stdio (cmdline is the server command) or http (url is the endpoint).
type connectA func(ctx context.Context, t *testing.T, transport string, cmdline []string, url string) (peerClient, error)

// runPartA runs every step of part A for one peer client over both
// transports, in parallel.
func runPartA(t *testing.T, peer string, connect connectA) {
	for _, transport := range []string{"stdio", "http"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			setupDone := guardSetup(t, "A", peer, transport, featuresA(transport))
			needBins(t)
			ctx := testContext(t, 60*time.Second)
			var cmdline []string
			var url string
			if transport == "http" {
				url = startDemoHTTP(t).URL
			} else {
				cmdline = demoStdioCommand()
			}
			connectCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
			p, err := connect(connectCtx, t, transport, cmdline, url)
			cancel()
			if err != nil {
				failColumn(t, "A", peer, transport, featuresA(transport), fmt.Sprintf("connect: %v", err))
			}
			t.Cleanup(func() {
				if err := p.Close(); err != nil {
					t.Logf("close: %v", err)
				}
			})
			setupDone()
			st := &stateA{transport: transport}
			for _, s := range stepsA {
				if s.http && transport != "http" {
					continue
				}
				runCell(t, cellKey{"A", peer, transport, s.feature}, func(c *cellT) {
					stepCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
					defer cancel()
					s.run(stepCtx, c, p, st)
				})
			}
		})
	}
}

// featureUnpinned is the row for a Go peer left at its default version.
const featureUnpinned = "initialize, peer default version (tries 2026-07-28 first)"

// TestUnpinnedVersion connects the Go peers without pinning a version:
// both then try 2026-07-28 (server/discover) first. A server that does
// not speak 2026-07-28 refuses it, and the peer must fall back to the
// initialize handshake at 2025-11-25; one that does may negotiate
// 2026-07-28. Either way a tool call must work afterwards. The cell shows
// the version negotiated.
func TestUnpinnedVersion(t *testing.T) {
	t.Parallel()
	peers := []struct {
		name    string
		connect connectA
	}{
		{"go-sdk", connectGoSDK("")},
		{"mcp-go", connectMCPGo("")},
	}
	for _, peer := range peers {
		for _, transport := range []string{"stdio", "http"} {
			t.Run(peer.name+"/"+transport, func(t *testing.T) {
				t.Parallel()
				runCell(t, cellKey{"A", peer.name, transport, featureUnpinned}, func(c *cellT) {
					needBins(c)
					ctx := testContext(c, 30*time.Second)
					var cmdline []string
					var url string
					if transport == "http" {
						url = startDemoHTTP(c).URL
					} else {
						cmdline = demoStdioCommand()
					}
					p, err := peer.connect(ctx, c.T, transport, cmdline, url)
					if err != nil {
						c.Fatalf("connect: %v", err)
					}
					defer p.Close()
					v := p.InitializeResult()["protocolVersion"]
					c.annotate(fmt.Sprint(v))
					if v != pinnedVersion && v != "2026-07-28" {
						c.Errorf("negotiated %v, want %s (fallback) or 2026-07-28", v, pinnedVersion)
					}
					got, _ := callText(ctx, c, p, "echo", obj{"text": "after fallback"})
					wantText(c, "echo", got, "after fallback")
				})
			})
		}
	}
}
