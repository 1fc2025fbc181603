package protocol

import (
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
)

// Realistic example values of the protocol types, shared by the schema
// test and the fuzz seeds. Many are modelled on the examples of the
// specification.

func ptrTo[T any](v T) *T { return &v }

// A 1x1 transparent PNG.
var pngPixel = []byte{
	0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
	0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00,
	0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
	0x42, 0x60, 0x82,
}

var (
	exAnnotations = &Annotations{
		Audience:     []Role{RoleUser, RoleAssistant},
		Priority:     ptrTo(0.8),
		LastModified: "2025-01-12T15:00:58Z",
	}
	exIcon = Icon{Src: "https://example.com/icon-48.png", MIMEType: "image/png", Sizes: []string{"48x48"}, Theme: IconThemeLight}
	exMeta = Meta{"com.example/trace-id": "4bf92f3577b34da6a3ce929d0e0e4736"}

	exTaskID = "786512e2-9e0d-44bd-8f29-789f320fe840"
	exTask   = Task{
		TaskID:        exTaskID,
		Status:        TaskStatusWorking,
		StatusMessage: "The operation is now in progress.",
		CreatedAt:     "2025-11-25T10:30:00Z",
		LastUpdatedAt: "2025-11-25T10:40:00Z",
		TTL:           ptrTo[int64](60000),
		PollInterval:  5000,
	}
	exTaskDone = Task{
		TaskID:        "0c9bd4d3-7d5e-4a36-9a3b-6cc14e0d2bb8",
		Status:        TaskStatusCompleted,
		CreatedAt:     "2025-11-25T09:15:00Z",
		LastUpdatedAt: "2025-11-25T10:40:00Z",
		TTL:           nil, // unlimited: sent as null
	}

	exTool = Tool{
		Name:        "get_weather",
		Title:       "Weather Information Provider",
		Description: "Get current weather information for a location",
		InputSchema: jsontext.Value(`{"type":"object","properties":{"location":{"type":"string","description":"City name or zip code"}},"required":["location"]}`),
		OutputSchema: jsontext.Value(`{"type":"object","properties":{"temperature":{"type":"number"},"conditions":{"type":"string"}},` +
			`"required":["temperature","conditions"]}`),
		Annotations: &ToolAnnotations{Title: "Weather", ReadOnlyHint: ptrTo(true), OpenWorldHint: ptrTo(true)},
		Execution:   &ToolExecution{TaskSupport: TaskSupportOptional},
		Icons:       []Icon{exIcon},
		Meta:        exMeta,
	}
	// A tool whose schema uses JSON Schema 2020-12 features that must pass
	// through verbatim.
	exTool2020 = Tool{
		Name:        "json_schema_2020_12_tool",
		Description: "Tool with JSON Schema 2020-12 features",
		InputSchema: jsontext.Value(`{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object",` +
			`"$defs":{"address":{"type":"object","properties":{"street":{"type":"string"},"city":{"type":"string"}}}},` +
			`"properties":{"name":{"type":"string"},"address":{"$ref":"#/$defs/address"}},"additionalProperties":false}`),
		Annotations: &ToolAnnotations{DestructiveHint: ptrTo(false), IdempotentHint: ptrTo(true)},
	}
	exToolNoParams = Tool{Name: "get_time", Description: "Returns the current time"}

	exText      = &TextContent{Text: "Current weather in New York:\nTemperature: 72°F\nConditions: Partly cloudy"}
	exTextFull  = &TextContent{Text: "Tool result with \"quotes\" and <html> & unicode ☀", Annotations: exAnnotations, Meta: exMeta}
	exImage     = &ImageContent{Data: pngPixel, MIMEType: "image/png", Annotations: &Annotations{Audience: []Role{RoleUser}}}
	exAudio     = &AudioContent{Data: []byte("RIFF\x24\x00\x00\x00WAVEfmt "), MIMEType: "audio/wav", Meta: exMeta}
	exLink      = &ResourceLink{URI: "file:///project/src/main.rs", Name: "main.rs", Title: "Main source file", Description: "Primary application entry point", MIMEType: "text/x-rust", Size: ptrTo[int64](1024), Annotations: exAnnotations, Icons: []Icon{exIcon}}
	exTextRes   = &TextResourceContents{URI: "file:///project/src/main.rs", MIMEType: "text/x-rust", Text: "fn main() {\n    println!(\"Hello world!\");\n}", Meta: exMeta}
	exBlobRes   = &BlobResourceContents{URI: "file:///project/assets/logo.png", MIMEType: "image/png", Blob: pngPixel}
	exEmbedded  = &EmbeddedResource{Resource: exTextRes, Annotations: &Annotations{Priority: ptrTo(0.5)}}
	exEmbedBlob = &EmbeddedResource{Resource: exBlobRes}
	exToolUse   = &ToolUseContent{ID: "call_abc123", Name: "get_weather", Input: jsontext.Value(`{"city":"Paris"}`)}
	exToolUse2  = &ToolUseContent{ID: "call_def456", Name: "get_time"} // no input: sent as {}
	exToolRes   = &ToolResultContent{ToolUseID: "call_abc123", Content: []Content{&TextContent{Text: "Weather in Paris: 18°C, partly cloudy"}},
		StructuredContent: jsontext.Value(`{"temperature":18,"conditions":"partly cloudy"}`)}
	exToolResErr = &ToolResultContent{ToolUseID: "call_def456", Content: []Content{&TextContent{Text: "clock unavailable"}}, IsError: true, Meta: exMeta}

	exContent         = []Content{exText, exTextFull, exImage, exAudio, exLink, exEmbedded, exEmbedBlob}
	exSamplingContent = []SamplingContent{exText, exImage, exAudio, exToolUse, exToolUse2, exToolRes, exToolResErr}

	exResource = Resource{URI: "file:///project/src/main.rs", Name: "main.rs", Title: "Rust Software Application Main File",
		Description: "Primary application entry point", MIMEType: "text/x-rust", Size: ptrTo[int64](0), Annotations: exAnnotations, Icons: []Icon{exIcon}, Meta: exMeta}
	exTemplate = ResourceTemplate{URITemplate: "file:///{path}", Name: "Project Files", Title: "📁 Project Files",
		Description: "Access files in the project directory", MIMEType: "application/octet-stream", Annotations: exAnnotations, Icons: []Icon{exIcon}}
	exPrompt = Prompt{Name: "code_review", Title: "Request Code Review", Description: "Asks the LLM to analyze code quality and suggest improvements",
		Arguments: []PromptArgument{{Name: "code", Title: "Code", Description: "The code to review", Required: true}, {Name: "style", Description: "Review style"}},
		Icons:     []Icon{exIcon}}

	exImplementation = Implementation{Name: "ExampleServer", Title: "Example Server Display Name", Version: "1.0.0",
		Description: "An example MCP server", WebsiteURL: "https://example.com", Icons: []Icon{exIcon}}

	exClientCaps = ClientCapabilities{
		Experimental: map[string]jsontext.Value{"com.example/feature": jsontext.Value(`{"level":2}`)},
		Roots:        &RootsCapability{ListChanged: true},
		Sampling:     &SamplingCapability{Context: &EmptyCapability{}, Tools: &EmptyCapability{}},
		Elicitation:  &ElicitationCapability{Form: &EmptyCapability{}, URL: &EmptyCapability{}},
		Tasks: &ClientTasksCapability{List: &EmptyCapability{}, Cancel: &EmptyCapability{}, Requests: &ClientTaskRequests{
			Sampling:    &ClientTaskSamplingRequests{CreateMessage: &EmptyCapability{}},
			Elicitation: &ClientTaskElicitationRequests{Create: &EmptyCapability{}},
		}},
	}
	exServerCaps = ServerCapabilities{
		Experimental: map[string]jsontext.Value{"com.example/feature": jsontext.Value(`{}`)},
		Logging:      &LoggingCapability{},
		Completions:  &CompletionsCapability{},
		Prompts:      &PromptsCapability{ListChanged: true},
		Resources:    &ResourcesCapability{Subscribe: true, ListChanged: true},
		Tools:        &ToolsCapability{ListChanged: true},
		Tasks: &ServerTasksCapability{List: &EmptyCapability{}, Cancel: &EmptyCapability{},
			Requests: &ServerTaskRequests{Tools: &ServerTaskToolRequests{Call: &EmptyCapability{}}}},
	}

	exStringField   = &StringSchema{Title: "Display Name", Description: "Description text", MinLength: ptrTo(3), MaxLength: ptrTo(50), Format: StringFormatEmail, Default: ptrTo("user@example.com")}
	exNumberField   = &NumberSchema{Type: "integer", Title: "Age", Description: "Your age", Minimum: ptrTo(18.0), Maximum: ptrTo(130.0), Default: ptrTo(30.0)}
	exNumberField2  = &NumberSchema{Description: "Score", Default: ptrTo(95.5)} // empty Type: sent as "number"
	exBooleanField  = &BooleanSchema{Title: "Subscribe", Description: "Receive the newsletter", Default: ptrTo(false)}
	exUntitledEnum  = &UntitledSingleSelectEnumSchema{Title: "Color Selection", Description: "Choose your favorite color", Enum: []string{"Red", "Green", "Blue"}, Default: "Red"}
	exTitledEnum    = &TitledSingleSelectEnumSchema{Title: "Color Selection", OneOf: []EnumOption{{Const: "#FF0000", Title: "Red"}, {Const: "#00FF00", Title: "Green"}, {Const: "#0000FF", Title: "Blue"}}, Default: "#FF0000"}
	exLegacyEnum    = &LegacyTitledEnumSchema{Description: "Select one option (legacy)", Enum: []string{"opt1", "opt2", "opt3"}, EnumNames: []string{"Option One", "Option Two", "Option Three"}, Default: "opt2"}
	exUntitledMulti = &UntitledMultiSelectEnumSchema{Title: "Color Selection", MinItems: ptrTo(1), MaxItems: ptrTo(2), Items: UntitledEnumItems{Enum: []string{"Red", "Green", "Blue"}}, Default: []string{"Red", "Green"}}
	exTitledMulti   = &TitledMultiSelectEnumSchema{Description: "Choose your favorite colors", MinItems: ptrTo(1), Items: TitledEnumItems{AnyOf: []EnumOption{{Const: "#FF0000", Title: "Red"}, {Const: "#00FF00", Title: "Green"}}}, Default: []string{"#FF0000"}}

	exPrimitiveSchemas = []PrimitiveSchema{exStringField, exNumberField, exNumberField2, exBooleanField, exUntitledEnum, exTitledEnum, exLegacyEnum, exUntitledMulti, exTitledMulti}

	exElicitForm = &ElicitRequestParams{
		Mode:    ElicitModeForm,
		Message: "Please provide your contact information",
		RequestedSchema: &ElicitSchema{
			Schema: "https://json-schema.org/draft/2020-12/schema",
			Properties: map[string]PrimitiveSchema{
				"name": &StringSchema{Description: "Your full name"}, "email": exStringField, "age": exNumberField,
				"color": exTitledEnum, "colors": exUntitledMulti, "legacy": exLegacyEnum, "newsletter": exBooleanField,
			},
			Required: []string{"name", "email"},
			Order:    []string{"name", "email", "age"},
		},
		Meta: Meta{MetaProgressToken: "elicit-1"},
	}
	// A form request without a mode, as 2025-06-18 servers send them.
	exElicitFormNoMode = &ElicitRequestParams{
		Message:         "Please provide your GitHub username",
		RequestedSchema: &ElicitSchema{Properties: map[string]PrimitiveSchema{"name": &StringSchema{}}, Required: []string{"name"}},
		Task:            &TaskMetadata{TTL: ptrTo[int64](30000)},
	}
	exElicitURL = &ElicitRequestParams{
		Mode:          ElicitModeURL,
		Message:       "Please provide your API key to continue.",
		URL:           "https://mcp.example.com/ui/set_api_key",
		ElicitationID: "550e8400-e29b-41d4-a716-446655440000",
	}

	exSamplingParams = &CreateMessageRequestParams{
		Messages: []SamplingMessage{
			{Role: RoleUser, Content: SamplingContents{&TextContent{Text: "What's the weather like in Paris and London?"}}},
			{Role: RoleAssistant, Content: SamplingContents{exToolUse, exToolUse2}},
			{Role: RoleUser, Content: SamplingContents{exToolRes, exToolResErr}, Meta: exMeta},
		},
		ModelPreferences: &ModelPreferences{Hints: []ModelHint{{Name: "claude-3-sonnet"}, {}}, IntelligencePriority: ptrTo(0.8), SpeedPriority: ptrTo(0.5), CostPriority: ptrTo(0.0)},
		SystemPrompt:     "You are a helpful assistant.",
		IncludeContext:   IncludeContextNone,
		Temperature:      ptrTo(0.7),
		MaxTokens:        1000,
		StopSequences:    []string{"\n\nHuman:"},
		Metadata:         jsontext.Value(`{"provider":{"top_k":5}}`),
		Tools:            []Tool{exTool, exToolNoParams},
		ToolChoice:       &ToolChoice{Mode: ToolChoiceAuto},
		Task:             &TaskMetadata{},
		Meta:             Meta{MetaProgressToken: 7},
	}
	exSamplingResult = &CreateMessageResult{
		Role: RoleAssistant, Content: SamplingContents{exToolUse, exToolUse2}, Model: "claude-3-sonnet-20240307", StopReason: StopReasonToolUse,
	}
	exSamplingResultText = &CreateMessageResult{
		Role: RoleAssistant, Content: SamplingContents{&TextContent{Text: "The capital of France is Paris."}}, Model: "claude-3-sonnet-20240307",
		StopReason: StopReasonEndTurn, Meta: exMeta,
	}

	exCallResult = &CallToolResult{
		Content:           exContent,
		StructuredContent: jsontext.Value(`{"temperature":22.5,"conditions":"Partly cloudy","humidity":65}`),
		Meta:              Meta{MetaRelatedTask: RelatedTaskMetadata{TaskID: exTaskID}},
	}
	exCallResultError = &CallToolResult{Content: []Content{&TextContent{Text: "Invalid departure date: must be in the future."}}, IsError: true}
	exCallResultEmpty = &CallToolResult{} // content nil: sent as []

	exURLElicitationData = &URLElicitationRequiredErrorData{Elicitations: []ElicitRequestParams{{
		Mode:          ElicitModeURL,
		ElicitationID: "550e8400-e29b-41d4-a716-446655440000",
		URL:           "https://mcp.example.com/connect?elicitationId=550e8400-e29b-41d4-a716-446655440000",
		Message:       "Authorization is required to access your Example Co files.",
	}}}
)

