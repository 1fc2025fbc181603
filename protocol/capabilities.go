package protocol

import "github.com/go-json-experiment/json/jsontext"

// Capabilities are objects whose presence matters: "logging": {} declares
// logging support. They are held in pointer fields, nil meaning absent.

// EmptyCapability is a capability without settings of its own, sent as {}.
type EmptyCapability struct{}

// LoggingCapability declares that a server sends log messages and accepts
// logging/setLevel.
type LoggingCapability struct{}

// CompletionsCapability declares that a server answers completion/complete.
type CompletionsCapability struct{}

// ClientCapabilities are the capabilities a client declares in initialize.
type ClientCapabilities struct {
	// Experimental holds non-standard capabilities, by name; each value
	// is a JSON object.
	Experimental map[string]jsontext.Value `json:"experimental,omitzero"`
	// Roots declares that the client answers roots/list.
	Roots *RootsCapability `json:"roots,omitzero"`
	// Sampling declares that the client answers sampling/createMessage.
	Sampling *SamplingCapability `json:"sampling,omitzero"`
	// Elicitation declares that the client answers elicitation/create.
	Elicitation *ElicitationCapability `json:"elicitation,omitzero"`
	// Tasks declares that the client can run requests as tasks.
	Tasks *ClientTasksCapability `json:"tasks,omitzero"`
	// Extensions declares the optional extensions the client supports
	// (2026-07-28), by identifier (such as ExtensionTasks); each value is
	// a JSON object of extension settings, {} for none.
	Extensions map[string]jsontext.Value `json:"extensions,omitzero"`
}

// RootsCapability is the roots capability of a client.
type RootsCapability struct {
	// ListChanged declares that the client sends
	// notifications/roots/list_changed.
	ListChanged bool `json:"listChanged,omitzero"`
}

// SamplingCapability is the sampling capability of a client.
type SamplingCapability struct {
	// Context declares support for includeContext values other than
	// "none" (soft-deprecated).
	Context *EmptyCapability `json:"context,omitzero"`
	// Tools declares support for tools and toolChoice in sampling
	// requests.
	Tools *EmptyCapability `json:"tools,omitzero"`
}

// ElicitationCapability is the elicitation capability of a client. An
// empty object (neither Form nor URL) declares form mode only, for
// compatibility with 2025-06-18.
type ElicitationCapability struct {
	// Form declares support for form mode.
	Form *EmptyCapability `json:"form,omitzero"`
	// URL declares support for URL mode.
	URL *EmptyCapability `json:"url,omitzero"`
}

// ClientTasksCapability is the tasks capability of a client.
type ClientTasksCapability struct {
	// List declares support for tasks/list.
	List *EmptyCapability `json:"list,omitzero"`
	// Cancel declares support for tasks/cancel.
	Cancel *EmptyCapability `json:"cancel,omitzero"`
	// Requests lists the requests the client can run as tasks.
	Requests *ClientTaskRequests `json:"requests,omitzero"`
}

// ClientTaskRequests lists the requests a client can run as tasks.
type ClientTaskRequests struct {
	// Sampling covers sampling requests.
	Sampling *ClientTaskSamplingRequests `json:"sampling,omitzero"`
	// Elicitation covers elicitation requests.
	Elicitation *ClientTaskElicitationRequests `json:"elicitation,omitzero"`
}

// ClientTaskSamplingRequests lists the sampling requests a client can run
// as tasks.
type ClientTaskSamplingRequests struct {
	// CreateMessage covers sampling/createMessage.
	CreateMessage *EmptyCapability `json:"createMessage,omitzero"`
}

// ClientTaskElicitationRequests lists the elicitation requests a client can
// run as tasks.
type ClientTaskElicitationRequests struct {
	// Create covers elicitation/create.
	Create *EmptyCapability `json:"create,omitzero"`
}

// SupportsElicitationForm reports whether the client accepts form mode
// elicitation: it declared elicitation with form, or with neither mode (the
// 2025-06-18 form). It is safe on a nil receiver.
func (c *ClientCapabilities) SupportsElicitationForm() bool {
	if c == nil || c.Elicitation == nil {
		return false
	}
	return c.Elicitation.Form != nil || c.Elicitation.URL == nil
}

// SupportsElicitationURL reports whether the client accepts URL mode
// elicitation. It is safe on a nil receiver.
func (c *ClientCapabilities) SupportsElicitationURL() bool {
	return c != nil && c.Elicitation != nil && c.Elicitation.URL != nil
}

