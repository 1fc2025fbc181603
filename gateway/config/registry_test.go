package config

import (
	"strings"
	"testing"
)

func TestRegistrySection(t *testing.T) {
	env := map[string]string{"TOK": "s3cret"}
	opts := &LoadOptions{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
	cfg, err := Parse([]byte(`{"mcpServers": {}, "registry": {"path": "/registry", "adminTokens": ["${TOK}"],
		"curation": {"deny": ["com.evil/*"], "deniedStatus": 404}, "auth": {"anonymous": true, "dns": {"server": "127.0.0.1:5353"}}}}`), FormatJSON, opts)
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Registry
	if r == nil || r.Path != "/registry" || r.AdminTokens[0] != "s3cret" || r.Curation.DeniedStatus != 404 || !r.Auth.Anonymous || r.Auth.DNS.Server != "127.0.0.1:5353" || !cfg.RegistryEnabled() {
		t.Fatalf("registry %+v", r)
	}
	if c, _ := Parse([]byte(`{"mcpServers": {}}`), FormatJSON, opts); c.Registry != nil || c.RegistryEnabled() {
		t.Fatal("no section: want nil")
	}
	tests := []struct{ doc, want string }{
		{`{"registry": {"pathh": "/x"}}`, `registry.pathh`},
		{`{"registry": {"curation": {"deniedStatus": 500}}}`, `registry.curation.deniedStatus`},
		{`{"registry": {"path": "registry/"}}`, `registry.path`},
		{`{"registry": {"database": "mysql://x"}}`, `registry.database`},
		{`{"registry": {"jwtKey": "abc"}}`, `registry.jwtKey`},
		{`{"registry": {"anonymousReads": "yes"}}`, `registry.anonymousReads`},
		{`{"registry": {"mirrors": [{"url": "ftp://x"}]}}`, `registry.mirrors[0].url`},
		{`{"registry": []}`, `registry`},
	}
	for _, tc := range tests {
		_, err := Parse([]byte(tc.doc), FormatJSON, opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error at %s", tc.doc, err, tc.want)
		}
	}
}
