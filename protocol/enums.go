package protocol

// Role is the sender or recipient of a message in a conversation.
type Role string

// Roles.
const (
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
)

// TaskStatus is the state of a task.
type TaskStatus string

// Task states. A task starts working, may move to input_required and back,
// and ends completed, failed or cancelled.
const (
	TaskStatusWorking       TaskStatus = "working"
	TaskStatusInputRequired TaskStatus = "input_required"
	TaskStatusCompleted     TaskStatus = "completed"
	TaskStatusFailed        TaskStatus = "failed"
	TaskStatusCancelled     TaskStatus = "cancelled"
)

// IsTerminal reports whether s is a final state (completed, failed or
// cancelled).
func (s TaskStatus) IsTerminal() bool {
	return s == TaskStatusCompleted || s == TaskStatusFailed || s == TaskStatusCancelled
}

// TaskSupport says whether a tool can be called as a task.
type TaskSupport string

// Task support levels. The zero value means forbidden.
const (
	// TaskSupportForbidden: the tool cannot be called as a task (default).
	TaskSupportForbidden TaskSupport = "forbidden"
	// TaskSupportOptional: the tool may be called as a task or directly.
	TaskSupportOptional TaskSupport = "optional"
	// TaskSupportRequired: the tool must be called as a task.
	TaskSupportRequired TaskSupport = "required"
)

// IncludeContext asks the client to include context from MCP servers in a
// sampling prompt. Only "none" (the default) is recommended; the other
// values are soft-deprecated and need the client's sampling.context
// capability.
type IncludeContext string

// IncludeContext values.
const (
	IncludeContextNone       IncludeContext = "none"
	IncludeContextThisServer IncludeContext = "thisServer"
	IncludeContextAllServers IncludeContext = "allServers"
)

// ToolChoiceMode controls tool use by the model during sampling.
type ToolChoiceMode string

// Tool choice modes.
const (
	// ToolChoiceAuto lets the model decide (the default).
	ToolChoiceAuto ToolChoiceMode = "auto"
	// ToolChoiceRequired makes the model use at least one tool.
	ToolChoiceRequired ToolChoiceMode = "required"
	// ToolChoiceNone forbids tool use.
	ToolChoiceNone ToolChoiceMode = "none"
)

// Stop reasons commonly reported in CreateMessageResult.StopReason. The
// field is open: clients may report other values.
const (
	StopReasonEndTurn      = "endTurn"
	StopReasonStopSequence = "stopSequence"
	StopReasonMaxTokens    = "maxTokens"
	StopReasonToolUse      = "toolUse"
)

// ElicitMode is the mode of an elicitation request.
type ElicitMode string

// Elicitation modes. A request without a mode is a form mode request.
const (
	ElicitModeForm ElicitMode = "form"
	ElicitModeURL  ElicitMode = "url"
)

// ElicitAction is the user's answer to an elicitation request.
type ElicitAction string

// Elicitation actions.
const (
	// ElicitActionAccept: the user submitted the form (content holds the
	// data) or consented to open the URL.
	ElicitActionAccept ElicitAction = "accept"
	// ElicitActionDecline: the user explicitly declined.
	ElicitActionDecline ElicitAction = "decline"
	// ElicitActionCancel: the user dismissed the request without choosing.
	ElicitActionCancel ElicitAction = "cancel"
)

// IconTheme is the background theme an icon is designed for.
type IconTheme string

// Icon themes.
const (
	IconThemeLight IconTheme = "light"
	IconThemeDark  IconTheme = "dark"
)

// StringFormat is the format of a string field in an elicitation form.
type StringFormat string

// String formats.
const (
	StringFormatEmail    StringFormat = "email"
	StringFormatURI      StringFormat = "uri"
	StringFormatDate     StringFormat = "date"
	StringFormatDateTime StringFormat = "date-time"
)
