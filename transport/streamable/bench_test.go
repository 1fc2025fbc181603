package streamable

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/transport"
)

// benchWriter is a minimal http.ResponseWriter (with Flush and write
// deadlines, as net/http's has) that keeps nothing, so that benchmarks
// measure the handler.
type benchWriter struct {
	h    http.Header
	code int
	n    int
}

func (w *benchWriter) Header() http.Header         { return w.h }
func (w *benchWriter) Write(b []byte) (int, error) { w.n += len(b); return len(b), nil }
func (w *benchWriter) WriteHeader(code int)        { w.code = code }
func (w *benchWriter) Flush()                      {}

func (w *benchWriter) SetWriteDeadline(time.Time) error { return nil }

type resettableBody struct{ bytes.Reader }

func (*resettableBody) Close() error { return nil }

// echoSession answers every request with an empty result.
type echoSession struct{ tinySession }

func (echoSession) HandleRequest(_ context.Context, req *jsonrpc.Request, _ transport.Sink) []byte {
	return jsonrpc.AppendResponse(make([]byte, 0, 64), &jsonrpc.Response{ID: req.ID, Result: jsontext.Value(`{}`)})
}

type echoFactory struct{}

func (echoFactory) SupportedVersions() []string { return allVersions }
func (echoFactory) NewSession(context.Context, string, transport.Sink) (transport.Session, error) {
	return echoSession{tinySession{done: closedNever}}, nil
}

// benchPost serves one tools/call-sized POST per iteration in process.
func benchPost(b *testing.B, opts *Options, wantCT string) {
	h := NewHandler(echoFactory{}, opts)
	defer h.Close()

	init := httptest.NewRequest(http.MethodPost, "/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{}}`))
	init.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, init)
	sid := rec.Header().Get(HeaderSessionID)
	if sid == "" {
		b.Fatalf("initialize: %d %s", rec.Code, rec.Body)
	}

	payload := []byte(`{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hello"}}}`)
	body := &resettableBody{}
	req := httptest.NewRequest(http.MethodPost, "/mcp", nil)
	req.Body = body
	req.ContentLength = int64(len(payload))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set(HeaderSessionID, sid)
	req.Header.Set(HeaderProtocolVersion, "2025-11-25")
	w := &benchWriter{h: make(http.Header)}

	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		body.Reset(payload)
		clear(w.h)
		w.code, w.n = 0, 0
		h.ServeHTTP(w, req)
		if w.code != http.StatusOK || w.h.Get("Content-Type") != wantCT {
			b.Fatalf("status %d, Content-Type %q", w.code, w.h.Get("Content-Type"))
		}
	}
}

func BenchmarkPostJSON(b *testing.B) {
	benchPost(b, nil, mediaJSON)
}

func BenchmarkPostSSE(b *testing.B) {
	benchPost(b, &Options{ResponseMode: ResponseSSE}, mediaSSE)
}
