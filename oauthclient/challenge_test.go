package oauthclient

import (
	"errors"
	"net/http"
	"reflect"
	"testing"
)

func TestParseChallenges(t *testing.T) {
	tests := []struct {
		name    string
		in      []string
		want    []Challenge
		wantErr bool
	}{
		{
			name: "bearer with resource_metadata and scope",
			in:   []string{`Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource", scope="files:read"`},
			want: []Challenge{{Scheme: "Bearer", Params: map[string]string{
				"resource_metadata": "https://mcp.example.com/.well-known/oauth-protected-resource",
				"scope":             "files:read",
			}}},
		},
		{
			name: "insufficient scope with description",
			in:   []string{`Bearer error="insufficient_scope", scope="files:read files:write", error_description="Additional file write permission required"`},
			want: []Challenge{{Scheme: "Bearer", Params: map[string]string{
				"error": "insufficient_scope", "scope": "files:read files:write",
				"error_description": "Additional file write permission required",
			}}},
		},
		{
			name: "bare scheme",
			in:   []string{"Bearer"},
			want: []Challenge{{Scheme: "Bearer", Params: map[string]string{}}},
		},
		{
			name: "token parameter values and case-insensitive names",
			in:   []string{`bearer Realm=example, ERROR=invalid_token`},
			want: []Challenge{{Scheme: "bearer", Params: map[string]string{"realm": "example", "error": "invalid_token"}}},
		},
		{
			name: "whitespace around equals (BWS)",
			in:   []string{`Bearer realm = "x" ,  scope= "a b"`},
			want: []Challenge{{Scheme: "Bearer", Params: map[string]string{"realm": "x", "scope": "a b"}}},
		},
		{
			name: "two challenges in one field",
			in:   []string{`Basic realm="simple", Bearer realm="api", scope="s"`},
			want: []Challenge{
				{Scheme: "Basic", Params: map[string]string{"realm": "simple"}},
				{Scheme: "Bearer", Params: map[string]string{"realm": "api", "scope": "s"}},
			},
		},
		{
			name: "two fields",
			in:   []string{`Basic realm="simple"`, `Bearer scope="s"`},
			want: []Challenge{
				{Scheme: "Basic", Params: map[string]string{"realm": "simple"}},
				{Scheme: "Bearer", Params: map[string]string{"scope": "s"}},
			},
		},
		{
			name: "token68 then another challenge",
			in:   []string{`Negotiate YIIBAwYGKwYBBQUCoIH4MIH1oA0w==, Bearer`},
			want: []Challenge{
				{Scheme: "Negotiate", Token68: "YIIBAwYGKwYBBQUCoIH4MIH1oA0w==", Params: map[string]string{}},
				{Scheme: "Bearer", Params: map[string]string{}},
			},
		},
		{
			name: "token68 with single padding",
			in:   []string{`Basic dXNlcg=`},
			want: []Challenge{{Scheme: "Basic", Token68: "dXNlcg=", Params: map[string]string{}}},
		},
		{
			name: "quoted-pair escapes and a comma inside quotes",
			in:   []string{`Bearer error_description="say \"hi\", then \\ leave", scope="a"`},
			want: []Challenge{{Scheme: "Bearer", Params: map[string]string{"error_description": `say "hi", then \ leave`, "scope": "a"}}},
		},
		{
			name: "empty list elements are ignored",
			in:   []string{` , Bearer ,, scope="a" ,`},
			want: []Challenge{{Scheme: "Bearer", Params: map[string]string{"scope": "a"}}},
		},
		{
			name: "duplicate parameter keeps the first",
			in:   []string{`Bearer scope="a", scope="b"`},
			want: []Challenge{{Scheme: "Bearer", Params: map[string]string{"scope": "a"}}},
		},
		{
			name:    "quote ends early, the rest is skipped",
			in:      []string{`Bearer scope="a, Basic realm="x"`},
			want:    []Challenge{{Scheme: "Bearer", Params: map[string]string{"scope": "a, Basic realm="}}},
			wantErr: true,
		},
		{
			name:    "junk before a good challenge",
			in:      []string{`=== , Bearer scope="ok"`},
			want:    []Challenge{{Scheme: "Bearer", Params: map[string]string{"scope": "ok"}}},
			wantErr: true,
		},
		{
			name:    "trailing data after a value",
			in:      []string{`Bearer scope="a"x, error="e"`},
			want:    []Challenge{{Scheme: "Bearer", Params: map[string]string{"scope": "a", "error": "e"}}},
			wantErr: true,
		},
		{
			name:    "control character in quoted string",
			in:      []string{"Bearer scope=\"a\x01\", Basic"},
			want:    []Challenge{{Scheme: "Bearer", Params: map[string]string{}}, {Scheme: "Basic", Params: map[string]string{}}},
			wantErr: true,
		},
		{
			name:    "unterminated quote",
			in:      []string{`Bearer error="e", scope="a`},
			want:    []Challenge{{Scheme: "Bearer", Params: map[string]string{"error": "e"}}},
			wantErr: true,
		},
		{name: "empty", in: []string{""}, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseChallenges(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, ErrMalformedChallenge) {
				t.Errorf("err %v does not wrap ErrMalformedChallenge", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestBearerChallenge(t *testing.T) {
	h := http.Header{}
	h.Add("WWW-Authenticate", `Basic realm="x"`)
	h.Add("WWW-Authenticate", `DPoP algs="ES256", Bearer error="insufficient_scope", scope="a b", resource_metadata="https://r/.well-known/oauth-protected-resource"`)
	c, ok := BearerChallenge(h)
	if !ok {
		t.Fatal("no Bearer challenge found")
	}
	if c.Error() != "insufficient_scope" || !reflect.DeepEqual(c.Scopes(), []string{"a", "b"}) || c.ResourceMetadata() != "https://r/.well-known/oauth-protected-resource" {
		t.Errorf("unexpected challenge %v", c)
	}
	if _, ok := BearerChallenge(http.Header{"Www-Authenticate": {`Basic realm="x"`}}); ok {
		t.Error("found a Bearer challenge in a Basic-only header")
	}
}

func TestChallengeStringRoundTrip(t *testing.T) {
	c := Challenge{Scheme: "Bearer", Params: map[string]string{"scope": `a "b" \c`, "error": "e"}}
	got, err := ParseChallenges([]string{c.String()})
	if err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], c) {
		t.Fatalf("round trip of %s: %#v, %v", c, got, err)
	}
}

// FuzzParseChallenges checks that the parser never panics, returns only
// well-formed challenges, and that formatting what it returns and parsing
// again gives the same challenges.
func FuzzParseChallenges(f *testing.F) {
	for _, s := range []string{
		`Bearer resource_metadata="https://x/.well-known/oauth-protected-resource", scope="a b"`,
		`Basic realm="x", Bearer error="insufficient_scope"`,
		`Negotiate abc==, Bearer`,
		`Bearer scope="a\"b\\c", x=y`,
		`, ,Bearer ,,`,
		`Bearer scope="unterminated`,
		`=a, b=, c="d"e`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cs, _ := ParseChallenges([]string{s})
		for _, c := range cs {
			if c.Scheme == "" {
				t.Fatalf("empty scheme from %q", s)
			}
			for i := 0; i < len(c.Scheme); i++ {
				if !isTChar(c.Scheme[i]) {
					t.Fatalf("scheme %q from %q has a non-token byte", c.Scheme, s)
				}
			}
			if c.Token68 != "" && len(c.Params) > 0 {
				t.Fatalf("challenge with both token68 and params from %q", s)
			}
		}
		var formatted []string
		for _, c := range cs {
			formatted = append(formatted, c.String())
		}
		again, err := ParseChallenges(formatted)
		if err != nil {
			t.Fatalf("re-parsing %q (from %q): %v", formatted, s, err)
		}
		if len(again) != len(cs) {
			t.Fatalf("re-parse of %q gave %d challenges, want %d", formatted, len(again), len(cs))
		}
		for i := range cs {
			if !reflect.DeepEqual(again[i], cs[i]) {
				t.Fatalf("re-parse mismatch for %q: %#v vs %#v", s, again[i], cs[i])
			}
		}
	})
}
