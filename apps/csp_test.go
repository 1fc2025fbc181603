package apps_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/switchboard-mcp/switchboard/apps"
)

func TestParseOrigin(t *testing.T) {
	for _, tc := range []struct {
		in, want string // want "" means an error
	}{
		{"https://api.example.com", "https://api.example.com"},
		{"HTTPS://API.Example.COM/", "https://api.example.com"},
		{"https://*.example.com", "https://*.example.com"},
		{"wss://rt.example.com:8443", "wss://rt.example.com:8443"},
		{"ws://localhost:*", "ws://localhost:*"},
		{"http://127.0.0.1:3000", "http://127.0.0.1:3000"},
		{"http://[::1]:8080", "http://[::1]:8080"},
		{"https://[2001:DB8::1]", "https://[2001:db8::1]"},
		{"https://my_service.example.com", "https://my_service.example.com"},

		{"", ""},
		{"api.example.com", ""},
		{"ftp://example.com", ""},
		{"data://x", ""},
		{"https://", ""},
		{"https:///", ""},
		{"https://example.com/path", ""},
		{"https://example.com?q", ""},
		{"https://example.com#f", ""},
		{"https://user@example.com", ""},
		{"https://example.com; script-src *", ""},
		{"https://example.com 'unsafe-eval'", ""},
		{"https://exa'mple.com", ""},
		{`https://exa"mple.com`, ""},
		{"https://example.com,https://evil.com", ""},
		{"https://*", ""},
		{"https://*.*.example.com", ""},
		{"https://ex*ample.com", ""},
		{"https://-bad.example.com", ""},
		{"https://bad-.example.com", ""},
		{"https://a..b", ""},
		{"https://example.com:0", ""},
		{"https://example.com:65536", ""},
		{"https://example.com:080", ""},
		{"https://example.com:", ""},
		{"https://example.com:ab", ""},
		{"https://*.127.0.0.1", ""},
		{"https://[::1", ""},
		{"https://[fe80::1%eth0]", ""},
		{"https://[1.2.3.4]", ""},
		{"https://[::1]x", ""},
		{"https://[::1]:0", ""},
		{"https://ex\tample.com", ""},
		{"https://exämple.com", ""},
		{"https://" + strings.Repeat("a", 64) + ".com", ""},
		{"https://" + strings.Repeat("a.", 200) + "com", ""},
	} {
		o, err := apps.ParseOrigin(tc.in)
		if tc.want == "" {
			if err == nil {
				t.Errorf("ParseOrigin(%q) = %v, want an error", tc.in, o)
			}
			continue
		}
		if err != nil || o.String() != tc.want {
			t.Errorf("ParseOrigin(%q) = %q, %v; want %q", tc.in, o, err, tc.want)
		}
	}
}

func TestPolicy(t *testing.T) {
	for _, tc := range []struct {
		name    string
		csp     *apps.CSP
		want    string
		dropped int
	}{
		{"none declared: the spec's default", nil, apps.DefaultPolicy, 0},
		{"empty lists: the default's directives", &apps.CSP{},
			"default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; media-src 'self' data:; connect-src 'none'; frame-src 'none'; object-src 'none'; base-uri 'self'", 0},
		{"every list", &apps.CSP{
			ConnectDomains:  []string{"https://api.example.com", "wss://rt.example.com"},
			ResourceDomains: []string{"https://*.cdn.example.com"},
			FrameDomains:    []string{"https://www.youtube.com"},
			BaseURIDomains:  []string{"https://cdn.example.com"},
		}, "default-src 'none'; script-src 'self' 'unsafe-inline' https://*.cdn.example.com; style-src 'self' 'unsafe-inline' https://*.cdn.example.com; img-src 'self' data: https://*.cdn.example.com; media-src 'self' data: https://*.cdn.example.com; font-src 'self' https://*.cdn.example.com; connect-src https://api.example.com wss://rt.example.com; frame-src https://www.youtube.com; object-src 'none'; base-uri https://cdn.example.com", 0},
		{"bad entries dropped, duplicates merged", &apps.CSP{
			ConnectDomains: []string{"https://api.example.com", "HTTPS://API.EXAMPLE.COM", "https://x.com; script-src *", "*", "'unsafe-eval'"},
		}, "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; media-src 'self' data:; connect-src https://api.example.com; frame-src 'none'; object-src 'none'; base-uri 'self'", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, dropped := apps.Policy(tc.csp)
			if got != tc.want || len(dropped) != tc.dropped {
				t.Errorf("Policy:\n got %s\nwant %s\ndropped %v", got, tc.want, dropped)
			}
		})
	}
}

