package auth

import (
	"bytes"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
)

func FuzzParseScope(f *testing.F) {
	for _, s := range []string{"", "a b", "a  b", " a", `a"b`, "files:read files:write"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		scopes, err := ParseScope(s)
		if err != nil {
			return
		}
		for _, sc := range scopes {
			if !ValidScopeToken(sc) {
				t.Fatalf("invalid token %q accepted", sc)
			}
		}
		again, err := ParseScope(FormatScope(scopes))
		if err != nil || len(again) != len(scopes) {
			t.Fatalf("round trip of %q: %q, %v", s, again, err)
		}
	})
}

func FuzzParseJWKS(f *testing.F) {
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","kid":"1"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}`))
	f.Add([]byte(`{"keys":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, err := ParseJWKS(data)
		if err != nil {
			return
		}
		for _, k := range keys {
			if !k.IsPublic() {
				t.Fatal("private key kept")
			}
			if _, ok := k.Key.([]byte); ok {
				t.Fatal("symmetric key kept")
			}
		}
	})
}

func FuzzParseIntrospectionResponse(f *testing.F) {
	f.Add([]byte(`{"active":true,"aud":["a"],"exp":1e10,"scope":"a b","scp":["x"]}`))
	f.Add([]byte(`{"active":false}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		active, claims, err := ParseIntrospectionResponse(data)
		if err != nil || !active {
			return
		}
		info, err := claimsToInfo(claims)
		if err != nil {
			return
		}
		for _, s := range info.Scopes {
			if !ValidScopeToken(s) {
				t.Fatalf("invalid scope %q", s)
			}
		}
		_ = checkTimes(claims, info.Expiry, DefaultLeeway)
	})
}

// FuzzPeekCalls checks that the middleware's body peek never loses or
// alters the body, whatever it contains.
func FuzzPeekCalls(f *testing.F) {
	f.Add([]byte(initBody), int64(1<<20))
	f.Add([]byte(`[`+echoCall+`,`+deleteCall+`]`), int64(1<<20))
	f.Add([]byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a"}}`), int64(10))
	f.Fuzz(func(t *testing.T, body []byte, limit int64) {
		if limit <= 0 || limit > 1<<20 {
			limit = 1 << 20
		}
		r := httptest.NewRequest("POST", "/mcp", bytes.NewReader(body))
		r.ContentLength = -1
		calls, tooLarge, err := peekCalls(r, limit)
		if err != nil {
			t.Fatal(err)
		}
		if tooLarge != (int64(len(body)) > limit) {
			t.Fatalf("tooLarge = %v for %d bytes, limit %d", tooLarge, len(body), limit)
		}
		rest, _ := io.ReadAll(r.Body)
		if !bytes.Equal(rest, body) {
			t.Fatalf("body changed: %q -> %q", body, rest)
		}
		for _, c := range calls {
			if c.method == "tools/call" && !c.badArg && c.tool == "" {
				t.Fatal("tools/call without tool name not flagged")
			}
		}
	})
}

func FuzzBearerToken(f *testing.F) {
	f.Add("Bearer abc.def.ghi")
	f.Add("bearer  x==")
	f.Add("Basic dTpw")
	f.Fuzz(func(t *testing.T, h string) {
		r := httptest.NewRequest("GET", "/mcp", nil)
		r.Header.Set("Authorization", h)
		tok, err := bearerToken(r)
		if err == nil && tok != "" && (!isToken68(tok) || strings.ContainsAny(tok, " \"\\")) {
			t.Fatalf("token %q accepted from %q", tok, h)
		}
	})
}
