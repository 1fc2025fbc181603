package protocol

import (
	"errors"
	"fmt"
	"slices"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
)

// Revision 2026-07-28 (the stateless protocol).
//
// The revision drops the initialize handshake and protocol-level sessions:
// every request carries its protocol version, client capabilities and
// (optionally) client identity in _meta, servers answer server/discover,
// change notifications flow on subscriptions/listen streams, and requests
// a server makes of the client (elicitation, sampling, roots) become
// multi round-trip requests: an [InputRequiredResult] the client answers by
// retrying the original request with inputResponses.
//
// The types of this file are the definitions the revision adds. The
// definitions it changes are the types of the 2025-11-25 files, which carry
// the new members as optional fields (ResultType, TTLMs, CacheScope,
// InputResponses, RequestState, Extensions); they are omitted when zero, so
// the same values still encode as 2025-11-25 messages.

// ModernVersions lists the revisions without the initialize handshake that
// this package implements, newest first. Do not modify it.
var ModernVersions = []string{Version20260728}

// LatestModernVersion is the newest stateless revision.
const LatestModernVersion = Version20260728

// IsModernVersion reports whether v is a stateless revision this package
// implements (one that carries its version in every request's _meta).
func IsModernVersion(v string) bool { return slices.Contains(ModernVersions, v) }

// Methods of revision 2026-07-28 and of the tasks extension
// (io.modelcontextprotocol/tasks).
const (
	// MethodServerDiscover asks a server for its supported versions,
	// capabilities and identity.
	MethodServerDiscover = "server/discover"
	// MethodSubscriptionsListen opens a long-lived stream of change
	// notifications.
	MethodSubscriptionsListen = "subscriptions/listen"
	// MethodTasksUpdate answers the input requests of a task (tasks
	// extension).
	MethodTasksUpdate = "tasks/update"

	// NotificationSubscriptionsAcknowledged is the first message of a
	// subscriptions/listen stream.
	NotificationSubscriptionsAcknowledged = "notifications/subscriptions/acknowledged"
	// NotificationTasks carries a task's full state (tasks extension).
	NotificationTasks = "notifications/tasks"
)

// Keys of _meta defined by revision 2026-07-28.
const (
	// MetaProtocolVersion, in a request's _meta, is the revision the
	// request is written in. Required.
	MetaProtocolVersion = "io.modelcontextprotocol/protocolVersion"
	// MetaClientCapabilities, in a request's _meta, holds the client's
	// ClientCapabilities. Required.
	MetaClientCapabilities = "io.modelcontextprotocol/clientCapabilities"
	// MetaClientInfo, in a request's _meta, holds the client's
	// Implementation. Recommended.
	MetaClientInfo = "io.modelcontextprotocol/clientInfo"
	// MetaLogLevel, in a request's _meta, is the minimum level of the
	// notifications/message the server may send about the request; without
	// it the server sends none.
	MetaLogLevel = "io.modelcontextprotocol/logLevel"
	// MetaServerInfo, in a result's _meta, holds the server's
	// Implementation.
	MetaServerInfo = "io.modelcontextprotocol/serverInfo"
	// MetaSubscriptionID, in the _meta of a message on a
	// subscriptions/listen stream, is the JSON-RPC id of the
	// subscriptions/listen request.
	MetaSubscriptionID = "io.modelcontextprotocol/subscriptionId"

	// MetaTraceparent, MetaTracestate and MetaBaggage carry OpenTelemetry
	// trace context (W3C Trace Context and W3C Baggage formats). They are
	// the only reserved keys without a prefix.
	MetaTraceparent = "traceparent"
	MetaTracestate  = "tracestate"
	MetaBaggage     = "baggage"
)

// ExtensionTasks is the identifier of the official tasks extension, the key
// of its entry in ClientCapabilities.Extensions and
// ServerCapabilities.Extensions.
const ExtensionTasks = "io.modelcontextprotocol/tasks"

// Error codes of revision 2026-07-28, from the sub-range -32020 to -32099
// the specification reserves for itself.
const (
	// CodeHeaderMismatch reports HTTP headers that do not match the body
	// (Streamable HTTP), or required headers that are missing or malformed.
	CodeHeaderMismatch = -32020
	// CodeMissingRequiredClientCapability reports a request that needs a
	// capability the client did not declare; the data is a
	// MissingRequiredClientCapabilityData.
	CodeMissingRequiredClientCapability = -32021
	// CodeUnsupportedProtocolVersion reports a request in a revision the
	// server does not serve; the data is an UnsupportedProtocolVersionData.
	CodeUnsupportedProtocolVersion = -32022
)

