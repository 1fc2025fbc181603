package e2e

// End-to-end tests of "switchboard serve --auth" as a process: the state
// of its authorization server survives a restart (issue 10, finding 6),
// and open registration cannot yield a machine client (finding 1).

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

var asAddrRE = regexp.MustCompile(`authorization server at (http://127\.0\.0\.1:\d+)`)

// authServe is a running "switchboard serve --auth".
type authServe struct {
	*stdioServer
	mcpURL, asURL string
}

// startAuthServe starts serve --auth with the data directory dir, on the
// given addresses (127.0.0.1:0 for any), and waits for both addresses.
func startAuthServe(t *testing.T, dir, addr, authAddr string, extra ...string) *authServe {
	t.Helper()
	args := append([]string{"serve", "--auth", "--addr", addr, "--auth-addr", authAddr, "--data-dir", dir}, extra...)
	s := startStdio(t, nil, args...)
	deadline := time.Now().Add(wait)
	for {
		l, a := listeningRE.FindStringSubmatch(s.stderr.String()), asAddrRE.FindStringSubmatch(s.stderr.String())
		if l != nil && a != nil {
			if !strings.Contains(s.stderr.String(), "data directory "+dir) {
				t.Fatalf("the data directory is not reported:\n%s", s.stderr.String())
			}
			return &authServe{stdioServer: s, mcpURL: "http://" + l[1] + "/mcp", asURL: a[1]}
		}
		select {
		case <-s.exited:
			t.Fatalf("serve exited: %v\n%s", s.err, s.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not report its addresses:\n%s", s.stderr.String())
		}
	}
}

// stop sends SIGTERM and waits for the process to exit.
func (s *authServe) stop(t *testing.T) {
	t.Helper()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(wait):
		t.Fatal("serve did not stop on SIGTERM")
	}
}

var noRedirects = &http.Client{Timeout: wait, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// postForm posts a form and decodes the JSON answer.
func postForm(t *testing.T, u string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := noRedirects.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// registerClient registers a client with DCR and returns the answer.
func registerClient(t *testing.T, asURL, metadata string) (int, map[string]any) {
	t.Helper()
	resp, err := noRedirects.Post(asURL+"/register", "application/json", strings.NewReader(metadata))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// login runs an auto-approved authorization code flow with PKCE for
// clientID and returns the token response.
func (s *authServe) login(t *testing.T, clientID, redirect string) map[string]any {
	t.Helper()
	verifier := strings.Repeat("v", 50)
	challenge := pkceS256(verifier)
	q := url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirect},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "resource": {s.mcpURL}, "state": {"x"}}
	resp, err := noRedirects.Get(s.asURL + "/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("authorize: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	status, tok := postForm(t, s.asURL+"/token", url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")},
		"code_verifier": {verifier}, "client_id": {clientID}, "redirect_uri": {redirect}, "resource": {s.mcpURL}})
	if status != 200 {
		t.Fatalf("token: %d %v", status, tok)
	}
	return tok
}

// initialize sends an initialize request with the bearer token and
// returns the status.
func (s *authServe) initialize(t *testing.T, token string) int {
	t.Helper()
	req, _ := http.NewRequest("POST", s.mcpURL, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"e2e","version":"1"}}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestAuthServeRestart is the acceptance test of issue 10 finding 6: a
// client logged in (access and refresh token) before a restart of the
// real "serve --auth" process is still authorized after it, a token
// revoked before the restart stays revoked, and the refresh token still
// refreshes.
func TestAuthServeRestart(t *testing.T) {
	dir := t.TempDir()
	s := startAuthServe(t, dir, "127.0.0.1:0", "127.0.0.1:0", "--auto-approve")
	const redirect = "http://127.0.0.1:9/callback"
	status, reg := registerClient(t, s.asURL, `{"client_name":"e2e","redirect_uris":["`+redirect+`"],"token_endpoint_auth_method":"none","grant_types":["authorization_code","refresh_token"]}`)
	if status != 201 {
		t.Fatalf("register: %d %v", status, reg)
	}
	clientID := reg["client_id"].(string)
	tok := s.login(t, clientID, redirect)
	at, rt := tok["access_token"].(string), tok["refresh_token"].(string)
	revoked := s.login(t, clientID, redirect)["access_token"].(string)
	if status, _ := postForm(t, s.asURL+"/revoke", url.Values{"token": {revoked}, "client_id": {clientID}}); status != 200 {
		t.Fatalf("revoke: %d", status)
	}
	if got := s.initialize(t, at); got != 200 {
		t.Fatalf("before the restart: %d", got)
	}
	if got := s.initialize(t, revoked); got != 401 {
		t.Fatalf("revoked token before the restart: %d", got)
	}
	mcpAddr := strings.TrimSuffix(strings.TrimPrefix(s.mcpURL, "http://"), "/mcp")
	asAddr := strings.TrimPrefix(s.asURL, "http://")
	s.stop(t)

	s = startAuthServe(t, dir, mcpAddr, asAddr, "--auto-approve")
	if got := s.initialize(t, at); got != 200 {
		t.Fatalf("the access token from before the restart: %d", got)
	}
	if got := s.initialize(t, revoked); got != 401 {
		t.Fatalf("the token revoked before the restart: %d", got)
	}
	status, tok = postForm(t, s.asURL+"/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {clientID}})
	if status != 200 {
		t.Fatalf("refresh after the restart: %d %v", status, tok)
	}
	if got := s.initialize(t, tok["access_token"].(string)); got != 200 {
		t.Fatalf("the refreshed token: %d", got)
	}
	s.stop(t)
}

// TestAuthServeRefusesRegisteredMachineClient is the process-level
// regression test of issue 10 finding 1: in consent mode, a client that
// registered itself cannot get a token without a person, whatever it
// registers with.
func TestAuthServeRefusesRegisteredMachineClient(t *testing.T) {
	s := startAuthServe(t, t.TempDir(), "127.0.0.1:0", "127.0.0.1:0")
	for _, md := range []string{
		`{"client_name":"m","grant_types":["client_credentials"]}`,
		`{"client_name":"m","redirect_uris":["https://a.example.com/cb"],"grant_types":["authorization_code","client_credentials"]}`,
		`{"client_name":"m","redirect_uris":["https://a.example.com/cb"]}`,
	} {
		status, reg := registerClient(t, s.asURL, md)
		if status != 201 {
			if status != 400 || reg["error"] != "invalid_client_metadata" {
				t.Errorf("%s: %d %v", md, status, reg)
			}
			continue
		}
		id, _ := reg["client_id"].(string)
		secret, _ := reg["client_secret"].(string)
		req, _ := http.NewRequest("POST", s.asURL+"/token", strings.NewReader(url.Values{
			"grant_type": {"client_credentials"}, "resource": {s.mcpURL}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(id, secret)
		resp, err := noRedirects.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var tok map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&tok)
		resp.Body.Close()
		if at, ok := tok["access_token"].(string); ok {
			t.Errorf("%s: a registered client got a token without a person (MCP answers %d)", md, s.initialize(t, at))
		} else if tok["error"] != "unauthorized_client" {
			t.Errorf("%s: %d %v", md, resp.StatusCode, tok)
		}
	}
	s.stop(t)
}

// pkceS256 is the S256 code challenge of verifier (RFC 7636).
func pkceS256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
