package authserver

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// consentPage opens the consent page in a browser-like client with a
// cookie jar and returns the page and the form's hidden fields.
func consentPage(t *testing.T, f *asFixture, browser *http.Client, q url.Values) (string, url.Values) {
	t.Helper()
	resp, err := browser.Get(f.as.Issuer() + PathAuthorize + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("consent page: %d %s", resp.StatusCode, body)
	}
	if resp.Header.Get("X-Frame-Options") != "DENY" || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Fatalf("anti-framing headers missing: %v", resp.Header)
	}
	// A browser sends the form's POST with its real Origin (under
	// no-referrer it would send "Origin: null", which the POST refuses).
	if rp := resp.Header.Get("Referrer-Policy"); rp != "same-origin" {
		t.Fatalf("Referrer-Policy %q, want same-origin", rp)
	}
	// The answer's redirect to the client is a form-action too.
	if csp, want := resp.Header.Get("Content-Security-Policy"), "form-action 'self' "+formActionSource(q.Get("redirect_uri"))+";"; !strings.Contains(csp, want) {
		t.Fatalf("Content-Security-Policy %q lacks %q", csp, want)
	}
	fields := url.Values{}
	for _, m := range regexp.MustCompile(`name="(request_id|csrf_token)" value="([^"]+)"`).FindAllStringSubmatch(string(body), -1) {
		fields.Set(m[1], m[2])
	}
	if fields.Get("request_id") == "" || fields.Get("csrf_token") == "" {
		t.Fatalf("form fields missing: %s", body)
	}
	return string(body), fields
}

func newBrowser(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func submit(t *testing.T, f *asFixture, browser *http.Client, form url.Values, origin string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", f.as.Issuer()+PathAuthorize, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	resp, err := browser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestConsentApprove(t *testing.T) {
	f := newAS(t, func(o *Options) { o.AutoApprove = false })
	browser := newBrowser(t)
	_, challenge := pkce()
	page, fields := consentPage(t, f, browser, authParams(challenge))
	for _, want := range []string{"Public App", "127.0.0.1:2", "files:read", testResource, "Approve", "Any program on this computer"} {
		if !strings.Contains(page, want) {
			t.Errorf("consent page lacks %q", want)
		}
	}
	fields.Set("decision", "approve")
	resp := submit(t, f, browser, fields, f.as.Issuer())
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("status %d", resp.StatusCode)
	}
	p := redirectParams(t, resp)
	if p.Get("code") == "" || p.Get("state") != "st4te" || p.Get("iss") != f.as.Issuer() {
		t.Fatalf("params %v", p)
	}
	// The page answers once.
	if resp := submit(t, f, browser, fields, ""); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("second answer: %d", resp.StatusCode)
	}
}

func TestConsentDeny(t *testing.T) {
	f := newAS(t, func(o *Options) { o.AutoApprove = false })
	browser := newBrowser(t)
	_, challenge := pkce()
	_, fields := consentPage(t, f, browser, authParams(challenge))
	fields.Set("decision", "deny")
	p := redirectParams(t, submit(t, f, browser, fields, ""))
	if p.Get("error") != "access_denied" || p.Get("code") != "" {
		t.Fatalf("params %v", p)
	}
}

// TestConsentCSRF: the form is refused without the browser's cookie, with
// a wrong token, and from another origin.
func TestConsentCSRF(t *testing.T) {
	f := newAS(t, func(o *Options) { o.AutoApprove = false })
	victim := newBrowser(t)
	_, challenge := pkce()
	_, fields := consentPage(t, f, victim, authParams(challenge))
	fields.Set("decision", "approve")

	// An attacker's browser that learned the form fields lacks the cookie.
	if resp := submit(t, f, newBrowser(t), fields, ""); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("without cookie: %d", resp.StatusCode)
	}
	bad := url.Values{"request_id": {fields.Get("request_id")}, "csrf_token": {"forged"}, "decision": {"approve"}}
	if resp := submit(t, f, victim, bad, ""); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("wrong token: %d", resp.StatusCode)
	}
	if resp := submit(t, f, victim, fields, "https://evil.example.com"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-origin: %d", resp.StatusCode)
	}
	// The genuine submission still works.
	if resp := submit(t, f, victim, fields, ""); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("genuine: %d", resp.StatusCode)
	}
}

func TestConsentEscapesClientName(t *testing.T) {
	f := newAS(t, func(o *Options) {
		o.AutoApprove = false
		o.Clients = append(o.Clients, Client{ID: "x", Name: `<script>alert(1)</script>`, RedirectURIs: []string{testRedirect}})
	})
	_, challenge := pkce()
	q := authParams(challenge)
	q.Set("client_id", "x")
	page, _ := consentPage(t, f, newBrowser(t), q)
	if strings.Contains(page, "<script>") {
		t.Fatal("client name not escaped")
	}
}

func TestFormActionSource(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:8080/callback":     "http://127.0.0.1:8080",
		"https://App.example.com/cb?x=1":     "https://App.example.com",
		"http://[::1]:9/cb":                  "http://[::1]:9",
		"com.example.app:/oauth2redirect":    "com.example.app:",
		"cursor://anysphere.cursor-mcp/cb":   "cursor:",
		"/relative":                          "",
		"https:///nohost":                    "",
		"https://a.example.com;script-src *": "",
	} {
		if got := formActionSource(in); got != want {
			t.Errorf("formActionSource(%q) = %q, want %q", in, got, want)
		}
	}
}
