package main

import (
	"context"
	"fmt"
	"io"
	"iter"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/spf13/cobra"

	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
)

const targetHelp = `TARGET is an http(s):// URL of a server (Streamable HTTP, falling back to
the legacy HTTP+SSE transport for old servers), or a server command after
"--", which is started and spoken to over stdio. A server command gets only
a minimal environment (PATH, HOME, ...) plus what --env adds, unless
--inherit-env is given.`

func newInspectCmd() *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "inspect TARGET | inspect -- COMMAND [ARGS...]",
		Short: "Show a server's info, capabilities, tools, resources and prompts",
		Long:  "Connect to a server and show what it offers.\n\n" + targetHelp,
		Example: `  switchboard inspect http://127.0.0.1:8080/mcp
  switchboard inspect -- npx -y @modelcontextprotocol/server-everything
  switchboard inspect --json -- switchboard demo everything`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if card, _ := cmd.Flags().GetBool("card"); card {
				return inspectCard(cmd, args, f.jsonOut)
			}
			t, rest, err := splitTarget(cmd, args)
			if err != nil {
				return err
			}
			if len(rest) > 0 {
				return fmt.Errorf("unexpected arguments %q", rest)
			}
			ctx, cancel := f.withTimeout(cmd.Context())
			defer cancel()
			cs, err := f.connect(ctx, t, nil)
			if err != nil {
				return err
			}
			defer cs.Close()
			rep, err := collectInspection(ctx, cs)
			if err != nil {
				return f.explain(ctx, "inspecting "+t.String(), err)
			}
			if f.jsonOut {
				return printJSON(cmd.OutOrStdout(), rep)
			}
			printInspection(cmd.OutOrStdout(), rep)
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().Bool("card", false, "show and validate the target's Server Card (a card URL, an MCP endpoint URL, or a host's AI catalog) instead of connecting")
	return cmd
}

// inspection is what inspect reports.
type inspection struct {
	ProtocolVersion   string                      `json:"protocolVersion"`
	ServerInfo        protocol.Implementation     `json:"serverInfo"`
	Capabilities      protocol.ServerCapabilities `json:"capabilities"`
	Instructions      string                      `json:"instructions,omitzero"`
	SessionID         string                      `json:"sessionId,omitzero"`
	Tools             []protocol.Tool             `json:"tools"`
	Resources         []protocol.Resource         `json:"resources"`
	ResourceTemplates []protocol.ResourceTemplate `json:"resourceTemplates"`
	Prompts           []protocol.Prompt           `json:"prompts"`
}

func collectInspection(ctx context.Context, cs *mcp.ClientSession) (*inspection, error) {
	init := cs.InitializeResult()
	rep := &inspection{
		ProtocolVersion:   init.ProtocolVersion,
		ServerInfo:        init.ServerInfo,
		Capabilities:      init.Capabilities,
		Instructions:      init.Instructions,
		SessionID:         cs.SessionID(),
		Tools:             []protocol.Tool{},
		Resources:         []protocol.Resource{},
		ResourceTemplates: []protocol.ResourceTemplate{},
		Prompts:           []protocol.Prompt{},
	}
	caps := init.Capabilities
	var err error
	if caps.Tools != nil {
		if rep.Tools, err = collect(cs.Tools(ctx), "tools"); err != nil {
			return nil, err
		}
	}
	if caps.Resources != nil {
		if rep.Resources, err = collect(cs.Resources(ctx), "resources"); err != nil {
			return nil, err
		}
		if rep.ResourceTemplates, err = collect(cs.ResourceTemplates(ctx), "resource templates"); err != nil {
			return nil, err
		}
	}
	if caps.Prompts != nil {
		if rep.Prompts, err = collect(cs.Prompts(ctx), "prompts"); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// collect gathers every item of a paginated list.
func collect[T any](seq iter.Seq2[*T, error], what string) ([]T, error) {
	out := []T{}
	for item, err := range seq {
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", what, err)
		}
		out = append(out, *item)
	}
	return out, nil
}

func firstLine(s string, max int) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len([]rune(s)) > max {
		s = string([]rune(s)[:max-1]) + "…"
	}
	return s
}

func capabilityNames(c protocol.ServerCapabilities) string {
	var names []string
	add := func(ok bool, name string) {
		if ok {
			names = append(names, name)
		}
	}
	add(c.Tools != nil, "tools")
	add(c.Resources != nil, "resources")
	add(c.Resources != nil && c.Resources.Subscribe, "subscribe")
	add(c.Prompts != nil, "prompts")
	add(c.Completions != nil, "completions")
	add(c.Logging != nil, "logging")
	add(c.Tasks != nil, "tasks")
	for k := range c.Experimental {
		names = append(names, "experimental:"+k)
	}
	if len(names) == 0 {
		return "(none)"
	}
	return strings.Join(names, ", ")
}

