// Package servercard serves and fetches MCP Server Cards (SEP-2127, the
// io.modelcontextprotocol/server-card extension, Draft): static documents
// that describe a remote MCP server — name, version, description, its
// endpoints and the protocol revisions they speak — so that clients,
// crawlers and registries can discover it without connecting.
//
// A server built with package mcp serves its card beside its Streamable
// HTTP endpoint:
//
//	srv := mcp.NewServer(protocol.Implementation{Name: "com.example/weather", Version: "1.2.0",
//		Description: "Forecasts for any city"}, nil)
//	mux.Handle("/mcp", streamable.NewHandler(srv, nil))
//	servercard.Mount(mux, servercard.Endpoint{Path: "/mcp", Server: srv})
//
// Mount answers GET /mcp/server-card (the reserved location, whatever the
// Accept header), /.well-known/ai-catalog.json (the AI Catalog listing
// every endpoint's card), and the two older paths still in use,
// /.well-known/mcp/server-card.json and /.well-known/mcp/catalog.json.
// Responses are application/mcp-server-card+json (application/ai-catalog+json
// for catalogs) with a strong ETag (If-None-Match answers 304),
// Cache-Control: public, max-age=3600 and Access-Control-Allow-Origin: *.
//
// Cards are generated from the server's own metadata, the same that
// initialize and server/discover report: a card's name, version and title
// are the serverInfo's, and its remote's supportedProtocolVersions are the
// revisions the server serves. The card format requires a reverse-DNS
// name ("namespace/name"): a server whose name has no slash gets one from
// Options.Namespace (default: the reversed host name).
//
// [Fetch] is the client side: it reads a card (or the card of an MCP
// endpoint) and checks it against the card schema ([Validate]).
package servercard

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
)

// Media types, paths and identifiers of the extension.
const (
	// SchemaURL is the card's required $schema.
	SchemaURL = "https://static.modelcontextprotocol.io/schemas/v1/server-card.schema.json"
	// MediaType is a card's media type.
	MediaType = "application/mcp-server-card+json"
	// CatalogMediaType is an AI Catalog's media type.
	CatalogMediaType = "application/ai-catalog+json"
	// ExtensionID names the extension.
	ExtensionID = "io.modelcontextprotocol/server-card"
	// CardSuffix is appended to a Streamable HTTP endpoint's path for its
	// card.
	CardSuffix = "/server-card"
	// PathCatalog is the AI Catalog's well-known path.
	PathCatalog = "/.well-known/ai-catalog.json"
	// PathLegacyCard and PathLegacyCatalog are older paths still probed
	// by scanners; they answer the first endpoint's card and the catalog.
	PathLegacyCard    = "/.well-known/mcp/server-card.json"
	PathLegacyCatalog = "/.well-known/mcp/catalog.json"
	// CacheControl is sent with cards and catalogs.
	CacheControl = "public, max-age=3600"
)

// Card is a Server Card.
type Card struct {
	// Schema is SchemaURL.
	Schema string `json:"$schema"`
	// Name is the server's name, "namespace/name" in reverse-DNS form.
	Name string `json:"name"`
	// Version is the server's version.
	Version string `json:"version"`
	// Description says what the server does (at most 100 characters).
	Description string `json:"description"`
	// Title is a display name.
	Title string `json:"title,omitempty"`
	// WebsiteURL is the server's website.
	WebsiteURL string `json:"websiteUrl,omitempty"`
	// Repository is the server's source repository.
	Repository *Repository `json:"repository,omitempty"`
	// Icons are icons for user interfaces.
	Icons []Icon `json:"icons,omitempty"`
	// Remotes are the server's endpoints.
	Remotes []Remote `json:"remotes,omitempty"`
	// Meta is extension metadata.
	Meta map[string]any `json:"_meta,omitempty"`
}

// Repository is the server's source repository.
type Repository struct {
	// URL is the repository's URL.
	URL string `json:"url"`
	// Source is the hosting service ("github").
	Source string `json:"source"`
	// Subfolder is the server's path inside the repository.
	Subfolder string `json:"subfolder,omitempty"`
	// ID is the hosting service's repository identifier.
	ID string `json:"id,omitempty"`
}

