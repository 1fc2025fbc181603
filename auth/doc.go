// Package auth makes an MCP server an OAuth 2.1 resource server, as the MCP
// authorization specification (revision 2025-11-25) asks of servers on
// HTTP transports.
//
// A [Middleware] wraps any http.Handler, typically the Streamable HTTP
// handler of package transport/streamable:
//
//	v, _ := auth.NewJWTVerifier(auth.JWTOptions{
//		Issuer:   "https://as.example.com",
//		Audience: "https://mcp.example.com/mcp",
//		JWKSURL:  "https://as.example.com/jwks",
//	})
//	m, _ := auth.New(v, &auth.Options{
//		Resource:             "https://mcp.example.com/mcp",
//		AuthorizationServers: []string{"https://as.example.com"},
//		Scopes:               []string{"mcp"},
//		ToolScopes:           map[string][]string{"delete_file": {"files:write"}},
//	})
//	mux := http.NewServeMux()
//	m.Mount(mux, streamable.NewHandler(server, nil))
//
// Mount serves the Protected Resource Metadata document (RFC 9728) at
// /.well-known/oauth-protected-resource/mcp and
// /.well-known/oauth-protected-resource, and the protected endpoint at /mcp.
// Requests without a valid token get 401 with a WWW-Authenticate challenge
// that points at the metadata; valid tokens without the scopes a request
// needs get 403 insufficient_scope, which drives the client's step-up
// authorization.
//
// Two verifiers are provided: [JWTVerifier] checks JWT access tokens
// locally against the issuer's JWKS (with key rotation), and
// [IntrospectionVerifier] asks the authorization server (RFC 7662). Both
// require the token's audience to be this server's canonical resource URI
// (RFC 8707): a token minted for another resource is refused. Any other
// scheme implements [Verifier].
//
// Handlers, MCP tool handlers included, read the verified token's
// description with [TokenInfoFrom]. The token itself stays in the
// Authorization header of the incoming request: this package never logs,
// stores or forwards it, and an MCP server must not pass it to any other
// service (token passthrough): it calls upstream APIs with tokens of its
// own.
package auth
