package doccheck

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport"
	"github.com/switchboard-mcp/switchboard/transport/stdio"
)

// root is the repository root, relative to this package's directory.
const root = "../.."

// knownImports maps the package names the documentation uses without an
// import declaration to their import paths.
var knownImports = map[string]string{
	"context":      "context",
	"errors":       "errors",
	"fmt":          "fmt",
	"io":           "io",
	"log":          "log",
	"slog":         "log/slog",
	"http":         "net/http",
	"os":           "os",
	"signal":       "os/signal",
	"strings":      "strings",
	"testing":      "testing",
	"time":         "time",
	"jsontext":     "github.com/go-json-experiment/json/jsontext",
	"mcp":          "github.com/switchboard-mcp/switchboard/mcp",
	"protocol":     "github.com/switchboard-mcp/switchboard/protocol",
	"jsonrpc":      "github.com/switchboard-mcp/switchboard/jsonrpc",
	"jsonschema":   "github.com/switchboard-mcp/switchboard/jsonschema",
	"transport":    "github.com/switchboard-mcp/switchboard/transport",
	"streamable":   "github.com/switchboard-mcp/switchboard/transport/streamable",
	"sse":          "github.com/switchboard-mcp/switchboard/transport/sse",
	"stdio":        "github.com/switchboard-mcp/switchboard/transport/stdio",
	"auto":         "github.com/switchboard-mcp/switchboard/transport/auto",
	"auth":         "github.com/switchboard-mcp/switchboard/auth",
	"authserver":   "github.com/switchboard-mcp/switchboard/authserver",
	"oauthclient":  "github.com/switchboard-mcp/switchboard/oauthclient",
	"gateway":      "github.com/switchboard-mcp/switchboard/gateway",
	"store":        "github.com/switchboard-mcp/switchboard/store",
	"console":      "github.com/switchboard-mcp/switchboard/gateway/console",
	"apps":         "github.com/switchboard-mcp/switchboard/apps",
	"appstest":     "github.com/switchboard-mcp/switchboard/apps/appstest",
	"tenants":      "github.com/switchboard-mcp/switchboard/tenants",
	"pins":         "github.com/switchboard-mcp/switchboard/pins",
	"policy":       "github.com/switchboard-mcp/switchboard/policy",
	"limits":       "github.com/switchboard-mcp/switchboard/limits",
	"toolsearch":   "github.com/switchboard-mcp/switchboard/toolsearch",
	"identity":     "github.com/switchboard-mcp/switchboard/identity",
	"audit":        "github.com/switchboard-mcp/switchboard/audit",
	"usage":        "github.com/switchboard-mcp/switchboard/usage",
	"telemetry":    "github.com/switchboard-mcp/switchboard/telemetry",
	"registry":     "github.com/switchboard-mcp/switchboard/registry",
	"servercard":   "github.com/switchboard-mcp/switchboard/servercard",
	"upstreamauth": "github.com/switchboard-mcp/switchboard/gateway/upstreamauth",
}

// block is a Go code block of a Markdown file.
type block struct {
	file     string // relative to the repository root
	line     int    // line of the block's first code line
	code     string
	context  string // declarations from a preceding <!-- doccheck ... --> comment
	fragment string // the reason given by <!-- doccheck: fragment ... -->, if any
	embed    string // the directory named by <!-- doccheck: embed DIR -->, if any
}

func (b *block) String() string { return fmt.Sprintf("%s:%d", b.file, b.line) }

// complete reports whether the block is a whole file.
func (b *block) complete() bool {
	for _, l := range strings.Split(b.code, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "//") {
			continue
		}
		return strings.HasPrefix(l, "package ")
	}
	return false
}

// extract returns the Go code blocks of a Markdown file.
func extract(t *testing.T, rel string) []*block {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	var out []*block
	var comment string // the HTML comment right before the current line, if any
	for i := 0; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		switch {
		case l == "":
			continue
		case strings.HasPrefix(l, "<!--"):
			var text []string
			for ; i < len(lines); i++ {
				text = append(text, lines[i])
				if strings.Contains(lines[i], "-->") {
					break
				}
			}
			comment = strings.Join(text, "\n")
			comment = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(comment), "<!--")), "-->"))
			continue
		case strings.HasPrefix(l, "```"):
			lang := strings.TrimSpace(strings.TrimPrefix(l, "```"))
			start := i + 1
			for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
			}
			if lang == "go" {
				b := &block{file: rel, line: start + 1, code: strings.Join(lines[start:min(i, len(lines))], "\n")}
				if rest, ok := strings.CutPrefix(comment, "doccheck"); ok {
					if dir, ok := strings.CutPrefix(strings.TrimSpace(rest), ": embed"); ok {
						b.embed = strings.TrimSpace(dir)
					} else if reason, ok := strings.CutPrefix(strings.TrimSpace(rest), ": fragment"); ok {
						b.fragment = strings.TrimSpace(reason)
						if b.fragment == "" {
							b.fragment = "(no reason given)"
						}
					} else {
						b.context = rest
					}
				}
				out = append(out, b)
			}
		}
		comment = ""
	}
	return out
}

