package e2e

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/protocol"
)

// legacySSE is a client of the HTTP+SSE transport (2024-11-05).
type legacySSE struct {
	t        *testing.T
	base     string
	client   *http.Client
	endpoint string // the message URL from the endpoint event
	in       *inbox
	cancel   context.CancelFunc
	done     chan struct{}
	nextID   int
}

// openSSE opens the stream at /sse and reads the endpoint event.
func openSSE(t *testing.T, base string) *legacySSE {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	ctx, cancel := context.WithCancel(context.Background())
	c := &legacySSE{t: t, base: base, client: &http.Client{Transport: tr}, in: newInbox(), cancel: cancel, done: make(chan struct{})}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/sse", nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("GET /sse: HTTP %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	events := make(chan sseEvent)
	go func() {
		readSSE(ctx, resp.Body, events)
		close(events)
	}()
	endpoint := make(chan string, 1)
	go func() {
		defer close(c.done)
		defer c.in.close()
		defer resp.Body.Close()
		for ev := range events {
			switch ev.event {
			case "endpoint":
				endpoint <- ev.data
			case "message":
				if err := c.in.add([]byte(ev.data)); err != nil {
					t.Error(err)
				}
			default:
				t.Errorf("unexpected event %q: %s", ev.event, ev.data)
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-c.done
	})
	select {
	case ep := <-endpoint:
		if !strings.HasPrefix(ep, "/message?sessionId=") {
			t.Fatalf("endpoint event %q", ep)
		}
		c.endpoint = base + ep
	case <-c.done:
		t.Fatal("the stream ended before the endpoint event")
	}
	return c
}

// post sends one message and returns the HTTP status and body.
func (c *legacySSE) post(url, body string) (int, string) {
	c.t.Helper()
	resp, err := c.client.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// call posts a request (202) and waits for its response on the stream.
func (c *legacySSE) call(method, params string) *jsonrpc.Response {
	c.t.Helper()
	c.nextID++
	id := jsonrpc.Int64ID(int64(c.nextID))
	frame := jsonrpc.AppendRequest(nil, &jsonrpc.Request{ID: id, Method: method, Params: rawJSON(c.t, params)})
	if status, body := c.post(c.endpoint, string(frame)); status != http.StatusAccepted {
		c.t.Fatalf("%s: HTTP %d %s", method, status, body)
	}
	return c.in.response(c.t, id)
}

func TestLegacySSE(t *testing.T) {
	t.Parallel()
	srv := startHTTP(t)
	c := openSSE(t, srv.base)

	var init protocol.InitializeResult
	decodeResult(t, "initialize", c.call("initialize", `{"protocolVersion":"2024-11-05","capabilities":{},"clientInfo":{"name":"legacy","version":"1"}}`), &init)
	if init.ProtocolVersion != "2024-11-05" {
		t.Errorf("negotiated %s", init.ProtocolVersion)
	}
	if status, _ := c.post(c.endpoint, `{"jsonrpc":"2.0","method":"notifications/initialized"}`); status != http.StatusAccepted {
		t.Fatalf("initialized: HTTP %d", status)
	}
	resp := c.call("tools/call", `{"name":"echo","arguments":{"text":"legacy"}}`)
	if text, _ := toolText(t, resp.Result); text != "legacy" {
		t.Errorf("echo: %q", text)
	}
	resp = c.call("tools/call", `{"name":"test_tool_with_progress","_meta":{"progressToken":"lp"}}`)
	if resp.Error != nil || len(c.in.requests("notifications/progress")) != 3 {
		t.Errorf("progress over SSE: %v, %d notifications", resp.Error, len(c.in.requests("notifications/progress")))
	}
	if r := c.call("nope/nope", `{}`); r.Error == nil || r.Error.Code != jsonrpc.CodeMethodNotFound {
		t.Errorf("unknown method: %+v", r)
	}

	sessionURL := c.endpoint
	bad := []struct {
		name, url, body string
		status          int
	}{
		{"malformed JSON", sessionURL, `{"jsonrpc":`, http.StatusBadRequest},
		{"batch in 2024-11-05", sessionURL, `[{"jsonrpc":"2.0","id":1,"method":"ping"}]`, http.StatusBadRequest},
		{"unknown session", srv.base + "/message?sessionId=nope", `{"jsonrpc":"2.0","id":1,"method":"ping"}`, http.StatusNotFound},
		{"no session", srv.base + "/message", `{"jsonrpc":"2.0","id":1,"method":"ping"}`, http.StatusBadRequest},
		{"oversize", sessionURL, `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"p":"` + strings.Repeat("y", 5<<20) + `"}}`, http.StatusRequestEntityTooLarge},
	}
	for _, b := range bad {
		if status, body := c.post(b.url, b.body); status != b.status {
			t.Errorf("%s: HTTP %d %s, want %d", b.name, status, body, b.status)
		}
	}
	// Foreign origins are refused on both endpoints.
	for _, url := range []string{srv.base + "/sse", sessionURL} {
		method := http.MethodGet
		if url == sessionURL {
			method = http.MethodPost
		}
		req, _ := http.NewRequest(method, url, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", "http://evil.example")
		r, err := c.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != http.StatusForbidden {
			t.Errorf("%s %s with a foreign Origin: HTTP %d", method, url, r.StatusCode)
		}
	}

	// Closing the stream ends the session.
	c.cancel()
	<-c.done
	deadline := 50
	for ; deadline > 0; deadline-- {
		status, _ := c.post(sessionURL, `{"jsonrpc":"2.0","id":1,"method":"ping"}`)
		if status == http.StatusNotFound {
			break
		}
		if status != http.StatusAccepted {
			t.Fatalf("POST after the stream closed: HTTP %d", status)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if deadline == 0 {
		t.Errorf("the session outlived its stream")
	}
}
