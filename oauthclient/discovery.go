package oauthclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// maxMetadataSize bounds every metadata and token response body.
const maxMetadataSize = 1 << 20

// wellKnownPRM is a candidate protected resource metadata URL with the
// resource identifier it was built from.
type wellKnownPRM struct {
	URL      string
	Resource string
}

// ProtectedResourceMetadataURLs returns the well-known URLs at which a
// client looks for the protected resource metadata of the MCP server at
// serverURL when no WWW-Authenticate header names one, in the order the
// MCP specification requires: first with the server's path appended
// (RFC 9728 Section 3.1), then at the root. A server at the root yields
// only the root URL. Query and fragment are dropped.
func ProtectedResourceMetadataURLs(serverURL *url.URL) []string {
	var out []string
	for _, w := range prmWellKnown(serverURL) {
		out = append(out, w.URL)
	}
	return out
}

func prmWellKnown(server *url.URL) []wellKnownPRM {
	origin := server.Scheme + "://" + server.Host
	path := strings.TrimSuffix(server.EscapedPath(), "/")
	var out []wellKnownPRM
	if path != "" {
		out = append(out, wellKnownPRM{origin + "/.well-known/oauth-protected-resource" + path, origin + path})
	}
	return append(out, wellKnownPRM{origin + "/.well-known/oauth-protected-resource", origin})
}

// AuthServerMetadataURLs returns the URLs at which a client looks for the
// metadata of the authorization server with the given issuer identifier,
// in the order the MCP specification requires: RFC 8414 with path
// insertion, OpenID Connect Discovery with path insertion, then OpenID
// Connect Discovery with path appending; for an issuer without a path,
// RFC 8414 then OpenID Connect Discovery. A terminating "/" of the
// issuer's path is removed first (RFC 8414 Section 3.1).
func AuthServerMetadataURLs(issuer *url.URL) []string {
	origin := issuer.Scheme + "://" + issuer.Host
	path := strings.TrimSuffix(issuer.EscapedPath(), "/")
	if path == "" {
		return []string{
			origin + "/.well-known/oauth-authorization-server",
			origin + "/.well-known/openid-configuration",
		}
	}
	return []string{
		origin + "/.well-known/oauth-authorization-server" + path,
		origin + "/.well-known/openid-configuration" + path,
		origin + path + "/.well-known/openid-configuration",
	}
}

// errNotFound marks a metadata fetch that found no document (any 4xx),
// which lets discovery move on to the next candidate.
var errNotFound = errors.New("no document")

// getJSON fetches url and decodes its JSON body into v. A 4xx answer
// returns an error wrapping errNotFound.
func getJSON(ctx context.Context, client *http.Client, rawURL string, header http.Header, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxMetadataSize+1))
	if err != nil {
		return err
	}
	switch {
	case resp.StatusCode >= 400 && resp.StatusCode < 500:
		return fmt.Errorf("%w: %s", errNotFound, resp.Status)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("HTTP %s", resp.Status)
	case len(body) > maxMetadataSize:
		return errors.New("document too large")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("bad JSON: %v", err)
	}
	return nil
}

// discovery is what the client learned about an MCP server's
// authorization.
type discovery struct {
	// prm is nil for the 2025-03-26 fallback (no protected resource
	// metadata).
	prm    *ProtectedResourceMetadata
	prmURL string
	as     *AuthServerMetadata
	// issuer is the recorded issuer: the validated metadata's issuer; for
	// the 2025-03-26 default endpoints, the server's origin.
	issuer string
	// resource is the RFC 8707 resource parameter value.
	resource string
	legacy   bool
}

// discoverPRM finds and validates the protected resource metadata for
// server: from the challenge's resource_metadata when present, else the
// well-known URLs in order. It returns errNoPRM when there is none.
func (t *Transport) discoverPRM(ctx context.Context, ch *Challenge, server *url.URL) (*ProtectedResourceMetadata, string, error) {
	var tried []string
	if ch != nil && ch.ResourceMetadata() != "" {
		raw := ch.ResourceMetadata()
		u, err := url.Parse(raw)
		if err == nil && u.IsAbs() && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
			var md ProtectedResourceMetadata
			err := getJSON(ctx, t.httpClient, raw, nil, &md)
			if err == nil {
				if err := validatePRM(&md, server); err != nil {
					return nil, "", prmError(raw, err)
				}
				return &md, raw, nil
			}
			t.logf("protected resource metadata from WWW-Authenticate unavailable", "url", raw, "err", err)
			tried = append(tried, raw)
		} else {
			t.logf("ignoring unusable resource_metadata in WWW-Authenticate", "value", sanitize(raw))
		}
	}
	for _, w := range prmWellKnown(server) {
		var md ProtectedResourceMetadata
		err := getJSON(ctx, t.httpClient, w.URL, nil, &md)
		if err != nil {
			t.logf("no protected resource metadata", "url", w.URL, "err", err)
			tried = append(tried, w.URL)
			continue
		}
		if err := validatePRM(&md, server); err != nil {
			return nil, "", prmError(w.URL, err)
		}
		return &md, w.URL, nil
	}
	return nil, "", fmt.Errorf("%w (tried %s)", errNoPRM, strings.Join(tried, ", "))
}

