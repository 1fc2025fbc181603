package registrytest

import (
	"strings"
	"testing"
)

// errorCases are requests both registries must refuse alike.
var errorCases = []struct {
	method, path, token string
	body                any
}{
	{"GET", "/v0.1/servers?limit=0", "", nil},
	{"GET", "/v0.1/servers?limit=101", "", nil},
	{"GET", "/v0.1/servers?limit=abc", "", nil},
	{"GET", "/v0.1/servers?search=ab", "", nil},
	{"GET", "/v0.1/servers?updated_since=yesterday", "", nil},
	{"GET", "/v0.1/servers?updated_since=2026-01-01T00:00:00Z&include_deleted=false", "", nil},
	{"GET", "/v0.1/servers?include_deleted=maybe", "", nil},
	{"GET", "/v0.1/servers/" + esc("com.example/unknown") + "/versions/latest", "", nil},
	{"GET", "/v0.1/servers/" + esc("com.example/unknown") + "/versions", "", nil},
	{"GET", "/v0.1/servers/" + esc("com.example/unknown") + "/versions/1.0.0", "", nil},
	{"GET", "/v0.1/nothing", "", nil},
	{"POST", "/v0.1/publish", "not-a-token", serverDoc("com.example/x-server", "1.0.0", "x")},
	{"PATCH", "/v0.1/servers/" + esc("com.example/unknown") + "/status", "not-a-token", map[string]any{"status": "deprecated"}},
	{"PATCH", "/v0.1/servers/" + esc("com.example/unknown") + "/status", "not-a-token", map[string]any{"status": "gone"}},
	{"PATCH", "/v0.1/servers/" + esc("com.example/unknown") + "/versions/1.0.0/status", "not-a-token", map[string]any{"statusMessage": "x"}},
	{"PATCH", "/v0.1/servers/" + esc("com.example/unknown") + "/versions/1.0.0/status", "", map[string]any{"status": "active"}},
	{"POST", "/v0.1/publish", "", serverDoc("com.example/x-server", "1.0.0", "x")},
	{"GET", "/v0.1/servers/" + esc("com.example/unknown") + "/versions/latest?include_deleted=maybe", "", nil},
	{"GET", "/v0.1/servers/" + esc("com.example/unknown") + "/versions?include_deleted=maybe", "", nil},
}

// compareErrors sends the error cases to the official registry and to
// Switchboard: same statuses, problem+json bodies.
func compareErrors(t *testing.T, official, switchboard string) {
	for _, c := range errorCases {
		so, _, cto := sendCT(t, c.method, official+c.path, c.token, c.body)
		ss, _, cts := sendCT(t, c.method, switchboard+c.path, c.token, c.body)
		if so != ss {
			t.Errorf("%s %s: official %d, Switchboard %d", c.method, c.path, so, ss)
		}
		if !strings.HasPrefix(cts, "application/problem+json") || (strings.HasPrefix(cto, "application/problem+json") != strings.HasPrefix(cts, "application/problem+json")) {
			t.Errorf("%s %s: content types official %q, Switchboard %q", c.method, c.path, cto, cts)
		}
	}
}

func sendCT(t *testing.T, method, u, token string, body any) (int, []byte, string) {
	t.Helper()
	st, b := send(t, method, u, token, body)
	return st, b, lastContentType
}
