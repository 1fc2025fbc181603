package servercard_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/switchboard-mcp/switchboard/gateway"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/servercard"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

// TestGatewayCard serves the card of a gateway's endpoint, as
// "switchboard serve" does, and compares it with what the gateway reports
// to server/discover and initialize.
func TestGatewayCard(t *testing.T) {
	up := mcp.NewServer(protocol.Implementation{Name: "up", Version: "1"}, nil)
	g, err := gateway.New(gateway.Options{Name: "com.example/gateway", Version: "3.1.4",
		Upstreams:      []gateway.Upstream{{Name: "up", Server: up}},
		VirtualServers: []gateway.VirtualServer{{Name: "dev-tools", Title: "Developer tools"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	mux := http.NewServeMux()
	g.Mount(mux)
	eps := []servercard.Endpoint{{Path: gateway.PathMCP, Server: g.Server(), SSEPath: gateway.PathSSE}}
	for _, name := range g.VirtualServerNames() {
		eps = append(eps, servercard.Endpoint{Path: gateway.PathVirtual + name + gateway.PathMCP, Lookup: func() *mcp.Server { return g.VirtualServer(name) }})
	}
	servercard.Mount(mux, nil, eps...)
	hs := httptest.NewServer(mux)
	defer hs.Close()

	fs, err := servercard.Fetch(context.Background(), nil, hs.URL+gateway.PathMCP)
	if err != nil || len(fs) != 1 || fs[0].Invalid != nil || fs[0].ContentType != servercard.MediaType || fs[0].ETag == "" {
		t.Fatalf("fetch: %v %+v", err, fs)
	}
	c := fs[0].Card
	if c.Name != "com.example/gateway" || len(c.Remotes) != 2 || c.Remotes[0].URL != hs.URL+"/mcp" || c.Remotes[1].Type != "sse" || c.Remotes[1].URL != hs.URL+"/sse" {
		t.Fatalf("card %+v", c)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cs, err := mcp.NewClient(protocol.Implementation{Name: "t", Version: "1"}, &mcp.ClientOptions{DiscoverModern: true}).
		Connect(ctx, streamable.NewDialer(hs.URL+gateway.PathMCP, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	d := cs.DiscoverResult()
	if d == nil {
		t.Fatal("the gateway did not answer server/discover")
	}
	info, _ := d.ServerInfo()
	if err := servercard.Consistent(c, info, d.SupportedVersions); err != nil {
		t.Fatal(err)
	}
	// The virtual server's card, and its server/discover.
	fs, err = servercard.Fetch(context.Background(), nil, hs.URL+"/v/dev-tools/mcp")
	if err != nil || len(fs) != 1 || fs[0].Invalid != nil {
		t.Fatalf("virtual server card: %v %+v", err, fs)
	}
	vc := fs[0].Card
	vs, err := mcp.NewClient(protocol.Implementation{Name: "t", Version: "1"}, &mcp.ClientOptions{DiscoverModern: true}).
		Connect(ctx, streamable.NewDialer(hs.URL+"/v/dev-tools/mcp", nil))
	if err != nil {
		t.Fatal(err)
	}
	defer vs.Close()
	vd := vs.DiscoverResult()
	vinfo, _ := vd.ServerInfo()
	if err := servercard.Consistent(vc, vinfo, vd.SupportedVersions); err != nil || vc.Title != "Developer tools" || len(vc.Remotes) != 1 {
		t.Fatalf("virtual server card %+v: %v", vc, err)
	}
	// The catalog lists both.
	fs, err = servercard.Fetch(context.Background(), nil, hs.URL)
	if err != nil || len(fs) != 2 {
		t.Fatalf("catalog: %v %d", err, len(fs))
	}
	// The older paths answer too.
	for _, p := range []string{servercard.PathCatalog, servercard.PathLegacyCatalog, servercard.PathLegacyCard} {
		resp, err := http.Get(hs.URL + p)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %v %v", p, resp, err)
		}
		resp.Body.Close()
	}
}
