package oauthclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"time"
)

// LoopbackAuthorizer is the interactive authorizer of a command-line
// client (RFC 8252 Section 7.3): it listens on a loopback port for the
// redirect, shows the authorization URL, tries to open it in the browser,
// and waits for the authorization response. Create it with NewLoopback,
// use RedirectURL as Config.RedirectURL and Authorize as
// Config.Authorize, and Close it when done.
type LoopbackAuthorizer struct {
	// Out receives the authorization URL and instructions.
	out            io.Writer
	noBrowser      bool
	requireBrowser bool
	hint           string
	timeout        time.Duration

	ln       net.Listener
	srv      *http.Server
	redirect string
	served   chan struct{} // closed when Serve returns

	mu      sync.Mutex
	waiting map[string]chan *AuthorizationResponse // by state
	browser *exec.Cmd
	wg      sync.WaitGroup
}

// LoopbackOptions configure NewLoopback.
type LoopbackOptions struct {
	// Port to listen on at 127.0.0.1 (0: a random free port).
	Port int
	// Path of the redirect URI (default "/callback").
	Path string
	// Out receives the authorization URL (nil: discarded).
	Out io.Writer
	// NoBrowser only prints the URL.
	NoBrowser bool
	// RequireBrowser makes Authorize fail at once, with an error wrapping
	// ErrNoBrowser, when no browser can be opened (NoBrowser is set, there
	// is no opener program, or it failed, as xdg-open does without a
	// display), instead of waiting for a person to open the printed URL:
	// for programs with nobody at a terminal.
	RequireBrowser bool
	// Hint, if set, is printed after the authorization URL: how else the
	// person can finish.
	Hint string
	// Timeout bounds the wait for the person (default 5 minutes).
	Timeout time.Duration
}

// ErrNoBrowser is wrapped by the error of LoopbackAuthorizer.Authorize
// when LoopbackOptions.RequireBrowser is set and no browser could be
// opened.
var ErrNoBrowser = errors.New("oauthclient: no browser could be opened")

// browserCheck is how long Authorize waits for the browser opener to
// fail (xdg-open without a display exits at once) before taking it that
// the browser shows the page.
var browserCheck = 1500 * time.Millisecond

// NewLoopback starts listening on 127.0.0.1 for authorization responses.
func NewLoopback(opts LoopbackOptions) (*LoopbackAuthorizer, error) {
	path := opts.Path
	if path == "" {
		path = "/callback"
	}
	if path[0] != '/' {
		path = "/" + path
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(opts.Port)))
	if err != nil {
		return nil, fmt.Errorf("oauthclient: redirect listener: %w", err)
	}
	l := &LoopbackAuthorizer{
		out:            opts.Out,
		noBrowser:      opts.NoBrowser,
		requireBrowser: opts.RequireBrowser,
		hint:           opts.Hint,
		timeout:        opts.Timeout,
		ln:             ln,
		redirect:       "http://" + ln.Addr().String() + path,
		served:         make(chan struct{}),
		waiting:        map[string]chan *AuthorizationResponse{},
	}
	if l.out == nil {
		l.out = io.Discard
	}
	if l.timeout <= 0 {
		l.timeout = 5 * time.Minute
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+path, l.callback)
	l.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
	go func() {
		defer close(l.served)
		l.srv.Serve(ln)
	}()
	return l, nil
}

// RedirectURL returns the redirect URI the listener answers,
// http://127.0.0.1:PORT/PATH.
func (l *LoopbackAuthorizer) RedirectURL() string { return l.redirect }

const callbackPage = `<!doctype html><meta charset="utf-8"><title>Switchboard</title>
<body style="font-family:sans-serif;margin:3em"><h1>%s</h1><p>%s</p></body>`

func (l *LoopbackAuthorizer) callback(w http.ResponseWriter, r *http.Request) {
	resp := ParseAuthorizationResponse(r.URL.Query())
	l.mu.Lock()
	ch := l.waiting[resp.State]
	delete(l.waiting, resp.State)
	l.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	if ch == nil {
		// Not a response to a request we are waiting for (stale, forged,
		// or already used).
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, callbackPage, "Unexpected request", "Switchboard is not waiting for this authorization response.")
		return
	}
	ch <- resp // buffered, one send per state
	if resp.Error != "" {
		fmt.Fprintf(w, callbackPage, "Authorization failed", "Return to the terminal for details.")
		return
	}
	fmt.Fprintf(w, callbackPage, "Authorization complete", "You can close this window and return to the terminal.")
}

// Authorize implements AuthorizeFunc: it prints authURL, opens it in the
// browser (unless disabled), and waits for the response whose state
// matches the request's.
func (l *LoopbackAuthorizer) Authorize(ctx context.Context, authURL string) (*AuthorizationResponse, error) {
	u, err := url.Parse(authURL)
	if err != nil {
		return nil, fmt.Errorf("oauthclient: authorization URL: %w", err)
	}
	state := u.Query().Get("state")
	if state == "" {
		return nil, errors.New("oauthclient: authorization URL has no state")
	}
	ch := make(chan *AuthorizationResponse, 1)
	l.mu.Lock()
	l.waiting[state] = ch
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		delete(l.waiting, state)
		l.mu.Unlock()
	}()

	fmt.Fprintf(l.out, "To authorize, open this URL in your browser:\n\n  %s\n\n", authURL)
	if l.hint != "" {
		fmt.Fprintf(l.out, "%s\n\n", l.hint)
	}
	var browserErr error
	if l.noBrowser {
		browserErr = errors.New("disabled")
	} else if browserErr = l.openBrowser(authURL); browserErr != nil {
		fmt.Fprintf(l.out, "(could not open a browser: %v)\n", browserErr)
	}
	if browserErr != nil && l.requireBrowser {
		return nil, fmt.Errorf("%w (%v), and nobody is at a terminal to open the URL", ErrNoBrowser, browserErr)
	}
	fmt.Fprintf(l.out, "Waiting for the authorization (up to %s)...\n", l.timeout)
	timer := time.NewTimer(l.timeout)
	defer timer.Stop()
	select {
	case r := <-ch:
		return r, nil
	case <-timer.C:
		return nil, errors.New("oauthclient: timed out waiting for the authorization response")
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-l.served:
		return nil, errors.New("oauthclient: redirect listener closed")
	}
}

// openBrowser starts the platform's URL opener and reports its failure
// if it fails within browserCheck; Close reaps it.
func (l *LoopbackAuthorizer) openBrowser(u string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", u)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", u)
	default:
		cmd = exec.Command("xdg-open", u)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	l.mu.Lock()
	l.browser = cmd
	l.mu.Unlock()
	exited := make(chan error, 1)
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		exited <- cmd.Wait()
	}()
	t := time.NewTimer(browserCheck)
	defer t.Stop()
	select {
	case err := <-exited:
		if err != nil {
			return fmt.Errorf("%s: %w", cmd.Args[0], err)
		}
	case <-t.C:
	}
	return nil
}

// Close stops the listener and waits for the browser opener to exit
// (killing it if it is still running).
func (l *LoopbackAuthorizer) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := l.srv.Shutdown(ctx)
	<-l.served
	l.mu.Lock()
	cmd := l.browser
	l.mu.Unlock()
	if cmd != nil && cmd.Process != nil {
		done := make(chan struct{})
		go func() { l.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}
	return err
}