var errNoPRM = errors.New("no protected resource metadata")

// prmError describes an unusable protected resource metadata document.
func prmError(url string, err error) error {
	if errors.Is(err, ErrResourceMismatch) {
		return err
	}
	return fmt.Errorf("oauthclient: protected resource metadata at %s: %w", url, err)
}

// discoverAS fetches and validates the metadata of the authorization
// server with the given issuer identifier.
func (t *Transport) discoverAS(ctx context.Context, issuer string) (*AuthServerMetadata, error) {
	u, err := checkEndpointURL("authorization server", issuer, t.cfg.InsecureAllowHTTP)
	if err != nil {
		return nil, err
	}
	if u.RawQuery != "" || u.ForceQuery {
		return nil, fmt.Errorf("authorization server issuer %q has a query component", issuer)
	}
	var firstErr error
	for _, mu := range AuthServerMetadataURLs(u) {
		var md AuthServerMetadata
		err := getJSON(ctx, t.httpClient, mu, nil, &md)
		if err == nil {
			err = validateASMetadata(&md, issuer, t.grant(), t.cfg.InsecureAllowHTTP)
			if err == nil {
				t.logf("authorization server metadata", "url", mu, "issuer", md.Issuer)
				return &md, nil
			}
		}
		t.logf("authorization server metadata unusable", "url", mu, "err", err)
		if firstErr == nil || (errors.Is(firstErr, errNotFound) && !errors.Is(err, errNotFound)) {
			firstErr = fmt.Errorf("%s: %w", mu, err)
		}
	}
	if errors.Is(firstErr, ErrNoPKCE) {
		return nil, ErrNoPKCE
	}
	return nil, fmt.Errorf("oauthclient: no usable metadata for authorization server %s: %w", issuer, firstErr)
}

// discoverLegacy implements the 2025-03-26 discovery for servers without
// protected resource metadata: the authorization base URL is the MCP
// server's origin; its RFC 8414 metadata is used when present, else the
// default endpoints /authorize, /token and /register.
func (t *Transport) discoverLegacy(ctx context.Context, server *url.URL) (*AuthServerMetadata, string, error) {
	origin := server.Scheme + "://" + server.Host
	var md AuthServerMetadata
	h := http.Header{"Mcp-Protocol-Version": {"2025-03-26"}}
	err := getJSON(ctx, t.httpClient, origin+"/.well-known/oauth-authorization-server", h, &md)
	if err == nil {
		if err := validateASMetadata(&md, "", t.grant(), t.cfg.InsecureAllowHTTP); err != nil {
			return nil, "", fmt.Errorf("oauthclient: authorization server metadata at %s: %w", origin, err)
		}
		issuer := md.Issuer
		if issuer == "" {
			issuer = origin
		}
		return &md, issuer, nil
	}
	if !errors.Is(err, errNotFound) {
		return nil, "", fmt.Errorf("oauthclient: authorization server metadata at %s: %w", origin, err)
	}
	if _, err := checkEndpointURL("authorization base URL", origin, t.cfg.InsecureAllowHTTP); err != nil {
		return nil, "", fmt.Errorf("oauthclient: %w", err)
	}
	t.logf("no authorization server metadata; using the 2025-03-26 default endpoints", "base", origin)
	return &AuthServerMetadata{
		AuthorizationEndpoint:         origin + "/authorize",
		TokenEndpoint:                 origin + "/token",
		RegistrationEndpoint:          origin + "/register",
		CodeChallengeMethodsSupported: []string{"S256"},
	}, origin, nil
}

// discover runs the whole discovery for server after a challenge (which
// may be nil when the server gave none).
func (t *Transport) discover(ctx context.Context, ch *Challenge, server *url.URL) (*discovery, error) {
	prm, prmURL, err := t.discoverPRM(ctx, ch, server)
	if errors.Is(err, errNoPRM) {
		as, issuer, err := t.discoverLegacy(ctx, server)
		if err != nil {
			return nil, err
		}
		res, err := CanonicalResource(server.String())
		if err != nil {
			return nil, err
		}
		return &discovery{as: as, issuer: issuer, resource: res, legacy: true}, nil
	}
	if err != nil {
		return nil, err
	}
	servers := slices.Clone(prm.AuthorizationServers)
	if t.cfg.ClientIssuer != "" {
		if !slices.Contains(servers, t.cfg.ClientIssuer) {
			return nil, fmt.Errorf("oauthclient: the pre-registered client belongs to %s, but the server names %v as its authorization servers", t.cfg.ClientIssuer, servers)
		}
		servers = []string{t.cfg.ClientIssuer}
	}
	var errs []error
	for _, issuer := range servers {
		as, err := t.discoverAS(ctx, issuer)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		return &discovery{prm: prm, prmURL: prmURL, as: as, issuer: as.Issuer, resource: prm.Resource}, nil
	}
	if len(errs) == 1 {
		return nil, errs[0]
	}
	return nil, errors.Join(errs...)
}
