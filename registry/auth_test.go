package registry_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/switchboard-mcp/switchboard/registry"
)

// publisherKey is a publisher's Ed25519 key and its proof record.
var publisherKey = ed25519.NewKeyFromSeed([]byte("publisher-key-seed-32-bytes-long"))

func proofRecord(pub ed25519.PublicKey) string {
	return "v=MCPv1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)
}

func signedProof(domain string, key ed25519.PrivateKey, at time.Time) registry.KeyProof {
	ts := at.UTC().Format(time.RFC3339)
	return registry.KeyProof{Domain: domain, Timestamp: ts, SignedTimestamp: hex.EncodeToString(ed25519.Sign(key, []byte(ts)))}
}

// wellKnown serves a proof record over TLS, as a domain would.
func wellKnown(t *testing.T, body string) (*httptest.Server, *x509.CertPool) {
	hs := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/mcp-registry-auth" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(body + "\n"))
	}))
	t.Cleanup(hs.Close)
	pool := x509.NewCertPool()
	pool.AddCert(hs.Certificate())
	return hs, pool
}

func TestHTTPKeyProof(t *testing.T) {
	hs, pool := wellKnown(t, proofRecord(publisherKey.Public().(ed25519.PublicKey)))
	addr := strings.TrimPrefix(hs.URL, "https://")
	// httptest's certificate is for example.com.
	e := newEnv(t, func(o *registry.Options) {
		a, err := registry.NewAuth(registry.AuthOptions{Key: testKey, HTTP: &registry.HTTPProofOptions{
			Resolve: map[string]string{"example.com": addr}, RootCAs: pool}})
		if err != nil {
			t.Fatal(err)
		}
		o.Auth = a
	})
	var tr registry.TokenResponse
	r := e.do("POST", "/v0/auth/http", "", signedProof("example.com", publisherKey, time.Now()))
	r.json(t, &tr)
	if r.status != 200 {
		t.Fatalf("login: %d %s", r.status, r.body)
	}
	c, err := registry.ParseToken(tr.RegistryToken, testKey.Public().(ed25519.PublicKey), time.Now())
	if err != nil || c.AuthMethod != "http" || c.AuthMethodSubject != "example.com" || len(c.Permissions) != 1 || c.Permissions[0].ResourcePattern != "com.example/*" {
		t.Fatalf("claims %+v %v", c, err)
	}
	if r := e.do("POST", "/v0.1/publish", tr.RegistryToken, serverJSON("com.example/tool", "1.0.0", "A tool")); r.status != 200 {
		t.Fatalf("publish: %d %s", r.status, r.body)
	}
	// HTTP proofs do not grant subdomains.
	if r := e.do("POST", "/v0.1/publish", tr.RegistryToken, serverJSON("com.example.sub/tool", "1.0.0", "A tool")); r.status != 403 {
		t.Fatalf("subdomain: %d", r.status)
	}
	bad := []registry.KeyProof{
		signedProof("example.com", ed25519.NewKeyFromSeed(make([]byte, 32)), time.Now()), // another key
		signedProof("example.com", publisherKey, time.Now().Add(-time.Minute)),           // stale
		signedProof("127.0.0.1", publisherKey, time.Now()),                               // an IP
		signedProof("acme.github.io", publisherKey, time.Now()),                          // GitHub Pages
		{Domain: "example.com", Timestamp: time.Now().UTC().Format(time.RFC3339), SignedTimestamp: "zz"},
	}
	for _, p := range bad {
		if r := e.do("POST", "/v0/auth/http", "", p); r.status != 401 {
			t.Errorf("%+v: %d %s", p, r.status, r.body)
		}
	}
	if r := e.do("POST", "/v0/auth/http", "", map[string]string{"domain": "example.com"}); r.status != 422 {
		t.Errorf("incomplete body: %d", r.status)
	}
}

// TestHTTPKeyProofRefusesPrivateAddresses: without Resolve or
// AllowPrivate, the key fetch does not reach loopback.
func TestHTTPKeyProofRefusesPrivateAddresses(t *testing.T) {
	a, _ := registry.NewAuth(registry.AuthOptions{Key: testKey, HTTP: &registry.HTTPProofOptions{}})
	_, err := a.LoginHTTP(context.Background(), signedProof("localhost.localdomain.example", publisherKey, time.Now()))
	if err == nil {
		t.Fatal("want an error")
	}
}

