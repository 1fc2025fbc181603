package portability

import (
	"fmt"
	"slices"
	"strings"
)

// Client is an MCP client whose configuration file can be read and
// written (or, for ImportOnly ones, read).
type Client struct {
	// ID names the client on the command line ("claude-desktop").
	ID string
	// Name is the client's product name ("Claude Desktop").
	Name string
	// Format is the syntax of its file.
	Format Format
	// Key is where the servers are in the file ("mcpServers",
	// "context_servers", "[mcp_servers.*]", ...), for display.
	Key string
	// Remote reports whether the client's file can hold servers at a
	// URL; clients that only start processes are connected to the
	// gateway with `switchboard serve --stdio`.
	Remote bool
	// ImportOnly marks a source that cannot be written (server.json).
	ImportOnly bool
	// About says which file this is and what its format cannot express.
	About string

	paths func(e Env) string
	d     *dialect
}

// dialect is how a client writes its entries.
type dialect struct {
	syn syntax
	// container is the path of the servers' map (or list) in the file.
	container func(tree map[string]any, o *Options) []string
	// list marks a list of entries identified by "name" (Continue).
	list bool
	// inputs marks a file with VS Code's "inputs".
	inputs bool
	// decode reads an entry; nil when it is not a server (a note says
	// why).
	decode func(r *reader, name string, e map[string]any) *Server
	// encode writes an entry; nil when the server cannot be written (a
	// note says why).
	encode func(w *writer, s *Server) obj
	// read, when set, reads the whole file instead (the gateway's file,
	// server.json).
	read func(c *Client, data []byte, o *Options) (*Set, []Note, error)
	// check, when set, validates the edited file.
	check func(data []byte, o *Options) error
}

// DefaultPath returns the client's default file in environment e.
func (c *Client) DefaultPath(e Env) string { return c.paths(e) }

