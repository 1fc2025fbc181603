package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/spf13/cobra"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
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
	errOut     io.Writer // the command's stderr
}

func (f *clientFlags) register(cmd *cobra.Command) {
	prev := cmd.PreRunE
	cmd.PreRunE = func(c *cobra.Command, args []string) error {
		f.errOut = c.ErrOrStderr()
		if prev != nil {
			return prev(c, args)
		}
		return nil
	}
	fl := cmd.Flags()
	fl.StringArrayVarP(&f.headers, "header", "H", nil, "extra HTTP header `NAME:VALUE` (repeatable)")
	fl.StringArrayVarP(&f.env, "env", "e", nil, "environment variable `NAME=VALUE` for a server command (repeatable)")
	fl.BoolVar(&f.inheritEnv, "inherit-env", false, "pass this process's whole environment to a server command (default: only PATH, HOME and a few more)")
	fl.DurationVar(&f.timeout, "timeout", 60*time.Second, "give up on the server after this long (0: never)")
	fl.StringVar(&f.version, "protocol-version", "", "protocol revision to request: "+strings.Join(knownRevisions(), ", ")+
		" (default "+protocol.LatestVersion+", the newest stable one; "+strings.Join(protocol.ModernVersions, ", ")+" is stateless)")
	fl.BoolVar(&f.jsonOut, "json", false, "print machine-readable JSON")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "log each request to the server, and the client's diagnostics, on stderr")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "hide the server's log messages and stderr")
}

