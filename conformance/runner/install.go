package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// suitePackage is the npm name of the official conformance suite.
const suitePackage = "@modelcontextprotocol/conformance"

// installation is a conformance directory whose npm dependencies are
// installed: the pinned node binary, the loopback preload and the suite's
// CLI entry point.
type installation struct {
	dir          string // the conformance directory (holds package.json)
	node         string // node_modules/node/bin/node
	preload      string // loopback.cjs
	entry        string // the suite's bin script
	nodeVersion  string // e.g. "v22.22.0"
	suiteVersion string // e.g. "0.1.16"
}

// packageJSON is the part of a package.json the runner reads.
type packageJSON struct {
	Name         string            `json:"name"`
	Version      string            `json:"version"`
	Dependencies map[string]string `json:"dependencies"`
	Bin          jsontext.Value    `json:"bin"`
}

func readPackageJSON(path string) (*packageJSON, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var p packageJSON
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &p, nil
}

// binPath returns the script for command name from a package.json "bin"
// field, which is either a string or an object of command → path.
func (p *packageJSON) binPath(name string) (string, error) {
	if len(p.Bin) == 0 {
		return "", errors.New("package.json has no bin entry")
	}
	switch p.Bin.Kind() {
	case '"':
		var s string
		if err := json.Unmarshal(p.Bin, &s); err != nil {
			return "", err
		}
		return s, nil
	case '{':
		var m map[string]string
		if err := json.Unmarshal(p.Bin, &m); err != nil {
			return "", err
		}
		if s, ok := m[name]; ok {
			return s, nil
		}
		return "", fmt.Errorf("package.json bin has no %q command", name)
	}
	return "", fmt.Errorf("unexpected package.json bin value %s", p.Bin)
}

// isConformanceDir reports whether dir looks like the conformance directory.
func isConformanceDir(dir string) bool {
	for _, name := range []string{"package.json", "loopback.cjs"} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.IsDir() {
			return false
		}
	}
	return true
}

// findConformanceDir locates the conformance directory: the current directory
// or a "conformance" directory in it or any parent, and failing that the
// directory above this source file (which `go run` builds from).
func findConformanceDir() (string, error) {
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			if isConformanceDir(d) {
				return d, nil
			}
			if c := filepath.Join(d, "conformance"); isConformanceDir(c) {
				return c, nil
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		if d := filepath.Dir(filepath.Dir(file)); isConformanceDir(d) {
			return d, nil
		}
	}
	return "", errors.New("cannot find the conformance directory (package.json + loopback.cjs); pass --dir")
}

// locate checks that dir has the pinned node and suite installed, at the
// versions package.json pins.
func locate(ctx context.Context, dir string) (*installation, error) {
	if dir == "" {
		d, err := findConformanceDir()
		if err != nil {
			return nil, err
		}
		dir = d
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	fix := fmt.Sprintf("run `npm ci` in %s", dir)
	pins, err := readPackageJSON(filepath.Join(dir, "package.json"))
	if err != nil {
		return nil, err
	}
	in := &installation{
		dir:     dir,
		node:    filepath.Join(dir, "node_modules", "node", "bin", "node"),
		preload: filepath.Join(dir, "loopback.cjs"),
	}
	if _, err := os.Stat(in.node); err != nil {
		return nil, fmt.Errorf("pinned node not installed (%v): %s", err, fix)
	}
	suiteDir := filepath.Join(dir, "node_modules", filepath.FromSlash(suitePackage))
	suite, err := readPackageJSON(filepath.Join(suiteDir, "package.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s not installed: %s", suitePackage, fix)
	} else if err != nil {
		return nil, err
	}
	if want := pins.Dependencies[suitePackage]; want != "" && want != suite.Version {
		return nil, fmt.Errorf("%s %s is installed but package.json pins %s: %s", suitePackage, suite.Version, want, fix)
	}
	in.suiteVersion = suite.Version
	bin, err := suite.binPath("conformance")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", suitePackage, err)
	}
	in.entry = filepath.Join(suiteDir, filepath.FromSlash(bin))
	if _, err := os.Stat(in.entry); err != nil {
		return nil, fmt.Errorf("suite entry point missing (%v): %s", err, fix)
	}

	vctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(vctx, in.node, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --version: %v: %s", in.node, err, fix)
	}
	in.nodeVersion = strings.TrimSpace(string(out))
	if want := pins.Dependencies["node"]; want != "" && "v"+want != in.nodeVersion {
		return nil, fmt.Errorf("node %s is installed but package.json pins %s: %s", in.nodeVersion, want, fix)
	}
	return in, nil
}

// env is the environment for the suite and everything it spawns: the
// caller's, with the pinned node first in PATH.
func (in *installation) env() []string {
	nodeModules := filepath.Join(in.dir, "node_modules")
	prefix := filepath.Dir(in.node) + string(os.PathListSeparator) + filepath.Join(nodeModules, ".bin")
	env := os.Environ()
	for i, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			if v != "" {
				prefix += string(os.PathListSeparator) + v
			}
			env[i] = "PATH=" + prefix
			return env
		}
	}
	return append(env, "PATH="+prefix)
}

// argv returns the command line running the suite with args.
func (in *installation) argv(args ...string) []string {
	return append([]string{in.node, "--require", in.preload, in.entry}, args...)
}

// listScenarios runs the suite's `list` command for kind ("server" or
// "client") and parses its output.
func (in *installation) listScenarios(ctx context.Context, kind string) ([]scenarioInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	argv := in.argv("list", "--"+kind)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = in.dir
	cmd.Env = in.env()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("conformance list --%s: %v\n%s", kind, err, stderr.String())
	}
	list, err := parseList(string(out), kind)
	if err != nil {
		return nil, fmt.Errorf("conformance list --%s: %w", kind, err)
	}
	return list, nil
}