// Icon is an icon of the server.
type Icon struct {
	// Src is the icon's URL.
	Src string `json:"src"`
	// MimeType is its media type.
	MimeType string `json:"mimeType,omitempty"`
	// Sizes are its sizes ("48x48", "any").
	Sizes []string `json:"sizes,omitempty"`
	// Theme is "light" or "dark".
	Theme string `json:"theme,omitempty"`
}

// Remote is an endpoint of the server.
type Remote struct {
	// Type is "streamable-http" or "sse".
	Type string `json:"type"`
	// URL is the endpoint (a template).
	URL string `json:"url"`
	// Headers are headers a client sends.
	Headers []KeyValueInput `json:"headers,omitempty"`
	// Variables define the {variables} of URL.
	Variables map[string]Input `json:"variables,omitempty"`
	// SupportedProtocolVersions are the protocol revisions the endpoint serves.
	SupportedProtocolVersions []string `json:"supportedProtocolVersions,omitempty"`
}

// Input is a value a client may have to supply.
type Input struct {
	// Description says what the input is for.
	Description string `json:"description,omitempty"`
	// IsRequired marks an input the connection needs.
	IsRequired bool `json:"isRequired,omitempty"`
	// IsSecret marks a secret.
	IsSecret bool `json:"isSecret,omitempty"`
	// Format is "string", "number", "boolean" or "filepath".
	Format string `json:"format,omitempty"`
	// Value is a fixed value.
	Value string `json:"value,omitempty"`
	// Default is the value when none is given.
	Default string `json:"default,omitempty"`
	// Placeholder is an example shown to the user.
	Placeholder string `json:"placeholder,omitempty"`
	// Choices are the allowed values.
	Choices []string `json:"choices,omitempty"`
}

// KeyValueInput is a header.
type KeyValueInput struct {
	Input
	// Name is the header's name.
	Name string `json:"name"`
	// Variables define the {variables} of Value.
	Variables map[string]Input `json:"variables,omitempty"`
}

// Catalog is an AI Catalog (/.well-known/ai-catalog.json).
type Catalog struct {
	// SpecVersion is the AI Catalog version, "1.0".
	SpecVersion string `json:"specVersion"`
	// Entries are the cards listed.
	Entries []Entry `json:"entries"`
}

// Entry is an AI Catalog entry pointing at a card.
type Entry struct {
	// Identifier is the card's URN (see Identifier).
	Identifier string `json:"identifier"`
	// Type is MediaType for a Server Card.
	Type string `json:"type"`
	// URL is where the card is.
	URL string `json:"url,omitempty"`
	// Data is the card itself, instead of URL.
	Data *Card `json:"data,omitempty"`
}

var namePattern = regexp.MustCompile(`^[a-zA-Z0-9.-]+/[a-zA-Z0-9._-]+$`)

// Options adjust the cards made by [FromServer] and [Mount].
type Options struct {
	// Namespace is the reverse-DNS namespace given to a server name
	// without a slash (default: the reversed host name of the endpoint's
	// URL, or "local" for an IP address or a single-label host).
	Namespace string
	// PublicURL is the external base URL of the endpoints (default: each
	// request's scheme and host, X-Forwarded-Proto honored).
	PublicURL string
	// SSEPath, if set, adds the legacy HTTP+SSE endpoint at this path as
	// a second remote ([FromServer]; [Mount] takes it from each
	// [Endpoint]).
	SSEPath string
	// Edit, if set, may change each generated card (add headers,
	// repository, _meta).
	Edit func(*Card)
}

// Namespace derives a card namespace from a host: the reversed DNS name
// ("mcp.example.com" gives "com.example.mcp"), or "local".
func Namespace(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if host == "" || net.ParseIP(host) != nil || !strings.Contains(host, ".") || !regexp.MustCompile(`^[a-zA-Z0-9.-]+$`).MatchString(host) {
		return "local"
	}
	p := strings.Split(strings.ToLower(host), ".")
	slices.Reverse(p)
	return strings.Join(p, ".")
}

// CardName is the card name of a server name: the name itself when it
// is already "namespace/name", else namespace + "/" + the name with
// characters a card name cannot hold replaced by "-".
func CardName(serverName, namespace string) string {
	if namePattern.MatchString(serverName) {
		return serverName
	}
	n := regexp.MustCompile(`[^a-zA-Z0-9._-]+`).ReplaceAllString(serverName, "-")
	n = strings.Trim(n, "-")
	if n == "" {
		n = "server"
	}
	if namespace == "" {
		namespace = "local"
	}
	return namespace + "/" + n
}