// An example message: params (or a result) with the method it belongs to.
type example struct {
	method string
	v      any
}

// Requests a client sends, one or more per method.
var exClientRequests = []example{
	{MethodInitialize, &InitializeRequestParams{ProtocolVersion: LatestVersion, Capabilities: exClientCaps,
		ClientInfo: Implementation{Name: "ExampleClient", Title: "Example Client Display Name", Version: "1.0.0"}}},
	{MethodInitialize, &InitializeRequestParams{ProtocolVersion: Version20250618, Capabilities: ClientCapabilities{Elicitation: &ElicitationCapability{}},
		ClientInfo: Implementation{Name: "old-client", Version: "0.1"}, Meta: exMeta}},
	{MethodPing, &RequestParams{}},
	{MethodToolsList, &PaginatedRequestParams{Cursor: "optional-cursor-value"}},
	{MethodToolsCall, &CallToolRequestParams{Name: "get_weather", Arguments: jsontext.Value(`{"location":"New York"}`), Meta: Meta{MetaProgressToken: "abc123"}}},
	{MethodToolsCall, &CallToolRequestParams{Name: "count_slowly", Task: &TaskMetadata{TTL: ptrTo[int64](60000)}}},
	{MethodResourcesList, &PaginatedRequestParams{}},
	{MethodResourcesTemplatesList, &PaginatedRequestParams{Meta: exMeta}},
	{MethodResourcesRead, &ReadResourceRequestParams{URI: "file:///project/src/main.rs"}},
	{MethodResourcesSubscribe, &SubscribeRequestParams{URI: "file:///project/src/main.rs"}},
	{MethodResourcesUnsubscribe, &UnsubscribeRequestParams{URI: "file:///project/src/main.rs", Meta: exMeta}},
	{MethodPromptsList, &PaginatedRequestParams{Cursor: "page-2"}},
	{MethodPromptsGet, &GetPromptRequestParams{Name: "code_review", Arguments: map[string]string{"code": "def hello():\n    print('world')", "style": "strict"}}},
	{MethodCompletionComplete, &CompleteRequestParams{Ref: &PromptReference{Name: "code_review", Title: "Request Code Review"},
		Argument: CompleteArgument{Name: "language", Value: "py"}, Context: &CompleteContext{Arguments: map[string]string{"framework": "flask"}}}},
	{MethodCompletionComplete, &CompleteRequestParams{Ref: &ResourceTemplateReference{URI: "file:///{path}"}, Argument: CompleteArgument{Name: "path", Value: ""}}},
	{MethodLoggingSetLevel, &SetLevelRequestParams{Level: LoggingLevelInfo}},
	{MethodTasksGet, &GetTaskRequestParams{TaskID: exTaskID}},
	{MethodTasksResult, &GetTaskPayloadRequestParams{TaskID: exTaskID}},
	{MethodTasksCancel, &CancelTaskRequestParams{TaskID: exTaskID, Meta: exMeta}},
	{MethodTasksList, &PaginatedRequestParams{}},
}

