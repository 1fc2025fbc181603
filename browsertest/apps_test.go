package browsertest

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/go-json-experiment/json"
)

// exampleServer is the official example MCP App server pinned in
// package.json (npm ci in this directory installs it).
const exampleServer = "node_modules/@modelcontextprotocol/server-basic-vanillajs/dist/index.js"

// TestApps renders MCP Apps in the console, through the gateway: the
// official example server (@modelcontextprotocol/server-basic-vanillajs,
// over stdio) and the demo server's two apps. Each view initializes and
// shows its UI; a click inside the view calls a tool; the console asks the
// person, and once allowed, the view shows the result. The view runs on
// another origin than the console's, under the CSP the spec prescribes,
// checked from the view itself.
func TestApps(t *testing.T) {
	browser := chromium(t)
	example, err := filepath.Abs(exampleServer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(example); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the example app server is not installed (npm ci in browsertest/): %v", err)
		}
		t.Skipf("the example app server is not installed: run npm ci in browsertest/ (%v)", err)
	}
	base := startGatewayWith(t, func(bin string) map[string]any {
		return map[string]any{
			"demo":    map[string]any{"command": bin, "args": []string{"demo", "everything"}, "session": "per-client"},
			"vanilla": map[string]any{"command": "node", "args": []string{example, "--stdio"}},
		}
	})
	shots := screenshotDir(t)

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
		chromedp.WindowSize(1440, 1000),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	var browserLog []string
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithErrorf(func(f string, a ...any) { browserLog = append(browserLog, fmt.Sprintf(f, a...)) }),
		chromedp.WithBrowserOption(chromedp.WithConsolef(func(f string, a ...any) { browserLog = append(browserLog, fmt.Sprintf(f, a...)) })))
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 6*time.Minute)
	defer cancel()

	// Start the browser on ctx itself: the steps' shorter contexts derive
	// from it.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		start := time.Now()
		defer func() { t.Logf("%s: %v", name, time.Since(start).Round(time.Millisecond)) }()
		for i, a := range actions {
			actx, acancel := context.WithTimeout(ctx, 45*time.Second)
			err := chromedp.Do(actx, a)
			acancel()
			if err != nil {
				err = fmt.Errorf("action %d: %w", i, err)
			}
			if err == nil {
				continue
			}
			html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("main")))
			_ = chromedp.Do(ctx, shot(shots, "failed-apps-"+name))
			for _, l := range browserLog {
				t.Logf("browser: %s", l)
			}
			t.Fatalf("%s: %v\npage: %s", name, err, html)
		}
	}
	consoleOrigin := base

	// The official example: its view shows the server time the tool
	// returned; its button calls get-time again, which needs consent.
	var first string
	step("example app",
		chromedp.Navigate(base+"/ui/#/playground/tool/vanilla_get-time"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="app-chip"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="run"]`)),
		waitText(`[data-testid="app-state"]`, "running"),
		waitView(`#server-time`, func(s string) bool { return strings.Contains(s, "T") && strings.HasSuffix(s, "Z") }),
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			var err error
			first, err = inView[string](ctx, `function() { return this.querySelector('#server-time').textContent }`)
			return err
		}),
		shot(shots, "10-app-example"),
		clickInView(`#get-time-btn`),
		chromedp.WaitVisible(chromedp.CSS(`dialog[open] .consent-args`)),
		waitText(`#dialog-title`, "The app wants to call a tool"),
		waitText(`#dialog-body`, "vanilla_get-time"),
		shot(shots, "11-app-consent"),
		chromedp.Click(chromedp.CSS(`[data-testid="dialog-allow"]`)),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := waitView(`#server-time`, func(s string) bool { return s != first && strings.HasSuffix(s, "Z") })(ctx, t)
			return err
		}),
		waitText(`[data-testid="app-activity"]`, "get-time → vanilla_get-time"),
		shot(shots, "12-app-example-after-call"),
	)
	checkIsolation(t, ctx, consoleOrigin, "")

	// The demo's counter: +1 asks once, then the answer shows in the view;
	// a second +1 goes through without asking (consent once per tool).
	var before string
	step("counter",
		chromedp.Navigate(base+"/ui/#/playground/tool/demo_show_counter"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="app-chip"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="run"]`)),
		waitText(`[data-testid="app-state"]`, "running"),
		waitView(`#count`, func(s string) bool { return s != "–" && s != "" }),
		waitView(`#status`, func(s string) bool { return strings.Contains(s, "Shown by the tool call") }),
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			var err error
			before, err = inView[string](ctx, `function() { return this.querySelector('#count').textContent }`)
			return err
		}),
		clickInView(`#inc`),
		waitText(`#dialog-body`, "counter_increment"),
		shot(shots, "13-counter-consent"),
		chromedp.Click(chromedp.CSS(`[data-testid="dialog-allow"]`)),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := waitView(`#count`, func(s string) bool { return s == plus(before, 1) })(ctx, t)
			return err
		}),
		clickInView(`#inc`),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := waitView(`#count`, func(s string) bool { return s == plus(before, 2) })(ctx, t)
			return err
		}),
		waitText(`[data-testid="app-activity"]`, "log (notifications/message)"),
		shot(shots, "14-counter-after-calls"),
		// Asked at every call: a denied call reaches the view as an error.
		chromedp.SetValue(chromedp.CSS(`[data-testid="app-consent"]`), "always"),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](`document.querySelector('[data-testid="app-consent"]').dispatchEvent(new Event('change'))`)(ctx, t)
			return err
		}),
		clickInView(`#inc`),
		waitText(`#dialog-body`, "asked at every call"),
		chromedp.Click(chromedp.CSS(`[data-testid="dialog-deny"]`)),
		waitView(`#status`, func(s string) bool { return strings.Contains(s, "denied") }),
		waitText(`[data-testid="app-activity"]`, "denied by the person"),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := waitView(`#count`, func(s string) bool { return s == plus(before, 2) })(ctx, t)
			return err
		}),
	)
	// The counter declares no CSP: the spec's default applies.
	checkIsolation(t, ctx, consoleOrigin, "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; media-src 'self' data:; connect-src 'none'; frame-src 'none'; object-src 'none'; base-uri 'self'; frame-ancestors "+consoleOrigin)

	// The host-context app: what ui/initialize told it, a theme change
	// (host-context-changed), model context, a message, a refused link.
	step("host context",
		chromedp.Navigate(base+"/ui/#/playground/tool/demo_show_host_context"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="app-chip"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="run"]`)),
		waitText(`[data-testid="app-state"]`, "running"),
		waitView(`#display-mode`, func(s string) bool { return s == "inline" }),
		waitView(`#locale`, func(s string) bool { return s != "–" && s != "" }),
		waitView(`#theme`, func(s string) bool { return s == "light" || s == "dark" }),
		waitText(`[data-testid="app-activity"]`, "log (ui/log)"),
		shot(shots, "15-host-context"),
		chromedp.SetValue(chromedp.CSS(`[data-testid="app-theme"]`), "dark"),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](`document.querySelector('[data-testid="app-theme"]').dispatchEvent(new Event('change'))`)(ctx, t)
			return err
		}),
		waitView(`#theme`, func(s string) bool { return s == "dark" }),
		clickInView(`#context`),
		waitText(`[data-testid="app-messages"]`, "The person looked at the host context: dark theme"),
		clickInView(`#message`),
		waitText(`[data-testid="app-messages"]`, "Hello from the host-context app"),
		shot(shots, "16-host-context-dark"),
		clickInView(`#link`),
		waitText(`#dialog-title`, "The app wants to open a link"),
		waitText(`#dialog-body`, "https://modelcontextprotocol.io/extensions/apps/overview"),
		shot(shots, "17-open-link"),
		chromedp.Click(chromedp.CSS(`[data-testid="dialog-deny"]`)),
		waitView(`#status`, func(s string) bool { return strings.Contains(s, "refused") }),
		clickInView(`#fullscreen`),
		waitView(`#display-mode`, func(s string) bool { return s == "fullscreen" }),
		shot(shots, "18-fullscreen"),
		chromedp.Click(chromedp.CSS(`[data-testid="app-close"]`)),
		chromedp.WaitNotPresent(chromedp.CSS(`[data-testid="app-panel"]`)),
	)

	// The upstream's page reports the gateway's check of its apps.
	step("apps check",
		chromedp.Navigate(base+"/ui/#/upstreams/vanilla"),
		waitText(`[data-testid="apps-check"]`, "get-time"),
		shot(shots, "19-apps-check"),
	)
	for _, l := range browserLog {
		t.Logf("browser: %s", l)
	}
}