// clients is every client, in display order.
var clients = []*Client{
	{ID: "claude-desktop", Name: "Claude Desktop", Format: JSON, Key: "mcpServers",
		About: "claude_desktop_config.json; only servers it starts (remote servers are added in its Connectors settings); no references, no headers, no way to disable an entry",
		paths: func(e Env) string {
			switch e.goos() {
			case "windows":
				return e.appData("Claude", "claude_desktop_config.json")
			case "darwin":
				return e.appSupport("Claude", "claude_desktop_config.json")
			}
			return e.xdgConfig("Claude", "claude_desktop_config.json")
		},
		d: &dialect{syn: synNone, container: fixed("mcpServers"), decode: decodeStd, encode: encodeClaudeDesktop}},
	{ID: "claude-code", Name: "Claude Code", Format: JSON, Key: "mcpServers", Remote: true,
		About: "the project's .mcp.json (project scope); ${VAR} and ${VAR:-default}",
		paths: func(e Env) string { return e.inDir(".mcp.json") },
		d:     &dialect{syn: synDollar, container: fixed("mcpServers"), decode: decodeStd, encode: encodeClaudeCode}},
	{ID: "claude-code-user", Name: "Claude Code", Format: JSON, Key: "mcpServers", Remote: true,
		About: "~/.claude.json, top-level mcpServers (user scope)",
		paths: func(e Env) string { return e.home(".claude.json") },
		d:     &dialect{syn: synDollar, container: fixed("mcpServers"), decode: decodeStd, encode: encodeClaudeCode}},
	{ID: "claude-code-local", Name: "Claude Code", Format: JSON, Key: "projects.<dir>.mcpServers", Remote: true,
		About: "~/.claude.json, projects.<project directory>.mcpServers (local scope; --project, default the current directory)",
		paths: func(e Env) string { return e.home(".claude.json") },
		d: &dialect{syn: synDollar, decode: decodeStd, encode: encodeClaudeCode,
			container: func(_ map[string]any, o *Options) []string { return []string{"projects", o.Project, "mcpServers"} }}},
	{ID: "cursor", Name: "Cursor", Format: JSON, Key: "mcpServers", Remote: true,
		About: "~/.cursor/mcp.json (a project's is .cursor/mcp.json); ${env:VAR}, ${userHome}, ${workspaceFolder}; no way to disable an entry in the file",
		paths: func(e Env) string { return e.home(".cursor", "mcp.json") },
		d:     &dialect{syn: synCursor, container: fixed("mcpServers"), decode: decodeStd, encode: encodeCursor}},
	{ID: "vscode", Name: "VS Code", Format: JSON, Key: "servers", Remote: true,
		About: "the user profile's mcp.json (a workspace's is .vscode/mcp.json); servers and inputs, ${env:VAR}, ${input:ID}, envFile, cwd; no way to disable an entry in the file",
		paths: func(e Env) string { return e.userConfig("Code", "User", "mcp.json") },
		d:     &dialect{syn: synVSCode, container: fixed("servers"), inputs: true, decode: decodeStd, encode: encodeVSCode}},
	{ID: "windsurf", Name: "Windsurf", Format: JSON, Key: "mcpServers", Remote: true,
		About: "~/.codeium/windsurf/mcp_config.json; serverUrl for remote servers, ${env:VAR}, disabled",
		paths: func(e Env) string { return e.home(".codeium", "windsurf", "mcp_config.json") },
		d:     &dialect{syn: synWindsurf, container: fixed("mcpServers"), decode: decodeStd, encode: encodeWindsurf}},
	{ID: "zed", Name: "Zed", Format: JSON, Key: "context_servers", Remote: true,
		About: "Zed's settings.json (JSON with comments; a project's is .zed/settings.json), context_servers; no references",
		paths: func(e Env) string {
			if e.goos() == "windows" {
				return e.appData("Zed", "settings.json")
			}
			return e.xdgConfig("zed", "settings.json")
		},
		d: &dialect{syn: synNone, container: fixed("context_servers"), decode: decodeZed, encode: encodeZed}},
	{ID: "codex", Name: "Codex", Format: TOML, Key: "[mcp_servers.*]", Remote: true,
		About: "~/.codex/config.toml ($CODEX_HOME); env_vars, bearer_token_env_var and env_http_headers carry references",
		paths: func(e Env) string {
			if h := e.getenv("CODEX_HOME"); h != "" {
				return e.join(h, "config.toml")
			}
			return e.home(".codex", "config.toml")
		},
		d: &dialect{syn: synNone, container: fixed("mcp_servers"), decode: decodeCodex, encode: encodeCodex}},
	{ID: "goose", Name: "Goose", Format: YAML, Key: "extensions", Remote: true,
		About: "Goose's config.yaml, extensions (cmd, envs, env_keys, uri)",
		paths: func(e Env) string {
			if e.goos() == "windows" {
				return e.appData("Block", "goose", "config", "config.yaml")
			}
			return e.xdgConfig("goose", "config.yaml")
		},
		d: &dialect{syn: synNone, container: fixed("extensions"), decode: decodeGoose, encode: encodeGoose}},
	{ID: "gemini", Name: "Gemini CLI", Format: JSON, Key: "mcpServers", Remote: true,
		About: "~/.gemini/settings.json (a project's is .gemini/settings.json); httpUrl (Streamable HTTP), url (SSE), $VAR and ${VAR:-default}",
		paths: func(e Env) string { return e.home(".gemini", "settings.json") },
		d:     &dialect{syn: synGemini, container: fixed("mcpServers"), decode: decodeGemini, encode: encodeGemini}},
	{ID: "cline", Name: "Cline", Format: JSON, Key: "mcpServers", Remote: true,
		About: "cline_mcp_settings.json in VS Code's global storage; type streamableHttp or sse, disabled; no references",
		paths: func(e Env) string {
			return e.userConfig("Code", "User", "globalStorage", "saoudrizwan.claude-dev", "settings", "cline_mcp_settings.json")
		},
		d: &dialect{syn: synNone, container: fixed("mcpServers"), decode: decodeStd, encode: encodeCline}},
	{ID: "continue", Name: "Continue", Format: YAML, Key: "mcpServers (a list)", Remote: true,
		About: "~/.continue/config.yaml, mcpServers as a list of {name, ...}; references are Continue secrets, ${{ secrets.NAME }}; no way to disable an entry",
		paths: func(e Env) string { return e.home(".continue", "config.yaml") },
		d:     &dialect{syn: synContinue, container: fixed("mcpServers"), list: true, decode: decodeContinue, encode: encodeContinue}},
	{ID: "opencode", Name: "opencode", Format: JSON, Key: "mcp", Remote: true,
		About: "~/.config/opencode/opencode.json, mcp (or mcp.servers); command arrays, environment, {env:VAR}",
		paths: func(e Env) string { return e.xdgConfig("opencode", "opencode.json") },
		d:     &dialect{syn: synOpencode, container: opencodeContainer, decode: decodeOpencode, encode: encodeOpencode}},
	{ID: "lmstudio", Name: "LM Studio", Format: JSON, Key: "mcpServers", Remote: true,
		About: "~/.lmstudio/mcp.json; no references, no way to disable an entry",
		paths: func(e Env) string { return e.home(".lmstudio", "mcp.json") },
		d:     &dialect{syn: synNone, container: fixed("mcpServers"), decode: decodeStd, encode: encodeLMStudio}},
	{ID: "server-json", Name: "MCP Registry server.json", Format: JSON, Key: "packages / remotes", Remote: true, ImportOnly: true,
		About: "a server's server.json (the MCP Registry's format): its first package (or, with --remote, its first remote) becomes one server; import only",
		paths: func(e Env) string { return e.inDir("server.json") },
		d:     &dialect{syn: synNone, read: readServerJSON}},
}

