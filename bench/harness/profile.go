package harness

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Profile is a CPU and allocation profile of one implementation's server
// under load: 16 sessions over Streamable HTTP (in its stateless mode for
// http-stateless), 16 requests in flight over stdio, or 16 sessions
// through Switchboard's gateway (transport gateway-stdio or gateway-http:
// the gateway process profiled, its upstream over stdio or HTTP).
type Profile struct {
	Impl       string        `json:"impl"`
	Transport  string        `json:"transport"` // http, http-stateless, stdio, gateway-stdio or gateway-http
	Sessions   int           `json:"sessions"`
	Duration   time.Duration `json:"duration"`
	CallsPerS  float64       `json:"callsPerSecond"`
	CPUTop     string        `json:"cpuTop"`     // go tool pprof -top, CPU
	CumTop     string        `json:"cumTop"`     // go tool pprof -top -cum, CPU
	AllocTop   string        `json:"allocTop"`   // go tool pprof -top, alloc_space during the load
	ObjectsTop string        `json:"objectsTop"` // go tool pprof -top, alloc_objects during the load
	ByArea     []AreaShare   `json:"byArea"`     // flat CPU grouped by area
	// Calls is the estimated number of calls served while the CPU
	// profile ran (calls/s × duration), to turn samples into time per call.
	Calls float64 `json:"calls"`
	Dir   string  `json:"dir"` // where the raw profiles were written
}

// AreaShare is the flat CPU of one area (a package or a part of the
// runtime).
type AreaShare struct {
	Area    string        `json:"area"`
	Percent float64       `json:"percent"`
	Flat    time.Duration `json:"flat"`
}

// PerCall returns the area's CPU time per call in the profile p.
func (a AreaShare) PerCall(p *Profile) time.Duration {
	if p == nil || p.Calls <= 0 {
		return 0
	}
	return time.Duration(float64(a.Flat) / p.Calls)
}

// runProfile loads impl's server over transport (http, http-stateless or
// stdio) at 16 sessions (or in flight) and takes its CPU profile and the
// allocations made meanwhile from its side endpoint.
func runProfile(ctx context.Context, cfg *Config, impl, transport string) (*Profile, error) {
	const sessions = 16
	tr, flags := transport, []string(nil)
	if transport == "http-stateless" {
		tr, flags = "http", []string{"-stateless"}
	}
	t, err := newTarget(ctx, cfg, impl, tr, flags, sessions)
	if err != nil {
		return nil, err
	}
	return profileTarget(ctx, cfg, t, impl, transport, sessions)
}

// runGatewayProfile loads Switchboard's gateway in front of the echo
// server over upstream (stdio or http) at 16 sessions and profiles the
// gateway process (not its upstream).
func runGatewayProfile(ctx context.Context, cfg *Config, upstream string) (*Profile, error) {
	const sessions = 16
	impl := gatewayImpls()[0]
	inst, _ := impl.find(cfg)
	t, err := openGateway(ctx, cfg, impl, inst, upstream, sessions)
	if err != nil {
		return nil, err
	}
	return profileTarget(ctx, cfg, t, GatewaySwitchboard, ModeGateway+"-"+upstream, sessions)
}

