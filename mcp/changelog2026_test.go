package mcp_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/internal/everything"
	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

// One test per item of the changelog of revision 2026-07-28 (the spec's
// docs/changelog.mdx), named after it, end to end over Streamable HTTP
// (httptest, the streamable handler and the everything demo server) and
// over stdio. docs/revisions.md maps every item to these tests.

// Major 7 (MRTR) and the design requirement "one handler": our client in
// 2026 mode calls test_elicitation and test_sampling, whose handlers call
// req.Elicit and req.CreateMessage, and gets the results through
// input_required round trips; a 2025-11-25 client calls the same handlers
// at the same time and gets them through server-initiated requests.
func TestChangelog_MRTR_OurClientElicitationAndSampling(t *testing.T) {
	for _, tr := range []string{"http", "stdio"} {
		t.Run(tr, func(t *testing.T) {
			srv := everything.NewServer(nil)
			var modern, legacy *mcp.ClientSession
			if tr == "http" {
				s := c26NewHTTP(t, srv, nil)
				modern = c26Client(t, streamable.NewDialer(s.ts.URL, nil), c26Handlers(&mcp.ClientOptions{ProtocolVersion: v26}))
				legacy = c26Client(t, streamable.NewDialer(s.ts.URL, nil), c26Handlers(&mcp.ClientOptions{ProtocolVersion: protocol.Version20251125}))
			} else {
				modern = c26Client(t, c26Pipe(t, srv), c26Handlers(&mcp.ClientOptions{ProtocolVersion: v26}))
				legacy = c26Client(t, c26Pipe(t, srv), c26Handlers(&mcp.ClientOptions{ProtocolVersion: protocol.Version20251125}))
			}
			if !modern.Stateless() || modern.ProtocolVersion() != v26 || legacy.Stateless() || legacy.ProtocolVersion() != protocol.Version20251125 {
				t.Fatalf("modern %v %s, legacy %v %s", modern.Stateless(), modern.ProtocolVersion(), legacy.Stateless(), legacy.ProtocolVersion())
			}
			if modern.SessionID() != "" {
				t.Errorf("a 2026-07-28 session has the session id %q", modern.SessionID())
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			var wg sync.WaitGroup
			for _, cs := range []*mcp.ClientSession{modern, legacy} {
				for range 3 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						res, err := cs.CallToolArgs(ctx, "test_elicitation", map[string]any{"message": "who?"})
						if err != nil {
							t.Errorf("%s: test_elicitation: %v", cs.ProtocolVersion(), err)
							return
						}
						if got := c26Text(t, res); got != `User response: action=accept, content={"response":"answer-to-response"}` {
							t.Errorf("%s: test_elicitation = %q", cs.ProtocolVersion(), got)
						}
						res, err = cs.CallToolArgs(ctx, "test_sampling", map[string]any{"prompt": "hi"})
						if err != nil {
							t.Errorf("%s: test_sampling: %v", cs.ProtocolVersion(), err)
							return
						}
						if got := c26Text(t, res); got != "LLM response: sampled" {
							t.Errorf("%s: test_sampling = %q", cs.ProtocolVersion(), got)
						}
					}()
				}
			}
			wg.Wait()
		})
	}
}

func TestChangelog_ServerDiscover(t *testing.T) {
	s := c26NewHTTP(t, everything.NewServer(&mcp.ServerOptions{Instructions: "use the demo"}), nil)
	r := s.post(1, protocol.MethodServerDiscover, c26Params(nil, c26Meta(nil)), nil)
	if r.status != http.StatusOK || r.header.Get(streamable.HeaderSessionID) != "" {
		t.Fatalf("status %d, session id %q", r.status, r.header.Get(streamable.HeaderSessionID))
	}
	var res protocol.DiscoverResult
	raw := r.result(t, &res)
	info, ok := res.ServerInfo()
	if res.ResultType != protocol.ResultTypeComplete || !ok || info.Name != "switchboard-everything" ||
		!slices.Equal(res.SupportedVersions, append([]string{v26}, protocol.SupportedVersions...)) ||
		res.Capabilities.Tools == nil || res.Instructions != "use the demo" || res.TTLMs != mcp.DefaultListTTL.Milliseconds() || res.CacheScope != protocol.CacheScopePrivate {
		t.Errorf("discover = %s", raw)
	}
	if _, ok := res.Capabilities.Extensions[protocol.ExtensionTasks]; !ok {
		t.Errorf("the tasks extension is not advertised: %s", raw)
	}
}

var _ = jsontext.Value(nil)
var _ = json.Marshal
var _ = strings.Contains
var _ = jsonrpc.ID{}
