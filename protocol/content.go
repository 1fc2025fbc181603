package protocol

import (
	"fmt"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Values of the "type" member of content blocks.
const (
	ContentTypeText         = "text"
	ContentTypeImage        = "image"
	ContentTypeAudio        = "audio"
	ContentTypeResourceLink = "resource_link"
	ContentTypeResource     = "resource"
	ContentTypeToolUse      = "tool_use"
	ContentTypeToolResult   = "tool_result"
)

// Content is a content block (the schema's ContentBlock) of tool results,
// prompt messages and tool results inside sampling: *TextContent,
// *ImageContent, *AudioContent, *ResourceLink or *EmbeddedResource.
type Content interface {
	// ContentType returns the value of the block's "type" member.
	ContentType() string
	isContent()
}

// SamplingContent is a content block of a sampling message (the schema's
// SamplingMessageContentBlock): *TextContent, *ImageContent, *AudioContent,
// *ToolUseContent or *ToolResultContent.
type SamplingContent interface {
	// ContentType returns the value of the block's "type" member.
	ContentType() string
	isSamplingContent()
}

// TextContent is text for the model or the user.
type TextContent struct {
	// Text is the text.
	Text string `json:"text"`
	// Annotations are optional hints for the client.
	Annotations *Annotations `json:"annotations,omitzero"`
	// Meta is the block's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}

// ImageContent is an image.
type ImageContent struct {
	// Data is the image, sent base64-encoded.
	Data []byte `json:"data"`
	// MIMEType is the media type of the image, such as "image/png".
	MIMEType string `json:"mimeType"`
	// Annotations are optional hints for the client.
	Annotations *Annotations `json:"annotations,omitzero"`
	// Meta is the block's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}

// AudioContent is an audio clip.
type AudioContent struct {
	// Data is the audio, sent base64-encoded.
	Data []byte `json:"data"`
	// MIMEType is the media type of the audio, such as "audio/wav".
	MIMEType string `json:"mimeType"`
	// Annotations are optional hints for the client.
	Annotations *Annotations `json:"annotations,omitzero"`
	// Meta is the block's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}

// ResourceLink points to a resource the client can read with
// resources/read. It has the fields of a Resource.
type ResourceLink struct {
	// URI is the URI of the resource.
	URI string `json:"uri"`
	// Name is the programmatic name of the resource.
	Name string `json:"name"`
	// Title is its display name.
	Title string `json:"title,omitzero"`
	// Description says what the resource is.
	Description string `json:"description,omitzero"`
	// MIMEType is the media type of the resource, if known.
	MIMEType string `json:"mimeType,omitzero"`
	// Size is the size of the raw content in bytes, if known.
	Size *int64 `json:"size,omitzero"`
	// Annotations are optional hints for the client.
	Annotations *Annotations `json:"annotations,omitzero"`
	// Icons are images that represent the resource.
	Icons []Icon `json:"icons,omitzero"`
	// Meta is the block's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}

// EmbeddedResource is the content of a resource, embedded in a prompt or
// tool result.
type EmbeddedResource struct {
	// Resource is a *TextResourceContents or *BlobResourceContents.
	Resource ResourceContents `json:"resource"`
	// Annotations are optional hints for the client.
	Annotations *Annotations `json:"annotations,omitzero"`
	// Meta is the block's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}

// ToolUseContent is a model's request to call a tool, in a sampling
// result (and in the history of later sampling requests).
type ToolUseContent struct {
	// ID identifies this tool use; the ToolResultContent that answers it
	// carries the same id in ToolUseID.
	ID string `json:"id"`
	// Name is the name of the tool to call.
	Name string `json:"name"`
	// Input holds the arguments as a JSON object. An empty Input is sent
	// as {}.
	Input jsontext.Value `json:"input"`
	// Meta is the block's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}

// ToolResultContent is the result of a tool use, sent back to the model in
// a user message of a sampling request. Such a message holds only tool
// results.
type ToolResultContent struct {
	// ToolUseID is the ID of the ToolUseContent this answers.
	ToolUseID string `json:"toolUseId"`
	// Content is the unstructured result, as in CallToolResult.Content.
	Content []Content `json:"content"`
	// StructuredContent is the structured result, a JSON object, if the
	// tool has an output schema.
	StructuredContent jsontext.Value `json:"structuredContent,omitzero"`
	// IsError reports that the tool use failed.
	IsError bool `json:"isError,omitzero"`
	// Meta is the block's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}

// ContentType implements Content and SamplingContent.
func (*TextContent) ContentType() string { return ContentTypeText }

// ContentType implements Content and SamplingContent.
func (*ImageContent) ContentType() string { return ContentTypeImage }

// ContentType implements Content and SamplingContent.
func (*AudioContent) ContentType() string { return ContentTypeAudio }

// ContentType implements Content.
func (*ResourceLink) ContentType() string { return ContentTypeResourceLink }

// ContentType implements Content.
func (*EmbeddedResource) ContentType() string { return ContentTypeResource }

// ContentType implements SamplingContent.
func (*ToolUseContent) ContentType() string { return ContentTypeToolUse }

// ContentType implements SamplingContent.
func (*ToolResultContent) ContentType() string { return ContentTypeToolResult }

func (*TextContent) isContent()      {}
func (*ImageContent) isContent()     {}
func (*AudioContent) isContent()     {}
func (*ResourceLink) isContent()     {}
func (*EmbeddedResource) isContent() {}

func (*TextContent) isSamplingContent()       {}
func (*ImageContent) isSamplingContent()      {}
func (*AudioContent) isSamplingContent()      {}
func (*ToolUseContent) isSamplingContent()    {}
func (*ToolResultContent) isSamplingContent() {}

// MarshalJSONTo implements json.MarshalerTo. It is written out by hand:
// text blocks are the bulk of tool results.
func (c *TextContent) MarshalJSONTo(enc *jsontext.Encoder) error {
	if err := enc.WriteToken(jsontext.BeginObject); err != nil {
		return err
	}
	if err := enc.WriteToken(jsontext.String("type")); err != nil {
		return err
	}
	if err := enc.WriteToken(jsontext.String(ContentTypeText)); err != nil {
		return err
	}
	if err := enc.WriteToken(jsontext.String("text")); err != nil {
		return err
	}
	if err := enc.WriteToken(jsontext.String(c.Text)); err != nil {
		return err
	}
	if c.Annotations != nil {
		if err := enc.WriteToken(jsontext.String("annotations")); err != nil {
			return err
		}
		if err := json.MarshalEncode(enc, c.Annotations); err != nil {
			return err
		}
	}
	if c.Meta != nil {
		if err := enc.WriteToken(jsontext.String("_meta")); err != nil {
			return err
		}
		if err := json.MarshalEncode(enc, c.Meta); err != nil {
			return err
		}
	}
	return enc.WriteToken(jsontext.EndObject)
}

// UnmarshalJSONFrom implements json.UnmarshalerFrom; "type" must be "text".
func (c *TextContent) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	type Fields TextContent
	w := struct {
		Type string `json:"type"`
		*Fields
	}{Fields: (*Fields)(c)}
	if err := json.UnmarshalDecode(dec, &w); err != nil {
		return err
	}
	return checkType("text content", w.Type, ContentTypeText)
}

// MarshalJSONTo implements json.MarshalerTo.
func (c *ImageContent) MarshalJSONTo(enc *jsontext.Encoder) error {
	type Fields ImageContent
	return json.MarshalEncode(enc, struct {
		Type string `json:"type"`
		*Fields
	}{ContentTypeImage, (*Fields)(c)})
}

// UnmarshalJSONFrom implements json.UnmarshalerFrom; "type" must be "image".
func (c *ImageContent) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	type Fields ImageContent
	w := struct {
		Type string `json:"type"`
		*Fields
	}{Fields: (*Fields)(c)}
	if err := json.UnmarshalDecode(dec, &w); err != nil {
		return err
	}
	return checkType("image content", w.Type, ContentTypeImage)
}

// MarshalJSONTo implements json.MarshalerTo.
func (c *AudioContent) MarshalJSONTo(enc *jsontext.Encoder) error {
	type Fields AudioContent
	return json.MarshalEncode(enc, struct {
		Type string `json:"type"`
		*Fields
	}{ContentTypeAudio, (*Fields)(c)})
}

// UnmarshalJSONFrom implements json.UnmarshalerFrom; "type" must be "audio".
func (c *AudioContent) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	type Fields AudioContent
	w := struct {
		Type string `json:"type"`
		*Fields
	}{Fields: (*Fields)(c)}
	if err := json.UnmarshalDecode(dec, &w); err != nil {
		return err
	}
	return checkType("audio content", w.Type, ContentTypeAudio)
}

// MarshalJSONTo implements json.MarshalerTo.
func (c *ResourceLink) MarshalJSONTo(enc *jsontext.Encoder) error {
	type Fields ResourceLink
	return json.MarshalEncode(enc, struct {
		Type string `json:"type"`
		*Fields
	}{ContentTypeResourceLink, (*Fields)(c)})
}

// UnmarshalJSONFrom implements json.UnmarshalerFrom; "type" must be
// "resource_link".
func (c *ResourceLink) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	type Fields ResourceLink
	w := struct {
		Type string `json:"type"`
		*Fields
	}{Fields: (*Fields)(c)}
	if err := json.UnmarshalDecode(dec, &w); err != nil {
		return err
	}
	return checkType("resource link", w.Type, ContentTypeResourceLink)
}

// MarshalJSONTo implements json.MarshalerTo.
func (c *EmbeddedResource) MarshalJSONTo(enc *jsontext.Encoder) error {
	type Fields EmbeddedResource
	return json.MarshalEncode(enc, struct {
		Type string `json:"type"`
		*Fields
	}{ContentTypeResource, (*Fields)(c)})
}

// UnmarshalJSONFrom implements json.UnmarshalerFrom; "type" must be
// "resource".
func (c *EmbeddedResource) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	type Fields EmbeddedResource
	w := struct {
		Type string `json:"type"`
		*Fields
	}{Fields: (*Fields)(c)}
	if err := json.UnmarshalDecode(dec, &w, UnionUnmarshalers); err != nil {
		return err
	}
	if err := checkType("embedded resource", w.Type, ContentTypeResource); err != nil {
		return err
	}
	if c.Resource == nil {
		return fmt.Errorf("protocol: embedded resource has no resource")
	}
	return nil
}

var emptyObject = jsontext.Value("{}")

// MarshalJSONTo implements json.MarshalerTo.
func (c *ToolUseContent) MarshalJSONTo(enc *jsontext.Encoder) error {
	type Fields ToolUseContent
	f := (*Fields)(c)
	if len(c.Input) == 0 {
		cp := *f
		cp.Input = emptyObject
		f = &cp
	}
	return json.MarshalEncode(enc, struct {
		Type string `json:"type"`
		*Fields
	}{ContentTypeToolUse, f})
}

// UnmarshalJSONFrom implements json.UnmarshalerFrom; "type" must be
// "tool_use".
func (c *ToolUseContent) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	type Fields ToolUseContent
	w := struct {
		Type string `json:"type"`
		*Fields
	}{Fields: (*Fields)(c)}
	if err := json.UnmarshalDecode(dec, &w); err != nil {
		return err
	}
	return checkType("tool use content", w.Type, ContentTypeToolUse)
}

// MarshalJSONTo implements json.MarshalerTo.
func (c *ToolResultContent) MarshalJSONTo(enc *jsontext.Encoder) error {
	type Fields ToolResultContent
	return json.MarshalEncode(enc, struct {
		Type string `json:"type"`
		*Fields
	}{ContentTypeToolResult, (*Fields)(c)})
}

// UnmarshalJSONFrom implements json.UnmarshalerFrom; "type" must be
// "tool_result".
func (c *ToolResultContent) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	type Fields ToolResultContent
	w := struct {
		Type string `json:"type"`
		*Fields
	}{Fields: (*Fields)(c)}
	if err := json.UnmarshalDecode(dec, &w, UnionUnmarshalers); err != nil {
		return err
	}
	return checkType("tool result content", w.Type, ContentTypeToolResult)
}

// marshalContentList writes a list of blocks (nil as []). Text blocks are
// written directly rather than through json.MarshalEncode, which would
// allocate a copy of each interface value.
func marshalContentList(enc *jsontext.Encoder, list []Content) error {
	if err := enc.WriteToken(jsontext.BeginArray); err != nil {
		return err
	}
	for _, c := range list {
		var err error
		if t, ok := c.(*TextContent); ok && t != nil {
			err = t.MarshalJSONTo(enc)
		} else {
			err = json.MarshalEncode(enc, c)
		}
		if err != nil {
			return err
		}
	}
	return enc.WriteToken(jsontext.EndArray)
}

// newContent returns a new zero block of the given type.
func newContent(typ string) (Content, bool) {
	switch typ {
	case ContentTypeText:
		return new(TextContent), true
	case ContentTypeImage:
		return new(ImageContent), true
	case ContentTypeAudio:
		return new(AudioContent), true
	case ContentTypeResourceLink:
		return new(ResourceLink), true
	case ContentTypeResource:
		return new(EmbeddedResource), true
	}
	return nil, false
}

// newSamplingContent returns a new zero sampling block of the given type.
func newSamplingContent(typ string) (SamplingContent, bool) {
	switch typ {
	case ContentTypeText:
		return new(TextContent), true
	case ContentTypeImage:
		return new(ImageContent), true
	case ContentTypeAudio:
		return new(AudioContent), true
	case ContentTypeToolUse:
		return new(ToolUseContent), true
	case ContentTypeToolResult:
		return new(ToolResultContent), true
	}
	return nil, false
}

func decodeContent(dec *jsontext.Decoder) (Content, error) {
	obj, err := readObject(dec, "content block")
	if err != nil {
		return nil, err
	}
	typ, err := memberType(obj, "content block")
	if err != nil {
		return nil, err
	}
	c, ok := newContent(typ)
	if !ok {
		return nil, fmt.Errorf("protocol: unknown content block type %q", typ)
	}
	if err := json.Unmarshal(obj, c); err != nil {
		return nil, err
	}
	return c, nil
}

func decodeSamplingContent(dec *jsontext.Decoder) (SamplingContent, error) {
	obj, err := readObject(dec, "sampling content block")
	if err != nil {
		return nil, err
	}
	typ, err := memberType(obj, "sampling content block")
	if err != nil {
		return nil, err
	}
	c, ok := newSamplingContent(typ)
	if !ok {
		return nil, fmt.Errorf("protocol: unknown sampling content block type %q", typ)
	}
	if err := json.Unmarshal(obj, c); err != nil {
		return nil, err
	}
	return c, nil
}

// SamplingContents is the content of a sampling message or result: one or
// more blocks. On the wire a single block is sent as a bare object (the
// only form revisions before 2025-11-25 understand) and any other number as
// an array; both forms are accepted when decoding.
type SamplingContents []SamplingContent

// MarshalJSONTo implements json.MarshalerTo.
func (s SamplingContents) MarshalJSONTo(enc *jsontext.Encoder) error {
	if len(s) == 1 {
		return json.MarshalEncode(enc, s[0])
	}
	if err := enc.WriteToken(jsontext.BeginArray); err != nil {
		return err
	}
	for _, c := range s {
		if err := json.MarshalEncode(enc, c); err != nil {
			return err
		}
	}
	return enc.WriteToken(jsontext.EndArray)
}

// UnmarshalJSONFrom implements json.UnmarshalerFrom.
func (s *SamplingContents) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	switch k := dec.PeekKind(); k {
	case '{':
		c, err := decodeSamplingContent(dec)
		if err != nil {
			return err
		}
		*s = SamplingContents{c}
		return nil
	case '[':
		var list []SamplingContent
		if err := json.UnmarshalDecode(dec, &list, UnionUnmarshalers); err != nil {
			return err
		}
		if list == nil {
			list = []SamplingContent{}
		}
		*s = list
		return nil
	default:
		if _, err := dec.ReadValue(); err != nil {
			return err
		}
		return fmt.Errorf("protocol: sampling content must be an object or an array, not %s", kindName(k))
	}
}