// profileTarget loads t (with sessions workers) and takes the CPU profile
// of its first process, and the allocations made meanwhile, from its side
// endpoint. It closes t.
func profileTarget(ctx context.Context, cfg *Config, t target, impl, transport string, sessions int) (*Profile, error) {
	defer t.close()
	c := t.proc()
	dir, err := os.MkdirTemp("", "switchboard-bench-profile-")
	if err != nil {
		return nil, err
	}
	p := &Profile{Impl: impl, Transport: transport, Sessions: sessions, Duration: cfg.ProfileDuration, Dir: dir}
	const warmup = 500 * time.Millisecond
	type loadResult struct {
		round RoundStats
		err   error
	}
	done := make(chan loadResult, 1)
	go func() {
		r, err := t.round(ctx, warmup, cfg.ProfileDuration+time.Second)
		done <- loadResult{r, err}
	}()
	if err := sleepCtx(ctx, warmup+200*time.Millisecond); err != nil {
		<-done
		return nil, err
	}
	allocs0 := filepath.Join(dir, "allocs-before.pb.gz")
	allocs1 := filepath.Join(dir, "allocs-after.pb.gz")
	cpu := filepath.Join(dir, "cpu.pb.gz")
	if err := download(ctx, c.sideURL+"/debug/pprof/allocs", allocs0); err != nil {
		return nil, err
	}
	secs := max(1, int(cfg.ProfileDuration/time.Second))
	if err := download(ctx, c.sideURL+"/debug/pprof/profile?seconds="+strconv.Itoa(secs), cpu); err != nil {
		return nil, err
	}
	if err := download(ctx, c.sideURL+"/debug/pprof/allocs", allocs1); err != nil {
		return nil, err
	}
	lr := <-done
	if lr.err != nil {
		return nil, fmt.Errorf("load during profiling: %w", lr.err)
	}
	p.CallsPerS = lr.round.CallsPerS
	p.Calls = p.CallsPerS * float64(secs)

	if p.CPUTop, err = pprofTop(ctx, "-nodecount=25", cpu); err != nil {
		return p, err
	}
	if p.CumTop, err = pprofTop(ctx, "-cum", "-nodecount=40", cpu); err != nil {
		return p, err
	}
	if p.AllocTop, err = pprofTop(ctx, "-nodecount=15", "-sample_index=alloc_space", "-base", allocs0, allocs1); err != nil {
		return p, err
	}
	if p.ObjectsTop, err = pprofTop(ctx, "-nodecount=15", "-sample_index=alloc_objects", "-base", allocs0, allocs1); err != nil {
		return p, err
	}
	all, err := pprofTop(ctx, "-nodecount=1000000", "-nodefraction=0", "-edgefraction=0", cpu)
	if err != nil {
		return p, err
	}
	p.ByArea = groupByArea(all)
	return p, nil
}

func download(ctx context.Context, url, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Timeout: 2 * time.Minute}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: status %d", url, resp.StatusCode)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, io.LimitReader(resp.Body, 256<<20))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// pprofTop runs go tool pprof -top with args and returns its table.
func pprofTop(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", append([]string{"tool", "pprof", "-top"}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go tool pprof: %v: %s", err, tail(out, 1000))
	}
	// Drop the header lines about the file and the build.
	var keep []string
	started := false
	for line := range strings.Lines(string(out)) {
		if strings.HasPrefix(line, "Showing nodes") || strings.HasPrefix(line, "Dropped") {
			started = true
		}
		if started || strings.HasPrefix(line, "Type:") || strings.HasPrefix(line, "Duration:") {
			keep = append(keep, strings.TrimRight(line, "\n"))
		}
	}
	return strings.Join(keep, "\n"), nil
}

// Regroup recomputes the by-area breakdown of every profile whose raw CPU
// profile is still in its Dir (for results recorded by an older harness);
// it returns how many it recomputed.
func (r *Results) Regroup(ctx context.Context) (int, error) {
	n := 0
	for _, p := range r.Profiles {
		cpu := filepath.Join(p.Dir, "cpu.pb.gz")
		if _, err := os.Stat(cpu); err != nil {
			continue
		}
		all, err := pprofTop(ctx, "-nodecount=1000000", "-nodefraction=0", "-edgefraction=0", cpu)
		if err != nil {
			return n, err
		}
		p.ByArea = groupByArea(all)
		n++
	}
	return n, nil
}

// groupByArea sums the flat% column of a pprof -top table by area.
func groupByArea(top string) []AreaShare {
	sums := map[string]AreaShare{}
	sc := bufio.NewScanner(strings.NewReader(top))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 6 || !strings.HasSuffix(f[1], "%") {
			continue
		}
		pct, err := strconv.ParseFloat(strings.TrimSuffix(f[1], "%"), 64)
		if err != nil {
			continue
		}
		flat, _ := time.ParseDuration(f[0])
		a := sums[areaOf(strings.Join(f[5:], " "))]
		a.Percent += pct
		a.Flat += flat
		sums[areaOf(strings.Join(f[5:], " "))] = a
	}
	var out []AreaShare
	for name, a := range sums {
		a.Area = name
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b AreaShare) int {
		if a.Percent != b.Percent {
			if a.Percent > b.Percent {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Area, b.Area)
	})
	return out
}

