package authserver

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// serveFrom sends a request to the server as if from addr, without the
// network.
func (f *asFixture) serveFrom(addr, method, target, contentType, body string) *httptest.ResponseRecorder {
	var r *http.Request
	if body != "" {
		r = httptest.NewRequest(method, target, strings.NewReader(body))
		r.Header.Set("Content-Type", contentType)
	} else {
		r = httptest.NewRequest(method, target, nil)
	}
	u, _ := url.Parse(f.as.Issuer())
	r.Host = u.Host
	r.RemoteAddr = addr
	w := httptest.NewRecorder()
	f.as.ServeHTTP(w, r)
	return w
}

// TestConsentSurvivesAuthorizeFlood is the consent part of the
// regression test of issue 10 finding 5: 30,000 unauthenticated
// authorization requests from elsewhere (one address with the person's
// client, 10,000 addresses with another client, 10,000 more with the
// person's client) must not evict the consent page a person has open;
// their Approve still works. The bounds are smaller than the defaults.
func TestConsentSurvivesAuthorizeFlood(t *testing.T) {
	f := newAS(t, func(o *Options) {
		o.AutoApprove = false
		o.RateLimits.Disable = true // the flood is what the bounds face
		o.MaxPendingConsents = 2000
		o.MaxPendingPerClient = 500
		o.MaxPendingPerAddress = 10
		o.Clients = append(o.Clients, Client{ID: "flood", RedirectURIs: []string{testRedirect}})
	})
	browser := newBrowser(t)
	_, challenge := pkce()
	_, fields := consentPage(t, f, browser, authParams(challenge))

	const n = 30000
	for i := range n {
		q := authParams(challenge)
		addr := fmt.Sprintf("10.%d.%d.%d:4000", i/65536%256, i/256%256, i%256)
		switch i % 3 {
		case 0:
			addr = "192.0.2.1:4000" // one address
		case 1:
			q.Set("client_id", "flood") // another client, many addresses
		case 2:
			addr = fmt.Sprintf("2001:db8:%x:%x::1", i/65536, i%65536) // the person's client, many addresses
			addr = "[" + addr + "]:4000"
		}
		w := f.serveFrom(addr, "GET", "/authorize?"+q.Encode(), "", "")
		if w.Code != http.StatusOK && w.Code != http.StatusServiceUnavailable {
			t.Fatalf("flood request %d: %d %s", i, w.Code, w.Body)
		}
	}
	f.as.mu.Lock()
	pending := len(f.as.pending)
	f.as.mu.Unlock()
	if pending > 2000 {
		t.Errorf("%d pending consents, bound 2000", pending)
	}
	fields.Set("decision", "approve")
	resp := submit(t, f, browser, fields, f.as.Issuer())
	if p := redirectParams(t, resp); p.Get("code") == "" {
		t.Fatalf("approve after the flood: %v", p)
	}
}

// TestRegistrationFloodLimited is the registration part of the
// regression test of issue 10 finding 5: one address cannot fill the
// client table; it gets 429 with Retry-After.
func TestRegistrationFloodLimited(t *testing.T) {
	f := newAS(t, nil)
	limited := 0
	for i := range 200 {
		status, out := f.register(t, `{"client_name":"x","redirect_uris":["`+testRedirect+`"],"token_endpoint_auth_method":"none"}`)
		if status == http.StatusTooManyRequests {
			limited++
			continue
		}
		if status != http.StatusCreated {
			t.Fatalf("registration %d: %d %v", i, status, out)
		}
	}
	if limited < 150 {
		t.Fatalf("only %d of 200 registrations from one address were refused", limited)
	}
}

