package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"

	"github.com/switchboard-mcp/switchboard/gateway"
	"github.com/switchboard-mcp/switchboard/gateway/config"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/registry"
	"github.com/switchboard-mcp/switchboard/servercard"
	"github.com/switchboard-mcp/switchboard/store"
)

// mountRegistry adds to "switchboard serve" the Server Cards of the
// gateway's endpoint (with the AI Catalog and the older paths) unless
// registry.cards.disabled, and the registry API when the configuration
// has a registry section. What it opens is closed when ctx ends.
func mountRegistry(ctx context.Context, mux *http.ServeMux, cfg *config.Config, db *store.DB, g *gateway.Gateway, logger *slog.Logger, withSSE bool) error {
	rc := &config.Registry{}
	if cfg != nil && cfg.Registry != nil {
		rc = cfg.Registry
	}
	if !rc.Cards.Disabled {
		opts := &servercard.Options{Namespace: rc.Cards.Namespace, PublicURL: rc.Cards.PublicURL}
		eps := []servercard.Endpoint{{Path: gateway.PathMCP, Server: g.Server()}}
		if withSSE {
			eps[0].SSEPath = gateway.PathSSE
		}
		// Each virtual server's card, found at each request: a reload may
		// replace the server.
		for _, name := range g.VirtualServerNames() {
			eps = append(eps, servercard.Endpoint{Path: gateway.PathVirtual + name + gateway.PathMCP,
				Lookup: func() *mcp.Server { return g.VirtualServer(name) }})
		}
		servercard.Mount(mux, opts, eps...)
		fmt.Fprintf(os.Stderr, "  server cards: %s%s (and each virtual server's), AI catalog: %s\n", gateway.PathMCP, servercard.CardSuffix, servercard.PathCatalog)
	}
	if !cfg.RegistryEnabled() {
		return nil
	}
	o, err := openRegistryStore(ctx, rc, "", "", db, os.Stderr, "serve")
	if err != nil {
		return err
	}
	go func() { <-ctx.Done(); o.close() }()
	opts, err := registryOptions(rc, o, logger)
	if err != nil {
		return err
	}
	api, err := registry.NewServer(opts)
	if err != nil {
		return err
	}
	registryHandler(mux, rc.Path, api)
	runMirrors(ctx, o.store, rc.Mirrors, logger)
	fmt.Fprintf(os.Stderr, "  registry: %s/v0.1/servers (login methods: %s)\n", rc.Path, orText(joinComma(opts.Auth.Methods()), "admin tokens only"))
	return nil
}

func joinComma(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ", "
		}
		out += x
	}
	return out
}
