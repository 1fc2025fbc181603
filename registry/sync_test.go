package registry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-mcp/switchboard/registry"
)

// listAll reads every version of a registry (deleted ones too).
func listAll(t *testing.T, st registry.Store) map[string]registry.Official {
	t.Helper()
	out := map[string]registry.Official{}
	q := &registry.ListQuery{IncludeDeleted: true, Limit: 1000}
	recs, err := st.List(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		out[r.Name+"@"+r.Version] = r.Official
	}
	return out
}

func sameOfficial(a, b registry.Official) bool {
	am, bm := "", ""
	if a.StatusMessage != nil {
		am = *a.StatusMessage
	}
	if b.StatusMessage != nil {
		bm = *b.StatusMessage
	}
	return a.Status == b.Status && am == bm && a.IsLatest == b.IsLatest && a.PublishedAt.Equal(b.PublishedAt) &&
		a.UpdatedAt.Equal(b.UpdatedAt) && a.StatusChangedAt.Equal(b.StatusChangedAt)
}

// TestSyncIncrementalResumeDeletions mirrors one registry into another:
// everything arrives with its metadata, an interrupted sync resumes, and
// later runs bring only changes, deletions and status changes included.
func TestSyncIncrementalResumeDeletions(t *testing.T) {
	skipOneDatabase(t)
	src := newEnv(t, nil)
	for i := range 12 {
		src.publish(fmt.Sprintf("com.example/s%02d", i), "1.0.0", "Server")
	}
	// Fail the 3rd page request once, to interrupt the first sync.
	var calls, failAt atomic.Int32
	failAt.Store(3)
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == failAt.Load() {
			http.Error(w, "nope", http.StatusBadRequest)
			return
		}
		src.api.ServeHTTP(w, r)
	}))
	defer flaky.Close()
	dst := openStore(t)
	ctx := context.Background()
	opts := registry.SyncOptions{Source: flaky.URL, PageSize: 5, Overlap: time.Nanosecond}
	res, err := registry.Sync(ctx, dst, opts)
	if err == nil || res.Received != 10 {
		t.Fatalf("interrupted sync: %+v %v", res, err)
	}
	st, _ := dst.SyncState(ctx, flaky.URL)
	if st.Cursor == "" {
		t.Fatal("no cursor saved")
	}
	res, err = registry.Sync(ctx, dst, opts)
	if err != nil || !res.Resumed || res.Received != 12 {
		t.Fatalf("resumed sync: %+v %v", res, err)
	}
	want := listAll(t, src.store)
	got := listAll(t, dst)
	if len(got) != 12 {
		t.Fatalf("mirrored %d versions", len(got))
	}
	for k, o := range want {
		if !sameOfficial(o, got[k]) {
			t.Fatalf("%s: %+v, want %+v", k, got[k], o)
		}
	}
	// Changes: a deletion, a deprecation, a new version.
	src.do("PATCH", "/v0.1/servers/"+esc("com.example/s03")+"/versions/1.0.0/status", adminToken, map[string]any{"status": "deleted"})
	src.do("PATCH", "/v0.1/servers/"+esc("com.example/s07")+"/status", adminToken, map[string]any{"status": "deprecated", "statusMessage": "old"})
	src.publish("com.example/s07", "2.0.0", "Server")
	calls.Store(0)
	failAt.Store(-1)
	res, err = registry.Sync(ctx, dst, registry.SyncOptions{Source: flaky.URL, PageSize: 5, Overlap: time.Nanosecond})
	if err != nil || res.Resumed || res.Since.IsZero() || res.Received < 3 || res.Received > 4 {
		t.Fatalf("incremental sync: %+v %v", res, err)
	}
	want, got = listAll(t, src.store), listAll(t, dst)
	for k, o := range want {
		if !sameOfficial(o, got[k]) {
			t.Fatalf("%s: %+v, want %+v", k, got[k], o)
		}
	}
	if got["com.example/s03@1.0.0"].Status != registry.StatusDeleted || got["com.example/s07@1.0.0"].IsLatest || !got["com.example/s07@2.0.0"].IsLatest {
		t.Fatalf("changes not mirrored: %+v", got)
	}
	// A second registry serving the mirror hides the deleted version.
	mirror := newEnvOn(t, dst)
	if r := mirror.do("GET", "/v0.1/servers/"+esc("com.example/s03")+"/versions/latest", "", nil); r.status != 404 {
		t.Fatalf("deleted server on the mirror: %d", r.status)
	}
	if r := mirror.do("GET", "/v0.1/servers/"+esc("com.example/s07")+"/versions/latest", "", nil); r.status != 200 || !strings.Contains(string(r.body), `"version":"2.0.0"`) {
		t.Fatalf("mirror latest: %d %s", r.status, r.body)
	}
}

