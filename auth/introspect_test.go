package auth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// introspectionServer answers RFC 7662 requests from a table of tokens.
type introspectionServer struct {
	*httptest.Server
	calls atomic.Int32
}

func newIntrospectionServer(t *testing.T, answers map[string]map[string]any) *introspectionServer {
	s := &introspectionServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.calls.Add(1)
		id, secret, ok := r.BasicAuth()
		if !ok || id != "rs" || secret != "rs-secret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if err := r.ParseForm(); err != nil || r.PostForm.Get("token_type_hint") != "access_token" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		ans, ok := answers[r.PostForm.Get("token")]
		if !ok {
			ans = map[string]any{"active": false}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(ans)
	}))
	t.Cleanup(s.Close)
	return s
}

func TestIntrospectionVerifier(t *testing.T) {
	clk := newClock()
	now := clk.Now()
	active := func(mut func(map[string]any)) map[string]any {
		m := map[string]any{"active": true, "iss": testIssuer, "sub": "alice", "client_id": "c1",
			"aud": testResource, "scope": "mcp", "exp": now.Add(30 * time.Second).Unix()}
		if mut != nil {
			mut(m)
		}
		return m
	}
	srv := newIntrospectionServer(t, map[string]map[string]any{
		"good":      active(nil),
		"other-aud": active(func(m map[string]any) { m["aud"] = []string{"https://other.example.com"} }),
		"no-aud":    active(func(m map[string]any) { delete(m, "aud") }),
		"wrong-iss": active(func(m map[string]any) { m["iss"] = "https://evil.example.com" }),
		"expired":   active(func(m map[string]any) { m["exp"] = now.Add(-time.Hour).Unix() }),
		"refresh":   active(func(m map[string]any) { m["token_type"] = "refresh_token" }),
	})
	v, err := NewIntrospectionVerifier(IntrospectionOptions{
		Endpoint: srv.URL, ClientID: "rs", ClientSecret: "rs-secret",
		Issuer: testIssuer, Audience: testResource, CacheTTL: time.Minute, Now: clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	info, err := v.Verify(ctx, "good")
	if err != nil || info.Subject != "alice" || info.ClientID != "c1" || !info.HasScope("mcp") {
		t.Fatalf("good: %+v, %v", info, err)
	}
	for tok, want := range map[string]string{
		"unknown":   "not active",
		"other-aud": "audience mismatch",
		"no-aud":    "no audience",
		"wrong-iss": "wrong issuer",
		"expired":   "expired",
		"refresh":   "refresh token",
	} {
		_, err := v.Verify(ctx, tok)
		if !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("%s: err = %v", tok, err)
		}
		wantInvalid(t, err, want)
	}

	// The active answer is cached, but never past the token's expiry
	// (30s), although CacheTTL is a minute.
	n := srv.calls.Load()
	if _, err := v.Verify(ctx, "good"); err != nil {
		t.Fatal(err)
	}
	if srv.calls.Load() != n {
		t.Fatal("cached answer not used")
	}
	clk.Advance(31 * time.Second)
	if _, err := v.Verify(ctx, "good"); err != nil {
		t.Fatalf("within leeway: %v", err)
	}
	if srv.calls.Load() != n+1 {
		t.Fatalf("calls = %d, want %d (cache entry must end at exp)", srv.calls.Load(), n+1)
	}
	clk.Advance(time.Minute)
	_, err = v.Verify(ctx, "good")
	wantInvalid(t, err, "expired")
}

func TestIntrospectionWrongCredentials(t *testing.T) {
	srv := newIntrospectionServer(t, nil)
	v, err := NewIntrospectionVerifier(IntrospectionOptions{Endpoint: srv.URL, ClientID: "rs", ClientSecret: "nope", Audience: testResource})
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.Verify(context.Background(), "x")
	if err == nil || errors.Is(err, ErrInvalidToken) {
		t.Fatalf("err = %v; want an unavailability error, not invalid_token", err)
	}
}

func TestIntrospectionOptions(t *testing.T) {
	for name, o := range map[string]IntrospectionOptions{
		"http endpoint": {Endpoint: "http://as.example.com/introspect", ClientID: "a", Audience: testResource},
		"no audience":   {Endpoint: "https://as.example.com/introspect", ClientID: "a"},
		"no client":     {Endpoint: "https://as.example.com/introspect", Audience: testResource},
		"auth method":   {Endpoint: "https://as.example.com/introspect", ClientID: "a", Audience: testResource, AuthMethod: "private_key_jwt"},
	} {
		if _, err := NewIntrospectionVerifier(o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestParseIntrospectionResponse(t *testing.T) {
	tests := []struct {
		in     string
		active bool
		err    bool
	}{
		{`{"active":true,"scope":"a"}`, true, false},
		{`{"active":false}`, false, false},
		{`{"active":"true"}`, false, true},
		{`{}`, false, true},
		{`{"active":true,"active":false}`, false, true},
		{`[]`, false, true},
		{`null`, false, true},
	}
	for _, tt := range tests {
		a, _, err := ParseIntrospectionResponse([]byte(tt.in))
		if a != tt.active || (err != nil) != tt.err {
			t.Errorf("%s: active=%v err=%v", tt.in, a, err)
		}
	}
}
