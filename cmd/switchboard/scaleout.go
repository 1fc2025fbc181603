package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/switchboard-mcp/switchboard/auth"
	"github.com/switchboard-mcp/switchboard/cluster"
	"github.com/switchboard-mcp/switchboard/cluster/seal"
	"github.com/switchboard-mcp/switchboard/gateway"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/transport"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

// clusterFlags configure scale-out (docs/scale-out.md): several serve
// processes behind a load balancer, sharing sessions and streams through
// Redis.
type clusterFlags struct {
	redisURL   string
	keysFile   string
	instance   string
	drainDelay time.Duration
	eventTTL   time.Duration
	sessionTTL time.Duration
}

func (c *clusterFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&c.redisURL, "cluster-redis", os.Getenv("SWITCHBOARD_CLUSTER_REDIS"), "run as one of several instances sharing sessions and SSE streams through this Redis URL (default $SWITCHBOARD_CLUSTER_REDIS; see docs/scale-out.md)")
	fl.StringVar(&c.keysFile, "session-keys", os.Getenv("SWITCHBOARD_SESSION_KEYS"), "key set file sealing session ids, re-read when it changes (default $SWITCHBOARD_SESSION_KEYS; required with --cluster-redis)")
	fl.StringVar(&c.instance, "instance-id", os.Getenv("SWITCHBOARD_INSTANCE_ID"), "this instance's id in the cluster (default: random per process)")
	fl.DurationVar(&c.drainDelay, "drain-delay", envDuration("SWITCHBOARD_DRAIN_DELAY", 0), "on SIGTERM, report not ready for this long before handing streams off and draining, so that the load balancer stops sending new work (default $SWITCHBOARD_DRAIN_DELAY or 0)")
	fl.DurationVar(&c.eventTTL, "cluster-event-ttl", cluster.DefaultEventTTL, "how long a session's SSE events stay in Redis after its last one")
	fl.DurationVar(&c.sessionTTL, "cluster-session-ttl", cluster.DefaultSessionTTL, "how long a session's shared state (log level, subscriptions, end mark) stays in Redis after its last change")
}

func envDuration(name string, def time.Duration) time.Duration {
	if v := os.Getenv(name); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			return d
		}
	}
	return def
}

// scaleOut is a serve process's membership of a cluster.
type scaleOut struct {
	node     *cluster.Node
	sealer   *seal.Sealer
	rdb      *redis.Client
	log      *slog.Logger
	draining atomic.Bool
	stop     context.CancelFunc
}

// startScaleOut joins the cluster and configures opts for it: the shared
// event store, the sealing session factory, and the 2026-07-28
// requestState key every instance must share. It returns nil when
// scale-out is not configured.
func startScaleOut(ctx context.Context, f *clusterFlags, opts *gateway.Options, logger *slog.Logger) (*scaleOut, error) {
	if f.redisURL == "" {
		return nil, nil
	}
	if f.keysFile == "" {
		return nil, errors.New("--cluster-redis needs --session-keys (a key set file; see docs/scale-out.md)")
	}
	keys, err := seal.LoadKeySet(f.keysFile)
	if err != nil {
		return nil, err
	}
	ropts, err := redis.ParseURL(f.redisURL)
	if err != nil {
		return nil, fmt.Errorf("--cluster-redis: %w", err)
	}
	// Followers of streams hold a connection while they wait.
	ropts.PoolSize = max(ropts.PoolSize, 256)
	rdb := redis.NewClient(ropts)
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	node, err := cluster.Start(sctx, cluster.Options{Redis: rdb, Instance: f.instance, EventTTL: f.eventTTL, Logger: logger})
	if err != nil {
		rdb.Close()
		return nil, fmt.Errorf("joining the cluster through %s: %w", ropts.Addr, err)
	}
	so := &scaleOut{node: node, sealer: seal.NewSealer(keys), rdb: rdb, log: logger}
	wctx, wcancel := context.WithCancel(context.Background())
	so.stop = wcancel
	go so.watchKeys(wctx, f.keysFile)

	if opts.HTTP == nil {
		opts.HTTP = &streamable.Options{}
	}
	opts.HTTP.EventStore = node.EventStore()
	opts.SessionFactory = func(srv *mcp.Server) transport.SessionFactory {
		s, err := node.Sessions(srv, cluster.SessionOptions{Sealer: so.sealer, TTL: f.sessionTTL, Binding: oauthPrincipal})
		if err != nil {
			panic(err) // only without a sealer
		}
		return s
	}
	if opts.ServerOptions == nil {
		opts.ServerOptions = &mcp.ServerOptions{}
	}
	if len(opts.ServerOptions.RequestStateKey) == 0 {
		// 2026-07-28 requestState must verify on every instance: a key
		// derived from the primary sealing key (see docs/scale-out.md on
		// rotation).
		opts.ServerOptions.RequestStateKey = keys.DeriveKey("mcp-request-state")
	}
	// The demo upstream runs as a stdio child of every instance: its
	// replicas must share a requestState key too (see envRequestStateKey).
	demoKey := base64.StdEncoding.EncodeToString(keys.DeriveKey("demo-upstream-request-state"))
	for i, u := range opts.Upstreams {
		if c := u.Command; c != nil && len(c.Args) > 0 && c.Args[0] == "demo" {
			cc := *c
			cc.Env = append(slices.Clone(c.Env), envRequestStateKey+"="+demoKey)
			opts.Upstreams[i].Command = &cc
		}
	}
	logger.Info("joined the cluster", "instance", node.ID(), "redis", ropts.Addr, "sealing key", keys.Primary())
	return so, nil
}

