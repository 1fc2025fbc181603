package gateway_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/gateway"
	"github.com/switchboard-mcp/switchboard/internal/everything"
	"github.com/switchboard-mcp/switchboard/internal/govtest"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
)

func boolp(b bool) *bool { return &b }

// Two virtual servers over the same upstreams show different tool sets,
// names, descriptions and annotations; each has its own serverInfo and
// instructions, and a tool outside a server's view cannot be called
// through it.
func TestVirtualServersViewsAndOverrides(t *testing.T) {
	var events govtest.Events
	g, base := govtest.Gateway(t, gateway.Options{
		Upstreams: []gateway.Upstream{{Name: "a", Server: everything.NewServer(nil)}, {Name: "b", Server: everything.NewServer(nil)}},
		Hooks:     gateway.Hooks{Observe: []func(context.Context, *gateway.Event){events.Observe}},
		VirtualServers: []gateway.VirtualServer{
			{Name: "math", Title: "Math", Instructions: "Only arithmetic here.", Upstreams: []string{"a"}, Tools: []string{"a_add", "a_echo"},
				Overrides: map[string]gateway.ToolOverride{"a_echo": {Name: "say", Description: "Says the text back",
					Annotations: &protocol.ToolAnnotations{ReadOnlyHint: boolp(true)}}}},
			{Name: "tests", Upstreams: []string{"b"}, Tools: []string{"b_test_*"}, Prompts: []string{"none"}},
		},
	})
	math := govtest.Connect(t, govtest.Stateful, base+"/v/math/mcp", nil, "c1", nil)
	tests := govtest.Connect(t, govtest.Stateful, base+"/v/tests/mcp", nil, "c2", nil)
	if got := govtest.ToolNames(t, math); !slices.Equal(got, []string{"a_add", "say"}) {
		t.Errorf("math tools: %v", got)
	}
	got := govtest.ToolNames(t, tests)
	if len(got) < 5 || slices.ContainsFunc(got, func(n string) bool { return !strings.HasPrefix(n, "b_test_") }) {
		t.Errorf("tests tools: %v", got)
	}
	if info := math.ServerInfo(); info.Name != "math" || info.Title != "Math" {
		t.Errorf("math serverInfo %+v", info)
	}
	for tool, err := range math.Tools(govtest.Ctx(t)) {
		if err != nil {
			t.Fatal(err)
		}
		if tool.Name == "say" && (tool.Description != "Says the text back" || tool.Annotations == nil || !tool.Annotations.ReadOnly()) {
			t.Errorf("override not applied: %+v", tool)
		}
	}
	res, err := math.CallToolArgs(govtest.Ctx(t), "say", map[string]any{"text": "hello"})
	if err != nil || res.IsError || !strings.Contains(res.Content[0].(*protocol.TextContent).Text, "hello") {
		t.Errorf("say: %v %v", res, err)
	}
	if _, err := math.CallToolArgs(govtest.Ctx(t), "a_echo", map[string]any{"text": "x"}); err == nil {
		t.Error("the overridden name still answers")
	}
	if _, err := math.CallToolArgs(govtest.Ctx(t), "b_echo", map[string]any{"text": "x"}); err == nil {
		t.Error("a tool outside the view answers")
	}
	n := 0
	for _, err := range tests.Prompts(govtest.Ctx(t)) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 0 {
		t.Errorf("tests lists %d prompts", n)
	}
	// Events name the virtual server and the real tool.
	ev := events.Find(protocol.MethodToolsCall, "say")
	if len(ev) != 1 || ev[0].VirtualServer != "math" || ev[0].Upstream != "a" || ev[0].Original != "echo" {
		t.Errorf("say events: %+v", ev)
	}
	// The sessions list tells which server each session uses.
	servers := map[string]bool{}
	for _, s := range g.Sessions() {
		servers[s.Server] = true
	}
	if !servers["math"] || !servers["tests"] {
		t.Errorf("sessions: %+v", g.Sessions())
	}
}

