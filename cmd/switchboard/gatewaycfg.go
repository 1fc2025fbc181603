package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/switchboard-mcp/switchboard/gateway"
	"github.com/switchboard-mcp/switchboard/gateway/config"
)

// upstreamsOf turns a configuration's servers into the gateway's upstream
// specs, sorted by name.
func upstreamsOf(c *config.Config) []gateway.Upstream {
	names := make([]string, 0, len(c.Servers))
	for name := range c.Servers {
		names = append(names, name)
	}
	sort.Strings(names)
	out := make([]gateway.Upstream, 0, len(names))
	for _, name := range names {
		s := c.Servers[name]
		u := gateway.Upstream{
			Name:           name,
			Disabled:       s.Disabled,
			Prefix:         s.Prefix,
			Session:        gateway.SessionMode(s.Session),
			MaxSessions:    s.MaxSessions,
			Timeout:        time.Duration(s.Timeout),
			ConnectTimeout: time.Duration(s.ConnectTimeout),
			PingInterval:   time.Duration(s.PingInterval),
		}
		switch s.Type {
		case config.TypeStdio:
			env := make([]string, 0, len(s.Env))
			for k, v := range s.Env {
				env = append(env, k+"="+v)
			}
			slices.Sort(env)
			u.Command = &gateway.Command{Path: s.Command, Args: s.Args, Env: env, InheritEnv: s.InheritEnv, Dir: s.Cwd}
		default:
			u.URL, u.SSE = s.URL, s.Type == config.TypeSSE
			if len(s.Headers) > 0 {
				u.Header = http.Header{}
				for k, v := range s.Headers {
					u.Header.Set(k, v)
				}
			}
		}
		out = append(out, u)
	}
	if identityUpstreams != nil {
		out = identityUpstreams(c, out) // upstream credentials (identity.go)
	}
	return out
}

// applyGatewaySettings copies the configuration's gateway settings into
// opts. An explicit 0 in the file turns a limit off.
func applyGatewaySettings(opts *gateway.Options, g config.Gateway) {
	opts.Name = g.Name
	opts.Naming = gateway.Naming(g.Prefix)
	opts.Separator = g.Separator
	off := func(d config.Duration) time.Duration {
		if d == 0 {
			return -1
		}
		return time.Duration(d)
	}
	opts.CallTimeout = off(g.CallTimeout)
	opts.PingInterval = off(g.PingInterval)
	opts.ConnectTimeout = time.Duration(g.ConnectTimeout)
	if opts.ConnectTimeout == 0 {
		opts.ConnectTimeout = 24 * time.Hour // "no bound"
	}
}

// loadConfig loads a configuration file and logs every error it has.
func loadConfig(path string) (*config.Config, error) {
	c, err := config.Load(path, nil)
	if err != nil {
		return nil, fmt.Errorf("%s:\n%w", path, err)
	}
	return c, nil
}

// reloader applies a configuration file to a running gateway.
type reloader struct {
	g   *gateway.Gateway
	log *slog.Logger

	mu      sync.Mutex
	current *config.Config
}

// Reload loads the file again and applies it as a diff. A file that does
// not load keeps the running configuration and the error says why.
func (r *reloader) Reload(why string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	next, err := loadConfig(r.current.Path)
	if err != nil {
		r.log.Error("config: reload refused; the running configuration stays", "why", why, "err", err)
		return err
	}
	added, removed, changed := next.Diff(r.current)
	if err := r.g.SetNaming(gateway.Naming(next.Gateway.Prefix), next.Gateway.Separator); err != nil {
		r.log.Error("config: reload refused", "err", err)
		return err
	}
	if err := r.g.Update(upstreamsOf(next)); err != nil {
		r.log.Error("config: reload failed; the running configuration stays", "err", err)
		return err
	}
	r.log.Info("config: reloaded", "why", why, "added", added, "removed", removed, "changed", changed)
	r.current = next
	return nil
}

// files lists the files whose changes trigger a reload: the configuration
// and the env files it names.
func (r *reloader) files() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	files := []string{r.current.Path}
	for _, s := range r.current.Servers {
		if s.EnvFile != "" {
			files = append(files, s.EnvFile)
		}
	}
	return files
}

// watch reloads when the file (or an env file it names) changes, and on
// SIGHUP, until ctx ends.
func (r *reloader) watch(ctx context.Context) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	w, err := fsnotify.NewWatcher()
	if err != nil {
		r.log.Warn("config: cannot watch the file for changes; reload with SIGHUP", "err", err)
	} else {
		defer w.Close()
	}
	// Editors replace files (write a temporary file, rename it): watch the
	// directories and filter by name.
	watched := map[string]bool{}
	watchFiles := func() {
		if w == nil {
			return
		}
		for _, f := range r.files() {
			abs, err := filepath.Abs(f)
			if err != nil || watched[abs] {
				continue
			}
			watched[abs] = true
			if err := w.Add(filepath.Dir(abs)); err != nil {
				r.log.Warn("config: cannot watch", "dir", filepath.Dir(abs), "err", err)
			}
		}
	}
	watchFiles()

	var events <-chan fsnotify.Event
	var errs <-chan error
	if w != nil {
		events, errs = w.Events, w.Errors
	}
	var debounce <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			if r.Reload("SIGHUP") == nil {
				watchFiles()
			}
		case ev := <-events:
			if abs, err := filepath.Abs(ev.Name); err == nil && watched[abs] && ev.Op&(fsnotify.Write|fsnotify.Create|fsnotify.Rename|fsnotify.Remove) != 0 {
				debounce = time.After(200 * time.Millisecond)
			}
		case err := <-errs:
			r.log.Warn("config: watching the file", "err", err)
		case <-debounce:
			debounce = nil
			r.mu.Lock()
			path := r.current.Path
			r.mu.Unlock()
			if _, err := os.Stat(path); err != nil {
				r.log.Error("config: the file is gone; the running configuration stays", "path", path, "err", err)
				continue
			}
			if r.Reload("the file changed") == nil {
				watchFiles()
			}
		}
	}
}
