package streamable

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/switchboard-mcp/switchboard/internal/sse"
	"github.com/switchboard-mcp/switchboard/jsonrpc"
)

// Header names used by the transport.
const (
	// HeaderSessionID carries the session id (spelled "MCP-Session-Id" in
	// the 2025-11-25 text; header names are case-insensitive).
	HeaderSessionID = "Mcp-Session-Id"
	// HeaderProtocolVersion carries the protocol revision on every request
	// after initialization (2025-06-18 and later).
	HeaderProtocolVersion = "Mcp-Protocol-Version"
	// HeaderLastEventID carries the id of the last SSE event a reconnecting
	// client saw.
	HeaderLastEventID = "Last-Event-Id"
)

const (
	mediaJSON = "application/json"
	mediaSSE  = sse.ContentType
)

// parseAccept reports whether the Accept header values admit
// application/json and text/event-stream. No Accept header admits both, as
// HTTP specifies. Media ranges with q=0 exclude a type; a more specific
// range decides over a less specific one ("*/*, text/event-stream;q=0"
// admits only JSON). Malformed ranges are ignored.
func parseAccept(values []string) (json, sse bool) {
	if len(values) == 0 {
		return true, true
	}
	// Per type: the specificity of the best matching range so far (0: none,
	// 1: */*, 2: type/*, 3: exact) and whether it admits the type.
	var jsonLevel, sseLevel int
	for _, v := range values {
		for len(v) > 0 {
			var part string
			if i := strings.IndexByte(v, ','); i >= 0 {
				part, v = v[:i], v[i+1:]
			} else {
				part, v = v, ""
			}
			typ, sub, ok, q := parseMediaRange(part)
			if !ok {
				continue
			}
			if l := matchLevel(typ, sub, "application", "json"); l > jsonLevel {
				jsonLevel, json = l, q
			}
			if l := matchLevel(typ, sub, "text", "event-stream"); l > sseLevel {
				sseLevel, sse = l, q
			}
		}
	}
	return json, sse
}

func matchLevel(typ, sub, wantType, wantSub string) int {
	switch {
	case typ == "*" && sub == "*":
		return 1
	case !strings.EqualFold(typ, wantType):
		return 0
	case sub == "*":
		return 2
	case strings.EqualFold(sub, wantSub):
		return 3
	}
	return 0
}

// parseMediaRange splits "type/subtype;params" and reports whether the
// range has a non-zero quality.
func parseMediaRange(s string) (typ, sub string, ok, nonZero bool) {
	params := ""
	if i := strings.IndexByte(s, ';'); i >= 0 {
		s, params = s[:i], s[i+1:]
	}
	s = strings.TrimSpace(s)
	slash := strings.IndexByte(s, '/')
	if slash <= 0 || slash == len(s)-1 {
		return "", "", false, false
	}
	typ, sub = s[:slash], s[slash+1:]
	if typ == "*" && sub != "*" {
		return "", "", false, false
	}
	nonZero = true
	for len(params) > 0 {
		var p string
		if i := strings.IndexByte(params, ';'); i >= 0 {
			p, params = params[:i], params[i+1:]
		} else {
			p, params = params, ""
		}
		name, val, found := strings.Cut(p, "=")
		if !found || !strings.EqualFold(strings.TrimSpace(name), "q") {
			continue
		}
		if q, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil && q >= 0 && q <= 1 {
			nonZero = q > 0
		}
	}
	return typ, sub, true, nonZero
}

// isJSONContentType reports whether a Content-Type header value is
// application/json, with any parameters.
func isJSONContentType(v string) bool {
	if i := strings.IndexByte(v, ';'); i >= 0 {
		v = v[:i]
	}
	return strings.EqualFold(strings.TrimSpace(v), mediaJSON)
}

// validEventID reports whether a Last-Event-ID value is acceptable input
// for an EventStore: non-empty, at most maxEventIDLen bytes of visible
// ASCII.
func validEventID(id string) bool {
	if id == "" || len(id) > maxEventIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

// validSessionID reports whether a session id header value could have been
// issued by the handler (visible ASCII, bounded length); other values are
// answered with 404 without a map lookup.
func validSessionID(id string) bool {
	if id == "" || len(id) > MaxSessionIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

// writeError answers with an HTTP error status and a JSON-RPC error
// response as the body.
func writeError(w http.ResponseWriter, status int, code int64, id jsonrpc.ID, msg string) {
	body := jsonrpc.AppendErrorResponse(make([]byte, 0, 64+len(msg)), id, &jsonrpc.Error{Code: code, Message: msg})
	h := w.Header()
	h.Set("Content-Type", mediaJSON)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Del("Content-Encoding")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
