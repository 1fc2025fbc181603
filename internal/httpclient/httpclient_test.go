package httpclient

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestHeaderTimeout(t *testing.T) {
	release := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer ts.Close()
	defer close(release)
	c := New(100 * time.Millisecond)
	start := time.Now()
	if _, err := c.Get(ts.URL); err == nil {
		t.Fatal("no error from a server that never answers")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("gave up after %v, want about 100ms", d)
	}
}
