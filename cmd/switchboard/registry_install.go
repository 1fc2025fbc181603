package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/parser"
	"github.com/spf13/cobra"
	"github.com/tailscale/hujson"
	"golang.org/x/term"

	"github.com/switchboard-mcp/switchboard/gateway/config"
	"github.com/switchboard-mcp/switchboard/registry"
	"github.com/switchboard-mcp/switchboard/servercard"
)

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func newRegistryInstallCmd() *cobra.Command {
	var (
		f         registryFlags
		gwConfig  string
		from      string
		ver       string
		as        string
		pkg       string
		prefer    string
		command   string
		sets      []string
		dryRun    bool
		prompt    bool
		force     bool
		readToken string
	)
	cmd := &cobra.Command{
		Use:   "install NAME | URL | FILE",
		Short: "Add a registry's server to the gateway's configuration file",
		Long: `Turn a server.json into an upstream of the gateway, in the gateway's
configuration file (--gateway-config, else --config), which a running
"switchboard serve --config" reloads by itself.

The server is a NAME in this registry (or in the registry at --registry
URL), a URL of a server.json, of a registry entry or of a Server Card (or
of an MCP endpoint, whose /server-card is read), or a server.json FILE.

A remote becomes a URL with its headers; a package becomes the command line
of its runtime: npx for npm, uvx for PyPI, docker run for OCI images, dnx
for NuGet, or its runtimeHint (--command names the program of other
packages). Inputs without a value (environment variables, arguments,
headers, URL variables) are written as ${NAME} references to the gateway's
environment, secrets always; --set NAME=VALUE writes a value instead, and
--prompt asks for each one (secrets then go to an env file beside the
configuration, mode 0600, named by the entry's envFile).`,
		Example: `  switchboard registry install io.github.acme/weather --gateway-config gateway.yaml
  switchboard registry install com.example/files --registry https://registry.example.com -c gateway.yaml --set ROOT=/srv
  switchboard registry install https://mcp.example.com/mcp -c gateway.yaml --as example`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			target := gwConfig
			if target == "" {
				target = f.configPath
			}
			if target == "" && !dryRun {
				return errors.New("name the gateway's configuration file with --gateway-config (or --config), or use --dry-run")
			}
			sj, where, err := resolveServerJSON(ctx, cmd, &f, args[0], from, ver, readToken)
			if err != nil {
				return err
			}
			values := map[string]string{}
			for _, s := range sets {
				k, v, ok := strings.Cut(s, "=")
				if !ok {
					return fmt.Errorf("--set %q: want NAME=VALUE", s)
				}
				values[k] = v
			}
			up, err := registry.UpstreamFor(sj, registry.InstallOptions{Name: as, Prefer: prefer, Package: pkg, Values: values, Command: command})
			if err != nil {
				return err
			}
			secrets := map[string]string{}
			if prompt && len(up.References) > 0 {
				in := bufio.NewReader(cmd.InOrStdin())
				for _, r := range up.References {
					v, err := ask(cmd, in, r)
					if err != nil {
						return err
					}
					if v == "" {
						continue
					}
					if r.Secret {
						secrets[r.Name] = v
					} else {
						values[r.Name] = v
					}
				}
				if up, err = registry.UpstreamFor(sj, registry.InstallOptions{Name: as, Prefer: prefer, Package: pkg, Values: values, Command: command}); err != nil {
					return err
				}
			}
			entry := gatewayEntry(up)
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "%s %s from %s (%s) as upstream %q\n", sj.Name, sj.Version, where, up.Source, up.Name)
			if dryRun {
				b, _ := json.MarshalIndent(map[string]any{"mcpServers": map[string]any{up.Name: entry}}, "", "  ")
				fmt.Fprintf(out, "%s\n", b)
			} else {
				// Prompted secrets of a stdio server go to an env file, which
				// the gateway merges into the server's environment; the
				// others stay references to the gateway's environment.
				fileSecrets := map[string]string{}
				for k, v := range secrets {
					if up.Type == "stdio" && up.Env[k] == "${"+k+"}" {
						fileSecrets[k] = v
						delete(up.Env, k)
					}
				}
				if len(fileSecrets) > 0 {
					envFile, err := writeEnvFile(target, up.Name, fileSecrets)
					if err != nil {
						return err
					}
					entry = gatewayEntry(up)
					entry["envFile"] = envFile
				}
				for k := range secrets {
					if _, ok := fileSecrets[k]; !ok {
						delete(secrets, k)
					}
				}
				if err := addUpstream(target, up.Name, entry, force); err != nil {
					return err
				}
				fmt.Fprintf(out, "added to %s\n", target)
			}
			for _, r := range up.References {
				if _, ok := secrets[r.Name]; ok {
					continue
				}
				kind := "variable"
				if r.Secret {
					kind = "secret"
				}
				fmt.Fprintf(out, "  set %s in the gateway's environment (%s%s)\n", r.Name, kind, orText(strings.TrimSpace(": "+r.Description), ""))
			}
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&gwConfig, "gateway-config", "", "the gateway's configuration file to add the upstream to (default: --config)")
	cmd.Flags().StringVar(&from, "registry", "", "read NAME from the registry at this base URL instead of this one")
	cmd.Flags().StringVar(&readToken, "registry-token", "", "bearer token for --registry")
	cmd.Flags().StringVar(&ver, "version", "latest", "the server's version")
	cmd.Flags().StringVar(&as, "as", "", "the upstream's name (default: the server name after the slash)")
	cmd.Flags().StringVar(&pkg, "package", "", "use the package of this registry type (npm, pypi, oci, nuget, mcpb, cargo)")
	cmd.Flags().StringVar(&prefer, "prefer", "", `"remote" or "package" (default: the remote when there is one)`)
	cmd.Flags().StringVar(&command, "command", "", "the program that runs the package (for packages no runtime starts)")
	cmd.Flags().StringArrayVar(&sets, "set", nil, "NAME=VALUE for an input (repeatable)")
	cmd.Flags().BoolVar(&prompt, "prompt", false, "ask for the inputs that have no value")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the entry instead of writing it")
	cmd.Flags().BoolVar(&force, "force", false, "replace an upstream of the same name")
	return cmd
}

