package protocol

import (
	"errors"
	"fmt"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Tool describes a tool the server offers (an element of tools/list).
type Tool struct {
	// Name identifies the tool; see ValidToolName for the recommended
	// form.
	Name string `json:"name"`
	// Title is the tool's display name.
	Title string `json:"title,omitzero"`
	// Description tells the model what the tool does.
	Description string `json:"description,omitzero"`
	// InputSchema is the JSON Schema of the arguments: an object schema,
	// JSON Schema 2020-12 unless it says otherwise in $schema. It is sent
	// verbatim. An empty InputSchema is sent as
	// {"type":"object","additionalProperties":false}, the schema the
	// specification recommends for a tool without parameters.
	InputSchema jsontext.Value `json:"inputSchema"`
	// OutputSchema, if set, is the JSON Schema (an object schema) of the
	// tool's structured output: CallToolResult.StructuredContent must
	// conform to it.
	OutputSchema jsontext.Value `json:"outputSchema,omitzero"`
	// Annotations are hints about the tool's behaviour. Clients must not
	// trust them from untrusted servers.
	Annotations *ToolAnnotations `json:"annotations,omitzero"`
	// Execution says how the tool can be run (as a task or not).
	Execution *ToolExecution `json:"execution,omitzero"`
	// Icons are images that represent the tool.
	Icons []Icon `json:"icons,omitzero"`
	// Meta is the tool's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}

// noParamsSchema is the input schema sent for a tool whose InputSchema is
// empty.
var noParamsSchema = jsontext.Value(`{"type":"object","additionalProperties":false}`)

// MarshalJSONTo implements json.MarshalerTo.
func (t *Tool) MarshalJSONTo(enc *jsontext.Encoder) error {
	type Fields Tool
	f := (*Fields)(t)
	if len(t.InputSchema) == 0 {
		cp := *f
		cp.InputSchema = noParamsSchema
		f = &cp
	}
	return json.MarshalEncode(enc, f)
}

// DisplayName returns the name to show for the tool: Title, else
// Annotations.Title, else Name.
func (t *Tool) DisplayName() string {
	switch {
	case t.Title != "":
		return t.Title
	case t.Annotations != nil && t.Annotations.Title != "":
		return t.Annotations.Title
	}
	return t.Name
}

// TaskSupport returns Execution.TaskSupport, or TaskSupportForbidden when
// it is not set.
func (t *Tool) TaskSupport() TaskSupport {
	if t.Execution == nil || t.Execution.TaskSupport == "" {
		return TaskSupportForbidden
	}
	return t.Execution.TaskSupport
}

// ValidToolName checks a tool name against the recommendations of the
// specification: 1 to 128 characters, each an ASCII letter or digit, '_',
// '-' or '.'.
func ValidToolName(name string) error {
	if name == "" {
		return errors.New("protocol: tool name is empty")
	}
	if len(name) > 128 {
		return fmt.Errorf("protocol: tool name is %d characters long, more than 128", len(name))
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !isAlnum(c) && c != '_' && c != '-' && c != '.' {
			return fmt.Errorf("protocol: tool name %q has the character %q; use letters, digits, '_', '-' and '.'", name, rune(c))
		}
	}
	return nil
}

// ToolAnnotations are hints about a tool's behaviour. All are advisory.
type ToolAnnotations struct {
	// Title is a display name for the tool (Tool.Title takes precedence).
	Title string `json:"title,omitzero"`
	// ReadOnlyHint: the tool does not modify its environment. Default
	// false.
	ReadOnlyHint *bool `json:"readOnlyHint,omitzero"`
	// DestructiveHint: the tool may perform destructive updates (only
	// meaningful when not read-only). Default true.
	DestructiveHint *bool `json:"destructiveHint,omitzero"`
	// IdempotentHint: repeated calls with the same arguments have no
	// additional effect (only meaningful when not read-only). Default
	// false.
	IdempotentHint *bool `json:"idempotentHint,omitzero"`
	// OpenWorldHint: the tool interacts with an open world of external
	// entities, like web search. Default true.
	OpenWorldHint *bool `json:"openWorldHint,omitzero"`
}

func boolOr(p *bool, def bool) bool {
	if p == nil {
		return def
	}
	return *p
}

// ReadOnly returns ReadOnlyHint, or its default (false) when unset. It is
// safe on a nil receiver.
func (a *ToolAnnotations) ReadOnly() bool {
	return a != nil && boolOr(a.ReadOnlyHint, false)
}

// Destructive returns DestructiveHint, or its default (true) when unset. It
// is safe on a nil receiver.
func (a *ToolAnnotations) Destructive() bool {
	return a == nil || boolOr(a.DestructiveHint, true)
}

// Idempotent returns IdempotentHint, or its default (false) when unset. It
// is safe on a nil receiver.
func (a *ToolAnnotations) Idempotent() bool {
	return a != nil && boolOr(a.IdempotentHint, false)
}

// OpenWorld returns OpenWorldHint, or its default (true) when unset. It is
// safe on a nil receiver.
func (a *ToolAnnotations) OpenWorld() bool {
	return a == nil || boolOr(a.OpenWorldHint, true)
}

// ToolExecution says how a tool can be run.
type ToolExecution struct {
	// TaskSupport says whether the tool can be called as a task. Empty
	// means forbidden.
	TaskSupport TaskSupport `json:"taskSupport,omitzero"`
}

// CallToolRequestParams are the params of tools/call.
type CallToolRequestParams struct {
	// Name is the name of the tool.
	Name string `json:"name"`
	// Arguments holds the arguments as a JSON object, kept raw so they
	// can be decoded straight into the tool's input type. Empty when the
	// client sent none.
	Arguments jsontext.Value `json:"arguments,omitzero"`
	// Task, if set, asks for the call to run as a task; the result is then
	// a CreateTaskResult.
	Task *TaskMetadata `json:"task,omitzero"`
	// InputResponses answer the input requests of an earlier
	// InputRequiredResult (2026-07-28).
	InputResponses InputResponses `json:"inputResponses,omitzero"`
	// RequestState echoes the requestState of an earlier
	// InputRequiredResult (2026-07-28).
	RequestState string `json:"requestState,omitzero"`
	// Meta is the request's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}

// CallToolResult is the result of tools/call.
type CallToolResult struct {
	// Content is the unstructured result. It is required on the wire;
	// nil is sent as [].
	Content []Content `json:"content"`
	// StructuredContent is the structured result: a JSON object
	// conforming to the tool's output schema. It is raw JSON so that it
	// passes through unchanged; marshal a Go value into it with
	// json.Marshal. For compatibility a tool with structured output
	// should also return the serialized JSON in a TextContent block.
	StructuredContent jsontext.Value `json:"structuredContent,omitzero"`
	// IsError reports that the tool failed. Errors of the tool (as
	// opposed to protocol errors) are reported this way so that the model
	// can see them and correct itself.
	IsError bool `json:"isError,omitzero"`
	// ResultType is the result's type in revision 2026-07-28 ("complete";
	// servers set it when they send the result). Empty in earlier
	// revisions, where it is absent from the wire.
	ResultType ResultType `json:"resultType,omitzero"`
	// Meta is the result's _meta object.
	Meta Meta `json:"_meta,omitzero"`

	// Raw, if set, is the encoded result (a JSON object), sent instead of
	// the fields above: a proxy relays an upstream's result as it came,
	// members unknown to this package included. The fields above should
	// still describe it where the server reads them (IsError, for the
	// status of a task). Decoding never sets Raw.
	Raw jsontext.Value `json:"-"`
}

// MarshalJSONTo implements json.MarshalerTo. It is written out by hand, as
// tool results are the hot path of a server: encoding a result with text
// blocks allocates nothing beyond the output buffer.
func (r *CallToolResult) MarshalJSONTo(enc *jsontext.Encoder) error {
	if len(r.Raw) > 0 {
		return enc.WriteValue(r.Raw)
	}
	if err := enc.WriteToken(jsontext.BeginObject); err != nil {
		return err
	}
	if err := enc.WriteToken(jsontext.String("content")); err != nil {
		return err
	}
	if err := marshalContentList(enc, r.Content); err != nil {
		return err
	}
	if len(r.StructuredContent) > 0 {
		if err := enc.WriteToken(jsontext.String("structuredContent")); err != nil {
			return err
		}
		if err := enc.WriteValue(r.StructuredContent); err != nil {
			return err
		}
	}
	if r.IsError {
		if err := enc.WriteToken(jsontext.String("isError")); err != nil {
			return err
		}
		if err := enc.WriteToken(jsontext.True); err != nil {
			return err
		}
	}
	if r.ResultType != "" {
		if err := enc.WriteToken(jsontext.String("resultType")); err != nil {
			return err
		}
		if err := enc.WriteToken(jsontext.String(string(r.ResultType))); err != nil {
			return err
		}
	}
	if r.Meta != nil {
		if err := enc.WriteToken(jsontext.String("_meta")); err != nil {
			return err
		}
		if err := json.MarshalEncode(enc, r.Meta); err != nil {
			return err
		}
	}
	return enc.WriteToken(jsontext.EndObject)
}

// UnmarshalJSONFrom implements json.UnmarshalerFrom.
func (r *CallToolResult) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	type Fields CallToolResult
	return json.UnmarshalDecode(dec, (*Fields)(r), UnionUnmarshalers)
}

// ListToolsResult is the result of tools/list.
type ListToolsResult struct {
	// Tools is one page of tools.
	Tools []Tool `json:"tools"`
	// NextCursor, when not empty, is the cursor of the next page.
	NextCursor Cursor `json:"nextCursor,omitzero"`
	// ResultType is the result's type in revision 2026-07-28 ("complete";
	// servers set it when they send the result). Empty in earlier
	// revisions, where it is absent from the wire.
	ResultType ResultType `json:"resultType,omitzero"`
	// TTLMs is the freshness hint of revision 2026-07-28: how long, in
	// milliseconds, the result may be reused. Nil in earlier revisions.
	TTLMs *int64 `json:"ttlMs,omitzero"`
	// CacheScope says whether shared intermediaries may cache the result
	// (2026-07-28).
	CacheScope CacheScope `json:"cacheScope,omitzero"`
	// Meta is the result's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}
