package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchboard-mcp/switchboard/portability"
)

// portabilityConfigCmds are the "switchboard config" subcommands that
// move MCP servers between clients' files and the gateway's.
func portabilityConfigCmds() []*cobra.Command {
	return []*cobra.Command{newConfigImportCmd(), newConfigExportCmd(), newConfigClientsCmd()}
}

// moveFlags are the flags import, export and connect share.
type moveFlags struct {
	file, gatewayFile, project string
	servers                    []string
	dryRun, replace, secrets   bool
	jsonOut                    bool
}

func (f *moveFlags) register(cmd *cobra.Command, gateway bool) {
	cmd.Flags().StringVar(&f.file, "file", "", "the client's file (default: its usual file, see `switchboard config clients`)")
	if gateway {
		cmd.Flags().StringVar(&f.gatewayFile, "config", "", "the gateway's configuration file, JSON or YAML (default: "+displayPath(portability.Gateway.DefaultPath(portability.CurrentEnv()))+")")
	}
	cmd.Flags().BoolVar(&f.dryRun, "dry-run", false, "print the change as a unified diff (secrets redacted) and write nothing")
	cmd.Flags().BoolVar(&f.replace, "replace", false, "overwrite entries of the same name that differ (otherwise they are reported and kept)")
	cmd.Flags().StringVar(&f.project, "project", "", "the project directory of claude-code-local (default: the current directory)")
	cmd.Flags().BoolVar(&f.jsonOut, "json", false, "machine-readable output")
}

// displayPath shortens a path under the home directory to ~/...
func displayPath(p string) string {
	home, err := os.UserHomeDir()
	if err == nil && home != "" && strings.HasPrefix(p, home+string(filepath.Separator)) {
		return "~" + p[len(home):]
	}
	return p
}

// options returns the portability options for a file and its source.
func (f *moveFlags) options(env portability.Env, file, source string) (*portability.Options, error) {
	project := f.project
	if project == "" {
		project = env.Dir
	}
	project, err := filepath.Abs(project)
	if err != nil {
		return nil, err
	}
	o := &portability.Options{
		Project:        project,
		BaseDir:        filepath.Dir(file),
		Replace:        f.replace,
		IncludeSecrets: f.secrets,
		LookupEnv:      os.LookupEnv,
		Home:           env.Home,
		PathSeparator:  string(filepath.Separator),
	}
	if source != "" {
		o.Workspace = portability.WorkspaceOf(source)
	}
	return o, nil
}

// clientPath returns the client's file: --file, or its default.
func clientPath(c *portability.Client, env portability.Env, file string) (string, error) {
	if file == "" {
		file = c.DefaultPath(env)
	}
	return filepath.Abs(file)
}

// gatewayPath returns the gateway's file: --config, or the default.
func gatewayPath(env portability.Env, file string) (string, error) {
	if file == "" {
		file = portability.Gateway.DefaultPath(env)
	}
	return filepath.Abs(file)
}

// gatewayOptions adjusts options for the gateway's file.
func gatewayOptions(o *portability.Options, path string) *portability.Options {
	g := *o
	g.Format = portability.FormatOf(path)
	if g.Format == portability.TOML {
		g.Format = portability.YAML
	}
	g.BaseDir = filepath.Dir(path)
	return &g
}

// lookupClient finds a client by ID; the gateway itself is not one.
func lookupClient(id string) (*portability.Client, error) {
	c, err := portability.Lookup(id)
	if err != nil {
		return nil, err
	}
	if c == portability.Gateway {
		return nil, errors.New("the gateway is not a client: name the client to import from, export to or connect")
	}
	return c, nil
}

// moveReport is what import, export and connect print with --json.
type moveReport struct {
	Source  string                `json:"source,omitempty"`
	Target  string                `json:"target"`
	DryRun  bool                  `json:"dryRun,omitempty"`
	Written bool                  `json:"written"`
	Backup  string                `json:"backup,omitempty"`
	Result  *portability.Result   `json:"result"`
	Read    []portability.Note    `json:"readNotes,omitempty"`
	Diff    string                `json:"diff,omitempty"`
	redact  *portability.Redactor `json:"-"`
}

