package scaletest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"
)

// client is a Streamable HTTP client written for these tests: it reconnects
// with Last-Event-ID, retries what the gateway marks retryable, and
// records what happened, so that the tests can check every answer and
// every event.
type client struct {
	url   string
	hc    *http.Client
	sid   string
	ids   atomic.Int64
	stats *soakStats
}

// soakStats count what the clients saw, across all of them.
type soakStats struct {
	calls, attempts, retryable, reconnects, elicitations atomic.Int64
	forwardedResponses, listenErrors                     atomic.Int64
	instanceLost, transportErrors                        atomic.Int64 // kinds of retryable failures
}

// errSessionLost is fatal: the cluster forgot a session.
var errSessionLost = errors.New("session lost (404)")

func newClient(url string, st *soakStats) *client {
	if st == nil {
		st = &soakStats{}
	}
	return &client{url: url, hc: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}, stats: st}
}

type rpcMsg struct {
	ID     json.RawMessage `json:"id,omitempty"`
	Method string          `json:"method,omitempty"`
	Params json.RawMessage `json:"params,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  *struct {
		Code    int64           `json:"code"`
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data,omitempty"`
	} `json:"error,omitempty"`
}

func (c *client) do(ctx context.Context, method string, body []byte, hdr map[string]string) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.url, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json, text/event-stream")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.sid != "" {
		req.Header.Set("Mcp-Session-Id", c.sid)
		req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return c.hc.Do(req)
}

// retryableStatus: what a client retries after a while.
func retryableStatus(code int) bool {
	return code == http.StatusBadGateway || code == http.StatusServiceUnavailable || code == http.StatusGatewayTimeout || code == http.StatusTooManyRequests
}

