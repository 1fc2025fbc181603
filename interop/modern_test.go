package interop

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// Revision 2026-07-28 in both directions: parts A26 (the Go peers' clients
// left at their defaults, which try 2026-07-28 first, against our demo
// server) and B26 (our client at 2026-07-28 against the Go peers' servers).
// The 2025-11-25 cells of parts A and B run in the same test run.

// modernVersion is the stateless revision these cells negotiate.
const modernVersion = "2026-07-28"

// Rows shared by parts B and B26: the peer servers' multi round-trip
// tools (ask_llm_mrtr, ask_user_mrtr), which return input requests to a
// 2026-07-28 client and send server-initiated requests to an earlier one.
const (
	featureSamplingMRTR = "sampling (multi round-trip handler)"
	featureElicitMRTR   = "elicitation (multi round-trip handler)"
)

// stepsA26 are the rows of part A26: the discovery, then the rows of part A
// that 2026-07-28 keeps (no ping, no resources/subscribe, which it
// replaced with subscriptions/listen), including the tools that elicit and
// sample, which our server answers with input_required results.
func stepsA26() []stepA {
	steps := []stepA{{feature: "server/discover (peer default, 2026-07-28)", run: func(ctx context.Context, t *cellT, p peerClient, st *stateA) {
		ir := p.InitializeResult()
		v := ir["protocolVersion"]
		t.annotate(fmt.Sprint(v))
		if v != modernVersion {
			t.Errorf("negotiated %v, want %s", v, modernVersion)
		}
		if info, _ := ir["serverInfo"].(obj); info["name"] != "switchboard-everything" {
			t.Errorf("serverInfo = %s", mustJSON(ir["serverInfo"]))
		}
		caps, _ := ir["capabilities"].(obj)
		for _, c := range []string{"tools", "resources", "prompts"} {
			if _, ok := caps[c]; !ok {
				t.Errorf("capability %q missing: %s", c, mustJSON(caps))
			}
		}
	}}, stepLogLevel26}
	for _, f := range []string{
		"tools/list",
		"resources/list",
		"resources/templates/list",
		"prompts/list",
		"tools/call echo",
		"tools/call add (structured)",
		"tools/call test_embedded_resource",
		"tools/call test_tool_with_logging (+ log notifications)",
		"tools/call test_tool_with_progress (+ progress)",
		"tools/call test_error_handling (isError)",
		"tools/call unknown tool (error)",
		"sampling (test_sampling)",
		"elicitation (test_elicitation)",
		"elicitation defaults (SEP-1034)",
		"resources/read text",
		"resources/read binary",
		"resources/read template",
		"resources/read unknown (error)",
		"prompts/get simple",
		"prompts/get with arguments",
		"completion/complete",
	} {
		steps = append(steps, stepAByFeature(f))
	}
	return steps
}

// stepLogLevel26 sets the log level the way the peer does at 2026-07-28,
// which removed logging/setLevel for a per-request
// io.modelcontextprotocol/logLevel in _meta. A peer that still sends the
// request is refused by our server (correctly), and the cell is skipped
// with the refusal as its note.
var stepLogLevel26 = stepA{feature: "log level (2026: _meta logLevel, no logging/setLevel)", run: func(ctx context.Context, t *cellT, p peerClient, st *stateA) {
	if err := p.SetLevel(ctx, "info"); err != nil {
		t.Skipf("peer limitation: the client sent logging/setLevel, which 2026-07-28 removed, and our server refused it: %v", err)
	}
}}

// stepAByFeature returns the row of part A named feature.
func stepAByFeature(feature string) stepA {
	for _, s := range stepsA {
		if s.feature == feature {
			return s
		}
	}
	panic("interop: no row " + feature + " in part A")
}

func featuresOfA(steps []stepA) []string {
	out := make([]string, len(steps))
	for i, s := range steps {
		out[i] = s.feature
	}
	return out
}