func ask(cmd *cobra.Command, in *bufio.Reader, r registry.Reference) (string, error) {
	fmt.Fprintf(cmd.ErrOrStderr(), "%s%s: ", r.Name, orText(" ("+r.Description+")", ""))
	if f, ok := cmd.InOrStdin().(*os.File); ok && r.Secret && term.IsTerminal(int(f.Fd())) {
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(cmd.ErrOrStderr())
		return string(b), err
	}
	line, err := in.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimSpace(line), nil
}

// resolveServerJSON finds the server.json to install.
func resolveServerJSON(ctx context.Context, cmd *cobra.Command, f *registryFlags, arg, from, ver, token string) (*registry.ServerJSON, string, error) {
	var doc []byte
	where := arg
	switch {
	case strings.HasPrefix(arg, "http://") || strings.HasPrefix(arg, "https://"):
		b, err := httpGet(ctx, arg, token)
		if err == nil && json.Valid(b) {
			doc = b
			break
		}
		fs, ferr := servercard.Fetch(ctx, nil, arg)
		if ferr != nil || len(fs) == 0 || fs[0].Card == nil {
			if err == nil {
				err = ferr
			}
			return nil, "", fmt.Errorf("%s: neither a server.json nor a Server Card: %v", arg, err)
		}
		doc = fs[0].Raw
		where = fs[0].URL
	case fileExists(arg):
		b, err := os.ReadFile(arg)
		if err != nil {
			return nil, "", err
		}
		doc = b
	case from != "":
		u := strings.TrimRight(from, "/") + "/v0.1/servers/" + url.PathEscape(arg) + "/versions/" + url.PathEscape(ver)
		b, err := httpGet(ctx, u, token)
		if err != nil {
			return nil, "", err
		}
		doc, where = b, from
	default:
		_, rc, err := f.load()
		if err != nil {
			return nil, "", err
		}
		o, err := openRegistryStore(ctx, rc, f.database, f.dataDir, nil, io.Discard, "registry install")
		if err != nil {
			return nil, "", err
		}
		defer o.close()
		var rec *registry.Record
		if ver == "latest" {
			rec, err = o.store.Latest(ctx, arg, false)
		} else {
			rec, err = o.store.Get(ctx, arg, ver)
		}
		if errors.Is(err, registry.ErrNotFound) {
			return nil, "", fmt.Errorf("%s %s is not in this registry (give --registry URL to read another one)", arg, ver)
		}
		if err != nil {
			return nil, "", err
		}
		doc, where = rec.Server, "this registry"
	}
	return decodeServerDoc(doc, where)
}

// decodeServerDoc reads a server.json, a registry entry ({"server": ...})
// or a Server Card (remotes only).
func decodeServerDoc(doc []byte, where string) (*registry.ServerJSON, string, error) {
	var probe struct {
		Server json.RawMessage `json:"server"`
		Schema string          `json:"$schema"`
	}
	if err := json.Unmarshal(doc, &probe); err != nil {
		return nil, "", fmt.Errorf("%s: %w", where, err)
	}
	if len(probe.Server) > 0 {
		doc = probe.Server
	}
	var sj registry.ServerJSON
	if err := json.Unmarshal(doc, &sj); err != nil {
		return nil, "", fmt.Errorf("%s: %w", where, err)
	}
	if probe.Schema == servercard.SchemaURL {
		if err := servercard.Validate(doc); err != nil {
			return nil, "", fmt.Errorf("%s: %w", where, err)
		}
	} else if res := registry.Validate(doc, &registry.ValidateOptions{AllowDraft: true}); !res.Valid {
		return nil, "", fmt.Errorf("%s: %w", where, res.Err())
	}
	return &sj, where, nil
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

func httpGet(ctx context.Context, u, token string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", u, resp.Status, bytes.TrimSpace(b))
	}
	return b, nil
}