// newEnvOn serves an existing store.
func newEnvOn(t *testing.T, st *registry.SQLStore) *env {
	api, err := registry.NewServer(registry.Options{Store: st, AnonymousReads: true})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, store: st, api: api, srv: httptest.NewServer(api)}
	t.Cleanup(e.srv.Close)
	return e
}

func TestExportImport(t *testing.T) {
	skipOneDatabase(t)
	src := newEnv(t, nil)
	src.publish("com.example/aa", "1.0.0", "A")
	src.publish("com.example/aa", "1.1.0", "A")
	src.do("PATCH", "/v0.1/servers/"+esc("com.example/aa")+"/versions/1.0.0/status", adminToken, map[string]any{"status": "deleted"})
	var buf bytes.Buffer
	n, err := registry.Export(context.Background(), src.store, &buf)
	if err != nil || n != 2 {
		t.Fatalf("export: %d %v", n, err)
	}
	dst := openStore(t)
	res, err := registry.Import(context.Background(), dst, buf.Bytes(), "file:x", nil)
	if err != nil || res.Stored != 2 {
		t.Fatalf("import: %+v %v", res, err)
	}
	want, got := listAll(t, src.store), listAll(t, dst)
	for k, o := range want {
		if !sameOfficial(o, got[k]) {
			t.Fatalf("%s: %+v, want %+v", k, got[k], o)
		}
	}
	// A seed file of bare server.json documents (the official format).
	seed, _ := json.Marshal([]any{serverJSON("com.example/bb", "1.0.0", "B"), serverJSON("com.example/bb", "1.0.0", "B")})
	res, err = registry.Import(context.Background(), dst, seed, "file:seed", nil)
	if err != nil || res.Stored != 1 || res.Skipped != 1 {
		t.Fatalf("seed import: %+v %v", res, err)
	}
}

// TestCopilotLookups replays GitHub Copilot's allowlist sequence,
// anonymously: the probe, then versions/latest for a known, an unknown and
// a denied server.
func TestCopilotLookups(t *testing.T) {
	for _, denied := range []int{0, 404, 451} {
		e := newEnv(t, func(o *registry.Options) {
			o.Curation = &registry.Curation{Deny: []string{"com.blocked/*"}, DeniedStatus: denied}
		})
		e.publish("com.example/known", "1.0.0", "Known")
		e.put("com.blocked/tool", "1.0.0", "Blocked")
		var l registry.ServerList
		r := e.do("GET", "/v0.1/servers?limit=1", "", nil)
		r.json(t, &l)
		if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != "*" || len(l.Servers) != 1 {
			t.Fatalf("probe: %d %s", r.status, r.body)
		}
		want := denied
		if want == 0 {
			want = 403
		}
		for name, status := range map[string]int{"com.example/known": 200, "com.example/unknown": 404, "com.blocked/tool": want} {
			r := e.do("GET", "/v0.1/servers/"+esc(name)+"/versions/latest", "", nil)
			if r.status != status || r.header.Get("Access-Control-Allow-Origin") != "*" {
				t.Errorf("%s (denied status %d): %d, want %d", name, denied, r.status, status)
			}
		}
		// Lists leave refused servers out.
		e.do("GET", "/v0.1/servers", "", nil).json(t, &l)
		if names(t, l) != "com.example/known@1.0.0" {
			t.Errorf("list: %s", names(t, l))
		}
		// A preflight.
		req, _ := http.NewRequest("OPTIONS", e.srv.URL+"/v0.1/servers", nil)
		req.Header.Set("Origin", "https://github.com")
		req.Header.Set("Access-Control-Request-Method", "GET")
		req.Header.Set("Access-Control-Request-Headers", "authorization")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Headers") != "authorization" {
			t.Fatalf("preflight: %v %v", resp, err)
		}
		resp.Body.Close()
	}
}