func docFiles(t *testing.T) []string {
	t.Helper()
	files := []string{"README.md"}
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		files = append(files, filepath.Join("docs", filepath.Base(d)))
	}
	return files
}

var (
	elidedBody = regexp.MustCompile(`\{ (\.\.\.|…) \}`)
	elidedLine = regexp.MustCompile(`(?m)^(\s*)(\.\.\.|…)\s*$`)
)

// source returns the Go file a block is checked as, with //line
// directives pointing into the Markdown file, and the import paths it
// uses.
func source(b *block) (string, []string, error) {
	code := elidedBody.ReplaceAllString(b.code, `{ panic("elided") }`)
	code = elidedLine.ReplaceAllString(code, `${1}panic("elided")`)
	lineDirective := fmt.Sprintf("//line %s:%d\n", b.file, b.line)
	if b.complete() {
		f, err := parser.ParseFile(token.NewFileSet(), "doc.go", code, parser.ImportsOnly)
		if err != nil {
			return "", nil, err
		}
		var paths []string
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			paths = append(paths, p)
		}
		return lineDirective + code, paths, nil
	}
	// Declarations only, or a function body?
	var body string
	decls := "package doc\n" + b.context + "\n" + lineDirective + code + "\n"
	fset := token.NewFileSet()
	if _, err := parser.ParseFile(fset, "doc.go", decls, 0); err == nil {
		body = b.context + "\n" + lineDirective + code + "\n"
	} else {
		body = b.context + "\nfunc _() {\n" + lineDirective + code + "\n}\n"
	}
	f, err := parser.ParseFile(fset, "doc.go", "package doc\n"+body, 0)
	if err != nil {
		return "", nil, err
	}
	used := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok && slices.Contains(f.Unresolved, id) {
				if _, known := knownImports[id.Name]; known {
					used[id.Name] = true
				}
			}
		}
		return true
	})
	var imports strings.Builder
	var paths []string
	for name := range used {
		p := knownImports[name]
		fmt.Fprintf(&imports, "import %s %q\n", name, p)
		paths = append(paths, p)
	}
	return "package doc\n" + imports.String() + body, paths, nil
}

// goTool returns the go command of the running toolchain.
func goTool() string {
	if p := filepath.Join(runtime.GOROOT(), "bin", "go"); fileExists(p) {
		return p
	}
	return "go"
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// exportData compiles the packages (and their dependencies) and returns
// the export data file of each, for the type checker.
func exportData(t *testing.T, paths []string) map[string]string {
	t.Helper()
	cmd := exec.Command(goTool(), append([]string{"list", "-export", "-deps", "-f", "{{.ImportPath}}\t{{.Export}}"}, paths...)...)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -export: %v\n%s", err, stderr.String())
	}
	m := map[string]string{}
	for _, l := range strings.Split(string(out), "\n") {
		if p, file, ok := strings.Cut(l, "\t"); ok && file != "" {
			m[p] = file
		}
	}
	return m
}

// TestDocsCompile type-checks every Go code block of README.md and
// docs/*.md, as the compiler would (only unused variables and imports are
// accepted, since snippets often stop short of using what they make).
func TestDocsCompile(t *testing.T) {
	type checked struct {
		b     *block
		src   string
		paths []string
	}
	var all []checked
	var fragments []string
	pathSet := map[string]bool{}
	for _, file := range docFiles(t) {
		for _, b := range extract(t, file) {
			if b.fragment != "" {
				fragments = append(fragments, fmt.Sprintf("%s %s", b, b.fragment))
				continue
			}
			src, paths, err := source(b)
			if err != nil {
				t.Errorf("%s: does not parse: %v", b, err)
				continue
			}
			for _, p := range paths {
				pathSet[p] = true
			}
			all = append(all, checked{b, src, paths})
		}
	}
	if len(all) == 0 {
		t.Fatal("no Go code blocks found")
	}
	if len(fragments) > 0 {
		t.Logf("fragments, not compiled:\n  %s", strings.Join(fragments, "\n  "))
	}
	if len(fragments) > 3 {
		t.Errorf("%d blocks are marked as fragments; keep them rare (make them compile with a <!-- doccheck ... --> context instead)", len(fragments))
	}
	var paths []string
	for p := range pathSet {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	exports := exportData(t, paths)
	for _, c := range all {
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, "doc.go", c.src, parser.ParseComments)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		imp := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
			file, ok := exports[path]
			if !ok {
				return nil, fmt.Errorf("no export data for %q", path)
			}
			return os.Open(file)
		})
		var errs []string
		conf := types.Config{Importer: imp, Error: func(err error) {
			if te, ok := err.(types.Error); ok && (strings.Contains(te.Msg, "declared and not used") || strings.Contains(te.Msg, "imported and not used")) {
				return
			}
			errs = append(errs, err.Error())
		}}
		conf.Check("doc", fset, []*ast.File{f}, nil)
		if len(errs) > 0 {
			t.Errorf("%s does not compile:\n  %s\nas checked:\n%s", c.b, strings.Join(errs, "\n  "), numbered(c.src))
		}
	}
}

