package authserver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// docServer serves client metadata documents over TLS on loopback.
type docServer struct {
	*httptest.Server
	fetches atomic.Int32
	docs    map[string]func(base string) (status int, hdr map[string]string, body string)
}

func newDocServer(t *testing.T) *docServer {
	d := &docServer{docs: map[string]func(string) (int, map[string]string, string){}}
	d.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.fetches.Add(1)
		fn, ok := d.docs[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		base := "https://" + r.Host
		status, hdr, body := fn(base)
		for k, v := range hdr {
			w.Header().Set(k, v)
		}
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(d.Close)
	return d
}

func (d *docServer) tlsConfig() *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(d.Certificate())
	return &tls.Config{RootCAs: pool}
}

func clientDoc(id string, redirects ...string) string {
	return fmt.Sprintf(`{"client_id":%q,"client_name":"Doc Client","client_uri":"https://app.example.com","redirect_uris":[%s],"grant_types":["authorization_code","refresh_token"],"response_types":["code"],"token_endpoint_auth_method":"none"}`,
		id, `"`+strings.Join(redirects, `","`)+`"`)
}

// newCIMDAS returns an AS that fetches documents from d (loopback
// allowed), with the client id host "example.com" resolving to loopback
// (the httptest certificate is valid for it).
func newCIMDAS(t *testing.T, d *docServer, mutate func(*Options)) *asFixture {
	f := newAS(t, func(o *Options) {
		o.CIMD = CIMDOptions{AllowLoopback: true, TLSConfig: d.tlsConfig()}
		if mutate != nil {
			mutate(o)
		}
	})
	f.as.cimd.lookup = func(_ context.Context, host string) ([]netip.Addr, error) {
		if host == "example.com" {
			return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
		}
		return nil, errors.New("no such host")
	}
	return f
}

func (d *docServer) clientID(path string) string {
	_, port, _ := strings.Cut(strings.TrimPrefix(d.URL, "https://"), ":")
	return "https://example.com:" + port + path
}

func TestCIMDFlow(t *testing.T) {
	d := newDocServer(t)
	d.docs["/client.json"] = func(base string) (int, map[string]string, string) {
		return 200, map[string]string{"Cache-Control": "max-age=120"}, clientDoc(base+"/client.json", testRedirect)
	}
	f := newCIMDAS(t, d, nil)
	id := d.clientID("/client.json")
	verifier, challenge := pkce()
	q := authParams(challenge)
	q.Set("client_id", id)
	code := f.code(t, q)
	status, tok := f.post(t, PathToken, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"code_verifier": {verifier}, "client_id": {id}, "redirect_uri": {testRedirect}, "resource": {testResource}})
	if status != 200 || str(tok["refresh_token"]) == "" {
		t.Fatalf("%d %v", status, tok)
	}
	// The document is cached (max-age=120).
	_ = f.code(t, q)
	if n := d.fetches.Load(); n != 1 {
		t.Fatalf("fetches = %d, want 1", n)
	}
}

