package auth

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestTokenInfoIsMachine(t *testing.T) {
	for _, tc := range []struct {
		info TokenInfo
		want bool
	}{
		{TokenInfo{Grant: GrantClientCredentials, Subject: "svc", ClientID: "svc"}, true},
		{TokenInfo{Grant: GrantAuthorizationCode, Subject: "alice", ClientID: "app"}, false},
		{TokenInfo{Grant: GrantAuthorizationCode, Subject: "app", ClientID: "app"}, false},
		// Without the claim, RFC 9068's rule: sub names the client.
		{TokenInfo{Subject: "svc", ClientID: "svc"}, true},
		{TokenInfo{Subject: "alice", ClientID: "app"}, false},
		{TokenInfo{}, false},
	} {
		if got := tc.info.IsMachine(); got != tc.want {
			t.Errorf("%+v: IsMachine = %t", tc.info, got)
		}
	}
}

// TestMiddlewareRefusesMachineTokens is part of the regression test of
// issue 10 finding 1: a resource server can tell a machine token from a
// person's and refuse it.
func TestMiddlewareRefusesMachineTokens(t *testing.T) {
	errNoBob := errors.New("bob may not use this server")
	for _, tc := range []struct {
		name   string
		opts   func(*Options)
		claims func(map[string]any)
		want   int
	}{
		{"person allowed", func(o *Options) { o.RefuseMachineTokens = true }, func(c map[string]any) { c[GrantClaim] = GrantAuthorizationCode }, http.StatusOK},
		{"machine refused", func(o *Options) { o.RefuseMachineTokens = true }, func(c map[string]any) { c[GrantClaim] = GrantClientCredentials; c["sub"] = c["client_id"] }, http.StatusForbidden},
		{"machine without claim refused", func(o *Options) { o.RefuseMachineTokens = true }, func(c map[string]any) { c["sub"] = c["client_id"] }, http.StatusForbidden},
		{"machine allowed by default", nil, func(c map[string]any) { c[GrantClaim] = GrantClientCredentials }, http.StatusOK},
		{"policy refuses", func(o *Options) {
			o.Policy = func(r *http.Request, info *TokenInfo) error {
				if info.Subject == "bob" {
					return errNoBob
				}
				return nil
			}
		}, func(c map[string]any) { c["sub"] = "bob" }, http.StatusForbidden},
		{"policy allows", func(o *Options) {
			o.Policy = func(r *http.Request, info *TokenInfo) error { return nil }
		}, nil, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newMW(t, tc.opts)
			w := f.do("POST", echoCall, f.token(t, tc.claims))
			if w.Code != tc.want {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.want, w.Body)
			}
			if w.Code == http.StatusForbidden {
				if ch := w.Header().Get("WWW-Authenticate"); strings.Contains(ch, "insufficient_scope") {
					t.Errorf("a refusal by policy must not ask for a step-up: %s", ch)
				}
			}
		})
	}
}
