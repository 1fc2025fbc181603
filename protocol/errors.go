package protocol

import (
	"github.com/go-json-experiment/json"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
)

// Error codes defined by MCP, beside the standard JSON-RPC codes of package
// jsonrpc (jsonrpc.CodeParseError and the others).
const (
	// CodeResourceNotFound reports a resources/read (or subscribe) of an
	// unknown URI. The error's data conventionally holds {"uri": ...}.
	CodeResourceNotFound = -32002
	// CodeURLElicitationRequired reports that the request needs URL mode
	// elicitations to complete first; the error's data is a
	// URLElicitationRequiredErrorData.
	CodeURLElicitationRequired = -32042
)

// URLElicitationRequiredErrorData is the data of a
// CodeURLElicitationRequired error: the URL mode elicitations the client
// must complete before retrying the request.
type URLElicitationRequiredErrorData struct {
	// Elicitations are URL mode elicitation requests, each with an
	// ElicitationID.
	Elicitations []ElicitRequestParams `json:"elicitations"`
}

// NewURLElicitationRequiredError returns the error a server answers with
// when a request needs the user to complete the given URL mode
// elicitations first. Mode is set to URL on each of them.
func NewURLElicitationRequiredError(message string, elicitations ...ElicitRequestParams) *jsonrpc.Error {
	d := URLElicitationRequiredErrorData{Elicitations: make([]ElicitRequestParams, len(elicitations))}
	for i, e := range elicitations {
		e.Mode = ElicitModeURL
		d.Elicitations[i] = e
	}
	data, err := json.Marshal(d)
	if err != nil {
		// Unreachable: the data holds only strings and _meta maps of
		// JSON-encodable values.
		return jsonrpc.ErrInternal("encoding URL elicitation error: %v", err)
	}
	return &jsonrpc.Error{Code: CodeURLElicitationRequired, Message: message, Data: data}
}

// URLElicitationRequired returns the data of a CodeURLElicitationRequired
// error, and false if e has another code or its data is malformed.
func URLElicitationRequired(e *jsonrpc.Error) (*URLElicitationRequiredErrorData, bool) {
	if e == nil || e.Code != CodeURLElicitationRequired {
		return nil, false
	}
	var d URLElicitationRequiredErrorData
	if err := json.Unmarshal(e.Data, &d); err != nil {
		return nil, false
	}
	return &d, true
}

// NewResourceNotFoundError returns the error for a request about an unknown
// resource, with {"uri": uri} as data.
func NewResourceNotFoundError(uri string) *jsonrpc.Error {
	data, _ := json.Marshal(struct {
		URI string `json:"uri"`
	}{uri})
	return &jsonrpc.Error{Code: CodeResourceNotFound, Message: "resource not found: " + jsonrpc.Elide(uri, jsonrpc.EchoLimit), Data: data}
}