// syntheticTools registers 500 tools: 10 systems x 10 actions x 5
// objects, each with a description and arguments.
func syntheticTools() *mcp.Server {
	srv := mcp.NewServer(protocol.Implementation{Name: "synthetic", Version: "1"}, nil)
	systems := []string{"github", "jira", "slack", "calendar", "drive", "postgres", "stripe", "salesforce", "zendesk", "s3"}
	actions := []string{"create", "get", "list", "update", "delete", "search", "archive", "export", "share", "comment"}
	objects := []string{"issue", "message", "event", "file", "record"}
	for _, s := range systems {
		for _, a := range actions {
			for _, o := range objects {
				name := fmt.Sprintf("%s_%s_%s", s, a, o)
				desc := fmt.Sprintf("%s a %s in %s. Use it to %s %ss of the %s workspace the user is connected to.",
					strings.ToUpper(a[:1])+a[1:], o, s, a, o, s)
				schema := fmt.Sprintf(`{"type":"object","properties":{"%s_id":{"type":"string","description":"The %s's identifier"},"workspace":{"type":"string"}},"required":["workspace"]}`, o, o)
				srv.AddTool(&protocol.Tool{Name: name, Description: desc, InputSchema: jsontext.Value(schema),
					Annotations: &protocol.ToolAnnotations{ReadOnlyHint: boolp(a == "get" || a == "list" || a == "search" || a == "export")}},
					func(ctx context.Context, req *mcp.Request, call *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
						return mcp.TextResult("ran " + name), nil
					})
			}
		}
	}
	return srv
}

func rawToolsList(t *testing.T, cs *mcp.ClientSession) jsontext.Value {
	t.Helper()
	var raw jsontext.Value
	if err := cs.Call(govtest.Ctx(t), protocol.MethodToolsList, struct{}{}, &raw); err != nil {
		t.Fatal(err)
	}
	return raw
}

type found struct {
	Tools []struct {
		Name string `json:"name"`
	} `json:"tools"`
}

func findTools(t *testing.T, cs *mcp.ClientSession, query string, limit int) []string {
	t.Helper()
	res, err := cs.CallToolArgs(govtest.Ctx(t), gateway.FindToolsName, map[string]any{"query": query, "limit": limit})
	if err != nil || res.IsError {
		t.Fatalf("find_tools %q: %v %v", query, res, err)
	}
	var f found
	if err := json.Unmarshal(res.StructuredContent, &f); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, x := range f.Tools {
		names = append(names, x.Name)
	}
	return names
}

