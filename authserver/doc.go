// Package authserver is an embedded OAuth 2.1 authorization server for MCP
// servers that have no identity provider of their own, for development,
// tests, CI and single-user deployments.
//
//	as, _ := authserver.New(authserver.Options{
//		Issuer:    "http://127.0.0.1:9000",
//		Resources: []string{"http://127.0.0.1:8080/mcp"},
//	})
//	http.ListenAndServe("127.0.0.1:9000", as)
//
// It serves:
//
//   - metadata (RFC 8414) at /.well-known/oauth-authorization-server and,
//     for clients that use OpenID Connect discovery, the same document at
//     /.well-known/openid-configuration, advertising
//     code_challenge_methods_supported ["S256"] and
//     client_id_metadata_document_supported;
//   - the authorization endpoint (/authorize): authorization code with
//     PKCE S256 only (plain and missing challenges are refused), an exact
//     redirect URI match (any port for loopback http redirect URIs, RFC
//     8252 section 7.3), a required resource parameter (RFC 8707) that
//     becomes the token's audience, the iss response parameter (RFC 9207),
//     and a server-rendered consent page protected against CSRF and
//     framing (Options.AutoApprove skips it for tests);
//   - the token endpoint (/token): authorization_code, refresh_token with
//     rotation (presenting an already rotated refresh token revokes the
//     whole grant), and client_credentials; client authentication none,
//     client_secret_basic or client_secret_post;
//   - Dynamic Client Registration (/register, RFC 7591);
//   - Client ID Metadata Documents: a client_id that is an https URL is
//     fetched with SSRF protections (see [CIMDOptions]) and must describe
//     itself with the same client_id and list the redirect URI exactly;
//   - the JWKS (/jwks), introspection (/introspect, RFC 7662, for
//     pre-registered confidential clients) and revocation (/revoke,
//     RFC 7009).
//
// Access tokens are JWTs (RFC 9068, typ "at+jwt") signed with ES256 or
// RS256, from a key generated in memory or loaded with [LoadSigningKey].
// They carry iss, sub, aud (the resource), exp, iat, jti, client_id, scope
// and, for bound grants, mcp_binding.
//
// # Session-scoped grants
//
// An authorization request may carry mcp_binding=session:<Mcp-Session-Id>
// (or task:<taskId>). The grant then lives only as long as that MCP
// session or task: its access tokens carry the binding, no refresh token
// is issued and refreshing is refused, and when the MCP server calls
// [Server.RevokeBinding] (for example from mcp.ServerOptions.OnSessionEnd)
// every token of the grant stops being accepted by [Server.Verifier] and
// the introspection endpoint. More access then needs a new authorization
// request, which the person approves on the consent page again. The auth
// middleware also refuses a session-bound token on requests of any other
// session.
//
// # Machine clients
//
// Only clients an administrator provisions (Options.Clients with a secret,
// or [ProvisionMachineClient] into the Storage, which is what
// "switchboard auth-server clients add" does) may use client_credentials;
// Dynamic Client Registration and metadata documents never yield one.
// Tokens carry the mcp_grant claim (auth.GrantClaim), so that resource
// servers can tell them from tokens a person approved
// (auth.TokenInfo.IsMachine, auth.Options.RefuseMachineTokens).
//
// # State and abuse
//
// Durable state (signing key, clients, grants, refresh token digests,
// access token records, revocations) lives in a [Storage]: in memory by
// default, in SQLite with package store. Tokens without a record are
// inactive. Authorization codes and pending consent pages stay in memory.
// Per-address rate limits ([RateLimits]), bounds on pending consents that a
// flood cannot use to evict a person's open page, and the expiry of unused
// registrations (Options.UnusedClientTTL) keep unauthenticated callers from
// exhausting the server.
package authserver
