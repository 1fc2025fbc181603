package servercard_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/servercard"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// serve starts a server whose card is served, on a fixed host name so
// that the golden files do not depend on the port.
func serve(t *testing.T, impl protocol.Implementation, opts *servercard.Options) (*mcp.Server, *httptest.Server) {
	t.Helper()
	srv := mcp.NewServer(impl, nil)
	mux := http.NewServeMux()
	mux.Handle("/mcp", streamable.NewHandler(srv, nil))
	servercard.Mount(mux, opts, servercard.Endpoint{Path: "/mcp", Server: srv})
	hs := httptest.NewServer(mux)
	t.Cleanup(func() { hs.Close(); srv.Close() })
	return srv, hs
}

func get(t *testing.T, url string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	var buf bytes.Buffer
	json.Indent(&buf, got, "", "  ")
	buf.WriteByte('\n')
	p := filepath.Join("testdata", name)
	if *update {
		os.WriteFile(p, buf.Bytes(), 0o644)
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("%s differs from the golden file:\n%s", name, buf.Bytes())
	}
}

func TestCardPathsHeadersAndGoldens(t *testing.T) {
	opts := &servercard.Options{PublicURL: "https://mcp.example.com"}
	_, hs := serve(t, protocol.Implementation{Name: "weather", Title: "Weather", Version: "1.2.0", Description: "Forecasts for any city"}, opts)
	for _, tc := range []struct {
		path, ctype, golden string
	}{
		{"/mcp/server-card", servercard.MediaType, "card.golden.json"},
		{servercard.PathLegacyCard, servercard.MediaType, "card.golden.json"},
		{servercard.PathCatalog, servercard.CatalogMediaType, "catalog.golden.json"},
		{servercard.PathLegacyCatalog, servercard.CatalogMediaType, "catalog.golden.json"},
	} {
		for _, accept := range []string{"", servercard.MediaType, "text/html"} {
			resp, body := get(t, hs.URL+tc.path, map[string]string{"Accept": accept})
			h := resp.Header
			if resp.StatusCode != 200 || h.Get("Content-Type") != tc.ctype || h.Get("Access-Control-Allow-Origin") != "*" ||
				h.Get("Cache-Control") != "public, max-age=3600" || !strings.HasPrefix(h.Get("ETag"), `"`) {
				t.Fatalf("%s (Accept %q): %d %v", tc.path, accept, resp.StatusCode, h)
			}
			golden(t, tc.golden, body)
			// Revalidation.
			resp, body = get(t, hs.URL+tc.path, map[string]string{"If-None-Match": h.Get("ETag")})
			if resp.StatusCode != http.StatusNotModified || len(body) != 0 || resp.Header.Get("ETag") != h.Get("ETag") {
				t.Fatalf("%s: If-None-Match: %d", tc.path, resp.StatusCode)
			}
			resp, _ = get(t, hs.URL+tc.path, map[string]string{"If-None-Match": `"other"`})
			if resp.StatusCode != 200 {
				t.Fatalf("%s: other etag: %d", tc.path, resp.StatusCode)
			}
		}
	}
	_, card := get(t, hs.URL+"/mcp/server-card", nil)
	if err := servercard.Validate(card); err != nil {
		t.Fatal(err)
	}
}

func TestSchemaExamples(t *testing.T) {
	for _, f := range []string{"example-minimal.json", "example-templated-remote.json", "card.golden.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := servercard.Validate(b); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	bad := map[string]string{
		"dated schema":  `{"$schema":"https://static.modelcontextprotocol.io/schemas/2025-12-11/server-card.schema.json","name":"a.b/c","version":"1","description":"d"}`,
		"bad name":      `{"$schema":"` + servercard.SchemaURL + `","name":"nocolon","version":"1","description":"d"}`,
		"missing name":  `{"$schema":"` + servercard.SchemaURL + `","version":"1","description":"d"}`,
		"long desc":     `{"$schema":"` + servercard.SchemaURL + `","name":"a.b/c","version":"1","description":"` + strings.Repeat("x", 101) + `"}`,
		"bad transport": `{"$schema":"` + servercard.SchemaURL + `","name":"a.b/c","version":"1","description":"d","remotes":[{"type":"stdio","url":"https://x"}]}`,
	}
	for name, doc := range bad {
		if servercard.Validate([]byte(doc)) == nil {
			t.Errorf("%s: validated", name)
		}
	}
}

// TestCardMatchesDiscover compares the card with what server/discover and
// initialize report.
func TestCardMatchesDiscover(t *testing.T) {
	for _, impl := range []protocol.Implementation{
		{Name: "com.example/weather", Title: "Weather", Version: "2.0.0", Description: "Forecasts"},
		{Name: "switchboard", Version: "dev"},
	} {
		_, hs := serve(t, impl, nil)
		fs, err := servercard.Fetch(context.Background(), nil, hs.URL+"/mcp")
		if err != nil || len(fs) != 1 || fs[0].Invalid != nil {
			t.Fatalf("fetch: %v %+v", err, fs)
		}
		card := fs[0].Card
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		modern, err := mcp.NewClient(protocol.Implementation{Name: "t", Version: "1"}, &mcp.ClientOptions{DiscoverModern: true}).
			Connect(ctx, streamable.NewDialer(hs.URL+"/mcp", nil))
		if err != nil {
			t.Fatal(err)
		}
		d := modern.DiscoverResult()
		if d == nil {
			t.Fatal("no server/discover result")
		}
		info, _ := d.ServerInfo()
		if err := servercard.Consistent(card, info, d.SupportedVersions); err != nil {
			t.Error(err)
		}
		modern.Close()
		legacy, err := mcp.NewClient(protocol.Implementation{Name: "t", Version: "1"}, nil).Connect(ctx, streamable.NewDialer(hs.URL+"/mcp", nil))
		if err != nil {
			t.Fatal(err)
		}
		if err := servercard.Consistent(card, legacy.ServerInfo(), nil); err != nil {
			t.Error(err)
		}
		legacy.Close()
		if impl.Name == "switchboard" && card.Name != "local/switchboard" {
			t.Errorf("card name %q for a server name without namespace on 127.0.0.1", card.Name)
		}
		// The catalog lists the card.
		fs, err = servercard.Fetch(context.Background(), nil, hs.URL)
		if err != nil || len(fs) != 1 || fs[0].Card.Name != card.Name {
			t.Fatalf("catalog fetch: %v %v", err, fs)
		}
	}
}

func TestIdentifierAndNames(t *testing.T) {
	cases := []struct{ in, want string }{
		{"com.example/weather", "urn:air:example.com:mcp:weather"},
		{"io.github.acme/tools", "urn:air:acme.github.io:mcp:tools"},
	}
	for _, c := range cases {
		if got := servercard.Identifier(c.in); got != c.want {
			t.Errorf("Identifier(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	for host, want := range map[string]string{"mcp.example.com:8443": "com.example.mcp", "127.0.0.1:80": "local", "localhost": "local", "[::1]:80": "local"} {
		if got := servercard.Namespace(host); got != want {
			t.Errorf("Namespace(%q) = %q, want %q", host, got, want)
		}
	}
	if got := servercard.CardName("my server!", "com.example"); got != "com.example/my-server" {
		t.Errorf("CardName: %q", got)
	}
}
