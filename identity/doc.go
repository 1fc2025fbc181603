// Package identity is who calls the gateway and the secrets it keeps to
// call upstreams on their behalf.
//
//   - API keys for machines ([Keys]): "sbk_<id>_<secret>" tokens, stored as
//     an HMAC-SHA-256 of the secret under a pepper that is itself a sealed
//     secret; each key has a subject, tenant, groups, scopes and an expiry,
//     and can be revoked. [Keys.Verifier] makes them acceptable to the
//     auth middleware beside OAuth tokens ("switchboard keys create |
//     list | revoke").
//   - The [Vault]: secrets at rest (upstream tokens of each person, client
//     secrets, the pepper) sealed with AES-256-GCM under data keys, which
//     are themselves sealed under the master key from the environment or a
//     file (envelope encryption). [Vault.Rotate] makes a new data key and
//     re-seals every secret under it while servers keep running: a value
//     sealed under a key a server has not seen yet makes it reload the
//     data keys ("switchboard keys rotate").
//   - [Identify]: the gateway.Hooks.Identify function that turns the
//     verified OAuth token or API key of a request into a gateway.Identity
//     (subject, client, tenant, groups, method, scopes, grant binding) for
//     policy, limits, audit and upstream credentials.
//
// Package store provides the durable [Storage] (SQLite).
package identity