// watchKeys re-reads the key set file when it changes (a Kubernetes Secret
// update, a rotation by hand) and swaps the keyring.
func (so *scaleOut) watchKeys(ctx context.Context, path string) {
	last, _ := os.ReadFile(path)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		data, err := os.ReadFile(path)
		if err != nil || bytes.Equal(data, last) {
			continue
		}
		k, err := seal.ParseKeySet(data)
		if err != nil {
			so.log.Error("session key set not reloaded", "file", path, "err", err)
			last = data
			continue
		}
		last = data
		so.sealer.SetKeyring(k)
		so.log.Info("session key set reloaded", "file", path, "primary", k.Primary(), "keys", k.KeyIDs())
	}
}

// wrap answers /readyz with 503 while the instance drains.
func (so *scaleOut) wrap(h http.Handler) http.Handler {
	if so == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == gateway.PathReadyz && so.draining.Load() {
			w.Header().Set("Cache-Control", "no-store")
			http.Error(w, `{"ready":false,"draining":true}`, http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// drainOnCancel returns a context that ends drainDelay after ctx does,
// with the instance reported not ready in between, and the gateway's
// streams handed off at its end.
func (so *scaleOut) drainOnCancel(ctx context.Context, delay time.Duration, g *gateway.Gateway) context.Context {
	if so == nil {
		return ctx
	}
	out, cancel := context.WithCancel(context.Background())
	go func() {
		defer cancel()
		<-ctx.Done()
		so.draining.Store(true)
		fmt.Fprintf(os.Stderr, "switchboard: draining (not ready for %s, then streams handed off)\n", delay)
		if delay > 0 {
			time.Sleep(delay)
		}
		g.DrainStreams()
	}()
	return out
}

// onReload tells the other instances to reload their configuration when
// this one reloads through the admin API, and reloads when another one
// does.
func (so *scaleOut) onReload(reload func(why string) error) func() error {
	so.node.Handle("reload", func(p []byte) {
		if string(p) != `"`+so.node.ID()+`"` {
			go func() {
				if err := reload("another instance of the cluster"); err != nil {
					so.log.Warn("cluster reload", "err", err)
				}
			}()
		}
	})
	return func() error {
		err := reload("the admin API")
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if berr := so.node.Broadcast(ctx, "reload", so.node.ID()); berr != nil {
			so.log.Warn("telling the cluster to reload", "err", berr)
		}
		return err
	}
}

// close leaves the cluster (after the gateway closed).
func (so *scaleOut) close() {
	if so == nil {
		return
	}
	so.stop()
	if err := so.node.Close(); err != nil {
		so.log.Warn("leaving the cluster", "err", err)
	}
	so.rdb.Close()
}

// envRequestStateKey passes "switchboard demo everything" the base64 HMAC
// key of its 2026-07-28 requestState, so that the replicas of a demo
// upstream (one stdio child per gateway instance) accept each other's
// state: a client's retry of an input-required call may reach another
// instance, whose child must verify the state the first child sealed.
const envRequestStateKey = "SWITCHBOARD_REQUEST_STATE_KEY"

// oauthPrincipal names the caller of an OAuth-protected endpoint (issuer
// and subject of its access token): a session id is bound to it, so that
// another principal holding the id cannot have it restored.
func oauthPrincipal(ctx context.Context) string {
	if ti := auth.TokenInfoFrom(ctx); ti != nil {
		return ti.Issuer + "\x00" + ti.Subject
	}
	return ""
}
