package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

// bearerRT adds an Authorization header to every request.
type bearerRT struct{ tok string }

func (b bearerRT) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.tok)
	return http.DefaultTransport.RoundTrip(r)
}

// keysCmd runs "switchboard keys ..." on the data directory dir.
func keysCmd(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(binary, append(append([]string{"keys"}, args...), "--data-dir", dir)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("switchboard keys %v: %v\n%s", args, err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// TestAPIKeysAndRotation: a real "switchboard serve" with API keys; a key
// created with "switchboard keys create" is used, "keys rotate" runs
// three times while clients call (no call fails), and after "keys
// revoke" the next call fails.
func TestAPIKeysAndRotation(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "switchboard.json")
	if err := os.WriteFile(cfg, []byte(`{"identity":{"apiKeys":true},"mcpServers":{"demo":{"command":"`+binary+`","args":["demo","everything"]}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	key := keysCmd(t, data, "create", "ci", "--scope", "mcp", "--tenant", "acme")
	if !strings.HasPrefix(key, "sbk_") {
		t.Fatalf("keys create printed %q", key)
	}
	srv := startServe(t, "--config", cfg, "--data-dir", data)
	url := "http://" + srv.addr + "/mcp"
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	connect := func(tok string) (*mcp.ClientSession, error) {
		c := mcp.NewClient(protocol.Implementation{Name: "keys-test", Version: "1"}, nil)
		return c.Connect(ctx, streamable.NewDialer(url, &streamable.ClientOptions{HTTPClient: &http.Client{Transport: bearerRT{tok}}}))
	}
	if _, err := connect("sbk_aaaaaaaaaaaaaaaa_" + strings.Repeat("A", 43)); err == nil {
		t.Fatal("an unknown key was accepted")
	}
	if _, err := connect(""); err == nil {
		t.Fatal("no key was accepted")
	}

	// Calls run while the keys are rotated three times.
	var calls, failures atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 3 {
		cs, err := connect(key)
		if err != nil {
			t.Fatal(err)
		}
		defer cs.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				res, err := cs.CallToolArgs(ctx, "echo", map[string]any{"text": "hi"})
				calls.Add(1)
				if err != nil || res.IsError {
					failures.Add(1)
					t.Errorf("call during rotation: %v %+v", err, res)
				}
			}
		}()
	}
	for range 3 {
		time.Sleep(200 * time.Millisecond)
		out := keysCmd(t, data, "rotate")
		if !strings.Contains(out, "new data key") {
			t.Fatalf("keys rotate printed %q", out)
		}
	}
	time.Sleep(200 * time.Millisecond)
	close(stop)
	wg.Wait()
	if calls.Load() == 0 || failures.Load() != 0 {
		t.Fatalf("%d of %d calls failed during rotation", failures.Load(), calls.Load())
	}
	t.Logf("%d calls during three rotations, none failed", calls.Load())

	// Revoked: the next call of an open session fails, and so does a new
	// connection.
	cs, err := connect(key)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if _, err := cs.CallToolArgs(ctx, "echo", map[string]any{"text": "before"}); err != nil {
		t.Fatal(err)
	}
	keysCmd(t, data, "revoke", "ci")
	if _, err := cs.CallToolArgs(ctx, "echo", map[string]any{"text": "after"}); err == nil {
		t.Fatal("a call with a revoked key succeeded")
	}
	if _, err := connect(key); err == nil {
		t.Fatal("a revoked key connected")
	}
	if out := keysCmd(t, data, "list"); !strings.Contains(out, "revoked") {
		t.Fatalf("keys list: %s", out)
	}
}

// TestUpstreamCredentialsThroughServe: a real "switchboard serve" gives an
// upstream the credentials of its "auth" (mode static here), and never
// the client's own Authorization header; after a reload that changes the
// secret the upstream gets the new one.
func TestUpstreamCredentialsThroughServe(t *testing.T) {
	var mu sync.Mutex
	var keysSeen, authzSeen []string
	up := mcp.NewServer(protocol.Implementation{Name: "up", Version: "1"}, nil)
	up.AddTool(&protocol.Tool{Name: "ping_up"}, func(context.Context, *mcp.Request, *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
		return mcp.TextResult("pong"), nil
	})
	h := streamable.NewHandler(up, nil)
	upSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		keysSeen = append(keysSeen, r.Header.Get("X-Api-Key"))
		authzSeen = append(authzSeen, r.Header.Get("Authorization"))
		mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	// Closed after the gateway stops (cleanups run last first), so that
	// its open streams do not hold Close.
	t.Cleanup(upSrv.Close)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "switchboard.json")
	write := func(secret string) {
		if err := os.WriteFile(cfg, []byte(`{"mcpServers":{"up":{"url":"`+upSrv.URL+`","auth":{"mode":"static","headers":{"X-Api-Key":"`+secret+`"}}}}}`), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("k1")
	srv := startServe(t, "--config", cfg, "--data-dir", filepath.Join(dir, "data"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := mcp.NewClient(protocol.Implementation{Name: "t", Version: "1"}, nil)
	cs, err := c.Connect(ctx, streamable.NewDialer("http://"+srv.addr+"/mcp", &streamable.ClientOptions{HTTPClient: &http.Client{Transport: bearerRT{"client-secret-token"}}}))
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if res, err := cs.CallToolArgs(ctx, "ping_up", map[string]any{}); err != nil || res.IsError {
		t.Fatalf("call: %v %+v", err, res)
	}
	check := func(want string) {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		if len(keysSeen) == 0 || keysSeen[len(keysSeen)-1] != want {
			t.Fatalf("the upstream saw X-Api-Key %q, want %q", keysSeen, want)
		}
		for _, a := range authzSeen {
			if strings.Contains(a, "client-secret-token") {
				t.Fatal("the client's token reached the upstream")
			}
		}
	}
	check("k1")
	write("k2")
	deadline := time.Now().Add(15 * time.Second)
	for {
		if res, err := cs.CallToolArgs(ctx, "ping_up", map[string]any{}); err == nil && !res.IsError {
			mu.Lock()
			last := keysSeen[len(keysSeen)-1]
			mu.Unlock()
			if last == "k2" {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the reloaded secret never reached the upstream")
		}
		time.Sleep(200 * time.Millisecond)
	}
	check("k2")
}
