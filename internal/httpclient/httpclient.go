// Package httpclient builds the default HTTP clients of the MCP client
// transports: timeouts on dialing, TLS and response headers, none on
// response bodies (SSE streams live long).
package httpclient

import (
	"net"
	"net/http"
	"time"
)

// New returns a client whose transport waits at most headerTimeout for
// response headers and keeps up to 16 idle connections per host.
func New(headerTimeout time.Duration) *http.Client {
	return NewPool(headerTimeout, 16)
}

// NewPool is New with up to idlePerHost idle connections kept per host:
// a proxy that sends many concurrent requests to one server (the gateway
// to an upstream) needs a pool as large as its concurrency, or it opens a
// new connection for most requests.
func NewPool(headerTimeout time.Duration, idlePerHost int) *http.Client {
	var t *http.Transport
	if dt, ok := http.DefaultTransport.(*http.Transport); ok {
		t = dt.Clone()
	} else {
		t = &http.Transport{Proxy: http.ProxyFromEnvironment, ForceAttemptHTTP2: true}
	}
	t.DialContext = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 10 * time.Second
	t.ResponseHeaderTimeout = headerTimeout
	t.ExpectContinueTimeout = time.Second
	t.IdleConnTimeout = 90 * time.Second
	t.MaxIdleConnsPerHost = idlePerHost
	if t.MaxIdleConns < idlePerHost {
		t.MaxIdleConns = idlePerHost
	}
	t.MaxResponseHeaderBytes = 256 << 10
	return &http.Client{Transport: t}
}
