package protocol

import "github.com/go-json-experiment/json/jsontext"

// CreateMessageRequestParams are the params of sampling/createMessage: a
// server asks the client to sample its language model.
type CreateMessageRequestParams struct {
	// Messages is the conversation so far.
	Messages []SamplingMessage `json:"messages"`
	// ModelPreferences are the server's preferences for the choice of
	// model; the client may ignore them.
	ModelPreferences *ModelPreferences `json:"modelPreferences,omitzero"`
	// SystemPrompt is an optional system prompt; the client may modify or
	// ignore it.
	SystemPrompt string `json:"systemPrompt,omitzero"`
	// IncludeContext asks for context from MCP servers (soft-deprecated
	// except for "none", the default).
	IncludeContext IncludeContext `json:"includeContext,omitzero"`
	// Temperature is the sampling temperature, if the server cares.
	Temperature *float64 `json:"temperature,omitzero"`
	// MaxTokens is the maximum number of tokens to sample.
	MaxTokens int `json:"maxTokens"`
	// StopSequences are sequences that end sampling.
	StopSequences []string `json:"stopSequences,omitzero"`
	// Metadata is a JSON object passed to the model provider verbatim.
	Metadata jsontext.Value `json:"metadata,omitzero"`
	// Tools are tools the model may call (needs the client's
	// sampling.tools capability).
	Tools []Tool `json:"tools,omitzero"`
	// ToolChoice controls tool use (needs the client's sampling.tools
	// capability).
	ToolChoice *ToolChoice `json:"toolChoice,omitzero"`
	// Task, if set, asks the client to run the request as a task.
	Task *TaskMetadata `json:"task,omitzero"`
	// Meta is the request's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}

// SamplingMessage is one message of a sampling conversation.
type SamplingMessage struct {
	// Role is the sender of the message.
	Role Role `json:"role"`
	// Content holds one or more blocks. A user message that holds tool
	// results holds only tool results.
	Content SamplingContents `json:"content"`
	// Meta is the message's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}

// CreateMessageResult is the result of sampling/createMessage.
type CreateMessageResult struct {
	// Role is the role of the sampled message (normally assistant).
	Role Role `json:"role"`
	// Content is the sampled message: one or more blocks, tool uses when
	// StopReason is "toolUse".
	Content SamplingContents `json:"content"`
	// Model is the name of the model that produced the message.
	Model string `json:"model"`
	// StopReason says why sampling stopped: one of the StopReason
	// constants or another value.
	StopReason string `json:"stopReason,omitzero"`
	// Meta is the result's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}

// ModelPreferences are a server's preferences for the model used in
// sampling. Priorities range from 0 to 1.
type ModelPreferences struct {
	// Hints suggest models by name, in order of preference.
	Hints []ModelHint `json:"hints,omitzero"`
	// CostPriority is how much to prioritize cost.
	CostPriority *float64 `json:"costPriority,omitzero"`
	// SpeedPriority is how much to prioritize latency.
	SpeedPriority *float64 `json:"speedPriority,omitzero"`
	// IntelligencePriority is how much to prioritize capability.
	IntelligencePriority *float64 `json:"intelligencePriority,omitzero"`
}

// ModelHint suggests a model.
type ModelHint struct {
	// Name is a full or partial model name, such as "claude-3-5-sonnet"
	// or "sonnet".
	Name string `json:"name,omitzero"`
}

// ToolChoice controls tool use during sampling.
type ToolChoice struct {
	// Mode is auto (the default), required or none.
	Mode ToolChoiceMode `json:"mode,omitzero"`
}

// Root is a directory or file the client exposes to the server.
type Root struct {
	// URI identifies the root; it must currently be a file:// URI.
	URI string `json:"uri"`
	// Name is an optional display name.
	Name string `json:"name,omitzero"`
	// Meta is the root's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}

// ListRootsRequestParams are the params of roots/list.
type ListRootsRequestParams struct {
	// Meta is the request's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}

// ListRootsResult is the result of roots/list.
type ListRootsResult struct {
	// Roots are the client's roots. Required on the wire; nil is sent as
	// [].
	Roots []Root `json:"roots"`
	// Meta is the result's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}
