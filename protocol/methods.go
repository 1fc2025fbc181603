package protocol

import (
	"slices"
	"strings"
)

// Methods of requests.
const (
	MethodInitialize             = "initialize"
	MethodPing                   = "ping"
	MethodToolsList              = "tools/list"
	MethodToolsCall              = "tools/call"
	MethodResourcesList          = "resources/list"
	MethodResourcesTemplatesList = "resources/templates/list"
	MethodResourcesRead          = "resources/read"
	MethodResourcesSubscribe     = "resources/subscribe"
	MethodResourcesUnsubscribe   = "resources/unsubscribe"
	MethodPromptsList            = "prompts/list"
	MethodPromptsGet             = "prompts/get"
	MethodCompletionComplete     = "completion/complete"
	MethodLoggingSetLevel        = "logging/setLevel"
	MethodTasksGet               = "tasks/get"
	MethodTasksResult            = "tasks/result"
	MethodTasksCancel            = "tasks/cancel"
	MethodTasksList              = "tasks/list"
	MethodSamplingCreateMessage  = "sampling/createMessage"
	MethodRootsList              = "roots/list"
	MethodElicitationCreate      = "elicitation/create"
)

// Methods of notifications.
const (
	NotificationInitialized          = "notifications/initialized"
	NotificationCancelled            = "notifications/cancelled"
	NotificationProgress             = "notifications/progress"
	NotificationMessage              = "notifications/message"
	NotificationResourcesListChanged = "notifications/resources/list_changed"
	NotificationResourcesUpdated     = "notifications/resources/updated"
	NotificationPromptsListChanged   = "notifications/prompts/list_changed"
	NotificationToolsListChanged     = "notifications/tools/list_changed"
	NotificationRootsListChanged     = "notifications/roots/list_changed"
	NotificationTasksStatus          = "notifications/tasks/status"
	NotificationElicitationComplete  = "notifications/elicitation/complete"
)

// ClientRequestParams are the params of a request a client sends (the
// schema's ClientRequest, less the JSON-RPC envelope). The same type may
// serve several methods: *PaginatedRequestParams is the params of every
// list request.
type ClientRequestParams interface{ isClientRequestParams() }

// ServerRequestParams are the params of a request a server sends (the
// schema's ServerRequest, less the JSON-RPC envelope).
type ServerRequestParams interface{ isServerRequestParams() }

// ClientNotificationParams are the params of a notification a client sends
// (the schema's ClientNotification, less the JSON-RPC envelope).
type ClientNotificationParams interface{ isClientNotificationParams() }

// ServerNotificationParams are the params of a notification a server sends
// (the schema's ServerNotification, less the JSON-RPC envelope).
type ServerNotificationParams interface{ isServerNotificationParams() }

// ClientResult is a result a client sends, in answer to a server's request
// (the schema's ClientResult, plus CreateTaskResult for task-augmented
// requests).
type ClientResult interface{ isClientResult() }

// ServerResult is a result a server sends, in answer to a client's request
// (the schema's ServerResult, plus CreateTaskResult for task-augmented
// requests).
type ServerResult interface{ isServerResult() }

func (*InitializeRequestParams) isClientRequestParams()     {}
func (*RequestParams) isClientRequestParams()               {}
func (*PaginatedRequestParams) isClientRequestParams()      {}
func (*ReadResourceRequestParams) isClientRequestParams()   {}
func (*SubscribeRequestParams) isClientRequestParams()      {}
func (*UnsubscribeRequestParams) isClientRequestParams()    {}
func (*GetPromptRequestParams) isClientRequestParams()      {}
func (*CallToolRequestParams) isClientRequestParams()       {}
func (*GetTaskRequestParams) isClientRequestParams()        {}
func (*GetTaskPayloadRequestParams) isClientRequestParams() {}
func (*CancelTaskRequestParams) isClientRequestParams()     {}
func (*SetLevelRequestParams) isClientRequestParams()       {}
func (*CompleteRequestParams) isClientRequestParams()       {}

func (*RequestParams) isServerRequestParams()               {}
func (*PaginatedRequestParams) isServerRequestParams()      {}
func (*GetTaskRequestParams) isServerRequestParams()        {}
func (*GetTaskPayloadRequestParams) isServerRequestParams() {}
func (*CancelTaskRequestParams) isServerRequestParams()     {}
func (*CreateMessageRequestParams) isServerRequestParams()  {}
func (*ListRootsRequestParams) isServerRequestParams()      {}
func (*ElicitRequestParams) isServerRequestParams()         {}

func (*NotificationParams) isClientNotificationParams()           {}
func (*CancelledNotificationParams) isClientNotificationParams()  {}
func (*ProgressNotificationParams) isClientNotificationParams()   {}
func (*TaskStatusNotificationParams) isClientNotificationParams() {}