// SupportsSampling reports whether the client accepts sampling requests. It
// is safe on a nil receiver.
func (c *ClientCapabilities) SupportsSampling() bool {
	return c != nil && c.Sampling != nil
}

// SupportsSamplingTools reports whether the client accepts tools in
// sampling requests. It is safe on a nil receiver.
func (c *ClientCapabilities) SupportsSamplingTools() bool {
	return c != nil && c.Sampling != nil && c.Sampling.Tools != nil
}

// SupportsRoots reports whether the client answers roots/list. It is safe
// on a nil receiver.
func (c *ClientCapabilities) SupportsRoots() bool {
	return c != nil && c.Roots != nil
}

// SupportsTaskRequest reports whether the client can run requests of the
// given method as tasks (sampling/createMessage or elicitation/create). It
// is safe on a nil receiver.
func (c *ClientCapabilities) SupportsTaskRequest(method string) bool {
	if c == nil || c.Tasks == nil || c.Tasks.Requests == nil {
		return false
	}
	r := c.Tasks.Requests
	switch method {
	case MethodSamplingCreateMessage:
		return r.Sampling != nil && r.Sampling.CreateMessage != nil
	case MethodElicitationCreate:
		return r.Elicitation != nil && r.Elicitation.Create != nil
	}
	return false
}

// ServerCapabilities are the capabilities a server declares in its
// initialize result.
type ServerCapabilities struct {
	// Experimental holds non-standard capabilities, by name; each value
	// is a JSON object.
	Experimental map[string]jsontext.Value `json:"experimental,omitzero"`
	// Logging declares that the server sends log messages.
	Logging *LoggingCapability `json:"logging,omitzero"`
	// Completions declares that the server answers completion/complete.
	Completions *CompletionsCapability `json:"completions,omitzero"`
	// Prompts declares that the server offers prompts.
	Prompts *PromptsCapability `json:"prompts,omitzero"`
	// Resources declares that the server offers resources.
	Resources *ResourcesCapability `json:"resources,omitzero"`
	// Tools declares that the server offers tools.
	Tools *ToolsCapability `json:"tools,omitzero"`
	// Tasks declares that the server can run requests as tasks.
	Tasks *ServerTasksCapability `json:"tasks,omitzero"`
	// Extensions declares the optional extensions the server supports
	// (2026-07-28), by identifier; each value is a JSON object of
	// extension settings, {} for none.
	Extensions map[string]jsontext.Value `json:"extensions,omitzero"`
}

// PromptsCapability is the prompts capability of a server.
type PromptsCapability struct {
	// ListChanged declares that the server sends
	// notifications/prompts/list_changed.
	ListChanged bool `json:"listChanged,omitzero"`
}

// ResourcesCapability is the resources capability of a server.
type ResourcesCapability struct {
	// Subscribe declares support for resources/subscribe.
	Subscribe bool `json:"subscribe,omitzero"`
	// ListChanged declares that the server sends
	// notifications/resources/list_changed.
	ListChanged bool `json:"listChanged,omitzero"`
}

// ToolsCapability is the tools capability of a server.
type ToolsCapability struct {
	// ListChanged declares that the server sends
	// notifications/tools/list_changed.
	ListChanged bool `json:"listChanged,omitzero"`
}

// ServerTasksCapability is the tasks capability of a server.
type ServerTasksCapability struct {
	// List declares support for tasks/list.
	List *EmptyCapability `json:"list,omitzero"`
	// Cancel declares support for tasks/cancel.
	Cancel *EmptyCapability `json:"cancel,omitzero"`
	// Requests lists the requests the server can run as tasks.
	Requests *ServerTaskRequests `json:"requests,omitzero"`
}

// ServerTaskRequests lists the requests a server can run as tasks.
type ServerTaskRequests struct {
	// Tools covers tool requests.
	Tools *ServerTaskToolRequests `json:"tools,omitzero"`
}

// ServerTaskToolRequests lists the tool requests a server can run as tasks.
type ServerTaskToolRequests struct {
	// Call covers tools/call.
	Call *EmptyCapability `json:"call,omitzero"`
}

// SupportsTaskRequest reports whether the server can run requests of the
// given method as tasks (tools/call). It is safe on a nil receiver.
func (c *ServerCapabilities) SupportsTaskRequest(method string) bool {
	if c == nil || c.Tasks == nil || c.Tasks.Requests == nil {
		return false
	}
	return method == MethodToolsCall && c.Tasks.Requests.Tools != nil && c.Tasks.Requests.Tools.Call != nil
}
