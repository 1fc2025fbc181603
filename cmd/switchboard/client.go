package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/spf13/cobra"

	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/oauthclient"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport"
	"github.com/switchboard-mcp/switchboard/transport/auto"
	"github.com/switchboard-mcp/switchboard/transport/stdio"
)

// clientFlags are the flags shared by the commands that talk to a server.
type clientFlags struct {
	headers    []string
	env        []string
	inheritEnv bool
	timeout    time.Duration
	version    string
	jsonOut    bool
	verbose    bool
	quiet      bool
}

func (f *clientFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringArrayVarP(&f.headers, "header", "H", nil, "extra HTTP header `NAME:VALUE` (repeatable)")
	fl.StringArrayVarP(&f.env, "env", "e", nil, "environment variable `NAME=VALUE` for a server command (repeatable)")
	fl.BoolVar(&f.inheritEnv, "inherit-env", false, "pass this process's whole environment to a server command (default: only PATH, HOME and a few more)")
	fl.DurationVar(&f.timeout, "timeout", 60*time.Second, "give up on the server after this long (0: never)")
	fl.StringVar(&f.version, "protocol-version", "", "protocol revision to request (default: the newest supported)")
	fl.BoolVar(&f.jsonOut, "json", false, "print machine-readable JSON")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "show debug output and the server's stderr")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "hide the server's log messages and stderr")
}

// target is what a command talks to: an http(s) URL or a command line.
type target struct {
	url     string
	command []string
}

func (t target) String() string {
	if t.url != "" {
		return t.url
	}
	return strings.Join(t.command, " ")
}

// splitTarget separates a command's own arguments from its TARGET. With
// "--", everything after it is the server command and every argument
// before it is the command's own; otherwise the first argument must be an
// http(s) URL.
func splitTarget(cmd *cobra.Command, args []string) (target, []string, error) {
	if dash := cmd.ArgsLenAtDash(); dash >= 0 {
		if dash == len(args) {
			return target{}, nil, errors.New("no server command after --")
		}
		return target{command: args[dash:]}, args[:dash], nil
	}
	if len(args) == 0 {
		return target{}, nil, errors.New("missing TARGET: an http(s):// URL, or a server command after --")
	}
	u := args[0]
	if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		return target{}, nil, fmt.Errorf("TARGET %q is not an http(s):// URL; to run a server command, put it after --, e.g.\n  %s -- npx -y @modelcontextprotocol/server-everything", u, cmd.CommandPath())
	}
	return target{url: u}, args[1:], nil
}

// dialer builds the transport for t.
func (f *clientFlags) dialer(t target) (transport.Dialer, error) {
	if t.url != "" {
		h := http.Header{}
		for _, kv := range f.headers {
			k, v, ok := strings.Cut(kv, ":")
			if !ok || strings.TrimSpace(k) == "" {
				return nil, fmt.Errorf("--header %q: want NAME:VALUE", kv)
			}
			h.Add(strings.TrimSpace(k), strings.TrimSpace(v))
		}
		opts := &auto.Options{Header: h}
		if rt, err := storedAuth(t.url); err != nil {
			return nil, err
		} else if rt != nil {
			opts.HTTPClient = &http.Client{Transport: rt}
		}
		return auto.NewHTTPDialer(t.url, opts), nil
	}
	for _, kv := range f.env {
		if !strings.Contains(kv, "=") {
			return nil, fmt.Errorf("--env %q: want NAME=VALUE", kv)
		}
	}
	var stderr io.Writer = os.Stderr
	if f.quiet {
		stderr = io.Discard
	}
	return stdio.Command(t.command[0], t.command[1:], &stdio.CommandOptions{
		Env:        f.env,
		InheritEnv: f.inheritEnv,
		Stderr:     stderr,
	}), nil
}

// connect opens a session with t, with handlers suited to a person at a
// terminal: log messages on stderr, elicitation asked on the terminal,
// sampling refused.
func (f *clientFlags) connect(ctx context.Context, t target, extra *mcp.ClientOptions) (*mcp.ClientSession, error) {
	d, err := f.dialer(t)
	if err != nil {
		return nil, err
	}
	opts := mcp.ClientOptions{}
	if extra != nil {
		opts = *extra
	}
	opts.ProtocolVersion = f.version
	if opts.OnLog == nil && !f.quiet {
		opts.OnLog = func(_ context.Context, _ *mcp.ClientSession, p *protocol.LoggingMessageNotificationParams) {
			printLog(os.Stderr, p)
		}
	}
	if opts.Elicit == nil {
		opts.Elicit = terminalElicit
		opts.ElicitURL = true
		opts.ApplyElicitDefaults = true
	}
	c := mcp.NewClient(protocol.Implementation{Name: "switchboard-cli", Version: version}, &opts)
	cs, err := c.Connect(ctx, d)
	if err != nil {
		var he *transport.HTTPError
		if errors.As(err, &he) && (he.StatusCode == http.StatusUnauthorized || he.StatusCode == http.StatusForbidden) {
			return nil, fmt.Errorf("connecting to %s: %w\nthe server needs authorization: run\n  switchboard login %s", t, err, t.url)
		}
		return nil, fmt.Errorf("connecting to %s: %w", t, err)
	}
	return cs, nil
}