func (*NotificationParams) isServerNotificationParams()                    {}
func (*CancelledNotificationParams) isServerNotificationParams()           {}
func (*ProgressNotificationParams) isServerNotificationParams()            {}
func (*ResourceUpdatedNotificationParams) isServerNotificationParams()     {}
func (*TaskStatusNotificationParams) isServerNotificationParams()          {}
func (*LoggingMessageNotificationParams) isServerNotificationParams()      {}
func (*ElicitationCompleteNotificationParams) isServerNotificationParams() {}

func (*Result) isClientResult()               {}
func (*EmptyResult) isClientResult()          {}
func (*CreateTaskResult) isClientResult()     {}
func (*GetTaskResult) isClientResult()        {}
func (*GetTaskPayloadResult) isClientResult() {}
func (*CancelTaskResult) isClientResult()     {}
func (*ListTasksResult) isClientResult()      {}
func (*CreateMessageResult) isClientResult()  {}
func (*ListRootsResult) isClientResult()      {}
func (*ElicitResult) isClientResult()         {}

func (*Result) isServerResult()                      {}
func (*EmptyResult) isServerResult()                 {}
func (*CreateTaskResult) isServerResult()            {}
func (*InitializeResult) isServerResult()            {}
func (*ListResourcesResult) isServerResult()         {}
func (*ListResourceTemplatesResult) isServerResult() {}
func (*ReadResourceResult) isServerResult()          {}
func (*ListPromptsResult) isServerResult()           {}
func (*GetPromptResult) isServerResult()             {}
func (*ListToolsResult) isServerResult()             {}
func (*CallToolResult) isServerResult()              {}
func (*GetTaskResult) isServerResult()               {}
func (*GetTaskPayloadResult) isServerResult()        {}
func (*CancelTaskResult) isServerResult()            {}
func (*ListTasksResult) isServerResult()             {}
func (*CompleteResult) isServerResult()              {}

// MethodInfo describes an MCP method.
type MethodInfo struct {
	// Name is the method name, such as "tools/call".
	Name string
	// Notification reports whether the method is a notification, which
	// gets no response.
	Notification bool
	// FromClient and FromServer report which sides may send it.
	FromClient, FromServer bool
	// Since is the first revision that has the method.
	Since string
	// TaskAugmentable reports whether the request may carry a task
	// member, turning its result into a CreateTaskResult.
	TaskAugmentable bool

	newParams func() any
	newResult func() any
}

// NewParams returns a pointer to a new zero value of the method's params
// type, ready to unmarshal the params into. For requests from clients it
// implements ClientRequestParams, for requests from servers
// ServerRequestParams, and likewise for notifications.
func (m MethodInfo) NewParams() any { return m.newParams() }

// NewResult returns a pointer to a new zero value of the method's result
// type (a ServerResult for requests from clients, a ClientResult for
// requests from servers), or nil for a notification. A task-augmented
// request is answered with a CreateTaskResult instead.
func (m MethodInfo) NewResult() any {
	if m.newResult == nil {
		return nil
	}
	return m.newResult()
}

// AvailableIn reports whether the method exists in revision v, one of
// SupportedVersions. It is false for revisions this package does not serve.
func (m MethodInfo) AvailableIn(v string) bool {
	if !IsSupportedVersion(v) || v < m.Since {
		return false
	}
	// Tasks are in the core protocol of 2025-11-25 only.
	if strings.HasPrefix(m.Name, "tasks/") || m.Name == NotificationTasksStatus {
		return AllowsTasks(v)
	}
	return true
}

func newFunc[T any]() func() any { return func() any { return new(T) } }

const (
	fromClient = 1 << iota
	fromServer
	isNotification
	taskAugmentable
)

func method(name, since string, flags int, p, r func() any) MethodInfo {
	return MethodInfo{
		Name:            name,
		Notification:    flags&isNotification != 0,
		FromClient:      flags&fromClient != 0,
		FromServer:      flags&fromServer != 0,
		Since:           since,
		TaskAugmentable: flags&taskAugmentable != 0,
		newParams:       p,
		newResult:       r,
	}
}

