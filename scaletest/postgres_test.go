package scaletest

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startPostgres starts a throwaway PostgreSQL cluster on loopback (Debian's
// postgresql; as root, the server runs as the postgres user) and returns
// the URL of a new database in it.
func startPostgres(t testing.TB) string {
	t.Helper()
	ms, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(ms) == 0 {
		if os.Getenv("SWITCHBOARD_SCALE_REQUIRED") != "" {
			t.Fatal("PostgreSQL is not installed (make postgres-deps)")
		}
		t.Skip("PostgreSQL is not installed (make postgres-deps installs Debian's postgresql)")
	}
	bin := filepath.Dir(ms[len(ms)-1])
	dir, err := os.MkdirTemp("", "scale-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	data := filepath.Join(dir, "data")
	var asUser []string
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root needs the postgres user: %v", err)
		}
		os.Chmod(dir, 0o777)
		asUser = []string{"runuser", "-u", u.Username, "--"}
	}
	run := func(name string, args ...string) {
		t.Helper()
		c := append(append(asUser[:len(asUser):len(asUser)], filepath.Join(bin, name)), args...)
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, out)
		}
	}
	run("initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
	port := freePort(t)
	run("pg_ctl", "-D", data, "-o", fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off -c max_connections=200", port, dir),
		"-l", filepath.Join(dir, "log"), "-w", "start")
	t.Cleanup(func() {
		c := append(append(asUser[:len(asUser):len(asUser)], filepath.Join(bin, "pg_ctl")), "-D", data, "-m", "immediate", "-w", "stop")
		exec.Command(c[0], c[1:]...).Run()
	})
	run("createdb", "-h", "127.0.0.1", "-p", fmt.Sprint(port), "-U", "postgres", "switchboard")
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/switchboard?sslmode=disable", port)
}

// The instances share one PostgreSQL database (the store's backend on
// main) with one master key: an API key created once is accepted by every
// instance, and revoked once, refused by every instance at once.
func TestSharedDatabase(t *testing.T) {
	dbURL := startPostgres(t)
	master := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32))
	env := []string{"SWITCHBOARD_DATABASE_URL=" + dbURL, "SWITCHBOARD_MASTER_KEY=" + master}
	cfg := filepath.Join(t.TempDir(), "keys.json")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`{"identity": {"apiKeys": true}, "mcpServers": {"demo": {"command": %q, "args": ["demo", "everything"]}}}`, binary)), 0o600)
	redisURL, _ := startRedis(t)
	c := startClusterEnv(t, 3, redisURL, env, "--config", cfg)
	keys := func(args ...string) string {
		cmd := exec.Command(binary, append([]string{"keys"}, args...)...)
		cmd.Env = append(os.Environ(), env...)
		cmd.Args = append(cmd.Args, "--data-dir", t.TempDir())
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("keys %v: %v", args, err)
		}
		return strings.TrimSpace(string(out))
	}
	key := keys("create", "ci", "--scope", "mcp")
	call := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"t","version":"1"}}}}`
	status := func(addr, bearer string) int {
		req, _ := http.NewRequest("POST", "http://"+addr+"/mcp", strings.NewReader(call))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Mcp-Protocol-Version", "2026-07-28")
		req.Header.Set("Mcp-Method", "tools/call")
		req.Header.Set("Mcp-Name", "echo")
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, in := range c.instances {
		if s := status(in.addr, key); s != 200 {
			t.Errorf("%s with the key: HTTP %d", in.name, s)
		}
		if s := status(in.addr, ""); s != 401 {
			t.Errorf("%s without a key: HTTP %d", in.name, s)
		}
	}
	keys("revoke", "ci")
	deadline := time.Now().Add(5 * time.Second)
	for _, in := range c.instances {
		for status(in.addr, key) != 401 {
			if time.Now().After(deadline) {
				t.Fatalf("%s still accepts the revoked key", in.name)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}