func TestCIMDRedirectURINotListed(t *testing.T) {
	d := newDocServer(t)
	d.docs["/client.json"] = func(base string) (int, map[string]string, string) {
		return 200, nil, clientDoc(base+"/client.json", "http://127.0.0.1:9/other")
	}
	f := newCIMDAS(t, d, nil)
	_, challenge := pkce()
	q := authParams(challenge)
	q.Set("client_id", d.clientID("/client.json"))
	resp := f.authorize(t, q)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 400 || resp.Header.Get("Location") != "" || !strings.Contains(string(body), "redirect_uri is not registered") {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
}

func TestCIMDRefusedDocuments(t *testing.T) {
	d := newDocServer(t)
	d.docs["/mismatch.json"] = func(base string) (int, map[string]string, string) {
		return 200, nil, clientDoc(base+"/other.json", testRedirect)
	}
	d.docs["/secret.json"] = func(base string) (int, map[string]string, string) {
		return 200, nil, strings.Replace(clientDoc(base+"/secret.json", testRedirect), `"client_name"`, `"client_secret":"s","client_name"`, 1)
	}
	d.docs["/basic.json"] = func(base string) (int, map[string]string, string) {
		return 200, nil, strings.Replace(clientDoc(base+"/basic.json", testRedirect), `"token_endpoint_auth_method":"none"`, `"token_endpoint_auth_method":"client_secret_basic"`, 1)
	}
	d.docs["/big.json"] = func(base string) (int, map[string]string, string) {
		return 200, nil, strings.Replace(clientDoc(base+"/big.json", testRedirect), `"client_name"`, `"pad":"`+strings.Repeat("x", 70<<10)+`","client_name"`, 1)
	}
	d.docs["/html.json"] = func(base string) (int, map[string]string, string) {
		return 200, map[string]string{"Content-Type": "text/html"}, clientDoc(base+"/html.json", testRedirect)
	}
	d.docs["/redirect.json"] = func(base string) (int, map[string]string, string) {
		return 302, map[string]string{"Location": base + "/client.json"}, ""
	}
	d.docs["/client.json"] = func(base string) (int, map[string]string, string) {
		return 200, nil, clientDoc(base+"/redirect.json", testRedirect)
	}
	f := newCIMDAS(t, d, nil)
	for _, path := range []string{"/mismatch.json", "/secret.json", "/basic.json", "/big.json", "/html.json", "/redirect.json", "/missing.json"} {
		t.Run(path, func(t *testing.T) {
			_, err := f.as.cimd.get(context.Background(), d.clientID(path))
			if err == nil {
				t.Fatal("document accepted")
			}
			t.Log(err)
		})
	}
}

// TestCIMDPrivateAddressRefused: a client id whose host resolves to a
// private address is refused without connecting to it.
func TestCIMDPrivateAddressRefused(t *testing.T) {
	f := newAS(t, nil) // no AllowLoopback, no AllowPrivateNetworks
	var dialed atomic.Bool
	f.as.cimd.lookup = func(_ context.Context, host string) ([]netip.Addr, error) {
		switch host {
		case "intranet.example.com":
			return []netip.Addr{netip.MustParseAddr("10.0.0.7")}, nil
		case "metadata.example.com":
			return []netip.Addr{netip.MustParseAddr("169.254.169.254")}, nil
		case "rebind.example.com":
			return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
		case "mapped.example.com":
			return []netip.Addr{netip.MustParseAddr("::ffff:192.168.1.1")}, nil
		}
		dialed.Store(true)
		return nil, errors.New("unexpected lookup")
	}
	for _, id := range []string{
		"https://intranet.example.com/client.json",
		"https://metadata.example.com/latest/meta-data",
		"https://rebind.example.com/client.json",
		"https://mapped.example.com/client.json",
		"https://10.1.2.3/client.json",
		"https://[fd00::1]/client.json",
		"https://localhost/client.json",
		"https://127.0.0.1/client.json",
	} {
		t.Run(id, func(t *testing.T) {
			_, err := f.as.cimd.get(context.Background(), id)
			if !errors.Is(err, ErrForbiddenAddress) {
				t.Fatalf("err = %v, want ErrForbiddenAddress", err)
			}
			// Through the authorization endpoint: an error page, no
			// redirect.
			_, challenge := pkce()
			q := authParams(challenge)
			q.Set("client_id", id)
			if resp := f.authorize(t, q); resp.StatusCode != 400 || resp.Header.Get("Location") != "" {
				t.Fatalf("authorize: %d", resp.StatusCode)
			}
		})
	}
	if dialed.Load() {
		t.Fatal("an unexpected host was resolved")
	}
}

func TestCIMDAllowedAddr(t *testing.T) {
	f := newCIMDFetcher(CIMDOptions{}, time.Now)
	loop := newCIMDFetcher(CIMDOptions{AllowLoopback: true}, time.Now)
	priv := newCIMDFetcher(CIMDOptions{AllowPrivateNetworks: true}, time.Now)
	tests := []struct {
		ip               string
		def, lo, privNet bool
	}{
		{"93.184.216.34", true, true, true},
		{"2606:2800:220:1:248:1893:25c8:1946", true, true, true},
		{"127.0.0.1", false, true, false},
		{"::1", false, true, false},
		{"10.0.0.1", false, false, true},
		{"172.16.5.4", false, false, true},
		{"192.168.1.1", false, false, true},
		{"169.254.169.254", false, false, true},
		{"fe80::1", false, false, true},
		{"fd12::1", false, false, true},
		{"100.64.0.1", false, false, true},
		{"::ffff:10.0.0.1", false, false, true},
		{"64:ff9b::a00:1", false, false, true},
		{"0.0.0.0", false, false, false},
		{"::", false, false, false},
		{"224.0.0.1", false, false, false},
		{"255.255.255.255", false, false, false},
	}
	for _, tt := range tests {
		ip := netip.MustParseAddr(tt.ip)
		if f.allowedAddr(ip) != tt.def || loop.allowedAddr(ip) != tt.lo || priv.allowedAddr(ip) != tt.privNet {
			t.Errorf("%s: default=%v loopback=%v private=%v", tt.ip, f.allowedAddr(ip), loop.allowedAddr(ip), priv.allowedAddr(ip))
		}
	}
}

func TestCIMDClientIDForm(t *testing.T) {
	f := newCIMDFetcher(CIMDOptions{AllowedHosts: []string{".example.com", "app.test"}}, time.Now)
	dev := newCIMDFetcher(CIMDOptions{AllowLoopback: true}, time.Now)
	for id, ok := range map[string]bool{
		"https://app.example.com/c.json":   true,
		"https://example.com/c.json":       true,
		"https://app.test/c.json":          true,
		"https://evil.test/c.json":         false, // trust policy
		"http://app.example.com/c.json":    false,
		"https://app.example.com":          false,
		"https://app.example.com/":         false,
		"https://app.example.com/a/../c":   false,
		"https://u@app.example.com/c.json": false,
		"https://app.example.com/c.json#x": false,
		"https://localhost/c.json":         false,
	} {
		if _, err := f.checkClientIDURL(id); (err == nil) != ok {
			t.Errorf("%s: err = %v", id, err)
		}
	}
	if _, err := dev.checkClientIDURL("http://127.0.0.1:3000/c.json"); err != nil {
		t.Errorf("dev mode refused http loopback: %v", err)
	}
	if _, err := dev.checkClientIDURL("http://app.example.com/c.json"); err == nil {
		t.Error("dev mode accepted http on a public host")
	}
}

func TestCIMDCacheTTL(t *testing.T) {
	f := newCIMDFetcher(CIMDOptions{}, time.Now)
	for cc, want := range map[string]time.Duration{
		"":                     5 * time.Minute,
		"max-age=120":          2 * time.Minute,
		"public, max-age=5":    30 * time.Second,
		"max-age=99999999999":  24 * time.Hour,
		"no-store":             0,
		"max-age=60, no-cache": 0,
		"max-age=bogus":        5 * time.Minute,
		`max-age="90"`:         90 * time.Second,
	} {
		h := http.Header{}
		if cc != "" {
			h.Set("Cache-Control", cc)
		}
		if got := f.cacheTTL(h); got != want {
			t.Errorf("%q: %v, want %v", cc, got, want)
		}
	}
}

func TestCIMDDisabled(t *testing.T) {
	f := newAS(t, func(o *Options) { o.CIMD.Disable = true })
	if f.as.Metadata().ClientIDMetadataDocumentSupported {
		t.Fatal("advertised while disabled")
	}
	_, challenge := pkce()
	q := authParams(challenge)
	q.Set("client_id", "https://app.example.com/c.json")
	if resp := f.authorize(t, q); resp.StatusCode != 400 {
		t.Fatalf("status %d", resp.StatusCode)
	}
}
