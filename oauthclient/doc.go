// Package oauthclient is the client half of MCP authorization (revision
// 2025-11-25, with the 2025-03-26 fallbacks and the 2026-07-28 additions):
// an http.RoundTripper that obtains, attaches, refreshes and upgrades
// OAuth 2.1 access tokens for one MCP server.
//
// Give a Transport to the *http.Client of an HTTP MCP transport:
//
//	lb, _ := oauthclient.NewLoopback(oauthclient.LoopbackOptions{Out: os.Stderr})
//	defer lb.Close()
//	rt := oauthclient.NewTransport(nil, &oauthclient.Config{
//		ServerURL:   "https://mcp.example.com/mcp",
//		RedirectURL: lb.RedirectURL(),
//		Authorize:   lb.Authorize,
//	})
//	httpClient := &http.Client{Transport: rt}
//
// When the server answers 401, the Transport
//
//   - parses the WWW-Authenticate challenge (RFC 7235, RFC 6750) for
//     resource_metadata and scope;
//   - fetches the protected resource metadata (RFC 9728) from
//     resource_metadata, else from the path-suffixed then the root
//     well-known URL, and checks that its resource covers the server;
//   - fetches the authorization server metadata (RFC 8414, then OpenID
//     Connect Discovery, with the MCP order of path insertion and
//     appending), requires its issuer to be the one it was looked up by,
//     and refuses a server that does not list PKCE S256;
//   - without protected resource metadata, falls back to the 2025-03-26
//     rules: metadata at the server's origin, else the default endpoints
//     /authorize, /token and /register;
//   - identifies the client in the MCP order: pre-registered credentials,
//     a Client ID Metadata Document URL, a stored registration, Dynamic
//     Client Registration (RFC 7591, with application_type);
//   - runs the authorization code grant with PKCE S256, state, the RFC
//     8707 resource parameter, the MCP scope selection strategy, and the
//     RFC 9207 iss check; or the client credentials grant (with
//     client_secret_* or private_key_jwt), or the RFC 7523 JWT bearer
//     grant (for the enterprise-managed ID-JAG flow);
//   - authenticates at the token endpoint with none, client_secret_basic,
//     client_secret_post or private_key_jwt as registration and metadata
//     allow;
//   - stores the token under (issuer, server) and sends the request again.
//
// A 403 with error="insufficient_scope" triggers a step-up authorization
// with the union of the scopes requested so far and the challenged ones,
// at most Config.MaxStepUps times per request. Expired tokens are
// refreshed before use; a 401 with a refresh token tries a refresh first.
// Tokens go only to the server's origin, never into URLs, logs or error
// messages.
package oauthclient
