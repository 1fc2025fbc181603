// Package config reads the configuration file of the Switchboard gateway
// ("switchboard serve --config FILE"): the gateway's settings and the
// upstream MCP servers it fronts.
//
// # Files clients already have
//
// The file is JSON (comments and trailing commas allowed, as in VS Code's
// files) or YAML, chosen by extension (.yaml and .yml are YAML, .json,
// .jsonc and .json5 are JSON) or else by content. Servers are read from
// the "mcpServers" map that Claude Desktop, Claude Code, Cursor, Windsurf,
// Gemini CLI and Cline use, and from VS Code's "servers" map (with its
// "inputs"), with the keys those clients write, so that their files load
// unchanged. The gateway's own settings live under "gateway".
//
// Unknown keys are errors, with a suggestion when a known key is close.
// Keys that clients put in the same file but that mean nothing to a
// gateway are accepted and ignored: Claude Desktop's app settings at the
// top level, and in server entries "alwaysAllow", "autoApprove",
// "description", "dev", "extensionId", "gallery", "trust" and "version".
// Keys whose meaning the gateway does not implement yet ("includeTools",
// "excludeTools", "disabledTools", "oauth") are errors, since ignoring
// them would change what a server exposes. The top-level keys "policy",
// "limits", "tenants" and "virtualServers" configure governance (see
// governance.go); "audit", "telemetry" and "registry" are reserved for
// later versions.
//
// # Substitution
//
// Every string value in server entries and gateway settings (not keys,
// not ignored keys) may contain references:
//
//	${VAR}              the environment variable VAR; an error when unset
//	${VAR:-default}     VAR, or default when VAR is unset or empty (taken literally, up to "}")
//	${env:VAR}          the same as ${VAR} (VS Code, Cursor, Windsurf)
//	${input:ID}         a VS Code input, read from the environment variable
//	                    SWITCHBOARD_INPUT_<ID> (see InputEnvVar)
//	${workspaceFolder}  the configuration file's directory, or its parent when that is .vscode or .cursor
//	${userHome}         the user's home directory
//	${pathSeparator}    the OS path separator (also ${/})
//	$$                  a literal "$"
//
// A "$" not followed by "{" or "$" is kept as it is. Errors name the
// variable and the key path, never a value. Values of env and headers are
// never printed: see [Server.Redacted].
//
// # Validation
//
// [Load] and [Parse] check the file against the published JSON Schema
// ([Schema]) and then what a schema cannot express: a server has exactly
// one of a command or a URL, consistent with its type; URLs are http or
// https; stdio-only keys are not on URL servers and headers are not on
// stdio servers; prefixes use the characters of MCP tool names and no two
// servers end up with the same prefix; envFile files exist and parse.
// Every problem is reported at once, as [Errors].
//
// # Names
//
// The gateway exposes an upstream's tools and prompts under names that
// are a pure function of the configuration: see [Config.ServerPrefix] and
// [Config.ExposedName].
package config
