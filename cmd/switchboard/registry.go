package main

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/switchboard-mcp/switchboard/gateway/config"
	"github.com/switchboard-mcp/switchboard/registry"
	"github.com/switchboard-mcp/switchboard/store"
)

// registryFlags are the flags the registry commands share.
type registryFlags struct {
	configPath, dataDir, database string
}

func (f *registryFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&f.configPath, "config", "c", "", "configuration file whose \"registry\" section configures the registry")
	dataDirFlag(cmd.Flags(), &f.dataDir)
	cmd.Flags().StringVar(&f.database, "database", "", "PostgreSQL URL of the registry's database (default: the configuration's registry.database, else the data directory's SQLite database)")
}

// load reads the configuration's registry section (an empty one without
// a file).
func (f *registryFlags) load() (*config.Config, *config.Registry, error) {
	if f.configPath == "" {
		return nil, &config.Registry{}, nil
	}
	cfg, err := loadConfig(f.configPath)
	if err != nil {
		return nil, nil, err
	}
	rc := cfg.Registry
	if rc == nil {
		rc = &config.Registry{}
	}
	if f.dataDir == "" {
		f.dataDir = cfg.Gateway.DataDir
	}
	return cfg, rc, nil
}

// openedRegistry is a registry store and what it was opened on.
type openedRegistry struct {
	store registry.Store
	db    *store.DB // the data directory's database; nil on PostgreSQL
	close func()
}

// openRegistryStore opens the registry's store: PostgreSQL when a
// database URL is given, else the data directory's SQLite database (or
// db, when already open).
// openStore loads the configuration and opens the registry's store for a
// command that only reads or edits it (what names the command in errors,
// w takes the store's notices).
func (f *registryFlags) openStore(ctx context.Context, w io.Writer, what string) (*openedRegistry, error) {
	_, rc, err := f.load()
	if err != nil {
		return nil, err
	}
	return openRegistryStore(ctx, rc, f.database, f.dataDir, nil, w, what)
}

func openRegistryStore(ctx context.Context, rc *config.Registry, database, dataDir string, db *store.DB, w io.Writer, what string) (*openedRegistry, error) {
	if database == "" {
		database = rc.Database
	}
	if database != "" {
		st, err := registry.OpenPostgres(ctx, database)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(w, "switchboard %s: registry database on PostgreSQL\n", what)
		o := &openedRegistry{store: st, close: func() { st.Close() }}
		if db == nil && rc.JWTKey == "" && dataDir != "" {
			// The data directory still holds the master key the token
			// signing key derives from.
			if d, err := openStore(ctx, dataDir, io.Discard, what); err == nil {
				o.db, o.close = d, func() { st.Close(); d.Close() }
			}
		}
		if o.db == nil {
			o.db = db
		}
		return o, nil
	}
	own := false
	if db == nil {
		var err error
		if db, err = openStore(ctx, dataDir, w, what); err != nil {
			return nil, err
		}
		own = true
	}
	h, dialect := db.RegistryDB()
	st, err := registry.OpenSQL(h, dialect)
	if err != nil {
		return nil, err
	}
	return &openedRegistry{store: st, db: db, close: func() {
		if own {
			db.Close()
		}
	}}, nil
}

// jwtKey is the registry's token signing key: the configured seed, or
// one derived from the data directory's master key (so that every
// process on the same data directory signs alike).
func jwtKey(rc *config.Registry, db *store.DB) (ed25519.PrivateKey, error) {
	if rc.JWTKey != "" {
		seed, err := hex.DecodeString(rc.JWTKey)
		if err != nil || len(seed) != ed25519.SeedSize {
			return nil, errors.New("registry.jwtKey: want 64 hexadecimal digits")
		}
		return ed25519.NewKeyFromSeed(seed), nil
	}
	if db == nil {
		return nil, errors.New("registry.jwtKey is required when the registry has no data directory")
	}
	mk, err := store.LoadMasterKey(db.Dir())
	if err != nil {
		return nil, err
	}
	m := hmac.New(sha256.New, mk)
	m.Write([]byte("switchboard registry token signing key v1"))
	return ed25519.NewKeyFromSeed(m.Sum(nil)), nil
}

