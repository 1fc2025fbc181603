// Package resourceuritest holds the examples of the canonical resource URI
// rule (package resourceuri) that every implementation side is tested
// against.
package resourceuritest

// Cases are the canonical URI rule as examples: In, and the canonical form
// Want, or "" when In must be refused. The tests of auth and oauthclient
// check their CanonicalResource functions against them.
var Cases = []struct{ In, Want string }{
	{"https://mcp.example.com/mcp", "https://mcp.example.com/mcp"},
	{"HTTPS://MCP.Example.COM/mcp", "https://mcp.example.com/mcp"},
	{"https://mcp.example.com/", "https://mcp.example.com"},
	{"https://mcp.example.com", "https://mcp.example.com"},
	{"https://mcp.example.com:443", "https://mcp.example.com"},
	{"https://mcp.example.com:8443", "https://mcp.example.com:8443"},
	{"https://mcp.example.com:8443/x/", "https://mcp.example.com:8443/x/"},
	{"http://127.0.0.1:80/mcp", "http://127.0.0.1/mcp"},
	{"http://[::1]:80/x", "http://[::1]/x"},
	{"http://[::1]:3000/mcp", "http://[::1]:3000/mcp"},
	{"https://mcp.example.com/mcp?tenant=a", "https://mcp.example.com/mcp?tenant=a"},
	{"https://mcp.example.com/?tenant=a", "https://mcp.example.com/?tenant=a"},
	{"https://mcp.example.com/mcp?", "https://mcp.example.com/mcp"},
	{"https://mcp.example.com/a%2Fb", "https://mcp.example.com/a%2Fb"},
	{"mcp.example.com", ""},
	{"https://mcp.example.com#frag", ""},
	{"https://mcp.example.com/mcp#", ""},
	{"https://u:p@mcp.example.com", ""},
	{"ftp://mcp.example.com", ""},
	{"https:mcp", ""},
	{"/mcp", ""},
	{"", ""},
}