func numbered(src string) string {
	var b strings.Builder
	for i, l := range strings.Split(src, "\n") {
		fmt.Fprintf(&b, "%4d  %s\n", i+1, l)
	}
	return b.String()
}

// TestDocsStdioServers builds every complete program of the documentation
// that serves over stdio, and runs it as a client would: initialize, list
// the tools, close standard input. The program must then exit with status
// 0 and print nothing on standard error.
func TestDocsStdioServers(t *testing.T) {
	n := 0
	for _, file := range docFiles(t) {
		for _, b := range extract(t, file) {
			if b.fragment != "" || !b.complete() || !strings.Contains(b.code, "package main") || !strings.Contains(b.code, "ServeStdio(") {
				continue
			}
			n++
			t.Run(strings.ReplaceAll(b.String(), "/", "_"), func(t *testing.T) { runStdioServer(t, b) })
		}
	}
	if n == 0 {
		t.Fatal("no complete stdio server program in the documentation (the README has one)")
	}
}

func runStdioServer(t *testing.T, b *block) {
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, []byte(b.code), 0o644); err != nil {
		t.Fatal(err)
	}
	// Build it as a package of this module, without writing into the
	// source tree: an overlay adds the file to a directory that does not
	// exist.
	abs, err := filepath.Abs(filepath.Join(root, "internal", "doccheck", "program"))
	if err != nil {
		t.Fatal(err)
	}
	replace := map[string]string{filepath.Join(abs, "main.go"): src}
	if b.embed != "" {
		// The files the program embeds (//go:embed) come from the
		// directory the comment names, the program's real home.
		from, err := filepath.Abs(filepath.Join(root, b.embed))
		if err != nil {
			t.Fatal(err)
		}
		files, err := os.ReadDir(from)
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: <!-- doccheck: embed %s -->: %v", b, b.embed, err)
		}
		for _, f := range files {
			if !f.IsDir() && !strings.HasSuffix(f.Name(), ".go") {
				replace[filepath.Join(abs, f.Name())] = filepath.Join(from, f.Name())
			}
		}
	}
	spec, err := json.Marshal(map[string]any{"Replace": replace})
	if err != nil {
		t.Fatal(err)
	}
	overlay := filepath.Join(dir, "overlay.json")
	if err := os.WriteFile(overlay, spec, 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "program")
	build := exec.Command(goTool(), "build", "-overlay", overlay, "-o", bin, "./internal/doccheck/program")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("%s does not build: %v\n%s", b, err, out)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stderr syncBuffer
	d := &capture{Dialer: stdio.Command(bin, nil, &stdio.CommandOptions{Stderr: &stderr})}
	cs, err := mcp.NewClient(protocol.Implementation{Name: "doccheck", Version: "1"}, nil).Connect(ctx, d)
	if err != nil {
		t.Fatalf("%s: connect: %v", b, err)
	}
	for _, err := range cs.Tools(ctx) {
		if err != nil {
			t.Fatalf("%s: tools/list: %v", b, err)
		}
	}
	if err := cs.Close(); err != nil {
		t.Errorf("%s: close: %v", b, err)
	}
	st := d.conn.ProcessState()
	if st == nil || st.ExitCode() != 0 || stderr.String() != "" {
		t.Errorf("%s: after the client closed standard input the program ended with %v and printed on stderr:\n%s\nwant status 0 and no output (a normal disconnect is not an error)", b, st, stderr.String())
	}
}

// capture is a Dialer that keeps the stdio connection it makes, to read
// the process's exit status after Close.
type capture struct {
	transport.Dialer
	conn *stdio.ClientConn
}

func (c *capture) Dial(ctx context.Context) (transport.ClientConn, error) {
	conn, err := c.Dialer.Dial(ctx)
	if sc, ok := conn.(*stdio.ClientConn); ok {
		c.conn = sc
	}
	return conn, err
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
