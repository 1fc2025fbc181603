package jsonrpc

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// Standard JSON-RPC 2.0 error codes.
const (
	CodeParseError     = -32700
	CodeInvalidRequest = -32600
	CodeMethodNotFound = -32601
	CodeInvalidParams  = -32602
	CodeInternalError  = -32603
)

// Error is a JSON-RPC error object. It implements the error interface, so a
// handler can return one to choose the code and message sent to the peer.
type Error struct {
	Code    int64          `json:"code"`
	Message string         `json:"message"`
	Data    jsontext.Value `json:"data,omitzero"`
}

// Error implements the error interface. A message that repeats the code
// as its prefix, as the TypeScript SDK writes them ("MCP error -32602:
// ..."), is shown once.
func (e *Error) Error() string {
	msg := strings.TrimPrefix(e.Message, fmt.Sprintf("MCP error %d: ", e.Code))
	if len(e.Data) > 0 {
		return fmt.Sprintf("jsonrpc error %d: %s (data: %s)", e.Code, msg, e.Data)
	}
	return fmt.Sprintf("jsonrpc error %d: %s", e.Code, msg)
}

// Is reports whether target is an *Error with the same code, so that
// errors.Is(err, &jsonrpc.Error{Code: jsonrpc.CodeMethodNotFound}) works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// NewError returns an error with the given code and a formatted message.
func NewError(code int64, format string, args ...any) *Error {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	return &Error{Code: code, Message: msg}
}

// ErrMethodNotFound returns the standard error for an unknown method. The
// method name is elided past EchoLimit bytes.
func ErrMethodNotFound(method string) *Error {
	return &Error{Code: CodeMethodNotFound, Message: "method not found: " + Elide(method, EchoLimit)}
}

// EchoLimit is how many bytes of a peer's input (a method, tool or prompt
// name, a URI) an error message repeats: errors must not grow with the
// request that caused them.
const EchoLimit = 128

// Elide returns s unchanged when it is at most max bytes long, and
// otherwise its first max bytes (cut at a character boundary), an ellipsis
// and the length of s: "abc… (3145728 bytes)".
func Elide(s string, max int) string {
	if len(s) <= max {
		return s
	}
	return cut(s, max) + "… (" + strconv.Itoa(len(s)) + " bytes)"
}

// QuoteElided is strconv.Quote of s, elided like Elide, with the length
// outside the quotes: `"abc"… (3145728 bytes)`.
func QuoteElided(s string, max int) string {
	if len(s) <= max {
		return strconv.Quote(s)
	}
	return strconv.Quote(cut(s, max)) + "… (" + strconv.Itoa(len(s)) + " bytes)"
}

// cut returns the longest prefix of s of at most max bytes that does not
// split a UTF-8 sequence.
func cut(s string, max int) string {
	if max <= 0 {
		return ""
	}
	i := max
	for i > 0 && i > max-utf8.UTFMax && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

// ErrInvalidParams returns the standard error for bad parameters.
func ErrInvalidParams(format string, args ...any) *Error {
	return NewError(CodeInvalidParams, format, args...)
}

// ErrInternal returns the standard error for a failure inside the server.
func ErrInternal(format string, args ...any) *Error {
	return NewError(CodeInternalError, format, args...)
}
