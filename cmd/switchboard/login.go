package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchboard-mcp/switchboard/oauthclient"
)

// loginOptions are the flags of "switchboard login".
type loginOptions struct {
	clientID          string
	clientSecret      string
	clientMetadataURL string
	scopes            []string
	noBrowser         bool
	headless          bool
	port              int
	timeout           time.Duration
	verbose           bool
}

// clientSecretEnv supplies --client-secret without putting it on the
// command line (where other local users can see it).
const clientSecretEnv = "SWITCHBOARD_CLIENT_SECRET"

func newLoginCmd() *cobra.Command {
	var o loginOptions
	cmd := &cobra.Command{
		Use:   "login URL",
		Short: "Authorize with an MCP server and store the access token",
		Long: `Run the MCP authorization flow (OAuth 2.1 with PKCE) against the MCP
server at URL and store the token, encrypted, in the user's config
directory (switchboard/tokens.enc; the key is switchboard/token.key, or
$SWITCHBOARD_TOKEN_KEY as 32 bytes of base64).

The server's authorization server is discovered from the server itself.
The client identifies itself with --client-id/--client-secret when given
(pre-registration), else with --client-metadata-url when the authorization
server supports Client ID Metadata Documents, else by dynamic client
registration.

A listener on 127.0.0.1 receives the redirect: the authorization URL is
printed at once and opened in the browser (unless --no-browser). Approve
in the browser; the authorization server then redirects it to the
listener and the login completes. Without a browser, open the URL in one
yourself on this machine (the redirect goes to 127.0.0.1); login waits up
to --timeout. When no browser can be opened and no terminal is attached
(a script, CI), login fails at once instead of waiting.

--headless follows the URL without a browser, for authorization servers
that approve without a person (test servers, "switchboard serve --auth
--auto-approve", CI).`,
		Example: `  switchboard login https://mcp.example.com/mcp
  switchboard login https://mcp.example.com/mcp --scope files:read --no-browser
  switchboard login http://127.0.0.1:8080/mcp --headless   # against serve --auth --auto-approve
  SWITCHBOARD_CLIENT_SECRET=... switchboard login https://mcp.example.com/mcp --client-id my-app`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.clientSecret == "" {
				o.clientSecret = os.Getenv(clientSecretEnv)
			}
			return runLogin(cmd, args[0], &o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.clientID, "client-id", "", "pre-registered OAuth client id")
	f.StringVar(&o.clientSecret, "client-secret", "", "secret of the pre-registered client (or $"+clientSecretEnv+")")
	f.StringVar(&o.clientMetadataURL, "client-metadata-url", "", "https URL of this client's Client ID Metadata Document, used as client id where supported")
	f.StringSliceVar(&o.scopes, "scope", nil, "scopes to request (repeatable or comma-separated; default: what the server asks for)")
	f.BoolVar(&o.noBrowser, "no-browser", false, "print the authorization URL without opening a browser")
	f.BoolVar(&o.headless, "headless", false, "follow the authorization URL without a browser (auto-approving servers only)")
	f.IntVar(&o.port, "port", 0, "port of the redirect listener on 127.0.0.1 (default: a free port)")
	f.DurationVar(&o.timeout, "timeout", 5*time.Minute, "how long to wait for the authorization")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "log discovery and token requests (never token values) to stderr")
	return cmd
}

func runLogin(cmd *cobra.Command, serverURL string, o *loginOptions) error {
	ctx := cmd.Context()
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	resource, err := oauthclient.CanonicalResource(serverURL)
	if err != nil {
		return err
	}
	if o.clientSecret != "" && o.clientID == "" {
		return fmt.Errorf("--client-secret needs --client-id")
	}
	store, err := oauthclient.DefaultFileStore()
	if err != nil {
		return err
	}
	// Nobody to open the URL by hand: fail at once when no browser opens.
	unattended := !isTerminal(os.Stdin) && !isTerminal(os.Stdout) && !isTerminal(os.Stderr)
	lb, err := oauthclient.NewLoopback(oauthclient.LoopbackOptions{
		Port:           o.port,
		Out:            stderr,
		NoBrowser:      o.noBrowser,
		RequireBrowser: unattended,
		Hint: "Approve there; the authorization server then sends your browser back to this machine\n" +
			"(127.0.0.1) and the login completes. For an authorization server that approves\n" +
			"without a person (a test server, serve --auth --auto-approve), use --headless instead.",
		Timeout: o.timeout,
	})
	if err != nil {
		return err
	}
	defer lb.Close()

	var scopes []string
	for _, s := range o.scopes {
		scopes = append(scopes, strings.Fields(s)...)
	}
	cfg := &oauthclient.Config{
		ServerURL:         serverURL,
		ClientID:          o.clientID,
		ClientSecret:      o.clientSecret,
		ClientMetadataURL: o.clientMetadataURL,
		ClientMetadata:    oauthclient.ClientMetadata{ClientName: "Switchboard CLI", SoftwareVersion: version},
		RedirectURL:       lb.RedirectURL(),
		Authorize:         lb.Authorize,
		Scopes:            scopes,
		TokenStore:        store,
	}
	if o.headless {
		cfg.Authorize = oauthclient.HeadlessAuthorize(nil)
	}
	if o.verbose {
		cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	tok, err := oauthclient.NewTransport(nil, cfg).Login(ctx)
	if errors.Is(err, oauthclient.ErrNoBrowser) {
		return fmt.Errorf("login to %s failed: %w.\nOpen the URL above in a browser on this machine while login waits (run it from a terminal),\nor, for an authorization server that approves without a person, use --headless", resource, err)
	}
	if err != nil {
		return fmt.Errorf("login to %s failed: %w", resource, err)
	}
	printLogin(stdout, tok, store.Path())
	return nil
}

func printLogin(w io.Writer, tok *oauthclient.Token, path string) {
	fmt.Fprintf(w, "Logged in to %s\n", tok.Resource)
	fmt.Fprintf(w, "  authorization server: %s\n", tok.Issuer)
	if len(tok.Scopes) > 0 {
		fmt.Fprintf(w, "  scopes:               %s\n", strings.Join(tok.Scopes, " "))
	}
	if !tok.Expiry.IsZero() {
		fmt.Fprintf(w, "  expires:              %s\n", tok.Expiry.Local().Format(time.RFC1123))
	}
	if tok.RefreshToken != "" {
		fmt.Fprintf(w, "  refreshable:          yes\n")
	}
	fmt.Fprintf(w, "  stored in:            %s\n", path)
}
