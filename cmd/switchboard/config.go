package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/switchboard-mcp/switchboard/gateway/config"
)

func newConfigCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Check gateway configuration files and print their JSON Schema",
		Long: `Work with the configuration file of "switchboard serve --config FILE".

The file is JSON (comments and trailing commas allowed) or YAML. Its
"mcpServers" map (or VS Code's "servers") takes the keys MCP clients
already write, so a Claude Desktop, Claude Code, Cursor, Windsurf or
VS Code file works as it is. See docs/config.md.`,
	}
	cmd.AddCommand(append([]*cobra.Command{newConfigSchemaCmd(), newConfigValidateCmd()}, portabilityConfigCmds()...)...)
	return cmd
}

func newConfigSchemaCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of the configuration file",
		Long: `Print the JSON Schema (draft 2020-12) of the gateway's configuration file,
for editor completion and validation: point a file's "$schema" key (JSON)
or a "# yaml-language-server: $schema=..." comment (YAML) at it.

The schema checks structure and types; "switchboard config validate" checks
more (environment variables, URLs, prefixes, env files).`,
		Example: `  switchboard config schema > switchboard.schema.json
  switchboard config schema | jq '.["$defs"].server.properties | keys'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := cmd.OutOrStdout().Write(config.Schema())
			return err
		},
	}
}

func newConfigValidateCmd() *cobra.Command {
	var jsonOut, raw bool
	cmd := &cobra.Command{
		Use:   "validate FILE",
		Short: "Check a configuration file and summarize it",
		Long: `Load a configuration file the way "switchboard serve --config FILE" does:
parse it, substitute ${VAR}, ${VAR:-default}, ${env:VAR}, ${input:ID},
${workspaceFolder} and ${userHome} from the current environment, and check
it.

A valid file prints a summary: the gateway's settings, and each server with
its type, the prefix of its tool and prompt names, and its command or URL.
Values of env and headers are never printed, and neither are secrets in
URLs and in arguments such as "--api-key X".

An invalid file prints every problem, one per line, as
FILE:LINE: KEY.PATH: message, and the exit status is 1.

--raw checks the file without substituting references (e.g. in CI, where
the variables are not set) and without reading env files.`,
		Example: `  switchboard config validate switchboard.yaml
  switchboard config validate ~/.cursor/mcp.json
  switchboard config validate .vscode/mcp.json --raw
  switchboard config validate "$HOME/Library/Application Support/Claude/claude_desktop_config.json" --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			file := args[0]
			cfg, err := config.Load(file, &config.LoadOptions{Raw: raw})
			var errs config.Errors
			if errors.As(err, &errs) {
				if jsonOut {
					if err := printJSON(cmd.OutOrStdout(), invalidReport(file, errs)); err != nil {
						return err
					}
				} else {
					w := cmd.ErrOrStderr()
					for _, e := range errs {
						if e.Line > 0 {
							fmt.Fprintf(w, "%s:%d: %s\n", file, e.Line, e)
						} else {
							fmt.Fprintf(w, "%s: %s\n", file, e)
						}
					}
					fmt.Fprintf(w, "%s: %d %s\n", file, len(errs), plural(len(errs), "error", "errors"))
				}
				return exitError{code: 1}
			}
			if err != nil {
				return err
			}
			if jsonOut {
				return printJSON(cmd.OutOrStdout(), validReport(file, cfg))
			}
			printSummary(cmd.OutOrStdout(), file, cfg)
			return nil
		},
	}
	cmd.Flags().BoolVar(&jsonOut, "json", false, "machine-readable output")
	cmd.Flags().BoolVar(&raw, "raw", false, "do not substitute ${...} references or read env files")
	return cmd
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// configReport is what validate --json prints.
type configReport struct {
	File    string          `json:"file"`
	Valid   bool            `json:"valid"`
	Format  string          `json:"format,omitempty"`
	Gateway *config.Gateway `json:"gateway,omitempty"`
	Servers []serverReport  `json:"servers,omitempty"`
	Errors  []errorReport   `json:"errors,omitempty"`
}

type serverReport struct {
	Name string `json:"name"`
	// Server is the entry with its secrets redacted.
	*config.Server
	// NamePrefix is what the names of the server's tools and prompts
	// start with ("" for none).
	NamePrefix string `json:"namePrefix"`
}

