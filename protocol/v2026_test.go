package protocol

import (
	"encoding/base64"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
)

// The 2026-07-28 schema test: every definition of the 2026-07-28 schema
// that is new, or that differs from its 2025-11-25 namesake (descriptions
// aside), has a Go type, and examples of that type validate against the
// 2026-07-28 definition and survive a round trip. Definitions whose Go
// type and examples are those of the 2025-11-25 test (schemaCases) are
// checked against the new schema with those examples; the others are in
// v2026Cases.

const schema2026Path = "testdata/2026-07-28/schema.json"

var modernMetaEx = Meta{
	MetaProtocolVersion:    Version20260728,
	MetaClientCapabilities: map[string]any{"elicitation": map[string]any{}, "extensions": map[string]any{ExtensionTasks: map[string]any{}}},
	MetaClientInfo:         map[string]any{"name": "example-client", "version": "1.0.0"},
	MetaLogLevel:           "info",
	MetaTraceparent:        "00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01",
}

var resultMetaEx = Meta{MetaServerInfo: map[string]any{"name": "example-server", "version": "1.0.0"}}

var (
	ttl60s   = ptrTo[int64](60000)
	ttlZero  = ptrTo[int64](0)
	exElicit = &ElicitRequestParams{Mode: ElicitModeForm, Message: "Your name?", RequestedSchema: &ElicitSchema{
		Properties: map[string]PrimitiveSchema{"name": &StringSchema{}}, Required: []string{"name"}}}
	exElicitURL2026 = &ElicitRequestParams{Mode: ElicitModeURL, Message: "Sign in", URL: "https://example.com/login"}
	exSampling2026  = &CreateMessageRequestParams{MaxTokens: 100, Messages: []SamplingMessage{{Role: RoleUser, Content: SamplingContents{&TextContent{Text: "Capital of France?"}}}}}
	exInputRequests = InputRequests{
		"name":    mustInput(MethodElicitationCreate, exElicit),
		"capital": mustInput(MethodSamplingCreateMessage, exSampling2026),
		"roots":   mustInput(MethodRootsList, &ListRootsRequestParams{}),
	}
	exInputResponses = InputResponses{
		"name":    jsontext.Value(`{"action":"accept","content":{"name":"octocat"}}`),
		"capital": jsontext.Value(`{"content":{"text":"Paris","type":"text"},"model":"m","role":"assistant"}`),
		"roots":   jsontext.Value(`{"roots":[{"uri":"file:///tmp"}]}`),
	}
	exInputRequired = &InputRequiredResult{ResultType: ResultTypeInputRequired, InputRequests: exInputRequests, RequestState: "opaque", Meta: resultMetaEx}
	exDiscover      = &DiscoverResult{ResultType: ResultTypeComplete, SupportedVersions: []string{Version20260728, Version20251125},
		Capabilities: ServerCapabilities{Tools: &ToolsCapability{ListChanged: true}, Extensions: map[string]jsontext.Value{ExtensionTasks: jsontext.Value(`{}`)}},
		Instructions: "Use the tools.", TTLMs: 60000, CacheScope: CacheScopePrivate, Meta: resultMetaEx}
	exFilter     = SubscriptionFilter{ToolsListChanged: true, ResourceSubscriptions: []string{"file:///project/config.json"}}
	exTaskState  = &TaskState{ResultType: ResultTypeTask, TaskID: exTaskID, Status: TaskStatusWorking, CreatedAt: "2025-11-25T10:30:00Z", LastUpdatedAt: "2025-11-25T10:30:00Z", TTLMs: ttl60s, PollIntervalMs: 500}
	exTaskStateD = &TaskState{ResultType: ResultTypeComplete, TaskID: exTaskID, Status: TaskStatusCompleted, CreatedAt: "2025-11-25T10:30:00Z", LastUpdatedAt: "2025-11-25T10:40:00Z",
		Result: jsontext.Value(`{"content":[{"text":"done","type":"text"}],"resultType":"complete"}`)}
	subID = jsonrpc.Int64ID(7)
)

func mustInput(method string, params any) InputRequest {
	r, err := NewInputRequest(method, params)
	if err != nil {
		panic(err)
	}
	return r
}

func rpcResult26(id int64, v any) *jsonrpc.Response {
	b, err := json.Marshal(v, deterministic)
	if err != nil {
		panic(err)
	}
	return &jsonrpc.Response{ID: jsonrpc.Int64ID(id), Result: b}
}

func rpcErr(e *jsonrpc.Error) *jsonrpc.Response {
	return &jsonrpc.Response{ID: jsonrpc.Int64ID(9), Error: e}
}

func rpcReq(method string, params any) *jsonrpc.Request {
	b, err := json.Marshal(params, deterministic)
	if err != nil {
		panic(err)
	}
	return &jsonrpc.Request{ID: jsonrpc.Int64ID(1), Method: method, Params: b}
}

func rpcNote(method string, params any) *jsonrpc.Request {
	r := rpcReq(method, params)
	r.ID = jsonrpc.ID{}
	return r
}

