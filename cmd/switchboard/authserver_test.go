package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestAuthServerCommand starts "switchboard auth-server" on a loopback
// port, reads the issuer it prints, and gets a client_credentials token.
func TestAuthServerCommand(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	pr, pw := io.Pipe()
	cmd := newAuthServerCmd()
	cmd.SetArgs([]string{"--addr", "127.0.0.1:0", "--auto-approve", "--client", "ci:s3cret",
		"--resource", "http://127.0.0.1:8080/mcp", "--scope", "mcp"})
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
	cmd.SetArgs([]string{"--addr", "0.0.0.0:0"})
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	if err := cmd.ExecuteContext(context.Background()); err == nil || !strings.Contains(err.Error(), "TLS") {
		t.Fatalf("err = %v", err)
	}
}
