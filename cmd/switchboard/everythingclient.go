package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/spf13/cobra"

	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/oauthclient"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

// newEverythingClientCmd is the client the official conformance suite
// drives: it reads the scenario from MCP_CONFORMANCE_SCENARIO and acts it
// out against the URL the suite appends.
func newEverythingClientCmd() *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "everything-client URL",
		Short: "The scenario-driven client run by the MCP conformance suite",
		Long: `Connect to URL and act out the conformance scenario named by the
MCP_CONFORMANCE_SCENARIO environment variable (with the data in
MCP_CONFORMANCE_CONTEXT, a JSON object, for scenarios that need it).
The official conformance suite (npx @modelcontextprotocol/conformance client
--command "switchboard demo everything-client") starts it once per scenario.

Scenarios: initialize, tools_call, elicitation-sep1034-client-defaults,
sse-retry, and the auth/* scenarios. An unknown scenario gets the basic
behaviour: initialize, list tools, close.`,
		Example: `  MCP_CONFORMANCE_SCENARIO=tools_call switchboard demo everything-client http://127.0.0.1:3000/mcp
  npx @modelcontextprotocol/conformance client --command "switchboard demo everything-client" --scenario initialize`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			scenario := os.Getenv("MCP_CONFORMANCE_SCENARIO")
			return runScenario(ctx, scenario, os.Getenv("MCP_CONFORMANCE_CONTEXT"), args[0])
		},
	}
	cmd.Flags().DurationVar(&timeout, "timeout", 25*time.Second, "give up after this long")
	return cmd
}

func runScenario(ctx context.Context, scenario, scenarioCtx, url string) error {
	logf := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "everything-client [%s]: %s\n", scenario, fmt.Sprintf(format, args...))
	}
	opts := &mcp.ClientOptions{}
	httpClient := &http.Client{}
	var call func(ctx context.Context, cs *mcp.ClientSession) error

	switch {
	case scenario == "tools_call":
		call = func(ctx context.Context, cs *mcp.ClientSession) error {
			return callAndCheck(ctx, cs, "add_numbers", map[string]any{"a": 5, "b": 3})
		}
	case scenario == "elicitation-sep1034-client-defaults":
		opts.Elicit = func(_ context.Context, _ *mcp.ClientSession, p *protocol.ElicitRequestParams) (*protocol.ElicitResult, error) {
			logf("elicitation %q: accepting with empty content; defaults fill it", p.Message)
			return &protocol.ElicitResult{Action: protocol.ElicitActionAccept, Content: map[string]any{}}, nil
		}
		opts.ApplyElicitDefaults = true
		call = func(ctx context.Context, cs *mcp.ClientSession) error {
			return callAndCheck(ctx, cs, "test_client_elicitation_defaults", map[string]any{})
		}
	case scenario == "sse-retry":
		call = func(ctx context.Context, cs *mcp.ClientSession) error {
			return callAndCheck(ctx, cs, "test_reconnection", map[string]any{})
		}
	case strings.HasPrefix(scenario, "auth/"):
		rt, err := conformanceAuth(ctx, scenario, scenarioCtx, url, logf)
		if err != nil {
			return err
		}
		httpClient.Transport = rt
		call = func(ctx context.Context, cs *mcp.ClientSession) error {
			if !strings.HasPrefix(scenario, "auth/client-credentials") {
				return callAndCheck(ctx, cs, "test-tool", map[string]any{})
			}
			return nil
		}
	}

	conformanceRevision(opts)
	if call == nil {
		call = modernScenario(scenario, scenarioCtx, opts, logf)
	}
	c := mcp.NewClient(protocol.Implementation{Name: "switchboard-everything-client", Version: version}, opts)
	var d transport.Dialer = streamable.NewDialer(url, &streamable.ClientOptions{HTTPClient: httpClient})
	cs, err := c.Connect(ctx, d)
	if err != nil {
		return err
	}
	defer cs.Close()
	logf("connected: %s %s, protocol %s", cs.ServerInfo().Name, cs.ServerInfo().Version, cs.ProtocolVersion())
	n := 0
	for _, err := range cs.Tools(ctx) {
		if err != nil {
			return fmt.Errorf("listing tools: %w", err)
		}
		n++
	}
	logf("listed %d tools", n)
	if call != nil {
		if err := call(ctx, cs); err != nil {
			return err
		}
	}
	return nil
}