// Gateway is the Switchboard gateway's own configuration file (JSON or
// YAML by its extension), as a source and a target. Like the values
// Clients and Lookup return, it describes a format and must not be
// modified.
var Gateway = &Client{ID: "switchboard", Name: "the gateway", Format: YAML, Key: "mcpServers", Remote: true,
	About: "the gateway's configuration file",
	paths: func(e Env) string {
		if e.goos() == "windows" {
			return e.appData("switchboard", "config.yaml")
		}
		return e.xdgConfig("switchboard", "config.yaml")
	},
	d: &dialect{syn: synGateway, container: gatewayContainer, inputs: true, decode: decodeStd, encode: encodeGateway,
		read: readGateway, check: checkGateway}}

// Clients returns every client, in display order. The clients describe
// formats and must not be modified.
func Clients() []*Client { return slices.Clone(clients) }

// aliases are other names accepted by Lookup.
var aliases = map[string]string{
	"claude": "claude-desktop", "claude-code-project": "claude-code", "code": "vscode", "vs-code": "vscode",
	"gemini-cli": "gemini", "lm-studio": "lmstudio", "open-code": "opencode", "registry": "server-json",
	"server.json": "server-json", "gateway": "switchboard",
}

// Lookup returns the client with the given ID (or alias).
func Lookup(id string) (*Client, error) {
	id = strings.ToLower(id)
	if a, ok := aliases[id]; ok {
		id = a
	}
	if id == Gateway.ID {
		return Gateway, nil
	}
	for _, c := range clients {
		if c.ID == id {
			return c, nil
		}
	}
	ids := make([]string, len(clients))
	for i, c := range clients {
		ids[i] = c.ID
	}
	return nil, fmt.Errorf("unknown client %q; known: %s", id, strings.Join(ids, ", "))
}

func fixed(path ...string) func(map[string]any, *Options) []string {
	return func(map[string]any, *Options) []string { return path }
}

// opencodeContainer is "mcp", or "mcp.servers" in files of opencode's
// newer layout (where "servers" is not itself a server: it has no
// "type").
func opencodeContainer(tree map[string]any, _ *Options) []string {
	if mcp, ok := tree["mcp"].(map[string]any); ok {
		if srv, ok := mcp["servers"].(map[string]any); ok {
			if _, isEntry := srv["type"].(string); !isEntry {
				return []string{"mcp", "servers"}
			}
		}
	}
	return []string{"mcp"}
}

// gatewayContainer is "mcpServers", or "servers" for a file that has only
// VS Code's map.
func gatewayContainer(tree map[string]any, _ *Options) []string {
	_, mcp := tree["mcpServers"]
	if _, vs := tree["servers"]; vs && !mcp {
		return []string{"servers"}
	}
	return []string{"mcpServers"}
}

// decodeStd reads the entries of the mcpServers family (and VS Code's
// servers, and the gateway's): command/args/env/cwd/envFile or
// url/serverUrl/httpUrl with headers; type or transportType; disabled or
// enabled.
func decodeStd(r *reader, name string, e map[string]any) *Server {
	s := &Server{Name: name}
	typ, _ := text(e, "type")
	if typ == "" {
		typ, _ = text(e, "transportType")
	}
	t := transportOf(typ)
	switch cmd := e["command"].(type) {
	case string:
		s.Command = r.canon(cmd)
	case []any: // opencode's form, accepted by the gateway too
		parts := r.list(name, e, "command")
		if len(parts) > 0 {
			s.Command, s.Args = parts[0], parts[1:]
		}
	}
	url := ""
	for _, k := range []string{"url", "serverUrl", "httpUrl", "uri"} {
		if v := r.str(e, k); v != "" {
			url = v
			if k == "httpUrl" {
				t = HTTP
			}
			break
		}
	}
	switch {
	case s.Command != "":
		s.Transport = Stdio
		s.Args = append(s.Args, r.list(name, e, "args")...)
		s.Env = r.dict(name, e, "env")
		s.Cwd = r.path(r.str(e, "cwd"))
		s.EnvFile = r.path(r.str(e, "envFile"))
	case url != "":
		s.Transport, s.URL = t, url
		if t != SSE {
			s.Transport = HTTP
		}
		s.Headers = r.dict(name, e, "headers")
	default:
		r.notes.warn(name, "", "neither a command nor a URL: not read")
		return nil
	}
	if d, ok := flag(e, "disabled"); ok {
		s.Disabled = d
	} else if en, ok := flag(e, "enabled"); ok {
		s.Disabled = !en
	}
	return s
}

