// Package portability moves MCP server definitions between the
// configuration files of MCP clients (Claude Desktop, Claude Code, Cursor,
// VS Code, Windsurf, Zed, Codex, Goose, Gemini CLI, Cline, Continue,
// opencode, LM Studio), the Switchboard gateway's configuration file, and
// the MCP Registry's server.json.
//
// # Model
//
// Every format is read into the same [Server] model: a name, a transport
// (stdio, http or sse), a command with arguments, environment and working
// directory, or a URL with headers, and whether the entry is disabled.
// String values use the gateway's reference syntax (see
// github.com/switchboard-mcp/switchboard/gateway/config): ${VAR},
// ${VAR:-default}, ${input:ID}, ${workspaceFolder}, ${userHome},
// ${pathSeparator} and $$ for a literal "$". Each client's own syntax
// (${env:VAR} for VS Code, Cursor and Windsurf, {env:VAR} for opencode,
// ${{ secrets.VAR }} for Continue, env_vars and bearer_token_env_var for
// Codex, env_keys for Goose) is translated on the way in and out.
//
// # Writing
//
// [Edit] returns a file's new content with servers added or replaced,
// changing nothing else: JSON with comments is patched through the AST of
// github.com/tailscale/hujson, YAML and TOML files are spliced at the
// positions their parsers (github.com/goccy/go-yaml,
// github.com/pelletier/go-toml/v2) report, so every other byte, comments
// included, stays as it was. [WriteFile] writes atomically after making a
// backup, and [UnifiedDiff] with [Redactor] shows a change without its
// secrets.
//
// # Notes
//
// Whatever a target cannot express — a URL server for a client that only
// starts processes, headers, a reference where the client takes only
// literal values, a disabled entry, a working directory — is reported as a
// [Note] naming the server and the key, never dropped silently. Secret
// values are never part of a note or an error.
package portability