// ResourceContents is the contents of a resource: *TextResourceContents or
// *BlobResourceContents. The schema's ResourceContents definition is the
// part they share (uri, mimeType, _meta).
type ResourceContents interface {
	// ResourceURI returns the URI of the resource.
	ResourceURI() string
	isResourceContents()
}

// TextResourceContents is the contents of a text resource.
type TextResourceContents struct {
	// URI is the URI of the resource.
	URI string `json:"uri"`
	// MIMEType is its media type, if known.
	MIMEType string `json:"mimeType,omitzero"`
	// Text is the text of the resource.
	Text string `json:"text"`
	// Meta is the object's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}

// BlobResourceContents is the contents of a binary resource.
type BlobResourceContents struct {
	// URI is the URI of the resource.
	URI string `json:"uri"`
	// MIMEType is its media type, if known.
	MIMEType string `json:"mimeType,omitzero"`
	// Blob is the data, sent base64-encoded.
	Blob []byte `json:"blob"`
	// Meta is the object's _meta object.
	Meta Meta `json:"_meta,omitzero"`
}

// ResourceURI implements ResourceContents.
func (c *TextResourceContents) ResourceURI() string { return c.URI }

// ResourceURI implements ResourceContents.
func (c *BlobResourceContents) ResourceURI() string { return c.URI }

func (*TextResourceContents) isResourceContents() {}
func (*BlobResourceContents) isResourceContents() {}

func decodeResourceContents(dec *jsontext.Decoder) (ResourceContents, error) {
	obj, err := readObject(dec, "resource contents")
	if err != nil {
		return nil, err
	}
	var p struct {
		Text present `json:"text"`
		Blob present `json:"blob"`
	}
	if err := json.Unmarshal(obj, &p); err != nil {
		return nil, err
	}
	var c ResourceContents
	switch {
	case bool(p.Text && p.Blob):
		return nil, fmt.Errorf("protocol: resource contents have both text and blob")
	case bool(p.Text):
		c = new(TextResourceContents)
	case bool(p.Blob):
		c = new(BlobResourceContents)
	default:
		return nil, fmt.Errorf("protocol: resource contents have neither text nor blob")
	}
	if err := json.Unmarshal(obj, c); err != nil {
		return nil, err
	}
	return c, nil
}