// Examples of 2026-07-28 messages.
var (
	ex26CallParams   = &CallToolRequestParams{Name: "get_weather", Arguments: jsontext.Value(`{"location":"New York"}`), Meta: modernMetaEx}
	ex26CallRetry    = &CallToolRequestParams{Name: "get_weather", Arguments: jsontext.Value(`{}`), InputResponses: exInputResponses, RequestState: "opaque", Meta: modernMetaEx}
	ex26ReadParams   = &ReadResourceRequestParams{URI: "file:///a.txt", Meta: modernMetaEx}
	ex26ReadRetry    = &ReadResourceRequestParams{URI: "file:///a.txt", InputResponses: exInputResponses, Meta: modernMetaEx}
	ex26PromptParams = &GetPromptRequestParams{Name: "code_review", Arguments: map[string]string{"code": "x"}, RequestState: "s", Meta: modernMetaEx}
	ex26List         = &PaginatedRequestParams{Cursor: "c", Meta: modernMetaEx}
	ex26Complete     = &CompleteRequestParams{Ref: &PromptReference{Name: "p"}, Argument: CompleteArgument{Name: "a", Value: "b"}, Meta: modernMetaEx}
	ex26Listen       = &SubscriptionsListenRequestParams{Notifications: exFilter, Meta: modernMetaEx}
	ex26CallResult   = &CallToolResult{Content: []Content{&TextContent{Text: "ok"}}, StructuredContent: jsontext.Value(`[1,2]`), ResultType: ResultTypeComplete, Meta: resultMetaEx}
	ex26ListTools    = &ListToolsResult{Tools: []Tool{exTool}, ResultType: ResultTypeComplete, TTLMs: ttl60s, CacheScope: CacheScopePublic, Meta: resultMetaEx}
	ex26ListPrompts  = &ListPromptsResult{Prompts: []Prompt{exPrompt}, NextCursor: "n", ResultType: ResultTypeComplete, TTLMs: ttlZero, CacheScope: CacheScopePrivate}
	ex26ListRes      = &ListResourcesResult{Resources: []Resource{exResource}, ResultType: ResultTypeComplete, TTLMs: ttl60s, CacheScope: CacheScopePrivate}
	ex26ListTmpl     = &ListResourceTemplatesResult{ResourceTemplates: []ResourceTemplate{exTemplate}, ResultType: ResultTypeComplete, TTLMs: ttl60s, CacheScope: CacheScopePublic}
	ex26Read         = &ReadResourceResult{Contents: []ResourceContents{exTextRes}, ResultType: ResultTypeComplete, TTLMs: ttlZero, CacheScope: CacheScopePrivate, Meta: resultMetaEx}
	ex26Prompt       = &GetPromptResult{Messages: []PromptMessage{{Role: RoleUser, Content: exText}}, ResultType: ResultTypeComplete}
	ex26CompleteRes  = &CompleteResult{Completion: Completion{Values: []string{"a"}}, ResultType: ResultTypeComplete}
	ex26Empty        = &EmptyResult{ResultType: ResultTypeComplete, Meta: resultMetaEx}
	ex26Paginated    = &PaginatedResult{NextCursor: "n", ResultType: ResultTypeComplete}
	ex26Ack          = &SubscriptionsAcknowledgedNotificationParams{Notifications: exFilter, Meta: Meta{MetaSubscriptionID: 7.0}}
	ex26ListenResult = &SubscriptionsListenResult{ResultType: ResultTypeComplete, Meta: Meta{MetaSubscriptionID: 7.0}}
	ex26Log          = &LoggingMessageNotificationParams{Level: LoggingLevelInfo, Data: "hello", Meta: Meta{MetaSubscriptionID: "s"}}
	ex26Progress     = &ProgressNotificationParams{ProgressToken: jsonrpc.StringID("t"), Progress: 1, Total: 2}
	ex26Updated      = &ResourceUpdatedNotificationParams{URI: "file:///a.txt", Meta: Meta{MetaSubscriptionID: 7.0}}
	ex26Cancelled    = &CancelledNotificationParams{RequestID: jsonrpc.Int64ID(3), Reason: "user"}
	ex26Note         = &NotificationParams{Meta: Meta{MetaSubscriptionID: 7.0}}
	ex26Discover     = &RequestParams{Meta: modernMetaEx}
	ex26ClientCaps   = &ClientCapabilities{Roots: &RootsCapability{}, Sampling: &SamplingCapability{Tools: &EmptyCapability{}},
		Elicitation: &ElicitationCapability{Form: &EmptyCapability{}, URL: &EmptyCapability{}},
		Extensions:  map[string]jsontext.Value{ExtensionTasks: jsontext.Value(`{}`), "io.modelcontextprotocol/ui": jsontext.Value(`{"mimeTypes":["text/html;profile=mcp-app"]}`)}}
	ex26ServerCaps = &ServerCapabilities{Logging: &LoggingCapability{}, Completions: &CompletionsCapability{}, Prompts: &PromptsCapability{ListChanged: true},
		Resources: &ResourcesCapability{Subscribe: true, ListChanged: true}, Tools: &ToolsCapability{ListChanged: true},
		Extensions: map[string]jsontext.Value{ExtensionTasks: jsontext.Value(`{}`)}}
	ex26Tool          = &Tool{Name: "sql", InputSchema: jsontext.Value(`{"properties":{"region":{"type":"string","x-mcp-header":"Region"}},"type":"object"}`), OutputSchema: jsontext.Value(`{"type":"array"}`)}
	ex26ToolResult    = &ToolResultContent{ToolUseID: "u", Content: []Content{exText}, StructuredContent: jsontext.Value(`"any JSON value"`)}
	ex26ElicitResult  = &ElicitResult{Action: ElicitActionAccept, Content: map[string]any{"name": "octocat", "n": 3.0, "ok": true, "tags": []any{"a"}}}
	ex26SamplingRes   = &CreateMessageResult{Role: RoleAssistant, Content: SamplingContents{&TextContent{Text: "Paris"}}, Model: "m"}
	ex26RootsResult   = &ListRootsResult{Roots: []Root{{URI: "file:///tmp", Name: "tmp"}}}
	ex26RequestMeta   = &RequestMeta{ProtocolVersion: Version20260728, ClientCapabilities: &ClientCapabilities{}, ClientInfo: &Implementation{Name: "c", Version: "1"}, LogLevel: LoggingLevelDebug, ProgressToken: ptrTo(jsonrpc.StringID("p"))}
	ex26ResultMeta    = &ResultMeta{ServerInfo: &Implementation{Name: "s", Version: "1"}}
	ex26NoteMeta      = &NotificationMeta{SubscriptionID: &subID}
	ex26UpdateTask    = &UpdateTaskRequestParams{TaskID: exTaskID, InputResponses: exInputResponses}
	ex26InputResponse = &InputResponseRequestParams{InputResponses: exInputResponses, RequestState: "opaque", Meta: modernMetaEx}
)