// Tool search over 500 tools: tools/list holds two meta-tools in under
// 2 KiB, scripted queries rank the relevant tool first, the index is
// built once across 100 sessions, and a denied tool is neither found nor
// callable through call_tool (the same denial as a direct call).
func TestToolSearch500(t *testing.T) {
	deny := func(ctx context.Context, a *gateway.Access) error {
		if a.Kind == "tool" && strings.Contains(a.Original, "_delete_") && (a.Identity == nil || a.Identity.Subject != "admin") {
			return &gateway.Denial{Rule: "no-deletes", Reason: "only admins delete"}
		}
		return nil
	}
	var events govtest.Events
	g, base := govtest.Gateway(t, gateway.Options{
		Upstreams: []gateway.Upstream{{Name: "syn", Server: syntheticTools()}},
		Hooks:     gateway.Hooks{Identify: govtest.IdentifyByClientName, Authorize: deny, Observe: []func(context.Context, *gateway.Event){events.Observe}},
		VirtualServers: []gateway.VirtualServer{
			{Name: "all"},
			{Name: "search", ToolMode: gateway.ToolsSearch, SearchHint: "Tools for GitHub, Jira, Slack, calendars, files, databases, payments, CRM and support."},
		},
	})
	all := govtest.Connect(t, govtest.Stateful, base+"/v/all/mcp", nil, "user", nil)
	search := govtest.Connect(t, govtest.Stateful, base+"/v/search/mcp", nil, "user", nil)

	allRaw, searchRaw := rawToolsList(t, all), rawToolsList(t, search)
	t.Logf("tools/list for 500 tools: %d bytes in all mode (450 visible after policy), %d bytes in search mode", len(allRaw), len(searchRaw))
	if len(searchRaw) >= 2048 {
		t.Errorf("search-mode tools/list is %d bytes: %s", len(searchRaw), searchRaw)
	}
	var list protocol.ListToolsResult
	if err := json.Unmarshal(searchRaw, &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Tools) != 2 {
		t.Fatalf("search mode lists %d tools", len(list.Tools))
	}
	for _, tool := range list.Tools {
		a := tool.Annotations
		switch tool.Name {
		case gateway.FindToolsName:
			if a == nil || !a.ReadOnly() || a.Destructive() || !a.Idempotent() || a.OpenWorld() {
				t.Errorf("find_tools annotations: %+v", a)
			}
			if !strings.Contains(tool.Description, "GitHub, Jira") {
				t.Errorf("find_tools description lacks the hint: %q", tool.Description)
			}
		case gateway.CallToolName:
			// Some tools write and are unannotated as to destruction:
			// call_tool may destroy; it is not read-only.
			if a == nil || a.ReadOnly() || !a.Destructive() {
				t.Errorf("call_tool annotations: %+v", a)
			}
		}
	}

	for _, q := range []struct{ query, want string }{
		{"create a github issue", "github_create_issue"},
		{"send slack message comment", "slack_comment_message"},
		{"search jira issues", "jira_search_issue"},
		{"list calendar events", "calendar_list_event"},
		{"export stripe records", "stripe_export_record"},
		{"archive zendesk file", "zendesk_archive_file"},
		{"postgres record by record_id", "postgres_get_record"},
	} {
		got := findTools(t, search, q.query, 5)
		if len(got) == 0 || (got[0] != q.want && !(q.want == "postgres_get_record" && strings.HasPrefix(got[0], "postgres_") && strings.HasSuffix(got[0], "_record"))) {
			t.Errorf("find_tools %q: %v, want %s first", q.query, got, q.want)
		}
	}

	// Denial parity.
	if got := findTools(t, search, "delete github issue", 50); slices.Contains(got, "github_delete_issue") {
		t.Errorf("a denied tool was found: %v", got)
	}
	_, directErr := all.CallToolArgs(govtest.Ctx(t), "github_delete_issue", map[string]any{"workspace": "w"})
	_, metaErr := search.CallToolArgs(govtest.Ctx(t), gateway.CallToolName, map[string]any{"name": "github_delete_issue", "arguments": map[string]any{"workspace": "w"}})
	if govtest.RPCCode(directErr) != gateway.CodeDenied || govtest.RPCCode(metaErr) != gateway.CodeDenied || directErr.Error() != metaErr.Error() {
		t.Errorf("denial parity: direct %v, meta %v", directErr, metaErr)
	}
	admin := govtest.Connect(t, govtest.Stateful, base+"/v/search/mcp", nil, "admin", nil)
	adminAll := govtest.Connect(t, govtest.Stateful, base+"/v/all/mcp", nil, "admin", nil)
	t.Logf("tools/list for 500 tools, nothing hidden: %d bytes in all mode", len(rawToolsList(t, adminAll)))
	if got := findTools(t, admin, "delete github issue", 3); len(got) == 0 || got[0] != "github_delete_issue" {
		t.Errorf("admin's search: %v", got)
	}
	res, err := search.CallToolArgs(govtest.Ctx(t), gateway.CallToolName, map[string]any{"name": "github_create_issue", "arguments": map[string]any{"workspace": "w"}})
	if err != nil || res.IsError || res.Content[0].(*protocol.TextContent).Text != "ran github_create_issue" {
		t.Errorf("call_tool: %v %v", res, err)
	}
	// The meta-call's events are attributed to the real tool, as a direct
	// call's are.
	ev := events.Find(protocol.MethodToolsCall, "github_delete_issue")
	if len(ev) != 2 || ev[0].Outcome != gateway.OutcomeDenied || ev[1].Outcome != gateway.OutcomeDenied || ev[1].VirtualServer != "search" || ev[1].Original != "github_delete_issue" {
		t.Errorf("denied events: %d", len(ev))
	}

	// 100 sessions search; one index.
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cs := govtest.Connect(t, govtest.Stateless, base+"/v/search/mcp", nil, fmt.Sprintf("u%d", i), nil)
			if got := findTools(t, cs, "update drive file", 1); len(got) != 1 || got[0] != "drive_update_file" {
				t.Errorf("session %d: %v", i, got)
			}
		}()
	}
	wg.Wait()
	if n := g.SearchIndexBuilds(); n != 1 {
		t.Errorf("%d index builds, want 1", n)
	}
}