func plus(s string, n int) string {
	var v int
	fmt.Sscan(s, &v)
	return fmt.Sprint(v + n)
}

// viewFrame finds the frame of the view: the child of the sandbox
// proxy's frame.
func viewFrame(ctx context.Context) (sandbox, view *cdp.Frame, err error) {
	res, err := chromedp.Call(ctx, page.GetFrameTree, cdp.Empty{})
	if err != nil {
		return nil, nil, err
	}
	var walk func(*page.FrameTree)
	walk = func(ft *page.FrameTree) {
		if ft == nil {
			return
		}
		if strings.Contains(ft.Frame.URL, "/sandbox?") && len(ft.ChildFrames) > 0 {
			sandbox, view = ft.Frame, ft.ChildFrames[0].Frame
			return
		}
		for _, c := range ft.ChildFrames {
			walk(c)
		}
	}
	walk(res.FrameTree)
	if view == nil {
		return nil, nil, fmt.Errorf("no view frame yet")
	}
	return sandbox, view, nil
}

// inView calls fn (a function declaration) with this bound to the view's
// document, in the view's own JavaScript world (so under its CSP).
func inView[T any](ctx context.Context, fn string) (T, error) {
	var zero T
	_, view, err := viewFrame(ctx)
	if err != nil {
		return zero, err
	}
	owner, err := chromedp.Call(ctx, dom.GetFrameOwner, dom.GetFrameOwnerParams{FrameID: view.ID})
	if err != nil {
		return zero, err
	}
	depth, pierce := int64(1), true
	node, err := chromedp.Call(ctx, dom.DescribeNode, dom.DescribeNodeParams{BackendNodeID: owner.BackendNodeID, Depth: &depth, Pierce: &pierce})
	if err != nil {
		return zero, err
	}
	if node.Node.ContentDocument == nil {
		return zero, fmt.Errorf("the view's frame has no document (yet)")
	}
	obj, err := chromedp.Call(ctx, dom.ResolveNode, dom.ResolveNodeParams{BackendNodeID: node.Node.ContentDocument.BackendNodeID})
	if err != nil {
		return zero, err
	}
	yes := true
	r, err := chromedp.Call(ctx, runtime.CallFunctionOn, runtime.CallFunctionOnParams{FunctionDeclaration: fn, ObjectID: obj.Object.ObjectID, ReturnByValue: &yes, AwaitPromise: &yes, UserGesture: &yes})
	if err != nil {
		return zero, err
	}
	if r.ExceptionDetails != nil {
		return zero, fmt.Errorf("in the view: %s", r.ExceptionDetails.Text)
	}
	if err := json.Unmarshal(r.Result.Value, &zero); err != nil {
		return zero, fmt.Errorf("in the view: %s: %w", r.Result.Value, err)
	}
	return zero, nil
}