// v2026Cases maps the definitions whose 2025-11-25 examples do not fit the
// 2026-07-28 schema (or that are new) to Go types and examples.
var v2026Cases = map[string]defCase{
	// Base types and results.
	"ResultType":                          {typ: typeOf[ResultType](), examples: vals(ptrTo(ResultTypeComplete), ptrTo(ResultTypeInputRequired), ptrTo(ResultTypeTask))},
	"CacheableResult":                     {typ: typeOf[CacheableResult](), examples: vals(&CacheableResult{ResultType: ResultTypeComplete, TTLMs: 0, CacheScope: CacheScopePublic}, &CacheableResult{ResultType: ResultTypeComplete, TTLMs: 1000, CacheScope: CacheScopePrivate, Meta: resultMetaEx})},
	"Result":                              {typ: typeOf[Result](), examples: vals(&Result{Fields: jsontext.Value(`{"resultType":"complete"}`)}, &Result{Meta: resultMetaEx, Fields: jsontext.Value(`{"resultType":"complete","x":1}`)})},
	"EmptyResult":                         {typ: typeOf[EmptyResult](), examples: vals(ex26Empty, &EmptyResult{ResultType: ResultTypeComplete})},
	"PaginatedResult":                     {typ: typeOf[PaginatedResult](), examples: vals(ex26Paginated, &PaginatedResult{ResultType: ResultTypeComplete})},
	"RequestParams":                       {typ: typeOf[RequestParams](), examples: vals(ex26Discover)},
	"NotificationParams":                  {typ: typeOf[NotificationParams](), examples: vals(ex26Note, &NotificationParams{})},
	"PaginatedRequestParams":              {typ: typeOf[PaginatedRequestParams](), examples: vals(ex26List, &PaginatedRequestParams{Meta: modernMetaEx})},
	"MetaObject":                          {typ: typeOf[Meta](), examples: vals(&exMeta, &modernMetaEx)},
	"RequestMetaObject":                   {typ: typeOf[RequestMeta](), examples: vals(ex26RequestMeta, &RequestMeta{ProtocolVersion: Version20260728, ClientCapabilities: &ClientCapabilities{}})},
	"ResultMetaObject":                    {typ: typeOf[ResultMeta](), examples: vals(ex26ResultMeta, &ResultMeta{})},
	"NotificationMetaObject":              {typ: typeOf[NotificationMeta](), examples: vals(ex26NoteMeta, &NotificationMeta{})},
	"SubscriptionsListenResultMetaObject": {typ: typeOf[Meta](), examples: vals(&Meta{MetaSubscriptionID: 7.0}, &Meta{MetaSubscriptionID: "sub", MetaServerInfo: map[string]any{"name": "s", "version": "1"}})},
	"JSONValue":                           {typ: typeOf[jsontext.Value](), examples: vals(ptrTo(jsontext.Value(`{"a":[1,"b",true]}`)), ptrTo(jsontext.Value(`"s"`)), ptrTo(jsontext.Value(`[]`)))},
	"JSONObject":                          {typ: typeOf[map[string]any](), examples: vals(&map[string]any{"a": 1.0}, &map[string]any{})},
	"JSONArray":                           {typ: typeOf[[]any](), examples: vals(&[]any{1.0, "a", map[string]any{}}, &[]any{})},
	"Implementation":                      {typ: typeOf[Implementation](), examples: vals(&Implementation{Name: "n", Title: "T", Version: "1", WebsiteURL: "https://example.com", Icons: []Icon{exIcon}}, &Implementation{Name: "minimal", Version: "0"})},

	// Capabilities.
	"ClientCapabilities": {typ: typeOf[ClientCapabilities](), examples: vals(ex26ClientCaps, &ClientCapabilities{})},
	"ServerCapabilities": {typ: typeOf[ServerCapabilities](), examples: vals(ex26ServerCaps, &ServerCapabilities{})},

	// Errors.
	"UnsupportedProtocolVersionError": {typ: typeOf[jsonrpc.Response](), env: rpc, examples: vals(rpcErr(NewUnsupportedProtocolVersionError("1900-01-01", []string{Version20260728, Version20251125})))},
	"MissingRequiredClientCapabilityError": {typ: typeOf[jsonrpc.Response](), env: rpc, examples: vals(
		rpcErr(NewMissingRequiredClientCapabilityError("", ClientCapabilities{Sampling: &SamplingCapability{}})),
		rpcErr(NewMissingRequiredClientCapabilityError("needs tasks", ClientCapabilities{Extensions: map[string]jsontext.Value{ExtensionTasks: jsontext.Value(`{}`)}})))},
	"HeaderMismatchError": {typ: typeOf[jsonrpc.Response](), env: rpc, examples: vals(rpcErr(NewHeaderMismatchError("Mcp-Name header value %q does not match body value %q", "foo", "bar")))},
	"ParseError":          {typ: typeOf[jsonrpc.Error](), env: rpc, examples: vals(&jsonrpc.Error{Code: jsonrpc.CodeParseError, Message: "Parse error"})},
	"InvalidRequestError": {typ: typeOf[jsonrpc.Error](), env: rpc, examples: vals(&jsonrpc.Error{Code: jsonrpc.CodeInvalidRequest, Message: "Invalid request"})},
	"MethodNotFoundError": {typ: typeOf[jsonrpc.Error](), env: rpc, examples: vals(jsonrpc.ErrMethodNotFound("ping"))},
	"InvalidParamsError":  {typ: typeOf[jsonrpc.Error](), env: rpc, examples: vals(&jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: "resource not found", Data: jsontext.Value(`{"uri":"file:///x"}`)})},
	"InternalError":       {typ: typeOf[jsonrpc.Error](), env: rpc, examples: vals(jsonrpc.ErrInternal("boom"))},

	// Discovery.
	"DiscoverRequest":        {typ: typeOf[RequestParams](), env: request, method: MethodServerDiscover, examples: vals(ex26Discover)},
	"DiscoverResult":         {typ: typeOf[DiscoverResult](), examples: vals(exDiscover, &DiscoverResult{ResultType: ResultTypeComplete, SupportedVersions: []string{Version20260728}, CacheScope: CacheScopePublic})},
	"DiscoverResultResponse": {typ: typeOf[jsonrpc.Response](), env: rpc, examples: vals(rpcResult26(1, exDiscover))},

	// Multi round-trip requests.
	"InputRequest":               {typ: typeOf[InputRequest](), examples: vals(ptrTo(exInputRequests["name"]), ptrTo(exInputRequests["capital"]), ptrTo(exInputRequests["roots"]), ptrTo(mustInput(MethodElicitationCreate, exElicitURL2026)))},
	"InputRequests":              {typ: typeOf[InputRequests](), examples: vals(&exInputRequests, &InputRequests{})},
	"InputResponse":              {typ: typeOf[jsontext.Value](), examples: vals(ptrTo(exInputResponses["name"]), ptrTo(exInputResponses["capital"]), ptrTo(exInputResponses["roots"]))},
	"InputResponses":             {typ: typeOf[InputResponses](), examples: vals(&exInputResponses, &InputResponses{})},
	"InputRequiredResult":        {typ: typeOf[InputRequiredResult](), examples: vals(exInputRequired, &InputRequiredResult{ResultType: ResultTypeInputRequired, RequestState: "s"})},
	"InputResponseRequestParams": {typ: typeOf[InputResponseRequestParams](), examples: vals(ex26InputResponse, &InputResponseRequestParams{Meta: modernMetaEx})},
	"ElicitRequest":              {typ: typeOf[InputRequest](), examples: vals(ptrTo(exInputRequests["name"]), ptrTo(mustInput(MethodElicitationCreate, exElicitURL2026)))},
	"CreateMessageRequest":       {typ: typeOf[InputRequest](), examples: vals(ptrTo(exInputRequests["capital"]))},
	"ListRootsRequest":           {typ: typeOf[InputRequest](), examples: vals(ptrTo(exInputRequests["roots"]), &InputRequest{Method: MethodRootsList})},
	"ElicitRequestParams":        {typ: typeOf[ElicitRequestParams](), examples: vals(exElicit, exElicitURL2026, exElicitFormNoMode)},
	"ElicitRequestFormParams":    {typ: typeOf[ElicitRequestParams](), examples: vals(exElicit, exElicitFormNoMode)},
	"ElicitRequestURLParams":     {typ: typeOf[ElicitRequestParams](), examples: vals(exElicitURL2026)},
	"ElicitResult":               {typ: typeOf[ElicitResult](), examples: vals(ex26ElicitResult, &ElicitResult{Action: ElicitActionDecline})},
	"CreateMessageRequestParams": {typ: typeOf[CreateMessageRequestParams](), examples: vals(exSampling2026)},
	"CreateMessageResult":        {typ: typeOf[CreateMessageResult](), examples: vals(ex26SamplingRes)},
	"ListRootsResult":            {typ: typeOf[ListRootsResult](), examples: vals(ex26RootsResult, &ListRootsResult{})},

	// Requests of the revision (params carry the required _meta).
	"CallToolRequestParams":        {typ: typeOf[CallToolRequestParams](), examples: vals(ex26CallParams, ex26CallRetry)},
	"ReadResourceRequestParams":    {typ: typeOf[ReadResourceRequestParams](), examples: vals(ex26ReadParams, ex26ReadRetry)},
	"ResourceRequestParams":        {typ: typeOf[ResourceRequestParams](), examples: vals(&ResourceRequestParams{URI: "file:///a", Meta: modernMetaEx})},
	"GetPromptRequestParams":       {typ: typeOf[GetPromptRequestParams](), examples: vals(ex26PromptParams)},
	"CompleteRequestParams":        {typ: typeOf[CompleteRequestParams](), examples: vals(ex26Complete)},
	"PaginatedRequest":             {typ: typeOf[PaginatedRequestParams](), env: request, method: MethodToolsList, examples: vals(ex26List)},
	"ListToolsRequest":             {typ: typeOf[PaginatedRequestParams](), env: request, method: MethodToolsList, examples: vals(ex26List)},
	"ListPromptsRequest":           {typ: typeOf[PaginatedRequestParams](), env: request, method: MethodPromptsList, examples: vals(ex26List)},
	"ListResourcesRequest":         {typ: typeOf[PaginatedRequestParams](), env: request, method: MethodResourcesList, examples: vals(ex26List)},
	"ListResourceTemplatesRequest": {typ: typeOf[PaginatedRequestParams](), env: request, method: MethodResourcesTemplatesList, examples: vals(ex26List)},
	"ClientRequest": {typ: typeOf[jsonrpc.Request](), env: rpc, examples: vals(rpcReq(MethodServerDiscover, ex26Discover), rpcReq(MethodToolsCall, ex26CallRetry),
		rpcReq(MethodResourcesRead, ex26ReadParams), rpcReq(MethodSubscriptionsListen, ex26Listen), rpcReq(MethodPromptsGet, ex26PromptParams),
		rpcReq(MethodCompletionComplete, ex26Complete), rpcReq(MethodToolsList, ex26List))},

	// Results of the revision.
	"CallToolResult":                      {typ: typeOf[CallToolResult](), examples: vals(ex26CallResult, &CallToolResult{Content: []Content{}, ResultType: ResultTypeComplete, IsError: true})},
	"ListToolsResult":                     {typ: typeOf[ListToolsResult](), examples: vals(ex26ListTools)},
	"ListPromptsResult":                   {typ: typeOf[ListPromptsResult](), examples: vals(ex26ListPrompts)},
	"ListResourcesResult":                 {typ: typeOf[ListResourcesResult](), examples: vals(ex26ListRes)},
	"ListResourceTemplatesResult":         {typ: typeOf[ListResourceTemplatesResult](), examples: vals(ex26ListTmpl)},
	"ReadResourceResult":                  {typ: typeOf[ReadResourceResult](), examples: vals(ex26Read)},
	"GetPromptResult":                     {typ: typeOf[GetPromptResult](), examples: vals(ex26Prompt)},
	"CompleteResult":                      {typ: typeOf[CompleteResult](), examples: vals(ex26CompleteRes)},
	"CallToolResultResponse":              {typ: typeOf[jsonrpc.Response](), env: rpc, examples: vals(rpcResult26(2, ex26CallResult), rpcResult26(3, exInputRequired))},
	"ListToolsResultResponse":             {typ: typeOf[jsonrpc.Response](), env: rpc, examples: vals(rpcResult26(2, ex26ListTools))},
	"ListPromptsResultResponse":           {typ: typeOf[jsonrpc.Response](), env: rpc, examples: vals(rpcResult26(2, ex26ListPrompts))},
	"ListResourcesResultResponse":         {typ: typeOf[jsonrpc.Response](), env: rpc, examples: vals(rpcResult26(2, ex26ListRes))},
	"ListResourceTemplatesResultResponse": {typ: typeOf[jsonrpc.Response](), env: rpc, examples: vals(rpcResult26(2, ex26ListTmpl))},
	"ReadResourceResultResponse":          {typ: typeOf[jsonrpc.Response](), env: rpc, examples: vals(rpcResult26(2, ex26Read), rpcResult26(3, exInputRequired))},
	"GetPromptResultResponse":             {typ: typeOf[jsonrpc.Response](), env: rpc, examples: vals(rpcResult26(2, ex26Prompt), rpcResult26(3, exInputRequired))},
	"CompleteResultResponse":              {typ: typeOf[jsonrpc.Response](), env: rpc, examples: vals(rpcResult26(2, ex26CompleteRes))},
	"ServerResult": {typ: typeOf[jsonrpc.Response](), env: bare, examples: vals(ex26CallResult, exInputRequired, exDiscover, ex26ListTools, ex26Read,
		ex26ListenResult, ex26Prompt, ex26CompleteRes, ex26Empty)},
	"ClientResult": {typ: typeOf[EmptyResult](), examples: vals(ex26Empty)},

	// Subscriptions.
	"SubscriptionFilter":                          {typ: typeOf[SubscriptionFilter](), examples: vals(&exFilter, &SubscriptionFilter{}, &SubscriptionFilter{PromptsListChanged: true, ResourcesListChanged: true})},
	"SubscriptionsListenRequest":                  {typ: typeOf[SubscriptionsListenRequestParams](), env: request, method: MethodSubscriptionsListen, examples: vals(ex26Listen)},
	"SubscriptionsListenRequestParams":            {typ: typeOf[SubscriptionsListenRequestParams](), examples: vals(ex26Listen)},
	"SubscriptionsListenResult":                   {typ: typeOf[SubscriptionsListenResult](), examples: vals(ex26ListenResult)},
	"SubscriptionsListenResultResponse":           {typ: typeOf[jsonrpc.Response](), env: rpc, examples: vals(rpcResult26(7, ex26ListenResult))},
	"SubscriptionsAcknowledgedNotification":       {typ: typeOf[SubscriptionsAcknowledgedNotificationParams](), env: notification, method: NotificationSubscriptionsAcknowledged, examples: vals(ex26Ack)},
	"SubscriptionsAcknowledgedNotificationParams": {typ: typeOf[SubscriptionsAcknowledgedNotificationParams](), examples: vals(ex26Ack)},

	// Notifications of the revision.
	"CancelledNotification":             {typ: typeOf[CancelledNotificationParams](), env: notification, method: NotificationCancelled, examples: vals(ex26Cancelled)},
	"CancelledNotificationParams":       {typ: typeOf[CancelledNotificationParams](), examples: vals(ex26Cancelled)},
	"ClientNotification":                {typ: typeOf[CancelledNotificationParams](), env: notification, method: NotificationCancelled, examples: vals(ex26Cancelled)},
	"LoggingMessageNotification":        {typ: typeOf[LoggingMessageNotificationParams](), env: notification, method: NotificationMessage, examples: vals(ex26Log)},
	"LoggingMessageNotificationParams":  {typ: typeOf[LoggingMessageNotificationParams](), examples: vals(ex26Log)},
	"ProgressNotificationParams":        {typ: typeOf[ProgressNotificationParams](), examples: vals(ex26Progress)},
	"ResourceUpdatedNotification":       {typ: typeOf[ResourceUpdatedNotificationParams](), env: notification, method: NotificationResourcesUpdated, examples: vals(ex26Updated)},
	"ResourceUpdatedNotificationParams": {typ: typeOf[ResourceUpdatedNotificationParams](), examples: vals(ex26Updated)},
	"ToolListChangedNotification":       {typ: typeOf[NotificationParams](), env: notification, method: NotificationToolsListChanged, examples: vals(ex26Note)},
	"PromptListChangedNotification":     {typ: typeOf[NotificationParams](), env: notification, method: NotificationPromptsListChanged, examples: vals(ex26Note)},
	"ResourceListChangedNotification":   {typ: typeOf[NotificationParams](), env: notification, method: NotificationResourcesListChanged, examples: vals(ex26Note)},
	"ServerNotification": {typ: typeOf[jsonrpc.Request](), env: rpc, examples: vals(rpcNote(NotificationSubscriptionsAcknowledged, ex26Ack), rpcNote(NotificationMessage, ex26Log),
		rpcNote(NotificationProgress, ex26Progress), rpcNote(NotificationToolsListChanged, ex26Note), rpcNote(NotificationResourcesUpdated, ex26Updated))},

	// Tools and content whose 2026 definitions loosened.
	"Tool":              {typ: typeOf[Tool](), examples: vals(ex26Tool, &exTool, &exToolNoParams)},
	"ToolResultContent": {typ: typeOf[ToolResultContent](), examples: vals(ex26ToolResult, exToolRes)},
}