// Requests a server sends.
var exServerRequests = []example{
	{MethodPing, &RequestParams{Meta: exMeta}},
	{MethodTasksGet, &GetTaskRequestParams{TaskID: exTaskID}},
	{MethodTasksResult, &GetTaskPayloadRequestParams{TaskID: exTaskID}},
	{MethodTasksCancel, &CancelTaskRequestParams{TaskID: exTaskID}},
	{MethodTasksList, &PaginatedRequestParams{Cursor: "c"}},
	{MethodSamplingCreateMessage, exSamplingParams},
	{MethodSamplingCreateMessage, &CreateMessageRequestParams{Messages: []SamplingMessage{{Role: RoleUser, Content: SamplingContents{exImage}}}, MaxTokens: 100}},
	{MethodRootsList, &ListRootsRequestParams{}},
	{MethodElicitationCreate, exElicitForm},
	{MethodElicitationCreate, exElicitFormNoMode},
	{MethodElicitationCreate, exElicitURL},
}

// Notifications a client sends.
var exClientNotifications = []example{
	{NotificationInitialized, &NotificationParams{}},
	{NotificationCancelled, &CancelledNotificationParams{RequestID: jsonrpc.StringID("123"), Reason: "User requested cancellation"}},
	{NotificationProgress, &ProgressNotificationParams{ProgressToken: jsonrpc.Int64ID(42), Progress: 0.5}},
	{NotificationTasksStatus, &TaskStatusNotificationParams{Task: exTaskDone}},
	{NotificationRootsListChanged, &NotificationParams{Meta: exMeta}},
}