func TestAllow(t *testing.T) {
	if got := apps.Allow(nil); got != "" {
		t.Errorf("Allow(nil) = %q", got)
	}
	p := &apps.Permissions{Camera: &apps.Permission{}, Microphone: &apps.Permission{}, Geolocation: &apps.Permission{}, ClipboardWrite: &apps.Permission{}}
	if got := apps.Allow(p); got != "camera; microphone; geolocation; clipboard-write" {
		t.Errorf("Allow = %q", got)
	}
}

// fixedSources are the source expressions Policy writes on its own.
var fixedSources = []string{"'none'", "'self'", "'unsafe-inline'", "data:"}

// FuzzParseOrigin: whatever the input, an accepted origin prints as one
// source expression that parses back to itself.
func FuzzParseOrigin(f *testing.F) {
	for _, s := range []string{"https://api.example.com", "wss://*.x.io:443", "http://[::1]:80", "https://a.com; x", "https://[::ffff:1.2.3.4]", "HTTP://A.B/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := apps.ParseOrigin(s)
		if err != nil {
			return
		}
		out := o.String()
		if strings.ContainsAny(out, " \t\r\n;,'\"/?#@\\") && !strings.HasPrefix(out, o.Scheme+"://") {
			t.Fatalf("%q printed as %q", s, out)
		}
		if rest := strings.TrimPrefix(out, o.Scheme+"://"); strings.ContainsAny(rest, " \t\r\n;,'\"/?#@\\") {
			t.Fatalf("%q printed as %q", s, out)
		}
		again, err := apps.ParseOrigin(out)
		if err != nil || again != o {
			t.Fatalf("%q → %q → %v, %v", s, out, again, err)
		}
	})
}

// FuzzPolicy: the policy never holds a source that was not declared (as
// a well-formed origin) or written by the host itself, and every
// directive of the default stays.
func FuzzPolicy(f *testing.F) {
	f.Add("https://a.example.com", "https://*.cdn.example.com", "https://frames.example.com", "https://base.example.com")
	f.Add("https://x.com; script-src *", "'unsafe-eval'", "*", "data:")
	f.Fuzz(func(t *testing.T, conn, res, frame, base string) {
		c := &apps.CSP{ConnectDomains: strings.Split(conn, " "), ResourceDomains: strings.Split(res, " "), FrameDomains: strings.Split(frame, " "), BaseURIDomains: strings.Split(base, " ")}
		policy, _ := apps.Policy(c)
		declared := map[string]bool{}
		for _, l := range [][]string{c.ConnectDomains, c.ResourceDomains, c.FrameDomains, c.BaseURIDomains} {
			for _, d := range l {
				if o, err := apps.ParseOrigin(d); err == nil {
					declared[o.String()] = true
				}
			}
		}
		var names []string
		for _, dir := range strings.Split(policy, "; ") {
			fields := strings.Fields(dir)
			if len(fields) < 2 {
				t.Fatalf("empty directive %q in %s", dir, policy)
			}
			names = append(names, fields[0])
			for _, src := range fields[1:] {
				if !declared[src] && !slices.Contains(fixedSources, src) {
					t.Fatalf("source %q in %s was not declared", src, policy)
				}
			}
		}
		for _, want := range []string{"default-src", "script-src", "style-src", "img-src", "media-src", "connect-src", "frame-src", "object-src", "base-uri"} {
			if !slices.Contains(names, want) {
				t.Fatalf("policy lacks %s: %s", want, policy)
			}
		}
		if !strings.HasPrefix(policy, "default-src 'none'; ") || !strings.Contains(policy, "object-src 'none'") {
			t.Fatalf("policy loosened: %s", policy)
		}
	})
}
