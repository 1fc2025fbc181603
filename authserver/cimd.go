package authserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/switchboard-mcp/switchboard/auth"
)

// CIMDOptions configure how the server fetches Client ID Metadata
// Documents: client ids that are https URLs whose document describes the
// client (draft-ietf-oauth-client-id-metadata-document).
//
// Fetching a URL a stranger names is a server-side request forgery risk.
// The fetcher uses https only, dials only public unicast addresses (the
// address actually dialed is checked, after name resolution, so a name
// that resolves to 127.0.0.1 or 10.0.0.1 is refused), uses no proxy,
// follows no redirects, and bounds time and size.
type CIMDOptions struct {
	// Disable turns Client ID Metadata Documents off.
	Disable bool
	// AllowLoopback (development mode) accepts client ids on loopback
	// hosts, over http as well as https, and lets the fetcher dial
	// loopback addresses.
	AllowLoopback bool
	// AllowPrivateNetworks lets the fetcher dial private and link-local
	// addresses (RFC 1918, RFC 4193, 169.254/16, fe80::/10). Leave it off
	// unless the server runs where such addresses hold nothing sensitive.
	AllowPrivateNetworks bool
	// AllowedHosts, if not empty, is a trust policy: only client ids on
	// these hosts (exact names, or ".example.com" for a domain and its
	// subdomains) are accepted.
	AllowedHosts []string
	// TLSConfig configures TLS for fetches (for example RootCAs in tests).
	TLSConfig *tls.Config
	// Timeout bounds one fetch (default 5 seconds).
	Timeout time.Duration
	// MaxBytes bounds a document (default 64 KiB).
	MaxBytes int64
	// DefaultCacheTTL is how long a document without caching headers is
	// reused (default 5 minutes). Cache-Control max-age is honoured within
	// MinCacheTTL and MaxCacheTTL (defaults 30 seconds and 24 hours);
	// no-store and no-cache documents are not reused.
	DefaultCacheTTL time.Duration
	MinCacheTTL     time.Duration
	MaxCacheTTL     time.Duration
	// MaxCacheEntries bounds the cache (default 1000).
	MaxCacheEntries int
}

// lookupFunc resolves a host name to addresses.
type lookupFunc func(ctx context.Context, host string) ([]netip.Addr, error)

type cimdFetcher struct {
	opts   CIMDOptions
	client *http.Client
	lookup lookupFunc
	now    func() time.Time

	mu    sync.Mutex
	cache map[string]cimdEntry
}

type cimdEntry struct {
	client *clientRecord
	until  time.Time
}

func newCIMDFetcher(opts CIMDOptions, now func() time.Time) *cimdFetcher {
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Second
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = 64 << 10
	}
	opts.DefaultCacheTTL = durOr(opts.DefaultCacheTTL, 5*time.Minute)
	opts.MinCacheTTL = durOr(opts.MinCacheTTL, 30*time.Second)
	opts.MaxCacheTTL = durOr(opts.MaxCacheTTL, 24*time.Hour)
	if opts.MaxCacheEntries <= 0 {
		opts.MaxCacheEntries = 1000
	}
	f := &cimdFetcher{opts: opts, now: now, cache: make(map[string]cimdEntry)}
	f.lookup = func(ctx context.Context, host string) ([]netip.Addr, error) {
		return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	}
	tr := &http.Transport{
		Proxy:                  nil, // a proxy would dial for us, unchecked
		DialContext:            f.dial,
		TLSClientConfig:        opts.TLSConfig,
		TLSHandshakeTimeout:    opts.Timeout,
		ResponseHeaderTimeout:  opts.Timeout,
		MaxResponseHeaderBytes: 16 << 10,
		DisableKeepAlives:      true,
	}
	f.client = &http.Client{
		Transport: tr,
		Timeout:   opts.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return errors.New("redirects are not followed")
		},
	}
	return f
}

// ErrForbiddenAddress is wrapped by fetch errors for addresses the fetcher
// refuses to dial.
var ErrForbiddenAddress = errors.New("address not allowed")

// allowedAddr reports whether the fetcher may dial ip.
func (f *cimdFetcher) allowedAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	switch {
	case !ip.IsValid(), ip.IsUnspecified(), ip.IsMulticast(), ip.IsInterfaceLocalMulticast():
		return false
	case ip.IsLoopback():
		return f.opts.AllowLoopback
	case ip.IsPrivate(), ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		return f.opts.AllowPrivateNetworks
	case !ip.IsGlobalUnicast():
		return false
	}
	for _, p := range specialPrefixes {
		if p.Contains(ip) {
			return f.opts.AllowPrivateNetworks
		}
	}
	return true
}

