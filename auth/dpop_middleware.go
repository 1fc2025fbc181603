package auth

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// errHandled means the response was written.
var errHandled = errors.New("auth: response written")

// checkDPoP enforces the binding of a verified token to a DPoP key. It
// returns an *InvalidTokenError for a token presented with the wrong
// scheme, errHandled when it answered a bad proof itself, or nil.
func (m *Middleware) checkDPoP(w http.ResponseWriter, r *http.Request, scheme, token string, info *TokenInfo) error {
	jkt := info.Confirmation()
	switch {
	case scheme == "Bearer" && jkt != "":
		return &InvalidTokenError{Reason: errNoDPoP.Error()}
	case scheme == "Bearer":
		return nil
	case jkt == "":
		return &InvalidTokenError{Reason: "the access token is not DPoP-bound: present it as a bearer token"}
	}
	if v := r.Header.Values("DPoP"); len(v) != 1 {
		m.dpopError(w, &DPoPError{Code: "invalid_dpop_proof", Reason: "exactly one DPoP header is required"})
		return errHandled
	}
	c := &DPoPCheck{
		Method:      r.Method,
		URL:         m.requestURL(r),
		AccessToken: token,
		Thumbprint:  jkt,
		Now:         time.Now(),
		Window:      m.dpop.opts.Window,
		Replay:      m.dpop.replay,
		Nonces:      m.dpop.nonces,
	}
	if _, err := c.Verify(r.Header.Get("DPoP")); err != nil {
		var de *DPoPError
		if !errors.As(err, &de) {
			de = &DPoPError{Code: "invalid_dpop_proof", Reason: err.Error()}
		}
		m.log.Debug("auth: DPoP proof refused", "reason", de.Reason, "remote", r.RemoteAddr)
		m.dpopError(w, de)
		return errHandled
	}
	return nil
}

// requestURL is the URL a proof's htu must name: this resource's origin
// with the request's path.
func (m *Middleware) requestURL(r *http.Request) string {
	u, _ := url.Parse(m.resource)
	u.Path, u.RawPath = r.URL.Path, r.URL.RawPath
	return u.String()
}

// dpopError answers a refused proof with 401 and a DPoP challenge
// (RFC 9449 sections 7.1 and 9), with a fresh nonce for use_dpop_nonce.
func (m *Middleware) dpopError(w http.ResponseWriter, e *DPoPError) {
	h := w.Header()
	if m.dpop.nonces != nil {
		h.Set("DPoP-Nonce", m.dpop.nonces.Nonce())
		h.Add("Access-Control-Expose-Headers", "DPoP-Nonce")
	}
	h.Set("WWW-Authenticate", fmt.Sprintf(`DPoP error="%s", error_description="%s", resource_metadata="%s", algs="%s"`,
		e.Code, quotableDesc(e.Reason), m.metaURL, dpopAlgs()))
	h.Add("Access-Control-Expose-Headers", "WWW-Authenticate")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusUnauthorized)
	fmt.Fprintf(w, `{"error":%q,"error_description":%q}`, e.Code, quotableDesc(e.Reason))
}
