package portability

import (
	"strings"
)

// decodeCodex reads a [mcp_servers.NAME] table of Codex's config.toml:
// command/args/env/cwd, env_vars (variables passed through, read as
// NAME=${NAME}), or url with http_headers, env_http_headers (HEADER =
// VAR, read as HEADER: ${VAR}) and bearer_token_env_var (read as
// Authorization: Bearer ${VAR}); enabled.
func decodeCodex(r *reader, name string, e map[string]any) *Server {
	s := decodeStd(r, name, e)
	if s == nil {
		return nil
	}
	if s.Remote() {
		s.Headers = r.dict(name, e, "http_headers")
		for h, v := range r.dict(name, e, "env_http_headers") {
			if validEnvName(v) {
				s.Headers = put(s.Headers, h, "${"+v+"}")
			}
		}
		if v, _ := text(e, "bearer_token_env_var"); validEnvName(v) {
			s.Headers = put(s.Headers, "Authorization", "Bearer ${"+v+"}")
		}
		return s
	}
	for _, v := range r.list(name, e, "env_vars") {
		if validEnvName(v) {
			s.Env = put(s.Env, v, "${"+v+"}")
		}
	}
	return s
}

func put(m map[string]string, k, v string) map[string]string {
	if m == nil {
		m = map[string]string{}
	}
	m[k] = v
	return m
}

// bearerRef returns VAR when an Authorization value is "Bearer ${VAR}".
func bearerRef(v string) (string, bool) {
	segs := parseValue(v, synGateway)
	if len(segs) == 2 && segs[0].kind == segLit && segs[0].text == "Bearer " && segs[1].kind == segEnv && !segs[1].hasDef {
		return segs[1].text, true
	}
	return "", false
}

func encodeCodex(w *writer, s *Server) obj {
	var o obj
	if s.Remote() {
		w.noSSE(s)
		u, ok := w.url(s)
		if !ok {
			return nil
		}
		o.set("url", u)
		lit := map[string]string{}
		fromEnv := map[string]string{}
		for _, h := range sortedKeys(s.Headers) {
			v := w.structuralRef(s.Name, "headers."+h, s.Headers[h])
			if name, ok := bearerRef(v); ok && strings.EqualFold(h, "Authorization") {
				o.set("bearer_token_env_var", name)
				continue
			}
			if name, ok := refOnly(v); ok {
				fromEnv[h] = name
				continue
			}
			if out, ok := w.value(s.Name, "headers."+h, v, true); ok {
				lit[h] = out
			}
		}
		if len(lit) > 0 {
			o.set("http_headers", lit)
		}
		if len(fromEnv) > 0 {
			o.set("env_http_headers", fromEnv)
		}
	} else {
		cmd, args, ok := w.command(s)
		if !ok {
			return nil
		}
		o.set("command", cmd)
		if len(args) > 0 {
			o.set("args", args)
		}
		env := map[string]string{}
		var pass []string
		for _, k := range sortedKeys(s.Env) {
			v := w.structuralRef(s.Name, "env."+k, s.Env[k])
			if name, ok := refOnly(v); ok && name == k {
				pass = append(pass, k)
				continue
			}
			if out, ok := w.value(s.Name, "env."+k, v, true); ok {
				env[k] = out
			}
		}
		if len(env) > 0 {
			o.set("env", env)
		}
		if len(pass) > 0 {
			o.set("env_vars", pass)
		}
		if v, ok := w.optional(s, "cwd", s.Cwd, true); ok {
			o.set("cwd", v)
		}
		w.optional(s, "envFile", s.EnvFile, false)
	}
	if s.Disabled {
		o.set("enabled", false)
	}
	return o
}

// decodeGoose reads an extension of Goose's config.yaml: type stdio with
// cmd/args/envs and env_keys (variables from Goose's secrets or the
// environment, read as NAME=${NAME}), or type streamable_http or sse with
// uri and headers; enabled. Built-in extensions are skipped.
func decodeGoose(r *reader, name string, e map[string]any) *Server {
	typ, _ := text(e, "type")
	s := &Server{Name: name}
	switch strings.ToLower(typ) {
	case "stdio", "":
		cmd := r.str(e, "cmd")
		if cmd == "" {
			r.notes.warn(name, "", "no cmd: not read")
			return nil
		}
		s.Transport, s.Command = Stdio, cmd
		s.Args = r.list(name, e, "args")
		s.Env = r.dict(name, e, "envs")
		for _, k := range r.list(name, e, "env_keys") {
			if validEnvName(k) {
				s.Env = put(s.Env, k, "${"+k+"}")
			}
		}
	case "streamable_http", "streamable-http", "http", "sse":
		uri := r.str(e, "uri")
		if uri == "" {
			r.notes.warn(name, "", "no uri: not read")
			return nil
		}
		s.Transport, s.URL = HTTP, uri
		if strings.ToLower(typ) == "sse" {
			s.Transport = SSE
		}
		s.Headers = r.dict(name, e, "headers")
		if keys := r.list(name, e, "env_keys"); len(keys) > 0 {
			r.notes.info(name, "env_keys", "Goose's secrets for a remote extension are not carried")
		}
	default:
		r.notes.info(name, "", "a %s extension of Goose, not an MCP server entry: not read", typ)
		return nil
	}
	if en, ok := flag(e, "enabled"); ok {
		s.Disabled = !en
	}
	return s
}

// gooseTimeout is the timeout, in seconds, Goose writes for extensions.
const gooseTimeout = 300

func encodeGoose(w *writer, s *Server) obj {
	var o obj
	if s.Remote() {
		t := "streamable_http"
		if s.Transport == SSE {
			t = "sse"
		}
		u, ok := w.url(s)
		if !ok {
			return nil
		}
		o = obj{{"type", t}, {"name", s.Name}, {"description", ""}, {"uri", u}}
		if h := w.strMap(s, "headers", s.Headers); len(h) > 0 {
			o.set("headers", h)
		}
	} else {
		cmd, args, ok := w.command(s)
		if !ok {
			return nil
		}
		o = obj{{"type", "stdio"}, {"name", s.Name}, {"description", ""}, {"cmd", cmd}, {"args", args}}
		envs := map[string]string{}
		var keys []string
		for _, k := range sortedKeys(s.Env) {
			v := w.structuralRef(s.Name, "env."+k, s.Env[k])
			if name, ok := refOnly(v); ok && name == k {
				keys = append(keys, k)
				continue
			}
			if out, ok := w.value(s.Name, "env."+k, v, true); ok {
				envs[k] = out
			}
		}
		o.set("envs", envs)
		if len(keys) > 0 {
			o.set("env_keys", keys)
			w.notes.info(s.Name, "env_keys", "Goose reads %s from its secrets (goose configure) or the environment", strings.Join(keys, ", "))
		}
		w.optional(s, "cwd", s.Cwd, false)
		w.optional(s, "envFile", s.EnvFile, false)
	}
	o.set("enabled", !s.Disabled)
	o.set("timeout", gooseTimeout)
	return o
}