// registryOptions turns the configuration into the API's options.
func registryOptions(rc *config.Registry, o *openedRegistry, logger *slog.Logger) (registry.Options, error) {
	key, err := jwtKey(rc, o.db)
	if err != nil {
		return registry.Options{}, err
	}
	ao := registry.AuthOptions{Key: key, Anonymous: rc.Auth.Anonymous, AdminTokens: nonEmpty(rc.AdminTokens),
		BlockedNamespaces: rc.Auth.BlockedNamespaces}
	if h := rc.Auth.HTTP; h == nil || !h.Disabled {
		p := &registry.HTTPProofOptions{}
		if h != nil {
			p.Resolve, p.AllowPrivate = h.Resolve, h.AllowPrivate
			if h.CAFile != "" {
				pem, err := os.ReadFile(h.CAFile)
				if err != nil {
					return registry.Options{}, fmt.Errorf("registry.auth.http.caFile: %w", err)
				}
				p.RootCAs = x509.NewCertPool()
				if !p.RootCAs.AppendCertsFromPEM(pem) {
					return registry.Options{}, fmt.Errorf("registry.auth.http.caFile: no certificate in %s", h.CAFile)
				}
			}
		}
		ao.HTTP = p
	}
	if d := rc.Auth.DNS; d == nil || !d.Disabled {
		ao.DNS = &registry.DNSProofOptions{}
		if d != nil {
			ao.DNS.Server = d.Server
		}
	}
	if oi := rc.Auth.OIDC; oi != nil {
		ao.OIDC = &registry.OIDCOptions{Issuer: oi.Issuer, Audience: oi.Audience, ExtraClaims: oi.ExtraClaims, Publish: oi.Publish, Edit: oi.Edit}
	}
	a, err := registry.NewAuth(ao)
	if err != nil {
		return registry.Options{}, err
	}
	c := rc.Curation
	opts := registry.Options{
		Store: o.store, Auth: a, Logger: logger,
		AnonymousReads: rc.AnonymousReads == nil || *rc.AnonymousReads,
		ReadTokens:     nonEmpty(rc.ReadTokens),
		Curation:       &registry.Curation{Allow: c.Allow, Deny: c.Deny, RequireApproval: c.RequireApproval, DeniedStatus: c.DeniedStatus},
		Validate:       registry.ValidateOptions{AllowDraft: rc.AllowDraftSchema},
		Version:        registry.VersionInfo{Version: version, GitCommit: "", BuildTime: ""},
	}
	return opts, nil
}

func nonEmpty(s []string) []string {
	var out []string
	for _, x := range s {
		if x != "" {
			out = append(out, x)
		}
	}
	return out
}

// registryHandler mounts the API at prefix ("" for the root) on mux.
func registryHandler(mux *http.ServeMux, prefix string, api http.Handler) {
	h := api
	if prefix != "" {
		h = http.StripPrefix(prefix, api)
	}
	for _, p := range []string{"/v0/", "/v0.1/", "/openapi.yaml", "/openapi.json"} {
		mux.Handle(prefix+p, h)
	}
	for _, p := range []string{"/v0", "/v0.1"} {
		mux.Handle(prefix+p+"/servers", h)
	}
}

func newRegistryCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "registry",
		Short: "Run an MCP registry, mirror one, curate it, install from it",
		Long: `An MCP Registry that an organization runs itself (see docs/registry.md): the
official Registry API (v0.1, and the v0 routes of the official publisher
CLI, mcp-publisher), publishing with the official login methods, mirroring
of other registries, curation, and installation of a registry's servers as
upstreams of the gateway.

"switchboard serve" mounts the registry beside the gateway when its
configuration has a "registry" section; "switchboard registry serve" runs
it alone.`,
	}
	cmd.AddCommand(newRegistryServeCmd(), newRegistrySyncCmd(), newRegistryExportCmd(), newRegistryInstallCmd(),
		newRegistryValidateCmd(), newRegistryApprovalCmd("approve", registry.ApprovalApproved), newRegistryApprovalCmd("deny", registry.ApprovalDenied),
		newRegistryApprovalCmd("pending", registry.ApprovalPending), newRegistryApprovalsCmd(), newRegistryKeygenCmd())
	return cmd
}

