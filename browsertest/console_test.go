// Package browsertest drives Switchboard's web console in a real Chromium
// (Debian's chromium package, headless, through chromedp) against a real
// "switchboard serve" process. It is its own module so that chromedp stays
// out of the main module. Screenshots go to $SCREENSHOT_DIR (default
// ./screenshots).
package browsertest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

var listening = regexp.MustCompile(`listening on (127\.0\.0\.1:\d+)`)

// chromium returns the browser to drive, or skips: CI installs Debian's
// chromium before it runs these tests (make browser-deps).
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
	t.Skip("chromium is not installed: run make browser-deps")
	return ""
}

// startGateway builds switchboard and runs serve with a configuration of
// two upstreams (the demo server twice, over stdio). It returns the base
// URL.
func startGateway(t *testing.T) string {
	t.Helper()
	return startGatewayWith(t, func(bin string) map[string]any {
		return map[string]any{
			"demo":   map[string]any{"command": bin, "args": []string{"demo", "everything"}, "session": "per-client"},
			"tools2": map[string]any{"command": bin, "args": []string{"demo", "everything"}},
		}
	})
}

// startGatewayWith builds switchboard and runs serve with the upstreams
// servers(bin) gives (bin: the switchboard binary). It returns the base
// URL.
func startGatewayWith(t *testing.T, servers func(bin string) map[string]any) string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "switchboard")
	build := exec.Command("go", "build", "-o", bin, "./cmd/switchboard")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building switchboard: %v\n%s", err, out)
	}
	cfg := map[string]any{"mcpServers": servers(bin)}
	b, _ := json.Marshal(cfg)
	cfgPath := filepath.Join(dir, "switchboard.json")
	if err := os.WriteFile(cfgPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--config", cfgPath, "--addr", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "data"))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
		}
	})
	addr := make(chan string, 1)
	var log strings.Builder
	go func() {
		sc := bufio.NewScanner(stderr)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			log.WriteString(line + "\n")
			if m := listening.FindStringSubmatch(line); m != nil && !sent {
				addr <- m[1]
				sent = true
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	select {
	case a := <-addr:
		return "http://" + a
	case <-time.After(60 * time.Second):
		t.Fatalf("serve did not start:\n%s", log.String())
	}
	return ""
}

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

// shot saves a full-page screenshot.
func shot(dir, name string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		buf, err := chromedp.FullScreenshot(100)(ctx, t)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644)
	})
}

// TestConsole opens the console of a gateway fronting two upstreams: both
// show healthy; a tool's generated form is filled and called and the
// result shown; a tool that elicits is called and answered in the page;
// an upstream is disabled and enabled again.
func TestConsole(t *testing.T) {
	browser := chromium(t)
	base := startGateway(t)
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
		chromedp.WindowSize(1440, 900),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	var consoleErrors []string
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithErrorf(func(f string, a ...any) { consoleErrors = append(consoleErrors, fmt.Sprintf(f, a...)) }),
		chromedp.WithBrowserOption(chromedp.WithConsolef(func(f string, a ...any) { consoleErrors = append(consoleErrors, fmt.Sprintf(f, a...)) })))
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()

	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("main")))
			_ = chromedp.Do(ctx, shot(shots, "failed-"+name))
			t.Fatalf("%s: %v\npage: %s", name, err, html)
		}
	}

	// Upstreams: both healthy.
	step("upstreams",
		chromedp.Navigate(base+"/ui/"),
		chromedp.WaitVisible(chromedp.CSS(`[data-upstream="demo"] [data-testid="state"]`)),
		waitText(`[data-upstream="demo"] [data-testid="state"]`, "ready"),
		waitText(`[data-upstream="tools2"] [data-testid="state"]`, "ready"),
		shot(shots, "01-upstreams"),
	)

	// An upstream's detail page.
	step("detail",
		chromedp.Navigate(base+"/ui/#/upstreams/demo"),
		chromedp.WaitVisible(chromedp.CSS(`.feature-name`)),
		waitText(`main`, "demo_add"),
		shot(shots, "02-upstream-detail"),
	)

	// A tool with a generated form: add a=2, b=3.
	step("call add",
		chromedp.Navigate(base+"/ui/#/playground/tool/demo_add"),
		chromedp.WaitVisible(chromedp.CSS(`form.schema-form input[type=number]`)),
		chromedp.SendKeys(chromedp.CSS(`form.schema-form .field:nth-of-type(1) input[type=number]`), "2"),
		chromedp.SendKeys(chromedp.CSS(`form.schema-form .field:nth-of-type(2) input[type=number]`), "3"),
		chromedp.Click(chromedp.CSS(`[data-testid="run"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="result"]`)),
		waitText(`[data-testid="result"]`, "5"),
		shot(shots, "03-tool-result"),
	)

	// A tool that elicits: the question is answered in the page.
	step("elicitation",
		chromedp.Navigate(base+"/ui/#/playground/tool/demo_test_elicitation"),
		chromedp.WaitVisible(chromedp.CSS(`form.schema-form input, form.schema-form textarea`)),
		chromedp.SendKeys(chromedp.CSS(`form.schema-form input, form.schema-form textarea`), "What is your name?"),
		chromedp.Click(chromedp.CSS(`[data-testid="run"]`)),
		chromedp.WaitVisible(chromedp.CSS(`dialog[open] #dialog-body input`)),
		shot(shots, "04-elicitation"),
		chromedp.SendKeys(chromedp.CSS(`dialog[open] #dialog-body input`), "Ada Lovelace"),
		chromedp.Click(chromedp.CSS(`[data-testid="dialog-accept"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="result"]`)),
		waitText(`[data-testid="result"]`, "Ada Lovelace"),
		shot(shots, "05-elicitation-result"),
	)

	// Disable an upstream, then enable it again.
	step("disable",
		chromedp.Navigate(base+"/ui/#/upstreams"),
		chromedp.WaitVisible(chromedp.CSS(`[data-upstream="tools2"] [data-testid="disable"]`)),
		chromedp.Click(chromedp.CSS(`[data-upstream="tools2"] [data-testid="disable"]`)),
		waitText(`[data-upstream="tools2"] [data-testid="state"]`, "disabled"),
		shot(shots, "06-disabled"),
		chromedp.Click(chromedp.CSS(`[data-upstream="tools2"] [data-testid="enable"]`)),
		waitText(`[data-upstream="tools2"] [data-testid="state"]`, "ready"),
	)

	// Sessions and logs render.
	step("sessions",
		chromedp.Navigate(base+"/ui/#/sessions"),
		waitText(`main`, "switchboard-console"),
		shot(shots, "07-sessions"),
		chromedp.Navigate(base+"/ui/#/logs"),
		waitText(`.logs`, "upstream state"),
		shot(shots, "08-logs"),
	)
	for _, e := range consoleErrors {
		t.Logf("browser: %s", e)
	}
}

// waitText waits until the text of the first element matching sel
// contains want.
func waitText(sel, want string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		var last string
		for {
			text, err := chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%q) || {}).textContent || ""`, sel))(ctx, t)
			if err == nil {
				last = text
				if strings.Contains(text, want) {
					return nil
				}
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("waiting for %q in %s (last text %q): %w", want, sel, last, ctx.Err())
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
}
