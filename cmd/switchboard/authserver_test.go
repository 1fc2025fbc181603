package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

// TestAuthServerCommand starts "switchboard auth-server" on a loopback
// port, reads the issuer it prints, and gets a client_credentials token.
func TestAuthServerCommand(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	pr, pw := io.Pipe()
	cmd := newAuthServerCmd()
	cmd.SetArgs([]string{"--addr", "127.0.0.1:0", "--auto-approve", "--client", "ci:s3cret",
		"--resource", "http://127.0.0.1:8080/mcp", "--scope", "mcp", "--data-dir", t.TempDir()})
	cmd.SetOut(pw)
	cmd.SetErr(io.Discard)
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx); pw.Close() }()

	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	issuer := strings.TrimSpace(line)
	if !strings.HasPrefix(issuer, "http://127.0.0.1:") {
		t.Fatalf("printed %q", line)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	req, _ := http.NewRequest("POST", issuer+"/token", strings.NewReader(url.Values{
		"grant_type": {"client_credentials"}, "resource": {"http://127.0.0.1:8080/mcp"}, "scope": {"mcp"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("ci", "s3cret")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if resp.StatusCode != 200 || tok["access_token"] == nil {
		t.Fatalf("token: %d %v", resp.StatusCode, tok)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("command did not stop")
	}
}

func TestAuthServerCommandRefusesPlainHTTPOffLoopback(t *testing.T) {
	cmd := newAuthServerCmd()
	cmd.SetArgs([]string{"--addr", "0.0.0.0:0", "--data-dir", t.TempDir()})
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	if err := cmd.ExecuteContext(context.Background()); err == nil || !strings.Contains(err.Error(), "TLS") {
		t.Fatalf("err = %v", err)
	}
}

// runCmd runs a command to completion and returns its standard output.
func runCmd(t *testing.T, cmd *cobra.Command, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	err := cmd.ExecuteContext(context.Background())
	if err != nil {
		t.Logf("stderr: %s", errOut.String())
	}
	return out.String(), err
}

// TestAuthServerClientsCommands: an administrator provisions a machine
// client in the data directory, a running auth-server on that directory
// issues it tokens with its scopes only, and removing it stops that at
// once.
func TestAuthServerClientsCommands(t *testing.T) {
	dir := t.TempDir()
	if _, err := runCmd(t, newAuthServerCmd(), "clients", "add", "--name", "ci", "--data-dir", dir); err == nil {
		t.Fatal("clients add without --scope succeeded")
	}
	out, err := runCmd(t, newAuthServerCmd(), "clients", "add", "--name", "ci", "--scope", "mcp", "--data-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	var id, secret string
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, "client_id: "); ok {
			id = v
		}
		if v, ok := strings.CutPrefix(line, "client_secret: "); ok {
			secret = v
		}
	}
	if id == "" || len(secret) < 40 {
		t.Fatalf("add printed %q", out)
	}
	out, err = runCmd(t, newAuthServerCmd(), "clients", "list", "--data-dir", dir)
	if err != nil || !strings.Contains(out, id) || !strings.Contains(out, "machine") || strings.Contains(out, secret) {
		t.Fatalf("list: %v\n%s", err, out)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	pr, pw := io.Pipe()
	cmd := newAuthServerCmd()
	cmd.SetArgs([]string{"--addr", "127.0.0.1:0", "--resource", "http://127.0.0.1:8080/mcp", "--data-dir", dir})
	cmd.SetOut(pw)
	cmd.SetErr(io.Discard)
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx); pw.Close() }()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	issuer := strings.TrimSpace(line)
	token := func(scope string) (int, map[string]any) {
		form := url.Values{"grant_type": {"client_credentials"}, "resource": {"http://127.0.0.1:8080/mcp"}}
		if scope != "" {
			form.Set("scope", scope)
		}
		req, _ := http.NewRequest("POST", issuer+"/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(id, secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var tok map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&tok)
		return resp.StatusCode, tok
	}
	if status, tok := token(""); status != 200 || tok["scope"] != "mcp" {
		t.Fatalf("token: %d %v", status, tok)
	}
	if status, tok := token("mcp admin"); status != 400 || tok["error"] != "invalid_scope" {
		t.Fatalf("token with a scope not allowed: %d %v", status, tok)
	}
	if _, err := runCmd(t, newAuthServerCmd(), "clients", "remove", id, "--data-dir", dir); err != nil {
		t.Fatal(err)
	}
	if status, tok := token(""); status != 401 {
		t.Fatalf("removed client: %d %v", status, tok)
	}
	if _, err := runCmd(t, newAuthServerCmd(), "clients", "remove", id, "--data-dir", dir); err == nil {
		t.Fatal("removing an unknown client succeeded")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
