package limits

import (
	"bufio"
	"bytes"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json"

	"github.com/switchboard-mcp/switchboard/gateway"
)

// HTTPStatus wraps the gateway's Streamable HTTP handler so that a
// request a limit refused is answered with HTTP 429 Too Many Requests and
// Retry-After (whole seconds), where the transport allows: when the answer
// is one JSON-RPC response in a JSON body (not an event stream, which has
// sent its status already, nor a batch, whose other answers must not be
// lost). The body is kept: a JSON-RPC response whose tool result (or
// error) says how long to wait. Elsewhere (streams, stdio) the caller gets
// that tool error alone.
func HTTPStatus(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		sw.commit(nil)
	})
}

// statusWriter holds the status line back until the first bytes of the
// body show whether a limit refused the request.
type statusWriter struct {
	http.ResponseWriter
	code    int
	decided bool
}

func (w *statusWriter) WriteHeader(code int) {
	if w.decided {
		return
	}
	w.code = code
	ct := w.Header().Get("Content-Type")
	if code != http.StatusOK || !strings.HasPrefix(ct, "application/json") {
		w.commit(nil)
	}
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.decided {
		w.commit(b)
	}
	return w.ResponseWriter.Write(b)
}

// commit sends the status line, 429 when body is a JSON response that a
// limit refused.
func (w *statusWriter) commit(body []byte) {
	if w.decided {
		return
	}
	w.decided = true
	code := w.code
	if code == 0 {
		if body == nil {
			return // nothing was written; net/http sends 200
		}
		code = http.StatusOK
	}
	if code == http.StatusOK && strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		if ms, ok := limitedAnswer(body); ok {
			w.Header().Set("Retry-After", strconv.FormatInt(max(1, (ms+999)/1000), 10))
			code = http.StatusTooManyRequests
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

// limitedAnswer reports whether body is one JSON-RPC response refused by
// a limit, and the milliseconds to wait.
func limitedAnswer(body []byte) (int64, bool) {
	if len(body) == 0 || body[0] != '{' || !(bytes.Contains(body, []byte(gateway.MetaRetryAfter)) || bytes.Contains(body, []byte(strconv.Itoa(gateway.CodeLimited)))) {
		return 0, false
	}
	var resp struct {
		Result *struct {
			IsError bool           `json:"isError"`
			Meta    map[string]any `json:"_meta"`
		} `json:"result"`
		Error *struct {
			Code int `json:"code"`
			Data struct {
				RetryAfterMs int64 `json:"retryAfterMs"`
			} `json:"data"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &resp, json.RejectUnknownMembers(false)) != nil {
		return 0, false
	}
	switch {
	case resp.Result != nil && resp.Result.IsError:
		if v, ok := resp.Result.Meta[gateway.MetaRetryAfter].(float64); ok && v >= 0 {
			return int64(v), true
		}
	case resp.Error != nil && resp.Error.Code == gateway.CodeLimited:
		return resp.Error.Data.RetryAfterMs, true
	}
	return 0, false
}

// Flush sends what was written.
func (w *statusWriter) Flush() {
	if !w.decided {
		w.commit(nil)
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap gives http.ResponseController the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Hijack passes through to the underlying writer.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if h, ok := w.ResponseWriter.(http.Hijacker); ok {
		return h.Hijack()
	}
	return nil, nil, errors.New("limits: hijacking not supported")
}