func newRegistryServeCmd() *cobra.Command {
	var (
		f          registryFlags
		addr       string
		adminToken string
		anonAuth   bool
		verbose    bool
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the registry alone",
		Long: `Serve the Registry API on --addr (default: the configuration's
registry.addr, else 127.0.0.1:8090): /v0.1/servers..., /v0/publish,
/v0/auth/..., health, ping, version and /openapi.yaml.

Reads are anonymous unless registry.anonymousReads is false. Publishing
needs a registry token from a login method (mcp-publisher login http, dns,
oidc, or none with --anonymous-auth) or an admin token (--admin-token,
$SWITCHBOARD_REGISTRY_ADMIN_TOKEN or registry.adminTokens).`,
		Example: `  switchboard registry serve --anonymous-auth
  switchboard registry serve --config gateway.yaml --addr 0.0.0.0:8090
  switchboard registry serve --database postgres://registry@db/registry`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			_, rc, err := f.load()
			if err != nil {
				return err
			}
			if adminToken == "" {
				adminToken = os.Getenv("SWITCHBOARD_REGISTRY_ADMIN_TOKEN")
			}
			if adminToken != "" {
				rc.AdminTokens = append(rc.AdminTokens, adminToken)
			}
			if anonAuth {
				rc.Auth.Anonymous = true
			}
			if addr == "" {
				addr = orText(rc.Addr, "127.0.0.1:8090")
			}
			o, err := openRegistryStore(ctx, rc, f.database, f.dataDir, nil, os.Stderr, "registry serve")
			if err != nil {
				return err
			}
			defer o.close()
			logger := newLogger(verbose)
			opts, err := registryOptions(rc, o, logger)
			if err != nil {
				return err
			}
			api, err := registry.NewServer(opts)
			if err != nil {
				return err
			}
			runMirrors(ctx, o.store, rc.Mirrors, logger)
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("listening on %s: %w", addr, err)
			}
			mux := http.NewServeMux()
			registryHandler(mux, "", api)
			mux.Handle("/", api)
			base := "http://" + ln.Addr().String()
			fmt.Fprintf(os.Stderr, "switchboard registry serve: listening on %s\n  registry: %s (GET %s/v0.1/servers)\n  login methods: %s\n",
				ln.Addr(), base, base, orText(strings.Join(opts.Auth.Methods(), ", "), "none (admin tokens only)"))
			hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
			errc := make(chan error, 1)
			go func() { errc <- hs.Serve(ln) }()
			select {
			case err := <-errc:
				return err
			case <-ctx.Done():
			}
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return hs.Shutdown(sctx)
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&addr, "addr", "", "address to listen on (default: registry.addr, else 127.0.0.1:8090)")
	cmd.Flags().StringVar(&adminToken, "admin-token", "", "a bearer token that may publish and edit anything (default: $SWITCHBOARD_REGISTRY_ADMIN_TOKEN)")
	cmd.Flags().BoolVar(&anonAuth, "anonymous-auth", false, "enable \"mcp-publisher login none\" (io.modelcontextprotocol.anonymous/*; development only)")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "log debug messages to stderr")
	return cmd
}

