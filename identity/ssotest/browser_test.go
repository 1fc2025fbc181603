package ssotest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/switchboard-mcp/switchboard/oauthclient"
)

// chromium returns the browser to drive (Debian's chromium, or
// $CHROMIUM), or skips the test when there is none; in CI (CI set) a
// missing browser fails it: make identity-sso installs it (browser-deps).
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed (make browser-deps installs Debian's chromium package)")
	}
	t.Skip("chromium is not installed: run make browser-deps (or set CHROMIUM)")
	return ""
}

// screenshotDir is $SCREENSHOT_DIR, default ./screenshots.
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("SCREENSHOT_DIR")
	if dir == "" {
		dir = "screenshots"
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// shot saves a full-page screenshot as dir/name.png.
func shot(dir, name string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		buf, err := chromedp.FullScreenshot(100)(ctx, t)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644)
	})
}

// waitLocation waits until the page's location starts with prefix.
func waitLocation(prefix string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		var last string
		for {
			loc, err := chromedp.Location()(ctx, t)
			if err == nil {
				last = loc
				if strings.HasPrefix(loc, prefix) {
					return nil
				}
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("waiting for %s (at %s): %w", prefix, last, ctx.Err())
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
}

// TestSSOInBrowser: the person's part of TestSSO's sign-in done by a real
// Chromium (headless, through chromedp). The MCP client's authorization
// URL opens in the browser, which the authorization server sends to the
// identity provider's login page; the person types their name and
// password there and submits, lands on Switchboard's consent page, which
// shows who signs in, and approves; the browser reaches the client's
// loopback redirect URI, and the client exchanges the code. The gateway
// then sees the provider's subject and groups. Screenshots of the login
// and consent pages go to $SCREENSHOT_DIR (default ./screenshots).
func TestSSOInBrowser(t *testing.T) {
	browser := chromium(t)
	e := startSSO(t)
	shots := screenshotDir(t)
	old, _ := filepath.Glob(filepath.Join(shots, "sso-*.png"))
	for _, f := range old {
		os.Remove(f)
	}

	// The MCP client's redirect URI, on loopback: it passes the
	// authorization response on and shows a page the browser can land on.
	responses := make(chan url.Values, 1)
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" {
			http.NotFound(w, r)
			return
		}
		select {
		case responses <- r.URL.Query():
		default:
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><title>Signed in</title><h1 id="done">Authorization complete</h1>`)
	}))
	t.Cleanup(cb.Close)
	redirect := cb.URL + "/callback"

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1024, 768),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	var logMu sync.Mutex
	var browserLog []string
	logf := func(f string, a ...any) {
		logMu.Lock()
		defer logMu.Unlock()
		browserLog = append(browserLog, fmt.Sprintf(f, a...))
	}
	bctx, cancel := chromedp.NewContext(actx, chromedp.WithErrorf(logf), chromedp.WithBrowserOption(chromedp.WithConsolef(logf)))
	defer cancel()
	bctx, cancel = context.WithTimeout(bctx, 2*time.Minute)
	defer cancel()
	// Start the browser on bctx itself, before the sign-in needs it.
	if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	defer func() {
		logMu.Lock()
		defer logMu.Unlock()
		for _, l := range browserLog {
			t.Logf("browser: %s", l)
		}
	}()

	var consent string
	step := func(name string, actions ...chromedp.Action[chromedp.Void]) error {
		sctx, cancel := context.WithTimeout(bctx, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			loc, _ := chromedp.Run(bctx, chromedp.Location())
			html, _ := chromedp.Run(bctx, chromedp.OuterHTML(chromedp.CSS("body")))
			_ = chromedp.Do(bctx, shot(shots, "sso-failed-"+name))
			return fmt.Errorf("%s: %v\nat %s: %.2000s", name, err, loc, html)
		}
		return nil
	}
	authorize := func(ctx context.Context, authURL string) (*oauthclient.AuthorizationResponse, error) {
		// The authorization server sends the browser to the IdP's login
		// form (exampleop/templates/login.html).
		if err := step("login page",
			chromedp.Navigate(authURL),
			chromedp.WaitVisible(chromedp.CSS(`input#username`)),
			shot(shots, "sso-01-login"),
		); err != nil {
			return nil, err
		}
		if loc, _ := chromedp.Run(bctx, chromedp.Location()); !strings.HasPrefix(loc, e.idp.URL+"/login/username") {
			return nil, fmt.Errorf("the login form is at %s, not at the IdP (%s)", loc, e.idp.URL)
		}
		// The person signs in there and lands on Switchboard's consent
		// page.
		if err := step("sign in",
			chromedp.SendKeys(chromedp.CSS(`input#username`), e.user),
			chromedp.SendKeys(chromedp.CSS(`input#password`), "verysecure"),
			shot(shots, "sso-02-login-filled"),
			chromedp.Click(chromedp.CSS(`form button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(`button.approve`)),
			shot(shots, "sso-03-consent"),
		); err != nil {
			return nil, err
		}
		if loc, _ := chromedp.Run(bctx, chromedp.Location()); !strings.HasPrefix(loc, e.asSrv.URL+"/") {
			return nil, fmt.Errorf("the consent page is at %s, not at Switchboard's authorization server (%s)", loc, e.asSrv.URL)
		}
		text, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(`body`)))
		if err != nil {
			return nil, fmt.Errorf("the consent page's text: %v", err)
		}
		consent = text
		// Approve: the browser goes to the client's redirect URI.
		if err := step("approve",
			chromedp.Click(chromedp.CSS(`button.approve`)),
			waitLocation(redirect),
			chromedp.WaitVisible(chromedp.CSS(`#done`)),
			shot(shots, "sso-04-redirected"),
		); err != nil {
			return nil, err
		}
		select {
		case q := <-responses:
			return oauthclient.ParseAuthorizationResponse(q), nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cs := e.connect(ctx, t, redirect, authorize)
	if res, err := cs.CallToolArgs(ctx, "hello", map[string]any{}); err != nil || res.IsError {
		t.Fatalf("call: %v %+v", err, res)
	}
	// The consent page showed who signs in (the IdP's user, their
	// groups, the provider) and what for.
	for _, want := range []string{"Test User", "test-user@zitadel.ch", "Example IdP", "mcp-users", "Test MCP Client", e.gwURL} {
		if !strings.Contains(consent, want) {
			t.Errorf("the consent page does not show %q:\n%s", want, consent)
		}
	}
	e.checkIdentity(t)
	if tools, err := cs.ListTools(ctx, nil); err != nil || len(tools.Tools) != 1 {
		t.Fatalf("tools/list: %v %+v", err, tools)
	}
}
