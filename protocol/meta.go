package protocol

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
)

// ProgressToken identifies the request a progress notification is about: a
// string or an integer chosen by the requester.
type ProgressToken = jsonrpc.ID

// Meta is a _meta object: metadata attached to requests, results,
// notifications and many other objects. Values decoded from JSON have the
// types json.Unmarshal gives an any (string, float64, bool, nil,
// []any, map[string]any).
//
// A Meta encodes with its keys sorted, nested objects included, so that
// the same metadata always gives the same bytes (a list's result can be
// compared and cached).
type Meta map[string]any

// MarshalJSONTo implements json.MarshalerTo: the keys sorted (see Meta).
func (m Meta) MarshalJSONTo(enc *jsontext.Encoder) error {
	if m == nil {
		return enc.WriteToken(jsontext.Null)
	}
	return json.MarshalEncode(enc, map[string]any(m), json.Deterministic(true))
}

// Keys of _meta with a meaning defined by the 2025-11-25 revision.
const (
	// MetaProgressToken, in a request's _meta, asks for progress
	// notifications carrying this token.
	MetaProgressToken = "progressToken"
	// MetaRelatedTask ties a request, result or notification to a task;
	// its value is a RelatedTaskMetadata object.
	MetaRelatedTask = "io.modelcontextprotocol/related-task"
	// MetaModelImmediateResponse, in the _meta of a CreateTaskResult for a
	// tools/call, holds a string the host may hand to the model as an
	// immediate tool result while the task runs.
	MetaModelImmediateResponse = "io.modelcontextprotocol/model-immediate-response"
)

// ProgressToken returns the progress token of a request's _meta
// (MetaProgressToken), and false if there is none or it is neither a string
// nor an integer.
func (m Meta) ProgressToken() (ProgressToken, bool) {
	v, ok := m[MetaProgressToken]
	if !ok {
		return ProgressToken{}, false
	}
	return idFromAny(v)
}

// SetProgressToken sets the progress token, allocating the map if needed.
func (m *Meta) SetProgressToken(t ProgressToken) { m.set(MetaProgressToken, t) }

// RelatedTask returns the task the message is related to
// (MetaRelatedTask), and false if the key is absent or malformed.
func (m Meta) RelatedTask() (RelatedTaskMetadata, bool) {
	switch v := m[MetaRelatedTask].(type) {
	case RelatedTaskMetadata:
		return v, v.TaskID != ""
	case *RelatedTaskMetadata:
		if v != nil && v.TaskID != "" {
			return *v, true
		}
	case map[string]any:
		if id, ok := v["taskId"].(string); ok && id != "" {
			return RelatedTaskMetadata{TaskID: id}, true
		}
	case map[string]string:
		if id := v["taskId"]; id != "" {
			return RelatedTaskMetadata{TaskID: id}, true
		}
	}
	return RelatedTaskMetadata{}, false
}

// SetRelatedTask ties the message to a task, allocating the map if needed.
func (m *Meta) SetRelatedTask(taskID string) {
	m.set(MetaRelatedTask, RelatedTaskMetadata{TaskID: taskID})
}

// ModelImmediateResponse returns the MetaModelImmediateResponse string of a
// CreateTaskResult's _meta.
func (m Meta) ModelImmediateResponse() (string, bool) {
	s, ok := m[MetaModelImmediateResponse].(string)
	return s, ok
}

func (m *Meta) set(key string, v any) {
	if *m == nil {
		*m = Meta{}
	}
	(*m)[key] = v
}

// idFromAny converts a decoded JSON value (or a Go value put in a Meta) to
// an id: strings and integral numbers qualify.
func idFromAny(v any) (jsonrpc.ID, bool) {
	switch v := v.(type) {
	case jsonrpc.ID:
		return v, v.IsValid()
	case *jsonrpc.ID:
		if v != nil && v.IsValid() {
			return *v, true
		}
	case string:
		return jsonrpc.StringID(v), true
	case float64:
		if v == math.Trunc(v) && math.Abs(v) <= 1<<53 {
			return jsonrpc.Int64ID(int64(v)), true
		}
	case int:
		return jsonrpc.Int64ID(int64(v)), true
	case int32:
		return jsonrpc.Int64ID(int64(v)), true
	case int64:
		return jsonrpc.Int64ID(v), true
	}
	return jsonrpc.ID{}, false
}

// ValidMetaKey checks a _meta key against the format of the specification:
// an optional prefix of dot-separated labels followed by a slash (each
// label starts with a letter, ends with a letter or digit and has letters,
// digits and hyphens in between), then a name that, unless empty, starts
// and ends with a letter or digit and has letters, digits, hyphens,
// underscores and dots in between.
func ValidMetaKey(key string) error {
	prefix, name, hasPrefix := strings.Cut(key, "/")
	if !hasPrefix {
		prefix, name = "", key
	} else {
		if prefix == "" {
			return errors.New("protocol: _meta key has an empty prefix")
		}
		for label := range strings.SplitSeq(prefix, ".") {
			if !validLabel(label) {
				return fmt.Errorf("protocol: _meta key prefix has an invalid label %q", label)
			}
		}
	}
	if !validMetaName(name) {
		return fmt.Errorf("protocol: _meta key has an invalid name %q", name)
	}
	return nil
}

// IsReservedMetaKey reports whether key has a prefix reserved for MCP: one
// whose second label is "modelcontextprotocol" or "mcp" (as in
// "io.modelcontextprotocol/" or "dev.mcp/").
func IsReservedMetaKey(key string) bool {
	prefix, _, ok := strings.Cut(key, "/")
	if !ok {
		return false
	}
	labels := strings.Split(prefix, ".")
	return len(labels) >= 2 && (labels[1] == "modelcontextprotocol" || labels[1] == "mcp")
}

func validLabel(s string) bool {
	if s == "" || !isLetter(s[0]) || !isAlnum(s[len(s)-1]) {
		return false
	}
	for i := 1; i < len(s)-1; i++ {
		if !isAlnum(s[i]) && s[i] != '-' {
			return false
		}
	}
	return true
}

func validMetaName(s string) bool {
	if s == "" {
		return true
	}
	if !isAlnum(s[0]) || !isAlnum(s[len(s)-1]) {
		return false
	}
	for i := 1; i < len(s)-1; i++ {
		if c := s[i]; !isAlnum(c) && c != '-' && c != '_' && c != '.' {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isAlnum(c byte) bool  { return isLetter(c) || '0' <= c && c <= '9' }