func TestApprovalCuration(t *testing.T) {
	e := newEnv(t, func(o *registry.Options) {
		o.Curation = &registry.Curation{RequireApproval: true, Allow: []string{"com.example/*", "org.ok/*"}}
	})
	e.publish("com.example/aa", "1.0.0", "A")
	e.publish("com.example/bb", "1.0.0", "B")
	if r := e.do("POST", "/v0.1/publish", adminToken, serverJSON("net.other/cc", "1.0.0", "C")); r.status != 403 {
		t.Fatalf("publishing outside the allowlist: %d", r.status)
	}
	// Published servers wait for approval.
	if r := e.do("GET", "/v0.1/servers/"+esc("com.example/aa")+"/versions/latest", "", nil); r.status != 404 {
		t.Fatalf("pending: %d", r.status)
	}
	a, _ := e.store.Approval(context.Background(), "com.example/aa")
	if a == nil || a.State != registry.ApprovalPending {
		t.Fatalf("approval %+v", a)
	}
	e.store.SetApproval(context.Background(), registry.Approval{Name: "com.example/aa", State: registry.ApprovalApproved, UpdatedAt: time.Now()})
	e.store.SetApproval(context.Background(), registry.Approval{Name: "com.example/bb", State: registry.ApprovalDenied, UpdatedAt: time.Now()})
	if r := e.do("GET", "/v0.1/servers/"+esc("com.example/aa")+"/versions/latest", "", nil); r.status != 200 {
		t.Fatalf("approved: %d", r.status)
	}
	if r := e.do("GET", "/v0.1/servers/"+esc("com.example/bb")+"/versions/latest", "", nil); r.status != 403 {
		t.Fatalf("denied: %d", r.status)
	}
	var l registry.ServerList
	e.do("GET", "/v0.1/servers", "", nil).json(t, &l)
	if names(t, l) != "com.example/aa@1.0.0" {
		t.Fatalf("list: %s", names(t, l))
	}
}

// TestCurationPaging: pages stay full when curation leaves servers out.
func TestCurationPaging(t *testing.T) {
	e := newEnv(t, func(o *registry.Options) { o.Curation = &registry.Curation{Deny: []string{"*/odd-*"}} })
	for i := range 40 {
		kind := "even"
		if i%2 == 1 {
			kind = "odd"
		}
		e.put(fmt.Sprintf("com.example/%s-%02d", kind, i), "1.0.0", "X")
	}
	seen, cursor := 0, ""
	for {
		var l registry.ServerList
		e.do("GET", "/v0.1/servers?limit=7&cursor="+esc(cursor), "", nil).json(t, &l)
		for _, s := range l.Servers {
			if strings.Contains(serverName(t, s), "odd") {
				t.Fatal("a denied server was listed")
			}
		}
		seen += len(l.Servers)
		if l.Metadata.NextCursor == "" {
			break
		}
		if len(l.Servers) != 7 {
			t.Fatalf("a short page before the end: %d", len(l.Servers))
		}
		cursor = l.Metadata.NextCursor
	}
	if seen != 20 {
		t.Fatalf("saw %d", seen)
	}
}

func TestGlob(t *testing.T) {
	for _, tc := range []struct {
		p, n string
		ok   bool
	}{
		{"com.example/*", "com.example/x", true}, {"*/internal-*", "a.b/internal-x", true}, {"*/internal-*", "a.b/x", false},
		{"a*a", "a", false}, {"*", "", true}, {"exact/name", "exact/name", true}, {"a*b*c", "abxbc", true},
	} {
		if registry.Glob(tc.p, tc.n) != tc.ok {
			t.Errorf("Glob(%q, %q) != %v", tc.p, tc.n, tc.ok)
		}
	}
}

