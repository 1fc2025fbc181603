package jsonrpc

import "github.com/go-json-experiment/json/jsontext"

// Version is the value of the "jsonrpc" member of every message.
const Version = "2.0"

// Message is a decoded JSON-RPC message: a *Request (which is a notification
// when its ID is absent) or a *Response.
type Message interface {
	isMessage()
}

// Request is a JSON-RPC request or, when ID is absent, a notification.
type Request struct {
	// ID is the request id; the zero ID marks a notification.
	ID ID
	// Method is the name of the method to invoke.
	Method string
	// Params holds the raw "params" member, nil when absent.
	Params jsontext.Value
}

// IsNotification reports whether the request expects no response.
func (r *Request) IsNotification() bool { return !r.ID.IsValid() }

func (*Request) isMessage() {}

// Response is a JSON-RPC response: exactly one of Result and Error is set.
type Response struct {
	// ID is the id of the request this answers. It is absent only for an
	// error about a request whose id could not be read.
	ID ID
	// Result is the raw "result" member of a successful response.
	Result jsontext.Value
	// Error is the error of a failed response.
	Error *Error
}

func (*Response) isMessage() {}
