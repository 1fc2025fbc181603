package jsonrpc

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"sync"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// DecodeError describes a frame that is not a valid JSON-RPC message. It
// carries the code and, when one could be read, the id to answer with, so a
// receiver can reply with a proper error response.
type DecodeError struct {
	// Code is CodeParseError for malformed JSON and CodeInvalidRequest for
	// well-formed JSON that is not a valid message.
	Code int64
	// ID is the id of the offending request, if it could be read.
	ID ID
	// Reason says what is wrong.
	Reason string
}

// Error implements the error interface.
func (e *DecodeError) Error() string {
	return "jsonrpc: " + e.Reason
}

// AsError converts the decode error into the error object to send back.
func (e *DecodeError) AsError() *Error {
	msg := "invalid request: "
	if e.Code == CodeParseError {
		msg = "parse error: "
	}
	return &Error{Code: e.Code, Message: msg + e.Reason}
}

type decoder struct {
	buf bytes.Buffer
	dec jsontext.Decoder
}

var decoders = sync.Pool{New: func() any { return new(decoder) }}

// Decode decodes one JSON-RPC message from data. The returned message refers
// to data (Params, Result and Error.Data are sub-slices of it), so data must
// not be modified afterwards.
//
// Member names are matched case-sensitively; duplicate member names, a
// "jsonrpc" member other than "2.0", a null or non-scalar id on a request,
// non-structured params and responses with both or neither of result and
// error are rejected with a *DecodeError. Unknown members are ignored.
func Decode(data []byte) (Message, error) {
	d := decoders.Get().(*decoder)
	d.buf = *bytes.NewBuffer(data)
	d.dec.Reset(&d.buf)
	m, err := decodeMessage(&d.dec)
	if err == nil {
		if _, err2 := d.dec.ReadToken(); err2 != io.EOF {
			m, err = nil, &DecodeError{Code: CodeParseError, Reason: "trailing data after the message"}
		}
	}
	d.buf = bytes.Buffer{}
	d.dec.Reset(&d.buf)
	decoders.Put(d)
	return m, err
}

// DecodeBatch decodes data as either one message or a JSON array of
// messages (a JSON-RPC batch). isBatch reports which form was used. An
// empty batch is an error. When some elements are invalid, the valid ones
// are returned and errs holds one entry per element (nil for valid ones);
// err reports a frame that could not be split at all.
func DecodeBatch(data []byte) (msgs []Message, errs []error, isBatch bool, err error) {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '[' {
		m, err := Decode(data)
		if err != nil {
			return nil, nil, false, err
		}
		return []Message{m}, nil, false, nil
	}
	var elems []jsontext.Value
	if err := json.Unmarshal(trimmed, &elems); err != nil {
		return nil, nil, true, &DecodeError{Code: CodeParseError, Reason: syntaxReason(err)}
	}
	if len(elems) == 0 {
		return nil, nil, true, &DecodeError{Code: CodeInvalidRequest, Reason: "empty batch"}
	}
	msgs = make([]Message, len(elems))
	errs = make([]error, len(elems))
	anyErr := false
	for i, e := range elems {
		msgs[i], errs[i] = Decode(e)
		anyErr = anyErr || errs[i] != nil
	}
	if !anyErr {
		errs = nil
	}
	return msgs, errs, true, nil
}

func syntaxReason(err error) string {
	var se *jsontext.SyntacticError
	if errors.As(err, &se) {
		return se.Error()
	}
	return err.Error()
}