// apply prints what an edit did and, unless dry-run, writes it.
func apply(w io.Writer, f *moveFlags, rep *moveReport, old []byte) error {
	res := rep.Result
	rep.DryRun = f.dryRun
	changed := string(res.Content) != string(old)
	if f.dryRun {
		rep.Diff = rep.redact.Redact(portability.UnifiedDiff(rep.Target, rep.Target, old, res.Content))
	} else if changed {
		backup, err := portability.WriteFile(rep.Target, res.Content, time.Now())
		rep.Backup = backup
		if err != nil {
			return fmt.Errorf("writing %s: %w", rep.Target, err)
		}
		rep.Written = true
	}
	if f.jsonOut {
		var b strings.Builder
		e2 := json.NewEncoder(&b)
		e2.SetIndent("", "  ")
		if err := e2.Encode(rep); err != nil {
			return err
		}
		_, err := io.WriteString(w, rep.redact.Redact(b.String()))
		return err
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, row := range []struct {
		what  string
		names []string
	}{
		{"added", res.Added}, {"replaced", res.Replaced}, {"unchanged", res.Unchanged},
		{"conflict", res.Conflicts}, {"skipped", res.Skipped}, {"input added", res.Inputs},
	} {
		if len(row.names) > 0 {
			fmt.Fprintf(tw, "  %s\t%s\n", row.what, strings.Join(row.names, ", "))
		}
	}
	tw.Flush()
	if b.Len() == 0 {
		b.WriteString("  no servers\n")
	}
	for _, n := range append(rep.Read, res.Notes...) {
		fmt.Fprintf(&b, "%s: %s\n", n.Level, n)
	}
	if len(res.Conflicts) > 0 {
		fmt.Fprintf(&b, "%d %s kept as %s: rerun with --replace to overwrite\n", len(res.Conflicts), plural(len(res.Conflicts), "entry", "entries"), plural(len(res.Conflicts), "it was", "they were"))
	}
	switch {
	case f.dryRun && rep.Diff == "":
		b.WriteString("dry run: no change\n")
	case f.dryRun:
		b.WriteString(rep.Diff)
		b.WriteString("dry run: nothing written\n")
	case rep.Written && rep.Backup != "":
		fmt.Fprintf(&b, "wrote %s (backup: %s)\n", rep.Target, rep.Backup)
	case rep.Written:
		fmt.Fprintf(&b, "wrote %s (new file)\n", rep.Target)
	default:
		fmt.Fprintf(&b, "%s: no change\n", rep.Target)
	}
	_, err := io.WriteString(w, rep.redact.Redact(b.String()))
	return err
}

func newConfigImportCmd() *cobra.Command {
	var f moveFlags
	var list, remote bool
	cmd := &cobra.Command{
		Use:   "import CLIENT",
		Short: "Copy a client's MCP servers into the gateway's configuration file",
		Long: `Read the MCP servers of a client's configuration file and add them to the
gateway's configuration file (created if missing), in the gateway's format.

Every other key of the gateway's file is kept, byte for byte where the
format allows (comments included). A server the gateway's file already has
with different settings is a conflict: it is reported and kept, unless
--replace. A backup of the file (FILE.bak-<timestamp>, mode 0600) is made
before it is replaced atomically; --dry-run prints the change as a unified
diff, secrets redacted, and writes nothing.

References are carried in the gateway's syntax (${env:VAR} becomes
${VAR}); a literal secret in env or headers (a value under a name like
TOKEN or API_KEY, or a value like "Bearer ...") becomes a reference to an
environment variable, named in a warning, unless --include-secrets copies
the value. Whatever does not carry over is reported per server and key.

CLIENT is one of the IDs of "switchboard config clients" (or --list);
server-json reads a server's MCP Registry server.json.`,
		Example: `  switchboard config import claude-desktop --dry-run
  switchboard config import cursor --config switchboard.yaml
  switchboard config import vscode --file .vscode/mcp.json --server github
  switchboard config import server-json --file server.json --remote`,
		Args: func(cmd *cobra.Command, args []string) error {
			if list {
				return cobra.NoArgs(cmd, args)
			}
			return cobra.ExactArgs(1)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if list {
				return printClients(cmd.OutOrStdout(), f.jsonOut)
			}
			c, err := lookupClient(args[0])
			if err != nil {
				return err
			}
			env := portability.CurrentEnv()
			src, err := clientPath(c, env, f.file)
			if err != nil {
				return err
			}
			data, exists, err := portability.ReadFile(src)
			if err != nil {
				return err
			}
			if !exists {
				return fmt.Errorf("%s: no such file (the %s file; --file names another)", src, c.Name)
			}
			o, err := f.options(env, src, src)
			if err != nil {
				return err
			}
			o.PreferRemote = remote
			set, readNotes, err := c.Read(data, o)
			if err != nil {
				return fmt.Errorf("%s: %w", src, err)
			}
			if set, err = set.Select(f.servers); err != nil {
				return fmt.Errorf("%s: %w", src, err)
			}
			gw, err := gatewayPath(env, f.gatewayFile)
			if err != nil {
				return err
			}
			old, _, err := portability.ReadFile(gw)
			if err != nil {
				return err
			}
			gwOpts := gatewayOptions(o, gw)
			res, err := portability.Gateway.Edit(old, set, gwOpts)
			if err != nil {
				return fmt.Errorf("%s: %w", gw, err)
			}
			rep := &moveReport{Source: src, Target: gw, Result: res, Read: readNotes,
				redact: redactorFor(c, o, data, portability.Gateway, gwOpts, old, res.Content)}
			if !f.jsonOut {
				fmt.Fprintf(cmd.OutOrStdout(), "import from %s (%s) into %s\n", c.Name, src, gw)
			}
			return apply(cmd.OutOrStdout(), &f, rep, old)
		},
	}
	f.register(cmd, true)
	cmd.Flags().StringSliceVar(&f.servers, "server", nil, "import only these servers (repeatable, or comma-separated)")
	cmd.Flags().BoolVar(&f.secrets, "include-secrets", false, "copy literal secrets as they are instead of turning them into ${VAR} references")
	cmd.Flags().BoolVar(&list, "list", false, "list the clients, their default files and whether they exist")
	cmd.Flags().BoolVar(&remote, "remote", false, "server-json: import the server's first remote rather than its first package")
	return cmd
}

// redactorFor knows the secrets of a source and a target file.
func redactorFor(src *portability.Client, so *portability.Options, srcData []byte, dst *portability.Client, do *portability.Options, contents ...[]byte) *portability.Redactor {
	r := portability.RedactorFor(dst, do, contents...)
	if src != nil {
		r2 := portability.RedactorFor(src, so, srcData)
		r.Merge(r2)
	}
	return r
}

func newConfigExportCmd() *cobra.Command {
	var f moveFlags
	cmd := &cobra.Command{
		Use:   "export CLIENT",
		Short: "Write the gateway's MCP servers into a client's configuration file",
		Long: `Write the servers of the gateway's configuration file into a client's
file, in the client's format and with its keys (context_servers for Zed,
[mcp_servers.NAME] for Codex, extensions for Goose, a list for Continue,
command arrays for opencode, serverUrl for Windsurf, ...).

Every other key of the client's file is kept, byte for byte where the
format allows (comments included); entries of the same name that differ
are reported and kept unless --replace. A backup (FILE.bak-<timestamp>,
mode 0600) is made before the file is replaced atomically; --dry-run prints
the unified diff, secrets redacted, and writes nothing.

References are written in the client's syntax (${env:VAR} for VS Code,
Cursor and Windsurf, ${VAR} for Claude Code, {env:VAR} for opencode,
${{ secrets.VAR }} for Continue, env_vars and bearer_token_env_var for
Codex, env_keys for Goose). Where the client cannot hold a reference the
key is left out with a warning, or with --include-secrets the variable's
current value is written. Servers the client cannot hold (a URL for Claude
Desktop, a disabled entry for a client without a switch) are reported:
"switchboard connect CLIENT" gives the client all of them through the
gateway instead.`,
		Example: `  switchboard config export cursor --dry-run
  switchboard config export codex --config switchboard.yaml
  switchboard config export vscode --file .vscode/mcp.json --server github`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := lookupClient(args[0])
			if err != nil {
				return err
			}
			if c.ImportOnly {
				return fmt.Errorf("%s can only be imported from", c.Name)
			}
			env := portability.CurrentEnv()
			gw, err := gatewayPath(env, f.gatewayFile)
			if err != nil {
				return err
			}
			gwData, exists, err := portability.ReadFile(gw)
			if err != nil {
				return err
			}
			if !exists {
				return fmt.Errorf("%s: no such file (the gateway's configuration; --config names another)", gw)
			}
			dst, err := clientPath(c, env, f.file)
			if err != nil {
				return err
			}
			o, err := f.options(env, dst, gw)
			if err != nil {
				return err
			}
			gwOpts := gatewayOptions(o, gw)
			set, readNotes, err := portability.Gateway.Read(gwData, gwOpts)
			if err != nil {
				return fmt.Errorf("%s: %w", gw, err)
			}
			if set, err = set.Select(f.servers); err != nil {
				return fmt.Errorf("%s: %w", gw, err)
			}
			old, _, err := portability.ReadFile(dst)
			if err != nil {
				return err
			}
			res, err := c.Edit(old, set, o)
			if err != nil {
				return fmt.Errorf("%s: %w", dst, err)
			}
			rep := &moveReport{Source: gw, Target: dst, Result: res, Read: readNotes,
				redact: redactorFor(portability.Gateway, gwOpts, gwData, c, o, old, res.Content)}
			if !f.jsonOut {
				fmt.Fprintf(cmd.OutOrStdout(), "export from %s into %s (%s)\n", gw, c.Name, dst)
			}
			return apply(cmd.OutOrStdout(), &f, rep, old)
		},
	}
	f.register(cmd, true)
	cmd.Flags().StringSliceVar(&f.servers, "server", nil, "export only these servers (repeatable, or comma-separated)")
	cmd.Flags().BoolVar(&f.secrets, "include-secrets", false, "write the current value of variables the client cannot read, and literal secrets as they are")
	return cmd
}