// Go types of the tasks extension (not definitions of the core schema),
// checked for shape in TestTasksExtensionTypes.
var _ = []any{exTaskState, exTaskStateD, ex26UpdateTask}

var schema2026Doc = sync.OnceValues(func() (any, error) {
	f, err := os.Open(schema2026Path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return jsonschema.UnmarshalJSON(f)
})

const schema2026Base = "https://switchboard.test/2026-07-28/"

var schema2026Compiler = sync.OnceValues(func() (*jsonschema.Compiler, error) {
	doc, err := schema2026Doc()
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	c.RegisterFormat(&jsonschema.Format{Name: "byte", Validate: func(v any) error {
		s, ok := v.(string)
		if !ok {
			return nil
		}
		_, err := base64.StdEncoding.Strict().DecodeString(s)
		return err
	}})
	if err := c.AddResource(schema2026Base+"schema.json", doc); err != nil {
		return nil, err
	}
	return c, nil
})

var (
	compile2026Mu sync.Mutex
	compiled2026  = map[string]*jsonschema.Schema{}
)

func compile2026Def(name string) (*jsonschema.Schema, error) {
	compile2026Mu.Lock()
	defer compile2026Mu.Unlock()
	if s, ok := compiled2026[name]; ok {
		return s, nil
	}
	c, err := schema2026Compiler()
	if err != nil {
		return nil, err
	}
	url := schema2026Base + "ref/" + name + ".json"
	if err := c.AddResource(url, map[string]any{"$ref": "../schema.json#/$defs/" + name}); err != nil {
		return nil, err
	}
	s, err := c.Compile(url)
	if err == nil {
		compiled2026[name] = s
	}
	return s, err
}

// stripDescriptions removes the members that do not change what a
// definition accepts.
func stripDescriptions(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			if k == "description" || k == "$comment" {
				continue
			}
			out[k] = stripDescriptions(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = stripDescriptions(e)
		}
		return out
	}
	return v
}

