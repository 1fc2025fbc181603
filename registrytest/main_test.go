package registrytest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// bins are the programs the tests run, built once by TestMain.
var bins struct {
	switchboard, publisher, official string
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "registrytest-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bins.switchboard = filepath.Join(dir, "switchboard")
	bins.publisher = filepath.Join(dir, "mcp-publisher")
	bins.official = filepath.Join(dir, "official-registry")
	// Switchboard is built in its own module (the parent directory), the
	// official programs from this module's tool requirements.
	for _, b := range []struct{ out, pkg, dir string }{
		{bins.switchboard, "./cmd/switchboard", ".."},
		{bins.publisher, "github.com/modelcontextprotocol/registry/cmd/publisher", "."},
		{bins.official, "github.com/modelcontextprotocol/registry/cmd/registry", "."},
	} {
		cmd := exec.Command("go", "build", "-o", b.out, b.pkg)
		cmd.Dir = b.dir
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "building %s: %v\n", b.pkg, err)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a process started by a test, stopped at its end.
type proc struct {
	cmd *exec.Cmd
	mu  sync.Mutex
	out bytes.Buffer
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// start runs a program and waits until a line of its output matches
// ready (whose first group is returned).
func start(t testing.TB, env []string, ready string, name string, args ...string) (*proc, string) {
	t.Helper()
	p := &proc{cmd: exec.Command(name, args...)}
	p.cmd.Env = append(os.Environ(), env...)
	r, w := io.Pipe()
	p.cmd.Stdout, p.cmd.Stderr = w, w
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { p.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			p.cmd.Process.Kill()
			<-done
		}
		w.Close()
	})
	re := regexp.MustCompile(ready)
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(r)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.out.WriteString(line + "\n")
			p.mu.Unlock()
			if m := re.FindStringSubmatch(line); m != nil && !sent {
				sent = true
				if len(m) > 1 {
					found <- m[1]
				} else {
					found <- ""
				}
			}
		}
		if !sent {
			close(found)
		}
	}()
	select {
	case v, ok := <-found:
		if !ok {
			t.Fatalf("%s exited before it was ready:\n%s", name, p.output())
		}
		return p, v
	case <-time.After(90 * time.Second):
		t.Fatalf("%s not ready after 90s:\n%s", name, p.output())
	}
	return nil, ""
}

// run runs a program to its end and returns its output.
func run(t testing.TB, env []string, name string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func mustRun(t testing.TB, env []string, name string, args ...string) string {
	t.Helper()
	out, err := run(t, env, name, args...)
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", filepath.Base(name), args, err, out)
	}
	return out
}

// startSwitchboardRegistry runs "switchboard registry serve" and returns
// its base URL.
func startSwitchboardRegistry(t testing.TB, args ...string) (*proc, string) {
	t.Helper()
	p, addr := start(t, nil, `listening on (\S+)`, bins.switchboard, append([]string{"registry", "serve", "--addr", "127.0.0.1:0"}, args...)...)
	return p, "http://" + addr
}

// getJSON GETs a URL and decodes its body.
func getJSON(t testing.TB, u string, v any) int {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if v != nil && resp.StatusCode == 200 {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("GET %s: %v: %s", u, err, b)
		}
	}
	return resp.StatusCode
}

// send makes a request with a JSON body and a bearer token.
func send(t testing.TB, method, u, token string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, u, rd)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	lastContentType = resp.Header.Get("Content-Type")
	return resp.StatusCode, b
}

// lastContentType is the Content-Type of the last response of send.
var lastContentType string

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func esc(s string) string { return url.PathEscape(s) }

// serverDoc is a valid server.json.
func serverDoc(name, version, desc string) map[string]any {
	return map[string]any{
		"$schema":     "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
		"name":        name,
		"description": desc,
		"version":     version,
		"packages": []any{map[string]any{"registryType": "npm", "identifier": "@example/" + strings.ReplaceAll(name, "/", "-"), "version": version,
			"transport": map[string]any{"type": "stdio"}}},
	}
}

// pgBin finds PostgreSQL's programs (Debian's layout).
func pgBin(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("PG_BIN"); p != "" {
		return p
	}
	ms, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(ms) == 0 {
		if p, err := exec.LookPath("initdb"); err == nil {
			return filepath.Dir(p)
		}
		if os.Getenv("CI") != "" {
			t.Fatal("PostgreSQL is not installed (make registry-deps installs Debian's postgresql)")
		}
		t.Skip("PostgreSQL is not installed (make registry-deps installs Debian's postgresql)")
	}
	return filepath.Dir(ms[len(ms)-1])
}

// startPostgres starts a throwaway PostgreSQL cluster on loopback and
// returns the URL of a new database in it (and a function making more).
// As root, the server runs as the postgres user (initdb refuses root).
func startPostgres(t testing.TB) func(db string) string {
	t.Helper()
	bin := pgBin(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	var asUser []string
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root needs the postgres user: %v", err)
		}
		os.Chmod(dir, 0o777)
		for d := filepath.Dir(dir); d != "/"; d = filepath.Dir(d) {
			st, err := os.Stat(d)
			if err == nil && st.Mode().Perm()&0o001 == 0 {
				os.Chmod(d, st.Mode().Perm()|0o001)
			}
		}
		asUser = []string{"runuser", "-u", u.Username, "--"}
	}
	cmd := func(name string, args ...string) []string {
		return append(append(asUser[:len(asUser):len(asUser)], filepath.Join(bin, name)), args...)
	}
	c := cmd("initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
	mustRun(t, nil, c[0], c[1:]...)
	port := freePort(t)
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200", port, dir)
	c = cmd("pg_ctl", "-D", data, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "start")
	mustRun(t, nil, c[0], c[1:]...)
	t.Cleanup(func() {
		c := cmd("pg_ctl", "-D", data, "-m", "fast", "-w", "stop")
		run(t, nil, c[0], c[1:]...)
	})
	return func(db string) string {
		c := cmd("createdb", "-h", "127.0.0.1", "-p", fmt.Sprint(port), "-U", "postgres", db)
		mustRun(t, nil, c[0], c[1:]...)
		return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", port, db)
	}
}

func waitHTTP(t testing.TB, u string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		if resp, err := http.Get(u); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s did not answer", u)
}