// ResultType discriminates the results of revision 2026-07-28.
type ResultType string

// Result types. Absent means complete (results of earlier revisions).
const (
	// ResultTypeComplete marks an ordinary, final result.
	ResultTypeComplete ResultType = "complete"
	// ResultTypeInputRequired marks an InputRequiredResult.
	ResultTypeInputRequired ResultType = "input_required"
	// ResultTypeTask marks the task handle of the tasks extension.
	ResultTypeTask ResultType = "task"
)

// CacheScope says who may cache a cacheable result.
type CacheScope string

// Cache scopes.
const (
	// CacheScopePublic lets shared intermediaries cache the result.
	CacheScopePublic CacheScope = "public"
	// CacheScopePrivate restricts caching to the client that asked.
	CacheScopePrivate CacheScope = "private"
)

// CacheableResult holds the members every cacheable result has (the
// results of tools/list, prompts/list, resources/list,
// resources/templates/list, resources/read and server/discover).
type CacheableResult struct {
	// ResultType is "complete".
	ResultType ResultType `json:"resultType"`
	// TTLMs is how long, in milliseconds, the result may be considered
	// fresh; 0 means it should not be reused.
	TTLMs int64 `json:"ttlMs"`
	// CacheScope says whether shared intermediaries may cache it.
	CacheScope CacheScope `json:"cacheScope"`
	// Meta is the result's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}

// RequestMeta is the typed form of the _meta of a 2026-07-28 request (the
// schema's RequestMetaObject). Other keys of the object are ignored when
// decoding into it.
type RequestMeta struct {
	// ProtocolVersion is the revision of the request. Required.
	ProtocolVersion string `json:"io.modelcontextprotocol/protocolVersion,omitzero"`
	// ClientCapabilities are the client's capabilities. Required.
	ClientCapabilities *ClientCapabilities `json:"io.modelcontextprotocol/clientCapabilities,omitzero"`
	// ClientInfo identifies the client.
	ClientInfo *Implementation `json:"io.modelcontextprotocol/clientInfo,omitzero"`
	// LogLevel is the minimum level of log messages wanted.
	LogLevel LoggingLevel `json:"io.modelcontextprotocol/logLevel,omitzero"`
	// ProgressToken asks for progress notifications.
	ProgressToken *ProgressToken `json:"progressToken,omitzero"`
}

// ResultMeta is the typed form of the _meta of a 2026-07-28 result (the
// schema's ResultMetaObject).
type ResultMeta struct {
	// ServerInfo identifies the server.
	ServerInfo *Implementation `json:"io.modelcontextprotocol/serverInfo,omitzero"`
}

// NotificationMeta is the typed form of the _meta of a 2026-07-28
// notification (the schema's NotificationMetaObject).
type NotificationMeta struct {
	// SubscriptionID is the id of the subscriptions/listen request the
	// notification belongs to.
	SubscriptionID *jsonrpc.ID `json:"io.modelcontextprotocol/subscriptionId,omitzero"`
}

// ProtocolVersion returns the MetaProtocolVersion of a request's _meta.
func (m Meta) ProtocolVersion() (string, bool) {
	v, ok := m[MetaProtocolVersion].(string)
	return v, ok
}

// LogLevel returns the MetaLogLevel of a request's _meta.
func (m Meta) LogLevel() (LoggingLevel, bool) {
	switch v := m[MetaLogLevel].(type) {
	case string:
		return LoggingLevel(v), LoggingLevel(v).Valid()
	case LoggingLevel:
		return v, v.Valid()
	}
	return "", false
}

// SubscriptionID returns the MetaSubscriptionID of a notification's or
// result's _meta.
func (m Meta) SubscriptionID() (jsonrpc.ID, bool) {
	v, ok := m[MetaSubscriptionID]
	if !ok {
		return jsonrpc.ID{}, false
	}
	return idFromAny(v)
}

// ServerInfo returns the MetaServerInfo of a result's _meta.
func (m Meta) ServerInfo() (Implementation, bool) {
	var impl Implementation
	if !decodeMetaValue(m[MetaServerInfo], &impl) || impl.Name == "" {
		return Implementation{}, false
	}
	return impl, true
}

// ClientInfo returns the MetaClientInfo of a request's _meta.
func (m Meta) ClientInfo() (Implementation, bool) {
	var impl Implementation
	if !decodeMetaValue(m[MetaClientInfo], &impl) || impl.Name == "" {
		return Implementation{}, false
	}
	return impl, true
}

// ClientCapabilities returns the MetaClientCapabilities of a request's
// _meta.
func (m Meta) ClientCapabilities() (*ClientCapabilities, bool) {
	var c ClientCapabilities
	if !decodeMetaValue(m[MetaClientCapabilities], &c) {
		return nil, false
	}
	return &c, true
}

// TraceContext returns the OpenTelemetry keys of _meta (traceparent,
// tracestate, baggage) that are present, as strings.
func (m Meta) TraceContext() map[string]string {
	var out map[string]string
	for _, k := range []string{MetaTraceparent, MetaTracestate, MetaBaggage} {
		if s, ok := m[k].(string); ok {
			if out == nil {
				out = make(map[string]string, 3)
			}
			out[k] = s
		}
	}
	return out
}

// decodeMetaValue converts a _meta value (a decoded map or a Go value put
// there) to T by way of JSON.
func decodeMetaValue[T any](v any, out *T) bool {
	if v == nil {
		return false
	}
	if t, ok := v.(T); ok {
		*out = t
		return true
	}
	if t, ok := v.(*T); ok && t != nil {
		*out = *t
		return true
	}
	b, err := json.Marshal(v)
	if err != nil {
		return false
	}
	if b[0] != '{' {
		return false
	}
	return json.Unmarshal(b, out) == nil
}

// DiscoverResult is the result of server/discover.
type DiscoverResult struct {
	// ResultType is "complete".
	ResultType ResultType `json:"resultType"`
	// SupportedVersions lists the revisions the server serves.
	SupportedVersions []string `json:"supportedVersions"`
	// Capabilities are the server's capabilities.
	Capabilities ServerCapabilities `json:"capabilities"`
	// Instructions tell the client how to use the server.
	Instructions string `json:"instructions,omitzero"`
	// TTLMs is how long the result may be cached, in milliseconds.
	TTLMs int64 `json:"ttlMs"`
	// CacheScope says who may cache it.
	CacheScope CacheScope `json:"cacheScope"`
	// Meta is the result's _meta object; it carries MetaServerInfo.
	Meta Meta `json:"_meta,omitzero"`
}

// ServerInfo returns the server's identity from the result's _meta.
func (r *DiscoverResult) ServerInfo() (Implementation, bool) { return r.Meta.ServerInfo() }

// InputRequest is a request a server makes of the client inside an
// InputRequiredResult (the schema's InputRequest: an ElicitRequest,
// CreateMessageRequest or ListRootsRequest without the JSON-RPC envelope).
type InputRequest struct {
	// Method is elicitation/create, sampling/createMessage or roots/list.
	Method string `json:"method"`
	// Params are the request's params.
	Params jsontext.Value `json:"params,omitzero"`
}

// NewInputRequest returns an input request for method with params encoded
// as JSON.
func NewInputRequest(method string, params any) (InputRequest, error) {
	if params == nil {
		return InputRequest{Method: method}, nil
	}
	b, err := json.Marshal(params)
	if err != nil {
		return InputRequest{}, fmt.Errorf("protocol: encoding the params of %s: %w", method, err)
	}
	return InputRequest{Method: method, Params: b}, nil
}

// IsInputRequestMethod reports whether method may appear in an
// InputRequest.
func IsInputRequestMethod(method string) bool {
	return method == MethodElicitationCreate || method == MethodSamplingCreateMessage || method == MethodRootsList
}

// InputRequests maps server-chosen keys to input requests.
type InputRequests map[string]InputRequest

// InputResponses maps the keys of InputRequests to the client's results
// (an ElicitResult, CreateMessageResult or ListRootsResult, kept raw).
type InputResponses map[string]jsontext.Value

// InputRequiredResult is the interim result of a multi round-trip request:
// the client fulfils InputRequests and retries the original request with
// InputResponses and RequestState.
type InputRequiredResult struct {
	// ResultType is "input_required".
	ResultType ResultType `json:"resultType"`
	// InputRequests are the requests the client must fulfil.
	InputRequests InputRequests `json:"inputRequests,omitzero"`
	// RequestState is opaque server state the client echoes back.
	RequestState string `json:"requestState,omitzero"`
	// Meta is the result's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}

// InputResponseRequestParams are the members a retried request adds to its
// params (the schema's InputResponseRequestParams).
type InputResponseRequestParams struct {
	// InputResponses answer the input requests of the previous round.
	InputResponses InputResponses `json:"inputResponses,omitzero"`
	// RequestState echoes the previous round's requestState.
	RequestState string `json:"requestState,omitzero"`
	// Meta is the request's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}

// SubscriptionFilter selects the notifications of a subscriptions/listen
// stream.
type SubscriptionFilter struct {
	// ToolsListChanged asks for notifications/tools/list_changed.
	ToolsListChanged bool `json:"toolsListChanged,omitzero"`
	// PromptsListChanged asks for notifications/prompts/list_changed.
	PromptsListChanged bool `json:"promptsListChanged,omitzero"`
	// ResourcesListChanged asks for notifications/resources/list_changed.
	ResourcesListChanged bool `json:"resourcesListChanged,omitzero"`
	// ResourceSubscriptions asks for notifications/resources/updated about
	// these URIs.
	ResourceSubscriptions []string `json:"resourceSubscriptions,omitzero"`
	// TaskIDs asks for notifications/tasks about these tasks (tasks
	// extension).
	TaskIDs []string `json:"taskIds,omitzero"`
}

// IsEmpty reports whether the filter selects nothing.
func (f *SubscriptionFilter) IsEmpty() bool {
	return !f.ToolsListChanged && !f.PromptsListChanged && !f.ResourcesListChanged &&
		len(f.ResourceSubscriptions) == 0 && len(f.TaskIDs) == 0
}

// SubscriptionsListenRequestParams are the params of subscriptions/listen.
type SubscriptionsListenRequestParams struct {
	// Notifications selects the notifications wanted.
	Notifications SubscriptionFilter `json:"notifications"`
	// Meta is the request's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}

// SubscriptionsAcknowledgedNotificationParams are the params of
// notifications/subscriptions/acknowledged.
type SubscriptionsAcknowledgedNotificationParams struct {
	// Notifications is the part of the filter the server honours.
	Notifications SubscriptionFilter `json:"notifications"`
	// Meta carries MetaSubscriptionID.
	Meta Meta `json:"_meta,omitzero"`
}

// SubscriptionsListenResult ends a subscription gracefully.
type SubscriptionsListenResult struct {
	// ResultType is "complete".
	ResultType ResultType `json:"resultType"`
	// Meta carries MetaSubscriptionID (required) and MetaServerInfo.
	Meta Meta `json:"_meta"`
}

// UnsupportedProtocolVersionData is the data of a
// CodeUnsupportedProtocolVersion error.
type UnsupportedProtocolVersionData struct {
	// Supported lists the revisions the server serves.
	Supported []string `json:"supported"`
	// Requested is the revision the request named.
	Requested string `json:"requested"`
}

// NewUnsupportedProtocolVersionError returns the error for a request in
// revision requested, listing the supported revisions.
func NewUnsupportedProtocolVersionError(requested string, supported []string) *jsonrpc.Error {
	d := UnsupportedProtocolVersionData{Supported: supported, Requested: requested}
	if d.Supported == nil {
		d.Supported = []string{}
	}
	data, _ := json.Marshal(d)
	return &jsonrpc.Error{Code: CodeUnsupportedProtocolVersion, Message: "Unsupported protocol version", Data: data}
}

// UnsupportedProtocolVersion returns the data of a
// CodeUnsupportedProtocolVersion error, and false for another error.
func UnsupportedProtocolVersion(e *jsonrpc.Error) (*UnsupportedProtocolVersionData, bool) {
	if e == nil || e.Code != CodeUnsupportedProtocolVersion {
		return nil, false
	}
	var d UnsupportedProtocolVersionData
	if err := json.Unmarshal(e.Data, &d); err != nil {
		return nil, false
	}
	return &d, true
}

// MissingRequiredClientCapabilityData is the data of a
// CodeMissingRequiredClientCapability error.
type MissingRequiredClientCapabilityData struct {
	// RequiredCapabilities names the missing capabilities, as a
	// ClientCapabilities object (e.g. {"sampling": {}}).
	RequiredCapabilities ClientCapabilities `json:"requiredCapabilities"`
}

// NewMissingRequiredClientCapabilityError returns the error for a request
// that needs the capabilities in required.
func NewMissingRequiredClientCapabilityError(message string, required ClientCapabilities) *jsonrpc.Error {
	if message == "" {
		message = "Missing required client capability"
	}
	data, _ := json.Marshal(MissingRequiredClientCapabilityData{RequiredCapabilities: required})
	return &jsonrpc.Error{Code: CodeMissingRequiredClientCapability, Message: message, Data: data}
}

// MissingRequiredClientCapability returns the data of a
// CodeMissingRequiredClientCapability error, and false for another error.
func MissingRequiredClientCapability(e *jsonrpc.Error) (*MissingRequiredClientCapabilityData, bool) {
	if e == nil || e.Code != CodeMissingRequiredClientCapability {
		return nil, false
	}
	var d MissingRequiredClientCapabilityData
	if err := json.Unmarshal(e.Data, &d); err != nil {
		return nil, false
	}
	return &d, true
}

// NewHeaderMismatchError returns the error for HTTP headers that do not
// match the request body.
func NewHeaderMismatchError(format string, args ...any) *jsonrpc.Error {
	return &jsonrpc.Error{Code: CodeHeaderMismatch, Message: "Header mismatch: " + fmt.Sprintf(format, args...)}
}

// IsModernError reports whether e has a code that only servers of
// revision 2026-07-28 and later send; a client probing a server's era
// treats such an error as proof of a modern server.
func IsModernError(e *jsonrpc.Error) bool {
	if e == nil {
		return false
	}
	switch e.Code {
	case CodeHeaderMismatch, CodeMissingRequiredClientCapability, CodeUnsupportedProtocolVersion:
		return true
	}
	return false
}

// TaskState is the state of a task of the tasks extension: the schema's
// DetailedTask, which is also the body of its CreateTaskResult (with
// ResultType "task"), of the result of tasks/get (ResultType "complete")
// and of notifications/tasks (no ResultType).
type TaskState struct {
	// ResultType is "task" for a CreateTaskResult, "complete" for the
	// result of tasks/get, empty in a notification.
	ResultType ResultType `json:"resultType,omitzero"`
	// TaskID identifies the task.
	TaskID string `json:"taskId"`
	// Status is the task's state.
	Status TaskStatus `json:"status"`
	// StatusMessage optionally describes the state.
	StatusMessage string `json:"statusMessage,omitzero"`
	// CreatedAt is when the task was created, an ISO 8601 timestamp.
	CreatedAt string `json:"createdAt"`
	// LastUpdatedAt is when the task last changed, an ISO 8601 timestamp.
	LastUpdatedAt string `json:"lastUpdatedAt"`
	// TTLMs is the task's lifetime in milliseconds from creation; nil
	// (sent as null) means without limit.
	TTLMs *int64 `json:"ttlMs"`
	// PollIntervalMs is the suggested time between polls in milliseconds.
	PollIntervalMs int64 `json:"pollIntervalMs,omitzero"`
	// InputRequests are the outstanding requests of an input_required
	// task.
	InputRequests InputRequests `json:"inputRequests,omitzero"`
	// Result is the result of a completed task: what the original request
	// would have returned.
	Result jsontext.Value `json:"result,omitzero"`
	// Error is the JSON-RPC error of a failed task.
	Error *jsonrpc.Error `json:"error,omitzero"`
	// Meta is the object's _meta.
	Meta Meta `json:"_meta,omitzero"`
}

// UpdateTaskRequestParams are the params of tasks/update.
type UpdateTaskRequestParams struct {
	// TaskID identifies the task.
	TaskID string `json:"taskId"`
	// InputResponses answer outstanding input requests of the task.
	InputResponses InputResponses `json:"inputResponses"`
	// Meta is the request's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}

// ModernMethodInfo describes a method of revision 2026-07-28 (including
// the tasks extension).
type ModernMethodInfo struct {
	// Name is the method name.
	Name string
	// Notification reports whether the method is a notification.
	Notification bool
	// FromClient and FromServer report which sides send it.
	FromClient, FromServer bool
	// InputRequired reports whether the server may answer the request
	// with an InputRequiredResult (tools/call, prompts/get,
	// resources/read).
	InputRequired bool
	// Cacheable reports whether the result carries ttlMs and cacheScope.
	Cacheable bool
	// Extension names the extension that defines the method, if any.
	Extension string
}

var modernMethods = func() map[string]ModernMethodInfo {
	list := []ModernMethodInfo{
		{Name: MethodServerDiscover, FromClient: true, Cacheable: true},
		{Name: MethodToolsList, FromClient: true, Cacheable: true},
		{Name: MethodToolsCall, FromClient: true, InputRequired: true},
		{Name: MethodResourcesList, FromClient: true, Cacheable: true},
		{Name: MethodResourcesTemplatesList, FromClient: true, Cacheable: true},
		{Name: MethodResourcesRead, FromClient: true, InputRequired: true, Cacheable: true},
		{Name: MethodSubscriptionsListen, FromClient: true},
		{Name: MethodPromptsList, FromClient: true, Cacheable: true},
		{Name: MethodPromptsGet, FromClient: true, InputRequired: true},
		{Name: MethodCompletionComplete, FromClient: true},
		{Name: NotificationCancelled, Notification: true, FromClient: true, FromServer: true},
		{Name: NotificationProgress, Notification: true, FromServer: true},
		{Name: NotificationMessage, Notification: true, FromServer: true},
		{Name: NotificationResourcesListChanged, Notification: true, FromServer: true},
		{Name: NotificationResourcesUpdated, Notification: true, FromServer: true},
		{Name: NotificationPromptsListChanged, Notification: true, FromServer: true},
		{Name: NotificationToolsListChanged, Notification: true, FromServer: true},
		{Name: NotificationSubscriptionsAcknowledged, Notification: true, FromServer: true},
		{Name: MethodTasksGet, FromClient: true, Extension: ExtensionTasks},
		{Name: MethodTasksUpdate, FromClient: true, Extension: ExtensionTasks},
		{Name: MethodTasksCancel, FromClient: true, Extension: ExtensionTasks},
		{Name: NotificationTasks, Notification: true, FromServer: true, Extension: ExtensionTasks},
	}
	m := make(map[string]ModernMethodInfo, len(list))
	for _, mi := range list {
		m[mi.Name] = mi
	}
	return m
}()

// LookupModernMethod returns the description of a method of revision
// 2026-07-28 or of the tasks extension, and false for any other name
// (including the methods the revision removed: initialize, ping,
// logging/setLevel, resources/subscribe, resources/unsubscribe,
// notifications/initialized, notifications/roots/list_changed,
// notifications/elicitation/complete, and the core tasks methods
// tasks/result and tasks/list).
func LookupModernMethod(name string) (ModernMethodInfo, bool) {
	m, ok := modernMethods[name]
	return m, ok
}

// ModernMethods returns the descriptions of every method of revision
// 2026-07-28 and the tasks extension, sorted by name.
func ModernMethods() []ModernMethodInfo {
	out := make([]ModernMethodInfo, 0, len(modernMethods))
	for _, m := range modernMethods {
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b ModernMethodInfo) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return out
}

// ErrNotModern is returned by ParseRequestMeta for params that carry no
// 2026-07-28 protocol version.
var ErrNotModern = errors.New("protocol: the request carries no io.modelcontextprotocol/protocolVersion")

// ParseRequestMeta decodes the per-request fields of a request's raw params.
// It returns ErrNotModern when the params have no _meta protocol version,
// and a decoding error for a malformed _meta.
func ParseRequestMeta(params jsontext.Value) (*RequestMeta, error) {
	var p struct {
		Meta *RequestMeta `json:"_meta"`
	}
	if len(params) == 0 {
		return nil, ErrNotModern
	}
	if err := json.Unmarshal(params, &p); err != nil {
		return nil, err
	}
	if p.Meta == nil || p.Meta.ProtocolVersion == "" {
		return p.Meta, ErrNotModern
	}
	return p.Meta, nil
}