func newConfigClientsCmd() *cobra.Command {
	var jsonOut bool
	cmd := &cobra.Command{
		Use:   "clients",
		Short: "List the MCP clients import, export and connect know, with their files",
		Long: `List every client "config import", "config export" and "connect" know: its
ID, its file's format and the key that holds the servers, its default file
on this system and whether that file exists. See docs/portability.md for
what each format can hold.`,
		Example: `  switchboard config clients
  switchboard config clients --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return printClients(cmd.OutOrStdout(), jsonOut)
		},
	}
	cmd.Flags().BoolVar(&jsonOut, "json", false, "machine-readable output")
	return cmd
}

// clientRow is one client in "config clients".
type clientRow struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Format string `json:"format"`
	Key    string `json:"key"`
	File   string `json:"file"`
	Exists bool   `json:"exists"`
	Remote bool   `json:"remoteServers"`
	Import bool   `json:"importOnly,omitempty"`
	About  string `json:"about"`
}

func printClients(w io.Writer, jsonOut bool) error {
	env := portability.CurrentEnv()
	var rows []clientRow
	for _, c := range append(portability.Clients(), portability.Gateway) {
		p := c.DefaultPath(env)
		_, err := os.Stat(p)
		f := c.Format.String()
		if c == portability.Gateway {
			f = "yaml/json"
		}
		rows = append(rows, clientRow{ID: c.ID, Name: c.Name, Format: f, Key: c.Key, File: p, Exists: err == nil,
			Remote: c.Remote, Import: c.ImportOnly, About: c.About})
	}
	if jsonOut {
		return printJSON(w, rows)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CLIENT\tNAME\tFORMAT\tSERVERS IN\tDEFAULT FILE\tEXISTS")
	for _, r := range rows {
		exists := "no"
		if r.Exists {
			exists = "yes"
		}
		name := r.Name
		if r.Import {
			name += " (import only)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, name, r.Format, r.Key, displayPath(r.File), exists)
	}
	return tw.Flush()
}

func newConnectCmd() *cobra.Command {
	var f moveFlags
	var url, name, command string
	var stdio bool
	cmd := &cobra.Command{
		Use:   "connect CLIENT",
		Short: "Point an MCP client at the gateway",
		Long: `Add one entry to a client's configuration file that reaches the gateway,
so that the client gets every server of the gateway through it: the
gateway's URL (http://ADDR/mcp, ADDR from the gateway's file or
127.0.0.1:8080) for clients that take URLs, or, for clients that only
start processes (Claude Desktop) and with --stdio, the command
"switchboard serve --stdio --config FILE".

Every other key of the client's file is kept, byte for byte where the
format allows. An entry of the same name that differs is reported and
kept unless --replace. A backup (FILE.bak-<timestamp>, mode 0600) is made
before the file is replaced atomically; --dry-run prints the diff and
writes nothing.`,
		Example: `  switchboard connect cursor
  switchboard connect claude-desktop --config ~/.config/switchboard/config.yaml
  switchboard connect codex --url http://127.0.0.1:9090/mcp --dry-run
  switchboard connect vscode --file .vscode/mcp.json --stdio`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := lookupClient(args[0])
			if err != nil {
				return err
			}
			if c.ImportOnly {
				return fmt.Errorf("%s can only be imported from", c.Name)
			}
			if url != "" && stdio {
				return errors.New("--url and --stdio are alternatives")
			}
			if url != "" && !c.Remote {
				return fmt.Errorf("%s's file holds only servers it starts as processes: it is connected with switchboard serve --stdio (drop --url)", c.Name)
			}
			env := portability.CurrentEnv()
			gw, err := gatewayPath(env, f.gatewayFile)
			if err != nil {
				return err
			}
			gwData, gwExists, err := portability.ReadFile(gw)
			if err != nil {
				return err
			}
			if f.gatewayFile != "" && !gwExists {
				return fmt.Errorf("%s: no such file (the gateway's configuration)", gw)
			}
			dst, err := clientPath(c, env, f.file)
			if err != nil {
				return err
			}
			o, err := f.options(env, dst, "")
			if err != nil {
				return err
			}
			if url == "" {
				if url, err = portability.GatewayURL(gwData, gatewayOptions(o, gw)); err != nil {
					return fmt.Errorf("%s: %w", gw, err)
				}
			}
			if command == "" {
				command = switchboardCommand()
			}
			configArg := ""
			if gwExists {
				configArg = gw
			}
			entry := portability.ConnectEntry(name, c, url, stdio, command, configArg)
			old, _, err := portability.ReadFile(dst)
			if err != nil {
				return err
			}
			res, err := c.Edit(old, &portability.Set{Servers: []*portability.Server{entry}}, o)
			if err != nil {
				return fmt.Errorf("%s: %w", dst, err)
			}
			rep := &moveReport{Target: dst, Result: res, redact: redactorFor(nil, nil, nil, c, o, old, res.Content)}
			if !f.jsonOut {
				how := url
				if entry.Transport == portability.Stdio {
					how = strings.Join(append([]string{entry.Command}, entry.Args...), " ")
					if !gwExists {
						res.Notes = append(res.Notes, portability.Note{Level: portability.Warning, Server: name, Key: "args",
							Msg: fmt.Sprintf("no gateway configuration at %s: the gateway will run without one (the demo server); --config names the file", gw)})
					}
				}
				fmt.Fprintf(cmd.OutOrStdout(), "connect %s (%s) to the gateway: %q → %s\n", c.Name, dst, name, how)
			}
			return apply(cmd.OutOrStdout(), &f, rep, old)
		},
	}
	f.register(cmd, true)
	cmd.Flags().StringVar(&url, "url", "", "the gateway's URL (default: http://ADDR/mcp with the gateway file's addr, or 127.0.0.1:8080)")
	cmd.Flags().BoolVar(&stdio, "stdio", false, "start the gateway as a process (switchboard serve --stdio) instead of using its URL")
	cmd.Flags().StringVar(&name, "name", "switchboard", "the entry's name in the client's file")
	cmd.Flags().StringVar(&command, "command", "", "the switchboard program the client starts with --stdio (default: switchboard from PATH, else this program)")
	return cmd
}

// switchboardCommand is the program a client starts for the gateway:
// "switchboard" when that is on PATH and is this program, else this
// program's absolute path.
func switchboardCommand() string {
	exe, err := os.Executable()
	if err != nil {
		return "switchboard"
	}
	exe, _ = filepath.EvalSymlinks(exe)
	if p, err := exec.LookPath("switchboard"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil && real == exe {
			return "switchboard"
		}
	}
	return exe
}
