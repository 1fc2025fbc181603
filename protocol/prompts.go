package protocol

import (
	"fmt"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Prompt describes a prompt or prompt template the server offers (an
// element of prompts/list).
type Prompt struct {
	// Name identifies the prompt.
	Name string `json:"name"`
	// Title is its display name.
	Title string `json:"title,omitzero"`
	// Description says what the prompt provides.
	Description string `json:"description,omitzero"`
	// Arguments lists the arguments the prompt takes.
	Arguments []PromptArgument `json:"arguments,omitzero"`
	// Icons are images that represent the prompt.
	Icons []Icon `json:"icons,omitzero"`
	// Meta is the prompt's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}

// PromptArgument describes an argument of a prompt.
type PromptArgument struct {
	// Name identifies the argument.
	Name string `json:"name"`
	// Title is its display name.
	Title string `json:"title,omitzero"`
	// Description says what the argument is.
	Description string `json:"description,omitzero"`
	// Required reports whether the argument must be given.
	Required bool `json:"required,omitzero"`
}

// ListPromptsResult is the result of prompts/list.
type ListPromptsResult struct {
	// Prompts is one page of prompts.
	Prompts []Prompt `json:"prompts"`
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

// GetPromptRequestParams are the params of prompts/get.
type GetPromptRequestParams struct {
	// Name is the name of the prompt.
	Name string `json:"name"`
	// Arguments are the values of the prompt's arguments.
	Arguments map[string]string `json:"arguments,omitzero"`
	// InputResponses answer the input requests of an earlier
	// InputRequiredResult (2026-07-28).
	InputResponses InputResponses `json:"inputResponses,omitzero"`
	// RequestState echoes the requestState of an earlier
	// InputRequiredResult (2026-07-28).
	RequestState string `json:"requestState,omitzero"`
	// Meta is the request's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}

// GetPromptResult is the result of prompts/get.
type GetPromptResult struct {
	// Description describes the prompt.
	Description string `json:"description,omitzero"`
	// Messages are the prompt's messages. Required on the wire; nil is
	// sent as [].
	Messages []PromptMessage `json:"messages"`
	// ResultType is the result's type in revision 2026-07-28 ("complete";
	// servers set it when they send the result). Empty in earlier
	// revisions, where it is absent from the wire.
	ResultType ResultType `json:"resultType,omitzero"`
	// Meta is the result's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}

// PromptMessage is one message of a prompt. Unlike a SamplingMessage it
// holds exactly one block, which may be a resource link or an embedded
// resource.
type PromptMessage struct {
	// Role is the sender of the message.
	Role Role `json:"role"`
	// Content is the message.
	Content Content `json:"content"`
}

// UnmarshalJSONFrom implements json.UnmarshalerFrom.
func (m *PromptMessage) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	type Fields PromptMessage
	if err := json.UnmarshalDecode(dec, (*Fields)(m), UnionUnmarshalers); err != nil {
		return err
	}
	if m.Content == nil {
		return fmt.Errorf("protocol: prompt message has no content")
	}
	return nil
}

// Reference types of completion/complete.
const (
	RefTypePrompt   = "ref/prompt"
	RefTypeResource = "ref/resource"
)

// CompletionReference says what a completion/complete request completes an
// argument of: a *PromptReference or a *ResourceTemplateReference.
type CompletionReference interface {
	// RefType returns the value of the reference's "type" member.
	RefType() string
	isCompletionReference()
}

// PromptReference refers to a prompt.
type PromptReference struct {
	// Name is the name of the prompt.
	Name string `json:"name"`
	// Title is its display name.
	Title string `json:"title,omitzero"`
}

// ResourceTemplateReference refers to a resource template (or a resource).
type ResourceTemplateReference struct {
	// URI is the URI template (or the URI).
	URI string `json:"uri"`
}

// RefType implements CompletionReference.
func (*PromptReference) RefType() string { return RefTypePrompt }

// RefType implements CompletionReference.
func (*ResourceTemplateReference) RefType() string { return RefTypeResource }

func (*PromptReference) isCompletionReference()           {}
func (*ResourceTemplateReference) isCompletionReference() {}

// MarshalJSONTo implements json.MarshalerTo.
func (r *PromptReference) MarshalJSONTo(enc *jsontext.Encoder) error {
	type Fields PromptReference
	return json.MarshalEncode(enc, struct {
		Type string `json:"type"`
		*Fields
	}{RefTypePrompt, (*Fields)(r)})
}

// UnmarshalJSONFrom implements json.UnmarshalerFrom; "type" must be
// "ref/prompt".
func (r *PromptReference) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	type Fields PromptReference
	w := struct {
		Type string `json:"type"`
		*Fields
	}{Fields: (*Fields)(r)}
	if err := json.UnmarshalDecode(dec, &w); err != nil {
		return err
	}
	return checkType("prompt reference", w.Type, RefTypePrompt)
}

// MarshalJSONTo implements json.MarshalerTo.
func (r *ResourceTemplateReference) MarshalJSONTo(enc *jsontext.Encoder) error {
	type Fields ResourceTemplateReference
	return json.MarshalEncode(enc, struct {
		Type string `json:"type"`
		*Fields
	}{RefTypeResource, (*Fields)(r)})
}

// UnmarshalJSONFrom implements json.UnmarshalerFrom; "type" must be
// "ref/resource".
func (r *ResourceTemplateReference) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	type Fields ResourceTemplateReference
	w := struct {
		Type string `json:"type"`
		*Fields
	}{Fields: (*Fields)(r)}
	if err := json.UnmarshalDecode(dec, &w); err != nil {
		return err
	}
	return checkType("resource template reference", w.Type, RefTypeResource)
}

func decodeCompletionReference(dec *jsontext.Decoder) (CompletionReference, error) {
	obj, err := readObject(dec, "completion reference")
	if err != nil {
		return nil, err
	}
	typ, err := memberType(obj, "completion reference")
	if err != nil {
		return nil, err
	}
	var r CompletionReference
	switch typ {
	case RefTypePrompt:
		r = new(PromptReference)
	case RefTypeResource:
		r = new(ResourceTemplateReference)
	default:
		return nil, fmt.Errorf("protocol: unknown completion reference type %q", typ)
	}
	if err := json.Unmarshal(obj, r); err != nil {
		return nil, err
	}
	return r, nil
}

// CompleteRequestParams are the params of completion/complete.
type CompleteRequestParams struct {
	// Ref is the prompt or resource template whose argument is being
	// completed.
	Ref CompletionReference `json:"ref"`
	// Argument is the argument and its partial value.
	Argument CompleteArgument `json:"argument"`
	// Context holds the values of arguments already given.
	Context *CompleteContext `json:"context,omitzero"`
	// Meta is the request's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}

// UnmarshalJSONFrom implements json.UnmarshalerFrom.
func (p *CompleteRequestParams) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	type Fields CompleteRequestParams
	if err := json.UnmarshalDecode(dec, (*Fields)(p), UnionUnmarshalers); err != nil {
		return err
	}
	if p.Ref == nil {
		return fmt.Errorf("protocol: completion request has no ref")
	}
	return nil
}

// CompleteArgument is the argument being completed.
type CompleteArgument struct {
	// Name is the name of the argument.
	Name string `json:"name"`
	// Value is what the user has typed so far.
	Value string `json:"value"`
}

// CompleteContext is the context of a completion request.
type CompleteContext struct {
	// Arguments are the values of arguments already resolved.
	Arguments map[string]string `json:"arguments,omitzero"`
}

// CompleteResult is the result of completion/complete.
type CompleteResult struct {
	// Completion holds the suggestions.
	Completion Completion `json:"completion"`
	// ResultType is the result's type in revision 2026-07-28 ("complete";
	// servers set it when they send the result). Empty in earlier
	// revisions, where it is absent from the wire.
	ResultType ResultType `json:"resultType,omitzero"`
	// Meta is the result's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}

// Completion holds completion suggestions.
type Completion struct {
	// Values are the suggestions, at most 100. Required on the wire; nil
	// is sent as [].
	Values []string `json:"values"`
	// Total is the number of suggestions available, which may exceed
	// len(Values); zero when unknown.
	Total int `json:"total,omitzero"`
	// HasMore reports that there are more suggestions than Values holds.
	HasMore bool `json:"hasMore,omitzero"`
}
