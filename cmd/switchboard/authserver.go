package main

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchboard-mcp/switchboard/auth"
	"github.com/switchboard-mcp/switchboard/authserver"
	"github.com/switchboard-mcp/switchboard/internal/httpserve"
)

func newAuthServerCmd() *cobra.Command {
	var (
		addr, issuer, keyFile, alg    string
		tlsCert, tlsKey               string
		autoApprove, dev, noRegister  bool
		verbose                       bool
		clients, redirects, resources []string
		scopes                        []string
		accessTTL, refreshTTL         time.Duration
		dataDir                       string
		unusedTTL                     time.Duration
		noRateLimit                   bool
		limits                        httpLimits
	)
	cmd := &cobra.Command{
		Use:   "auth-server",
		Short: "Run the embedded OAuth 2.1 authorization server",
		Long: `Run Switchboard's embedded OAuth 2.1 authorization server for MCP: metadata
(RFC 8414), authorization code with PKCE S256, refresh token rotation,
client_credentials, Dynamic Client Registration, Client ID Metadata
Documents, JWT access tokens bound to the requested resource (RFC 8707),
introspection and revocation.

It prints its issuer URL on standard output; give that URL to the MCP
server you protect with package auth (auth.Options.AuthorizationServers,
and a verifier for its tokens: see docs/auth.md). "switchboard serve
--auth" does not need it: it runs an authorization server of its own.

Without --auto-approve every authorization shows a consent page. State
(the signing key unless --key names one, clients, grants, refresh tokens,
revocations) is kept in the data directory (--data-dir), so a restart logs
nobody out; secrets there are encrypted with the master key
($SWITCHBOARD_MASTER_KEY, or master.key in the data directory).

Machine clients (client_credentials) are provisioned by the administrator
with "switchboard auth-server clients add" or --client, never by open
registration.

Off loopback, serve TLS with --tls-cert and --tls-key, or put a TLS proxy
in front and name its https URL with --issuer.`,
		Example: `  switchboard auth-server --addr 127.0.0.1:9000 --auto-approve
  switchboard auth-server --client ci:s3cret --resource http://127.0.0.1:8080/mcp --scope mcp
  switchboard auth-server --addr :443 --tls-cert cert.pem --tls-key key.pem --key signing.pem
  switchboard auth-server clients add --name ci --scope mcp`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			useTLS := tlsCert != "" || tlsKey != ""
			if useTLS && (tlsCert == "" || tlsKey == "") {
				return errors.New("--tls-cert and --tls-key go together")
			}
			if host, _, err := net.SplitHostPort(addr); issuer == "" && !useTLS && (err != nil || !auth.IsLoopbackHost(host)) {
				return fmt.Errorf("%s is not a loopback address: serve TLS (--tls-cert, --tls-key) or name the https URL of a TLS proxy with --issuer", addr)
			}
			db, err := openStore(cmd.Context(), dataDir, cmd.ErrOrStderr(), "auth-server")
			if err != nil {
				return err
			}
			defer db.Close()
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("listening on %s: %w", addr, err)
			}
			defer ln.Close()
			if issuer == "" {
				scheme := "http://"
				if useTLS {
					scheme = "https://"
				}
				issuer = scheme + ln.Addr().String()
			}
			opts := authserver.Options{
				Issuer:              issuer,
				Algorithm:           alg,
				AutoApprove:         autoApprove,
				Resources:           resources,
				ScopesSupported:     scopes,
				DisableRegistration: noRegister,
				AccessTokenTTL:      accessTTL,
				RefreshTokenTTL:     refreshTTL,
				CIMD:                authserver.CIMDOptions{AllowLoopback: dev},
				Logger:              newLogger(verbose),
				Storage:             db.AuthServer(),
				UnusedClientTTL:     unusedTTL,
				RateLimits:          authserver.RateLimits{Disable: noRateLimit},
			}
			if keyFile != "" {
				var key crypto.Signer
				if key, err = authserver.LoadSigningKey(keyFile); err != nil {
					return err
				}
				opts.SigningKey = key
			}
			for _, c := range clients {
				id, secret, _ := strings.Cut(c, ":")
				if id == "" {
					return fmt.Errorf("--client %q: want id:secret (or id for a public client)", c)
				}
				client := authserver.Client{ID: id, Secret: secret, Name: id, RedirectURIs: redirects}
				if secret != "" && len(redirects) == 0 {
					client.GrantTypes = []string{"client_credentials"}
				}
				opts.Clients = append(opts.Clients, client)
			}
			if h, _, err := net.SplitHostPort(ln.Addr().String()); err == nil && !auth.IsLoopbackHost(h) {
				opts.AllowedHosts = []string{"*"} // not reachable by DNS rebinding of a local name
			}
			as, err := authserver.New(opts)
			if err != nil {
				return err
			}
			return serveAuthServer(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), ln, as, tlsCert, tlsKey, autoApprove, limits.options(opts.Logger))
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:9000", "address to listen on")
	f.StringVar(&issuer, "issuer", "", "issuer URL (default: derived from --addr)")
	f.BoolVar(&autoApprove, "auto-approve", false, "approve every valid authorization request without a consent page (tests and CI only)")
	f.StringArrayVar(&clients, "client", nil, "pre-register a client as id:secret (confidential) or id (public); repeatable")
	f.StringArrayVar(&redirects, "client-redirect", nil, "redirect URI of the --client clients (enables the authorization code grant for them); repeatable")
	f.StringArrayVar(&resources, "resource", nil, "resource (MCP server URI) tokens may be issued for; repeatable (default: any)")
	f.StringArrayVar(&scopes, "scope", nil, "supported scope; repeatable (default: any)")
	f.StringVar(&keyFile, "key", "", "PEM file of the token signing key (default: the one in the data directory, generated on first start)")
	f.StringVar(&alg, "alg", "ES256", "signing algorithm of a generated key: ES256 or RS256")
	f.StringVar(&tlsCert, "tls-cert", "", "serve HTTPS with this certificate (PEM)")
	f.StringVar(&tlsKey, "tls-key", "", "private key of --tls-cert (PEM)")
	f.BoolVar(&dev, "dev", false, "development mode: accept client ID metadata documents on loopback hosts")
	f.BoolVar(&noRegister, "no-registration", false, "disable Dynamic Client Registration")
	f.DurationVar(&accessTTL, "access-ttl", authserver.DefaultAccessTokenTTL, "access token lifetime")
	f.DurationVar(&refreshTTL, "refresh-ttl", authserver.DefaultRefreshTokenTTL, "refresh token lifetime")
	f.DurationVar(&unusedTTL, "unused-client-ttl", authserver.DefaultUnusedClientTTL, "forget a registered client this long after registration or after its last token expired")
	f.BoolVar(&noRateLimit, "no-rate-limit", false, "turn off the per-address rate limits (behind a proxy that limits, or for load tests)")
	dataDirFlag(f, &dataDir)
	f.BoolVarP(&verbose, "verbose", "v", false, "log debug messages to stderr")
	cmd.AddCommand(newAuthClientsCmd())
	limits.register(cmd)
	return cmd
}

// serveAuthServer serves as on ln until ctx ends, with the limits of
// httpOpts, then shuts down within its shutdown timeout.
func serveAuthServer(ctx context.Context, stdout, stderr io.Writer, ln net.Listener, as *authserver.Server, certFile, keyFile string, autoApprove bool, httpOpts *httpserve.Options) error {
	hs := httpserve.New(as, httpOpts)
	hs.OnShutdown(func(context.Context) { fmt.Fprintln(stderr, "switchboard auth-server: shutting down") })
	fmt.Fprintln(stdout, as.Issuer())
	mode := "consent page"
	if autoApprove {
		mode = "auto-approve (do not use in production)"
	}
	fmt.Fprintf(stderr, "switchboard auth-server: issuer %s\n  metadata: %s%s\n  approval: %s\n",
		as.Issuer(), as.Issuer(), authserver.WellKnownOAuth, mode)
	if certFile != "" {
		return hs.RunTLS(ctx, ln, certFile, keyFile)
	}
	return hs.Run(ctx, ln)
}