type errorReport struct {
	Path    string `json:"path"`
	Line    int    `json:"line,omitempty"`
	Message string `json:"message"`
}

func invalidReport(file string, errs config.Errors) configReport {
	r := configReport{File: file}
	for _, e := range errs {
		r.Errors = append(r.Errors, errorReport{Path: e.Path, Line: e.Line, Message: e.Msg})
	}
	return r
}

func validReport(file string, cfg *config.Config) configReport {
	r := configReport{File: file, Valid: true, Format: cfg.Format.String(), Gateway: &cfg.Gateway, Servers: []serverReport{}}
	for _, name := range cfg.Names() {
		r.Servers = append(r.Servers, serverReport{Name: name, Server: cfg.Servers[name].Redacted(), NamePrefix: namePrefix(cfg, name)})
	}
	return r
}

// namePrefix is what the exposed names of a server start with.
func namePrefix(cfg *config.Config, name string) string {
	if p := cfg.ServerPrefix(name); p != "" {
		return p + cfg.Gateway.Separator
	}
	return ""
}

func printSummary(w io.Writer, file string, cfg *config.Config) {
	n := len(cfg.Servers)
	fmt.Fprintf(w, "%s: valid (%s), %d %s\n", file, strings.ToUpper(cfg.Format.String()), n, plural(n, "server", "servers"))
	g := cfg.Gateway
	pings := "pings off"
	if g.PingInterval != 0 {
		pings = "ping every " + g.PingInterval.String()
	}
	fmt.Fprintf(w, "gateway %q on %s; names: prefix %s, separator %q; call timeout %s, connect timeout %s, %s\n",
		g.Name, g.Addr, g.Prefix, g.Separator, orNone(g.CallTimeout), orNone(g.ConnectTimeout), pings)
	if g.DataDir != "" {
		fmt.Fprintf(w, "data directory %s\n", g.DataDir)
	}
	if n == 0 {
		return
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVER\tTYPE\tNAMES\tTARGET\tNOTES")
	for _, name := range cfg.Names() {
		s := cfg.Servers[name].Redacted()
		names := "as is"
		if p := namePrefix(cfg, name); p != "" {
			names = p + "*"
		}
		target := s.URL
		if s.Type == config.TypeStdio {
			target = shellJoin(append([]string{s.Command}, s.Args...))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", name, s.Type, names, target, serverNotes(s))
	}
	tw.Flush()
}

func orNone(d config.Duration) string {
	if d == 0 {
		return "none"
	}
	return d.String()
}

// serverNotes lists what else a server entry sets, naming env variables
// and headers but never their values.
func serverNotes(s *config.Server) string {
	var notes []string
	if s.Disabled {
		notes = append(notes, "disabled")
	}
	if len(s.Env) > 0 {
		notes = append(notes, "env "+strings.Join(sortedKeys(s.Env), ","))
	}
	if s.EnvFile != "" {
		notes = append(notes, "envFile "+s.EnvFile)
	}
	if s.InheritEnv {
		notes = append(notes, "inherits the environment")
	}
	if s.Cwd != "" {
		notes = append(notes, "in "+s.Cwd)
	}
	if len(s.Headers) > 0 {
		notes = append(notes, "headers "+strings.Join(sortedKeys(s.Headers), ","))
	}
	if s.Session == config.SessionPerClient {
		notes = append(notes, fmt.Sprintf("per-client sessions (at most %d)", s.MaxSessions))
	}
	for _, t := range []struct {
		what string
		d    config.Duration
	}{{"timeout", s.Timeout}, {"connect timeout", s.ConnectTimeout}, {"ping every", s.PingInterval}} {
		if t.d != 0 {
			notes = append(notes, t.what+" "+t.d.String())
		}
	}
	if len(notes) == 0 {
		return "-"
	}
	return strings.Join(notes, "; ")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// shellJoin quotes words that need it, for display.
func shellJoin(words []string) string {
	out := make([]string, len(words))
	for i, w := range words {
		if w == "" || w != config.RedactedValue && strings.ContainsAny(w, " \t\n\"'\\$`|&;<>(){}*?#~") {
			w = "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
		}
		out[i] = w
	}
	return strings.Join(out, " ")
}
