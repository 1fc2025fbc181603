// Package sse writes and parses Server-Sent Events streams as defined by the
// WHATWG HTML standard, section "Server-sent events"
// (https://html.spec.whatwg.org/multipage/server-sent-events.html). MCP uses
// them in its Streamable HTTP transport and in the legacy HTTP+SSE
// transport, on both the server side ([AppendEvent], [Writer]) and the
// client side ([Reader]).
//
// # Writing
//
// [AppendEvent] encodes one event. It never produces bytes that would break
// the stream's framing: an id or event name containing CR, LF or NUL is
// rejected with an error wrapping [ErrInvalidEvent] (nothing is sanitized),
// and data is split into one "data:" line per line of the payload, where
// LF, CRLF and a lone CR all end a line. Because the format has no way to
// carry a CR, a reader gets the data back with every CRLF and CR turned
// into LF.
//
// # Reading
//
// [Reader] follows the standard's parsing rules (line endings, the leading
// byte order mark, comments, the single space after the colon, ignored
// unknown fields, ids containing NUL, digits-only retry values) with these
// documented choices, made for MCP:
//
//   - An event block is reported by [Reader.Next] when it holds at least
//     one data line (even an empty one), an id field or a retry field. A
//     browser would dispatch only blocks with data; MCP servers, however,
//     "prime" streams with an event carrying an id and an empty data field,
//     and end them with a bare retry field, and a client must learn both.
//     [Event.HasData] tells messages (blocks with data lines) from id- or
//     retry-only blocks, which carry no message. Blocks with none of those
//     fields (only an event name, unknown fields or nothing) are consumed
//     silently.
//   - [Event.ID] and [Event.HasID] describe the block's own id field; the
//     standard's "last event ID", which persists from block to block until
//     the server changes it, is [Reader.LastEventID].
//   - Bytes are not UTF-8 decoded: invalid UTF-8 passes through unchanged
//     instead of becoming U+FFFD. MCP payloads are JSON, whose decoder
//     validates them.
//   - Fields take effect when their block is terminated by a blank line; a
//     block cut short by the end of the stream is discarded whole,
//     including a retry field that a browser would already have applied.
//
// Every byte read is treated as hostile: an event's size is bounded (see
// [NewReader]), and the parser's work is linear in its input.
package sse

import (
	"errors"
	"strings"
	"time"
)

// ContentType is the media type of an event stream.
const ContentType = "text/event-stream"

// DefaultMaxEventSize bounds an event when [NewReader] is given a
// non-positive limit. It matches the stdio transport's message limit.
const DefaultMaxEventSize = 16 << 20

// ErrEventTooLarge is returned by [Reader.Next] for an event larger than
// the reader's limit. The reader stays unusable afterwards.
var ErrEventTooLarge = errors.New("sse: event too large")

// ErrInvalidEvent is wrapped by the errors [AppendEvent] and [Writer.Write]
// return for an event that cannot be encoded without breaking the stream.
var ErrInvalidEvent = errors.New("sse: invalid event")

// Event is one event of a stream: the fields of one block of lines
// terminated by a blank line.
//
// For writing, a field is emitted when its Has flag is set or its value is
// not zero, so Event{ID: "7", HasData: true} encodes "id: 7\ndata:\n\n",
// the empty-data priming event of MCP's Streamable HTTP transport. For
// reading, the Has flags report which fields the block contained.
type Event struct {
	// ID is the value of the block's "id" field. HasID distinguishes an
	// id field with an empty value (which resets the last event ID) from
	// no id field at all.
	ID    string
	HasID bool

	// Name is the value of the "event" field, the event type. An empty
	// Name means "message", the default type; see [Event.Type].
	Name string

	// Data is the value of the block's "data" lines joined with "\n".
	// HasData reports that the block had at least one data line, possibly
	// empty: a block with HasData is a message, one without only updates
	// the last event ID or the reconnection time. When reading, Data is
	// nil when empty and otherwise owned by the caller.
	Data    []byte
	HasData bool

	// Retry is the value of the "retry" field, the reconnection time
	// (transmitted in whole milliseconds). HasRetry distinguishes
	// "retry: 0" from no retry field.
	Retry    time.Duration
	HasRetry bool
}

// Type returns the event type: Name, or "message" if Name is empty.
func (e Event) Type() string {
	if e.Name == "" {
		return "message"
	}
	return e.Name
}

// IsEventStream reports whether the value of a Content-Type header names
// the text/event-stream media type. The comparison ignores case and
// surrounding whitespace, and parameters (such as "; charset=utf-8") are
// allowed and not examined.
func IsEventStream(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	return strings.EqualFold(strings.Trim(mt, " \t"), ContentType)
}
