package portability

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// Env is what default paths depend on: the operating system, the home
// directory, environment variables and the current directory.
type Env struct {
	// GOOS is "linux", "darwin", "windows", ... ("" means runtime.GOOS).
	GOOS string
	// Home is the user's home directory.
	Home string
	// Getenv looks up environment variables (XDG_CONFIG_HOME, APPDATA,
	// CODEX_HOME); nil means none are set.
	Getenv func(string) string
	// Dir is the current directory, for project files (.mcp.json).
	Dir string
}

// CurrentEnv returns the Env of this process.
func CurrentEnv() Env {
	home, _ := os.UserHomeDir()
	dir, _ := os.Getwd()
	return Env{GOOS: runtime.GOOS, Home: home, Getenv: os.Getenv, Dir: dir}
}

func (e Env) goos() string {
	if e.GOOS == "" {
		return runtime.GOOS
	}
	return e.GOOS
}

func (e Env) getenv(k string) string {
	if e.Getenv == nil {
		return ""
	}
	return e.Getenv(k)
}

// join joins path elements with the separator of e's OS.
func (e Env) join(elem ...string) string {
	sep := "/"
	if e.goos() == "windows" {
		sep = `\`
	}
	var parts []string
	for i, p := range elem {
		if p == "" {
			continue
		}
		if i > 0 {
			p = strings.Trim(p, `/\`)
		} else {
			p = strings.TrimRight(p, `/\`)
			if p == "" {
				p = sep
			}
		}
		parts = append(parts, p)
	}
	out := strings.Join(parts, sep)
	return strings.ReplaceAll(out, sep+sep, sep)
}

// home joins elements under the home directory.
func (e Env) home(elem ...string) string { return e.join(append([]string{e.Home}, elem...)...) }

// xdgConfig is $XDG_CONFIG_HOME, or ~/.config.
func (e Env) xdgConfig(elem ...string) string {
	base := e.getenv("XDG_CONFIG_HOME")
	if base == "" {
		base = e.home(".config")
	}
	return e.join(append([]string{base}, elem...)...)
}

// appData is %APPDATA%, or ~\AppData\Roaming.
func (e Env) appData(elem ...string) string {
	base := e.getenv("APPDATA")
	if base == "" {
		base = e.home("AppData", "Roaming")
	}
	return e.join(append([]string{base}, elem...)...)
}

// appSupport is ~/Library/Application Support.
func (e Env) appSupport(elem ...string) string {
	return e.home(append([]string{"Library", "Application Support"}, elem...)...)
}

// userConfig is the OS's per-user configuration directory: %APPDATA% on
// Windows, ~/Library/Application Support on macOS, $XDG_CONFIG_HOME or
// ~/.config elsewhere.
func (e Env) userConfig(elem ...string) string {
	switch e.goos() {
	case "windows":
		return e.appData(elem...)
	case "darwin":
		return e.appSupport(elem...)
	}
	return e.xdgConfig(elem...)
}

// inDir joins elements under the current directory.
func (e Env) inDir(elem ...string) string {
	return e.join(append([]string{e.Dir}, elem...)...)
}

// projectDirs are the folders whose parent is a project's workspace
// folder (.vscode/mcp.json belongs to the folder that holds .vscode).
var projectDirs = map[string]bool{".vscode": true, ".cursor": true, ".zed": true, ".gemini": true, ".codex": true, ".continue": true, ".opencode": true}

// WorkspaceOf returns the workspace folder a file belongs to, as VS Code
// and the gateway define ${workspaceFolder}: the file's directory, or its
// parent when that directory is .vscode, .cursor, .zed, ...
func WorkspaceOf(file string) string {
	abs, err := filepath.Abs(file)
	if err != nil {
		abs = file
	}
	dir := filepath.Dir(abs)
	if projectDirs[filepath.Base(dir)] {
		return filepath.Dir(dir)
	}
	return dir
}