func TestUpstreamFor(t *testing.T) {
	doc := func(s string) *registry.ServerJSON {
		var sj registry.ServerJSON
		if err := json.Unmarshal([]byte(s), &sj); err != nil {
			t.Fatal(err)
		}
		return &sj
	}
	tests := []struct {
		name string
		sj   string
		opts registry.InstallOptions
		want string
		err  string
	}{
		{"npm with env", `{"name":"io.github.acme/files","packages":[{"registryType":"npm","identifier":"@acme/files","version":"1.2.3","transport":{"type":"stdio"},
			"packageArguments":[{"type":"positional","valueHint":"root","isRequired":true}],
			"environmentVariables":[{"name":"TOKEN","isSecret":true,"isRequired":true},{"name":"LEVEL","default":"info"}]}]}`,
			registry.InstallOptions{}, `files stdio npx [-y @acme/files@1.2.3 ${ROOT}] env=map[LEVEL:info TOKEN:${TOKEN}] refs=TOKEN(secret),ROOT`, ""},
		{"pypi with a value", `{"name":"com.example/py","packages":[{"registryType":"pypi","identifier":"mcp-py","version":"0.4.0","transport":{"type":"stdio"},
			"packageArguments":[{"type":"named","name":"--mode","isRequired":true}]}]}`,
			registry.InstallOptions{Values: map[string]string{"--mode": "fast"}}, `py stdio uvx [mcp-py==0.4.0 --mode fast] env=map[] refs=`, ""},
		{"oci", `{"name":"com.example/img","packages":[{"registryType":"oci","identifier":"ghcr.io/example/img","version":"2.0.0","transport":{"type":"stdio"},
			"environmentVariables":[{"name":"KEY","isSecret":true}]}]}`,
			registry.InstallOptions{Name: "image"}, `image stdio docker [run -i --rm -e KEY ghcr.io/example/img:2.0.0] env=map[KEY:${KEY}] refs=KEY(secret)`, ""},
		{"nuget", `{"name":"com.example/nu","packages":[{"registryType":"nuget","identifier":"Example.Mcp","version":"1.0.0","transport":{"type":"stdio"}}]}`,
			registry.InstallOptions{}, `nu stdio dnx [--yes Example.Mcp@1.0.0] env=map[] refs=`, ""},
		{"mcpb needs a command", `{"name":"com.example/bundle","packages":[{"registryType":"mcpb","identifier":"https://x.example.com/b.mcpb","fileSha256":"ab","transport":{"type":"stdio"}}]}`,
			registry.InstallOptions{}, ``, "--command"},
		{"binary", `{"name":"com.example/bundle","packages":[{"registryType":"mcpb","identifier":"https://x.example.com/b.mcpb","fileSha256":"ab","transport":{"type":"stdio"},
			"packageArguments":[{"type":"positional","value":"serve"}]}]}`,
			registry.InstallOptions{Command: "/opt/bundle/bin/server"}, `bundle stdio /opt/bundle/bin/server [serve] env=map[] refs=`, ""},
		{"remote with variables and a secret header", `{"name":"com.example/remote","remotes":[{"type":"sse","url":"https://a.example.com/sse"},{"type":"streamable-http","url":"https://{tenant}.example.com/mcp",
			"variables":{"tenant":{"default":"eu"}},"headers":[{"name":"Authorization","value":"Bearer {token}","variables":{"token":{"isSecret":true}}}]}]}`,
			registry.InstallOptions{}, `remote http https://eu.example.com/mcp headers=map[Authorization:Bearer ${TOKEN}] refs=TOKEN(secret)`, ""},
		{"prefer the package", `{"name":"com.example/both","remotes":[{"type":"streamable-http","url":"https://a.example.com/mcp"}],
			"packages":[{"registryType":"npm","identifier":"both","version":"1.0.0","transport":{"type":"stdio"}}]}`,
			registry.InstallOptions{Prefer: "package"}, `both stdio npx [-y both@1.0.0] env=map[] refs=`, ""},
		{"nothing runnable", `{"name":"com.example/none","packages":[{"registryType":"npm","identifier":"x","transport":{"type":"streamable-http","url":"http://localhost:1/mcp"}}]}`,
			registry.InstallOptions{}, ``, "neither"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, err := registry.UpstreamFor(doc(tc.sj), tc.opts)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var refs []string
			for _, r := range u.References {
				s := r.Name
				if r.Secret {
					s += "(secret)"
				}
				refs = append(refs, s)
			}
			var got string
			if u.Type == "stdio" {
				env := u.Env
				if env == nil {
					env = map[string]string{}
				}
				got = fmt.Sprintf("%s stdio %s %v env=%v refs=%s", u.Name, u.Command, u.Args, env, strings.Join(refs, ","))
			} else {
				got = fmt.Sprintf("%s %s %s headers=%v refs=%s", u.Name, u.Type, u.URL, u.Headers, strings.Join(refs, ","))
			}
			if got != tc.want {
				t.Errorf("\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestSyncRejectsBadSources(t *testing.T) {
	st := openStore(t)
	for _, src := range []string{"", "ftp://x", "not a url"} {
		if _, err := registry.Sync(context.Background(), st, registry.SyncOptions{Source: src}); err == nil {
			t.Errorf("%q: no error", src)
		}
	}
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"servers":[{"server":{"x":1}}]}`)) }))
	defer bad.Close()
	if _, err := registry.Sync(context.Background(), st, registry.SyncOptions{Source: bad.URL}); err == nil {
		t.Error("a server without a name was mirrored")
	}
	_ = errors.New
}

// skipOneDatabase skips tests that need two stores when the tests run on
// one PostgreSQL database (registrytest mirrors between databases).
func skipOneDatabase(t *testing.T) {
	if os.Getenv("SWITCHBOARD_TEST_POSTGRES") != "" {
		t.Skip("needs two stores; on PostgreSQL, registrytest covers mirroring between databases")
	}
}