// decodeGemini reads Gemini CLI's entries, where "url" is an SSE server
// and "httpUrl" a Streamable HTTP one.
func decodeGemini(r *reader, name string, e map[string]any) *Server {
	s := decodeStd(r, name, e)
	if s == nil {
		return nil
	}
	if _, http := e["httpUrl"]; !http && s.Remote() {
		if typ, _ := text(e, "type"); transportOf(typ) != HTTP {
			s.Transport = SSE
		}
	}
	return s
}

// stdEntry writes the common keys of a stdio entry.
func stdEntry(w *writer, s *Server, o *obj, cwd, envFile bool) bool {
	cmd, args, ok := w.command(s)
	if !ok {
		return false
	}
	o.set("command", cmd)
	if len(args) > 0 {
		o.set("args", args)
	}
	if env := w.strMap(s, "env", s.Env); len(env) > 0 {
		o.set("env", env)
	}
	if v, ok := w.optional(s, "cwd", s.Cwd, cwd); ok {
		o.set("cwd", v)
	}
	if v, ok := w.optional(s, "envFile", s.EnvFile, envFile); ok {
		o.set("envFile", v)
	}
	return true
}

// remoteEntry writes the URL (under urlKey) and headers of a remote entry.
// entry completes o with s's remote entry (its URL under "url") or its
// stdio entry (see stdEntry), or returns nil when s cannot be written.
func entry(w *writer, s *Server, o obj, cwd, envFile bool) obj {
	if s.Remote() {
		if !remoteEntry(w, s, &o, "url") {
			return nil
		}
		return o
	}
	if !stdEntry(w, s, &o, cwd, envFile) {
		return nil
	}
	return o
}

func remoteEntry(w *writer, s *Server, o *obj, urlKey string) bool {
	u, ok := w.url(s)
	if !ok {
		return false
	}
	o.set(urlKey, u)
	if h := w.strMap(s, "headers", s.Headers); len(h) > 0 {
		o.set("headers", h)
	}
	return true
}

func encodeClaudeDesktop(w *writer, s *Server) obj {
	if !w.stdioOnly(s) || !w.noDisabled(s) {
		return nil
	}
	var o obj
	if !stdEntry(w, s, &o, false, false) {
		return nil
	}
	return o
}

func encodeClaudeCode(w *writer, s *Server) obj {
	if !w.noDisabled(s) {
		return nil
	}
	return entry(w, s, obj{{"type", s.Transport}}, false, false)
}

func encodeCursor(w *writer, s *Server) obj {
	if !w.noDisabled(s) {
		return nil
	}
	return entry(w, s, nil, false, false)
}

func encodeVSCode(w *writer, s *Server) obj {
	if !w.noDisabled(s) {
		return nil
	}
	return entry(w, s, obj{{"type", s.Transport}}, true, true)
}

func encodeWindsurf(w *writer, s *Server) obj {
	var o obj
	if s.Remote() {
		if !remoteEntry(w, s, &o, "serverUrl") {
			return nil
		}
	} else if !stdEntry(w, s, &o, false, false) {
		return nil
	}
	if s.Disabled {
		o.set("disabled", true)
	}
	return o
}

func encodeGemini(w *writer, s *Server) obj {
	if !w.noDisabled(s) {
		return nil
	}
	var o obj
	switch s.Transport {
	case HTTP:
		if !remoteEntry(w, s, &o, "httpUrl") {
			return nil
		}
	case SSE:
		if !remoteEntry(w, s, &o, "url") {
			return nil
		}
	default:
		if !stdEntry(w, s, &o, true, false) {
			return nil
		}
	}
	return o
}