// changed2026 returns the definitions of the 2026-07-28 schema that are
// new or differ from 2025-11-25, and the ones 2026-07-28 removed.
func changed2026(t *testing.T) (changed, removed []string) {
	t.Helper()
	d25, err := schemaDoc()
	if err != nil {
		t.Fatal(err)
	}
	d26, err := schema2026Doc()
	if err != nil {
		t.Fatal(err)
	}
	old := d25.(map[string]any)["$defs"].(map[string]any)
	cur := d26.(map[string]any)["$defs"].(map[string]any)
	for name, def := range cur {
		prev, ok := old[name]
		if !ok || !reflect.DeepEqual(stripDescriptions(prev), stripDescriptions(def)) {
			changed = append(changed, name)
		}
	}
	for name := range old {
		if _, ok := cur[name]; !ok {
			removed = append(removed, name)
		}
	}
	slices.Sort(changed)
	slices.Sort(removed)
	return changed, removed
}

func TestSchema2026Definitions(t *testing.T) {
	changed, removed := changed2026(t)
	if len(changed) < 100 {
		t.Errorf("only %d definitions differ between 2025-11-25 and 2026-07-28; is the schema file right?", len(changed))
	}
	// Removed definitions keep their Go types (for 2025-11-25), which the
	// 2025 schema test covers; none may linger in v2026Cases.
	for _, name := range removed {
		if _, ok := v2026Cases[name]; ok {
			t.Errorf("v2026Cases has %s, which 2026-07-28 removed", name)
		}
	}
	// Entries for definitions that did not change are allowed: their
	// examples carry 2026-07-28 members (subscription ids in _meta).
	doc, _ := schema2026Doc()
	defs26 := doc.(map[string]any)["$defs"].(map[string]any)
	var extra []string
	for name := range v2026Cases {
		if _, ok := defs26[name]; !ok {
			t.Errorf("v2026Cases has %s, which is not a 2026-07-28 definition", name)
		} else if !slices.Contains(changed, name) {
			extra = append(extra, name)
		}
	}
	for _, name := range append(changed, extra...) {
		c, ok := v2026Cases[name]
		if !ok {
			c, ok = schemaCases[name]
		}
		if !ok {
			t.Errorf("2026-07-28 definition %s has no Go type (neither in v2026Cases nor in schemaCases)", name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sch, err := compile2026Def(name)
			if err != nil {
				t.Fatalf("compiling: %v", err)
			}
			if len(c.examples) == 0 {
				t.Fatal("no examples")
			}
			for i, ex := range c.examples {
				check2026Example(t, fmt.Sprintf("example %d (%T)", i, ex.v), c, ex, sch)
			}
		})
	}
}

