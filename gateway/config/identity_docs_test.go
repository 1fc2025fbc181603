package config

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestIdentityDocExamples loads every JSON configuration of
// docs/identity.md: each must be a valid configuration, except the one
// documenting the refusal of passthrough without allowPassthrough.
func TestIdentityDocExamples(t *testing.T) {
	doc, err := os.ReadFile("../../docs/identity.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"SSO_CLIENT_SECRET", "SEARCH_API_KEY", "REPORTS_CLIENT_SECRET", "JIRA_CLIENT_SECRET", "BILLING_EXCHANGE_SECRET",
		"CRM_CLIENT_SECRET", "IDP_CLIENT_SECRET", "ENTRA_SECRET"} {
		t.Setenv(v, "secret-"+strings.ToLower(v))
	}
	blocks := regexp.MustCompile("(?s)```json\n(.*?)```").FindAllSubmatch(doc, -1)
	n := 0
	for _, b := range blocks {
		src := string(b[1])
		if !strings.Contains(src, `"mcpServers"`) && !strings.Contains(src, `"identity"`) {
			continue // a fragment (a result's _meta)
		}
		n++
		if _, err := Parse([]byte(src), FormatJSON, nil); err != nil {
			t.Errorf("docs/identity.md example %d does not load: %v\n%s", n, err, src)
		}
	}
	if n < 9 {
		t.Fatalf("only %d configuration examples found", n)
	}
	// The refusal the documentation quotes.
	_, err = Parse([]byte(`{"mcpServers":{"legacy":{"url":"https://legacy.internal.example/mcp","auth":{"mode":"passthrough"}}}}`), FormatJSON, nil)
	if err == nil || !strings.Contains(string(doc), strings.SplitN(err.Error(), "\n", 2)[0][strings.Index(err.Error(), "mode \"passthrough\""):]) {
		t.Errorf("the passthrough refusal %q is not what docs/identity.md quotes", err)
	}
}
