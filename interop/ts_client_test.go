package interop

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// tsClient adapts the TypeScript SDK's client, run by ts/driver.mjs under
// the pinned Node, to peerClient. Requests go to the driver's stdin as
// JSON lines; it answers each on stdout.
type tsClient struct {
	stdin  io.WriteCloser
	lines  chan []byte // stdout lines after the ready line
	done   chan struct{}
	stderr *tailBuffer

	mu     sync.Mutex // serializes requests
	nextID int
	init   obj
	closed bool
}

// TestTSClient is part A for the TypeScript SDK's client.
func TestTSClient(t *testing.T) {
	t.Parallel()
	if _, reason := nodeBin(); reason != "" {
		for _, tr := range []string{"stdio", "http"} {
			t.Run(tr, func(t *testing.T) { skipColumn(t, "A", "ts-sdk", tr, featuresA(tr), reason) })
		}
		return
	}
	runPartA(t, "ts-sdk", connectTS)
}

func connectTS(ctx context.Context, t *testing.T, transport string, cmdline []string, url string) (peerClient, error) {
	node, reason := nodeBin()
	if reason != "" {
		return nil, errors.New(reason)
	}
	args := []string{"--require", filepath.Join(conformanceDir, "loopback.cjs"), "ts/driver.mjs",
		"--sdk", filepath.Join(conformanceDir, "node_modules", "@modelcontextprotocol", "sdk")}
	switch transport {
	case "stdio":
		args = append(append(args, "--stdio", "--"), cmdline...)
	case "http":
		args = append(args, "--url", url)
	default:
		return nil, fmt.Errorf("unknown transport %q", transport)
	}
	cmd := groupCommand(t, node, args...)
	p := &tsClient{lines: make(chan []byte, 16), done: make(chan struct{}), stderr: newTailBuffer(64 << 10)}
	cmd.Stderr = p.stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p.stdin = stdin
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("ts driver stderr:\n%s", p.stderr)
		}
	})
	go func() {
		defer close(p.done)
		defer close(p.lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			p.lines <- append([]byte(nil), sc.Bytes()...)
		}
		_ = cmd.Wait()
	}()
	var ready struct {
		Ready      bool   `json:"ready"`
		Error      string `json:"error"`
		Initialize obj    `json:"initialize"`
	}
	select {
	case line, ok := <-p.lines:
		if !ok {
			return nil, fmt.Errorf("driver exited before connecting: %s", firstLine(p.stderr.String()))
		}
		if err := json.Unmarshal(line, &ready); err != nil {
			return nil, fmt.Errorf("driver: %q: %v", line, err)
		}
		if !ready.Ready {
			return nil, fmt.Errorf("TS client: %s", ready.Error)
		}
	case <-ctx.Done():
		stdin.Close()
		return nil, fmt.Errorf("driver did not connect: %w", ctx.Err())
	}
	p.init = ready.Initialize
	return p, nil
}

// call runs one driver operation and decodes its result into out.
func (p *tsClient) call(ctx context.Context, op string, params obj, out any) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errors.New("driver closed")
	}
	p.nextID++
	id := p.nextID
	b, _ := json.Marshal(obj{"id": id, "op": op, "params": params})
	if _, err := p.stdin.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("driver: %w", err)
	}
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				return fmt.Errorf("driver exited: %s", firstLine(p.stderr.String()))
			}
			var resp struct {
				ID     int             `json:"id"`
				OK     bool            `json:"ok"`
				Result json.RawMessage `json:"result"`
				Error  struct {
					Message string `json:"message"`
					Code    *int   `json:"code"`
				} `json:"error"`
			}
			if err := json.Unmarshal(line, &resp); err != nil {
				return fmt.Errorf("driver: %q: %v", line, err)
			}
			if resp.ID != id {
				continue // a late answer to a request that timed out
			}
			if !resp.OK {
				if resp.Error.Code != nil {
					return fmt.Errorf("%s (code %d)", resp.Error.Message, *resp.Error.Code)
				}
				return errors.New(resp.Error.Message)
			}
			if out == nil {
				return nil
			}
			return json.Unmarshal(resp.Result, out)
		case <-ctx.Done():
			return fmt.Errorf("driver op %s: %w", op, ctx.Err())
		}
	}
}

func (p *tsClient) InitializeResult() obj { return p.init }

func (p *tsClient) List(ctx context.Context, kind string) ([]obj, error) {
	var out []obj
	err := p.call(ctx, "list", obj{"kind": kind}, &out)
	return out, err
}

func (p *tsClient) CallTool(ctx context.Context, name string, args obj, progress bool) (obj, any, error) {
	if !progress {
		var res obj
		err := p.call(ctx, "callTool", obj{"name": name, "arguments": args}, &res)
		return res, nil, err
	}
	var res struct {
		Result obj `json:"result"`
		Token  any `json:"token"`
	}
	err := p.call(ctx, "callTool", obj{"name": name, "arguments": args, "progress": true}, &res)
	return res.Result, res.Token, err
}

func (p *tsClient) ReadResource(ctx context.Context, uri string) (obj, error) {
	var res obj
	err := p.call(ctx, "readResource", obj{"uri": uri}, &res)
	return res, err
}

func (p *tsClient) GetPrompt(ctx context.Context, name string, args map[string]string) (obj, error) {
	var res obj
	err := p.call(ctx, "getPrompt", obj{"name": name, "arguments": args}, &res)
	return res, err
}

func (p *tsClient) Complete(ctx context.Context, ref obj, arg, value string) (obj, error) {
	var res obj
	err := p.call(ctx, "complete", obj{"ref": ref, "argument": obj{"name": arg, "value": value}}, &res)
	return res, err
}

func (p *tsClient) SetLevel(ctx context.Context, level string) error {
	return p.call(ctx, "setLevel", obj{"level": level}, nil)
}

func (p *tsClient) Subscribe(ctx context.Context, uri string) error {
	return p.call(ctx, "subscribe", obj{"uri": uri}, nil)
}

func (p *tsClient) Unsubscribe(ctx context.Context, uri string) error {
	return p.call(ctx, "unsubscribe", obj{"uri": uri}, nil)
}

func (p *tsClient) Ping(ctx context.Context) error { return p.call(ctx, "ping", nil, nil) }

func (p *tsClient) Notifications() []notification {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var raw []struct {
		Method string `json:"method"`
		Params obj    `json:"params"`
	}
	if err := p.call(ctx, "notifications", nil, &raw); err != nil {
		return nil
	}
	out := make([]notification, len(raw))
	for i, n := range raw {
		out[i] = notification{Method: n.Method, Params: n.Params}
	}
	return out
}

// Close ends the driver: on stdin EOF it closes the session and exits.
func (p *tsClient) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.mu.Unlock()
	p.stdin.Close()
	go func() {
		for range p.lines { // drain, so the reader can finish
		}
	}()
	select {
	case <-p.done:
		return nil
	case <-time.After(5 * time.Second):
		return errors.New("driver did not exit within 5 s of stdin EOF")
	}
}