func check2026Example(t *testing.T, label string, c defCase, ex example, sch *jsonschema.Schema) {
	t.Helper()
	raw, err := encode(c, ex.v)
	if err != nil {
		t.Errorf("%s: marshal: %v", label, err)
		return
	}
	inst := wrap(c, ex, raw)
	if err := validate(sch, inst); err != nil {
		t.Errorf("%s: %s\ndoes not validate against 2026-07-28: %v", label, inst, err)
	}
	if c.env != bare || c.typ == typeOf[jsonrpc.Response]() {
		// Messages and unions: decoding is the jsonrpc package's job,
		// tested there; validation is what this test adds.
		return
	}
	var back any
	if c.typ.Kind() == reflect.Interface {
		back, err = decode(c, ex, raw)
	} else {
		target := reflect.New(c.typ).Interface()
		err = json.Unmarshal(raw, target)
		back = target
	}
	if err != nil {
		t.Errorf("%s: unmarshal %s: %v", label, raw, err)
		return
	}
	raw2, err := encode(c, back)
	if err != nil {
		t.Errorf("%s: re-marshal: %v", label, err)
		return
	}
	if string(raw) != string(raw2) {
		t.Errorf("%s: round trip changed the JSON:\n got %s\nwant %s", label, raw2, raw)
	}
}

