// Command runner drives the pinned official MCP conformance suite
// (@modelcontextprotocol/conformance, installed by `npm ci` in conformance/)
// against a server or a client, one scenario at a time, and counts results by
// scenario rather than by check.
//
// Usage:
//
//	go run ./conformance/runner server --url http://127.0.0.1:PORT/mcp [flags]
//	go run ./conformance/runner client --command "CMD" [flags]
//
// Server mode runs every server scenario that `conformance list --server`
// reports (or those named by --scenario / --suite-filter); client mode runs
// the client scenarios outside auth/ by default, and auth/* too with --auth.
// Each scenario runs as its own suite process, in its own process group, under
// the loopback preload, writing into its own directory under --out. The
// runner reads every checks.json and classifies each scenario:
//
//	PASS  no FAILURE, no WARNING, at least one SUCCESS
//	WARN  no FAILURE, some WARNING (server mode; in client mode a WARNING fails)
//	SKIP  no SUCCESS, FAILURE or WARNING checks
//	FAIL  any FAILURE, a non-zero suite exit, a timeout or missing results
//
// It prints a table, writes DIR/summary.json and exits 1 when a scenario
// failed (or, with --fail-on-skip, was skipped), when the number of scenarios
// run differs from --expect, or when the run was interrupted; 2 on usage or
// setup errors.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// options are the flags common to both modes plus each mode's own.
type options struct {
	mode          string
	url           string // server mode
	command       string // client mode
	auth          bool   // client mode
	clientTimeout time.Duration
	scenarios     stringList
	filters       stringList
	out           string
	dir           string
	expect        int
	timeout       time.Duration
	failOnSkip    bool
	verbose       bool
}

const usage = `usage:
  runner server --url URL [--scenario S]... [--suite-filter PREFIX,...] [--expect N] [--out DIR] [--timeout D] [--fail-on-skip]
  runner client --command CMD [--scenario S]... [--suite-filter PREFIX,...] [--auth] [--expect N] [--out DIR] [--timeout D] [--client-timeout D] [--fail-on-skip]
`

// run is main without the process exit, for tests.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "server" && args[0] != "client") {
		fmt.Fprint(stderr, usage)
		return 2
	}
	opts, err := parseFlags(args[0], args[1:], stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "runner: %v\n", err)
		return 2
	}
	in, err := locate(ctx, opts.dir)
	if err != nil {
		fmt.Fprintf(stderr, "runner: %v\n", err)
		return 2
	}
	s, err := runScenarios(ctx, in, opts, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "runner: %v\n", err)
		return 2
	}
	if !s.OK {
		return 1
	}
	return 0
}

func parseFlags(mode string, args []string, stderr io.Writer) (*options, error) {
	opts := &options{mode: mode}
	fs := flag.NewFlagSet(mode, flag.ContinueOnError)
	fs.SetOutput(stderr)
	switch mode {
	case "server":
		fs.StringVar(&opts.url, "url", "", "Streamable HTTP `URL` of the server under test (required)")
	case "client":
		fs.StringVar(&opts.command, "command", "", "`command` running the client under test; the suite appends the server URL (required)")
		fs.BoolVar(&opts.auth, "auth", false, "also run the auth/* scenarios")
		fs.DurationVar(&opts.clientTimeout, "client-timeout", 30*time.Second, "the suite's own timeout for one client run (its --timeout)")
	}
	fs.Var(&opts.scenarios, "scenario", "run this scenario (repeatable; comma-separated lists allowed)")
	fs.Var(&opts.filters, "suite-filter", "run the scenarios whose names start with these `prefixes` (repeatable; comma-separated)")
	fs.StringVar(&opts.out, "out", "", "results `directory` (must be empty or absent; default a new conformance/results/MODE-TIMESTAMP-N)")
	fs.StringVar(&opts.dir, "dir", "", "the conformance `directory` holding package.json and node_modules (default: found from the working directory)")
	fs.IntVar(&opts.expect, "expect", -1, "number of scenarios the run must execute (default: the pinned suite's count for a default selection, else the number selected)")
	fs.DurationVar(&opts.timeout, "timeout", 60*time.Second, "per-scenario limit; the suite's whole process group is killed after it")
	fs.BoolVar(&opts.failOnSkip, "fail-on-skip", false, "fail the run when a scenario yields no SUCCESS, FAILURE or WARNING check")
	fs.BoolVar(&opts.verbose, "v", false, "print each scenario's suite output")
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	switch {
	case mode == "server" && opts.url == "":
		return nil, errors.New("server mode needs --url")
	case mode == "client" && strings.TrimSpace(opts.command) == "":
		return nil, errors.New("client mode needs --command")
	case opts.timeout <= 0:
		return nil, errors.New("--timeout must be positive")
	case mode == "client" && (opts.clientTimeout <= 0 || opts.clientTimeout >= opts.timeout):
		return nil, errors.New("--client-timeout must be positive and shorter than --timeout")
	}
	return opts, nil
}

