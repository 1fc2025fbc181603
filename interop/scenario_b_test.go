package interop

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Part B: Switchboard's client against peer servers.

// A stepB is one row of part B.
type stepB struct {
	feature string
	run     func(ctx context.Context, t *cellT, p peerClient)
}

// A serverB is a peer server of part B.
type serverB struct {
	name  string
	steps []stepB
	// start starts the server over HTTP and returns its endpoint, or
	// returns the command line that serves it over stdio.
	start func(t *testing.T, transport string) (cmdline []string, url string)
	// skip, if it returns a reason, skips the server (say, node_modules
	// is not installed).
	skip func() string
}

func featuresB(s serverB) []string {
	out := make([]string, len(s.steps))
	for i, st := range s.steps {
		out[i] = st.feature
	}
	return out
}

// TestOurClient is part B: Switchboard's client against each peer server
// over stdio and Streamable HTTP.
func TestOurClient(t *testing.T) {
	t.Parallel()
	for _, srv := range []serverB{goSDKServerB(), mcpGoServerB(), everythingServerB()} {
		for _, transport := range []string{"stdio", "http"} {
			t.Run(srv.name+"/"+transport, func(t *testing.T) {
				t.Parallel()
				if srv.skip != nil {
					if reason := srv.skip(); reason != "" {
						skipColumn(t, "B", srv.name, transport, featuresB(srv), reason)
					}
				}
				setupDone := guardSetup(t, "B", srv.name, transport, featuresB(srv))
				needBins(t)
				ctx := testContext(t, 60*time.Second)
				cmdline, url := srv.start(t, transport)
				d, err := dialerFor(t, transport, cmdline, url)
				if err != nil {
					t.Fatal(err)
				}
				connectCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
				p, err := connectOurs(connectCtx, d, pinnedVersion)
				cancel()
				if err != nil {
					failColumn(t, "B", srv.name, transport, featuresB(srv), fmt.Sprintf("connect: %v", err))
				}
				t.Cleanup(func() {
					if err := p.Close(); err != nil {
						t.Logf("close: %v", err)
					}
				})
				setupDone()
				for _, s := range srv.steps {
					runCell(t, cellKey{"B", srv.name, transport, s.feature}, func(c *cellT) {
						stepCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
						defer cancel()
						s.run(stepCtx, c, p)
					})
				}
			})
		}
	}
}

// Steps shared by every server, parameterized by its fixtures.

func stepInitialize(serverName string) stepB {
	return stepB{"initialize (2025-11-25)", func(ctx context.Context, t *cellT, p peerClient) {
		ir := p.InitializeResult()
		if v := ir["protocolVersion"]; v != pinnedVersion {
			t.Errorf("protocolVersion = %v, want %s", v, pinnedVersion)
		}
		if info, _ := ir["serverInfo"].(obj); info["name"] != serverName {
			t.Errorf("serverInfo = %s, want name %q", mustJSON(info), serverName)
		}
	}}
}

var stepPing = stepB{"ping", func(ctx context.Context, t *cellT, p peerClient) {
	if err := p.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}}

func stepList(kind, key string, want ...string) stepB {
	feature := map[string]string{"tools": "tools/list", "resources": "resources/list",
		"resourceTemplates": "resources/templates/list", "prompts": "prompts/list"}[kind]
	return stepB{feature, func(ctx context.Context, t *cellT, p peerClient) {
		items, err := p.List(ctx, kind)
		if err != nil {
			t.Fatal(err)
		}
		if m := missing(names(items, key), want); len(m) > 0 {
			t.Errorf("missing %v; got %v", m, names(items, key))
		}
		if len(items) == 0 {
			t.Errorf("empty list")
		}
	}}
}

var stepSetLevel = stepB{"logging/setLevel", func(ctx context.Context, t *cellT, p peerClient) {
	if err := p.SetLevel(ctx, "debug"); err != nil {
		t.Fatal(err)
	}
}}

// stepCallText calls a tool and checks its text: exact when exact is set,
// else that it contains want.
func stepCallText(feature, tool string, args obj, want string, exact bool) stepB {
	return stepB{feature, func(ctx context.Context, t *cellT, p peerClient) {
		res, _, err := p.CallTool(ctx, tool, args, false)
		if err != nil {
			t.Fatalf("tools/call %s: %v", tool, err)
		}
		if res["isError"] == true {
			t.Fatalf("tools/call %s: isError: %s", tool, mustJSON(res))
		}
		var texts []string
		for _, c := range contentOf(res) {
			if c["type"] == "text" {
				texts = append(texts, fmt.Sprint(c["text"]))
			}
		}
		got := strings.Join(texts, "\n")
		if exact && got != want || !exact && !strings.Contains(got, want) {
			t.Errorf("tools/call %s: text %q, want %s %q", tool, got, map[bool]string{true: "", false: "containing"}[exact], want)
		}
	}}
}