func decodeMessage(dec *jsontext.Decoder) (Message, error) {
	if k := dec.PeekKind(); k != '{' {
		if k == 0 {
			_, err := dec.ReadToken()
			return nil, &DecodeError{Code: CodeParseError, Reason: syntaxReasonOrEOF(err)}
		}
		if _, err := dec.ReadValue(); err != nil {
			return nil, &DecodeError{Code: CodeParseError, Reason: syntaxReason(err)}
		}
		return nil, &DecodeError{Code: CodeInvalidRequest, Reason: "a message must be a JSON object"}
	}
	if _, err := dec.ReadToken(); err != nil {
		return nil, &DecodeError{Code: CodeParseError, Reason: syntaxReason(err)}
	}
	var (
		version                       []byte
		idRaw, params, result, errRaw jsontext.Value
		method                        string
		hasMethod, hasID              bool
	)
	for dec.PeekKind() != '}' {
		name, err := dec.ReadValue()
		if err != nil {
			return nil, &DecodeError{Code: CodeParseError, Reason: syntaxReason(err)}
		}
		val, err := dec.ReadValue()
		if err != nil {
			return nil, &DecodeError{Code: CodeParseError, Reason: syntaxReason(err)}
		}
		switch unquotedName(name) {
		case "jsonrpc":
			version = val
		case "id":
			idRaw, hasID = val, true
		case "method":
			if val.Kind() != '"' {
				return nil, &DecodeError{Code: CodeInvalidRequest, Reason: "method must be a string"}
			}
			method, hasMethod = internString(val), true
		case "params":
			params = val
		case "result":
			result = val
		case "error":
			errRaw = val
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		return nil, &DecodeError{Code: CodeParseError, Reason: syntaxReason(err)}
	}

	var id ID
	if hasID {
		var err error
		if id, err = parseID(idRaw); err != nil {
			return nil, &DecodeError{Code: CodeInvalidRequest, Reason: "id must be a string or an integer"}
		}
	}
	if string(version) != `"2.0"` {
		reason := `missing "jsonrpc" member`
		if version != nil {
			reason = `"jsonrpc" must be "2.0", got ` + string(version)
		}
		return nil, &DecodeError{Code: CodeInvalidRequest, ID: id, Reason: reason}
	}
	if hasMethod {
		if result != nil || errRaw != nil {
			return nil, &DecodeError{Code: CodeInvalidRequest, ID: id, Reason: "a request must not carry result or error"}
		}
		if hasID && !id.IsValid() {
			return nil, &DecodeError{Code: CodeInvalidRequest, Reason: "request id must not be null"}
		}
		if params != nil {
			if k := params.Kind(); k != '{' && k != '[' {
				return nil, &DecodeError{Code: CodeInvalidRequest, ID: id, Reason: "params must be an object or an array"}
			}
		}
		return &Request{ID: id, Method: method, Params: params}, nil
	}
	switch {
	case !hasID:
		return nil, &DecodeError{Code: CodeInvalidRequest, Reason: "message has neither method nor id"}
	case result != nil && errRaw != nil:
		return nil, &DecodeError{Code: CodeInvalidRequest, ID: id, Reason: "a response must not carry both result and error"}
	case result != nil:
		return &Response{ID: id, Result: result}, nil
	case errRaw != nil:
		e := new(Error)
		if err := json.Unmarshal(errRaw, e); err != nil || errRaw.Kind() != '{' {
			return nil, &DecodeError{Code: CodeInvalidRequest, ID: id, Reason: "malformed error object"}
		}
		return &Response{ID: id, Error: e}, nil
	default:
		return nil, &DecodeError{Code: CodeInvalidRequest, ID: id, Reason: "a response must carry result or error"}
	}
}

func syntaxReasonOrEOF(err error) string {
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "empty message"
	}
	return syntaxReason(err)
}

// unquotedName returns the member name without quotes when it has no
// escapes (the common case, without allocating), or its unescaped form.
func unquotedName(v jsontext.Value) string {
	b := v[1 : len(v)-1]
	if bytes.IndexByte(b, '\\') < 0 {
		switch string(b) { // no allocation: the compiler optimises string(b) in a switch
		case "jsonrpc":
			return "jsonrpc"
		case "id":
			return "id"
		case "method":
			return "method"
		case "params":
			return "params"
		case "result":
			return "result"
		case "error":
			return "error"
		}
		return ""
	}
	s, err := jsontext.AppendUnquote(nil, v)
	if err != nil {
		return ""
	}
	return string(s)
}