// TestSchema2026Rejects checks that the 2026 test can fail: 2025-11-25
// shapes the new revision forbids do not validate.
func TestSchema2026Rejects(t *testing.T) {
	tests := []struct{ def, doc string }{
		{"CallToolResult", `{"content":[]}`},                                     // no resultType
		{"ListToolsResult", `{"tools":[],"resultType":"complete"}`},              // no ttlMs/cacheScope
		{"CallToolRequestParams", `{"name":"x"}`},                                // no _meta
		{"RequestMetaObject", `{"io.modelcontextprotocol/protocolVersion":"x"}`}, // no capabilities
		{"UnsupportedProtocolVersionError", `{"jsonrpc":"2.0","id":1,"error":{"code":-32004,"message":"m","data":{"supported":[],"requested":"x"}}}`},
		{"CacheableResult", `{"resultType":"complete","ttlMs":-1,"cacheScope":"public"}`},
		{"CacheableResult", `{"resultType":"complete","ttlMs":1,"cacheScope":"shared"}`},
		{"SubscriptionsListenResult", `{"resultType":"complete","_meta":{}}`},
	}
	for _, tt := range tests {
		sch, err := compile2026Def(tt.def)
		if err != nil {
			t.Fatal(err)
		}
		if err := validate(sch, []byte(tt.doc)); err == nil {
			t.Errorf("%s validates against %s", tt.doc, tt.def)
		}
	}
}

// TestSchema2026Methods checks the 2026 method table against the methods
// the 2026-07-28 schema defines as messages.
func TestSchema2026Methods(t *testing.T) {
	doc, err := schema2026Doc()
	if err != nil {
		t.Fatal(err)
	}
	defs := doc.(map[string]any)["$defs"].(map[string]any)
	inSchema := map[string]bool{}
	for name, d := range defs {
		props, _ := d.(map[string]any)["properties"].(map[string]any)
		m, _ := props["method"].(map[string]any)
		c, ok := m["const"].(string)
		if !ok {
			continue
		}
		if _, isMessage := props["jsonrpc"]; !isMessage {
			// ElicitRequest, CreateMessageRequest, ListRootsRequest are
			// input requests, not messages, in 2026-07-28.
			if !IsInputRequestMethod(c) {
				t.Errorf("%s has method %q but no jsonrpc member", name, c)
			}
			continue
		}
		inSchema[c] = true
	}
	for m := range inSchema {
		if _, ok := LookupModernMethod(m); !ok {
			t.Errorf("the schema has method %q, which the 2026 method table does not", m)
		}
	}
	for _, m := range ModernMethods() {
		if m.Extension != "" {
			continue
		}
		if !inSchema[m.Name] {
			t.Errorf("the 2026 method table has %q, which the schema does not", m.Name)
		}
	}
	for _, gone := range []string{MethodInitialize, MethodPing, MethodLoggingSetLevel, MethodResourcesSubscribe, MethodResourcesUnsubscribe,
		NotificationInitialized, NotificationRootsListChanged, NotificationElicitationComplete, MethodTasksList, MethodTasksResult} {
		if _, ok := LookupModernMethod(gone); ok {
			t.Errorf("%s is in the 2026 method table, but the revision removed it", gone)
		}
	}
	if !slices.IsSortedFunc(ModernMethods(), func(a, b ModernMethodInfo) int { return strings.Compare(a.Name, b.Name) }) {
		t.Error("ModernMethods is not sorted")
	}
}