// dnsStub answers TXT queries for one name over UDP.
func dnsStub(t *testing.T, name string, txt ...string) string {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if resp := dnsAnswer(buf[:n], name, txt); resp != nil {
				pc.WriteTo(resp, addr)
			}
		}
	}()
	return pc.LocalAddr().String()
}

// dnsAnswer builds the answer to a DNS query: TXT records for name,
// NXDOMAIN for other names, an empty answer for other types.
func dnsAnswer(q []byte, name string, txt []string) []byte {
	if len(q) < 12 {
		return nil
	}
	// Read the question name.
	i, labels := 12, []string{}
	for i < len(q) && q[i] != 0 {
		l := int(q[i])
		if i+1+l > len(q) {
			return nil
		}
		labels = append(labels, string(q[i+1:i+1+l]))
		i += 1 + l
	}
	if i+5 > len(q) {
		return nil
	}
	qend := i + 5
	qtype := binary.BigEndian.Uint16(q[i+1:])
	out := append([]byte{}, q[:2]...)
	flags := uint16(0x8180) // response, recursion desired+available
	match := strings.EqualFold(strings.Join(labels, "."), strings.TrimSuffix(name, "."))
	if !match {
		flags |= 3 // NXDOMAIN
	}
	ancount := 0
	if match && qtype == 16 {
		ancount = len(txt)
	}
	out = binary.BigEndian.AppendUint16(out, flags)
	out = binary.BigEndian.AppendUint16(out, 1)
	out = binary.BigEndian.AppendUint16(out, uint16(ancount))
	out = append(out, 0, 0, 0, 0)
	out = append(out, q[12:qend]...)
	for a := 0; a < ancount; a++ {
		out = append(out, 0xc0, 12) // pointer to the question name
		out = binary.BigEndian.AppendUint16(out, 16)
		out = binary.BigEndian.AppendUint16(out, 1)
		out = binary.BigEndian.AppendUint32(out, 60)
		s := txt[a]
		out = binary.BigEndian.AppendUint16(out, uint16(len(s)+1))
		out = append(out, byte(len(s)))
		out = append(out, s...)
	}
	return out
}

