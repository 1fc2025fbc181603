package console

import (
	"embed"
	"io/fs"
	"net/http"
	"net/url"
)

//go:embed static
var static embed.FS

// UI returns the handler of the web console at /ui/: static files embedded
// in the binary, no external network at run time. The page talks to the
// admin API and, as an MCP client, to the gateway's /mcp endpoint.
func (a *Admin) UI() http.Handler {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree is part of the binary
	}
	files := http.StripPrefix(PathUI, http.FileServerFS(sub))
	// Frames come only from the MCP Apps sandbox, on its own origin.
	frames := "'none'"
	if u, err := url.Parse(a.opts.AppsSandbox); err == nil && u.Scheme != "" && u.Host != "" {
		frames = u.Scheme + "://" + u.Host
	}
	csp := "default-src 'self'; img-src 'self' data:; media-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-src " + frames + "; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", csp)
		h.Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}