// stepProgress calls a tool asking for progress and expects n
// notifications (progress 1…n of n) carrying the token the client sent.
// With lossy set (a server known to drop and reorder them), it accepts
// any non-empty subset, in any order, and notes the loss.
func stepProgress(tool string, args obj, n int, lossy bool) stepB {
	return stepB{"progress notifications", func(ctx context.Context, t *cellT, p peerClient) {
		before := len(p.Notifications())
		res, token, err := p.CallTool(ctx, tool, args, true)
		if err != nil {
			t.Fatal(err)
		}
		if res["isError"] == true {
			t.Fatalf("isError: %s", mustJSON(res))
		}
		ns, _ := waitNotifications(ctx, p, 2*time.Second, func(ns []notification) bool { return len(progressOf(ns[before:])) >= n })
		ps := progressOf(ns[before:])
		if len(ps) == 0 || len(ps) > n || !lossy && len(ps) != n {
			t.Fatalf("%d progress notifications, want %d: %s", len(ps), n, mustJSON(ps))
		}
		seen := map[float64]bool{}
		for i, pr := range ps {
			if token == nil || fmt.Sprint(pr["progressToken"]) != fmt.Sprint(token) {
				t.Errorf("notification %d: token %v, want %v", i, pr["progressToken"], token)
			}
			v, _ := pr["progress"].(float64)
			if pr["total"] != float64(n) || v < 1 || v > float64(n) || seen[v] || !lossy && v != float64(i+1) {
				t.Errorf("notification %d: %s, want progress %d of %d", i, mustJSON(pr), i+1, n)
			}
			seen[v] = true
		}
		if len(ps) < n {
			t.Logf("the server delivered %d of %d progress notifications (a known loss of this peer server)", len(ps), n)
		}
	}}
}

func stepReadText(feature, uri, want string, exact bool) stepB {
	return stepB{feature, func(ctx context.Context, t *cellT, p peerClient) {
		res, err := p.ReadResource(ctx, uri)
		if err != nil {
			t.Fatal(err)
		}
		cs, _ := res["contents"].([]any)
		if len(cs) != 1 {
			t.Fatalf("contents = %s", mustJSON(res))
		}
		c, _ := cs[0].(obj)
		got, _ := c["text"].(string)
		if c["uri"] != uri || exact && got != want || !exact && !strings.HasPrefix(got, want) {
			t.Errorf("contents = %s, want uri %s and text %q", mustJSON(c), uri, want)
		}
	}}
}

func stepPrompt(feature, name string, args map[string]string, want string) stepB {
	return stepB{feature, func(ctx context.Context, t *cellT, p peerClient) {
		res, err := p.GetPrompt(ctx, name, args)
		if err != nil {
			t.Fatal(err)
		}
		wantMessages(t, res, []obj{{"role": "user", "content": obj{"type": "text", "text": want}}})
	}}
}

func stepComplete(feature string, ref obj, arg, value string, want ...string) stepB {
	return stepB{feature, func(ctx context.Context, t *cellT, p peerClient) {
		res, err := p.Complete(ctx, ref, arg, value)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := res["completion"].(obj)
		vals, _ := c["values"].([]any)
		var got []string
		for _, v := range vals {
			got = append(got, fmt.Sprint(v))
		}
		if !slices.Equal(got, want) {
			t.Errorf("completion = %s, want values %q", mustJSON(res), want)
		}
	}}
}

