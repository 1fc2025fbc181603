package registrytest

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type official struct {
	Status        string  `json:"status"`
	StatusMessage *string `json:"statusMessage"`
	IsLatest      bool    `json:"isLatest"`
	PublishedAt   string  `json:"publishedAt"`
	UpdatedAt     string  `json:"updatedAt"`
}

type entry struct {
	Server struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	} `json:"server"`
	Meta struct {
		Official *official `json:"io.modelcontextprotocol.registry/official"`
	} `json:"_meta"`
}

type list struct {
	Servers  []entry `json:"servers"`
	Metadata struct {
		NextCursor string `json:"nextCursor"`
		Count      int    `json:"count"`
	} `json:"metadata"`
}

// TestPublisherRoundTrip drives a Switchboard registry with the official
// publisher CLI: login with an HTTP key proof (the key served over TLS by
// a test .well-known server) and with a DNS key proof (a test DNS
// server), validate, publish, change the status of one version and of all
// versions, and the API shows each step.
func TestPublisherRoundTrip(t *testing.T) {
	dir := t.TempDir()
	key := ed25519.NewKeyFromSeed([]byte("a-publisher-seed-of-32-bytes-ok!"))
	record := "v=MCPv1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(key.Public().(ed25519.PublicKey))
	wk := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/.well-known/mcp-registry-auth" {
			w.Write([]byte(record + "\n"))
			return
		}
		http.NotFound(w, r)
	}))
	defer wk.Close()
	ca := filepath.Join(dir, "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: wk.Certificate().Raw}), 0o600)
	dns := dnsStub(t, "example.org", record)
	cfg := filepath.Join(dir, "registry.yaml")
	os.WriteFile(cfg, []byte(`registry:
  auth:
    anonymous: true
    http:
      resolve: {example.com: "`+strings.TrimPrefix(wk.URL, "https://")+`"}
      caFile: `+ca+`
    dns:
      server: "`+dns+`"
`), 0o600)
	_, base := startSwitchboardRegistry(t, "--config", cfg, "--data-dir", filepath.Join(dir, "data"))
	home := filepath.Join(dir, "home")
	env := []string{"HOME=" + home}
	seed := hex.EncodeToString(key.Seed())

	out := mustRun(t, env, bins.publisher, "login", "http", "--domain", "example.com", "--private-key", seed, "--registry", base)
	t.Logf("login http:\n%s", out)
	tok, _ := os.ReadFile(filepath.Join(home, ".config", "mcp-publisher", "token.json"))
	if !strings.Contains(string(tok), base) {
		t.Fatalf("no token saved: %s", tok)
	}

	write := func(name, version string) string {
		p := filepath.Join(dir, strings.ReplaceAll(name, "/", "_")+"-"+version+".json")
		b, _ := json.MarshalIndent(serverDoc(name, version, "Published by mcp-publisher"), "", "  ")
		os.WriteFile(p, b, 0o644)
		return p
	}
	// validate goes through the registry's /v0/validate.
	out = mustRun(t, env, bins.publisher, "validate", write("com.example/tool", "1.0.0"))
	t.Logf("validate:\n%s", out)
	for _, v := range []string{"1.0.0", "1.1.0"} {
		out = mustRun(t, env, bins.publisher, "publish", write("com.example/tool", v))
		if !strings.Contains(out, "Successfully published") {
			t.Fatalf("publish %s:\n%s", v, out)
		}
	}
	var e entry
	if st := getJSON(t, base+"/v0.1/servers/"+esc("com.example/tool")+"/versions/latest", &e); st != 200 || e.Server.Version != "1.1.0" || e.Meta.Official.Status != "active" || !e.Meta.Official.IsLatest {
		t.Fatalf("after publish: %d %+v", st, e)
	}
	// A name outside the proven namespace is refused.
	if out, err := run(t, env, bins.publisher, "publish", write("com.other/tool", "1.0.0")); err == nil {
		t.Fatalf("published outside the namespace:\n%s", out)
	}
	// An invalid server.json: the CLI shows the registry's validation.
	bad := serverDoc("com.example/tool", "^2.0.0", "x")
	bb, _ := json.Marshal(bad)
	badPath := filepath.Join(dir, "bad.json")
	os.WriteFile(badPath, bb, 0o644)
	if out, err := run(t, env, bins.publisher, "publish", badPath); err == nil || !strings.Contains(out, "version") {
		t.Fatalf("an invalid server.json:\n%s", out)
	} else {
		t.Logf("invalid publish:\n%s", out)
	}

	// Status of one version, then of all.
	mustRun(t, env, bins.publisher, "status", "--status", "deprecated", "--message", "Use 1.1.0", "com.example/tool", "1.0.0")
	if getJSON(t, base+"/v0.1/servers/"+esc("com.example/tool")+"/versions/1.0.0", &e); e.Meta.Official.Status != "deprecated" || e.Meta.Official.StatusMessage == nil || *e.Meta.Official.StatusMessage != "Use 1.1.0" {
		t.Fatalf("after status: %+v", e.Meta.Official)
	}
	out = mustRun(t, env, bins.publisher, "status", "--status", "deprecated", "--all-versions", "--message", "Moved to com.example/tool2", "--yes", "com.example/tool")
	t.Logf("status --all-versions:\n%s", out)
	var l list
	getJSON(t, base+"/v0.1/servers/"+esc("com.example/tool")+"/versions", &l)
	if len(l.Servers) != 2 {
		t.Fatalf("versions: %+v", l)
	}
	for _, s := range l.Servers {
		if s.Meta.Official.Status != "deprecated" || *s.Meta.Official.StatusMessage != "Moved to com.example/tool2" {
			t.Fatalf("after status --all-versions: %+v", s.Meta.Official)
		}
	}
	mustRun(t, env, bins.publisher, "status", "--status", "deleted", "--all-versions", "--yes", "com.example/tool")
	if st := getJSON(t, base+"/v0.1/servers/"+esc("com.example/tool")+"/versions/latest", nil); st != 404 {
		t.Fatalf("deleted server: %d", st)
	}

	// DNS proof: the domain and its subdomains.
	mustRun(t, env, bins.publisher, "login", "dns", "--domain", "example.org", "--private-key", seed, "--registry", base)
	mustRun(t, env, bins.publisher, "publish", write("org.example.team/tool", "0.1.0"))
	if st := getJSON(t, base+"/v0.1/servers/"+esc("org.example.team/tool")+"/versions/0.1.0", &e); st != 200 {
		t.Fatalf("dns publish: %d", st)
	}
	// login none on a development registry.
	mustRun(t, env, bins.publisher, "login", "none", "--registry", base)
	mustRun(t, env, bins.publisher, "publish", write("io.modelcontextprotocol.anonymous/demo", "1.0.0"))
	mustRun(t, env, bins.publisher, "logout")
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

func dnsAnswer(q []byte, name string, txt []string) []byte {
	if len(q) < 12 {
		return nil
	}
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
	flags := uint16(0x8180)
	match := strings.EqualFold(strings.Join(labels, "."), name)
	if !match {
		flags |= 3
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
		out = append(out, 0xc0, 12)
		out = binary.BigEndian.AppendUint16(out, 16)
		out = binary.BigEndian.AppendUint16(out, 1)
		out = binary.BigEndian.AppendUint32(out, 60)
		out = binary.BigEndian.AppendUint16(out, uint16(len(txt[a])+1))
		out = append(out, byte(len(txt[a])))
		out = append(out, txt[a]...)
	}
	return out
}