// knownMethods holds method names that decode without an allocation.
var knownMethods = func() map[string]string {
	m := make(map[string]string)
	for _, s := range []string{
		"initialize", "ping", "tools/list", "tools/call", "resources/list",
		"resources/read", "resources/templates/list", "resources/subscribe",
		"resources/unsubscribe", "prompts/list", "prompts/get",
		"completion/complete", "logging/setLevel", "sampling/createMessage",
		"elicitation/create", "roots/list", "tasks/get", "tasks/list",
		"tasks/result", "tasks/cancel", "server/discover", "subscriptions/listen",
		"notifications/initialized", "notifications/cancelled",
		"notifications/progress", "notifications/message",
		"notifications/resources/updated", "notifications/resources/list_changed",
		"notifications/tools/list_changed", "notifications/prompts/list_changed",
		"notifications/roots/list_changed", "notifications/tasks/status",
		"notifications/elicitation/complete",
	} {
		m[s] = s
	}
	return m
}()

func internString(v jsontext.Value) string {
	b := v[1 : len(v)-1]
	if bytes.IndexByte(b, '\\') < 0 {
		if s, ok := knownMethods[string(b)]; ok {
			return s
		}
		return string(b)
	}
	s, _ := jsontext.AppendUnquote(nil, v)
	return string(s)
}

// AppendRequest appends the encoding of a request (or notification) whose
// params are already encoded.
func AppendRequest(dst []byte, r *Request) []byte {
	dst = append(dst, `{"jsonrpc":"2.0"`...)
	if r.ID.IsValid() {
		dst = append(dst, `,"id":`...)
		dst = r.ID.AppendJSON(dst)
	}
	dst = append(dst, `,"method":`...)
	dst, _ = jsontext.AppendQuote(dst, r.Method)
	if len(r.Params) > 0 {
		dst = append(dst, `,"params":`...)
		dst = append(dst, r.Params...)
	}
	return append(dst, '}')
}

// AppendResponse appends the encoding of a response.
func AppendResponse(dst []byte, r *Response) []byte {
	dst = append(dst, `{"jsonrpc":"2.0","id":`...)
	dst = r.ID.AppendJSON(dst)
	if r.Error != nil {
		dst = append(dst, `,"error":`...)
		dst = appendError(dst, r.Error)
	} else {
		dst = append(dst, `,"result":`...)
		if len(r.Result) == 0 {
			dst = append(dst, "{}"...)
		} else {
			dst = append(dst, r.Result...)
		}
	}
	return append(dst, '}')
}

// AppendMessage appends the encoding of a *Request or *Response.
func AppendMessage(dst []byte, m Message) []byte {
	switch m := m.(type) {
	case *Request:
		return AppendRequest(dst, m)
	case *Response:
		return AppendResponse(dst, m)
	}
	panic("jsonrpc: unknown message type")
}

func appendError(dst []byte, e *Error) []byte {
	dst = append(dst, `{"code":`...)
	dst = strconv.AppendInt(dst, e.Code, 10)
	dst = append(dst, `,"message":`...)
	dst, _ = jsontext.AppendQuote(dst, e.Message)
	if len(e.Data) > 0 && jsontext.Value(e.Data).IsValid() {
		dst = append(dst, `,"data":`...)
		dst = append(dst, e.Data...)
	}
	return append(dst, '}')
}

// AppendResult appends a successful response whose result is marshalled from
// v straight into dst, avoiding an intermediate copy of the result.
func AppendResult(dst []byte, id ID, v any) ([]byte, error) {
	dst = append(dst, `{"jsonrpc":"2.0","id":`...)
	dst = id.AppendJSON(dst)
	dst = append(dst, `,"result":`...)
	w := appendWriter{dst}
	if err := json.MarshalWrite(&w, v); err != nil {
		return dst, err
	}
	return append(w.b, '}'), nil
}

// AppendErrorResponse appends an error response.
func AppendErrorResponse(dst []byte, id ID, e *Error) []byte {
	return AppendResponse(dst, &Response{ID: id, Error: e})
}

type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}