// stepSubscribe subscribes to uri, calls trigger (a tool that makes the
// server announce an update), and waits for notifications/resources/updated.
//
// With lossy set (a server known to lose notifications sent during a
// call), the trigger is called up to lossyAttempts times.
func stepSubscribe(uri, trigger string, args obj, lossy bool) stepB {
	return stepB{"resources/subscribe + updated", func(ctx context.Context, t *cellT, p peerClient) {
		if err := p.Subscribe(ctx, uri); err != nil {
			t.Fatal(err)
		}
		var ns []notification
		ok := false
		wait := 7 * time.Second
		if lossy {
			wait = 2 * time.Second
		}
		for attempt := 1; attempt <= lossyAttempts(lossy) && !ok; attempt++ {
			if _, _, err := p.CallTool(ctx, trigger, args, false); err != nil {
				t.Fatalf("tools/call %s: %v", trigger, err)
			}
			ns, ok = waitNotifications(ctx, p, wait, func(ns []notification) bool {
				for _, n := range ns {
					if n.Method == "notifications/resources/updated" && n.Params["uri"] == uri {
						return true
					}
				}
				return false
			})
			if !ok && attempt < lossyAttempts(lossy) {
				t.Logf("attempt %d: no notifications/resources/updated (a known loss of this peer server)", attempt)
			}
		}
		if !ok {
			t.Errorf("no notifications/resources/updated for %s; got %v", uri, methodsOf(ns))
		}
		if err := p.Unsubscribe(ctx, uri); err != nil {
			t.Errorf("resources/unsubscribe: %v", err)
		}
	}}
}

var stepUnknownTool = stepB{"tools/call unknown tool (error)", func(ctx context.Context, t *cellT, p peerClient) {
	res, _, err := p.CallTool(ctx, "no_such_tool", obj{}, false)
	if err == nil && res["isError"] != true {
		t.Errorf("calling an unknown tool succeeded: %s", mustJSON(res))
	}
}}

// lossyAttempts is how often a step tries to get a notification out of a
// server: once, or three times from one known to lose them.
func lossyAttempts(lossy bool) int {
	if lossy {
		return 3
	}
	return 1
}

// goPeerSteps are the steps for the go-sdk and mcp-go servers, whose
// fixtures are the same (cmd/gosdk-server).
//
// lossyProgress marks a server that drops and reorders progress
// notifications sent during a call over Streamable HTTP (mcp-go v1.2.1's
// server does, whatever the client: the go-sdk and TypeScript clients see
// the same). The log and resource update rows then retry their call: at
// 2026-07-28 the log and resources/updated notifications are lost the
// same way.
func goPeerSteps(serverName string, lossyProgress bool) []stepB {
	return []stepB{
		stepInitialize(serverName),
		stepPing,
		stepList("tools", "name", "echo", "add", "progress", "log", "ask_llm", "ask_user", "ask_llm_mrtr", "ask_user_mrtr", "touch"),
		stepList("resources", "uri", "interop://greeting"),
		stepList("resourceTemplates", "uriTemplate", "interop://items/{id}"),
		stepList("prompts", "name", "greet"),
		stepSetLevel,
		stepCallText("tools/call echo", "echo", obj{"text": "hello, interop ✓"}, "hello, interop ✓", true),
		{"tools/call structured output", func(ctx context.Context, t *cellT, p peerClient) {
			res, _, err := p.CallTool(ctx, "add", obj{"a": 2, "b": 3.5}, false)
			if err != nil {
				t.Fatal(err)
			}
			if sc, _ := res["structuredContent"].(obj); sc["sum"] != 5.5 {
				t.Errorf("structuredContent = %s, want {\"sum\":5.5}", mustJSON(res["structuredContent"]))
			}
		}},
		stepProgress("progress", obj{"steps": 3}, 3, lossyProgress),
		{"log notifications", func(ctx context.Context, t *cellT, p peerClient) {
			var got []string
			for attempt := 1; attempt <= lossyAttempts(lossyProgress); attempt++ {
				before := len(p.Notifications())
				if _, _, err := p.CallTool(ctx, "log", obj{"message": "a log line"}, false); err != nil {
					t.Fatal(err)
				}
				ns, _ := waitNotifications(ctx, p, 2*time.Second, func(ns []notification) bool { return len(logMessages(ns[before:])) > 0 })
				if got = logMessages(ns[before:]); len(got) > 0 {
					break
				}
				t.Logf("attempt %d: the log notification was lost (a known loss of this peer server)", attempt)
			}
			if !reflect.DeepEqual(got, []string{"a log line"}) {
				t.Errorf("log messages %q, want [\"a log line\"]", got)
			}
		}},
		stepCallText("sampling", "ask_llm", obj{"prompt": "What is 2+2?"}, "llm said: sampled: What is 2+2?", true),
		stepCallText("elicitation", "ask_user", obj{"message": "Your name?"}, "user said: action=accept name=interop", true),
		stepCallText(featureSamplingMRTR, "ask_llm_mrtr", obj{"prompt": "What is 2+2?"}, "llm said: sampled: What is 2+2?", true),
		stepCallText(featureElicitMRTR, "ask_user_mrtr", obj{"message": "Your name?"}, "user said: action=accept name=interop", true),
		stepReadText("resources/read text", "interop://greeting", "hello from the peer server", true),
		stepReadText("resources/read template", "interop://items/7", "item 7", true),
		stepPrompt("prompts/get", "greet", map[string]string{"name": "Ada"}, "Hello, Ada!"),
		stepComplete("completion/complete (prompt)", obj{"type": "ref/prompt", "name": "greet"}, "name", "Al", "Alice", "Albert"),
		stepSubscribe("interop://greeting", "touch", obj{"uri": "interop://greeting"}, lossyProgress),
		stepUnknownTool,
	}
}