// Notifications a server sends.
var exServerNotifications = []example{
	{NotificationCancelled, &CancelledNotificationParams{RequestID: jsonrpc.Int64ID(7)}},
	{NotificationProgress, &ProgressNotificationParams{ProgressToken: jsonrpc.StringID("abc123"), Progress: 50, Total: 100, Message: "Reticulating splines...",
		Meta: Meta{MetaRelatedTask: map[string]any{"taskId": exTaskID}}}},
	{NotificationResourcesListChanged, &NotificationParams{}},
	{NotificationResourcesUpdated, &ResourceUpdatedNotificationParams{URI: "file:///project/src/main.rs"}},
	{NotificationPromptsListChanged, &NotificationParams{}},
	{NotificationToolsListChanged, &NotificationParams{}},
	{NotificationTasksStatus, &TaskStatusNotificationParams{Task: exTask, Meta: exMeta}},
	{NotificationMessage, &LoggingMessageNotificationParams{Level: LoggingLevelError, Logger: "database",
		Data: map[string]any{"error": "Connection failed", "details": map[string]any{"host": "localhost", "port": 5432}}}},
	{NotificationMessage, &LoggingMessageNotificationParams{Level: LoggingLevelDebug, Data: "plain text"}},
	{NotificationElicitationComplete, &ElicitationCompleteNotificationParams{ElicitationID: "550e8400-e29b-41d4-a716-446655440000"}},
}

