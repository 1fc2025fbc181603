// Package registry is an MCP Registry that an organization runs itself: the
// official Registry API (v0.1, and the v0 routes the official publisher CLI
// uses), server.json validation, publishing with the official registry's
// login methods, curation, and mirroring of other registries.
//
// # API
//
// [Server] serves, under /v0 and /v0.1:
//
//	GET   /servers                                   list (cursor, limit, search, updated_since, version, include_deleted)
//	GET   /servers/{serverName}/versions             every version of a server
//	GET   /servers/{serverName}/versions/{version}   one version ("latest" allowed)
//	PUT   /servers/{serverName}/versions/{version}   replace a version's server.json (edit permission)
//	PATCH /servers/{serverName}/versions/{version}/status
//	PATCH /servers/{serverName}/status               every version
//	POST  /publish, /validate, /auth/{none,http,dns,oidc}
//	GET   /health, /ping, /version
//
// and the OpenAPI document at /openapi.yaml and /openapi.json. Responses
// carry _meta["io.modelcontextprotocol.registry/official"] ([Official])
// exactly as the official registry fills it. Errors are
// application/problem+json bodies as the official server (built on huma)
// writes them: 422 with an "errors" list for malformed parameters and
// bodies, 400 for a bad updated_since, 401 and 403 for authorization, 404
// for unknown servers. docs/registry.md lists where this differs from the
// OpenAPI document.
//
// # Validation
//
// [Validate] checks a server.json against the dated schema its $schema
// names (every dated schema the official registry knows, embedded) and
// then the official registry's semantic rules; each [Issue] names its JSON
// path and its rule.
//
// # Publishing
//
// [Auth] issues the official registry's tokens: Ed25519 JWTs, five
// minutes, with "permissions" on name patterns, obtained by the
// publisher's key proofs (a DNS TXT record or
// https://DOMAIN/.well-known/mcp-registry-auth), an OIDC ID token of the
// organization's IdP, or "none" on a development registry; admin tokens
// may do anything. A token may publish only names its permissions match.
//
// # Storage
//
// [Store] is implemented by [SQLStore] on SQLite (the data directory's
// database, migrated by package store) and on PostgreSQL ([OpenPostgres],
// through github.com/jackc/pgx/v5). Lists walk the (name, version) index,
// so a page costs the same at any depth; search uses a trigram index.
//
// # Mirroring and curation
//
// [Sync] mirrors another registry incrementally (updated_since), page by
// page, resumably, deletions and status changes included, or imports an
// export file. [Curation] hides or refuses servers by allow and deny
// patterns and an approval state. [UpstreamFor] turns a server.json into
// an upstream of the Switchboard gateway.
package registry