// startGoPeer starts a Go peer server binary; httpArgs are added to its
// command line over HTTP.
func startGoPeer(t *testing.T, bin, transport string, httpArgs ...string) ([]string, string) {
	if transport == "stdio" {
		return []string{bin}, ""
	}
	cmd := exec.Command(bin, append([]string{"-http", "127.0.0.1:0"}, httpArgs...)...)
	return nil, startHTTPServer(t, cmd, "", true, "/mcp").URL
}

func goSDKServerB() serverB {
	return serverB{
		name:  "go-sdk",
		steps: goPeerSteps("interop-gosdk-server", false),
		start: func(t *testing.T, transport string) ([]string, string) {
			return startGoPeer(t, bins.gosdkServer, transport)
		},
	}
}

func mcpGoServerB() serverB {
	return serverB{
		name:  "mcp-go",
		steps: goPeerSteps("interop-mcpgo-server", true),
		start: func(t *testing.T, transport string) ([]string, string) {
			return startGoPeer(t, bins.mcpgoServer, transport)
		},
	}
}

// everythingServerB is @modelcontextprotocol/server-everything, run with
// the pinned Node: `dist/index.js stdio`, or `dist/index.js
// streamableHttp` (PORT from the environment, /mcp), under the loopback
// preload so that it binds 127.0.0.1 only.
func everythingServerB() serverB {
	const dynText = "demo://resource/dynamic/text/{resourceId}"
	return serverB{
		name: "server-everything",
		skip: func() string { _, reason := nodeBin(); return reason },
		start: func(t *testing.T, transport string) ([]string, string) {
			node, _ := nodeBin()
			cmdline := []string{node, "--require", filepath.Join(conformanceDir, "loopback.cjs"),
				filepath.Join(conformanceDir, "node_modules", "@modelcontextprotocol", "server-everything", "dist", "index.js")}
			if transport == "stdio" {
				return append(cmdline, "stdio"), ""
			}
			port := freePort(t)
			cmd := exec.Command(cmdline[0], append(cmdline[1:], "streamableHttp")...)
			cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(port))
			url := fmt.Sprintf("http://127.0.0.1:%d/mcp", port)
			return nil, startHTTPServer(t, cmd, url, false, "").URL
		},
		steps: []stepB{
			stepInitialize("mcp-servers/everything"),
			stepPing,
			stepList("tools", "name", "echo", "get-sum", "get-tiny-image", "trigger-long-running-operation",
				"trigger-sampling-request", "trigger-elicitation-request", "toggle-subscriber-updates", "get-structured-content"),
			stepList("resources", "uri"),
			stepList("resourceTemplates", "uriTemplate", dynText),
			stepList("prompts", "name", "simple-prompt", "args-prompt", "completable-prompt"),
			stepSetLevel,
			stepCallText("tools/call echo", "echo", obj{"message": "hello, interop ✓"}, "Echo: hello, interop ✓", true),
			{"tools/call structured output", func(ctx context.Context, t *cellT, p peerClient) {
				res, _, err := p.CallTool(ctx, "get-structured-content", obj{"location": "Chicago"}, false)
				if err != nil {
					t.Fatal(err)
				}
				want := obj{"temperature": 36.0, "conditions": "Light rain / drizzle", "humidity": 82.0}
				if sc, _ := res["structuredContent"].(obj); !reflect.DeepEqual(sc, want) {
					t.Errorf("structuredContent = %s, want %s", mustJSON(res["structuredContent"]), mustJSON(want))
				}
			}},
			stepCallText("tools/call get-sum", "get-sum", obj{"a": 2, "b": 3.5}, "The sum of 2 and 3.5 is 5.5.", true),
			{"tools/call image content", func(ctx context.Context, t *cellT, p peerClient) {
				res, _, err := p.CallTool(ctx, "get-tiny-image", obj{}, false)
				if err != nil {
					t.Fatal(err)
				}
				found := false
				for _, c := range contentOf(res) {
					if c["type"] == "image" {
						found = true
						if _, err := base64.StdEncoding.DecodeString(fmt.Sprint(c["data"])); err != nil || c["mimeType"] != "image/png" {
							t.Errorf("image block %s", mustJSON(c))
						}
					}
				}
				if !found {
					t.Errorf("no image block: %s", mustJSON(res))
				}
			}},
			stepProgress("trigger-long-running-operation", obj{"duration": 0.3, "steps": 3}, 3, false),
			{"log notifications", func(ctx context.Context, t *cellT, p peerClient) {
				// server-everything logs every subscribe request.
				before := len(p.Notifications())
				uri := "demo://resource/dynamic/text/2"
				if err := p.Subscribe(ctx, uri); err != nil {
					t.Fatal(err)
				}
				defer p.Unsubscribe(ctx, uri)
				ns, _ := waitNotifications(ctx, p, 3*time.Second, func(ns []notification) bool { return len(logMessages(ns[before:])) > 0 })
				msgs := logMessages(ns[before:])
				if len(msgs) == 0 || !strings.Contains(msgs[0], "Received Subscribe Resource request for URI: "+uri) {
					t.Errorf("log messages %q, want the subscribe log", msgs)
				}
			}},
			stepCallText("sampling", "trigger-sampling-request", obj{"prompt": "What is 2+2?"},
				`sampled: Resource trigger-sampling-request context: What is 2+2?`, false),
			// The client answers only the required name; ApplyElicitDefaults
			// adds the schema's defaults (integer 42, number 3.14, …).
			stepCallText("elicitation", "trigger-elicitation-request", obj{}, "- Name: interop\n- Favorite Integer: 42\n- Favorite Number: 3.14", false),
			{"resources/read text", func(ctx context.Context, t *cellT, p peerClient) {
				// The static documents server-everything lists.
				rs, err := p.List(ctx, "resources")
				if err != nil {
					t.Fatal(err)
				}
				uri := ""
				for _, u := range names(rs, "uri") {
					if strings.HasPrefix(u, "demo://resource/static/document/") {
						uri = u
						break
					}
				}
				if uri == "" {
					t.Fatalf("no demo://resource/static/document/ resource in %v", names(rs, "uri"))
				}
				res, err := p.ReadResource(ctx, uri)
				if err != nil {
					t.Fatal(err)
				}
				cs, _ := res["contents"].([]any)
				if len(cs) != 1 {
					t.Fatalf("contents = %s", mustJSON(res))
				}
				if c, _ := cs[0].(obj); c["uri"] != uri || fmt.Sprint(c["text"]) == "" {
					t.Errorf("contents = %.300s", mustJSON(c))
				}
			}},
			stepReadText("resources/read template", "demo://resource/dynamic/text/1", "Resource 1: This is a plaintext resource created at", false),
			{"resources/read blob", func(ctx context.Context, t *cellT, p peerClient) {
				uri := "demo://resource/dynamic/blob/1"
				res, err := p.ReadResource(ctx, uri)
				if err != nil {
					t.Fatal(err)
				}
				cs, _ := res["contents"].([]any)
				if len(cs) != 1 {
					t.Fatalf("contents = %s", mustJSON(res))
				}
				c, _ := cs[0].(obj)
				b, err := base64.StdEncoding.DecodeString(fmt.Sprint(c["blob"]))
				if err != nil || !strings.HasPrefix(string(b), "Resource 1: This is a base64 blob") {
					t.Errorf("contents = %s (decoded %q)", mustJSON(c), b)
				}
			}},
			stepPrompt("prompts/get", "args-prompt", map[string]string{"city": "Paris"}, "What's weather in Paris?"),
			stepComplete("completion/complete (prompt)", obj{"type": "ref/prompt", "name": "completable-prompt"}, "department", "Eng", "Engineering"),
			stepComplete("completion/complete (template)", obj{"type": "ref/resource", "uri": dynText}, "resourceId", "3", "3"),
			stepSubscribe("demo://resource/dynamic/text/1", "toggle-subscriber-updates", obj{}, false),
			stepUnknownTool,
		},
	}
}
