package main

import (
	"slices"
	"strings"
	"testing"
)

// listOutput is the shape of `conformance list` in 0.1.16 (abridged).
const listOutput = `Server scenarios (test against a server):
  - server-initialize [2025-06-18,2025-11-25]
  - json-schema-2020-12 [2025-11-25]
  - dns-rebinding-protection [2025-11-25]

Client scenarios (test against a client):
  - initialize [2025-06-18,2025-11-25]
  - sse-retry [2025-11-25]
  - auth/metadata-default [2025-11-25]
  - auth/resource-mismatch [draft]
  - auth/client-credentials-jwt [extension]
`

func names(list []scenarioInfo) []string {
	var out []string
	for _, s := range list {
		out = append(out, s.Name)
	}
	return out
}

func TestParseList(t *testing.T) {
	tests := []struct {
		name    string
		out     string
		kind    string
		want    []string
		wantErr string
	}{
		{name: "server section", out: listOutput, kind: "server",
			want: []string{"server-initialize", "json-schema-2020-12", "dns-rebinding-protection"}},
		{name: "client section", out: listOutput, kind: "client",
			want: []string{"initialize", "sse-retry", "auth/metadata-default", "auth/resource-mismatch", "auth/client-credentials-jwt"}},
		{name: "only the client section printed", out: listOutput[strings.Index(listOutput, "Client"):], kind: "client",
			want: []string{"initialize", "sse-retry", "auth/metadata-default", "auth/resource-mismatch", "auth/client-credentials-jwt"}},
		{name: "no versions", out: "Server scenarios (x):\n  - a\n  - b\n", kind: "server", want: []string{"a", "b"}},
		{name: "CRLF", out: "Server scenarios:\r\n  - a [draft]\r\n", kind: "server", want: []string{"a"}},
		{name: "section missing", out: "Client scenarios:\n  - a\n", kind: "server", wantErr: "no \"Server scenarios\" section"},
		{name: "section empty", out: "Server scenarios:\n\nClient scenarios:\n  - a\n", kind: "server", wantErr: "lists no scenarios"},
		{name: "duplicate", out: "Server scenarios:\n  - a\n  - a\n", kind: "server", wantErr: "listed twice"},
		{name: "malformed versions", out: "Server scenarios:\n  - a 2025-11-25\n", kind: "server", wantErr: "unexpected scenario line"},
		{name: "section ends at next header", out: "Server scenarios:\n  - a\nClient scenarios:\n  - b\n", kind: "server", want: []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseList(tt.out, tt.kind)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseList error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseList: %v", err)
			}
			if !slices.Equal(names(got), tt.want) {
				t.Errorf("parseList = %q, want %q", names(got), tt.want)
			}
		})
	}
}

func TestParseListVersions(t *testing.T) {
	got, err := parseList(listOutput, "server")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"2025-06-18", "2025-11-25"}; !slices.Equal(got[0].SpecVersions, want) {
		t.Errorf("versions = %q, want %q", got[0].SpecVersions, want)
	}
}

func TestSelectScenarios(t *testing.T) {
	server, _ := parseList(listOutput, "server")
	client, _ := parseList(listOutput, "client")
	tests := []struct {
		name    string
		catalog []scenarioInfo
		mode    string
		sel     selection
		want    []string
		wantErr string
	}{
		{name: "server default: all", catalog: server, mode: "server",
			want: []string{"server-initialize", "json-schema-2020-12", "dns-rebinding-protection"}},
		{name: "client default: no auth", catalog: client, mode: "client",
			want: []string{"initialize", "sse-retry"}},
		{name: "client --auth adds auth/*", catalog: client, mode: "client", sel: selection{auth: true},
			want: []string{"initialize", "sse-retry", "auth/metadata-default", "auth/resource-mismatch", "auth/client-credentials-jwt"}},
		{name: "by name, catalog order", catalog: server, mode: "server",
			sel:  selection{names: []string{"dns-rebinding-protection", "server-initialize"}},
			want: []string{"server-initialize", "dns-rebinding-protection"}},
		{name: "by prefix", catalog: client, mode: "client", sel: selection{prefixes: []string{"auth/metadata", "sse"}},
			want: []string{"sse-retry", "auth/metadata-default"}},
		{name: "name plus --auth", catalog: client, mode: "client", sel: selection{names: []string{"initialize"}, auth: true},
			want: []string{"initialize", "auth/metadata-default", "auth/resource-mismatch", "auth/client-credentials-jwt"}},
		{name: "name and prefix overlap", catalog: server, mode: "server",
			sel:  selection{names: []string{"json-schema-2020-12"}, prefixes: []string{"json"}},
			want: []string{"json-schema-2020-12"}},
		{name: "unknown name", catalog: server, mode: "server", sel: selection{names: []string{"nope"}},
			wantErr: `unknown server scenario "nope"`},
		{name: "prefix matching nothing", catalog: client, mode: "client", sel: selection{prefixes: []string{"zzz"}},
			wantErr: `no client scenario starts with "zzz"`},
		{name: "--auth has no effect in server mode", catalog: server, mode: "server", sel: selection{auth: true},
			want: []string{"server-initialize", "json-schema-2020-12", "dns-rebinding-protection"}},
		{name: "empty catalog", catalog: nil, mode: "server", wantErr: "no server scenarios selected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := selectScenarios(tt.catalog, tt.sel, tt.mode)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(names(got), tt.want) {
				t.Errorf("selected %q, want %q", names(got), tt.want)
			}
		})
	}
}

func TestDefaultExpect(t *testing.T) {
	tests := []struct {
		name     string
		sel      selection
		mode     string
		selected int
		want     int
	}{
		{"server, everything", selection{}, "server", 31, pinnedServerScenarios},
		{"client core", selection{}, "client", 3, pinnedClientCoreScenarios},
		{"client with auth", selection{auth: true}, "client", 20, pinnedClientCoreScenarios + pinnedClientAuthScenarios},
		{"named", selection{names: []string{"a", "b"}}, "server", 2, 2},
		{"prefixed", selection{prefixes: []string{"auth/"}}, "client", 22, 22},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := defaultExpect(tt.sel, tt.mode, tt.selected); got != tt.want {
				t.Errorf("defaultExpect = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestSplitList(t *testing.T) {
	got := splitList([]string{"a,b", " c ", "", "d,,e"})
	if want := []string{"a", "b", "c", "d", "e"}; !slices.Equal(got, want) {
		t.Errorf("splitList = %q, want %q", got, want)
	}
}