func callAndCheck(ctx context.Context, cs *mcp.ClientSession, name string, args map[string]any) error {
	res, err := cs.CallToolArgs(ctx, name, args)
	if err != nil {
		return fmt.Errorf("calling %s: %w", name, err)
	}
	if res.IsError {
		return fmt.Errorf("tool %s reported an error", name)
	}
	fmt.Fprintf(os.Stderr, "everything-client: %s returned %d content blocks\n", name, len(res.Content))
	return nil
}

// conformanceCIMDURL is the client_id URL the suite's auth/basic-cimd
// scenario expects.
const conformanceCIMDURL = "https://conformance-test.local/client-metadata.json"

// conformanceContext is MCP_CONFORMANCE_CONTEXT: the data an auth scenario
// hands to the client.
type conformanceContext struct {
	Name             string `json:"name"`
	ClientID         string `json:"client_id"`
	ClientSecret     string `json:"client_secret"`
	PrivateKeyPEM    string `json:"private_key_pem"`
	SigningAlgorithm string `json:"signing_algorithm"`
	IDPClientID      string `json:"idp_client_id"`
	IDPIDToken       string `json:"idp_id_token"`
	IDPIssuer        string `json:"idp_issuer"`
	IDPTokenEndpoint string `json:"idp_token_endpoint"`
	ValidJWT         string `json:"valid_jwt"`
}

// conformanceAuth returns the OAuth round tripper for an auth scenario: a
// headless authorization code flow (the suite's authorization server
// approves at once and redirects; the client reads the code from the
// redirect without following it), or the scenario's client credentials.
func conformanceAuth(ctx context.Context, scenario, raw, serverURL string, logf func(string, ...any)) (http.RoundTripper, error) {
	var sc conformanceContext
	if raw != "" {
		if err := json.Unmarshal([]byte(raw), &sc); err != nil {
			return nil, fmt.Errorf("MCP_CONFORMANCE_CONTEXT: %w", err)
		}
	}
	const redirect = "http://localhost:3000/callback"
	cfg := &oauthclient.Config{
		ServerURL:         serverURL,
		RedirectURL:       redirect,
		Authorize:         oauthclient.HeadlessAuthorize(nil),
		ClientMetadataURL: conformanceCIMDURL,
		ClientMetadata:    oauthclient.ClientMetadata{ClientName: "switchboard-everything-client"},
		Logger:            slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})),
		// DPoP-bound tokens from authorization servers that offer them
		// (auth/dpop, auth/dpop-nonce).
		DPoP: oauthclient.DPoPAuto,
	}
	switch scenario {
	case "auth/pre-registration":
		cfg.ClientID, cfg.ClientSecret = sc.ClientID, sc.ClientSecret
		cfg.ClientMetadataURL = ""
	case "auth/client-credentials-basic":
		cfg.Grant = oauthclient.GrantClientCredentials
		cfg.ClientID, cfg.ClientSecret = sc.ClientID, sc.ClientSecret
		cfg.ClientAuthMethod = oauthclient.AuthMethodClientSecretBasic
	case "auth/client-credentials-jwt":
		key, err := oauthclient.ParsePrivateKeyPEM([]byte(sc.PrivateKeyPEM))
		if err != nil {
			return nil, err
		}
		cfg.Grant = oauthclient.GrantClientCredentials
		cfg.ClientID = sc.ClientID
		cfg.PrivateKey, cfg.SigningAlg = key, sc.SigningAlgorithm
		cfg.ClientAuthMethod = oauthclient.AuthMethodPrivateKeyJWT
	case "auth/wif-jwt-bearer":
		// Workload identity federation: the platform's token is the
		// grant; no client id, no registration, no retry on failure.
		cfg.Grant = oauthclient.GrantJWTBearer
		cfg.Assertion = oauthclient.StaticAssertion(sc.ValidJWT)
		cfg.ClientMetadataURL = ""
	case "auth/cross-app-access-complete-flow", "auth/enterprise-managed-authorization":
		x := &oauthclient.IDJAGExchange{
			TokenEndpoint: sc.IDPTokenEndpoint,
			IDToken:       sc.IDPIDToken,
			ClientID:      sc.IDPClientID,
		}
		cfg.Grant = oauthclient.GrantJWTBearer
		cfg.Assertion = x.Assertion
		cfg.ClientID, cfg.ClientSecret = sc.ClientID, sc.ClientSecret
	}
	logf("authorization: grant %q", orDefault(cfg.Grant, oauthclient.GrantAuthorizationCode))
	return oauthclient.NewTransport(nil, cfg), nil
}
