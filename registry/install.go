package registry

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Upstream is a gateway upstream made from a server.json: the entry that
// "switchboard registry install" adds to the gateway's configuration file
// (see github.com/switchboard-mcp/switchboard/gateway/config).
type Upstream struct {
	// Name is the entry's key.
	Name string
	// Type is "stdio", "http" or "sse".
	Type string
	// Command and Args start a stdio server.
	Command string
	// Args are the program's arguments.
	Args []string
	// Env is the server's environment; values may be ${VAR} references.
	Env map[string]string
	// URL is an http or sse server's endpoint.
	URL string
	// Headers are sent to an http or sse server; values may be references.
	Headers map[string]string
	// References are the variables the entry reads from the gateway's
	// environment (${NAME}), with what each is for; Secret marks secrets.
	References []Reference
	// Source says what the entry was made from ("package npm
	// @scope/name@1.2.3", "remote streamable-http").
	Source string
}

// Reference is a ${NAME} an upstream entry reads from the environment.
type Reference struct {
	// Name is the environment variable.
	Name string
	// Description is the input's description from the server.json.
	Description string
	// Secret marks a secret input.
	Secret bool
	// Required marks an input the server needs.
	Required bool
}

// InstallOptions adjust [UpstreamFor].
type InstallOptions struct {
	// Name is the entry's name (default: the part of the server name
	// after the slash).
	Name string
	// Prefer is "remote" or "package" (default: a remote when there is
	// one, since it needs nothing installed).
	Prefer string
	// Package picks a package by registry type ("npm", "pypi", "oci",
	// "nuget", "mcpb", "cargo"); "" takes the first runnable one.
	Package string
	// Values give inputs by name (environment variables, argument value
	// hints and names, URL and header variables); they are written as
	// literal values.
	Values map[string]string
	// Command overrides the program of a package (a binary installed by
	// hand, e.g. for mcpb or cargo packages).
	Command string
}

var envNameRe = regexp.MustCompile(`[^A-Za-z0-9_]`)

// EnvName turns an input's name into an environment variable name.
func EnvName(s string) string {
	n := strings.ToUpper(envNameRe.ReplaceAllString(strings.TrimLeft(s, "-"), "_"))
	if n == "" || n[0] >= '0' && n[0] <= '9' {
		n = "_" + n
	}
	return n
}

type installer struct {
	opts InstallOptions
	refs []Reference
}

// value resolves an input: a value given in the options, the input's
// fixed value (with its {variables} substituted), its default, or a
// ${NAME} reference to the environment.
func (in *installer) value(name string, i Input) string {
	if v, ok := in.opts.Values[name]; ok {
		return v
	}
	if i.Value != "" {
		return in.substitute(i.Value, i.Variables)
	}
	if i.Default != "" && !i.IsSecret {
		return i.Default
	}
	env := EnvName(name)
	if !slices.ContainsFunc(in.refs, func(r Reference) bool { return r.Name == env }) {
		in.refs = append(in.refs, Reference{Name: env, Description: i.Description, Secret: i.IsSecret, Required: i.IsRequired})
	}
	if i.Default != "" {
		return "${" + env + ":-" + strings.ReplaceAll(i.Default, "}", "") + "}"
	}
	return "${" + env + "}"
}

// substitute replaces {variables} in a template.
func (in *installer) substitute(tmpl string, vars map[string]Input) string {
	return templateRe.ReplaceAllStringFunc(tmpl, func(m string) string {
		name := m[1 : len(m)-1]
		v, ok := vars[name]
		if !ok {
			if val, ok := in.opts.Values[name]; ok {
				return val
			}
			return m
		}
		return in.value(name, v)
	})
}

// UpstreamFor turns a server.json into a gateway upstream: a remote
// (streamable-http or sse) as a URL with headers, or a package as the
// command line of its runtime — npx for npm, uvx for PyPI, docker run for
// OCI images, dnx for NuGet, the runtimeHint when given, or a binary named
// with Command — with its runtime and package arguments and environment
// variables. Inputs without a value become ${NAME} references to the
// gateway's environment, listed in References (secrets are never written
// as values unless given in Values).
func UpstreamFor(s *ServerJSON, opts InstallOptions) (*Upstream, error) {
	in := &installer{opts: opts}
	u := &Upstream{Name: opts.Name}
	if u.Name == "" {
		_, n, _ := strings.Cut(s.Name, "/")
		u.Name = n
	}
	var remote *Transport
	for i := range s.Remotes {
		r := &s.Remotes[i]
		if r.Type == "streamable-http" && (remote == nil || remote.Type != "streamable-http") {
			remote = r
		} else if r.Type == "sse" && remote == nil {
			remote = r
		}
	}
	var pkg *Package
	for i := range s.Packages {
		p := &s.Packages[i]
		if opts.Package != "" && p.RegistryType != opts.Package {
			continue
		}
		if p.Transport.Type != "" && p.Transport.Type != "stdio" {
			continue
		}
		pkg = p
		break
	}
	usePkg := pkg != nil && (remote == nil || opts.Prefer == "package" || opts.Package != "")
	if opts.Prefer == "remote" && remote == nil {
		return nil, fmt.Errorf("%s has no remote", s.Name)
	}
	switch {
	case usePkg:
		if err := in.pkg(u, pkg); err != nil {
			return nil, err
		}
	case remote != nil:
		u.Type = "http"
		if remote.Type == "sse" {
			u.Type = "sse"
		}
		u.URL = in.substitute(remote.URL, remote.Variables)
		for _, h := range remote.Headers {
			if u.Headers == nil {
				u.Headers = map[string]string{}
			}
			if h.Value != "" {
				u.Headers[h.Name] = in.substitute(h.Value, h.Variables)
			} else {
				u.Headers[h.Name] = in.value(h.Name, h.Input)
			}
		}
		u.Source = "remote " + remote.Type
	case opts.Package != "":
		return nil, fmt.Errorf("%s has no %s package that runs over stdio", s.Name, opts.Package)
	default:
		return nil, fmt.Errorf("%s has neither a remote nor a package that runs over stdio", s.Name)
	}
	u.References = in.refs
	return u, nil
}

