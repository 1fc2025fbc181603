package config

import (
	"strings"
	"testing"
)

func TestUpstreamAuth(t *testing.T) {
	tests := []struct {
		name, auth string
		wantErr    string // "" for valid
		check      func(t *testing.T, a *UpstreamAuth)
	}{
		{"none", `{"mode":"none"}`, "", nil},
		{"static", `{"mode":"static","headers":{"X-Api-Key":"${SB_TEST_KEY:-k}"}}`, "", func(t *testing.T, a *UpstreamAuth) {
			if a.Headers["X-Api-Key"] != "k" {
				t.Errorf("headers %v", a.Headers)
			}
		}},
		{"static without headers", `{"mode":"static"}`, `needs "headers"`, nil},
		{"client credentials", `{"mode":"client-credentials","issuer":"https://as.example.com","clientId":"gw","clientSecret":"s","scopes":["mcp"]}`, "", nil},
		{"client credentials without secret", `{"mode":"client-credentials","clientId":"gw"}`, `needs "clientSecret"`, nil},
		{"oauth user", `{"mode":"oauth-user","clientId":"gw","omitResource":true}`, "", func(t *testing.T, a *UpstreamAuth) {
			if !a.OmitResource {
				t.Error("omitResource")
			}
		}},
		{"token exchange", `{"mode":"token-exchange","tokenEndpoint":"https://as.example.com/token","audience":"https://up.example.com"}`, "", nil},
		{"token exchange without AS", `{"mode":"token-exchange"}`, "needs", nil},
		{"id-jag", `{"mode":"id-jag","clientId":"gw","idp":{"tokenEndpoint":"https://idp.example.com/token"}}`, "", nil},
		{"id-jag without idp", `{"mode":"id-jag","clientId":"gw"}`, `needs "idp"`, nil},
		{"passthrough refused", `{"mode":"passthrough"}`, "token passthrough", nil},
		{"passthrough allowed", `{"mode":"passthrough","allowPassthrough":true}`, "", nil},
		{"allowPassthrough elsewhere", `{"mode":"none","allowPassthrough":true}`, "applies only", nil},
		{"unknown mode", `{"mode":"magic"}`, "mode", nil},
		{"unknown key", `{"mode":"none","secret":"x"}`, "secret", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := `{"mcpServers":{"up":{"url":"https://up.example.com/mcp","auth":` + tt.auth + `}}}`
			c, err := Parse([]byte(src), FormatAuto, nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.check != nil {
				tt.check(t, c.Servers["up"].Auth)
			}
		})
	}
}

func TestIdentitySection(t *testing.T) {
	src := `{"identity":{"apiKeys":true,"claims":{"tenant":"tid"},"dpop":{"nonce":true},"sessionBound":["danger_*"],
		"sso":{"issuer":"https://idp.example.com","clientId":"sb","clientSecret":"${SB_TEST_SSO:-s}","requiredGroups":["mcp-users"]},
		"idJag":[{"issuer":"https://idp.example.com","jwksUrl":"https://idp.example.com/jwks"}],
		"workloads":[{"issuer":"https://k8s.example.com","jwksUrl":"https://k8s.example.com/jwks","claims":{"sub":["system:serviceaccount:ci:*"]}}]},
		"mcpServers":{}}`
	c, err := Parse([]byte(src), FormatAuto, nil)
	if err != nil {
		t.Fatal(err)
	}
	id := c.Identity
	if !id.APIKeys || id.Claims.Tenant != "tid" || id.DPoP == nil || !id.DPoP.Nonce || id.SSO.ClientSecret != "s" ||
		len(id.SSO.Scopes) != 3 || len(id.Workloads[0].Claims["sub"]) != 1 || id.SessionBound[0] != "danger_*" {
		t.Fatalf("decoded %+v", id)
	}
	if _, err := Parse([]byte(`{"identity":{"sso":{"issuer":"x"}}}`), FormatAuto, nil); err == nil {
		t.Fatal("an sso without clientId and a bad issuer was accepted")
	}
}