// SupportedVersions are the protocol revisions a server serves, newest
// first: its stateless revisions (2026-07-28) and those it negotiates.
func SupportedVersions(s *mcp.Server) []string {
	v := s.StatelessVersions()
	neg := s.SupportedVersions()
	if neg == nil {
		neg = protocol.SupportedVersions
	}
	for _, x := range neg {
		if !slices.Contains(v, x) {
			v = append(v, x)
		}
	}
	return v
}

// FromServer makes the card of server s served at endpoint (the absolute
// URL of its Streamable HTTP endpoint).
func FromServer(s *mcp.Server, endpoint string, opts *Options) *Card {
	if opts == nil {
		opts = &Options{}
	}
	impl := s.Implementation()
	ns := opts.Namespace
	if ns == "" {
		if u, err := url.Parse(endpoint); err == nil {
			ns = Namespace(u.Host)
		}
	}
	desc := impl.Description
	if desc == "" {
		label := impl.Title
		if label == "" {
			label = impl.Name
		}
		desc = "MCP server " + label
	}
	if r := []rune(desc); len(r) > 100 {
		desc = string(r[:99]) + "…"
	}
	c := &Card{Schema: SchemaURL, Name: CardName(impl.Name, ns), Version: impl.Version, Description: desc,
		Title: impl.Title, WebsiteURL: impl.WebsiteURL}
	if r := []rune(c.Title); len(r) > 100 {
		c.Title = string(r[:100])
	}
	if c.Version == "" {
		c.Version = "0.0.0"
	}
	for _, ic := range impl.Icons {
		c.Icons = append(c.Icons, Icon{Src: ic.Src, MimeType: ic.MIMEType, Sizes: ic.Sizes, Theme: string(ic.Theme)})
	}
	c.Remotes = []Remote{{Type: "streamable-http", URL: endpoint, SupportedProtocolVersions: SupportedVersions(s)}}
	if opts.SSEPath != "" {
		if u, err := url.Parse(endpoint); err == nil {
			u.Path = opts.SSEPath
			var legacy []string
			for _, v := range SupportedVersions(s) {
				if !protocol.IsModernVersion(v) {
					legacy = append(legacy, v)
				}
			}
			c.Remotes = append(c.Remotes, Remote{Type: "sse", URL: u.String(), SupportedProtocolVersions: legacy})
		}
	}
	if opts.Edit != nil {
		opts.Edit(c)
	}
	return c
}

//go:embed server-card.schema.json
var schemaJSON []byte

var cardSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(SchemaURL, doc); err != nil {
		return nil, err
	}
	return c.Compile(SchemaURL + "#/$defs/ServerCard")
})

// Schema returns the card's JSON Schema (the extension's schema.json,
// whose $defs/ServerCard is a card).
func Schema() []byte { return bytes.Clone(schemaJSON) }

// Validate checks a card document against the card schema.
func Validate(doc []byte) error {
	sch, err := cardSchema()
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("servercard: invalid JSON: %w", err)
	}
	if err := sch.Validate(inst); err != nil {
		return fmt.Errorf("servercard: %w", err)
	}
	return nil
}

// Identifier is a card's AI Catalog identifier,
// urn:air:<publisher domain>:mcp:<name without namespace>, the domain
// being the card namespace reversed ("com.example/weather" gives
// urn:air:example.com:mcp:weather).
func Identifier(cardName string) string {
	ns, n, _ := strings.Cut(cardName, "/")
	p := strings.Split(ns, ".")
	slices.Reverse(p)
	return "urn:air:" + strings.Join(p, ".") + ":mcp:" + n
}

// Endpoint is a Streamable HTTP endpoint whose card [Mount] serves.
type Endpoint struct {
	// Path is the endpoint's path ("/mcp"); the card is at Path +
	// "/server-card".
	Path string
	// Server is the MCP server answering there.
	Server *mcp.Server
	// Lookup, when Server is nil, finds the server at each request (for
	// servers a reload may replace); nil from it answers 404.
	Lookup func() *mcp.Server
	// SSEPath is the path of the same server's legacy HTTP+SSE endpoint,
	// if it has one (a second remote of the card).
	SSEPath string
	// Card, if set, makes the card instead of [FromServer] (it gets the
	// endpoint's absolute URL).
	Card func(endpoint string) *Card
}