// specialPrefixes are global-looking ranges that reach private networks or
// are reserved: shared address space, IETF protocol assignments,
// benchmarking, reserved, NAT64, 6to4 and Teredo (which embed IPv4
// addresses), documentation.
var specialPrefixes = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "192.0.2.0/24", "198.18.0.0/15",
		"198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4",
		"64:ff9b::/96", "64:ff9b:1::/48", "2001::/32", "2001:db8::/32", "2002::/16",
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// dial resolves addr's host, refuses forbidden addresses, and dials an
// allowed one; the dialer's Control hook checks the address once more
// right before connecting.
func (f *cimdFetcher) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	var ips []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		ips = []netip.Addr{ip}
	} else if ips, err = f.lookup(ctx, host); err != nil {
		return nil, err
	}
	d := &net.Dialer{Timeout: f.opts.Timeout, Control: f.control}
	var lastErr error = fmt.Errorf("%w: %s has no address", ErrForbiddenAddress, host)
	for _, ip := range ips {
		if !f.allowedAddr(ip) {
			lastErr = fmt.Errorf("%w: %s resolves to %s", ErrForbiddenAddress, host, ip)
			continue
		}
		conn, err := d.DialContext(ctx, network, net.JoinHostPort(ip.Unmap().String(), port))
		if err == nil {
			return conn, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func (f *cimdFetcher) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !f.allowedAddr(ap.Addr()) {
		return fmt.Errorf("%w: %s", ErrForbiddenAddress, address)
	}
	return nil
}

// checkClientIDURL checks the form of a URL client id.
func (f *cimdFetcher) checkClientIDURL(id string) (*url.URL, error) {
	if len(id) > maxMetadataString {
		return nil, errors.New("client_id URL too long")
	}
	u, err := url.Parse(id)
	if err != nil {
		return nil, fmt.Errorf("client_id: %w", err)
	}
	host := u.Hostname()
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && f.opts.AllowLoopback && auth.IsLoopbackHost(host):
	default:
		return nil, errors.New("client_id URL must use https")
	}
	switch {
	case host == "":
		return nil, errors.New("client_id URL has no host")
	case u.User != nil:
		return nil, errors.New("client_id URL must not contain user information")
	case u.Fragment != "" || strings.Contains(id, "#"):
		return nil, errors.New("client_id URL must not contain a fragment")
	case u.Path == "" || u.Path == "/":
		return nil, errors.New("client_id URL must have a path")
	}
	for seg := range strings.SplitSeq(u.Path, "/") {
		if seg == "." || seg == ".." {
			return nil, errors.New("client_id URL must not contain dot segments")
		}
	}
	if auth.IsLoopbackHost(host) && !f.opts.AllowLoopback {
		return nil, fmt.Errorf("%w: loopback client_id URL", ErrForbiddenAddress)
	}
	if len(f.opts.AllowedHosts) > 0 && !hostAllowed(strings.ToLower(host), f.opts.AllowedHosts) {
		return nil, errors.New("client_id host is not trusted by this server")
	}
	return u, nil
}

func hostAllowed(host string, allowed []string) bool {
	for _, a := range allowed {
		a = strings.ToLower(a)
		if host == a || (strings.HasPrefix(a, ".") && (strings.HasSuffix(host, a) || host == a[1:])) {
			return true
		}
	}
	return false
}

// get returns the client a metadata document URL describes, from the cache
// or by fetching it.
func (f *cimdFetcher) get(ctx context.Context, id string) (*clientRecord, error) {
	if _, err := f.checkClientIDURL(id); err != nil {
		return nil, err
	}
	now := f.now()
	f.mu.Lock()
	e, ok := f.cache[id]
	f.mu.Unlock()
	if ok && now.Before(e.until) {
		return e.client, nil
	}
	c, ttl, err := f.fetch(ctx, id)
	if err != nil {
		return nil, err
	}
	if ttl > 0 {
		f.mu.Lock()
		if len(f.cache) >= f.opts.MaxCacheEntries {
			for k, old := range f.cache {
				if !now.Before(old.until) || len(f.cache) >= f.opts.MaxCacheEntries {
					delete(f.cache, k)
				}
			}
		}
		f.cache[id] = cimdEntry{client: c, until: now.Add(ttl)}
		f.mu.Unlock()
	}
	return c, nil
}

