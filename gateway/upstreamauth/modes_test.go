package upstreamauth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/switchboard-mcp/switchboard/auth"
	"github.com/switchboard-mcp/switchboard/gateway/config"
)

// TestModesHeaders checks what each simple mode puts on an upstream
// request, and that a DPoP-bound token is never passed through.
func TestModesHeaders(t *testing.T) {
	var got http.Header
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.Header.Clone() }))
	defer up.Close()
	caller := &auth.TokenInfo{Issuer: "https://as", Subject: "alice"}
	tests := []struct {
		name      string
		cfg       config.UpstreamAuth
		subject   *auth.SubjectToken
		wantAuthz string
		wantHdr   [2]string
		wantErr   error
	}{
		{"none adds nothing, whatever the caller presented", config.UpstreamAuth{Mode: config.AuthNone}, &auth.SubjectToken{Token: "client-token"}, "", [2]string{}, nil},
		{"static", config.UpstreamAuth{Mode: config.AuthStatic, Headers: map[string]string{"X-Api-Key": "k1"}}, nil, "", [2]string{"X-Api-Key", "k1"}, nil},
		{"passthrough", config.UpstreamAuth{Mode: config.AuthPassthrough, AllowPassthrough: true}, &auth.SubjectToken{Token: "client-token"}, "Bearer client-token", [2]string{}, nil},
		{"static keeps a configured Authorization", config.UpstreamAuth{Mode: config.AuthStatic, Headers: map[string]string{"Authorization": "Basic Z3c6cw=="}}, nil, "Basic Z3c6cw==", [2]string{}, nil},
		{"passthrough never forwards a DPoP-bound token", config.UpstreamAuth{Mode: config.AuthPassthrough, AllowPassthrough: true}, &auth.SubjectToken{Token: "bound", DPoPBound: true}, "", [2]string{}, ErrDPoPBound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got = nil
			a, err := New(Options{Upstream: "up", URL: up.URL, Config: tt.cfg})
			if err != nil {
				t.Fatal(err)
			}
			ctx := auth.WithTokenInfo(context.Background(), caller)
			if tt.subject != nil {
				ctx = auth.WithSubjectToken(ctx, tt.subject)
			}
			req, _ := http.NewRequestWithContext(ctx, "POST", up.URL, nil)
			resp, err := a.RoundTrip(req)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				if got != nil {
					t.Fatal("the request reached the upstream")
				}
				return
			}
			resp.Body.Close()
			if got.Get("Authorization") != tt.wantAuthz {
				t.Errorf("Authorization %q, want %q", got.Get("Authorization"), tt.wantAuthz)
			}
			if tt.wantHdr[0] != "" && got.Get(tt.wantHdr[0]) != tt.wantHdr[1] {
				t.Errorf("%s: %q", tt.wantHdr[0], got.Get(tt.wantHdr[0]))
			}
		})
	}
	if _, err := New(Options{Upstream: "up", URL: up.URL, Config: config.UpstreamAuth{Mode: config.AuthPassthrough}}); err == nil {
		t.Fatal("passthrough without allowPassthrough was accepted")
	}
}