func TestTasksExtensionTypes(t *testing.T) {
	tests := []struct {
		v    any
		want string
	}{
		{exTaskState, `{"resultType":"task","taskId":"` + exTaskID + `","status":"working","createdAt":"2025-11-25T10:30:00Z","lastUpdatedAt":"2025-11-25T10:30:00Z","ttlMs":60000,"pollIntervalMs":500}`},
		{&TaskState{TaskID: "t", Status: TaskStatusInputRequired, CreatedAt: "a", LastUpdatedAt: "b", InputRequests: InputRequests{"k": {Method: MethodRootsList}}},
			`{"taskId":"t","status":"input_required","createdAt":"a","lastUpdatedAt":"b","ttlMs":null,"inputRequests":{"k":{"method":"roots/list"}}}`},
		{&TaskState{TaskID: "t", Status: TaskStatusFailed, CreatedAt: "a", LastUpdatedAt: "b", Error: &jsonrpc.Error{Code: -32603, Message: "x"}},
			`{"taskId":"t","status":"failed","createdAt":"a","lastUpdatedAt":"b","ttlMs":null,"error":{"code":-32603,"message":"x"}}`},
		{ex26UpdateTask, `{"taskId":"` + exTaskID + `","inputResponses":{"capital":{"content":{"text":"Paris","type":"text"},"model":"m","role":"assistant"},"name":{"action":"accept","content":{"name":"octocat"}},"roots":{"roots":[{"uri":"file:///tmp"}]}}}`},
	}
	for _, tt := range tests {
		b, err := json.Marshal(tt.v, deterministic)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tt.want {
			t.Errorf("got  %s\nwant %s", b, tt.want)
		}
		back := reflect.New(reflect.TypeOf(tt.v).Elem()).Interface()
		if err := json.Unmarshal(b, back); err != nil {
			t.Errorf("unmarshal %s: %v", b, err)
		}
		if b2, _ := json.Marshal(back, deterministic); string(b2) != tt.want {
			t.Errorf("round trip: %s", b2)
		}
	}
}

func TestRequestMetaAccessors(t *testing.T) {
	raw := jsontext.Value(`{"name":"x","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",` +
		`"io.modelcontextprotocol/clientCapabilities":{"sampling":{}},"io.modelcontextprotocol/clientInfo":{"name":"c","version":"1"},` +
		`"io.modelcontextprotocol/logLevel":"warning","traceparent":"00-abc-def-01","progressToken":5}}`)
	rm, err := ParseRequestMeta(raw)
	if err != nil {
		t.Fatal(err)
	}
	if rm.ProtocolVersion != Version20260728 || !rm.ClientCapabilities.SupportsSampling() || rm.ClientInfo.Name != "c" ||
		rm.LogLevel != LoggingLevelWarning || rm.ProgressToken == nil || rm.ProgressToken.String() != "5" {
		t.Errorf("ParseRequestMeta = %+v", rm)
	}
	var p struct {
		Meta Meta `json:"_meta"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatal(err)
	}
	if v, ok := p.Meta.ProtocolVersion(); !ok || v != Version20260728 {
		t.Errorf("ProtocolVersion = %q, %v", v, ok)
	}
	if l, ok := p.Meta.LogLevel(); !ok || l != LoggingLevelWarning {
		t.Errorf("LogLevel = %q, %v", l, ok)
	}
	if c, ok := p.Meta.ClientCapabilities(); !ok || !c.SupportsSampling() {
		t.Errorf("ClientCapabilities = %+v, %v", c, ok)
	}
	if ci, ok := p.Meta.ClientInfo(); !ok || ci.Name != "c" {
		t.Errorf("ClientInfo = %+v", ci)
	}
	if tc := p.Meta.TraceContext(); tc[MetaTraceparent] != "00-abc-def-01" || len(tc) != 1 {
		t.Errorf("TraceContext = %v", tc)
	}
	for _, bad := range []string{``, `{}`, `{"_meta":{}}`, `{"_meta":{"progressToken":1}}`} {
		if _, err := ParseRequestMeta(jsontext.Value(bad)); err != ErrNotModern {
			t.Errorf("ParseRequestMeta(%s) = %v, want ErrNotModern", bad, err)
		}
	}
	if _, err := ParseRequestMeta(jsontext.Value(`{"_meta":{"io.modelcontextprotocol/protocolVersion":7}}`)); err == nil || err == ErrNotModern {
		t.Errorf("a malformed version was accepted: %v", err)
	}
	res := Meta{MetaServerInfo: map[string]any{"name": "s", "version": "2"}, MetaSubscriptionID: 3.0}
	if si, ok := res.ServerInfo(); !ok || si.Version != "2" {
		t.Errorf("ServerInfo = %+v", si)
	}
	if id, ok := res.SubscriptionID(); !ok || id != jsonrpc.Int64ID(3) {
		t.Errorf("SubscriptionID = %v", id)
	}
}

func TestModernErrors(t *testing.T) {
	e := NewUnsupportedProtocolVersionError("1900-01-01", []string{Version20260728})
	if d, ok := UnsupportedProtocolVersion(e); !ok || d.Requested != "1900-01-01" || d.Supported[0] != Version20260728 {
		t.Errorf("UnsupportedProtocolVersion = %+v", d)
	}
	m := NewMissingRequiredClientCapabilityError("", ClientCapabilities{Sampling: &SamplingCapability{}})
	if d, ok := MissingRequiredClientCapability(m); !ok || !d.RequiredCapabilities.SupportsSampling() || string(m.Data) != `{"requiredCapabilities":{"sampling":{}}}` {
		t.Errorf("MissingRequiredClientCapability = %+v (%s)", d, m.Data)
	}
	for _, e := range []*jsonrpc.Error{e, m, NewHeaderMismatchError("x")} {
		if !IsModernError(e) {
			t.Errorf("IsModernError(%d) = false", e.Code)
		}
	}
	for _, e := range []*jsonrpc.Error{nil, jsonrpc.ErrMethodNotFound("x"), {Code: -32004}, {Code: -32001}} {
		if IsModernError(e) {
			t.Errorf("IsModernError(%v) = true", e)
		}
	}
	if _, ok := UnsupportedProtocolVersion(m); ok {
		t.Error("UnsupportedProtocolVersion accepted another code")
	}
	if !IsModernVersion(Version20260728) || IsModernVersion(Version20251125) || IsModernVersion("2027-01-01") {
		t.Error("IsModernVersion")
	}
}