// runScenarios lists, selects and runs the scenarios, prints the report and
// writes summary.json. An error means the run could not be set up.
func runScenarios(ctx context.Context, in *installation, opts *options, stdout, stderr io.Writer) (*summary, error) {
	catalog, err := in.listScenarios(ctx, opts.mode)
	if err != nil {
		return nil, err
	}
	sel := selection{names: splitList(opts.scenarios), prefixes: splitList(opts.filters), auth: opts.auth}
	selected, err := selectScenarios(catalog, sel, opts.mode)
	if err != nil {
		return nil, err
	}
	expect := opts.expect
	if expect < 0 {
		expect = defaultExpect(sel, opts.mode, len(selected))
	}

	out := opts.out
	if out == "" {
		// A fresh directory per run, even for runs started in the same second.
		results := filepath.Join(in.dir, "results")
		if err := os.MkdirAll(results, 0o755); err != nil {
			return nil, err
		}
		if out, err = os.MkdirTemp(results, opts.mode+"-"+time.Now().Format("20060102-150405")+"-"); err != nil {
			return nil, err
		}
	} else if err := prepareOutDir(out); err != nil {
		return nil, err
	}
	out, err = filepath.Abs(out)
	if err != nil {
		return nil, err
	}

	s := &summary{
		Mode:         opts.mode,
		Target:       opts.url + opts.command,
		SuiteVersion: in.suiteVersion,
		NodeVersion:  in.nodeVersion,
		Expected:     expect,
		FailOnSkip:   opts.failOnSkip,
		Scenarios:    []scenarioReport{},
	}
	fmt.Fprintf(stderr, "conformance %s (node %s): %d %s scenarios of %d listed, against %s; results in %s\n",
		in.suiteVersion, in.nodeVersion, len(selected), opts.mode, len(catalog), s.Target, out)

	env := in.env()
	for i, sc := range selected {
		if ctx.Err() != nil {
			s.Interrupted = true
			break
		}
		fmt.Fprintf(stderr, "[%d/%d] %s ... ", i+1, len(selected), sc.Name)
		rep, canceled := runOne(ctx, in, opts, env, out, sc)
		if canceled {
			// An interrupted scenario is not counted as run.
			fmt.Fprintln(stderr, "interrupted")
			s.Interrupted = true
			break
		}
		fmt.Fprintf(stderr, "%s (%.1fs)\n", rep.Result, float64(rep.DurationMS)/1000)
		if opts.verbose {
			if data, err := os.ReadFile(rep.SuiteLog); err == nil {
				stderr.Write(data)
			}
		}
		s.Scenarios = append(s.Scenarios, rep)
	}
	s.tally()
	fmt.Fprintln(stdout)
	s.printTable(stdout)
	path := filepath.Join(out, "summary.json")
	if err := s.writeJSON(path); err != nil {
		return nil, err
	}
	fmt.Fprintf(stderr, "summary: %s\n", path)
	return s, nil
}

// prepareOutDir creates dir, which must not already hold files.
func prepareOutDir(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return os.MkdirAll(dir, 0o755)
	case err != nil:
		return err
	case len(entries) > 0:
		return fmt.Errorf("output directory %s is not empty", dir)
	}
	return nil
}

// scenarioDirName turns a scenario name (auth/... has a slash) into one path
// element.
func scenarioDirName(name string) string {
	return strings.NewReplacer("/", "_", `\`, "_").Replace(name)
}

// runOne runs one scenario and classifies it. canceled reports that ctx ended
// while it ran.
func runOne(ctx context.Context, in *installation, opts *options, env []string, out string, sc scenarioInfo) (scenarioReport, bool) {
	dir := filepath.Join(out, scenarioDirName(sc.Name))
	rep := scenarioReport{
		Name:         sc.Name,
		SpecVersions: sc.SpecVersions,
		SuiteLog:     filepath.Join(dir, "suite.log"),
	}
	var o outcome
	var canceled bool
	if err := os.MkdirAll(dir, 0o755); err != nil {
		o.runErr = err
	} else if logFile, err := os.Create(rep.SuiteLog); err != nil {
		o.runErr = err
	} else {
		var args []string
		if opts.mode == "server" {
			args = []string{"server", "--url", opts.url, "--scenario", sc.Name, "-o", dir}
		} else {
			args = []string{"client", "--command", opts.command, "--scenario", sc.Name,
				"--timeout", strconv.FormatInt(opts.clientTimeout.Milliseconds(), 10), "-o", dir}
		}
		g := runGroup(ctx, in.argv(args...), env, in.dir, logFile, opts.timeout)
		logFile.Close()
		canceled = g.canceled
		o.exitCode, o.timedOut, o.runErr = g.exitCode, g.timedOut, g.err
		rep.DurationMS = g.duration.Milliseconds()
		if o.runErr == nil && !o.timedOut {
			o.checks, rep.ChecksFile, o.checksErr = readChecks(dir)
			if opts.mode == "client" {
				o.clientLog = clientStatus(rep.SuiteLog)
			}
		}
	}
	rep.ExitCode, rep.TimedOut = o.exitCode, o.timedOut
	rep.Counts = countChecks(o.checks)
	rep.Failures = refs(o.checks, statusFailure)
	rep.Warnings = refs(o.checks, statusWarning)
	rep.Result, rep.Notes = classify(opts.mode, o)
	rep.Client = o.clientLog
	return rep, canceled
}

var (
	clientExitRE    = regexp.MustCompile(`Client exited with code (-?\d+)`)
	clientTimeoutRE = regexp.MustCompile(`Client timed out after (\d+)ms`)
)

// clientStatus extracts from the suite's log what it said about the client
// process: its exit code or its timeout. Those lines are the only record of
// them: checks.json does not include them.
func clientStatus(logPath string) string {
	data, err := os.ReadFile(logPath)
	if err != nil {
		return ""
	}
	var parts []string
	if m := clientExitRE.FindSubmatch(data); m != nil {
		parts = append(parts, "client exited with code "+string(m[1]))
	}
	if m := clientTimeoutRE.FindSubmatch(data); m != nil {
		parts = append(parts, "client timed out after "+string(m[1])+"ms")
	}
	return strings.Join(parts, "; ")
}