// waitView waits until the text of sel in the view satisfies ok.
func waitView(sel string, ok func(string) bool) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		var last string
		var lastErr error
		for {
			text, err := inView[string](ctx, fmt.Sprintf(`function() { const e = this.querySelector(%q); return e ? e.textContent.trim() : "" }`, sel))
			if err == nil {
				last = text
				if ok(text) {
					return nil
				}
			} else {
				lastErr = err
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("waiting in the view for %s (last text %q, last error %v): %w", sel, last, lastErr, ctx.Err())
			case <-time.After(150 * time.Millisecond):
			}
		}
	})
}

// clickInView clicks sel in the view.
func clickInView(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := inView[bool](ctx, fmt.Sprintf(`function() { this.querySelector(%q).click(); return true }`, sel))
		return err
	})
}

// checkIsolation checks, from the page, that the view runs on another
// origin than the console's, cannot reach the console, and is under the
// policy the console shows (and, when want is set, that policy is want);
// the view cannot connect anywhere its policy does not name.
func checkIsolation(t *testing.T, ctx context.Context, consoleOrigin, want string) {
	t.Helper()
	src, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('[data-testid="app-frame"]').src`))
	if err != nil {
		t.Fatal(err)
	}
	shown, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('[data-testid="app-frame"]').dataset.csp`))
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	if sandboxOrigin := u.Scheme + "://" + u.Host; sandboxOrigin == consoleOrigin {
		t.Errorf("the view's frame is on the console's origin %s", consoleOrigin)
	}
	// The policy the sandbox page carries is the one the console shows,
	// for the console only.
	resp, err := http.Get(src)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	header := resp.Header.Get("Content-Security-Policy")
	if header != shown+"; frame-ancestors "+consoleOrigin {
		t.Errorf("the sandbox's policy\n%s\nis not the one the console shows\n%s", header, shown)
	}
	if want != "" && header != want {
		t.Errorf("policy\n got %s\nwant %s", header, want)
	}
	// From the view: its origin, the console out of reach, connections
	// refused by its policy.
	got, err := inView[map[string]string](ctx, fmt.Sprintf(`async function() {
		const out = { origin: location.origin === 'null' ? this.defaultView.origin : location.origin };
		try { void window.top.document.body; out.top = 'reachable' } catch (e) { out.top = 'isolated' }
		const violated = new Promise((resolve) => {
			document.addEventListener('securitypolicyviolation', (e) => resolve(e.effectiveDirective), { once: true });
			setTimeout(() => resolve('none'), 3000);
		});
		try { await fetch(%q + '/healthz'); out.fetch = 'allowed' } catch (e) { out.fetch = 'blocked' }
		out.violated = await violated;
		return out;
	}`, consoleOrigin))
	if err != nil {
		t.Fatal(err)
	}
	if got["origin"] == consoleOrigin || got["top"] != "isolated" || got["fetch"] != "blocked" || got["violated"] != "connect-src" {
		t.Errorf("from the view: %v (console %s)", got, consoleOrigin)
	}
}
