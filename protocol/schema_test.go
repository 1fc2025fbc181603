package protocol

import (
	"bytes"
	"encoding/base64"
	"errors"
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

// The schema test checks every definition of the 2025-11-25 schema against
// the Go type that represents it: examples of the type are marshalled,
// validated against the definition, unmarshalled and marshalled again to
// the same bytes.

const schemaPath = "testdata/2025-11-25/schema.json"

// envelope says how the JSON of a Go value becomes an instance of a
// definition.
type envelope int

const (
	// bare: the value's JSON is the instance.
	bare envelope = iota
	// request: the value is the params of a request with the example's
	// method.
	request
	// notification: the value is the params of a notification.
	notification
	// errorResponse: the value is the data of a
	// CodeURLElicitationRequired error response.
	errorResponse
	// rpc: the value is a jsonrpc.Message (or *jsonrpc.Error / jsonrpc.ID)
	// encoded by package jsonrpc.
	rpc
)

// defCase maps a definition to its Go type and gives examples.
type defCase struct {
	// typ is the Go type representing the definition. For interface
	// types the examples are the variants.
	typ reflect.Type
	env envelope
	// method is the method of request and notification envelopes, unless
	// an example has its own.
	method   string
	examples []example
}

func typeOf[T any]() reflect.Type { return reflect.TypeFor[T]() }

func vals(vs ...any) []example {
	ex := make([]example, len(vs))
	for i, v := range vs {
		ex[i] = example{v: v}
	}
	return ex
}

// pick returns the examples of ex whose method is one of methods.
func pick(ex []example, methods ...string) []example {
	var out []example
	for _, e := range ex {
		if slices.Contains(methods, e.method) {
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		panic(fmt.Sprintf("no example for %v", methods))
	}
	return out
}

// valuesOf returns the values of examples, dropping their methods.
func valuesOf(ex []example) []example {
	out := make([]example, len(ex))
	for i, e := range ex {
		out[i] = example{v: e.v}
	}
	return out
}

// resultsOfType returns the result examples whose value has type T.
func resultsOfType[T any](ex ...[]example) []example {
	var out []example
	for _, list := range ex {
		for _, e := range list {
			if _, ok := e.v.(T); ok {
				out = append(out, example{v: e.v})
			}
		}
	}
	if len(out) == 0 {
		panic(fmt.Sprintf("no example of %v", reflect.TypeFor[T]()))
	}
	return out
}

func contentExamples[T any](list []T) []example {
	out := make([]example, len(list))
	for i, c := range list {
		out[i] = example{v: c}
	}
	return out
}

func allParams(ex ...[]example) []example {
	var out []example
	for _, l := range ex {
		out = append(out, l...)
	}
	return out
}

var (
	rpcRequest      = &jsonrpc.Request{ID: jsonrpc.Int64ID(1), Method: MethodToolsCall, Params: jsontext.Value(`{"name":"get_weather","arguments":{"location":"New York"}}`)}
	rpcRequestStrID = &jsonrpc.Request{ID: jsonrpc.StringID("req-1"), Method: MethodPing}
	rpcNotification = &jsonrpc.Request{Method: NotificationProgress, Params: jsontext.Value(`{"progressToken":"abc","progress":1}`)}
	rpcResult       = &jsonrpc.Response{ID: jsonrpc.Int64ID(1), Result: jsontext.Value(`{"content":[{"type":"text","text":"ok"}]}`)}
	rpcEmptyResult  = &jsonrpc.Response{ID: jsonrpc.StringID("x"), Result: jsontext.Value(`{}`)}
	rpcError        = &jsonrpc.Response{ID: jsonrpc.Int64ID(2), Error: &jsonrpc.Error{Code: jsonrpc.CodeMethodNotFound, Message: "Method not found"}}
	rpcErrorData    = &jsonrpc.Response{ID: jsonrpc.Int64ID(3), Error: &jsonrpc.Error{Code: CodeResourceNotFound, Message: "Resource not found", Data: jsontext.Value(`{"uri":"file:///nonexistent.txt"}`)}}
)

// schemaCases maps every definition of the schema to its Go type.
var schemaCases = map[string]defCase{
	// Base types.
	"Annotations":    {typ: typeOf[Annotations](), examples: vals(exAnnotations, &Annotations{}, &Annotations{Priority: ptrTo(0.0)})},
	"BaseMetadata":   {typ: typeOf[BaseMetadata](), examples: vals(&BaseMetadata{Name: "code_review", Title: "Code Review"}, &BaseMetadata{Name: "x"})},
	"Cursor":         {typ: typeOf[Cursor](), examples: vals(ptrTo("eyJwYWdlIjogM30="), ptrTo(""))},
	"Icon":           {typ: typeOf[Icon](), examples: vals(&exIcon, &Icon{Src: "data:image/png;base64," + base64.StdEncoding.EncodeToString(pngPixel)})},
	"Icons":          {typ: typeOf[Icons](), examples: vals(&Icons{Icons: []Icon{exIcon, {Src: "https://example.com/icon.svg", Sizes: []string{"any"}, Theme: IconThemeDark}}}, &Icons{})},
	"Implementation": {typ: typeOf[Implementation](), examples: vals(&exImplementation, &Implementation{Name: "minimal", Version: "0.0.1"})},
	"Role":           {typ: typeOf[Role](), examples: vals(ptrTo(RoleUser), ptrTo(RoleAssistant))},
	"LoggingLevel": {typ: typeOf[LoggingLevel](), examples: vals(ptrTo(LoggingLevelDebug), ptrTo(LoggingLevelInfo), ptrTo(LoggingLevelNotice),
		ptrTo(LoggingLevelWarning), ptrTo(LoggingLevelError), ptrTo(LoggingLevelCritical), ptrTo(LoggingLevelAlert), ptrTo(LoggingLevelEmergency))},
	"TaskStatus": {typ: typeOf[TaskStatus](), examples: vals(ptrTo(TaskStatusWorking), ptrTo(TaskStatusInputRequired), ptrTo(TaskStatusCompleted),
		ptrTo(TaskStatusFailed), ptrTo(TaskStatusCancelled))},
	"RequestId":              {typ: typeOf[jsonrpc.ID](), env: rpc, examples: vals(jsonrpc.Int64ID(1), jsonrpc.Int64ID(-9007199254740991), jsonrpc.StringID("abc-123"), jsonrpc.StringID(""))},
	"ProgressToken":          {typ: typeOf[ProgressToken](), env: rpc, examples: vals(jsonrpc.Int64ID(42), jsonrpc.StringID("progress-1"))},
	"RequestParams":          {typ: typeOf[RequestParams](), examples: vals(&RequestParams{}, &RequestParams{Meta: Meta{MetaProgressToken: "t", "com.example/x": []any{1.0, "a"}}})},
	"NotificationParams":     {typ: typeOf[NotificationParams](), examples: vals(&NotificationParams{}, &NotificationParams{Meta: exMeta})},
	"PaginatedRequestParams": {typ: typeOf[PaginatedRequestParams](), examples: vals(&PaginatedRequestParams{}, &PaginatedRequestParams{Cursor: "c", Meta: exMeta})},
	"PaginatedResult":        {typ: typeOf[PaginatedResult](), examples: vals(&PaginatedResult{}, &PaginatedResult{NextCursor: "next", Meta: exMeta})},
	"Result":                 {typ: typeOf[Result](), examples: vals(&Result{}, &Result{Meta: exMeta}, &Result{Fields: jsontext.Value(`{"content":[],"x":{"y":1}}`)})},
	"EmptyResult":            {typ: typeOf[EmptyResult](), examples: vals(&EmptyResult{}, &EmptyResult{Meta: exMeta})},
	"RelatedTaskMetadata":    {typ: typeOf[RelatedTaskMetadata](), examples: vals(&RelatedTaskMetadata{TaskID: exTaskID})},

	// JSON-RPC messages, represented by package jsonrpc.
	"Request":               {typ: typeOf[jsonrpc.Request](), env: rpc, examples: vals(rpcRequest, rpcRequestStrID)},
	"Notification":          {typ: typeOf[jsonrpc.Request](), env: rpc, examples: vals(rpcNotification)},
	"JSONRPCRequest":        {typ: typeOf[jsonrpc.Request](), env: rpc, examples: vals(rpcRequest, rpcRequestStrID)},
	"JSONRPCNotification":   {typ: typeOf[jsonrpc.Request](), env: rpc, examples: vals(rpcNotification, &jsonrpc.Request{Method: NotificationInitialized})},
	"JSONRPCResultResponse": {typ: typeOf[jsonrpc.Response](), env: rpc, examples: vals(rpcResult, rpcEmptyResult)},
	"JSONRPCErrorResponse":  {typ: typeOf[jsonrpc.Response](), env: rpc, examples: vals(rpcError, rpcErrorData)},
	"JSONRPCResponse":       {typ: typeOf[jsonrpc.Response](), env: rpc, examples: vals(rpcResult, rpcError)},
	"JSONRPCMessage":        {typ: typeOf[jsonrpc.Message](), env: rpc, examples: vals(rpcRequest, rpcNotification, rpcResult, rpcErrorData)},
	"Error": {typ: typeOf[jsonrpc.Error](), env: rpc, examples: vals(
		&jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: "Unknown tool: invalid_tool_name"},
		&jsonrpc.Error{Code: CodeResourceNotFound, Message: "Resource not found", Data: jsontext.Value(`{"uri":"file:///nonexistent.txt"}`)})},
	"URLElicitationRequiredError": {typ: typeOf[URLElicitationRequiredErrorData](), env: errorResponse, examples: vals(exURLElicitationData)},

	// Content.
	"TextContent":                 {typ: typeOf[TextContent](), examples: vals(exText, exTextFull, &TextContent{})},
	"ImageContent":                {typ: typeOf[ImageContent](), examples: vals(exImage, &ImageContent{Data: []byte{0, 1, 2, 0xff}, MIMEType: "image/jpeg"})},
	"AudioContent":                {typ: typeOf[AudioContent](), examples: vals(exAudio)},
	"ResourceLink":                {typ: typeOf[ResourceLink](), examples: vals(exLink, &ResourceLink{URI: "https://example.com/r", Name: "r"})},
	"EmbeddedResource":            {typ: typeOf[EmbeddedResource](), examples: vals(exEmbedded, exEmbedBlob)},
	"ToolUseContent":              {typ: typeOf[ToolUseContent](), examples: vals(exToolUse, exToolUse2)},
	"ToolResultContent":           {typ: typeOf[ToolResultContent](), examples: vals(exToolRes, exToolResErr, &ToolResultContent{ToolUseID: "x"})},
	"ContentBlock":                {typ: typeOf[Content](), examples: contentExamples(exContent)},
	"SamplingMessageContentBlock": {typ: typeOf[SamplingContent](), examples: contentExamples(exSamplingContent)},
	"ResourceContents":            {typ: typeOf[ResourceContents](), examples: vals(exTextRes, exBlobRes, &TextResourceContents{URI: "file:///empty", Text: ""})},
	"TextResourceContents":        {typ: typeOf[TextResourceContents](), examples: vals(exTextRes, &TextResourceContents{URI: "file:///a.txt", Text: "a"})},
	"BlobResourceContents":        {typ: typeOf[BlobResourceContents](), examples: vals(exBlobRes, &BlobResourceContents{URI: "file:///empty.bin"})},

	// Capabilities and lifecycle.
	"ClientCapabilities": {typ: typeOf[ClientCapabilities](), examples: vals(&exClientCaps, &ClientCapabilities{},
		&ClientCapabilities{Elicitation: &ElicitationCapability{}, Sampling: &SamplingCapability{}, Roots: &RootsCapability{}})},
	"ServerCapabilities":      {typ: typeOf[ServerCapabilities](), examples: vals(&exServerCaps, &ServerCapabilities{}, &ServerCapabilities{Logging: &LoggingCapability{}, Tools: &ToolsCapability{}})},
	"InitializeRequestParams": {typ: typeOf[InitializeRequestParams](), examples: valuesOf(pick(exClientRequests, MethodInitialize))},
	"InitializeRequest":       {typ: typeOf[InitializeRequestParams](), env: request, examples: pick(exClientRequests, MethodInitialize)},
	"InitializeResult":        {typ: typeOf[InitializeResult](), examples: valuesOf(pick(exServerResults, MethodInitialize))},
	"InitializedNotification": {typ: typeOf[NotificationParams](), env: notification, examples: pick(exClientNotifications, NotificationInitialized)},
	"PingRequest":             {typ: typeOf[RequestParams](), env: request, examples: pick(allParams(exClientRequests, exServerRequests), MethodPing)},
	"CancelledNotification": {typ: typeOf[CancelledNotificationParams](), env: notification,
		examples: pick(allParams(exClientNotifications, exServerNotifications), NotificationCancelled)},
	"CancelledNotificationParams": {typ: typeOf[CancelledNotificationParams](), examples: valuesOf(pick(allParams(exClientNotifications, exServerNotifications), NotificationCancelled))},
	"ProgressNotification": {typ: typeOf[ProgressNotificationParams](), env: notification,
		examples: pick(allParams(exClientNotifications, exServerNotifications), NotificationProgress)},
	"ProgressNotificationParams": {typ: typeOf[ProgressNotificationParams](), examples: valuesOf(pick(allParams(exClientNotifications, exServerNotifications), NotificationProgress))},

	// Pagination.
	"PaginatedRequest": {typ: typeOf[PaginatedRequestParams](), env: request,
		examples: pick(exClientRequests, MethodToolsList, MethodPromptsList, MethodResourcesList, MethodResourcesTemplatesList, MethodTasksList)},

	// Tools.
	"Tool": {typ: typeOf[Tool](), examples: vals(&exTool, &exTool2020, &exToolNoParams)},
	"ToolAnnotations": {typ: typeOf[ToolAnnotations](), examples: vals(exTool.Annotations, &ToolAnnotations{},
		&ToolAnnotations{ReadOnlyHint: ptrTo(false), DestructiveHint: ptrTo(true), IdempotentHint: ptrTo(false), OpenWorldHint: ptrTo(false)})},
	"ToolExecution":               {typ: typeOf[ToolExecution](), examples: vals(&ToolExecution{}, &ToolExecution{TaskSupport: TaskSupportForbidden}, &ToolExecution{TaskSupport: TaskSupportRequired})},
	"ListToolsRequest":            {typ: typeOf[PaginatedRequestParams](), env: request, examples: pick(exClientRequests, MethodToolsList)},
	"ListToolsResult":             {typ: typeOf[ListToolsResult](), examples: valuesOf(pick(exServerResults, MethodToolsList))},
	"CallToolRequest":             {typ: typeOf[CallToolRequestParams](), env: request, examples: pick(exClientRequests, MethodToolsCall)},
	"CallToolRequestParams":       {typ: typeOf[CallToolRequestParams](), examples: valuesOf(pick(exClientRequests, MethodToolsCall))},
	"CallToolResult":              {typ: typeOf[CallToolResult](), examples: valuesOf(pick(exServerResults, MethodToolsCall))},
	"ToolListChangedNotification": {typ: typeOf[NotificationParams](), env: notification, examples: pick(exServerNotifications, NotificationToolsListChanged)},

	// Resources.
	"Resource":                     {typ: typeOf[Resource](), examples: vals(&exResource, &Resource{URI: "https://example.com/a", Name: "a"})},
	"ResourceTemplate":             {typ: typeOf[ResourceTemplate](), examples: vals(&exTemplate, &ResourceTemplate{URITemplate: "db://example/{table}/{id}", Name: "rows"})},
	"ResourceRequestParams":        {typ: typeOf[ResourceRequestParams](), examples: vals(&ResourceRequestParams{URI: "file:///a", Meta: exMeta})},
	"ListResourcesRequest":         {typ: typeOf[PaginatedRequestParams](), env: request, examples: pick(exClientRequests, MethodResourcesList)},
	"ListResourcesResult":          {typ: typeOf[ListResourcesResult](), examples: valuesOf(pick(exServerResults, MethodResourcesList))},
	"ListResourceTemplatesRequest": {typ: typeOf[PaginatedRequestParams](), env: request, examples: pick(exClientRequests, MethodResourcesTemplatesList)},
	"ListResourceTemplatesResult":  {typ: typeOf[ListResourceTemplatesResult](), examples: valuesOf(pick(exServerResults, MethodResourcesTemplatesList))},
	"ReadResourceRequest":          {typ: typeOf[ReadResourceRequestParams](), env: request, examples: pick(exClientRequests, MethodResourcesRead)},
	"ReadResourceRequestParams":    {typ: typeOf[ReadResourceRequestParams](), examples: valuesOf(pick(exClientRequests, MethodResourcesRead))},
	"ReadResourceResult": {typ: typeOf[ReadResourceResult](), examples: append(valuesOf(pick(exServerResults, MethodResourcesRead)),
		example{v: &ReadResourceResult{}})},
	"SubscribeRequest":                  {typ: typeOf[SubscribeRequestParams](), env: request, examples: pick(exClientRequests, MethodResourcesSubscribe)},
	"SubscribeRequestParams":            {typ: typeOf[SubscribeRequestParams](), examples: valuesOf(pick(exClientRequests, MethodResourcesSubscribe))},
	"UnsubscribeRequest":                {typ: typeOf[UnsubscribeRequestParams](), env: request, examples: pick(exClientRequests, MethodResourcesUnsubscribe)},
	"UnsubscribeRequestParams":          {typ: typeOf[UnsubscribeRequestParams](), examples: valuesOf(pick(exClientRequests, MethodResourcesUnsubscribe))},
	"ResourceListChangedNotification":   {typ: typeOf[NotificationParams](), env: notification, examples: pick(exServerNotifications, NotificationResourcesListChanged)},
	"ResourceUpdatedNotification":       {typ: typeOf[ResourceUpdatedNotificationParams](), env: notification, examples: pick(exServerNotifications, NotificationResourcesUpdated)},
	"ResourceUpdatedNotificationParams": {typ: typeOf[ResourceUpdatedNotificationParams](), examples: valuesOf(pick(exServerNotifications, NotificationResourcesUpdated))},

	// Prompts and completion.
	"Prompt":                        {typ: typeOf[Prompt](), examples: vals(&exPrompt, &Prompt{Name: "simple"})},
	"PromptArgument":                {typ: typeOf[PromptArgument](), examples: vals(&exPrompt.Arguments[0], &PromptArgument{Name: "x"})},
	"PromptMessage":                 {typ: typeOf[PromptMessage](), examples: vals(&PromptMessage{Role: RoleUser, Content: exText}, &PromptMessage{Role: RoleAssistant, Content: exEmbedBlob})},
	"ListPromptsRequest":            {typ: typeOf[PaginatedRequestParams](), env: request, examples: pick(exClientRequests, MethodPromptsList)},
	"ListPromptsResult":             {typ: typeOf[ListPromptsResult](), examples: valuesOf(pick(exServerResults, MethodPromptsList))},
	"GetPromptRequest":              {typ: typeOf[GetPromptRequestParams](), env: request, examples: pick(exClientRequests, MethodPromptsGet)},
	"GetPromptRequestParams":        {typ: typeOf[GetPromptRequestParams](), examples: valuesOf(pick(exClientRequests, MethodPromptsGet))},
	"GetPromptResult":               {typ: typeOf[GetPromptResult](), examples: append(valuesOf(pick(exServerResults, MethodPromptsGet)), example{v: &GetPromptResult{}})},
	"PromptListChangedNotification": {typ: typeOf[NotificationParams](), env: notification, examples: pick(exServerNotifications, NotificationPromptsListChanged)},
	"PromptReference":               {typ: typeOf[PromptReference](), examples: vals(&PromptReference{Name: "code_review", Title: "Code Review"}, &PromptReference{Name: "p"})},
	"ResourceTemplateReference":     {typ: typeOf[ResourceTemplateReference](), examples: vals(&ResourceTemplateReference{URI: "file:///{path}"})},
	"CompleteRequest":               {typ: typeOf[CompleteRequestParams](), env: request, examples: pick(exClientRequests, MethodCompletionComplete)},
	"CompleteRequestParams":         {typ: typeOf[CompleteRequestParams](), examples: valuesOf(pick(exClientRequests, MethodCompletionComplete))},
	"CompleteResult":                {typ: typeOf[CompleteResult](), examples: valuesOf(pick(exServerResults, MethodCompletionComplete))},

	// Logging.
	"SetLevelRequest":                  {typ: typeOf[SetLevelRequestParams](), env: request, examples: pick(exClientRequests, MethodLoggingSetLevel)},
	"SetLevelRequestParams":            {typ: typeOf[SetLevelRequestParams](), examples: vals(&SetLevelRequestParams{Level: LoggingLevelWarning, Meta: exMeta})},
	"LoggingMessageNotification":       {typ: typeOf[LoggingMessageNotificationParams](), env: notification, examples: pick(exServerNotifications, NotificationMessage)},
	"LoggingMessageNotificationParams": {typ: typeOf[LoggingMessageNotificationParams](), examples: valuesOf(pick(exServerNotifications, NotificationMessage))},

	// Sampling.
	"CreateMessageRequest":       {typ: typeOf[CreateMessageRequestParams](), env: request, examples: pick(exServerRequests, MethodSamplingCreateMessage)},
	"CreateMessageRequestParams": {typ: typeOf[CreateMessageRequestParams](), examples: valuesOf(pick(exServerRequests, MethodSamplingCreateMessage))},
	"CreateMessageResult":        {typ: typeOf[CreateMessageResult](), examples: valuesOf(pick(exClientResults, MethodSamplingCreateMessage))},
	"SamplingMessage": {typ: typeOf[SamplingMessage](), examples: vals(&exSamplingParams.Messages[0], &exSamplingParams.Messages[1], &exSamplingParams.Messages[2],
		&SamplingMessage{Role: RoleUser, Content: SamplingContents{}})},
	"ModelPreferences": {typ: typeOf[ModelPreferences](), examples: vals(exSamplingParams.ModelPreferences, &ModelPreferences{})},
	"ModelHint":        {typ: typeOf[ModelHint](), examples: vals(&ModelHint{Name: "sonnet"}, &ModelHint{})},
	"ToolChoice":       {typ: typeOf[ToolChoice](), examples: vals(&ToolChoice{}, &ToolChoice{Mode: ToolChoiceRequired}, &ToolChoice{Mode: ToolChoiceNone})},

	// Roots.
	"Root":                         {typ: typeOf[Root](), examples: vals(&Root{URI: "file:///home/user/projects/myproject", Name: "My Project"}, &Root{URI: "file:///tmp", Meta: exMeta})},
	"ListRootsRequest":             {typ: typeOf[ListRootsRequestParams](), env: request, examples: pick(exServerRequests, MethodRootsList)},
	"ListRootsResult":              {typ: typeOf[ListRootsResult](), examples: append(valuesOf(pick(exClientResults, MethodRootsList)), example{v: &ListRootsResult{}})},
	"RootsListChangedNotification": {typ: typeOf[NotificationParams](), env: notification, examples: pick(exClientNotifications, NotificationRootsListChanged)},

	// Elicitation.
	"ElicitRequest":                   {typ: typeOf[ElicitRequestParams](), env: request, examples: pick(exServerRequests, MethodElicitationCreate)},
	"ElicitRequestParams":             {typ: typeOf[ElicitRequestParams](), examples: vals(exElicitForm, exElicitFormNoMode, exElicitURL)},
	"ElicitRequestFormParams":         {typ: typeOf[ElicitRequestParams](), examples: vals(exElicitForm, exElicitFormNoMode)},
	"ElicitRequestURLParams":          {typ: typeOf[ElicitRequestParams](), examples: vals(exElicitURL)},
	"ElicitResult":                    {typ: typeOf[ElicitResult](), examples: valuesOf(pick(exClientResults, MethodElicitationCreate))},
	"ElicitationCompleteNotification": {typ: typeOf[ElicitationCompleteNotificationParams](), env: notification, examples: pick(exServerNotifications, NotificationElicitationComplete)},
	"PrimitiveSchemaDefinition":       {typ: typeOf[PrimitiveSchema](), examples: contentExamples(exPrimitiveSchemas)},
	"EnumSchema":                      {typ: typeOf[EnumSchema](), examples: vals(exUntitledEnum, exTitledEnum, exLegacyEnum, exUntitledMulti, exTitledMulti)},
	"SingleSelectEnumSchema":          {typ: typeOf[SingleSelectEnumSchema](), examples: vals(exUntitledEnum, exTitledEnum)},
	"MultiSelectEnumSchema":           {typ: typeOf[MultiSelectEnumSchema](), examples: vals(exUntitledMulti, exTitledMulti)},
	"StringSchema":                    {typ: typeOf[StringSchema](), examples: vals(exStringField, &StringSchema{}, &StringSchema{Format: StringFormatDateTime})},
	"NumberSchema":                    {typ: typeOf[NumberSchema](), examples: vals(exNumberField, exNumberField2)},
	"BooleanSchema":                   {typ: typeOf[BooleanSchema](), examples: vals(exBooleanField, &BooleanSchema{Default: ptrTo(true)})},
	"UntitledSingleSelectEnumSchema":  {typ: typeOf[UntitledSingleSelectEnumSchema](), examples: vals(exUntitledEnum, &UntitledSingleSelectEnumSchema{Enum: []string{}})},
	"TitledSingleSelectEnumSchema":    {typ: typeOf[TitledSingleSelectEnumSchema](), examples: vals(exTitledEnum)},
	"LegacyTitledEnumSchema":          {typ: typeOf[LegacyTitledEnumSchema](), examples: vals(exLegacyEnum, &LegacyTitledEnumSchema{Enum: []string{"a"}})},
	"UntitledMultiSelectEnumSchema":   {typ: typeOf[UntitledMultiSelectEnumSchema](), examples: vals(exUntitledMulti)},
	"TitledMultiSelectEnumSchema":     {typ: typeOf[TitledMultiSelectEnumSchema](), examples: vals(exTitledMulti)},

	// Tasks.
	"Task":                       {typ: typeOf[Task](), examples: vals(&exTask, &exTaskDone)},
	"TaskMetadata":               {typ: typeOf[TaskMetadata](), examples: vals(&TaskMetadata{}, &TaskMetadata{TTL: ptrTo[int64](3600000)})},
	"TaskAugmentedRequestParams": {typ: typeOf[TaskAugmentedRequestParams](), examples: vals(&TaskAugmentedRequestParams{}, &TaskAugmentedRequestParams{Task: &TaskMetadata{TTL: ptrTo[int64](1)}, Meta: exMeta})},
	"CreateTaskResult":           {typ: typeOf[CreateTaskResult](), examples: resultsOfType[*CreateTaskResult](exServerResults, exClientResults)},
	"GetTaskRequest":             {typ: typeOf[GetTaskRequestParams](), env: request, examples: pick(allParams(exClientRequests, exServerRequests), MethodTasksGet)},
	"GetTaskResult":              {typ: typeOf[GetTaskResult](), examples: resultsOfType[*GetTaskResult](exServerResults, exClientResults)},
	"GetTaskPayloadRequest":      {typ: typeOf[GetTaskPayloadRequestParams](), env: request, examples: pick(allParams(exClientRequests, exServerRequests), MethodTasksResult)},
	"GetTaskPayloadResult":       {typ: typeOf[GetTaskPayloadResult](), examples: resultsOfType[*GetTaskPayloadResult](exServerResults, exClientResults)},
	"CancelTaskRequest":          {typ: typeOf[CancelTaskRequestParams](), env: request, examples: pick(allParams(exClientRequests, exServerRequests), MethodTasksCancel)},
	"CancelTaskResult":           {typ: typeOf[CancelTaskResult](), examples: resultsOfType[*CancelTaskResult](exServerResults, exClientResults)},
	"ListTasksRequest":           {typ: typeOf[PaginatedRequestParams](), env: request, examples: pick(allParams(exClientRequests, exServerRequests), MethodTasksList)},
	"ListTasksResult":            {typ: typeOf[ListTasksResult](), examples: resultsOfType[*ListTasksResult](exServerResults, exClientResults)},
	"TaskStatusNotification": {typ: typeOf[TaskStatusNotificationParams](), env: notification,
		examples: pick(allParams(exClientNotifications, exServerNotifications), NotificationTasksStatus)},
	"TaskStatusNotificationParams": {typ: typeOf[TaskStatusNotificationParams](), examples: valuesOf(pick(allParams(exClientNotifications, exServerNotifications), NotificationTasksStatus))},

	// The unions of messages.
	"ClientRequest":      {typ: typeOf[ClientRequestParams](), env: request, examples: exClientRequests},
	"ServerRequest":      {typ: typeOf[ServerRequestParams](), env: request, examples: exServerRequests},
	"ClientNotification": {typ: typeOf[ClientNotificationParams](), env: notification, examples: exClientNotifications},
	"ServerNotification": {typ: typeOf[ServerNotificationParams](), env: notification, examples: exServerNotifications},
	"ClientResult":       {typ: typeOf[ClientResult](), examples: exClientResults},
	"ServerResult":       {typ: typeOf[ServerResult](), examples: exServerResults},
}

// schemaDoc is the parsed schema file.
var schemaDoc = sync.OnceValues(func() (any, error) {
	f, err := os.Open(schemaPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return jsonschema.UnmarshalJSON(f)
})

const schemaBase = "https://switchboard.test/2025-11-25/"

// schemaCompiler returns a compiler that knows schema.json and asserts
// formats, including the "byte" format (standard base64) of binary data.
var schemaCompiler = sync.OnceValues(func() (*jsonschema.Compiler, error) {
	doc, err := schemaDoc()
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
	if err := c.AddResource(schemaBase+"schema.json", doc); err != nil {
		return nil, err
	}
	return c, nil
})

var (
	compileMu sync.Mutex
	compiled  = map[string]*jsonschema.Schema{}
)

// compileDef compiles {"$ref": "schema.json#/$defs/<name>"}.
func compileDef(name string) (*jsonschema.Schema, error) {
	compileMu.Lock()
	defer compileMu.Unlock()
	if s, ok := compiled[name]; ok {
		return s, nil
	}
	c, err := schemaCompiler()
	if err != nil {
		return nil, err
	}
	url := schemaBase + "ref/" + name + ".json"
	if err := c.AddResource(url, map[string]any{"$ref": "../schema.json#/$defs/" + name}); err != nil {
		return nil, err
	}
	s, err := c.Compile(url)
	if err == nil {
		compiled[name] = s
	}
	return s, err
}

// schemaDefNames returns the names of all $defs of the schema file.
func schemaDefNames(t *testing.T) []string {
	t.Helper()
	doc, err := schemaDoc()
	if err != nil {
		t.Fatalf("reading %s: %v", schemaPath, err)
	}
	defs, ok := doc.(map[string]any)["$defs"].(map[string]any)
	if !ok {
		t.Fatalf("%s has no $defs", schemaPath)
	}
	names := make([]string, 0, len(defs))
	for n := range defs {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func validate(sch *jsonschema.Schema, instance []byte) error {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(instance))
	if err != nil {
		return fmt.Errorf("instance is not JSON: %w", err)
	}
	return sch.Validate(v)
}

var deterministic = json.Deterministic(true)

// encode returns the JSON of an example value.
func encode(c defCase, v any) ([]byte, error) {
	if c.env == rpc {
		switch v := v.(type) {
		case jsonrpc.Message:
			return jsonrpc.AppendMessage(nil, v), nil
		}
	}
	return json.Marshal(v, deterministic)
}

// wrap turns the JSON of an example into an instance of the definition.
func wrap(c defCase, ex example, raw []byte) []byte {
	method := cmpOr(ex.method, c.method)
	switch c.env {
	case request:
		return jsonrpc.AppendRequest(nil, &jsonrpc.Request{ID: jsonrpc.Int64ID(1), Method: method, Params: raw})
	case notification:
		return jsonrpc.AppendRequest(nil, &jsonrpc.Request{Method: method, Params: raw})
	case errorResponse:
		return jsonrpc.AppendErrorResponse(nil, jsonrpc.StringID("req-9"),
			&jsonrpc.Error{Code: CodeURLElicitationRequired, Message: "This request requires more information.", Data: raw})
	}
	return raw
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// decode unmarshals raw as the definition's Go type and returns the decoded
// value.
func decode(c defCase, ex example, raw []byte) (any, error) {
	switch c.typ {
	case typeOf[Content]():
		return UnmarshalContent(raw)
	case typeOf[SamplingContent]():
		return UnmarshalSamplingContent(raw)
	case typeOf[ResourceContents]():
		return UnmarshalResourceContents(raw)
	case typeOf[PrimitiveSchema](), typeOf[EnumSchema](), typeOf[SingleSelectEnumSchema](), typeOf[MultiSelectEnumSchema]():
		s, err := UnmarshalPrimitiveSchema(raw)
		if err == nil && !reflect.TypeOf(s).Implements(c.typ) {
			err = fmt.Errorf("decoded as %T, which is not a %v", s, c.typ)
		}
		return s, err
	case typeOf[jsonrpc.Request](), typeOf[jsonrpc.Response](), typeOf[jsonrpc.Message]():
		return jsonrpc.Decode(raw)
	}
	var target any
	if c.typ.Kind() == reflect.Interface {
		// A message union: the method table says what to decode into.
		method := cmpOr(ex.method, c.method)
		info, ok := LookupMethod(method)
		switch {
		case method == "":
			target = reflect.New(reflect.TypeOf(ex.v).Elem()).Interface()
		case !ok:
			return nil, fmt.Errorf("LookupMethod(%q) failed", method)
		case c.env == bare:
			target = info.NewResult()
		default:
			target = info.NewParams()
		}
		if !reflect.TypeOf(target).Implements(c.typ) {
			return nil, fmt.Errorf("the method table gives %T for %q, which is not a %v", target, method, c.typ)
		}
	} else {
		target = reflect.New(c.typ).Interface()
	}
	if err := json.Unmarshal(raw, target); err != nil {
		return nil, err
	}
	return target, nil
}

// TestSchemaDefinitions checks every definition of the schema.
func TestSchemaDefinitions(t *testing.T) {
	names := schemaDefNames(t)
	if len(names) != 145 {
		t.Errorf("the schema has %d definitions, want 145", len(names))
	}
	for _, name := range names {
		if _, ok := schemaCases[name]; !ok {
			t.Errorf("definition %s has no Go type in schemaCases", name)
		}
	}
	for name := range schemaCases {
		if !slices.Contains(names, name) {
			t.Errorf("schemaCases has %s, which is not a definition of the schema", name)
		}
	}
	for _, name := range names {
		c, ok := schemaCases[name]
		if !ok {
			continue
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sch, err := compileDef(name)
			if err != nil {
				t.Fatalf("compiling: %v", err)
			}
			if len(c.examples) == 0 {
				t.Fatal("no examples")
			}
			for i, ex := range c.examples {
				checkExample(t, fmt.Sprintf("example %d (%T)", i, ex.v), c, ex, sch)
			}
		})
	}
}

func checkExample(t *testing.T, label string, c defCase, ex example, sch *jsonschema.Schema) {
	t.Helper()
	vt := reflect.TypeOf(ex.v)
	switch {
	case c.typ.Kind() == reflect.Interface:
		if !vt.Implements(c.typ) {
			t.Errorf("%s: %v does not implement %v", label, vt, c.typ)
		}
	case vt != c.typ && vt != reflect.PointerTo(c.typ):
		t.Errorf("%s: example of type %v for Go type %v", label, vt, c.typ)
	}
	raw, err := encode(c, ex.v)
	if err != nil {
		t.Errorf("%s: marshal: %v", label, err)
		return
	}
	inst := wrap(c, ex, raw)
	if err := validate(sch, inst); err != nil {
		t.Errorf("%s: %s\ndoes not validate: %v", label, inst, err)
	}
	back, err := decode(c, ex, raw)
	if err != nil {
		t.Errorf("%s: unmarshal %s: %v", label, raw, err)
		return
	}
	raw2, err := encode(c, back)
	if err != nil {
		t.Errorf("%s: re-marshal: %v", label, err)
		return
	}
	if !bytes.Equal(raw, raw2) {
		t.Errorf("%s: round trip changed the JSON:\n got %s\nwant %s", label, raw2, raw)
	}
}

// TestSchemaRejects checks that the schema test can fail: documents that
// violate a definition do not validate.
func TestSchemaRejects(t *testing.T) {
	tests := []struct {
		def, doc string
	}{
		{"TextContent", `{"type":"text"}`},
		{"TextContent", `{"type":"image","text":"x"}`},
		{"ImageContent", `{"type":"image","data":"not base64!","mimeType":"image/png"}`},
		{"CallToolResult", `{"isError":true}`},
		{"Task", `{"taskId":"t","status":"working","createdAt":"x","lastUpdatedAt":"y"}`},
		{"ClientCapabilities", `{"elicitation":[]}`},
		{"LoggingLevel", `"verbose"`},
		{"ElicitRequestURLParams", `{"mode":"url","message":"m","url":"relative/path","elicitationId":"e"}`},
	}
	for _, tt := range tests {
		sch, err := compileDef(tt.def)
		if err != nil {
			t.Fatal(err)
		}
		if err := validate(sch, []byte(tt.doc)); err == nil {
			t.Errorf("%s validates against %s", tt.doc, tt.def)
		} else if verr := (*jsonschema.ValidationError)(nil); !errors.As(err, &verr) {
			t.Errorf("%s: unexpected error %v", tt.doc, err)
		}
	}
}

// TestSchemaMethods checks that the method constants and the method table
// cover exactly the methods of the schema, and that the table's types fit
// the marker interfaces.
func TestSchemaMethods(t *testing.T) {
	doc, err := schemaDoc()
	if err != nil {
		t.Fatal(err)
	}
	defs := doc.(map[string]any)["$defs"].(map[string]any)
	inSchema := map[string]bool{}
	for _, d := range defs {
		props, _ := d.(map[string]any)["properties"].(map[string]any)
		m, _ := props["method"].(map[string]any)
		if c, ok := m["const"].(string); ok {
			inSchema[c] = true
		}
	}
	var inTable []string
	for _, m := range Methods() {
		inTable = append(inTable, m.Name)
		if !inSchema[m.Name] {
			t.Errorf("method table has %q, which the schema does not", m.Name)
		}
		p := m.NewParams()
		r := m.NewResult()
		if m.Notification != (r == nil) {
			t.Errorf("%s: Notification=%v but NewResult()=%T", m.Name, m.Notification, r)
		}
		check := func(cond bool, v any, iface string) {
			if !cond {
				t.Errorf("%s: %T does not implement %s", m.Name, v, iface)
			}
		}
		switch {
		case m.Notification:
			if m.FromClient {
				_, ok := p.(ClientNotificationParams)
				check(ok, p, "ClientNotificationParams")
			}
			if m.FromServer {
				_, ok := p.(ServerNotificationParams)
				check(ok, p, "ServerNotificationParams")
			}
		default:
			if m.FromClient {
				_, ok := p.(ClientRequestParams)
				check(ok, p, "ClientRequestParams")
				_, ok = r.(ServerResult)
				check(ok, r, "ServerResult")
			}
			if m.FromServer {
				_, ok := p.(ServerRequestParams)
				check(ok, p, "ServerRequestParams")
				_, ok = r.(ClientResult)
				check(ok, r, "ClientResult")
			}
		}
	}
	for m := range inSchema {
		if !slices.Contains(inTable, m) {
			t.Errorf("the schema has method %q, which the method table does not", m)
		}
	}
	// Which side sends what, per the schema's unions.
	sides := map[string]func(MethodInfo) bool{
		"ClientRequest":      func(m MethodInfo) bool { return m.FromClient && !m.Notification },
		"ServerRequest":      func(m MethodInfo) bool { return m.FromServer && !m.Notification },
		"ClientNotification": func(m MethodInfo) bool { return m.FromClient && m.Notification },
		"ServerNotification": func(m MethodInfo) bool { return m.FromServer && m.Notification },
	}
	for union, sends := range sides {
		var fromSchema []string
		for _, alt := range defs[union].(map[string]any)["anyOf"].([]any) {
			ref := alt.(map[string]any)["$ref"].(string)
			d := defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
			fromSchema = append(fromSchema, d["properties"].(map[string]any)["method"].(map[string]any)["const"].(string))
		}
		var fromTable []string
		for _, m := range Methods() {
			if sends(m) {
				fromTable = append(fromTable, m.Name)
			}
		}
		slices.Sort(fromSchema)
		if !slices.Equal(fromSchema, fromTable) {
			t.Errorf("%s: schema has %v, method table %v", union, fromSchema, fromTable)
		}
	}
	// Every request and notification of the schema has an example.
	have := map[string]bool{}
	for _, l := range [][]example{exClientRequests, exServerRequests, exClientNotifications, exServerNotifications} {
		for _, e := range l {
			have[e.method] = true
		}
	}
	for m := range inSchema {
		if !have[m] {
			t.Errorf("no example of %s", m)
		}
	}
}