func TestDNSKeyProof(t *testing.T) {
	// An ECDSA P-384 key too, R||S signatures over SHA-384.
	ec, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	ecRecord := "v=MCPv1; k=ecdsap384; p=" + base64.StdEncoding.EncodeToString(elliptic.MarshalCompressed(elliptic.P384(), ec.X, ec.Y))
	server := dnsStub(t, "example.org", "google-site-verification=abc", proofRecord(publisherKey.Public().(ed25519.PublicKey)), ecRecord)
	e := newEnv(t, func(o *registry.Options) {
		a, _ := registry.NewAuth(registry.AuthOptions{Key: testKey, DNS: &registry.DNSProofOptions{Server: server}})
		o.Auth = a
	})
	var tr registry.TokenResponse
	r := e.do("POST", "/v0/auth/dns", "", signedProof("example.org", publisherKey, time.Now()))
	r.json(t, &tr)
	if r.status != 200 {
		t.Fatalf("login: %d %s", r.status, r.body)
	}
	// DNS grants the domain and its subdomains.
	for _, n := range []string{"org.example/a-tool", "org.example.team/a-tool"} {
		if r := e.do("POST", "/v0.1/publish", tr.RegistryToken, serverJSON(n, "1.0.0", "A tool")); r.status != 200 {
			t.Fatalf("publish %s: %d %s", n, r.status, r.body)
		}
	}
	ts := time.Now().UTC().Format(time.RFC3339)
	d := sha512.Sum384([]byte(ts))
	rr, ss, _ := ecdsa.Sign(rand.Reader, ec, d[:])
	sig := make([]byte, 96)
	rr.FillBytes(sig[:48])
	ss.FillBytes(sig[48:])
	if r := e.do("POST", "/v0/auth/dns", "", registry.KeyProof{Domain: "example.org", Timestamp: ts, SignedTimestamp: hex.EncodeToString(sig)}); r.status != 200 {
		t.Fatalf("ecdsa login: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/v0/auth/dns", "", signedProof("example.net", publisherKey, time.Now())); r.status != 401 {
		t.Fatalf("a domain without records: %d", r.status)
	}
}

// TestOIDCLogin logs in with an ID token of a test IdP.
func TestOIDCLogin(t *testing.T) {
	idpKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	var issuer string
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			w.Write([]byte(`{"issuer":"` + issuer + `","jwks_uri":"` + issuer + `/keys"}`))
		case "/keys":
			b, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &idpKey.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
			w.Write(b)
		default:
			http.NotFound(w, r)
		}
	}))
	defer idp.Close()
	issuer = idp.URL
	sign := func(claims map[string]any) string {
		s, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: idpKey, KeyID: "k1"}}, nil)
		tok, _ := jwt.Signed(s).Claims(claims).Serialize()
		return tok
	}
	e := newEnv(t, func(o *registry.Options) {
		a, _ := registry.NewAuth(registry.AuthOptions{Key: testKey, OIDC: &registry.OIDCOptions{Issuer: issuer, Audience: "registry",
			ExtraClaims: []map[string]any{{"groups": "mcp-publishers"}}, Publish: []string{"com.acme/*"}, Edit: []string{"com.acme/*"}}})
		o.Auth = a
	})
	now := time.Now()
	good := map[string]any{"iss": issuer, "aud": "registry", "sub": "alice", "exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "groups": []string{"staff", "mcp-publishers"}}
	var tr registry.TokenResponse
	r := e.do("POST", "/v0/auth/oidc", "", map[string]string{"oidc_token": sign(good)})
	r.json(t, &tr)
	if r.status != 200 {
		t.Fatalf("login: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/v0.1/publish", tr.RegistryToken, serverJSON("com.acme/tool", "1.0.0", "A tool")); r.status != 200 {
		t.Fatalf("publish: %d %s", r.status, r.body)
	}
	for name, change := range map[string]func(m map[string]any){
		"wrong audience": func(m map[string]any) { m["aud"] = "other" },
		"expired":        func(m map[string]any) { m["exp"] = now.Add(-time.Hour).Unix() },
		"wrong issuer":   func(m map[string]any) { m["iss"] = "https://evil.example" },
		"missing group":  func(m map[string]any) { m["groups"] = []string{"staff"} },
	} {
		c := map[string]any{}
		for k, v := range good {
			c[k] = v
		}
		change(c)
		if r := e.do("POST", "/v0/auth/oidc", "", map[string]string{"oidc_token": sign(c)}); r.status != 401 {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}
}

func TestAdminTokenAndBlockedNamespaces(t *testing.T) {
	a, _ := registry.NewAuth(registry.AuthOptions{Key: testKey, Anonymous: true, AdminTokens: []string{"adm"}, BlockedNamespaces: []string{AnonymousNS}})
	if _, err := a.LoginNone(); err == nil {
		t.Fatal("a blocked namespace was granted")
	}
	c, err := a.Verify("adm")
	if err != nil || !c.Can(registry.ActionPublish, "anything.at/all") {
		t.Fatalf("admin: %+v %v", c, err)
	}
	if _, err := a.Verify("adm2"); err == nil {
		t.Fatal("a wrong admin token passed")
	}
}

const AnonymousNS = registry.AnonymousNamespace

func TestMatchPattern(t *testing.T) {
	for _, tc := range []struct {
		p, n string
		ok   bool
	}{
		{"*", "a.b/c", true}, {"com.example/*", "com.example/x", true}, {"com.example/*", "com.examples/x", false},
		{"com.example.*", "com.example.sub/x", true}, {"com.example.*", "com.example/x", false}, {"a.b/c", "a.b/c", true},
	} {
		if registry.MatchPattern(tc.p, tc.n) != tc.ok {
			t.Errorf("MatchPattern(%q, %q) != %v", tc.p, tc.n, tc.ok)
		}
	}
}

func FuzzParseToken(f *testing.F) {
	a, _ := registry.NewAuth(registry.AuthOptions{Key: testKey, Anonymous: true})
	tr, _ := a.LoginNone()
	f.Add(tr.RegistryToken)
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("a.b.c")
	pub := testKey.Public().(ed25519.PublicKey)
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := registry.ParseToken(tok, pub, time.Now())
		if err == nil && (c.Issuer != registry.TokenIssuer || c.Expiry == nil) {
			t.Fatalf("accepted %q", tok)
		}
	})
}

func FuzzParseProofRecords(f *testing.F) {
	f.Add(proofRecord(publisherKey.Public().(ed25519.PublicKey)))
	f.Add("v=MCPv1; k=ecdsap384; p=AAAA")
	f.Add("v=MCPv1;k=rsa;p=====")
	f.Fuzz(func(t *testing.T, s string) {
		keys, _ := registry.ParseProofRecords([]string{s})
		for _, k := range keys {
			k.Verify([]byte("x"), make([]byte, 64))
			k.Verify([]byte("x"), make([]byte, 96))
		}
	})
}
