package httpsec

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestCheckHostOrigin(t *testing.T) {
	loopback4 := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}
	loopback6 := &net.TCPAddr{IP: net.IPv6loopback, Port: 8080}
	public := &net.TCPAddr{IP: net.IPv4(192, 0, 2, 10), Port: 443}
	unix := &net.UnixAddr{Name: "/run/mcp.sock", Net: "unix"}

	tests := []struct {
		name           string
		local          net.Addr // nil: no local address in the context
		host           string
		origins        []string // Origin header values
		allowedHosts   []string
		allowedOrigins []string
		want           error
	}{
		{name: "loopback localhost", local: loopback4, host: "localhost:8080"},
		{name: "loopback localhost no port", local: loopback4, host: "localhost"},
		{name: "loopback LOCALHOST case", local: loopback4, host: "LocalHost:8080"},
		{name: "loopback localhost trailing dot", local: loopback4, host: "localhost.:8080"},
		{name: "loopback sub.localhost", local: loopback4, host: "app.localhost:8080"},
		{name: "loopback 127.0.0.1", local: loopback4, host: "127.0.0.1:8080"},
		{name: "loopback 127.0.0.2", local: loopback4, host: "127.0.0.2"},
		{name: "loopback ::1", local: loopback6, host: "[::1]:8080"},
		{name: "loopback ::1 no port", local: loopback6, host: "[::1]"},
		{name: "loopback mapped v4", local: loopback6, host: "[::ffff:127.0.0.1]:8080"},
		{name: "loopback rebinding name", local: loopback4, host: "evil.example:8080", want: ErrHost},
		{name: "loopback localhost lookalike", local: loopback4, host: "localhost.evil.example", want: ErrHost},
		{name: "loopback notlocalhost", local: loopback4, host: "notlocalhost", want: ErrHost},
		{name: "loopback public ip", local: loopback4, host: "192.0.2.1:8080", want: ErrHost},
		{name: "loopback empty host", local: loopback4, host: "", want: ErrHost},
		{name: "loopback allowed host any port", local: loopback4, host: "dev.example:8080", allowedHosts: []string{"DEV.example"}},
		{name: "loopback allowed host exact port", local: loopback4, host: "dev.example:8080", allowedHosts: []string{"dev.example:8080"}},
		{name: "loopback allowed host other port", local: loopback4, host: "dev.example:9090", allowedHosts: []string{"dev.example:8080"}, want: ErrHost},
		{name: "loopback allowed v6 host", local: loopback4, host: "[2001:db8::1]:8080", allowedHosts: []string{"[2001:db8::1]"}},
		{name: "loopback allowed star", local: loopback4, host: "anything.example", allowedHosts: []string{"*"}},
		{name: "public any host", local: public, host: "mcp.example.com"},
		{name: "unix socket any host", local: unix, host: "whatever"},
		{name: "no local addr any host", host: "whatever"},

		{name: "origin same", local: loopback4, host: "localhost:8080", origins: []string{"http://localhost:8080"}},
		{name: "origin same case", local: loopback4, host: "localhost:8080", origins: []string{"HTTP://LOCALHOST:8080"}},
		{name: "origin same default port", local: public, host: "mcp.example.com", origins: []string{"https://mcp.example.com"}},
		{name: "origin same explicit default port", local: public, host: "mcp.example.com:443", origins: []string{"https://mcp.example.com"}},
		{name: "origin same trailing slash", local: public, host: "mcp.example.com", origins: []string{"https://mcp.example.com/"}},
		{name: "origin same v6", local: loopback6, host: "[::1]:8080", origins: []string{"http://[::1]:8080"}},
		{name: "origin other port", local: loopback4, host: "localhost:8080", origins: []string{"http://localhost:3000"}, want: ErrOrigin},
		{name: "origin rebinding", local: loopback4, host: "localhost:8080", origins: []string{"http://evil.example"}, want: ErrOrigin},
		{name: "origin on public server", local: public, host: "mcp.example.com", origins: []string{"https://evil.example"}, want: ErrOrigin},
		{name: "origin null", local: loopback4, host: "localhost:8080", origins: []string{"null"}, want: ErrOrigin},
		{name: "origin null allowed", local: loopback4, host: "localhost:8080", origins: []string{"null"}, allowedOrigins: []string{"null"}},
		{name: "origin garbage", local: loopback4, host: "localhost:8080", origins: []string{"::not a url"}, want: ErrOrigin},
		{name: "origin with path", local: loopback4, host: "localhost:8080", origins: []string{"http://localhost:8080/page"}, want: ErrOrigin},
		{name: "origin empty", local: loopback4, host: "localhost:8080", origins: []string{""}, want: ErrOrigin},
		{name: "origin twice", local: loopback4, host: "localhost:8080", origins: []string{"http://localhost:8080", "http://localhost:8080"}, want: ErrOrigin},
		{name: "origin allowed", local: loopback4, host: "localhost:8080", origins: []string{"http://localhost:3000"}, allowedOrigins: []string{"http://localhost:3000"}},
		{name: "origin allowed normalized", local: loopback4, host: "localhost:8080", origins: []string{"https://app.example:443"}, allowedOrigins: []string{"HTTPS://app.example"}},
		{name: "origin allowed other scheme", local: loopback4, host: "localhost:8080", origins: []string{"http://app.example:443"}, allowedOrigins: []string{"https://app.example"}, want: ErrOrigin},
		{name: "origin allowed star", local: loopback4, host: "localhost:8080", origins: []string{"https://anything.example"}, allowedOrigins: []string{"*"}},
		{name: "origin does not excuse host", local: loopback4, host: "evil.example", origins: []string{"http://evil.example"}, allowedOrigins: []string{"http://evil.example"}, want: ErrHost},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/mcp", nil)
			r.Host = tt.host
			for _, o := range tt.origins {
				r.Header.Add("Origin", o)
			}
			if tt.local != nil {
				r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, tt.local))
			}
			err := CheckHostOrigin(r, tt.allowedHosts, tt.allowedOrigins)
			switch {
			case tt.want == nil && err != nil:
				t.Fatalf("CheckHostOrigin() = %v, want nil", err)
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Fatalf("CheckHostOrigin() = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestCheckHostOriginRealServer checks that the local address the HTTP
// server puts in the context is recognised, end to end.
func TestCheckHostOriginRealServer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := CheckHostOrigin(r, nil, nil); err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
		}
	}))
	defer srv.Close()

	tests := []struct {
		host string
		want int
	}{
		{host: "", want: http.StatusOK}, // the client sends 127.0.0.1:port
		{host: "localhost", want: http.StatusOK},
		{host: "rebound.example", want: http.StatusForbidden},
	}
	for _, tt := range tests {
		req, err := http.NewRequest(http.MethodGet, srv.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = tt.host
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("Host %q: status %d, want %d", tt.host, resp.StatusCode, tt.want)
		}
	}
}