var methodTable = func() map[string]MethodInfo {
	const both = fromClient | fromServer
	list := []MethodInfo{
		method(MethodInitialize, Version20241105, fromClient, newFunc[InitializeRequestParams](), newFunc[InitializeResult]()),
		method(MethodPing, Version20241105, both, newFunc[RequestParams](), newFunc[EmptyResult]()),
		method(MethodToolsList, Version20241105, fromClient, newFunc[PaginatedRequestParams](), newFunc[ListToolsResult]()),
		method(MethodToolsCall, Version20241105, fromClient|taskAugmentable, newFunc[CallToolRequestParams](), newFunc[CallToolResult]()),
		method(MethodResourcesList, Version20241105, fromClient, newFunc[PaginatedRequestParams](), newFunc[ListResourcesResult]()),
		method(MethodResourcesTemplatesList, Version20241105, fromClient, newFunc[PaginatedRequestParams](), newFunc[ListResourceTemplatesResult]()),
		method(MethodResourcesRead, Version20241105, fromClient, newFunc[ReadResourceRequestParams](), newFunc[ReadResourceResult]()),
		method(MethodResourcesSubscribe, Version20241105, fromClient, newFunc[SubscribeRequestParams](), newFunc[EmptyResult]()),
		method(MethodResourcesUnsubscribe, Version20241105, fromClient, newFunc[UnsubscribeRequestParams](), newFunc[EmptyResult]()),
		method(MethodPromptsList, Version20241105, fromClient, newFunc[PaginatedRequestParams](), newFunc[ListPromptsResult]()),
		method(MethodPromptsGet, Version20241105, fromClient, newFunc[GetPromptRequestParams](), newFunc[GetPromptResult]()),
		method(MethodCompletionComplete, Version20241105, fromClient, newFunc[CompleteRequestParams](), newFunc[CompleteResult]()),
		method(MethodLoggingSetLevel, Version20241105, fromClient, newFunc[SetLevelRequestParams](), newFunc[EmptyResult]()),
		method(MethodTasksGet, Version20251125, both, newFunc[GetTaskRequestParams](), newFunc[GetTaskResult]()),
		method(MethodTasksResult, Version20251125, both, newFunc[GetTaskPayloadRequestParams](), newFunc[GetTaskPayloadResult]()),
		method(MethodTasksCancel, Version20251125, both, newFunc[CancelTaskRequestParams](), newFunc[CancelTaskResult]()),
		method(MethodTasksList, Version20251125, both, newFunc[PaginatedRequestParams](), newFunc[ListTasksResult]()),
		method(MethodSamplingCreateMessage, Version20241105, fromServer|taskAugmentable, newFunc[CreateMessageRequestParams](), newFunc[CreateMessageResult]()),
		method(MethodRootsList, Version20241105, fromServer, newFunc[ListRootsRequestParams](), newFunc[ListRootsResult]()),
		method(MethodElicitationCreate, Version20250618, fromServer|taskAugmentable, newFunc[ElicitRequestParams](), newFunc[ElicitResult]()),

		method(NotificationInitialized, Version20241105, fromClient|isNotification, newFunc[NotificationParams](), nil),
		method(NotificationCancelled, Version20241105, both|isNotification, newFunc[CancelledNotificationParams](), nil),
		method(NotificationProgress, Version20241105, both|isNotification, newFunc[ProgressNotificationParams](), nil),
		method(NotificationMessage, Version20241105, fromServer|isNotification, newFunc[LoggingMessageNotificationParams](), nil),
		method(NotificationResourcesListChanged, Version20241105, fromServer|isNotification, newFunc[NotificationParams](), nil),
		method(NotificationResourcesUpdated, Version20241105, fromServer|isNotification, newFunc[ResourceUpdatedNotificationParams](), nil),
		method(NotificationPromptsListChanged, Version20241105, fromServer|isNotification, newFunc[NotificationParams](), nil),
		method(NotificationToolsListChanged, Version20241105, fromServer|isNotification, newFunc[NotificationParams](), nil),
		method(NotificationRootsListChanged, Version20241105, fromClient|isNotification, newFunc[NotificationParams](), nil),
		method(NotificationTasksStatus, Version20251125, both|isNotification, newFunc[TaskStatusNotificationParams](), nil),
		method(NotificationElicitationComplete, Version20251125, fromServer|isNotification, newFunc[ElicitationCompleteNotificationParams](), nil),
	}
	m := make(map[string]MethodInfo, len(list))
	for _, mi := range list {
		m[mi.Name] = mi
	}
	return m
}()

// LookupMethod returns the description of a method of the 2025-11-25
// revision, and false for any other name.
func LookupMethod(name string) (MethodInfo, bool) {
	m, ok := methodTable[name]
	return m, ok
}

// Methods returns the descriptions of all methods, sorted by name.
func Methods() []MethodInfo {
	list := make([]MethodInfo, 0, len(methodTable))
	for _, m := range methodTable {
		list = append(list, m)
	}
	slices.SortFunc(list, func(a, b MethodInfo) int { return strings.Compare(a.Name, b.Name) })
	return list
}