// knownRevisions lists the protocol revisions the client speaks, newest
// first.
func knownRevisions() []string {
	return append(slices.Clone(protocol.ModernVersions), protocol.SupportedVersions...)
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
	stderr := f.stderr()
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
	if f.version != "" && !slices.Contains(knownRevisions(), f.version) {
		return nil, fmt.Errorf("--protocol-version %q: not a protocol revision; use one of %s", f.version, strings.Join(knownRevisions(), ", "))
	}
	d, err := f.dialer(t)
	if err != nil {
		return nil, err
	}
	opts := mcp.ClientOptions{}
	if extra != nil {
		opts = *extra
	}
	opts.ProtocolVersion = f.version
	if f.verbose {
		logger := slog.New(slog.NewTextHandler(f.stderr(), &slog.HandlerOptions{Level: slog.LevelDebug}))
		opts.Logger = logger
		opts.Sending = append(opts.Sending, func(next mcp.CallHandler) mcp.CallHandler {
			return func(ctx context.Context, method string, params jsontext.Value) (jsontext.Value, error) {
				start := time.Now()
				res, err := next(ctx, method, params)
				if err != nil {
					logger.Debug("request", "method", method, "took", time.Since(start).Round(time.Millisecond), "err", err)
				} else {
					logger.Debug("request", "method", method, "took", time.Since(start).Round(time.Millisecond))
				}
				return res, err
			}
		})
	}
	if opts.OnLog == nil && !f.quiet {
		opts.OnLog = func(_ context.Context, _ *mcp.ClientSession, p *protocol.LoggingMessageNotificationParams) {
			printLog(f.stderr(), p)
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
		return nil, f.explain(ctx, "connecting to "+t.String(), err)
	}
	return cs, nil
}

// explain describes the failure of what for a person: a timeout names
// --timeout, and an error the server answered with is shown by its code's
// name and its message, without the "MCP error <code>:" that some servers
// put in front of the message.
func (f *clientFlags) explain(ctx context.Context, what string, err error) error {
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil && f.timeout > 0 {
		return &explained{msg: fmt.Sprintf("%s: no answer within %v (--timeout; 0 waits without limit)", what, f.timeout), err: err}
	}
	var je *jsonrpc.Error
	if errors.As(err, &je) {
		msg := strings.TrimPrefix(je.Message, fmt.Sprintf("MCP error %d: ", je.Code))
		s := fmt.Sprintf("%s: the server answered with error %d (%s): %s", what, je.Code, errorCodeName(je.Code), msg)
		if len(je.Data) > 0 && len(je.Data) <= 200 {
			s += fmt.Sprintf(" (data: %s)", je.Data)
		}
		return &explained{msg: s, err: err}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// explained is an error with a message for people that still unwraps to
// the error it describes.
type explained struct {
	msg string
	err error
}

func (e *explained) Error() string { return e.msg }
func (e *explained) Unwrap() error { return e.err }

// errorCodeName names JSON-RPC and MCP error codes.
func errorCodeName(code int64) string {
	switch code {
	case jsonrpc.CodeParseError:
		return "parse error"
	case jsonrpc.CodeInvalidRequest:
		return "invalid request"
	case jsonrpc.CodeMethodNotFound:
		return "method not found"
	case jsonrpc.CodeInvalidParams:
		return "invalid params"
	case jsonrpc.CodeInternalError:
		return "internal error"
	case protocol.CodeResourceNotFound:
		return "resource not found"
	case protocol.CodeURLElicitationRequired:
		return "URL elicitation required"
	case protocol.CodeHeaderMismatch:
		return "header mismatch"
	case protocol.CodeMissingRequiredClientCapability:
		return "missing client capability"
	case protocol.CodeUnsupportedProtocolVersion:
		return "unsupported protocol version"
	}
	return "error"
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

// stderr returns where the command writes diagnostics and the server's
// stderr.
func (f *clientFlags) stderr() io.Writer {
	if f.errOut != nil {
		return f.errOut
	}
	return os.Stderr
}

// withTimeout applies --timeout to ctx. Explain errors with f.explain
// under the returned context, which names --timeout when it expired.
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

// isTerminal reports whether f is a terminal: a character device other
// than the null device (a command run with </dev/null has no terminal).
// Tests replace it.
var isTerminal = func(f *os.File) bool {
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	null, err := os.Stat(os.DevNull)
	return err != nil || !os.SameFile(fi, null)
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

// parseArgs turns KEY=VALUE pairs and an optional --args JSON object into
// tool arguments, the pairs taking precedence. A VALUE is read by the type
// the tool's input schema gives its property (schema may be nil):
//
//   - string: the VALUE as it is (text=42 sends "42");
//   - number, integer, boolean, null, object, array: the VALUE as JSON of
//     that type, or an error saying what was expected;
//   - several types: the first non-string one the VALUE parses as, else a
//     string if allowed;
//   - no type known (no schema, an unknown property, a $ref): JSON if the
//     VALUE is valid JSON, else a string.
//
// KEY:=VALUE sends VALUE as JSON whatever the schema says.
func parseArgs(pairs []string, argsJSON string, schema jsontext.Value) (jsontext.Value, error) {
	obj := map[string]jsontext.Value{}
	if argsJSON != "" {
		if err := json.Unmarshal([]byte(argsJSON), &obj); err != nil {
			return nil, fmt.Errorf("--args must be a JSON object: %w", err)
		}
	}
	props := schemaProperties(schema)
	for _, kv := range pairs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" || k == ":" {
			return nil, fmt.Errorf("argument %q: want KEY=VALUE (or KEY:=JSON)", kv)
		}
		if key, isJSON := strings.CutSuffix(k, ":"); isJSON {
			if !jsontext.Value(v).IsValid() || strings.TrimSpace(v) == "" {
				return nil, fmt.Errorf("argument %s:=%s: not valid JSON", key, v)
			}
			obj[key] = jsontext.Value(v)
			continue
		}
		val, err := coerceArg(k, v, schemaTypes(props[k]))
		if err != nil {
			return nil, err
		}
		obj[k] = val
	}
	if len(obj) == 0 {
		return nil, nil
	}
	return json.Marshal(obj, json.Deterministic(true))
}

// schemaProperties returns the property schemas of an object schema.
func schemaProperties(schema jsontext.Value) map[string]jsontext.Value {
	var s struct {
		Properties map[string]jsontext.Value `json:"properties"`
	}
	if len(schema) == 0 || json.Unmarshal(schema, &s) != nil {
		return nil
	}
	return s.Properties
}

// schemaTypes returns the JSON types a schema allows, from "type" (a name
// or a list), from the values of "enum" or "const", and from the
// alternatives of "anyOf" and "oneOf"; nil when it does not say.
func schemaTypes(schema jsontext.Value) []string {
	var s struct {
		Type  jsontext.Value   `json:"type"`
		Enum  []jsontext.Value `json:"enum"`
		Const jsontext.Value   `json:"const"`
		AnyOf []jsontext.Value `json:"anyOf"`
		OneOf []jsontext.Value `json:"oneOf"`
	}
	if len(schema) == 0 || json.Unmarshal(schema, &s) != nil {
		return nil
	}
	var types []string
	add := func(t string) {
		if !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	switch s.Type.Kind() {
	case '"':
		var t string
		if json.Unmarshal(s.Type, &t) == nil {
			add(t)
		}
	case '[':
		var ts []string
		if json.Unmarshal(s.Type, &ts) == nil {
			for _, t := range ts {
				add(t)
			}
		}
	}
	if len(types) > 0 {
		return types
	}
	values := s.Enum
	if len(s.Const) > 0 {
		values = append(values, s.Const)
	}
	for _, v := range values {
		switch v.Kind() {
		case '"':
			add("string")
		case '0':
			add("number")
		case 't', 'f':
			add("boolean")
		case 'n':
			add("null")
		case '{':
			add("object")
		case '[':
			add("array")
		}
	}
	for _, alt := range append(s.AnyOf, s.OneOf...) {
		sub := schemaTypes(alt)
		if sub == nil {
			return nil // an alternative of any type
		}
		for _, t := range sub {
			add(t)
		}
	}
	return types
}

// coerceArg reads the VALUE of a KEY=VALUE argument as one of types (see
// parseArgs).
func coerceArg(key, value string, types []string) (jsontext.Value, error) {
	asString := func() jsontext.Value {
		b, _ := json.Marshal(value)
		return b
	}
	if len(types) == 0 {
		if value != "" && jsontext.Value(value).IsValid() {
			return jsontext.Value(value), nil
		}
		return asString(), nil
	}
	raw := jsontext.Value(value)
	valid := strings.TrimSpace(value) != "" && raw.IsValid()
	for _, t := range types {
		ok := false
		switch t {
		case "number":
			ok = valid && raw.Kind() == '0'
		case "integer":
			ok = valid && raw.Kind() == '0' && isInteger(value)
		case "boolean":
			ok = value == "true" || value == "false"
		case "null":
			ok = value == "null"
		case "object":
			ok = valid && raw.Kind() == '{'
		case "array":
			ok = valid && raw.Kind() == '['
		}
		if ok {
			return raw, nil
		}
	}
	if slices.Contains(types, "string") {
		return asString(), nil
	}
	want := strings.Join(types, " or ")
	return nil, fmt.Errorf("argument %s: the tool wants %s, got %q (write %s:=JSON to send a JSON value as it is)", key, want, value, key)
}

// isInteger reports whether a JSON number has no fractional part (JSON
// Schema counts 1.0 as an integer).
func isInteger(n string) bool {
	f, err := strconv.ParseFloat(strings.TrimSpace(n), 64)
	return err == nil && f == math.Trunc(f)
}

func printJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v, jsontext.WithIndent("  "), json.Deterministic(true))
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}