// Results a server sends, with the method of the request they answer ("" for
// results that do not follow from the method alone).
var exServerResults = []example{
	{MethodPing, &EmptyResult{}},
	{MethodLoggingSetLevel, &EmptyResult{Meta: exMeta}},
	{MethodInitialize, &InitializeResult{ProtocolVersion: LatestVersion, Capabilities: exServerCaps, ServerInfo: exImplementation,
		Instructions: "Optional instructions for the client"}},
	{MethodInitialize, &InitializeResult{ProtocolVersion: Version20241105, ServerInfo: Implementation{Name: "s", Version: "1"}}},
	{MethodResourcesList, &ListResourcesResult{Resources: []Resource{exResource, {URI: "https://example.com/a", Name: "a"}}, NextCursor: "next-page-cursor"}},
	{MethodResourcesList, &ListResourcesResult{}},
	{MethodResourcesTemplatesList, &ListResourceTemplatesResult{ResourceTemplates: []ResourceTemplate{exTemplate}}},
	{MethodResourcesRead, &ReadResourceResult{Contents: []ResourceContents{exTextRes, exBlobRes}}},
	{MethodPromptsList, &ListPromptsResult{Prompts: []Prompt{exPrompt}, NextCursor: "n"}},
	{MethodPromptsGet, &GetPromptResult{Description: "Code review prompt", Messages: []PromptMessage{
		{Role: RoleUser, Content: &TextContent{Text: "Please review this Python code:\ndef hello():\n    print('world')"}},
		{Role: RoleAssistant, Content: exImage},
		{Role: RoleUser, Content: exEmbedded},
		{Role: RoleUser, Content: exLink},
		{Role: RoleUser, Content: exAudio},
	}}},
	{MethodToolsList, &ListToolsResult{Tools: []Tool{exTool, exTool2020, exToolNoParams}, NextCursor: "next-page-cursor"}},
	{MethodToolsCall, exCallResult},
	{MethodToolsCall, exCallResultError},
	{MethodToolsCall, exCallResultEmpty},
	{MethodTasksGet, &GetTaskResult{Task: exTask}},
	{MethodTasksResult, &GetTaskPayloadResult{Meta: Meta{MetaRelatedTask: map[string]any{"taskId": exTaskID}},
		Fields: jsontext.Value(`{"content":[{"type":"text","text":"Current weather in New York: 72°F"}],"isError":false}`)}},
	{MethodTasksCancel, &CancelTaskResult{Task: Task{TaskID: exTaskID, Status: TaskStatusCancelled, StatusMessage: "The task was cancelled by request.",
		CreatedAt: "2025-11-25T10:30:00Z", LastUpdatedAt: "2025-11-25T10:40:00Z", TTL: ptrTo[int64](30000), PollInterval: 5000}}},
	{MethodTasksList, &ListTasksResult{Tasks: []Task{exTask, exTaskDone}, NextCursor: "next-page-cursor"}},
	{MethodCompletionComplete, &CompleteResult{Completion: Completion{Values: []string{"python", "pytorch", "pyside"}, Total: 10, HasMore: true}}},
	{MethodCompletionComplete, &CompleteResult{}},
	{"", &CreateTaskResult{Task: exTask, Meta: Meta{MetaModelImmediateResponse: "The weather report is being prepared."}}},
	{"", &Result{Meta: exMeta, Fields: jsontext.Value(`{"custom":true}`)}},
}

