package harness

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-mcp/switchboard/bench/servers"
)

func TestPutParseID(t *testing.T) {
	for _, n := range []int64{0, 1, 42, 999_999_999, 8_999_999_999} {
		body := slices.Clone(callTemplate)
		putID(body, n)
		got, ok := parseID(body)
		if !ok || got != idBase+n {
			t.Errorf("putID(%d): parsed %d, %v from %s", n, got, ok, body)
		}
		if len(body) != len(callTemplate) {
			t.Errorf("putID(%d) changed the body's length", n)
		}
	}
}

func TestParseID(t *testing.T) {
	tests := []struct {
		msg    string
		want   int64
		wantOK bool
	}{
		{`{"jsonrpc":"2.0","id":1000000042,"result":{}}`, 1000000042, true},
		{`{"jsonrpc":"2.0","id": 7,"result":{}}`, 7, true},
		{`{"jsonrpc":"2.0","method":"notifications/message"}`, 0, false},
		{`{"jsonrpc":"2.0","id":"abc","result":{}}`, 0, false},
	}
	for _, tt := range tests {
		got, ok := parseID([]byte(tt.msg))
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("parseID(%s) = %d, %v; want %d, %v", tt.msg, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestPercentileMedian(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	tests := []struct {
		sorted []time.Duration
		q      float64
		want   time.Duration
	}{
		{nil, 0.5, 0},
		{ms(5), 0.99, 5 * time.Millisecond},
		{ms(1, 2, 3, 4), 0.5, 2 * time.Millisecond},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 0.99, 10 * time.Millisecond},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 0.5, 5 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := percentile(tt.sorted, tt.q); got != tt.want {
			t.Errorf("percentile(%v, %v) = %v, want %v", tt.sorted, tt.q, got, tt.want)
		}
	}
	for _, tt := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3, 1, 2}, 2}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestMedianResult(t *testing.T) {
	rounds := []RoundStats{
		{CallsPerS: 100, P50: 3, P99: 30, CPUPerCall: 7, Errors: 1, OtherCores: 0.5},
		{CallsPerS: 300, P50: 1, P99: 10, CPUPerCall: 9},
		{CallsPerS: 200, P50: 2, P99: 20, CPUPerCall: 8, Errors: 2},
	}
	var r Result
	medianResult(&r, rounds)
	if r.CallsPerS != 200 || r.P50 != 2 || r.P99 != 20 || r.CPUPerCall != 8 || r.Errors != 3 || r.OtherCores != 0 {
		t.Errorf("medianResult = %+v", r)
	}
}

func TestParseBench(t *testing.T) {
	out := []byte(`goos: linux
BenchmarkToolsCall/session/baseline-2         	   92938	      3429 ns/op	     936 B/op	      24 allocs/op
BenchmarkToolsCall/session/switchboard-2      	   60344	      5744 ns/op	    1438 B/op	      19 allocs/op
BenchmarkToolsCall/session/switchboard-2      	   60344	      5000 ns/op	    1438 B/op	      19 allocs/op
BenchmarkToolsCall/session/switchboard-2      	   60344	      9000 ns/op	    1500 B/op	      21 allocs/op
BenchmarkToolsCall/session/mcp-go-novalidate-2	   23112	     15420 ns/op	    3601 B/op	      79 allocs/op
BenchmarkToolsCall/http/go-sdk                	     800	    608519 ns/op	  268285 B/op	     129 allocs/op
--- FAIL: BenchmarkToolsCall/stream/go-sdk
PASS
`)
	got := parseBench(out)
	want := []BenchResult{
		{Depth: "session", Impl: "baseline", Runs: 1, NsPerOp: 3429, BytesPerOp: 936, AllocsPerOp: 24},
		{Depth: "session", Impl: "switchboard", Runs: 3, NsPerOp: 5744, BytesPerOp: 1438, AllocsPerOp: 19},
		{Depth: "session", Impl: "mcp-go-novalidate", Runs: 1, NsPerOp: 15420, BytesPerOp: 3601, AllocsPerOp: 79},
		{Depth: "http", Impl: "go-sdk", Runs: 1, NsPerOp: 608519, BytesPerOp: 268285, AllocsPerOp: 129},
	}
	if !slices.Equal(got, want) {
		t.Errorf("parseBench:\n got %+v\nwant %+v", got, want)
	}
}

func TestAreaOf(t *testing.T) {
	tests := []struct{ fn, want string }{
		{"github.com/switchboard-mcp/switchboard/mcp.(*ServerSession).HandleRequest", "switchboard/mcp"},
		{"github.com/switchboard-mcp/switchboard/transport/streamable.(*Handler).servePost", "switchboard/transport/streamable"},
		{"github.com/go-json-experiment/json/jsontext.(*Decoder).ReadToken", "JSON (go-json-experiment)"},
		{"runtime.scanObject", "runtime: GC and allocation"},
		{"runtime.mallocgc", "runtime: GC and allocation"},
		{"runtime.futex", "runtime: scheduler, locks, timers, netpoll"},
		{"runtime.memmove", "runtime: maps, copies, interfaces"},
		{"internal/runtime/syscall/linux.Syscall6", "syscalls (I/O)"},
		{"internal/poll.(*FD).Read", "syscalls (I/O)"},
		{"net/http.(*conn).serve", "net/http and net"},
		{"net/textproto.readMIMEHeader", "net/http and net"},
		{"gcWriteBarrier", "runtime: GC and allocation"},
		{"gogo", "runtime: scheduler, locks, timers, netpoll"},
		{"context.WithCancel", "context"},
		{"internal/runtime/maps.(*Iter).Next", "runtime: maps, copies, interfaces"},
		{"internal/runtime/atomic.(*Uint32).CompareAndSwap", "runtime: scheduler, locks, timers, netpoll"},
		{"runtime.getitab", "runtime: maps, copies, interfaces"},
		{`github.com/switchboard-mcp/switchboard/mcp.decodeParams[go.shape.struct { Meta github.com/switchboard-mcp/switchboard/protocol.Meta "json:\"_meta\"" }]`, "switchboard/mcp"},
	}
	for _, tt := range tests {
		if got := areaOf(tt.fn); got != tt.want {
			t.Errorf("areaOf(%q) = %q, want %q", tt.fn, got, tt.want)
		}
	}
}

func TestGroupByArea(t *testing.T) {
	top := `Showing nodes accounting for 570ms, 60.00% of 950ms total
      flat  flat%   sum%        cum   cum%
     170ms 17.89% 17.89%      170ms 17.89%  internal/runtime/syscall/linux.Syscall6
      40ms  4.21% 22.11%       40ms  4.21%  runtime.scanObject
      30ms  3.16% 25.26%       30ms  3.16%  runtime.mallocgc
      10ms  1.05% 26.31%       10ms  1.05%  github.com/switchboard-mcp/switchboard/mcp.AddTool[go.shape.struct { Text string "json:\"text\"" },go.shape.string].func1
`
	got := groupByArea(top)
	want := []AreaShare{
		{Area: "syscalls (I/O)", Percent: 17.89, Flat: 170 * time.Millisecond},
		{Area: "runtime: GC and allocation", Percent: 7.37, Flat: 70 * time.Millisecond},
		{Area: "switchboard/mcp", Percent: 1.05, Flat: 10 * time.Millisecond},
	}
	if len(got) != len(want) {
		t.Fatalf("groupByArea = %+v", got)
	}
	for i := range want {
		if got[i].Area != want[i].Area || got[i].Flat != want[i].Flat || got[i].Percent-want[i].Percent > 0.001 || want[i].Percent-got[i].Percent > 0.001 {
			t.Errorf("area %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	p := &Profile{Calls: 1000}
	if got := want[0].PerCall(p); got != 170*time.Microsecond {
		t.Errorf("PerCall = %v, want 170µs", got)
	}
}

func TestTargets(t *testing.T) {
	res := &Results{
		Load: []Result{
			{Impl: servers.Baseline, Mode: "http", Clients: 16, CallsPerS: 1000, CPUPerCall: 100 * time.Microsecond},
			{Impl: servers.Switchboard, Mode: "http", Clients: 16, CallsPerS: 950, CPUPerCall: 110 * time.Microsecond},
			{Impl: servers.MCPGo, Mode: "http", Clients: 16, CallsPerS: 700},
			{Impl: servers.Baseline, Mode: "http", Clients: 64, P99: 10 * time.Millisecond, CPUPerCall: 100 * time.Microsecond},
			{Impl: servers.Switchboard, Mode: "http", Clients: 64, P99: 12 * time.Millisecond, CPUPerCall: 130 * time.Microsecond},
			{Impl: servers.Switchboard, Mode: "http-stateless", Clients: 16, CallsPerS: 960},
			{Impl: servers.SwitchboardDemo, Mode: "http", Clients: 16, CallsPerS: 900},
			{Impl: servers.Baseline, Mode: "stdio", Clients: 16, CallsPerS: 1000},
			{Impl: servers.MCPGo, Mode: "stdio", Clients: 16, CallsPerS: 400},
			{Impl: servers.Switchboard, Mode: "stdio", Clients: 16, Status: "failed"},
		},
		InProc: []BenchResult{{Depth: "session", Impl: servers.Switchboard, NsPerOp: 11000, AllocsPerOp: 61}},
		Idle: []IdleResult{
			{Impl: servers.Switchboard, Sessions: 1000, HeapPerSession: 1500},
			{Impl: servers.Switchboard, Sessions: 10000, HeapPerSession: 1600, GoroutinesPer: 0.0001},
		},
	}
	want := []string{
		"not met",      // 0.95× baseline at 16 (64 has no calls/s)
		"not met",      // 1.36× mcp-go
		"not met",      // CPU 1.1× at 16 but 1.3× at 64
		"met",          // stateless 960 vs stateful 950 at 16
		"not met",      // demo 900 vs 950 = 0.947×
		"not met",      // p99 1.2×
		"met",          // 11 µs
		"not met",      // 61 allocs
		"met",          // heap
		"met",          // goroutines
		"not measured", // stdio failed
		"not measured", // stdio failed, against mcp-go
		"not measured", // no client side
	}
	got := res.Targets()
	if len(got) != len(want) {
		t.Fatalf("%d targets, want %d", len(got), len(want))
	}
	for i, tg := range got {
		if tg.Met != want[i] {
			t.Errorf("target %q: %q (%s), want %q", tg.Name, tg.Met, tg.Measured, want[i])
		}
	}
	var md bytes.Buffer
	if err := res.WriteMarkdown(&md, ReportOptions{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "| switchboard | 16 | failed |") {
		t.Errorf("failed row missing from report:\n%s", md.String())
	}
}

func TestModernTemplate(t *testing.T) {
	// putID writes at callIDOffset: the 2026-07-28 body must have its id
	// there too.
	if off := bytes.Index(modernCallTemplate, []byte("1000000000")); off != callIDOffset {
		t.Fatalf("id of the 2026-07-28 body at %d, want %d", off, callIDOffset)
	}
	body := slices.Clone(modernCallTemplate)
	putID(body, 77)
	if got, ok := parseID(body); !ok || got != idBase+77 {
		t.Errorf("putID on the 2026-07-28 body: parsed %d, %v", got, ok)
	}
}

// TestHTTPSessionModes drives each client mode against real handlers: a
// worker must open (handshake or server/discover) and complete tools/call
// where the server speaks the mode, and must not count a call whose
// response lacks what the mode requires.
func TestHTTPSessionModes(t *testing.T) {
	tests := []struct {
		name      string
		impl      string
		stateless bool
		mode      clientMode
		openErr   bool // open must fail
		callOK    bool
	}{
		{"switchboard session", servers.Switchboard, false, modeSession, false, true},
		{"switchboard 2026-07-28", servers.Switchboard, true, modeModern, false, true},
		{"mcp-go stateless", servers.MCPGo, true, modeInitStateless, false, true},
		{"go-sdk stateless", servers.GoSDK, true, modeInitStateless, false, true},
		{"baseline stateless", servers.Baseline, true, modeInitStateless, false, true},
		// The baseline knows no server/discover, and its echo has no
		// resultType: a 2026-07-28 client must count neither.
		{"baseline 2026-07-28", servers.Baseline, true, modeModern, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.stateless && tt.mode != statelessMode(tt.impl) && tt.impl != servers.Baseline {
				t.Fatalf("statelessMode(%s) = %v, want %v", tt.impl, statelessMode(tt.impl), tt.mode)
			}
			h, err := servers.NewHTTPHandler(tt.impl, servers.HTTPOptions{Stateless: tt.stateless})
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			srv := httptest.NewServer(h)
			defer srv.Close()
			tr := newTransport(1)
			defer tr.CloseIdleConnections()
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			s := &httpSession{tr: tr, url: srv.URL, mode: tt.mode}
			err = s.open(ctx)
			if (err != nil) != tt.openErr {
				t.Fatalf("open: %v, want error %v", err, tt.openErr)
			}
			if tt.mode != modeSession && s.sessionID != "" {
				t.Errorf("stateless worker keeps session id %q", s.sessionID)
			}
			if err := s.prepare(ctx); err != nil {
				t.Fatal(err)
			}
			for n := range int64(3) {
				ok, err := s.call(s.next())
				if err != nil || ok != tt.callOK {
					t.Fatalf("call %d: ok %v, err %v, want ok %v: %s", n, ok, err, tt.callOK, s.buf)
				}
			}
			if tt.mode == modeModern && tt.callOK && !bytes.Contains(s.buf, []byte(`"id":1000000003`)) {
				t.Errorf("response does not echo the patched id: %s", s.buf)
			}
		})
	}
}

func TestClientTargets(t *testing.T) {
	us := func(n int) time.Duration { return time.Duration(n) * time.Microsecond }
	res := &Results{Client: []ClientResult{
		{Impl: servers.Switchboard, Sessions: 1, CallsPerS: 4000, CPUPerCall: us(60), P50: us(200), P99: us(400)},
		{Impl: servers.GoSDK, Sessions: 1, CallsPerS: 3000, CPUPerCall: us(100)},
		{Impl: servers.MCPGo, Sessions: 1, CallsPerS: 3500, CPUPerCall: us(90)},
		{Impl: servers.Switchboard, Sessions: 16, CallsPerS: 9000, CPUPerCall: us(50)},
		{Impl: servers.GoSDK, Sessions: 16, Status: "failed"},
		{Impl: servers.MCPGo, Sessions: 16, CallsPerS: 8000, CPUPerCall: us(80)},
	}}
	tg := res.clientTarget()
	// 60/90 = 0.67× at 1 session, 50/80 = 0.63× at 16 (go-sdk failed there).
	if tg.Met != "met" || !strings.Contains(tg.Measured, "1: 60.0 µs vs mcp-go 90.0 µs = 0.67×") || !strings.Contains(tg.Measured, "16: 50.0 µs vs mcp-go 80.0 µs = 0.62×") {
		t.Errorf("client target %q: %s", tg.Met, tg.Measured)
	}
	if got := res.Targets(); got[len(got)-1] != tg {
		t.Errorf("Targets lacks the client target: %+v", got[len(got)-1])
	}
	var md bytes.Buffer
	if err := res.WriteMarkdown(&md, ReportOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"## Client side: tools/call from each SDK's client to the same Switchboard server",
		"| **switchboard** | 1 | 4000 | 60.0 µs | 0.67× | 200.0 µs | 400.0 µs | 0 |",
		"| mcp-go | 1 | 3500 | 90.0 µs | 1.00× |",
		"| go-sdk | 1 | 3000 | 100.0 µs | 1.11× |",
		"| go-sdk | 16 | failed |",
		"- Client side: `bench/cmd/clientload`",
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}

	res.Client[0].CPUPerCall = us(70) // 0.78× at 1 session
	if tg := res.clientTarget(); tg.Met != "not met" {
		t.Errorf("client target at 0.78×: %q (%s)", tg.Met, tg.Measured)
	}
	res.Client = res.Client[:1] // no peer measured
	if tg := res.clientTarget(); tg.Met != notMeasured {
		t.Errorf("client target without peers: %q (%s)", tg.Met, tg.Measured)
	}
	res.Client = nil // results from before the client side: no section
	md.Reset()
	if err := res.WriteMarkdown(&md, ReportOptions{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(md.String(), "## Client side") || !strings.Contains(md.String(), "the faster of go-sdk and mcp-go (1 and 16 sessions) | – | **not measured** |") {
		t.Errorf("report without client results:\n%s", md.String())
	}
}

func TestGatewayTargets(t *testing.T) {
	us := func(n int) time.Duration { return time.Duration(n) * time.Microsecond }
	res := &Results{
		Load: []Result{
			{Impl: GatewayDirect, Mode: ModeGateway, Clients: 1, CallsPerS: 5000, P50: us(200)},
			{Impl: GatewaySwitchboard, Mode: ModeGateway, Upstream: UpstreamStdio, Clients: 1, CallsPerS: 3000, P50: us(340)},
			{Impl: GatewaySwitchboard, Mode: ModeGateway, Upstream: UpstreamHTTP, Clients: 1, CallsPerS: 2500, P50: us(400)},
			{Impl: GatewayDirect, Mode: ModeGateway, Clients: 16, CallsPerS: 10000},
			{Impl: GatewaySwitchboard, Mode: ModeGateway, Upstream: UpstreamStdio, Clients: 16, CallsPerS: 8000},
			{Impl: GatewaySwitchboard, Mode: ModeGateway, Upstream: UpstreamHTTP, Clients: 16, CallsPerS: 5000},
			{Impl: GatewayTBXark, Mode: ModeGateway, Upstream: UpstreamStdio, Clients: 16, CallsPerS: 4500},
			{Impl: GatewayMCPProxy, Mode: ModeGateway, Upstream: UpstreamStdio, Clients: 16, CallsPerS: 900},
			{Impl: GatewayTBXark, Mode: ModeGateway, Upstream: UpstreamHTTP, Clients: 16, Status: "failed"},
		},
		Notes: []string{"supergateway: skipped, not installed"},
	}
	want := []string{
		"met",          // stdio 0.80×
		"not met",      // http 0.50×
		"met",          // +140 µs
		"not met",      // +200 µs
		"met",          // 8000 / 4500 = 1.78× TBXark
		"not measured", // no HTTP peer
	}
	got := res.gatewayTargets()
	if len(got) != len(want) {
		t.Fatalf("%d gateway targets, want %d", len(got), len(want))
	}
	for i, tg := range got {
		if tg.Met != want[i] {
			t.Errorf("target %q: %q (%s), want %q", tg.Name, tg.Met, tg.Measured, want[i])
		}
	}
	if !strings.Contains(got[4].Measured, GatewayTBXark) {
		t.Errorf("peer target does not name the fastest peer: %s", got[4].Measured)
	}
	var md bytes.Buffer
	if err := res.WriteMarkdown(&md, ReportOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| **switchboard** | 16 | – | 8000 | 0.80× |",
		"| direct | 16 | – | 10000 | 1.00× |",
		"| TBXark/mcp-proxy | 16 | | failed |",
		"+140.0 µs",
		"supergateway: skipped, not installed",
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"/usr/bin/servers": "/usr/bin/servers",
		"-side=":           "-side=",
		"a b":              "'a b'",
		"it's":             `'it'\''s'`,
		"":                 "''",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestTreeCPUTime(t *testing.T) {
	// This process has no children: its tree is itself.
	own, err := procCPUTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	tree, err := treeCPUTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if tree < own {
		t.Errorf("tree CPU %v < own %v", tree, own)
	}
	// A child that burns CPU is counted in the tree.
	cmd := exec.Command("sh", "-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; sleep 5")
	if err := cmd.Start(); err != nil {
		t.Skip(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if d := descendants(os.Getpid()); len(d) > 0 {
			if tree, _ := treeCPUTime(os.Getpid()); tree > own+50*time.Millisecond {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Error("a busy child's CPU time never showed in the tree")
}
