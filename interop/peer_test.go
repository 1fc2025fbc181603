package interop

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"
)

// obj is a JSON object as decoded by encoding/json.
type obj = map[string]any

// A notification is a server-to-client notification as the peer client
// received it: the method and the params re-encoded as JSON.
type notification struct {
	Method string
	Params obj
}

// A peerClient is a session of a peer MCP client library, connected to the
// server under test and initialized. Every result is the peer's own typed
// result re-encoded as JSON, so one set of checks serves every peer and
// shows what the peer understood of our server's replies.
type peerClient interface {
	// InitializeResult is the result of the initialize request.
	InitializeResult() obj
	// List returns every item (all pages) of kind: "tools", "resources",
	// "resourceTemplates" or "prompts".
	List(ctx context.Context, kind string) ([]obj, error)
	// CallTool calls a tool. With progress set it asks for progress
	// notifications and returns the progress token it sent.
	CallTool(ctx context.Context, name string, args obj, progress bool) (res obj, token any, err error)
	ReadResource(ctx context.Context, uri string) (obj, error)
	GetPrompt(ctx context.Context, name string, args map[string]string) (obj, error)
	// Complete asks for completions of argument arg (current value value)
	// of the prompt or resource template ref ({"type":"ref/prompt","name":…}).
	Complete(ctx context.Context, ref obj, arg, value string) (obj, error)
	SetLevel(ctx context.Context, level string) error
	Subscribe(ctx context.Context, uri string) error
	Unsubscribe(ctx context.Context, uri string) error
	Ping(ctx context.Context) error
	// Notifications returns the notifications received so far, in order.
	Notifications() []notification
	Close() error
}

// notifLog is a concurrency-safe notification recorder for peer adapters.
type notifLog struct {
	mu sync.Mutex
	ns []notification
}

func (l *notifLog) add(method string, params any) {
	p, _ := toObj(params)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ns = append(l.ns, notification{Method: method, Params: p})
}

func (l *notifLog) all() []notification {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.ns)
}

// toObj re-encodes v (a peer's typed value) as a JSON object.
func toObj(v any) (obj, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var o obj
	if err := json.Unmarshal(b, &o); err != nil {
		return nil, fmt.Errorf("%s: %w", b, err)
	}
	return o, nil
}

// fromObj decodes the JSON object o into the peer's typed value out.
func fromObj(o obj, out any) error {
	b, err := json.Marshal(o)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

// recode re-encodes v into out through JSON.
func recode(v, out any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%#v", v)
	}
	return string(b)
}

// Server-initiated requests are answered the same way by every peer
// client, so that the demo's replies can be checked exactly.

// samplingModel is the model name every peer's sampling handler reports.
const samplingModel = "interop-model"

// samplingReply builds the sampling/createMessage result for params: an
// assistant text message "sampled: " + the text of the first message.
func samplingReply(params obj) obj {
	prompt := ""
	if msgs, ok := params["messages"].([]any); ok && len(msgs) > 0 {
		if m, ok := msgs[0].(obj); ok {
			prompt = textOf(m["content"])
		}
	}
	return obj{
		"role":       "assistant",
		"content":    obj{"type": "text", "text": "sampled: " + prompt},
		"model":      samplingModel,
		"stopReason": "endTurn",
	}
}

// textOf returns the text of a text content block, or of the first text
// block in an array of them.
func textOf(c any) string {
	switch c := c.(type) {
	case obj:
		if c["type"] == "text" {
			s, _ := c["text"].(string)
			return s
		}
	case []any:
		for _, x := range c {
			if s := textOf(x); s != "" {
				return s
			}
		}
	}
	return ""
}

// elicitReply builds the elicitation/create result for params: accept,
// with each requested property set to its default, or "interop" for
// strings without one.
func elicitReply(params obj) obj {
	content := obj{}
	schema, _ := params["requestedSchema"].(obj)
	props, _ := schema["properties"].(obj)
	for name, p := range props {
		p, _ := p.(obj)
		if d, ok := p["default"]; ok {
			content[name] = d
			continue
		}
		switch p["type"] {
		case "string":
			content[name] = "interop"
		case "number", "integer":
			content[name] = 1
		case "boolean":
			content[name] = true
		}
	}
	return obj{"action": "accept", "content": content}
}

// The demo's fixtures (internal/everything), as the checks expect them.
const (
	demoImageB64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
	demoAudioB64 = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA="
	watchedURI   = "test://watched-resource"
)

// contentOf returns the content array of a tool or prompt result.
func contentOf(res obj) []obj {
	arr, _ := res["content"].([]any)
	out := make([]obj, 0, len(arr))
	for _, x := range arr {
		o, _ := x.(obj)
		out = append(out, o)
	}
	return out
}

// names returns the "name" (or, for templates, "uriTemplate") of items.
func names(items []obj, key string) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		s, _ := it[key].(string)
		out = append(out, s)
	}
	return out
}

// missing returns the elements of want that are not in have.
func missing(have, want []string) []string {
	var out []string
	for _, w := range want {
		if !slices.Contains(have, w) {
			out = append(out, w)
		}
	}
	return out
}

// sameBase64 reports whether a and b encode the same bytes.
func sameBase64(a, b string) bool {
	x, err1 := base64.StdEncoding.DecodeString(a)
	y, err2 := base64.StdEncoding.DecodeString(b)
	return err1 == nil && err2 == nil && reflect.DeepEqual(x, y)
}

// waitNotifications polls p until match finds what it wants among the
// received notifications, or d passes.
func waitNotifications(ctx context.Context, p peerClient, d time.Duration, match func([]notification) bool) ([]notification, bool) {
	deadline := time.Now().Add(d)
	for {
		ns := p.Notifications()
		if match(ns) {
			return ns, true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return ns, false
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func methodsOf(ns []notification) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.Method
	}
	return out
}

func sortedKeys(o obj) []string {
	return slices.Sorted(maps.Keys(o))
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