// Mount adds the cards of the endpoints, the AI Catalog and the legacy
// paths to mux.
func Mount(mux *http.ServeMux, opts *Options, endpoints ...Endpoint) {
	if opts == nil {
		opts = &Options{}
	}
	h := &handler{opts: opts, endpoints: endpoints}
	for i := range endpoints {
		i := i
		mux.Handle(strings.TrimSuffix(endpoints[i].Path, "/")+CardSuffix, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.serveCard(w, r, i)
		}))
	}
	mux.HandleFunc(PathCatalog, h.serveCatalog)
	mux.HandleFunc(PathLegacyCatalog, h.serveCatalog)
	if len(endpoints) > 0 {
		mux.HandleFunc(PathLegacyCard, func(w http.ResponseWriter, r *http.Request) { h.serveCard(w, r, 0) })
	}
}

type handler struct {
	opts      *Options
	endpoints []Endpoint
}

// base is the external base URL of a request.
func (h *handler) base(r *http.Request) string {
	if h.opts.PublicURL != "" {
		return strings.TrimSuffix(h.opts.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "https" || p == "http" {
		scheme = p
	}
	return scheme + "://" + r.Host
}

// card makes endpoint i's card, or nil when its server is gone.
func (h *handler) card(r *http.Request, i int) *Card {
	ep := h.endpoints[i]
	u := h.base(r) + ep.Path
	if ep.Card != nil {
		return ep.Card(u)
	}
	srv := ep.Server
	if srv == nil && ep.Lookup != nil {
		srv = ep.Lookup()
	}
	if srv == nil {
		return nil
	}
	o := *h.opts
	o.SSEPath = ep.SSEPath
	return FromServer(srv, u, &o)
}

func (h *handler) serveCard(w http.ResponseWriter, r *http.Request, i int) {
	c := h.card(r, i)
	if c == nil {
		http.NotFound(w, r)
		return
	}
	b, _ := json.Marshal(c)
	serveDoc(w, r, MediaType, b)
}

func (h *handler) serveCatalog(w http.ResponseWriter, r *http.Request) {
	cat := Catalog{SpecVersion: "1.0", Entries: []Entry{}}
	for i, ep := range h.endpoints {
		c := h.card(r, i)
		if c == nil {
			continue
		}
		cat.Entries = append(cat.Entries, Entry{Identifier: Identifier(c.Name), Type: MediaType,
			URL: h.base(r) + strings.TrimSuffix(ep.Path, "/") + CardSuffix})
	}
	b, _ := json.Marshal(cat)
	serveDoc(w, r, CatalogMediaType, b)
}

// ETag returns the strong entity tag of a body.
func ETag(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

// serveDoc serves a card or catalog with the extension's HTTP rules.
func serveDoc(w http.ResponseWriter, r *http.Request, mediaType string, body []byte) {
	hd := w.Header()
	hd.Set("Access-Control-Allow-Origin", "*")
	hd.Set("Access-Control-Allow-Methods", "GET")
	hd.Set("Access-Control-Allow-Headers", "Content-Type")
	hd.Set("Access-Control-Expose-Headers", "ETag")
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	case http.MethodOptions:
		w.WriteHeader(http.StatusNoContent)
		return
	default:
		hd.Set("Allow", "GET, HEAD, OPTIONS")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	tag := ETag(body)
	hd.Set("ETag", tag)
	hd.Set("Cache-Control", CacheControl)
	hd.Add("Vary", "Host, X-Forwarded-Proto")
	if inm := r.Header.Get("If-None-Match"); inm != "" && matchETag(inm, tag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hd.Set("Content-Type", mediaType)
	hd.Set("Content-Length", fmt.Sprint(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	w.Write(body)
}

func matchETag(header, tag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || t == tag || strings.TrimPrefix(t, "W/") == tag {
			return true
		}
	}
	return false
}

// Fetched is a card read by [Fetch].
type Fetched struct {
	// URL is where the card was read.
	URL string
	// Card is the decoded card.
	Card *Card
	// Raw is the document as served.
	Raw []byte
	// ContentType is the served media type.
	ContentType string
	// ETag is the served entity tag.
	ETag string
	// Invalid is the schema violation, nil for a valid card.
	Invalid error
}

// Fetch reads a Server Card. target is a card's URL, an MCP endpoint's
// URL (its card is at target + "/server-card"), or an AI Catalog's URL
// (every card it lists is read). A card that does not validate is still
// returned, with Invalid set.
func Fetch(ctx context.Context, client *http.Client, target string) ([]*Fetched, error) {
	if client == nil {
		client = http.DefaultClient
	}
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("servercard: %q is not an http(s) URL", target)
	}
	p := u.Path
	switch {
	case strings.HasSuffix(p, CardSuffix), strings.HasSuffix(p, ".json"):
	case p == "" || p == "/":
		u.Path = PathCatalog
	default:
		u.Path = strings.TrimSuffix(p, "/") + CardSuffix
	}
	raw, ct, tag, err := get(ctx, client, u.String())
	if err != nil {
		return nil, err
	}
	var probe struct {
		SpecVersion string  `json:"specVersion"`
		Entries     []Entry `json:"entries"`
	}
	if json.Unmarshal(raw, &probe) == nil && probe.Entries != nil {
		var out []*Fetched
		for _, e := range probe.Entries {
			if e.Type != MediaType {
				continue
			}
			if e.Data != nil {
				b, _ := json.Marshal(e.Data)
				out = append(out, decode(e.Identifier, b, MediaType, ""))
				continue
			}
			eu, err := u.Parse(e.URL)
			if err != nil {
				return out, fmt.Errorf("servercard: catalog entry %s: %w", e.Identifier, err)
			}
			b, ct, tag, err := get(ctx, client, eu.String())
			if err != nil {
				return out, err
			}
			out = append(out, decode(eu.String(), b, ct, tag))
		}
		return out, nil
	}
	return []*Fetched{decode(u.String(), raw, ct, tag)}, nil
}

func decode(where string, raw []byte, ct, tag string) *Fetched {
	f := &Fetched{URL: where, Raw: raw, ContentType: ct, ETag: tag}
	var c Card
	if err := json.Unmarshal(raw, &c); err != nil {
		f.Invalid = fmt.Errorf("servercard: not a card: %w", err)
		return f
	}
	f.Card = &c
	f.Invalid = Validate(raw)
	return f
}

func get(ctx context.Context, client *http.Client, u string) ([]byte, string, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, "", "", err
	}
	req.Header.Set("Accept", MediaType+", "+CatalogMediaType+";q=0.9, application/json;q=0.5")
	resp, err := client.Do(req)
	if err != nil {
		return nil, "", "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, "", "", err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, "", "", fmt.Errorf("servercard: GET %s: %s", u, resp.Status)
	}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return b, ct, resp.Header.Get("ETag"), nil
}

// ErrMismatch is returned by [Consistent] when a card disagrees with the
// server's own report.
var ErrMismatch = errors.New("servercard: the card disagrees with the server")

// Consistent checks a card against a server's serverInfo and supported
// revisions (from initialize or server/discover): same version and title,
// a name equal to the server's (or to namespace/server-name when the
// server's name has no namespace), and a streamable-http remote listing
// the same revisions.
func Consistent(c *Card, info protocol.Implementation, versions []string) error {
	var diffs []string
	if c.Name != info.Name && !strings.HasSuffix(c.Name, "/"+info.Name) {
		diffs = append(diffs, fmt.Sprintf("name %q vs serverInfo %q", c.Name, info.Name))
	}
	if c.Version != info.Version {
		diffs = append(diffs, fmt.Sprintf("version %q vs %q", c.Version, info.Version))
	}
	if c.Title != info.Title {
		diffs = append(diffs, fmt.Sprintf("title %q vs %q", c.Title, info.Title))
	}
	if versions != nil {
		found := false
		for _, r := range c.Remotes {
			if r.Type == "streamable-http" {
				found = true
				a, b := slices.Clone(r.SupportedProtocolVersions), slices.Clone(versions)
				slices.Sort(a)
				slices.Sort(b)
				if !slices.Equal(a, b) {
					diffs = append(diffs, fmt.Sprintf("supportedProtocolVersions %v vs %v", r.SupportedProtocolVersions, versions))
				}
			}
		}
		if !found {
			diffs = append(diffs, "no streamable-http remote")
		}
	}
	if len(diffs) > 0 {
		return fmt.Errorf("%w: %s", ErrMismatch, strings.Join(diffs, "; "))
	}
	return nil
}