// TestPeerClients2026 is part A26: the go-sdk and mcp-go clients with no
// version pinned (so each sends server/discover for 2026-07-28 first) and
// with their sampling and elicitation handlers, against
// `switchboard demo everything` over stdio and Streamable HTTP.
func TestPeerClients2026(t *testing.T) {
	t.Parallel()
	peers := []struct {
		name    string
		connect connectA
	}{
		{"go-sdk", connectGoSDK("")},
		{"mcp-go", connectMCPGo("")},
	}
	steps := stepsA26()
	features := featuresOfA(steps)
	for _, peer := range peers {
		for _, transport := range []string{"stdio", "http"} {
			t.Run(peer.name+"/"+transport, func(t *testing.T) {
				t.Parallel()
				setupDone := guardSetup(t, "A26", peer.name, transport, features)
				needBins(t)
				ctx := testContext(t, 60*time.Second)
				var cmdline []string
				var url string
				if transport == "http" {
					url = startDemoHTTP(t).URL
				} else {
					cmdline = demoStdioCommand()
				}
				connectCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
				p, err := peer.connect(connectCtx, t, transport, cmdline, url)
				cancel()
				if err != nil {
					failColumn(t, "A26", peer.name, transport, features, fmt.Sprintf("connect: %v", err))
				}
				t.Cleanup(func() {
					if err := p.Close(); err != nil {
						t.Logf("close: %v", err)
					}
				})
				setupDone()
				st := &stateA{transport: transport}
				for _, s := range steps {
					runCell(t, cellKey{"A26", peer.name, transport, s.feature}, func(c *cellT) {
						stepCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
						defer cancel()
						s.run(stepCtx, c, p, st)
					})
				}
			})
		}
	}
}

// goPeerSteps2026 are the rows of part B26 for the go-sdk and mcp-go
// servers: those of part B that 2026-07-28 keeps, with sampling and
// elicitation through the servers' multi round-trip tools only (both
// SDKs refuse to send server-initiated requests at 2026-07-28).
func goPeerSteps2026(serverName string, lossyProgress bool) []stepB {
	legacy := map[string]stepB{}
	for _, s := range goPeerSteps(serverName, lossyProgress) {
		legacy[s.feature] = s
	}
	steps := []stepB{{"server/discover (2026-07-28)", func(ctx context.Context, t *cellT, p peerClient) {
		ir := p.InitializeResult()
		v := ir["protocolVersion"]
		t.annotate(fmt.Sprint(v))
		if v != modernVersion {
			t.Errorf("protocolVersion = %v, want %s", v, modernVersion)
		}
		if info, _ := ir["serverInfo"].(obj); info["name"] != serverName {
			t.Errorf("serverInfo = %s, want name %q", mustJSON(info), serverName)
		}
	}}}
	for _, f := range []string{
		"tools/list",
		"resources/list",
		"resources/templates/list",
		"prompts/list",
		"logging/setLevel",
		"tools/call echo",
		"tools/call structured output",
		"progress notifications",
		"log notifications",
		featureSamplingMRTR,
		featureElicitMRTR,
		"resources/read text",
		"resources/read template",
		"prompts/get",
		"completion/complete (prompt)",
		"resources/subscribe + updated",
		"tools/call unknown tool (error)",
	} {
		s, ok := legacy[f]
		if !ok {
			panic("interop: no row " + f + " in part B")
		}
		steps = append(steps, s)
	}
	return steps
}

// TestOurClient2026 is part B26: Switchboard's client with
// ClientOptions.ProtocolVersion 2026-07-28 (no fallback to initialize)
// against the go-sdk and mcp-go servers over stdio and Streamable HTTP.
func TestOurClient2026(t *testing.T) {
	t.Parallel()
	servers := []struct {
		srv   serverB
		steps []stepB
	}{
		{goSDKServerB(), goPeerSteps2026("interop-gosdk-server", false)},
		{mcpGoServerB(), goPeerSteps2026("interop-mcpgo-server", true)},
	}
	// The go-sdk serves 2026-07-28 over HTTP only from its stateless
	// handler.
	servers[0].srv.start = func(t *testing.T, transport string) ([]string, string) {
		return startGoPeer(t, bins.gosdkServer, transport, "-stateless")
	}
	for _, s := range servers {
		srv := s.srv
		srv.steps = s.steps
		features := featuresB(srv)
		for _, transport := range []string{"stdio", "http"} {
			t.Run(srv.name+"/"+transport, func(t *testing.T) {
				t.Parallel()
				setupDone := guardSetup(t, "B26", srv.name, transport, features)
				needBins(t)
				ctx := testContext(t, 60*time.Second)
				cmdline, url := srv.start(t, transport)
				d, err := dialerFor(t, transport, cmdline, url)
				if err != nil {
					t.Fatal(err)
				}
				connectCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
				p, err := connectOurs(connectCtx, d, modernVersion)
				cancel()
				if err != nil {
					failColumn(t, "B26", srv.name, transport, features, fmt.Sprintf("connect: %v", err))
				}
				t.Cleanup(func() {
					if err := p.Close(); err != nil {
						t.Logf("close: %v", err)
					}
				})
				setupDone()
				for _, st := range srv.steps {
					runCell(t, cellKey{"B26", srv.name, transport, st.feature}, func(c *cellT) {
						stepCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
						defer cancel()
						st.run(stepCtx, c, p)
					})
				}
			})
		}
	}
}
