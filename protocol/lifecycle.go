package protocol

import "github.com/switchboard-mcp/switchboard/jsonrpc"

// InitializeRequestParams are the params of initialize, the first request
// of a session.
type InitializeRequestParams struct {
	// ProtocolVersion is the newest revision the client supports.
	ProtocolVersion string `json:"protocolVersion"`
	// Capabilities are the client's capabilities.
	Capabilities ClientCapabilities `json:"capabilities"`
	// ClientInfo describes the client.
	ClientInfo Implementation `json:"clientInfo"`
	// Meta is the request's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}

// InitializeResult is the result of initialize.
type InitializeResult struct {
	// ProtocolVersion is the revision the server chose (see
	// NegotiateVersion). A client that does not support it should
	// disconnect.
	ProtocolVersion string `json:"protocolVersion"`
	// Capabilities are the server's capabilities.
	Capabilities ServerCapabilities `json:"capabilities"`
	// ServerInfo describes the server.
	ServerInfo Implementation `json:"serverInfo"`
	// Instructions tell the client how to use the server, for instance as
	// a hint in the model's system prompt.
	Instructions string `json:"instructions,omitzero"`
	// Meta is the result's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}

// CancelledNotificationParams are the params of notifications/cancelled,
// which either side sends to cancel a request it made.
type CancelledNotificationParams struct {
	// RequestID is the id of the request to cancel, a request sent
	// earlier in the same direction. The schema makes it optional, but
	// it must be set: tasks are not cancelled with this notification but
	// with tasks/cancel.
	RequestID jsonrpc.ID `json:"requestId,omitzero"`
	// Reason optionally says why, for logs.
	Reason string `json:"reason,omitzero"`
	// Meta is the notification's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}

// ProgressNotificationParams are the params of notifications/progress.
type ProgressNotificationParams struct {
	// ProgressToken is the token from the _meta of the request the
	// progress is about.
	ProgressToken ProgressToken `json:"progressToken"`
	// Progress is the progress so far; it increases with every
	// notification, even when Total is unknown.
	Progress float64 `json:"progress"`
	// Total is the progress at completion; zero when unknown.
	Total float64 `json:"total,omitzero"`
	// Message optionally describes the progress.
	Message string `json:"message,omitzero"`
	// Meta is the notification's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}