func newRegistrySyncCmd() *cobra.Command {
	var (
		f     registryFlags
		from  string
		file  string
		token string
		full  bool
		quiet bool
	)
	cmd := &cobra.Command{
		Use:   "sync",
		Short: "Mirror another registry (or import an export file)",
		Long: `Mirror a registry into this one: --from URL (a registry's base URL; default:
the configuration's registry.mirrors), or --file FILE (an export written by
"switchboard registry export", a list body, or a seed file of server.json
documents) for sites without a network path.

Syncs are incremental: each run asks only for what changed since the last
one (updated_since), deletions and status changes included. Every page is
stored with the progress, so an interrupted sync resumes where it stopped.
--full starts over.`,
		Example: `  switchboard registry sync --from https://registry.modelcontextprotocol.io
  switchboard registry sync --file official-export.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			_, rc, err := f.load()
			if err != nil {
				return err
			}
			o, err := openRegistryStore(ctx, rc, f.database, f.dataDir, nil, os.Stderr, "registry sync")
			if err != nil {
				return err
			}
			defer o.close()
			out := cmd.ErrOrStderr()
			if file != "" {
				data, err := os.ReadFile(file)
				if err != nil {
					return err
				}
				var bar *progressbar.ProgressBar
				res, err := registry.Import(ctx, o.store, data, "file:"+file, func(done, total int) {
					if quiet {
						return
					}
					if bar == nil {
						bar = newBar(out, int64(total), "importing")
					}
					bar.Set(done)
				})
				if bar != nil {
					bar.Finish()
					fmt.Fprintln(out)
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "imported %d versions from %s (%d already present)\n", res.Stored, file, res.Skipped)
				return nil
			}
			sources := []config.RegistryMirror{}
			if from != "" {
				sources = append(sources, config.RegistryMirror{URL: from, Token: token})
			} else {
				sources = rc.Mirrors
			}
			if len(sources) == 0 {
				return errors.New("nothing to sync: give --from URL or --file FILE (or registry.mirrors in the configuration)")
			}
			for _, src := range sources {
				var bar *progressbar.ProgressBar
				if !quiet {
					bar = newBar(out, -1, "syncing "+src.URL)
				}
				res, err := registry.Sync(ctx, o.store, registry.SyncOptions{Source: src.URL, Token: src.Token, Full: full,
					Progress: func(n int64) {
						if bar != nil {
							bar.Set64(n)
						}
					}})
				if bar != nil {
					bar.Finish()
					fmt.Fprintln(out)
				}
				if err != nil {
					if res != nil && res.Received > 0 {
						return fmt.Errorf("sync from %s stopped after %d versions (run it again to resume): %w", src.URL, res.Received, err)
					}
					return fmt.Errorf("sync from %s: %w", src.URL, err)
				}
				how := "full sync"
				if !res.Since.IsZero() {
					how = "changes since " + res.Since.Format(time.RFC3339)
				}
				if res.Resumed {
					how += ", resumed"
				}
				fmt.Fprintf(out, "synced %d versions from %s (%s)\n", res.Received, src.URL, how)
			}
			if s, ok := o.store.(*registry.SQLStore); ok {
				s.Analyze(ctx)
			}
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&from, "from", "", "base URL of the registry to mirror")
	cmd.Flags().StringVar(&file, "file", "", "import this export file instead")
	cmd.Flags().StringVar(&token, "token", "", "bearer token for a private source registry")
	cmd.Flags().BoolVar(&full, "full", false, "ignore the saved progress and mirror everything again")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress bar")
	return cmd
}

// newBar is a progress bar on w (a spinner with a count when total is
// unknown); it draws only on a terminal.
func newBar(w io.Writer, total int64, what string) *progressbar.ProgressBar {
	visible := false
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		visible = true
	}
	return progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("versions"),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetVisibility(visible),
		progressbar.OptionSpinnerType(14),
	)
}

func newRegistryExportCmd() *cobra.Command {
	var (
		f      registryFlags
		output string
	)
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write every version (deleted ones too) to a file that sync --file imports",
		Example: `  switchboard registry export -o registry.json
  switchboard registry export --database postgres://registry@db/registry > registry.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			o, err := f.openStore(ctx, io.Discard, "registry export")
			if err != nil {
				return err
			}
			defer o.close()
			w := cmd.OutOrStdout()
			var file *os.File
			if output != "" && output != "-" {
				if file, err = os.Create(output); err != nil {
					return err
				}
				w = file
			}
			n, err := registry.Export(ctx, o.store, w)
			if file != nil {
				if cerr := file.Close(); err == nil {
					err = cerr
				}
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "exported %d versions\n", n)
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVarP(&output, "output", "o", "", "file to write (default: standard output)")
	return cmd
}

func newRegistryValidateCmd() *cobra.Command {
	var draft bool
	cmd := &cobra.Command{
		Use:   "validate FILE...",
		Short: "Check server.json files as the registry does when they are published",
		Example: `  switchboard registry validate server.json
  switchboard registry validate --draft servers/*.json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			bad := 0
			for _, a := range args {
				b, err := os.ReadFile(a)
				if err != nil {
					return err
				}
				res := registry.Validate(b, &registry.ValidateOptions{AllowDraft: draft})
				status := "valid"
				if !res.Valid {
					status = "INVALID"
					bad++
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: %s\n", a, status)
				for _, i := range res.Issues {
					fmt.Fprintf(cmd.OutOrStdout(), "  %s %s\n", i.Severity, i)
				}
			}
			if bad > 0 {
				return exitError{1}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&draft, "draft", false, "accept the draft schema")
	return cmd
}

func newRegistryApprovalCmd(verb, state string) *cobra.Command {
	var (
		f    registryFlags
		note string
	)
	cmd := &cobra.Command{
		Use:   verb + " NAME...",
		Short: "Set servers' approval state to " + state,
		Long: "Set the curation state of servers (by name) to " + state + `. With
registry.curation.requireApproval, only approved servers are shown; a denied
server is refused (registry.curation.deniedStatus) whatever the policy.`,
		Example: "  switchboard registry " + verb + " com.example/weather --note \"reviewed 2026-12\"\n  switchboard registry " + verb + " --config gateway.yaml io.github.acme/files io.github.acme/git",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			o, err := f.openStore(ctx, io.Discard, "registry "+verb)
			if err != nil {
				return err
			}
			defer o.close()
			for _, n := range args {
				if err := registry.CheckName(n); err != nil {
					return fmt.Errorf("%s: %w", n, err)
				}
				if err := o.store.SetApproval(ctx, registry.Approval{Name: n, State: state, Note: note, UpdatedAt: time.Now()}); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: %s\n", n, state)
			}
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&note, "note", "", "a note kept with the state")
	return cmd
}

func newRegistryApprovalsCmd() *cobra.Command {
	var f registryFlags
	cmd := &cobra.Command{
		Use:     "approvals",
		Short:   "List the servers' approval states",
		Example: `  switchboard registry approvals --config gateway.yaml`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			o, err := f.openStore(ctx, io.Discard, "registry approvals")
			if err != nil {
				return err
			}
			defer o.close()
			as, err := o.store.Approvals(ctx)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tSTATE\tSINCE\tNOTE")
			for _, a := range as {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", a.Name, a.State, a.UpdatedAt.Format(time.RFC3339), a.Note)
			}
			return tw.Flush()
		},
	}
	f.register(cmd)
	return cmd
}

func newRegistryKeygenCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "keygen",
		Short:   "Print a new Ed25519 key: a seed for registry.jwtKey, or a publisher key with its proof record",
		Example: `  switchboard registry keygen`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pub, priv, err := ed25519.GenerateKey(nil)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "private key (hex seed): %x\nproof record: v=MCPv1; k=ed25519; p=%s\n", priv.Seed(), b64(pub))
			return nil
		},
	}
}

// runMirrors syncs, in the background until ctx ends, from each mirror
// that has an interval: at start, then at every interval. Failures are
// logged; an interrupted run resumes at the next.
func runMirrors(ctx context.Context, st registry.Store, mirrors []config.RegistryMirror, logger *slog.Logger) {
	for _, m := range mirrors {
		if m.Interval <= 0 {
			continue
		}
		go func(m config.RegistryMirror) {
			t := time.NewTimer(0)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
				res, err := registry.Sync(ctx, st, registry.SyncOptions{Source: m.URL, Token: m.Token})
				if err != nil {
					if ctx.Err() == nil {
						logger.Warn("registry mirror: sync failed", "source", m.URL, "err", err)
					}
				} else {
					logger.Info("registry mirror: synced", "source", m.URL, "versions", res.Received, "resumed", res.Resumed)
				}
				t.Reset(time.Duration(m.Interval))
			}
		}(m)
	}
}