// TestUnusedRegistrationExpires: a registration never used is forgotten
// after UnusedClientTTL (24 hours by default); one in use lives as long
// as its refresh token.
func TestUnusedRegistrationExpires(t *testing.T) {
	clk := &clock{t: time.Now()}
	f := newAS(t, func(o *Options) { o.Now = clk.Now })
	body := `{"client_name":"x","redirect_uris":["` + testRedirect + `"],"token_endpoint_auth_method":"none","grant_types":["authorization_code","refresh_token"]}`
	_, unused := f.register(t, body)
	_, used := f.register(t, body)
	verifier, challenge := pkce()
	q := authParams(challenge)
	q.Set("client_id", str(used["client_id"]))
	status, tok := f.post(t, PathToken, url.Values{"grant_type": {"authorization_code"}, "code": {f.code(t, q)},
		"code_verifier": {verifier}, "client_id": {str(used["client_id"])}, "redirect_uri": {testRedirect}})
	if status != 200 {
		t.Fatalf("%d %v", status, tok)
	}
	clk.Advance(25 * time.Hour)
	_, challenge = pkce()
	q = authParams(challenge)
	q.Set("client_id", str(unused["client_id"]))
	if resp := f.authorize(t, q); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("unused registration after 25 h: %d", resp.StatusCode)
	}
	status, tok = f.post(t, PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {str(tok["refresh_token"])}, "client_id": {str(used["client_id"])}})
	if status != 200 {
		t.Fatalf("registration in use after 25 h: %d %v", status, tok)
	}
}

// TestRateLimits: each endpoint limits requests per address with a
// token bucket, answers 429 with Retry-After, and refills with time;
// other addresses are not affected.
func TestRateLimits(t *testing.T) {
	clk := &clock{t: time.Now()}
	one := RateLimit{Rate: 1, Burst: 3}
	f := newAS(t, func(o *Options) {
		o.Now = clk.Now
		o.RateLimits = RateLimits{Register: one, Authorize: one, Token: one, Introspect: one, Revoke: one}
	})
	_, challenge := pkce()
	for _, tc := range []struct {
		path, method, ct, body string
	}{
		{"/register", "POST", "application/json", `{"client_name":"x","redirect_uris":["` + testRedirect + `"],"token_endpoint_auth_method":"none"}`},
		{"/authorize?" + authParams(challenge).Encode(), "GET", "", ""},
		{"/token", "POST", "application/x-www-form-urlencoded", "grant_type=client_credentials&client_id=nobody"},
		{"/introspect", "POST", "application/x-www-form-urlencoded", "token=x&client_id=nobody"},
		{"/revoke", "POST", "application/x-www-form-urlencoded", "token=x&client_id=nobody"},
	} {
		for i := range 3 {
			if w := f.serveFrom("192.0.2.7:1", tc.method, tc.path, tc.ct, tc.body); w.Code == http.StatusTooManyRequests {
				t.Fatalf("%s: request %d limited", tc.path, i)
			}
		}
		w := f.serveFrom("192.0.2.7:1", tc.method, tc.path, tc.ct, tc.body)
		if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "1" {
			t.Fatalf("%s: 4th request %d Retry-After %q", tc.path, w.Code, w.Header().Get("Retry-After"))
		}
		if w := f.serveFrom("192.0.2.8:1", tc.method, tc.path, tc.ct, tc.body); w.Code == http.StatusTooManyRequests {
			t.Fatalf("%s: another address limited", tc.path)
		}
		// IPv6 addresses count by /64.
		f.serveFrom("[2001:db8::1]:1", tc.method, tc.path, tc.ct, tc.body)
		f.serveFrom("[2001:db8::2]:1", tc.method, tc.path, tc.ct, tc.body)
		f.serveFrom("[2001:db8::3]:1", tc.method, tc.path, tc.ct, tc.body)
		if w := f.serveFrom("[2001:db8::4]:1", tc.method, tc.path, tc.ct, tc.body); w.Code != http.StatusTooManyRequests {
			t.Fatalf("%s: IPv6 /64 not limited: %d", tc.path, w.Code)
		}
		clk.Advance(time.Second)
		if w := f.serveFrom("192.0.2.7:1", tc.method, tc.path, tc.ct, tc.body); w.Code == http.StatusTooManyRequests {
			t.Fatalf("%s: not refilled", tc.path)
		}
	}
}

// TestRateLimiterBounded: the table of addresses stays within its bound
// under a flood from many addresses.
func TestRateLimiterBounded(t *testing.T) {
	l := newLimiter(RateLimit{Rate: 1, Burst: 2}, 100)
	now := time.Now()
	for i := range 10000 {
		l.allow(fmt.Sprintf("a%d", i), now)
		if n := l.len(); n > 100 {
			t.Fatalf("%d entries, bound 100", n)
		}
	}
}