// Areas of the runtime.
const (
	areaGC    = "runtime: GC and allocation"
	areaSched = "runtime: scheduler, locks, timers, netpoll"
	areaMem   = "runtime: maps, copies, interfaces"
)

// areaOf names the area a function belongs to.
func areaOf(fn string) string {
	pkg := packageOf(fn)
	name := strings.TrimPrefix(fn, pkg+".")
	switch {
	case strings.HasPrefix(pkg, "github.com/switchboard-mcp/switchboard/"):
		return "switchboard/" + strings.TrimPrefix(pkg, "github.com/switchboard-mcp/switchboard/")
	case strings.HasPrefix(pkg, "github.com/go-json-experiment/json"):
		return "JSON (go-json-experiment)"
	case pkg == "internal/runtime/maps":
		return areaMem
	case pkg == "internal/runtime/atomic":
		return areaSched
	case pkg == "runtime" || strings.HasPrefix(pkg, "internal/runtime/") && !strings.Contains(pkg, "syscall"):
		l := strings.ToLower(name)
		for _, k := range []string{"gc", "mark", "scan", "sweep", "malloc", "mspan", "mheap", "mcache", "heap", "memclr", "grey", "wb", "findobject", "bulkbarrier", "span", "madvise", "scaveng", "nextfree", "newobject", "alloc", "findfunc", "stkframe", "stackmap", "writebarrier", "typepointers", "adjustframe", "stkbucket", "addb", "getcallerfp"} {
			if strings.Contains(l, k) {
				return areaGC
			}
		}
		for _, k := range []string{"futex", "sched", "park", "ready", "runnable", "netpoll", "mcall", "wake", "steal", "runq", "lock", "sema", "notesleep", "usleep", "osyield", "goexit", "newproc", "gogo", "execute", "stop", "spinning", "nanotime", "select", "chan", "timer", "casgstatus", "glist", "preempt", "gosched", "handoff", "acquirep", "releasep", "entersyscall", "exitsyscall", "lfstack", "releasem", "acquirem", "getpid", "timehistogram"} {
			if strings.Contains(l, k) {
				return areaSched
			}
		}
		for _, k := range []string{"memmove", "memequal", "cmpstring", "index", "concat", "slicebyte", "stringto", "growslice", "makeslice", "makemap", "map", "hash", "aeshash", "memhash", "typehash", "iface", "itab", "convt", "assert"} {
			if strings.Contains(l, k) {
				return areaMem
			}
		}
		return "runtime: other"
	case strings.Contains(pkg, "syscall") || pkg == "internal/poll":
		return "syscalls (I/O)"
	case pkg == "net/http" || pkg == "net/textproto" || pkg == "bufio" || pkg == "net" || pkg == "net/url" || pkg == "mime":
		return "net/http and net"
	case pkg == "":
		switch {
		case strings.Contains(fn, "WriteBarrier") || strings.HasPrefix(fn, "gc"):
			return areaGC
		case fn == "gogo" || fn == "mcall" || fn == "systemstack" || strings.HasPrefix(fn, "runtime"):
			return areaSched
		case strings.Contains(fn, "body") || strings.HasPrefix(fn, "mem") || strings.HasPrefix(fn, "index") || strings.HasPrefix(fn, "cmp"):
			return areaMem
		}
		return "other"
	}
	return pkg
}

// packageOf returns the package path of a function name as pprof prints
// it, e.g. "github.com/a/b.(*T).M" -> "github.com/a/b".
func packageOf(fn string) string {
	if i := strings.IndexByte(fn, '['); i >= 0 {
		fn = fn[:i] // type arguments name other packages
	}
	slash := strings.LastIndexByte(fn, '/')
	dot := strings.IndexByte(fn[slash+1:], '.')
	if dot < 0 {
		return ""
	}
	return fn[:slash+1+dot]
}