// initialize opens a session (retrying refusals of draining instances).
func (c *client) initialize(ctx context.Context) error {
	body := `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{"elicitation":{"form":{}}},"clientInfo":{"name":"scaletest","version":"1"}}}`
	for attempt := 0; ; attempt++ {
		resp, err := c.do(ctx, "POST", []byte(body), nil)
		if err == nil && resp.StatusCode == 200 {
			c.sid = resp.Header.Get("Mcp-Session-Id")
			_, msgs, _ := readAll(resp)
			if c.sid == "" || len(msgs) == 0 || msgs[len(msgs)-1].Error != nil {
				return fmt.Errorf("initialize: no session id or an error: %+v", msgs)
			}
			break
		}
		if err == nil {
			resp.Body.Close()
			if !retryableStatus(resp.StatusCode) {
				return fmt.Errorf("initialize: HTTP %d", resp.StatusCode)
			}
		}
		if attempt > 50 || ctx.Err() != nil {
			return fmt.Errorf("initialize: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return c.notify(ctx, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
}

// notify posts a notification or a response, retrying refusals.
func (c *client) notify(ctx context.Context, body string) error {
	for attempt := 0; ; attempt++ {
		resp, err := c.do(ctx, "POST", []byte(body), nil)
		if err == nil {
			resp.Body.Close()
			switch {
			case resp.StatusCode == 202 || resp.StatusCode == 200:
				return nil
			case resp.StatusCode == 404:
				return errSessionLost
			case !retryableStatus(resp.StatusCode):
				return fmt.Errorf("posting %s: HTTP %d", body, resp.StatusCode)
			}
		}
		if attempt > 100 || ctx.Err() != nil {
			return fmt.Errorf("posting a message: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sseEvent is one event of a stream.
type sseEvent struct {
	id   string
	data []byte
}

// readSSE calls fn for each event of an SSE body; it returns the body's
// end (io.EOF for a clean end).
func readSSE(r io.Reader, fn func(sseEvent) bool) error {
	br := bufio.NewReaderSize(r, 1<<16)
	var ev sseEvent
	var data bytes.Buffer
	has := false
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return err
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			if has || ev.id != "" {
				ev.data = bytes.Clone(data.Bytes())
				if !fn(ev) {
					return nil
				}
			}
			ev, has = sseEvent{}, false
			data.Reset()
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "id":
			ev.id = value
		case "data":
			if has {
				data.WriteByte('\n')
			}
			data.WriteString(value)
			has = true
		}
	}
}

// readAll reads a JSON or SSE response whole.
func readAll(resp *http.Response) (string, []rpcMsg, error) {
	defer resp.Body.Close()
	var msgs []rpcMsg
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		last := ""
		err := readSSE(resp.Body, func(e sseEvent) bool {
			if e.id != "" {
				last = e.id
			}
			if len(e.data) > 0 {
				var m rpcMsg
				if json.Unmarshal(e.data, &m) == nil {
					msgs = append(msgs, m)
				}
			}
			return true
		})
		if errors.Is(err, io.EOF) {
			err = nil
		}
		return last, msgs, err
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", nil, err
	}
	var m rpcMsg
	if err := json.Unmarshal(b, &m); err != nil {
		return "", nil, fmt.Errorf("%w: %s", err, b)
	}
	return "", []rpcMsg{m}, nil
}

// callResult is what one tool call came to.
type callResult struct {
	result    json.RawMessage
	attempts  int
	progress  []float64 // of the successful attempt
	firstFail time.Time // when the first attempt failed (zero if none)
}

// callTool calls a tool until it is answered, retrying retryable
// failures with a new request id, and resuming streams with
// Last-Event-ID. It checks that the progress of the answered attempt is
// gap-free (1, 2, ..., n: every event after the last one seen arrives
// after a reconnect, none twice).
func (c *client) callTool(ctx context.Context, name string, args map[string]any, wantProgress int) (*callResult, error) {
	c.stats.calls.Add(1)
	res := &callResult{}
	fail := func() {
		c.stats.retryable.Add(1)
		if res.firstFail.IsZero() {
			res.firstFail = time.Now()
		}
		time.Sleep(100 * time.Millisecond)
	}
	for ctx.Err() == nil {
		res.attempts++
		c.stats.attempts.Add(1)
		if res.attempts > 60 {
			return res, fmt.Errorf("call %s: too many attempts", name)
		}
		id := c.ids.Add(1)
		params := map[string]any{"name": name, "arguments": args, "_meta": map[string]any{"progressToken": fmt.Sprintf("p%d", id)}}
		body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params})
		resp, err := c.do(ctx, "POST", body, nil)
		if err != nil {
			c.stats.transportErrors.Add(1)
			fail()
			continue
		}
		if resp.StatusCode == 404 {
			resp.Body.Close()
			return res, errSessionLost
		}
		if resp.StatusCode != 200 {
			resp.Body.Close()
			if retryableStatus(resp.StatusCode) {
				c.stats.transportErrors.Add(1)
				fail()
				continue
			}
			return res, fmt.Errorf("call %s: HTTP %d", name, resp.StatusCode)
		}
		a := &attempt{c: c, id: id}
		done, err := a.consume(ctx, resp)
		for !done && err == nil {
			if a.last == "" {
				break // nothing to resume from: the attempt is lost
			}
			c.stats.reconnects.Add(1)
			done, err = a.resume(ctx)
		}
		if err != nil {
			return res, err
		}
		if !done || a.retryable {
			if a.retryable {
				c.stats.instanceLost.Add(1)
			} else {
				c.stats.transportErrors.Add(1)
			}
			fail()
			continue
		}
		if a.errMsg != "" {
			return res, fmt.Errorf("call %s: error %s", name, a.errMsg)
		}
		for i, p := range a.progress {
			if p != float64(i+1) {
				return res, fmt.Errorf("call %s: progress %v is not gap-free (an event was lost or repeated)", name, a.progress)
			}
		}
		if wantProgress > 0 && len(a.progress) != wantProgress {
			return res, fmt.Errorf("call %s: progress %v, want %d steps", name, a.progress, wantProgress)
		}
		res.result, res.progress = a.result, a.progress
		return res, nil
	}
	return res, ctx.Err()
}

// attempt is one request of a call and its stream.
type attempt struct {
	c         *client
	id        int64
	last      string // last event id seen
	progress  []float64
	result    json.RawMessage
	errMsg    string
	retryable bool
}

// consume reads a response; done reports the request's answer arrived.
func (a *attempt) consume(ctx context.Context, resp *http.Response) (done bool, err error) {
	defer resp.Body.Close()
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		_, msgs, err := readAll(resp)
		if err != nil || len(msgs) == 0 {
			return false, nil // cut mid-body: retry
		}
		return a.handle(ctx, msgs[0]), nil
	}
	var hErr error
	rerr := readSSE(resp.Body, func(e sseEvent) bool {
		if debug {
			fmt.Printf("event %d: id=%q data=%s\n", a.id, e.id, e.data)
		}
		if e.id != "" {
			a.last = e.id
		}
		if len(e.data) == 0 {
			return true
		}
		var m rpcMsg
		if json.Unmarshal(e.data, &m) != nil {
			hErr = fmt.Errorf("bad event %q", e.data)
			return false
		}
		if a.handle(ctx, m) {
			done = true
			return false
		}
		return true
	})
	if debug && !done {
		fmt.Printf("stream of %d ended: %v\n", a.id, rerr)
	}
	return done, hErr
}

var debug = os.Getenv("SCALE_DEBUG") != ""

// handle processes one message; it returns true for the answer.
func (a *attempt) handle(ctx context.Context, m rpcMsg) bool {
	switch {
	case m.Method == "notifications/progress":
		var p struct {
			Progress float64 `json:"progress"`
		}
		json.Unmarshal(m.Params, &p)
		a.progress = append(a.progress, p.Progress)
	case m.Method == "elicitation/create" && len(m.ID) > 0:
		a.c.stats.elicitations.Add(1)
		if bytes.HasPrefix(m.ID, []byte(`"sb~`)) {
			a.c.stats.forwardedResponses.Add(1)
		}
		resp := fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"result":{"action":"accept","content":{"response":"yes"}}}`, m.ID)
		go a.c.notify(ctx, resp)
	case m.Method == "":
		if string(m.ID) != fmt.Sprint(a.id) {
			return false
		}
		if m.Error != nil {
			if bytes.Contains(m.Error.Data, []byte(`"retryable":true`)) {
				a.retryable = true
			} else {
				a.errMsg = m.Error.Message
			}
		} else {
			a.result = m.Result
		}
		return true
	}
	return false
}

// resume reconnects with Last-Event-ID through the balancer.
func (a *attempt) resume(ctx context.Context) (bool, error) {
	for try := 0; ; try++ {
		resp, err := a.c.do(ctx, "GET", nil, map[string]string{"Last-Event-ID": a.last})
		if err == nil {
			switch {
			case resp.StatusCode == 200:
				return a.consume(ctx, resp)
			case resp.StatusCode == 404:
				resp.Body.Close()
				return false, errSessionLost
			case resp.StatusCode == 400:
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				return false, fmt.Errorf("resuming after %s refused: an acknowledged event is lost: %s", a.last, b)
			default:
				resp.Body.Close()
			}
		}
		if try > 100 || ctx.Err() != nil {
			return false, fmt.Errorf("resuming after %s: %v", a.last, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// listen keeps the session's standalone stream open (GET without
// Last-Event-ID, then with the last id seen after each disconnection) and
// answers the requests the server sends on it (elicitation from stdio
// upstreams arrives there). It returns once the stream is open; the
// stream ends with ctx.
func (c *client) listen(ctx context.Context) error {
	opened := make(chan error, 1)
	go func() {
		last := ""
		first := true
		for ctx.Err() == nil {
			hdr := map[string]string{}
			if last != "" {
				hdr["Last-Event-ID"] = last
			}
			resp, err := c.do(ctx, "GET", nil, hdr)
			if err != nil || resp.StatusCode != 200 {
				if err == nil {
					resp.Body.Close()
					if resp.StatusCode == 404 || resp.StatusCode == 400 {
						if first {
							opened <- fmt.Errorf("GET: HTTP %d", resp.StatusCode)
						} else {
							c.stats.listenErrors.Add(1)
						}
						return
					}
				}
				time.Sleep(100 * time.Millisecond)
				continue
			}
			if !first {
				c.stats.reconnects.Add(1)
			}
			readSSE(resp.Body, func(e sseEvent) bool {
				if e.id != "" {
					last = e.id
					if first {
						first = false
						opened <- nil
					}
				}
				if len(e.data) == 0 {
					return true
				}
				var m rpcMsg
				if json.Unmarshal(e.data, &m) == nil && m.Method == "elicitation/create" && len(m.ID) > 0 {
					c.stats.elicitations.Add(1)
					if bytes.HasPrefix(m.ID, []byte(`"sb~`)) {
						c.stats.forwardedResponses.Add(1)
					}
					go c.notify(ctx, fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"result":{"action":"accept","content":{"response":"yes"}}}`, m.ID))
				}
				return true
			})
			resp.Body.Close()
		}
	}()
	select {
	case err := <-opened:
		return err
	case <-time.After(20 * time.Second):
		return errors.New("the standalone stream did not open")
	}
}
