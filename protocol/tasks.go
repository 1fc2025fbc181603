package protocol

import (
	"time"

	"github.com/go-json-experiment/json/jsontext"
)

// Task is the state of a task: a request (such as tools/call) that the
// receiver runs in the background, polled with tasks/get and collected with
// tasks/result.
type Task struct {
	// TaskID identifies the task.
	TaskID string `json:"taskId"`
	// Status is the task's state.
	Status TaskStatus `json:"status"`
	// StatusMessage optionally describes the state, such as the reason of
	// a failure.
	StatusMessage string `json:"statusMessage,omitzero"`
	// CreatedAt is when the task was created, an ISO 8601 timestamp.
	CreatedAt string `json:"createdAt"`
	// LastUpdatedAt is when the task last changed, an ISO 8601 timestamp.
	LastUpdatedAt string `json:"lastUpdatedAt"`
	// TTL is how long, in milliseconds from creation, the task and its
	// result are kept; nil (sent as null) means without limit.
	TTL *int64 `json:"ttl"`
	// PollInterval is the suggested time between polls in milliseconds;
	// zero when the receiver has no suggestion.
	PollInterval int64 `json:"pollInterval,omitzero"`
}

// Created parses CreatedAt as an RFC 3339 timestamp.
func (t *Task) Created() (time.Time, error) { return time.Parse(time.RFC3339Nano, t.CreatedAt) }

// LastUpdated parses LastUpdatedAt as an RFC 3339 timestamp.
func (t *Task) LastUpdated() (time.Time, error) {
	return time.Parse(time.RFC3339Nano, t.LastUpdatedAt)
}

// TaskMetadata asks for a request to run as a task (the task member of
// task-augmented request params).
type TaskMetadata struct {
	// TTL is the requested lifetime in milliseconds from creation; nil
	// leaves it to the receiver, which may also shorten it.
	TTL *int64 `json:"ttl,omitzero"`
}

// RelatedTaskMetadata is the value of the MetaRelatedTask _meta key, which
// ties a message to a task.
type RelatedTaskMetadata struct {
	// TaskID identifies the task.
	TaskID string `json:"taskId"`
}

// TaskAugmentedRequestParams are the params shared by requests that can run
// as tasks (tools/call, sampling/createMessage, elicitation/create).
type TaskAugmentedRequestParams struct {
	// Task, if set, asks for the request to run as a task.
	Task *TaskMetadata `json:"task,omitzero"`
	// Meta is the request's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}

// CreateTaskResult is the result of a task-augmented request: the task
// that was created, instead of the request's own result.
type CreateTaskResult struct {
	// Task is the new task.
	Task Task `json:"task"`
	// Meta is the result's _meta object; see MetaModelImmediateResponse.
	Meta Meta `json:"_meta,omitzero"`
}

// GetTaskRequestParams are the params of tasks/get.
type GetTaskRequestParams struct {
	// TaskID identifies the task.
	TaskID string `json:"taskId"`
	// Meta is the request's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}

// GetTaskResult is the result of tasks/get: the task's state.
type GetTaskResult struct {
	Task
	// Meta is the result's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}

// GetTaskPayloadRequestParams are the params of tasks/result.
type GetTaskPayloadRequestParams struct {
	// TaskID identifies the task.
	TaskID string `json:"taskId"`
	// Meta is the request's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}

// GetTaskPayloadResult is the result of tasks/result: the result of the
// request the task ran, such as a CallToolResult for a tools/call. To get
// it typed, decode the response's raw result straight into the original
// request's result type; this type holds it generically.
type GetTaskPayloadResult struct {
	// Meta is the result's _meta object; it carries MetaRelatedTask.
	Meta Meta `json:"_meta,omitzero"`
	// Fields holds the members other than _meta, as a JSON object (or
	// nothing).
	Fields jsontext.Value `json:",embed"`
}

// CancelTaskRequestParams are the params of tasks/cancel.
type CancelTaskRequestParams struct {
	// TaskID identifies the task.
	TaskID string `json:"taskId"`
	// Meta is the request's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}

// CancelTaskResult is the result of tasks/cancel: the task's state after
// cancellation.
type CancelTaskResult struct {
	Task
	// Meta is the result's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}

// ListTasksResult is the result of tasks/list.
type ListTasksResult struct {
	// Tasks is one page of tasks.
	Tasks []Task `json:"tasks"`
	// NextCursor, when not empty, is the cursor of the next page.
	NextCursor Cursor `json:"nextCursor,omitzero"`
	// Meta is the result's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}

// TaskStatusNotificationParams are the params of notifications/tasks/status:
// the task's new state.
type TaskStatusNotificationParams struct {
	Task
	// Meta is the notification's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}
