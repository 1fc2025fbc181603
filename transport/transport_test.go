package transport

import (
	"net/http"
	"testing"
)

func TestRemoteAddrKey(t *testing.T) {
	tests := []struct{ addr, want string }{
		{"127.0.0.1:1234", "127.0.0.1"},
		{"192.0.2.7:80", "192.0.2.7"},
		{"[::ffff:192.0.2.7]:80", "192.0.2.7"},
		{"[2001:db8:1:2:3:4:5:6]:443", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:ffff::1]:443", "2001:db8:1:2::/64"},
		{"[fe80::1%eth0]:443", "fe80::/64"},
		{"[::1]:8080", "::/64"},
		{"@", "@"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := RemoteAddrKey(&http.Request{RemoteAddr: tt.addr}); got != tt.want {
			t.Errorf("RemoteAddrKey(%q) = %q, want %q", tt.addr, got, tt.want)
		}
	}
}