// Results a client sends.
var exClientResults = []example{
	{MethodPing, &EmptyResult{}},
	{MethodTasksGet, &GetTaskResult{Task: exTaskDone, Meta: exMeta}},
	{MethodTasksResult, &GetTaskPayloadResult{Fields: jsontext.Value(`{"role":"assistant","content":{"type":"text","text":"Hi"},"model":"m"}`)}},
	{MethodTasksCancel, &CancelTaskResult{Task: exTask}},
	{MethodTasksList, &ListTasksResult{Tasks: []Task{}}},
	{MethodSamplingCreateMessage, exSamplingResult},
	{MethodSamplingCreateMessage, exSamplingResultText},
	{MethodRootsList, &ListRootsResult{Roots: []Root{{URI: "file:///home/user/projects/myproject", Name: "My Project", Meta: exMeta}, {URI: "file:///tmp"}}}},
	{MethodElicitationCreate, &ElicitResult{Action: ElicitActionAccept, Content: map[string]any{"name": "Monalisa Octocat", "email": "octocat@github.com", "age": 30,
		"subscribe": true, "colors": []string{"Red", "Blue"}}}},
	{MethodElicitationCreate, &ElicitResult{Action: ElicitActionDecline}},
	{MethodElicitationCreate, &ElicitResult{Action: ElicitActionCancel, Meta: exMeta}},
	{"", &CreateTaskResult{Task: exTask}},
	{"", &Result{}},
}