func (f *cimdFetcher) fetch(ctx context.Context, id string) (*clientRecord, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, f.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, id, nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("fetching client metadata document: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("fetching client metadata document: status %s", resp.Status)
	}
	if ct := resp.Header.Get("Content-Type"); !isMediaType(ct, "application/json") && !strings.HasSuffix(strings.ToLower(strings.TrimSpace(strings.Split(ct, ";")[0])), "+json") {
		return nil, 0, errors.New("client metadata document is not application/json")
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.opts.MaxBytes+1))
	if err != nil {
		return nil, 0, fmt.Errorf("reading client metadata document: %w", err)
	}
	if int64(len(body)) > f.opts.MaxBytes {
		return nil, 0, errors.New("client metadata document too large")
	}
	m, err := ParseClientMetadataDocument(body, id)
	if err != nil {
		return nil, 0, err
	}
	return &clientRecord{
		id:           id,
		kind:         kindMetadataDocument,
		authMethod:   "none",
		name:         m.ClientName,
		uri:          m.ClientURI,
		redirectURIs: m.RedirectURIs,
		grantTypes:   grantsOf(m),
	}, f.cacheTTL(resp.Header), nil
}

func grantsOf(m *ClientMetadata) []string {
	if len(m.GrantTypes) == 0 {
		return []string{"authorization_code", "refresh_token"}
	}
	return slices.Clone(m.GrantTypes)
}

// cacheTTL reads Cache-Control within the configured bounds; zero means
// the document must not be reused.
func (f *cimdFetcher) cacheTTL(h http.Header) time.Duration {
	cc := strings.ToLower(h.Get("Cache-Control"))
	if cc == "" {
		return f.opts.DefaultCacheTTL
	}
	ttl := f.opts.DefaultCacheTTL
	for d := range strings.SplitSeq(cc, ",") {
		d = strings.TrimSpace(d)
		switch {
		case d == "no-store" || d == "no-cache":
			return 0
		case strings.HasPrefix(d, "max-age="):
			n, err := strconv.ParseInt(strings.Trim(d[len("max-age="):], `"`), 10, 64)
			if err != nil || n < 0 {
				continue
			}
			if n > int64(f.opts.MaxCacheTTL/time.Second) {
				n = int64(f.opts.MaxCacheTTL / time.Second)
			}
			ttl = time.Duration(n) * time.Second
		}
	}
	return min(max(ttl, f.opts.MinCacheTTL), f.opts.MaxCacheTTL)
}

// ParseClientMetadataDocument parses a Client ID Metadata Document fetched
// from url and checks it: a JSON object whose client_id equals url
// exactly, with a client_name and at least one valid redirect URI, no
// client secret, and token_endpoint_auth_method "none" (absent means
// none; this server does not support private_key_jwt).
func ParseClientMetadataDocument(data []byte, url string) (*ClientMetadata, error) {
	var m ClientMetadata
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, errors.New("client metadata document is not a valid JSON object")
	}
	switch {
	case m.ClientID != url:
		return nil, errors.New("client metadata document: client_id does not match its URL")
	case m.ClientName == "":
		return nil, errors.New("client metadata document: client_name is required")
	case len(m.RedirectURIs) == 0:
		return nil, errors.New("client metadata document: redirect_uris is required")
	case m.ClientSecret != "" || m.ClientSecretExpiresAt != nil:
		return nil, errors.New("client metadata document: must not contain a client secret")
	case m.TokenEndpointAuthMethod != "" && m.TokenEndpointAuthMethod != "none":
		return nil, fmt.Errorf("client metadata document: token_endpoint_auth_method %q is not supported", m.TokenEndpointAuthMethod)
	}
	grants, err := validateMetadata(&m, true)
	if err != nil {
		return nil, fmt.Errorf("client metadata document: %w", err)
	}
	if slices.Contains(grants, "client_credentials") {
		return nil, errors.New("client metadata document: client_credentials needs a confidential client")
	}
	if !slices.Contains(grants, "authorization_code") {
		return nil, errors.New("client metadata document: grant_types must include authorization_code")
	}
	return &m, nil
}
