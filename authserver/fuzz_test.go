package authserver

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func FuzzParseForm(f *testing.F) {
	f.Add([]byte("grant_type=authorization_code&code=abc&code_verifier=xyz"))
	f.Add([]byte("a=1&a=2"))
	f.Add([]byte("a=%zz"))
	f.Add([]byte("client_id=x%20y&scope=a+b"))
	f.Fuzz(func(t *testing.T, body []byte) {
		form, err := ParseForm(body)
		if err != nil {
			return
		}
		vals := url.Values{}
		for k, v := range form {
			if v == "" {
				t.Fatalf("empty value kept for %q", k)
			}
			vals.Set(k, v)
		}
		again, err := ParseForm([]byte(vals.Encode()))
		if err != nil || len(again) != len(form) {
			t.Fatalf("round trip: %v %v", again, err)
		}
		for k, v := range form {
			if again[k] != v {
				t.Fatalf("round trip changed %q", k)
			}
		}
	})
}

func FuzzParseClientMetadataDocument(f *testing.F) {
	const id = "https://app.example.com/client.json"
	f.Add([]byte(`{"client_id":"` + id + `","client_name":"A","redirect_uris":["http://127.0.0.1:3000/cb"]}`))
	f.Add([]byte(`{"client_id":"` + id + `","client_name":"A","redirect_uris":["https://a/cb"],"grant_types":["client_credentials"]}`))
	f.Add([]byte(`{"client_id":"x"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseClientMetadataDocument(data, id)
		if err != nil {
			return
		}
		if m.ClientID != id || m.ClientName == "" || len(m.RedirectURIs) == 0 || m.ClientSecret != "" {
			t.Fatalf("accepted %+v", m)
		}
		for _, u := range m.RedirectURIs {
			if checkRedirectURI(u, true) != nil {
				t.Fatalf("accepted redirect URI %q", u)
			}
		}
	})
}

func FuzzClientMetadataRegistration(f *testing.F) {
	f.Add([]byte(`{"redirect_uris":["https://a.example.com/cb"],"token_endpoint_auth_method":"none","scope":"mcp"}`))
	f.Add([]byte(`{"redirect_uris":[],"grant_types":["client_credentials"]}`))
	s, err := New(Options{Issuer: "https://as.example.com", MaxClients: 5})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var m ClientMetadata
		if err := jsonUnmarshal(data, &m); err != nil {
			return
		}
		rec, resp, err := s.register(context.Background(), &m)
		if err != nil {
			return
		}
		_ = s.store.DeleteClient(context.Background(), rec.id)
		if rec.confidential != (resp.ClientSecret != "") {
			t.Fatal("secret issued to the wrong kind of client")
		}
	})
}

func FuzzCacheControl(f *testing.F) {
	f.Add("max-age=60")
	f.Add("no-store, max-age=1")
	f.Add("max-age=-5")
	fetcher := newCIMDFetcher(CIMDOptions{}, time.Now)
	f.Fuzz(func(t *testing.T, cc string) {
		h := map[string][]string{"Cache-Control": {cc}}
		ttl := fetcher.cacheTTL(h)
		if ttl != 0 && (ttl < 30*time.Second || ttl > 24*time.Hour) {
			t.Fatalf("%q: ttl %v out of bounds", cc, ttl)
		}
	})
}

func FuzzBindingAndChallenge(f *testing.F) {
	f.Add("session:abc", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
	f.Fuzz(func(t *testing.T, b, c string) {
		if validBinding(b) == nil {
			kind, id, _ := strings.Cut(b, ":")
			if (kind != "session" && kind != "task") || id == "" || strings.ContainsAny(id, " \t\n") {
				t.Fatalf("binding %q accepted", b)
			}
		}
		if validChallenge(c) && len(c) != 43 {
			t.Fatalf("challenge %q accepted", c)
		}
	})
}

// FuzzMatchRedirectURI: a redirect URI of an authorization request is
// accepted only when it is a valid redirect URI that equals a registered
// one, or differs from a registered loopback one in its port alone.
func FuzzMatchRedirectURI(f *testing.F) {
	reg := []string{"http://127.0.0.1/cb", "http://[::1]:8/cb?a=b", "https://app.example.com/cb", "com.example.app:/cb"}
	for _, s := range []string{"http://127.0.0.1:5/cb", "http://[::1]:9/cb?a=b", "http://127.0.0.1:5/cb#x", "http://u@127.0.0.1:5/cb", "com.example.app:/cb", "http://127.0.0.1:99999999/cb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, got string) {
		if !matchRedirectURI(reg, got) {
			return
		}
		if slices.Contains(reg, got) {
			return
		}
		if err := checkRedirectURI(got, true); err != nil {
			t.Fatalf("matched an invalid redirect URI %q: %v", got, err)
		}
		u, _ := url.Parse(got)
		for _, r := range reg {
			ru, _ := url.Parse(r)
			if ru.Scheme == u.Scheme && strings.EqualFold(ru.Hostname(), u.Hostname()) && ru.Path == u.Path && ru.RawQuery == u.RawQuery {
				return
			}
		}
		t.Fatalf("matched %q", got)
	})
}

// FuzzParseAssertionHeader: the header and unverified issuer of a JWT
// assertion (ID-JAG, workload token, subject token) are read from
// untrusted input before any key is chosen.
func FuzzParseAssertionHeader(f *testing.F) {
	f.Add("eyJhbGciOiJFUzI1NiIsInR5cCI6Im9hdXRoLWlkLWphZytqd3QifQ.eyJpc3MiOiJodHRwczovL2lkcCJ9.AAAA")
	f.Add("a.b.c")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		typ, iss, err := ParseAssertionHeader(s)
		if err != nil && (typ != "" || iss != "") {
			t.Fatal("values with an error")
		}
	})
}
