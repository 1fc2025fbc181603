package protocol

import (
	"reflect"
	"testing"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
)

// Messages from the examples of the 2025-11-25 specification, decoded into
// the Go types, checked, re-encoded and validated against the schema.

type docCase struct {
	name string
	// doc is a JSON-RPC message, or a bare value when target is set.
	doc string
	// method is the method of the request a response answers.
	method string
	// target, if set, returns what to decode into instead of the method
	// table's type (and marks doc as a bare value when method is empty).
	target func() any
	// def is the definition the re-encoded params or result must satisfy;
	// requests and notifications are also validated whole against msgDef.
	def, msgDef string
	check       func(t *testing.T, v any)
}

var docCases = []docCase{
	{
		name: "tools/call request", def: "CallToolRequestParams", msgDef: "CallToolRequest",
		doc: `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"get_weather","arguments":{"location":"New York"}}}`,
		check: func(t *testing.T, v any) {
			p := v.(*CallToolRequestParams)
			var args struct {
				Location string `json:"location"`
			}
			if err := json.Unmarshal(p.Arguments, &args); err != nil || p.Name != "get_weather" || args.Location != "New York" {
				t.Errorf("got %+v, arguments %+v (%v)", p, args, err)
			}
		},
	},
	{
		name: "tools/call result", method: MethodToolsCall, def: "CallToolResult",
		doc: `{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"Current weather in New York:\nTemperature: 72°F\nConditions: Partly cloudy"}],"isError":false}}`,
		check: func(t *testing.T, v any) {
			r := v.(*CallToolResult)
			if len(r.Content) != 1 || r.IsError {
				t.Fatalf("got %+v", r)
			}
			if tc, ok := r.Content[0].(*TextContent); !ok || tc.Text != "Current weather in New York:\nTemperature: 72°F\nConditions: Partly cloudy" {
				t.Errorf("content %#v", r.Content[0])
			}
		},
	},
	{
		name: "tools/call structured result", method: MethodToolsCall, def: "CallToolResult",
		doc: `{"jsonrpc":"2.0","id":5,"result":{"content":[{"type":"text","text":"{\"temperature\": 22.5, \"conditions\": \"Partly cloudy\", \"humidity\": 65}"}],
			"structuredContent":{"temperature":22.5,"conditions":"Partly cloudy","humidity":65}}}`,
		check: func(t *testing.T, v any) {
			r := v.(*CallToolResult)
			if got := string(r.StructuredContent); got != `{"temperature":22.5,"conditions":"Partly cloudy","humidity":65}` {
				t.Errorf("structuredContent %s", got)
			}
		},
	},
	{
		name: "tools/call error result", method: MethodToolsCall, def: "CallToolResult",
		doc: `{"jsonrpc":"2.0","id":4,"result":{"content":[{"type":"text","text":"Invalid departure date: must be in the future. Current date is 08/08/2025."}],"isError":true}}`,
		check: func(t *testing.T, v any) {
			if !v.(*CallToolResult).IsError {
				t.Error("IsError not set")
			}
		},
	},
	{
		name: "tools/call result with every content type", method: MethodToolsCall, def: "CallToolResult",
		doc: `{"jsonrpc":"2.0","id":6,"result":{"content":[
			{"type":"text","text":"Tool result text"},
			{"type":"image","data":"iVBORw0KGgo=","mimeType":"image/png","annotations":{"audience":["user"],"priority":0.9}},
			{"type":"audio","data":"UklGRg==","mimeType":"audio/wav"},
			{"type":"resource_link","uri":"file:///project/src/main.rs","name":"main.rs","description":"Primary application entry point","mimeType":"text/x-rust"},
			{"type":"resource","resource":{"uri":"file:///project/src/main.rs","mimeType":"text/x-rust","text":"fn main() {\n    println!(\"Hello world!\");\n}"}}]}}`,
		check: func(t *testing.T, v any) {
			c := v.(*CallToolResult).Content
			want := []string{ContentTypeText, ContentTypeImage, ContentTypeAudio, ContentTypeResourceLink, ContentTypeResource}
			if len(c) != len(want) {
				t.Fatalf("%d blocks", len(c))
			}
			for i, b := range c {
				if b.ContentType() != want[i] {
					t.Errorf("block %d is %s, want %s", i, b.ContentType(), want[i])
				}
			}
			if img := c[1].(*ImageContent); string(img.Data) != "\x89PNG\r\n\x1a\n" || *img.Annotations.Priority != 0.9 {
				t.Errorf("image %+v", img)
			}
			if r := c[4].(*EmbeddedResource).Resource.(*TextResourceContents); r.MIMEType != "text/x-rust" {
				t.Errorf("embedded %+v", r)
			}
		},
	},
	{
		name: "tools/list result", method: MethodToolsList, def: "ListToolsResult",
		doc: `{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"get_weather","title":"Weather Information Provider",
			"description":"Get current weather information for a location",
			"inputSchema":{"type":"object","properties":{"location":{"type":"string","description":"City name or zip code"}},"required":["location"]},
			"icons":[{"src":"https://example.com/weather-icon.png","mimeType":"image/png","sizes":["48x48"]}],
			"execution":{"taskSupport":"optional"}}],"nextCursor":"next-page-cursor"}}`,
		check: func(t *testing.T, v any) {
			r := v.(*ListToolsResult)
			if len(r.Tools) != 1 || r.Tools[0].TaskSupport() != TaskSupportOptional || r.NextCursor != "next-page-cursor" {
				t.Errorf("got %+v", r)
			}
			// The schema passes through verbatim, including its layout.
			if got := string(r.Tools[0].InputSchema); got != `{"type":"object","properties":{"location":{"type":"string","description":"City name or zip code"}},"required":["location"]}` {
				t.Errorf("inputSchema %s", got)
			}
		},
	},
	{
		name: "initialize request", def: "InitializeRequestParams", msgDef: "InitializeRequest",
		doc: `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{"roots":{"listChanged":true},
			"sampling":{},"elicitation":{"form":{},"url":{}},"tasks":{"requests":{"elicitation":{"create":{}},"sampling":{"createMessage":{}}}}},
			"clientInfo":{"name":"ExampleClient","title":"Example Client Display Name","version":"1.0.0","description":"An example MCP client application",
			"icons":[{"src":"https://example.com/icon.png","mimeType":"image/png","sizes":["48x48"]}],"websiteUrl":"https://example.com"}}}`,
		check: func(t *testing.T, v any) {
			p := v.(*InitializeRequestParams)
			c := &p.Capabilities
			if !c.SupportsElicitationForm() || !c.SupportsElicitationURL() || !c.SupportsSampling() || c.SupportsSamplingTools() ||
				!c.SupportsRoots() || !c.Roots.ListChanged {
				t.Errorf("capabilities %+v", c)
			}
			if !c.SupportsTaskRequest(MethodSamplingCreateMessage) || !c.SupportsTaskRequest(MethodElicitationCreate) || c.SupportsTaskRequest(MethodToolsCall) {
				t.Error("task request capabilities wrong")
			}
			if NegotiateVersion(p.ProtocolVersion) != Version20251125 {
				t.Error("negotiation")
			}
		},
	},
	{
		name: "initialize result", method: MethodInitialize, def: "InitializeResult",
		doc: `{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-11-25","capabilities":{"logging":{},"prompts":{"listChanged":true},
			"resources":{"subscribe":true,"listChanged":true},"tools":{"listChanged":true},
			"tasks":{"list":{},"cancel":{},"requests":{"tools":{"call":{}}}}},
			"serverInfo":{"name":"ExampleServer","title":"Example Server Display Name","version":"1.0.0",
			"description":"An example MCP server providing tools and resources",
			"icons":[{"src":"https://example.com/server-icon.svg","mimeType":"image/svg+xml","sizes":["any"]}],"websiteUrl":"https://example.com/server"},
			"instructions":"Optional instructions for the client"}}`,
		check: func(t *testing.T, v any) {
			c := v.(*InitializeResult).Capabilities
			if c.Logging == nil || c.Completions != nil || !c.Resources.Subscribe || !c.SupportsTaskRequest(MethodToolsCall) {
				t.Errorf("capabilities %+v", c)
			}
		},
	},
	{
		name: "2025-06-18 elicitation capability", def: "InitializeRequestParams", msgDef: "InitializeRequest",
		doc: `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{"elicitation":{}},
			"clientInfo":{"name":"c","version":"1"}}}`,
		check: func(t *testing.T, v any) {
			c := &v.(*InitializeRequestParams).Capabilities
			if !c.SupportsElicitationForm() || c.SupportsElicitationURL() {
				t.Error(`"elicitation": {} must mean form mode only`)
			}
		},
	},
	{
		name: "elicitation form request", def: "ElicitRequestParams", msgDef: "ElicitRequest",
		doc: `{"jsonrpc":"2.0","id":2,"method":"elicitation/create","params":{"mode":"form","message":"Please provide your contact information",
			"requestedSchema":{"type":"object","properties":{"name":{"type":"string","description":"Your full name"},
			"email":{"type":"string","format":"email","description":"Your email address"},
			"age":{"type":"number","minimum":18,"description":"Your age"}},"required":["name","email"]}}}`,
		check: func(t *testing.T, v any) {
			p := v.(*ElicitRequestParams)
			if err := p.Validate(); err != nil {
				t.Error(err)
			}
			s := p.RequestedSchema
			if got := s.PropertyNames(); len(got) != 3 || got[0] != "name" || got[1] != "email" || got[2] != "age" {
				t.Errorf("property order %v", got)
			}
			if e, ok := s.Properties["email"].(*StringSchema); !ok || e.Format != StringFormatEmail {
				t.Errorf("email %#v", s.Properties["email"])
			}
			if a, ok := s.Properties["age"].(*NumberSchema); !ok || *a.Minimum != 18 || a.Type != "number" {
				t.Errorf("age %#v", s.Properties["age"])
			}
		},
	},
	{
		name: "elicitation form request without mode", def: "ElicitRequestParams", msgDef: "ElicitRequest",
		doc: `{"jsonrpc":"2.0","id":1,"method":"elicitation/create","params":{"message":"Please provide your GitHub username",
			"requestedSchema":{"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}}}`,
		check: func(t *testing.T, v any) {
			p := v.(*ElicitRequestParams)
			if p.EffectiveMode() != ElicitModeForm || p.Validate() != nil {
				t.Errorf("mode %q, validate %v", p.EffectiveMode(), p.Validate())
			}
		},
	},
	{
		name: "elicitation url request", def: "ElicitRequestURLParams", msgDef: "ElicitRequest",
		doc: `{"jsonrpc":"2.0","id":3,"method":"elicitation/create","params":{"mode":"url","elicitationId":"550e8400-e29b-41d4-a716-446655440000",
			"url":"https://mcp.example.com/ui/set_api_key","message":"Please provide your API key to continue."}}`,
		check: func(t *testing.T, v any) {
			p := v.(*ElicitRequestParams)
			if p.Mode != ElicitModeURL || p.URL != "https://mcp.example.com/ui/set_api_key" || p.Validate() != nil {
				t.Errorf("got %+v", p)
			}
		},
	},
	{
		name: "elicitation result", method: MethodElicitationCreate, def: "ElicitResult",
		doc: `{"jsonrpc":"2.0","id":2,"result":{"action":"accept","content":{"name":"Monalisa Octocat","email":"octocat@github.com","age":30}}}`,
		check: func(t *testing.T, v any) {
			r := v.(*ElicitResult)
			if r.Action != ElicitActionAccept || r.Content["age"] != 30.0 || r.Content["name"] != "Monalisa Octocat" {
				t.Errorf("got %+v", r)
			}
		},
	},
	{
		name: "SEP-1330 enum schemas", def: "ElicitRequestFormParams", target: func() any { return new(ElicitRequestParams) },
		doc: `{"message":"Pick colors","requestedSchema":{"type":"object","properties":{
			"single":{"type":"string","title":"Color Selection","description":"Choose your favorite color","enum":["Red","Green","Blue"],"default":"Red"},
			"titled":{"type":"string","title":"Color Selection","oneOf":[{"const":"#FF0000","title":"Red"},{"const":"#00FF00","title":"Green"}],"default":"#FF0000"},
			"multi":{"type":"array","title":"Color Selection","minItems":1,"maxItems":2,"items":{"type":"string","enum":["Red","Green","Blue"]},"default":["Red","Green"]},
			"titledMulti":{"type":"array","minItems":1,"maxItems":2,"items":{"anyOf":[{"const":"#FF0000","title":"Red"},{"const":"#00FF00","title":"Green"}]},"default":["#FF0000"]},
			"legacy":{"type":"string","enum":["a","b"],"enumNames":["Option A","Option B"]}}}}`,
		check: func(t *testing.T, v any) {
			props := v.(*ElicitRequestParams).RequestedSchema.Properties
			want := map[string]string{
				"single": "*protocol.UntitledSingleSelectEnumSchema", "titled": "*protocol.TitledSingleSelectEnumSchema",
				"multi": "*protocol.UntitledMultiSelectEnumSchema", "titledMulti": "*protocol.TitledMultiSelectEnumSchema",
				"legacy": "*protocol.LegacyTitledEnumSchema",
			}
			for name, typ := range want {
				if got := typeName(props[name]); got != typ {
					t.Errorf("%s decoded as %s, want %s", name, got, typ)
				}
			}
			if vs := props["titledMulti"].(EnumSchema).Values(); len(vs) != 2 || vs[1] != "#00FF00" {
				t.Errorf("values %v", vs)
			}
		},
	},
	{
		name: "sampling request with tools", def: "CreateMessageRequestParams", msgDef: "CreateMessageRequest",
		doc: `{"jsonrpc":"2.0","id":1,"method":"sampling/createMessage","params":{"messages":[{"role":"user","content":{"type":"text","text":"What's the weather like in Paris and London?"}}],
			"tools":[{"name":"get_weather","description":"Get current weather for a city","inputSchema":{"type":"object","properties":{"city":{"type":"string","description":"City name"}},"required":["city"]}}],
			"toolChoice":{"mode":"auto"},"maxTokens":1000}}`,
		check: func(t *testing.T, v any) {
			p := v.(*CreateMessageRequestParams)
			if len(p.Messages) != 1 || len(p.Messages[0].Content) != 1 || p.ToolChoice.Mode != ToolChoiceAuto || p.MaxTokens != 1000 {
				t.Errorf("got %+v", p)
			}
		},
	},
	{
		name: "sampling result with tool uses", method: MethodSamplingCreateMessage, def: "CreateMessageResult",
		doc: `{"jsonrpc":"2.0","id":1,"result":{"role":"assistant","content":[{"type":"tool_use","id":"call_abc123","name":"get_weather","input":{"city":"Paris"}},
			{"type":"tool_use","id":"call_def456","name":"get_weather","input":{"city":"London"}}],"model":"claude-3-sonnet-20240307","stopReason":"toolUse"}}`,
		check: func(t *testing.T, v any) {
			r := v.(*CreateMessageResult)
			if len(r.Content) != 2 || r.StopReason != StopReasonToolUse {
				t.Fatalf("got %+v", r)
			}
			if u := r.Content[1].(*ToolUseContent); u.ID != "call_def456" || string(u.Input) != `{"city":"London"}` {
				t.Errorf("tool use %+v", u)
			}
		},
	},
	{
		name: "sampling follow-up with tool results", def: "CreateMessageRequestParams", msgDef: "CreateMessageRequest",
		doc: `{"jsonrpc":"2.0","id":2,"method":"sampling/createMessage","params":{"messages":[
			{"role":"user","content":{"type":"text","text":"What's the weather like in Paris and London?"}},
			{"role":"assistant","content":[{"type":"tool_use","id":"call_abc123","name":"get_weather","input":{"city":"Paris"}},{"type":"tool_use","id":"call_def456","name":"get_weather","input":{"city":"London"}}]},
			{"role":"user","content":[{"type":"tool_result","toolUseId":"call_abc123","content":[{"type":"text","text":"Weather in Paris: 18°C, partly cloudy"}]},
				{"type":"tool_result","toolUseId":"call_def456","content":[{"type":"text","text":"Weather in London: 15°C, rainy"}]}]}],
			"tools":[{"name":"get_weather","description":"Get current weather for a city","inputSchema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}],
			"maxTokens":1000}}`,
		check: func(t *testing.T, v any) {
			m := v.(*CreateMessageRequestParams).Messages[2]
			r, ok := m.Content[1].(*ToolResultContent)
			if !ok || r.ToolUseID != "call_def456" || r.Content[0].(*TextContent).Text != "Weather in London: 15°C, rainy" {
				t.Errorf("got %#v", m.Content[1])
			}
		},
	},
	{
		name: "task-augmented tools/call", def: "CallToolRequestParams", msgDef: "CallToolRequest",
		doc: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_weather","arguments":{"city":"New York"},"task":{"ttl":60000}}}`,
		check: func(t *testing.T, v any) {
			if p := v.(*CallToolRequestParams); p.Task == nil || *p.Task.TTL != 60000 {
				t.Errorf("got %+v", p)
			}
		},
	},
	{
		name: "create task result", method: MethodToolsCall, def: "CreateTaskResult", target: func() any { return new(CreateTaskResult) },
		doc: `{"jsonrpc":"2.0","id":1,"result":{"task":{"taskId":"786512e2-9e0d-44bd-8f29-789f320fe840","status":"working","statusMessage":"The operation is now in progress.",
			"createdAt":"2025-11-25T10:30:00Z","lastUpdatedAt":"2025-11-25T10:40:00Z","ttl":60000,"pollInterval":5000}}}`,
		check: func(t *testing.T, v any) {
			task := v.(*CreateTaskResult).Task
			created, err := task.Created()
			if task.Status != TaskStatusWorking || task.Status.IsTerminal() || err != nil || created.Minute() != 30 {
				t.Errorf("got %+v (%v)", task, err)
			}
		},
	},
	{
		name: "tasks/get result", method: MethodTasksGet, def: "GetTaskResult",
		doc: `{"jsonrpc":"2.0","id":3,"result":{"taskId":"786512e2-9e0d-44bd-8f29-789f320fe840","status":"working","statusMessage":"The operation is now in progress.",
			"createdAt":"2025-11-25T10:30:00Z","lastUpdatedAt":"2025-11-25T10:40:00Z","ttl":30000,"pollInterval":5000}}`,
		check: func(t *testing.T, v any) {
			if r := v.(*GetTaskResult); r.TaskID != "786512e2-9e0d-44bd-8f29-789f320fe840" || *r.TTL != 30000 || r.PollInterval != 5000 {
				t.Errorf("got %+v", r)
			}
		},
	},
	{
		name: "tasks/result result", method: MethodTasksResult, def: "CallToolResult", target: func() any { return new(CallToolResult) },
		doc: `{"jsonrpc":"2.0","id":4,"result":{"content":[{"type":"text","text":"Current weather in New York:\nTemperature: 72°F\nConditions: Partly cloudy"}],
			"isError":false,"_meta":{"io.modelcontextprotocol/related-task":{"taskId":"786512e2-9e0d-44bd-8f29-789f320fe840"}}}}`,
		check: func(t *testing.T, v any) {
			rt, ok := v.(*CallToolResult).Meta.RelatedTask()
			if !ok || rt.TaskID != "786512e2-9e0d-44bd-8f29-789f320fe840" {
				t.Errorf("related task %+v %v", rt, ok)
			}
		},
	},
	{
		name: "task status notification", def: "TaskStatusNotificationParams", msgDef: "TaskStatusNotification",
		doc: `{"jsonrpc":"2.0","method":"notifications/tasks/status","params":{"taskId":"786512e2-9e0d-44bd-8f29-789f320fe840","status":"completed",
			"createdAt":"2025-11-25T10:30:00Z","lastUpdatedAt":"2025-11-25T10:50:00Z","ttl":60000,"pollInterval":5000}}`,
		check: func(t *testing.T, v any) {
			if p := v.(*TaskStatusNotificationParams); !p.Status.IsTerminal() {
				t.Errorf("got %+v", p)
			}
		},
	},
	{
		name: "progress notification", def: "ProgressNotificationParams", msgDef: "ProgressNotification",
		doc: `{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"abc123","progress":50,"total":100,"message":"Reticulating splines..."}}`,
		check: func(t *testing.T, v any) {
			p := v.(*ProgressNotificationParams)
			if s, ok := p.ProgressToken.Str(); !ok || s != "abc123" || p.Total != 100 {
				t.Errorf("got %+v", p)
			}
		},
	},
	{
		name: "request with a progress token", def: "CallToolRequestParams", msgDef: "CallToolRequest",
		doc: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"slow","_meta":{"progressToken":17}}}`,
		check: func(t *testing.T, v any) {
			tok, ok := v.(*CallToolRequestParams).Meta.ProgressToken()
			if n, isInt := tok.Int64(); !ok || !isInt || n != 17 {
				t.Errorf("progress token %v %v", tok, ok)
			}
		},
	},
	{
		name: "prompts/get result", method: MethodPromptsGet, def: "GetPromptResult",
		doc: `{"jsonrpc":"2.0","id":2,"result":{"description":"Code review prompt","messages":[{"role":"user","content":{"type":"text",
			"text":"Please review this Python code:\ndef hello():\n    print('world')"}},
			{"role":"user","content":{"type":"resource","resource":{"uri":"resource://example","mimeType":"text/plain","text":"Resource content"}}}]}}`,
		check: func(t *testing.T, v any) {
			if m := v.(*GetPromptResult).Messages; len(m) != 2 || m[1].Content.ContentType() != ContentTypeResource {
				t.Errorf("got %+v", m)
			}
		},
	},
	{
		name: "resources/read result", method: MethodResourcesRead, def: "ReadResourceResult",
		doc: `{"jsonrpc":"2.0","id":2,"result":{"contents":[{"uri":"file:///project/src/main.rs","mimeType":"text/x-rust","text":"fn main() {}"},
			{"uri":"file:///example.png","mimeType":"image/png","blob":"iVBORw0KGgo="}]}}`,
		check: func(t *testing.T, v any) {
			c := v.(*ReadResourceResult).Contents
			if _, ok := c[0].(*TextResourceContents); !ok {
				t.Errorf("contents[0] %T", c[0])
			}
			if b, ok := c[1].(*BlobResourceContents); !ok || len(b.Blob) != 8 || b.ResourceURI() != "file:///example.png" {
				t.Errorf("contents[1] %#v", c[1])
			}
		},
	},
	{
		name: "completion request", def: "CompleteRequestParams", msgDef: "CompleteRequest",
		doc: `{"jsonrpc":"2.0","id":1,"method":"completion/complete","params":{"ref":{"type":"ref/prompt","name":"code_review"},
			"argument":{"name":"framework","value":"fla"},"context":{"arguments":{"language":"python"}}}}`,
		check: func(t *testing.T, v any) {
			p := v.(*CompleteRequestParams)
			if r, ok := p.Ref.(*PromptReference); !ok || r.Name != "code_review" || p.Context.Arguments["language"] != "python" {
				t.Errorf("got %+v", p)
			}
		},
	},
	{
		name: "logging message", def: "LoggingMessageNotificationParams", msgDef: "LoggingMessageNotification",
		doc: `{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"error","logger":"database","data":{"error":"Connection failed","details":{"host":"localhost","port":5432}}}}`,
		check: func(t *testing.T, v any) {
			p := v.(*LoggingMessageNotificationParams)
			if p.Level != LoggingLevelError || p.Data.(map[string]any)["error"] != "Connection failed" {
				t.Errorf("got %+v", p)
			}
		},
	},
	{
		name: "cancellation", def: "CancelledNotificationParams", msgDef: "CancelledNotification",
		doc: `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"123","reason":"User requested cancellation"}}`,
		check: func(t *testing.T, v any) {
			if p := v.(*CancelledNotificationParams); p.RequestID != jsonrpc.StringID("123") {
				t.Errorf("got %+v", p)
			}
		},
	},
}

func typeName(v any) string {
	if v == nil {
		return "nil"
	}
	return reflect.TypeOf(v).String()
}

func TestSpecExamples(t *testing.T) {
	for _, tc := range docCases {
		t.Run(tc.name, func(t *testing.T) {
			var target any
			if tc.target != nil {
				target = tc.target()
			}
			var raw jsontext.Value
			var envelope func(jsontext.Value) []byte
			if tc.target != nil && tc.method == "" {
				raw = jsontext.Value(tc.doc)
			} else {
				msg, err := jsonrpc.Decode([]byte(tc.doc))
				if err != nil {
					t.Fatalf("decoding the message: %v", err)
				}
				switch m := msg.(type) {
				case *jsonrpc.Request:
					info, ok := LookupMethod(m.Method)
					if !ok {
						t.Fatalf("unknown method %q", m.Method)
					}
					if target == nil {
						target = info.NewParams()
					}
					raw = m.Params
					envelope = func(p jsontext.Value) []byte {
						return jsonrpc.AppendRequest(nil, &jsonrpc.Request{ID: m.ID, Method: m.Method, Params: p})
					}
				case *jsonrpc.Response:
					info, ok := LookupMethod(tc.method)
					if !ok || m.Error != nil {
						t.Fatalf("method %q, error %v", tc.method, m.Error)
					}
					if target == nil {
						target = info.NewResult()
					}
					raw = m.Result
					envelope = func(r jsontext.Value) []byte {
						return jsonrpc.AppendResponse(nil, &jsonrpc.Response{ID: m.ID, Result: r})
					}
				}
			}
			if err := json.Unmarshal(raw, target); err != nil {
				t.Fatalf("unmarshal %s: %v", raw, err)
			}
			if tc.check != nil {
				tc.check(t, target)
			}
			out, err := json.Marshal(target, deterministic)
			if err != nil {
				t.Fatalf("marshal: %v", err)
			}
			sch, err := compileDef(tc.def)
			if err != nil {
				t.Fatal(err)
			}
			if err := validate(sch, out); err != nil {
				t.Errorf("%s does not validate as %s: %v", out, tc.def, err)
			}
			if envelope != nil {
				whole := envelope(out)
				msgDef := cmpOr(tc.msgDef, "JSONRPCResultResponse")
				sch, err := compileDef(msgDef)
				if err != nil {
					t.Fatal(err)
				}
				if err := validate(sch, whole); err != nil {
					t.Errorf("%s does not validate as %s: %v", whole, msgDef, err)
				}
			}
			// Decoding the re-encoded value gives the same encoding again.
			again := reflect.New(reflect.TypeOf(target).Elem()).Interface()
			if err := json.Unmarshal(out, again); err != nil {
				t.Fatalf("unmarshal %s: %v", out, err)
			}
			if out2, _ := json.Marshal(again, deterministic); string(out2) != string(out) {
				t.Errorf("not stable:\n%s\n%s", out, out2)
			}
		})
	}
}

// TestURLElicitationRequiredError decodes the error response of the
// elicitation section and builds the same error.
func TestURLElicitationRequiredError(t *testing.T) {
	doc := `{"jsonrpc":"2.0","id":2,"error":{"code":-32042,"message":"This request requires more information.","data":{"elicitations":[
		{"mode":"url","elicitationId":"550e8400-e29b-41d4-a716-446655440000",
		"url":"https://mcp.example.com/connect?elicitationId=550e8400-e29b-41d4-a716-446655440000",
		"message":"Authorization is required to access your Example Co files."}]}}}`
	msg, err := jsonrpc.Decode([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	e := msg.(*jsonrpc.Response).Error
	d, ok := URLElicitationRequired(e)
	if !ok || len(d.Elicitations) != 1 || d.Elicitations[0].Validate() != nil || d.Elicitations[0].ElicitationID != "550e8400-e29b-41d4-a716-446655440000" {
		t.Fatalf("got %+v, %v", d, ok)
	}
	// Build it anew: the mode is filled in.
	el := d.Elicitations[0]
	el.Mode = ""
	built := NewURLElicitationRequiredError("This request requires more information.", el)
	sch, err := compileDef("URLElicitationRequiredError")
	if err != nil {
		t.Fatal(err)
	}
	out := jsonrpc.AppendErrorResponse(nil, jsonrpc.Int64ID(2), built)
	if err := validate(sch, out); err != nil {
		t.Errorf("%s: %v", out, err)
	}
	if _, ok := URLElicitationRequired(&jsonrpc.Error{Code: jsonrpc.CodeInternalError}); ok {
		t.Error("URLElicitationRequired accepted another code")
	}
	if _, ok := URLElicitationRequired(&jsonrpc.Error{Code: CodeURLElicitationRequired, Data: jsontext.Value(`[]`)}); ok {
		t.Error("URLElicitationRequired accepted malformed data")
	}
	nf := NewResourceNotFoundError("file:///nonexistent.txt")
	if nf.Code != CodeResourceNotFound || string(nf.Data) != `{"uri":"file:///nonexistent.txt"}` {
		t.Errorf("resource not found error %+v", nf)
	}
}