func (in *installer) args(list []Argument) []string {
	var out []string
	for _, a := range list {
		switch a.Type {
		case "named":
			if a.Value == "" && a.Default == "" && !a.IsRequired && in.opts.Values[a.Name] == "" {
				// An optional flag without a value: leave it out.
				if a.Format != "boolean" {
					continue
				}
			}
			out = append(out, a.Name)
			if a.Value != "" || a.Default != "" || a.IsRequired || in.opts.Values[a.Name] != "" {
				out = append(out, in.value(a.Name, a.Input))
			}
		default:
			key := a.ValueHint
			if key == "" {
				key = "arg"
			}
			if a.Value == "" && a.Default == "" && !a.IsRequired && in.opts.Values[key] == "" && !a.hasValue {
				continue
			}
			if a.hasValue && a.Value == "" {
				out = append(out, "")
				continue
			}
			out = append(out, in.value(key, a.Input))
		}
	}
	return out
}

func (in *installer) pkg(u *Upstream, p *Package) error {
	u.Type = "stdio"
	ref := p.Identifier
	runtime := p.RuntimeHint
	rtArgs := in.args(p.RuntimeArguments)
	env := map[string]string{}
	for _, e := range p.EnvironmentVariables {
		env[e.Name] = in.value(e.Name, e.Input)
	}
	switch p.RegistryType {
	case "npm":
		if p.Version != "" {
			ref += "@" + p.Version
		}
		if runtime == "" {
			runtime = "npx"
		}
		if len(rtArgs) == 0 && runtime == "npx" {
			rtArgs = []string{"-y"}
		}
		u.Command, u.Args = runtime, append(append(rtArgs, ref), in.args(p.PackageArguments)...)
	case "pypi":
		if p.Version != "" {
			ref += "==" + p.Version
		}
		if runtime == "" {
			runtime = "uvx"
		}
		u.Command, u.Args = runtime, append(append(rtArgs, ref), in.args(p.PackageArguments)...)
	case "nuget":
		if p.Version != "" {
			ref += "@" + p.Version
		}
		if runtime == "" {
			runtime = "dnx"
		}
		if len(rtArgs) == 0 && runtime == "dnx" {
			rtArgs = []string{"--yes"}
		}
		u.Command, u.Args = runtime, append(append(rtArgs, ref), in.args(p.PackageArguments)...)
	case "oci":
		if p.Version != "" && !strings.Contains(ref[strings.LastIndex(ref, "/")+1:], ":") && !strings.Contains(ref, "@") {
			ref += ":" + p.Version
		}
		if runtime == "" {
			runtime = "docker"
		}
		args := []string{"run", "-i", "--rm"}
		if runtime != "docker" && runtime != "podman" {
			args = nil
		}
		args = append(args, rtArgs...)
		names := make([]string, 0, len(env))
		for k := range env {
			names = append(names, k)
		}
		slices.Sort(names)
		for _, k := range names {
			args = append(args, "-e", k)
		}
		u.Command, u.Args = runtime, append(append(args, ref), in.args(p.PackageArguments)...)
	default:
		cmd := in.opts.Command
		if cmd == "" && runtime != "" {
			cmd = runtime
			u.Args = append(rtArgs, ref)
		}
		if cmd == "" {
			return fmt.Errorf("a %s package (%s) is not started by a runtime the gateway knows: install it and name its program with --command", p.RegistryType, p.Identifier)
		}
		u.Command = cmd
		u.Args = append(u.Args, in.args(p.PackageArguments)...)
	}
	if in.opts.Command != "" {
		u.Command = in.opts.Command
	}
	if len(env) > 0 {
		u.Env = env
	}
	u.Source = "package " + p.RegistryType + " " + p.Identifier
	if p.Version != "" {
		u.Source += "@" + p.Version
	}
	if u.Command == "" {
		return errors.New("no command")
	}
	return nil
}
