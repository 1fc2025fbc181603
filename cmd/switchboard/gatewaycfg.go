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

// watchConfig reloads the configuration into g when the file (or an env
// file it names) changes, and on SIGHUP, until ctx ends. A file that does
// not load keeps the running configuration; the errors are logged.
func watchConfig(ctx context.Context, g *gateway.Gateway, current *config.Config, log *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	w, err := fsnotify.NewWatcher()
	if err != nil {
		log.Warn("config: cannot watch the file for changes; reload with SIGHUP", "err", err)
	} else {
		defer w.Close()
	}
	// Editors replace files (write a temporary file, rename it): watch the
	// directories and filter by name.
	watched := map[string]bool{}
	watch := func(c *config.Config) {
		if w == nil {
			return
		}
		files := []string{c.Path}
		for _, s := range c.Servers {
			if s.EnvFile != "" {
				files = append(files, s.EnvFile)
			}
		}
		for _, f := range files {
			abs, err := filepath.Abs(f)
			if err != nil {
				continue
			}
			watched[abs] = true
			if err := w.Add(filepath.Dir(abs)); err != nil {
				log.Warn("config: cannot watch", "dir", filepath.Dir(abs), "err", err)
			}
		}
	}
	watch(current)

	var events <-chan fsnotify.Event
	var errs <-chan error
	if w != nil {
		events, errs = w.Events, w.Errors
	}
	var debounce <-chan time.Time
	reload := func(why string) {
		next, err := loadConfig(current.Path)
		if err != nil {
			log.Error("config: reload refused; the running configuration stays", "why", why, "err", err)
			return
		}
		added, removed, changed := next.Diff(current)
		if err := g.SetNaming(gateway.Naming(next.Gateway.Prefix), next.Gateway.Separator); err != nil {
			log.Error("config: reload refused", "err", err)
			return
		}
		if err := g.Update(upstreamsOf(next)); err != nil {
			log.Error("config: reload failed; the running configuration stays", "err", err)
			return
		}
		log.Info("config: reloaded", "why", why, "added", added, "removed", removed, "changed", changed)
		current = next
		watch(current)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			reload("SIGHUP")
		case ev := <-events:
			if abs, err := filepath.Abs(ev.Name); err == nil && watched[abs] && ev.Op&(fsnotify.Write|fsnotify.Create|fsnotify.Rename|fsnotify.Remove) != 0 {
				debounce = time.After(200 * time.Millisecond)
			}
		case err := <-errs:
			log.Warn("config: watching the file", "err", err)
		case <-debounce:
			debounce = nil
			if _, err := os.Stat(current.Path); err != nil {
				log.Error("config: the file is gone; the running configuration stays", "path", current.Path, "err", err)
				continue
			}
			reload("the file changed")
		}
	}
}
