package protocol

import (
	"fmt"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// UnionUnmarshalers teaches json.Unmarshal the union interface types of this
// package: Content, SamplingContent, ResourceContents, PrimitiveSchema and
// CompletionReference. The types of this package use it internally; pass it
// when decoding types of your own that hold these interfaces:
//
//	var v struct{ Blocks []protocol.Content `json:"blocks"` }
//	err := json.Unmarshal(data, &v, protocol.UnionUnmarshalers)
var UnionUnmarshalers = json.WithUnmarshalers(json.JoinUnmarshalers(
	json.UnmarshalFromFunc(func(dec *jsontext.Decoder, v *Content) error {
		c, err := decodeContent(dec)
		if err == nil {
			*v = c
		}
		return err
	}),
	json.UnmarshalFromFunc(func(dec *jsontext.Decoder, v *SamplingContent) error {
		c, err := decodeSamplingContent(dec)
		if err == nil {
			*v = c
		}
		return err
	}),
	json.UnmarshalFromFunc(func(dec *jsontext.Decoder, v *ResourceContents) error {
		c, err := decodeResourceContents(dec)
		if err == nil {
			*v = c
		}
		return err
	}),
	json.UnmarshalFromFunc(func(dec *jsontext.Decoder, v *PrimitiveSchema) error {
		s, err := decodePrimitiveSchema(dec)
		if err == nil {
			*v = s
		}
		return err
	}),
	json.UnmarshalFromFunc(func(dec *jsontext.Decoder, v *CompletionReference) error {
		r, err := decodeCompletionReference(dec)
		if err == nil {
			*v = r
		}
		return err
	}),
))

// UnmarshalContent decodes one content block, choosing the variant by its
// "type" member.
func UnmarshalContent(data []byte) (Content, error) {
	var c Content
	err := json.Unmarshal(data, &c, UnionUnmarshalers)
	return c, err
}

// UnmarshalSamplingContent decodes one sampling message content block,
// choosing the variant by its "type" member.
func UnmarshalSamplingContent(data []byte) (SamplingContent, error) {
	var c SamplingContent
	err := json.Unmarshal(data, &c, UnionUnmarshalers)
	return c, err
}

// UnmarshalResourceContents decodes the contents of a resource: a
// *TextResourceContents if it has "text", a *BlobResourceContents if it has
// "blob".
func UnmarshalResourceContents(data []byte) (ResourceContents, error) {
	var c ResourceContents
	err := json.Unmarshal(data, &c, UnionUnmarshalers)
	return c, err
}

// UnmarshalPrimitiveSchema decodes the schema of one elicitation form field.
func UnmarshalPrimitiveSchema(data []byte) (PrimitiveSchema, error) {
	var s PrimitiveSchema
	err := json.Unmarshal(data, &s, UnionUnmarshalers)
	return s, err
}

// UnmarshalCompletionReference decodes the ref of a completion/complete
// request.
func UnmarshalCompletionReference(data []byte) (CompletionReference, error) {
	var r CompletionReference
	err := json.Unmarshal(data, &r, UnionUnmarshalers)
	return r, err
}

// readObject reads the next value, which must be a JSON object, and returns
// it. The result is only valid until the next read from dec.
func readObject(dec *jsontext.Decoder, what string) (jsontext.Value, error) {
	k := dec.PeekKind()
	v, err := dec.ReadValue()
	if err != nil {
		return nil, err
	}
	if k != '{' {
		return nil, fmt.Errorf("protocol: %s must be a JSON object, not %s", what, kindName(k))
	}
	return v, nil
}

func kindName(k jsontext.Kind) string {
	switch k {
	case 'n':
		return "null"
	case 'f', 't':
		return "a boolean"
	case '"':
		return "a string"
	case '0':
		return "a number"
	case '[':
		return "an array"
	case '{':
		return "an object"
	}
	return "invalid JSON"
}

// memberType returns the "type" member of a JSON object.
func memberType(obj jsontext.Value, what string) (string, error) {
	var t struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(obj, &t); err != nil {
		return "", err
	}
	if t.Type == "" {
		return "", fmt.Errorf("protocol: %s has no type", what)
	}
	return t.Type, nil
}

// checkType reports a "type" member that does not match the Go type being
// decoded into.
func checkType(what, got, want string) error {
	if got != want {
		if got == "" {
			return fmt.Errorf("protocol: %s has no type (want %q)", what, want)
		}
		return fmt.Errorf("protocol: %s has type %q, want %q", what, got, want)
	}
	return nil
}

// present records whether a member exists, without decoding it.
type present bool

// UnmarshalJSONFrom implements json.UnmarshalerFrom: it notes the member
// and skips its value.
func (p *present) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	*p = true
	return dec.SkipValue()
}