func encodeCline(w *writer, s *Server) obj {
	var o obj
	if s.Remote() {
		t := "streamableHttp"
		if s.Transport == SSE {
			t = "sse"
		}
		o.set("type", t)
		if !remoteEntry(w, s, &o, "url") {
			return nil
		}
	} else if !stdEntry(w, s, &o, false, false) {
		return nil
	}
	if s.Disabled {
		o.set("disabled", true)
	}
	return o
}

func encodeLMStudio(w *writer, s *Server) obj {
	if !w.noDisabled(s) {
		return nil
	}
	if s.Remote() {
		w.noSSE(s)
	}
	return entry(w, s, nil, false, false)
}

func encodeGateway(w *writer, s *Server) obj {
	var o obj
	if s.Remote() {
		if s.Transport == SSE {
			o.set("type", SSE)
		}
		if !remoteEntry(w, s, &o, "url") {
			return nil
		}
	} else if !stdEntry(w, s, &o, true, true) {
		return nil
	}
	if s.Disabled {
		o.set("disabled", true)
	}
	return o
}

// decodeZed reads Zed's context servers: source "custom" entries with
// command/args/env (or the legacy command object {path, args, env}), or
// url/headers; servers that extensions provide are skipped.
func decodeZed(r *reader, name string, e map[string]any) *Server {
	if cmd, ok := e["command"].(map[string]any); ok {
		flat := map[string]any{"command": cmd["path"], "args": cmd["args"], "env": cmd["env"]}
		if en, ok := e["enabled"]; ok {
			flat["enabled"] = en
		}
		e = flat
	}
	if _, cmd := e["command"]; !cmd {
		if _, url := e["url"]; !url {
			r.notes.info(name, "", "provided by a Zed extension (no command or URL in the file): not read")
			return nil
		}
	}
	return decodeStd(r, name, e)
}

func encodeZed(w *writer, s *Server) obj {
	o := obj{{"source", "custom"}}
	if s.Remote() {
		w.noSSE(s)
		if !remoteEntry(w, s, &o, "url") {
			return nil
		}
	} else if !stdEntry(w, s, &o, false, false) {
		return nil
	}
	if s.Disabled {
		o.set("enabled", false)
	}
	return o
}

// decodeContinue reads an element of Continue's mcpServers list (or an
// entry of an mcpServers map, which Continue also accepts).
func decodeContinue(r *reader, name string, e map[string]any) *Server {
	if ro, ok := e["requestOptions"].(map[string]any); ok {
		if h, ok := ro["headers"]; ok {
			e = cloneMap(e)
			e["headers"] = h
		}
	}
	return decodeStd(r, name, e)
}

func cloneMap(m map[string]any) map[string]any {
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func encodeContinue(w *writer, s *Server) obj {
	if !w.noDisabled(s) {
		return nil
	}
	o := obj{{"name", s.Name}}
	if s.Remote() {
		t := "streamable-http"
		if s.Transport == SSE {
			t = "sse"
		}
		o.set("type", t)
		u, ok := w.url(s)
		if !ok {
			return nil
		}
		o.set("url", u)
		if h := w.strMap(s, "headers", s.Headers); len(h) > 0 {
			o.set("requestOptions", obj{{"headers", h}})
		}
		return o
	}
	if !stdEntry(w, s, &o, true, false) {
		return nil
	}
	return o
}

// decodeOpencode reads opencode's entries: type local with a command
// array and environment, or type remote with url and headers; enabled
// (or, in the newer layout, disabled).
func decodeOpencode(r *reader, name string, e map[string]any) *Server {
	if env, ok := e["environment"]; ok {
		e = cloneMap(e)
		e["env"] = env
	}
	return decodeStd(r, name, e)
}

func encodeOpencode(w *writer, s *Server) obj {
	var o obj
	if s.Remote() {
		w.noSSE(s)
		o.set("type", "remote")
		u, ok := w.url(s)
		if !ok {
			return nil
		}
		o.set("url", u)
		if h := w.strMap(s, "headers", s.Headers); len(h) > 0 {
			o.set("headers", h)
		}
	} else {
		cmd, args, ok := w.command(s)
		if !ok {
			return nil
		}
		o.set("type", "local")
		o.set("command", append([]string{cmd}, args...))
		if env := w.strMap(s, "env", s.Env); len(env) > 0 {
			o.set("environment", env)
		}
		w.optional(s, "cwd", s.Cwd, false)
		w.optional(s, "envFile", s.EnvFile, false)
	}
	if len(w.container) == 2 { // mcp.servers: the newer layout
		if s.Disabled {
			o.set("disabled", true)
		}
	} else {
		o.set("enabled", !s.Disabled)
	}
	return o
}