func printInspection(w io.Writer, r *inspection) {
	name := r.ServerInfo.Name
	if r.ServerInfo.Title != "" {
		name = r.ServerInfo.Title + " (" + r.ServerInfo.Name + ")"
	}
	fmt.Fprintf(w, "Server:        %s %s\n", name, r.ServerInfo.Version)
	fmt.Fprintf(w, "Protocol:      %s\n", r.ProtocolVersion)
	fmt.Fprintf(w, "Capabilities:  %s\n", capabilityNames(r.Capabilities))
	if r.SessionID != "" {
		fmt.Fprintf(w, "Session:       %s\n", r.SessionID)
	}
	if r.Instructions != "" {
		fmt.Fprintf(w, "Instructions:  %s\n", firstLine(r.Instructions, 100))
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	section := func(title string, n int) bool {
		fmt.Fprintf(tw, "\n%s (%d)\n", title, n)
		return n > 0
	}
	if section("TOOLS", len(r.Tools)) {
		fmt.Fprintln(tw, "  NAME\tARGUMENTS\tDESCRIPTION")
		for _, t := range r.Tools {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", t.Name, toolArgs(&t), firstLine(t.Description, 70))
		}
	}
	if section("RESOURCES", len(r.Resources)) {
		fmt.Fprintln(tw, "  URI\tNAME\tMIME TYPE")
		for _, x := range r.Resources {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", x.URI, x.Name, x.MIMEType)
		}
	}
	if section("RESOURCE TEMPLATES", len(r.ResourceTemplates)) {
		fmt.Fprintln(tw, "  URI TEMPLATE\tNAME\tDESCRIPTION")
		for _, x := range r.ResourceTemplates {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", x.URITemplate, x.Name, firstLine(x.Description, 60))
		}
	}
	if section("PROMPTS", len(r.Prompts)) {
		fmt.Fprintln(tw, "  NAME\tARGUMENTS\tDESCRIPTION")
		for _, p := range r.Prompts {
			var args []string
			for _, a := range p.Arguments {
				n := a.Name
				if !a.Required {
					n += "?"
				}
				args = append(args, n)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", p.Name, strings.Join(args, " "), firstLine(p.Description, 60))
		}
	}
	tw.Flush()
}

// toolArgs summarizes a tool's input schema: property names, "?" marking
// optional ones.
func toolArgs(t *protocol.Tool) string {
	var s struct {
		Properties map[string]any `json:"properties"`
		Required   []string       `json:"required"`
	}
	if json.Unmarshal(t.InputSchema, &s) != nil || len(s.Properties) == 0 {
		return "-"
	}
	req := map[string]bool{}
	for _, r := range s.Required {
		req[r] = true
	}
	var names []string
	for n := range s.Properties {
		if !req[n] {
			n += "?"
		}
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, " ")
}

func newCallCmd() *cobra.Command {
	var f clientFlags
	var argsJSON string
	var asTask, structured bool
	cmd := &cobra.Command{
		Use:   "call TARGET TOOL [KEY=VALUE...] | call TOOL [KEY=VALUE...] -- COMMAND [ARGS...]",
		Short: "Call a tool on a server",
		Long: `Call a tool and print its result.

Output: the result's content, as the tool wrote it for the model: text
verbatim (so the output can be piped to a file), other content summarized;
a result with only structured content prints that as JSON. --structured
prints the structured content (JSON) instead, --json the whole result. A
tool error goes to stderr, and the exit status is 1.

Arguments are KEY=VALUE pairs, read by the type the tool's input schema
gives KEY: text=42 sends the string "42" to a string property and the
number 42 to a number property; an object or array property takes JSON.
Where the schema says nothing, a VALUE that is valid JSON is sent as JSON,
anything else as a string. KEY:=VALUE always sends VALUE as JSON
(n:=42, tags:='["a","b"]', text:='"quoted"'). --args gives a whole JSON
object; KEY=VALUE pairs are added to it.

Progress notifications show as a progress bar when stderr is a terminal;
the server's log messages go to stderr. If the server asks for input
(elicitation), you are asked on the terminal.

` + targetHelp,
		Example: `  switchboard call http://127.0.0.1:8080/mcp echo text=hello
  switchboard call add a=1 b=2 -- switchboard demo everything
  switchboard call http://127.0.0.1:8080/mcp add --args '{"a":1,"b":2}' --structured
  switchboard call read_text_file path=/tmp/notes.txt -- npx -y @modelcontextprotocol/server-filesystem /tmp > notes.txt
  switchboard call count_slowly to:=3 --task -- switchboard demo everything`,
		RunE: func(cmd *cobra.Command, args []string) error {
			t, rest, err := splitTarget(cmd, args)
			if err != nil {
				return err
			}
			if len(rest) == 0 {
				return fmt.Errorf("missing TOOL name")
			}
			if structured && f.jsonOut {
				return fmt.Errorf("give one of --structured and --json")
			}
			tool := rest[0]
			if _, err := parseArgs(rest[1:], argsJSON, nil); err != nil {
				return err // malformed before connecting
			}
			ctx, cancel := f.withTimeout(cmd.Context())
			defer cancel()
			var extra *mcp.ClientOptions
			if asTask {
				// In revision 2026-07-28 tasks are an extension the client
				// declares; 2025-11-25 ignores this.
				extra = &mcp.ClientOptions{TasksExtension: true}
			}
			cs, err := f.connect(ctx, t, extra)
			if err != nil {
				return err
			}
			defer cs.Close()
			raw, err := parseArgs(rest[1:], argsJSON, toolInputSchema(ctx, cs, tool))
			if err != nil {
				return err
			}
			bar := newProgressBar(os.Stderr, !f.jsonOut && isTerminal(os.Stderr))
			pctx := mcp.WithProgress(ctx, bar.update)
			p := &protocol.CallToolRequestParams{Name: tool, Arguments: raw}
			var res *protocol.CallToolResult
			if asTask {
				res, err = cs.CallToolAsTask(pctx, p, 0, func(t *protocol.Task) {
					if !f.jsonOut && !f.quiet {
						fmt.Fprintf(f.stderr(), "task %s: %s %s\n", t.TaskID, t.Status, t.StatusMessage)
					}
				})
			} else {
				res, err = cs.CallTool(pctx, p)
			}
			bar.done()
			if err != nil {
				return f.explain(ctx, "calling "+tool, err)
			}
			out := cmd.OutOrStdout()
			switch {
			case f.jsonOut:
				if err := printJSON(out, res); err != nil {
					return err
				}
			case res.IsError:
				fmt.Fprintf(cmd.ErrOrStderr(), "%s: the tool reported an error:\n", tool)
				printContents(cmd.ErrOrStderr(), res.Content)
			case structured:
				if len(res.StructuredContent) == 0 {
					return fmt.Errorf("%s returned no structured content (without --structured its content is printed)", tool)
				}
				var v any
				if err := json.Unmarshal(res.StructuredContent, &v); err != nil {
					return fmt.Errorf("%s returned invalid structured content: %w", tool, err)
				}
				if err := printJSON(out, v); err != nil {
					return err
				}
			default:
				printToolResult(out, res)
			}
			if res.IsError {
				return exitError{code: 1}
			}
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&argsJSON, "args", "", "tool arguments as a JSON object (KEY=VALUE pairs are added to it)")
	cmd.Flags().BoolVar(&asTask, "task", false, "run the call as a task (the server must support tasks) and poll until it ends")
	cmd.Flags().BoolVar(&structured, "structured", false, "print the result's structured content (JSON) instead of its content")
	return cmd
}

// toolInputSchema returns the input schema of the named tool, or nil when
// the server does not list it (the arguments are then read without one).
func toolInputSchema(ctx context.Context, cs *mcp.ClientSession, name string) jsontext.Value {
	if cs.ServerCapabilities().Tools == nil {
		return nil
	}
	for tool, err := range cs.Tools(ctx) {
		if err != nil {
			return nil
		}
		if tool.Name == name {
			return tool.InputSchema
		}
	}
	return nil
}

// printToolResult prints a result's content: text verbatim, other blocks
// summarized; structured content as JSON when there is no content.
func printToolResult(w io.Writer, res *protocol.CallToolResult) {
	if len(res.Content) == 0 && len(res.StructuredContent) > 0 {
		var v any
		if json.Unmarshal(res.StructuredContent, &v) == nil {
			_ = printJSON(w, v)
			return
		}
	}
	printContents(w, res.Content)
}

func printContents(w io.Writer, list []protocol.Content) {
	for _, c := range list {
		switch c := c.(type) {
		case *protocol.TextContent:
			printText(w, c.Text)
		case *protocol.ImageContent:
			fmt.Fprintf(w, "[image %s, %d bytes]\n", c.MIMEType, len(c.Data))
		case *protocol.AudioContent:
			fmt.Fprintf(w, "[audio %s, %d bytes]\n", c.MIMEType, len(c.Data))
		case *protocol.ResourceLink:
			fmt.Fprintf(w, "[resource link %s %s]\n", c.URI, c.Name)
		case *protocol.EmbeddedResource:
			printResourceContents(w, c.Resource)
		default:
			_ = printJSON(w, c)
		}
	}
}

// printText writes text as it is, with a final newline if it has none.
func printText(w io.Writer, text string) {
	io.WriteString(w, text)
	if !strings.HasSuffix(text, "\n") {
		io.WriteString(w, "\n")
	}
}

func printResourceContents(w io.Writer, rc protocol.ResourceContents) {
	switch r := rc.(type) {
	case *protocol.TextResourceContents:
		printText(w, r.Text)
	case *protocol.BlobResourceContents:
		fmt.Fprintf(w, "[%s: %s, %d bytes]\n", r.URI, orDefault(r.MIMEType, "binary"), len(r.Blob))
	}
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func newReadCmd() *cobra.Command {
	var f clientFlags
	var out string
	cmd := &cobra.Command{
		Use:   "read TARGET URI | read URI -- COMMAND [ARGS...]",
		Short: "Read a resource",
		Long: `Read a resource and print its text; binary contents are summarized unless
--output writes them to a file (the first contents, text or binary; what was
written is reported on stderr).

` + targetHelp,
		Example: `  switchboard read http://127.0.0.1:8080/mcp test://static-text
  switchboard read test://static-binary -o image.png -- switchboard demo everything`,
		RunE: func(cmd *cobra.Command, args []string) error {
			t, rest, err := splitTarget(cmd, args)
			if err != nil {
				return err
			}
			if len(rest) != 1 {
				return fmt.Errorf("want exactly one URI")
			}
			ctx, cancel := f.withTimeout(cmd.Context())
			defer cancel()
			cs, err := f.connect(ctx, t, nil)
			if err != nil {
				return err
			}
			defer cs.Close()
			res, err := cs.ReadResource(ctx, rest[0])
			if err != nil {
				return f.explain(ctx, "reading "+rest[0], err)
			}
			if f.jsonOut {
				return printJSON(cmd.OutOrStdout(), res)
			}
			if out != "" {
				for _, c := range res.Contents {
					var data []byte
					var mime string
					switch r := c.(type) {
					case *protocol.BlobResourceContents:
						data, mime = r.Blob, r.MIMEType
					case *protocol.TextResourceContents:
						data, mime = []byte(r.Text), r.MIMEType
					default:
						continue
					}
					if err := os.WriteFile(out, data, 0o644); err != nil {
						return err
					}
					fmt.Fprintf(cmd.ErrOrStderr(), "wrote %d bytes (%s) to %s\n", len(data), orDefault(mime, "no MIME type"), out)
					if len(res.Contents) > 1 {
						fmt.Fprintf(cmd.ErrOrStderr(), "(the resource has %d contents; only the first was written)\n", len(res.Contents))
					}
					return nil
				}
				return fmt.Errorf("the resource has no contents")
			}
			for _, c := range res.Contents {
				printResourceContents(cmd.OutOrStdout(), c)
			}
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVarP(&out, "output", "o", "", "write the first contents to this file")
	return cmd
}

func newPromptCmd() *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "prompt TARGET NAME [KEY=VALUE...] | prompt NAME [KEY=VALUE...] -- COMMAND [ARGS...]",
		Short: "Get a prompt with arguments",
		Long:  "Render a prompt and print its messages.\n\n" + targetHelp,
		Example: `  switchboard prompt http://127.0.0.1:8080/mcp test_prompt_with_arguments arg1=a arg2=b
  switchboard prompt test_simple_prompt -- switchboard demo everything`,
		RunE: func(cmd *cobra.Command, args []string) error {
			t, rest, err := splitTarget(cmd, args)
			if err != nil {
				return err
			}
			if len(rest) == 0 {
				return fmt.Errorf("missing prompt NAME")
			}
			pargs := map[string]string{}
			for _, kv := range rest[1:] {
				k, v, ok := strings.Cut(kv, "=")
				if !ok || k == "" {
					return fmt.Errorf("argument %q: want key=value", kv)
				}
				pargs[k] = v
			}
			ctx, cancel := f.withTimeout(cmd.Context())
			defer cancel()
			cs, err := f.connect(ctx, t, nil)
			if err != nil {
				return err
			}
			defer cs.Close()
			res, err := cs.GetPrompt(ctx, rest[0], pargs)
			if err != nil {
				return f.explain(ctx, "getting prompt "+rest[0], err)
			}
			if f.jsonOut {
				return printJSON(cmd.OutOrStdout(), res)
			}
			w := cmd.OutOrStdout()
			if res.Description != "" {
				fmt.Fprintf(w, "# %s\n", res.Description)
			}
			for _, m := range res.Messages {
				fmt.Fprintf(w, "%s:\n", m.Role)
				printContents(w, []protocol.Content{m.Content})
			}
			return nil
		},
	}
	f.register(cmd)
	return cmd
}

func newCompleteCmd() *cobra.Command {
	var f clientFlags
	var prompt, resource string
	var ctxArgs []string
	cmd := &cobra.Command{
		Use:   "complete TARGET (--prompt NAME | --resource TEMPLATE) ARG [VALUE] | complete ... -- COMMAND [ARGS...]",
		Short: "Ask for completions of a prompt or resource template argument",
		Long:  "Ask the server to complete the value of an argument and print the suggestions, one per line.\n\n" + targetHelp,
		Example: `  switchboard complete http://127.0.0.1:8080/mcp --prompt test_prompt_with_arguments arg1 pa
  switchboard complete --resource 'file:///{path}' path src/ -- my-server`,
		RunE: func(cmd *cobra.Command, args []string) error {
			t, rest, err := splitTarget(cmd, args)
			if err != nil {
				return err
			}
			if (prompt == "") == (resource == "") {
				return fmt.Errorf("give exactly one of --prompt and --resource")
			}
			if len(rest) < 1 || len(rest) > 2 {
				return fmt.Errorf("want ARG and an optional VALUE")
			}
			p := &protocol.CompleteRequestParams{Argument: protocol.CompleteArgument{Name: rest[0]}}
			if len(rest) == 2 {
				p.Argument.Value = rest[1]
			}
			if prompt != "" {
				p.Ref = &protocol.PromptReference{Name: prompt}
			} else {
				p.Ref = &protocol.ResourceTemplateReference{URI: resource}
			}
			if len(ctxArgs) > 0 {
				p.Context = &protocol.CompleteContext{Arguments: map[string]string{}}
				for _, kv := range ctxArgs {
					k, v, ok := strings.Cut(kv, "=")
					if !ok {
						return fmt.Errorf("--context %q: want key=value", kv)
					}
					p.Context.Arguments[k] = v
				}
			}
			ctx, cancel := f.withTimeout(cmd.Context())
			defer cancel()
			cs, err := f.connect(ctx, t, nil)
			if err != nil {
				return err
			}
			defer cs.Close()
			res, err := cs.Complete(ctx, p)
			if err != nil {
				return f.explain(ctx, "completing "+rest[0], err)
			}
			if f.jsonOut {
				return printJSON(cmd.OutOrStdout(), res)
			}
			if len(res.Completion.Values) == 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "no completions for %s=%q\n", rest[0], p.Argument.Value)
				return nil
			}
			for _, v := range res.Completion.Values {
				fmt.Fprintln(cmd.OutOrStdout(), v)
			}
			if res.Completion.HasMore {
				fmt.Fprintf(cmd.ErrOrStderr(), "(more completions exist than the %d shown)\n", len(res.Completion.Values))
			}
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&prompt, "prompt", "", "complete an argument of this prompt")
	cmd.Flags().StringVar(&resource, "resource", "", "complete a variable of this resource template")
	cmd.Flags().StringArrayVar(&ctxArgs, "context", nil, "an already-resolved argument `KEY=VALUE` (repeatable)")
	return cmd
}

// progressBar draws progress notifications on a terminal.
type progressBar struct {
	w       io.Writer
	enabled bool
	drawn   bool
	last    time.Time
}

func newProgressBar(w io.Writer, enabled bool) *progressBar {
	return &progressBar{w: w, enabled: enabled}
}

func (b *progressBar) update(p *protocol.ProgressNotificationParams) {
	if !b.enabled {
		return
	}
	const width = 30
	line := ""
	if p.Total > 0 {
		frac := min(max(p.Progress/p.Total, 0), 1)
		n := int(frac * width)
		line = fmt.Sprintf("[%s%s] %3.0f%%", strings.Repeat("#", n), strings.Repeat(".", width-n), frac*100)
	} else {
		line = fmt.Sprintf("[%g]", p.Progress)
	}
	if p.Message != "" {
		line += " " + firstLine(p.Message, 40)
	}
	fmt.Fprintf(b.w, "\r\033[K%s", line)
	b.drawn = true
}

func (b *progressBar) done() {
	if b.drawn {
		fmt.Fprint(b.w, "\r\033[K")
	}
}