// gatewayEntry is the upstream as a configuration entry.
func gatewayEntry(u *registry.Upstream) map[string]any {
	e := map[string]any{}
	switch u.Type {
	case "stdio":
		e["command"] = u.Command
		if len(u.Args) > 0 {
			e["args"] = u.Args
		}
		if len(u.Env) > 0 {
			e["env"] = u.Env
		}
	default:
		e["type"] = u.Type
		e["url"] = u.URL
		if len(u.Headers) > 0 {
			e["headers"] = u.Headers
		}
	}
	return e
}

// writeEnvFile writes secrets to NAME.env beside the configuration file
// (mode 0600) and returns its name relative to the file.
func writeEnvFile(cfgPath, name string, secrets map[string]string) (string, error) {
	rel := name + ".env"
	p := filepath.Join(filepath.Dir(cfgPath), rel)
	keys := make([]string, 0, len(secrets))
	for k := range secrets {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\n", k, strings.ReplaceAll(secrets[k], "\n", ""))
	}
	return rel, os.WriteFile(p, []byte(b.String()), 0o600)
}

// addUpstream adds (or with force replaces) an entry of "mcpServers" (or
// VS Code's "servers" when the file uses it) in the gateway's
// configuration file, changing nothing else: JSON (with comments) is
// patched through hujson, YAML through its syntax tree, so comments and
// the other keys stay. The result must load as a configuration file; it
// is written atomically.
func addUpstream(path, name string, entry map[string]any, force bool) error {
	data, err := os.ReadFile(path)
	mode := os.FileMode(0o600)
	if errors.Is(err, os.ErrNotExist) {
		data = nil
	} else if err != nil {
		return err
	} else if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	format := config.FormatOf(path, data)
	var out []byte
	if len(bytes.TrimSpace(data)) == 0 {
		if format == config.FormatYAML {
			b, err := yaml.Marshal(map[string]any{"mcpServers": map[string]any{name: entry}})
			if err != nil {
				return err
			}
			out = b
		} else {
			out, _ = json.MarshalIndent(map[string]any{"mcpServers": map[string]any{name: entry}}, "", "  ")
			out = append(out, '\n')
		}
	} else {
		cur, err := config.Parse(data, format, &config.LoadOptions{Raw: true})
		if err != nil {
			return fmt.Errorf("%s does not load: %w", path, err)
		}
		if _, exists := cur.Servers[name]; exists && !force {
			return fmt.Errorf("%s already has an upstream %q (--as NAME to choose another name, --force to replace it)", path, name)
		}
		key := "mcpServers"
		if format == config.FormatYAML {
			out, err = addYAML(data, key, name, entry)
		} else {
			out, err = addJSON(data, name, entry)
		}
		if err != nil {
			return err
		}
	}
	if _, err := config.Parse(out, format, &config.LoadOptions{Raw: true}); err != nil {
		return fmt.Errorf("the edited configuration does not load (not written): %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(out); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func jsonPointerEscape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func addJSON(data []byte, name string, entry map[string]any) ([]byte, error) {
	v, err := hujson.Parse(data)
	if err != nil {
		return nil, err
	}
	obj, ok := v.Value.(*hujson.Object)
	if !ok {
		return nil, errors.New("the configuration file is not an object")
	}
	key := ""
	for _, m := range obj.Members {
		if s, ok := m.Name.Value.(hujson.Literal); ok && slices.Contains([]string{"mcpServers", "servers"}, s.String()) {
			key = s.String()
			break
		}
	}
	ev, _ := json.Marshal(entry)
	var patch []map[string]any
	if key == "" {
		patch = append(patch, map[string]any{"op": "add", "path": "/mcpServers", "value": map[string]any{}})
		key = "mcpServers"
	}
	patch = append(patch, map[string]any{"op": "add", "path": "/" + key + "/" + jsonPointerEscape(name), "value": json.RawMessage(ev)})
	pb, _ := json.Marshal(patch)
	if err := v.Patch(pb); err != nil {
		return nil, err
	}
	return v.Pack(), nil
}

func addYAML(data []byte, key, name string, entry map[string]any) ([]byte, error) {
	file, err := parser.ParseBytes(data, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	var root map[string]any
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, err
	}
	if _, ok := root["servers"]; ok {
		if _, ok := root["mcpServers"]; !ok {
			key = "servers"
		}
	}
	var src []byte
	var p *yaml.Path
	if _, ok := root[key]; ok {
		if src, err = yaml.Marshal(map[string]any{name: entry}); err != nil {
			return nil, err
		}
		p, err = yaml.PathString("$." + key)
	} else {
		if src, err = yaml.Marshal(map[string]any{key: map[string]any{name: entry}}); err != nil {
			return nil, err
		}
		p, err = yaml.PathString("$")
	}
	if err != nil {
		return nil, err
	}
	if err := p.MergeFromReader(file, bytes.NewReader(src)); err != nil {
		return nil, err
	}
	return []byte(file.String() + "\n"), nil
}
