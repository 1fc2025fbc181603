package oauthclient

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestLoopbackAuthorizer(t *testing.T) {
	ctx := testCtx(t)
	var out syncBuffer
	lb, err := NewLoopback(LoopbackOptions{Out: &out, NoBrowser: true, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer lb.Close()
	ru, _ := url.Parse(lb.RedirectURL())
	if ru.Hostname() != "127.0.0.1" || ru.Port() == "0" || ru.Path != "/callback" {
		t.Fatalf("redirect URL %s", lb.RedirectURL())
	}
	authURL := "https://as.example/authorize?" + url.Values{"state": {"good"}, "redirect_uri": {lb.RedirectURL()}}.Encode()

	type result struct {
		r   *AuthorizationResponse
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := lb.Authorize(ctx, authURL)
		done <- result{r, err}
	}()
	// Wait until the authorizer has printed the URL (it is then waiting).
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), "as.example/authorize") {
		if time.Now().After(deadline) {
			t.Fatal("authorization URL not printed")
		}
		time.Sleep(5 * time.Millisecond)
	}
	get := func(q url.Values) int {
		resp, err := http.Get(lb.RedirectURL() + "?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	// A response with another state is rejected and does not end the wait.
	if st := get(url.Values{"code": {"evil"}, "state": {"forged"}}); st != http.StatusBadRequest {
		t.Errorf("forged state: HTTP %d", st)
	}
	if st := get(url.Values{"code": {"c"}, "state": {"good"}, "iss": {"https://as.example"}}); st != http.StatusOK {
		t.Errorf("callback: HTTP %d", st)
	}
	res := <-done
	if res.err != nil || res.r.Code != "c" || res.r.Issuer != "https://as.example" || !res.r.HasIssuer {
		t.Fatalf("got %+v, %v", res.r, res.err)
	}
	// Replaying the same response is rejected.
	if st := get(url.Values{"code": {"c"}, "state": {"good"}}); st != http.StatusBadRequest {
		t.Errorf("replayed callback: HTTP %d", st)
	}
}

func TestLoopbackTimeoutAndCancel(t *testing.T) {
	lb, err := NewLoopback(LoopbackOptions{NoBrowser: true, Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer lb.Close()
	_, err = lb.Authorize(context.Background(), "https://as/authorize?state=s")
	if err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Errorf("timeout: %v", err)
	}
	lb2, _ := NewLoopback(LoopbackOptions{NoBrowser: true})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := lb2.Authorize(ctx, "https://as/authorize?state=s"); err != context.Canceled {
		t.Errorf("cancel: %v", err)
	}
	lb2.Close()
	if _, err := lb2.Authorize(context.Background(), "https://as/authorize?state=s"); err == nil {
		t.Error("Authorize after Close succeeded")
	}
	if _, err := lb.Authorize(context.Background(), "https://as/authorize"); err == nil {
		t.Error("an authorization URL without state was accepted")
	}
}

// TestLoopbackWithTransport runs the whole flow with the loopback
// authorizer: a goroutine plays the browser by following the printed URL.
func TestLoopbackWithTransport(t *testing.T) {
	ctx := testCtx(t)
	as := newTestAS(t)
	rs := newTestRS(t, as)
	urls := make(chan string, 1)
	lb, err := NewLoopback(LoopbackOptions{NoBrowser: true, Out: writerFunc(func(p []byte) (int, error) {
		for _, f := range strings.Fields(string(p)) {
			if strings.HasPrefix(f, as.srv.URL) {
				select {
				case urls <- f:
				default:
				}
			}
		}
		return len(p), nil
	})})
	if err != nil {
		t.Fatal(err)
	}
	defer lb.Close()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the browser
		defer wg.Done()
		select {
		case u := <-urls:
			resp, err := http.Get(u) // follows the redirect to the loopback listener
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
		case <-ctx.Done():
		}
	}()
	cfg := &Config{ServerURL: rs.mcpURL(), RedirectURL: lb.RedirectURL(), Authorize: lb.Authorize}
	c := &http.Client{Transport: NewTransport(nil, cfg)}
	if st, _ := call(t, ctx, c, rs.mcpURL(), "x"); st != 200 {
		t.Fatalf("HTTP %d", st)
	}
	wg.Wait()
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// With RequireBrowser, Authorize fails at once when no browser can be
// opened, after printing the URL and the hint, instead of waiting.
func TestLoopbackRequireBrowser(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // no xdg-open, open or rundll32
	for _, noBrowser := range []bool{true, false} {
		var out syncBuffer
		lb, err := NewLoopback(LoopbackOptions{Out: &out, NoBrowser: noBrowser, RequireBrowser: true, Hint: "or use --headless", Timeout: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err = lb.Authorize(testCtx(t), "https://as.example/authorize?state=s1")
		lb.Close()
		if !errors.Is(err, ErrNoBrowser) || time.Since(start) > 10*time.Second {
			t.Errorf("noBrowser=%v: Authorize = %v after %v, want ErrNoBrowser at once", noBrowser, err, time.Since(start))
		}
		if o := out.String(); !strings.Contains(o, "as.example/authorize?state=s1") || !strings.Contains(o, "or use --headless") {
			t.Errorf("noBrowser=%v: printed %q", noBrowser, o)
		}
	}
}