// storedAuth returns an OAuth round tripper using the tokens saved by
// "switchboard login", or nil when there is no token store. It never
// starts an interactive authorization: when a new one is needed, the
// request fails with a hint to log in.
func storedAuth(serverURL string) (http.RoundTripper, error) {
	if os.Getenv(oauthclient.KeyEnv) == "" {
		dir, err := os.UserConfigDir()
		if err != nil {
			return nil, nil
		}
		if _, err := os.Stat(filepath.Join(dir, "switchboard", "tokens.enc")); err != nil {
			return nil, nil
		}
	}
	store, err := oauthclient.DefaultFileStore()
	if err != nil {
		return nil, fmt.Errorf("opening the token store: %w", err)
	}
	return oauthclient.NewTransport(nil, &oauthclient.Config{
		ServerURL:   serverURL,
		TokenStore:  store,
		RedirectURL: "http://127.0.0.1/callback",
		Authorize: func(ctx context.Context, authURL string) (*oauthclient.AuthorizationResponse, error) {
			return nil, fmt.Errorf("the server needs a new authorization: run\n  switchboard login %s", serverURL)
		},
	}), nil
}

// withTimeout applies --timeout to ctx.
func (f *clientFlags) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if f.timeout > 0 {
		return context.WithTimeout(ctx, f.timeout)
	}
	return context.WithCancel(ctx)
}

func printLog(w io.Writer, p *protocol.LoggingMessageNotificationParams) {
	var msg string
	switch d := p.Data.(type) {
	case string:
		msg = d
	default:
		b, _ := json.Marshal(d)
		msg = string(b)
	}
	if p.Logger != "" {
		fmt.Fprintf(w, "[%s] %s: %s\n", p.Level, p.Logger, msg)
	} else {
		fmt.Fprintf(w, "[%s] %s\n", p.Level, msg)
	}
}

// isTerminal reports whether f is a character device (a terminal).
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

var stdinMu sync.Mutex

// terminalElicit asks the person at the terminal to fill in an
// elicitation form, or to visit a URL.
func terminalElicit(ctx context.Context, _ *mcp.ClientSession, p *protocol.ElicitRequestParams) (*protocol.ElicitResult, error) {
	if !isTerminal(os.Stdin) || !isTerminal(os.Stderr) {
		return nil, errors.New("the server asked for user input (elicitation), but there is no terminal to ask on; run the command in a terminal")
	}
	stdinMu.Lock()
	defer stdinMu.Unlock()
	in := bufio.NewReader(os.Stdin)
	w := os.Stderr
	fmt.Fprintf(w, "\nThe server asks: %s\n", p.Message)
	if p.EffectiveMode() == protocol.ElicitModeURL {
		fmt.Fprintf(w, "Open this URL to continue: %s\nContinue? [y/N] ", p.URL)
		line, _ := in.ReadString('\n')
		if strings.HasPrefix(strings.ToLower(strings.TrimSpace(line)), "y") {
			return &protocol.ElicitResult{Action: protocol.ElicitActionAccept}, nil
		}
		return &protocol.ElicitResult{Action: protocol.ElicitActionDecline}, nil
	}
	content := map[string]any{}
	if p.RequestedSchema != nil {
		for _, name := range p.RequestedSchema.PropertyNames() {
			ps := p.RequestedSchema.Properties[name]
			for {
				fmt.Fprintf(w, "  %s%s: ", name, fieldHint(ps))
				line, err := in.ReadString('\n')
				if err != nil && line == "" {
					return &protocol.ElicitResult{Action: protocol.ElicitActionCancel}, nil
				}
				line = strings.TrimSpace(line)
				if line == "" {
					break // left out: the default applies, if any
				}
				v, err := parseField(ps, line)
				if err != nil {
					fmt.Fprintf(w, "    %v\n", err)
					continue
				}
				content[name] = v
				break
			}
		}
	}
	fmt.Fprint(w, "Send this answer? [Y/n] ")
	line, _ := in.ReadString('\n')
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(line)), "n") {
		return &protocol.ElicitResult{Action: protocol.ElicitActionDecline}, nil
	}
	return &protocol.ElicitResult{Action: protocol.ElicitActionAccept, Content: content}, nil
}

func fieldHint(ps protocol.PrimitiveSchema) string {
	switch s := ps.(type) {
	case *protocol.NumberSchema:
		return " (number)"
	case *protocol.BooleanSchema:
		return " (yes/no)"
	case protocol.EnumSchema:
		if v, ok := s.(interface{ Values() []string }); ok {
			return " (" + strings.Join(v.Values(), ", ") + ")"
		}
	}
	return ""
}

func parseField(ps protocol.PrimitiveSchema, s string) (any, error) {
	switch ps.(type) {
	case *protocol.NumberSchema:
		n, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, errors.New("want a number")
		}
		return n, nil
	case *protocol.BooleanSchema:
		switch strings.ToLower(s) {
		case "y", "yes", "true", "1":
			return true, nil
		case "n", "no", "false", "0":
			return false, nil
		}
		return nil, errors.New("want yes or no")
	case *protocol.UntitledMultiSelectEnumSchema, *protocol.TitledMultiSelectEnumSchema:
		var out []string
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out, nil
	}
	return s, nil
}

// parseArgs turns key=value pairs and an optional --args JSON object into
// tool arguments. Values that parse as JSON (numbers, true, false, null,
// objects, arrays, quoted strings) are taken as JSON; others as strings.
func parseArgs(pairs []string, argsJSON string) (jsontext.Value, error) {
	obj := map[string]jsontext.Value{}
	if argsJSON != "" {
		if err := json.Unmarshal([]byte(argsJSON), &obj); err != nil {
			return nil, fmt.Errorf("--args must be a JSON object: %w", err)
		}
	}
	for _, kv := range pairs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("argument %q: want key=value", kv)
		}
		if jsontext.Value(v).IsValid() && v != "" {
			obj[k] = jsontext.Value(v)
		} else {
			b, _ := json.Marshal(v)
			obj[k] = b
		}
	}
	if len(obj) == 0 {
		return nil, nil
	}
	return json.Marshal(obj, json.Deterministic(true))
}

func printJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v, jsontext.WithIndent("  "), json.Deterministic(true))
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}
