package interop

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

var updateDocFlag = flag.Bool("update-doc", false, "rewrite the result tables in ../docs/interop.md after the run")

// bins holds the paths of the programs TestMain builds.
var bins struct {
	switchboard string // ../cmd/switchboard
	gosdkServer string // ./cmd/gosdk-server
	mcpgoServer string // ./cmd/mcpgo-server
	err         error  // a build failure: every test that needs a binary fails with it
}

// conformanceDir is ../conformance, where the pinned Node and the npm
// packages (TypeScript SDK, server-everything) live.
var conformanceDir string

func TestMain(m *testing.M) {
	flag.Parse()
	// The tests mostly wait on other processes (and the demo's 5 s update
	// timer), so run more of them at once than -parallel's default of
	// GOMAXPROCS, unless -parallel was given.
	parallelSet := false
	flag.Visit(func(f *flag.Flag) { parallelSet = parallelSet || f.Name == "test.parallel" })
	if !parallelSet {
		_ = flag.Set("test.parallel", "12")
	}
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "switchboard-interop-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "interop:", err)
		return 1
	}
	defer os.RemoveAll(tmp)

	if dir, err := filepath.Abs("../conformance"); err == nil {
		conformanceDir = dir
	}

	start := time.Now()
	bins.switchboard = filepath.Join(tmp, "switchboard")
	bins.gosdkServer = filepath.Join(tmp, "gosdk-server")
	bins.mcpgoServer = filepath.Join(tmp, "mcpgo-server")
	builds := []struct{ out, pkg, dir string }{
		{bins.gosdkServer, "./cmd/gosdk-server", "."},
		{bins.mcpgoServer, "./cmd/mcpgo-server", "."},
	}
	// SWITCHBOARD_BIN names a prebuilt switchboard binary to test instead
	// of building ../cmd/switchboard (say, one built from another commit).
	if prebuilt := os.Getenv("SWITCHBOARD_BIN"); prebuilt != "" {
		bins.switchboard = prebuilt
	} else {
		builds = append(builds, struct{ out, pkg, dir string }{bins.switchboard, "./cmd/switchboard", ".."})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, len(builds))
	for i, b := range builds {
		wg.Go(func() {
			cmd := exec.CommandContext(ctx, "go", "build", "-o", b.out, b.pkg)
			cmd.Dir = b.dir
			if out, err := cmd.CombinedOutput(); err != nil {
				errs[i] = fmt.Errorf("go build %s: %v\n%s", b.pkg, err, out)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			bins.err = err
			fmt.Fprintln(os.Stderr, "interop:", err)
			break
		}
	}
	if testing.Verbose() {
		fmt.Fprintf(os.Stderr, "interop: built test binaries in %v\n", time.Since(start).Round(time.Millisecond))
	}

	code := m.Run()
	if *updateDocFlag {
		if err := updateDoc("../docs/interop.md", "A", "B", "A26", "B26"); err != nil {
			fmt.Fprintln(os.Stderr, "interop: -update-doc:", err)
			if code == 0 {
				code = 1
			}
		} else {
			fmt.Fprintln(os.Stderr, "interop: wrote ../docs/interop.md")
		}
	}
	return code
}

// needBins fails t when TestMain could not build the test programs.
func needBins(t testing.TB) {
	t.Helper()
	if bins.err != nil {
		t.Fatal(bins.err)
	}
}

// nodeBin returns the pinned Node binary, or "" with the reason it is
// unusable.
func nodeBin() (string, string) {
	node := filepath.Join(conformanceDir, "node_modules", "node", "bin", "node")
	if _, err := os.Stat(node); err != nil {
		return "", fmt.Sprintf("pinned Node not installed (%s missing): run `make test`, which runs `npm ci` in conformance/", node)
	}
	for _, p := range []string{
		"node_modules/@modelcontextprotocol/sdk/package.json",
		"node_modules/@modelcontextprotocol/server-everything/dist/index.js",
	} {
		if _, err := os.Stat(filepath.Join(conformanceDir, p)); err != nil {
			return "", fmt.Sprintf("conformance/%s missing: run `make test`, which runs `npm ci` in conformance/", p)
		}
	}
	return node, ""
}
