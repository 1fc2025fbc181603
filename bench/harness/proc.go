package harness

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/switchboard-mcp/switchboard/bench/servers"
)

// errUnsupported reports a server child that exited with
// servers.ExitUnsupported: the implementation lacks the mode asked for.
var errUnsupported = errors.New("mode not supported by this implementation")

// child is one server process.
type child struct {
	cmd     *exec.Cmd
	mcpURL  string // "" for stdio
	sideURL string // "" when the child has no side endpoint
	stdin   io.WriteCloser
	stdout  io.ReadCloser
	done    chan struct{} // closed when the process has exited
	waitErr error
	tail    *tailBuffer
	// cleanup, if set, runs once the child has been stopped (removing its
	// configuration files).
	cleanup func()
}

// tailBuffer keeps the last bytes written to it, for error messages.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 4096 {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-4096:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.buf))
}

// startChild starts the server command with args and waits for its READY
// line. For stdio servers the child's stdin and stdout are pipes.
func startChild(ctx context.Context, cfg *Config, stdio bool, args ...string) (*child, error) {
	argv := append(append([]string(nil), cfg.ServerCmd...), args...)
	return startProcess(ctx, procSpec{argv: argv, env: cfg.ServerEnv, stdio: stdio})
}

// procSpec describes a process to start.
type procSpec struct {
	argv []string
	env  []string // added to this process's environment
	dir  string
	// stdio makes the process's stdin and stdout pipes.
	stdio bool
	// readyURL, if set, is the Streamable HTTP endpoint of a process that
	// prints no READY line (a peer gateway): it is ready once a POST there
	// is answered with a status other than 404.
	readyURL string
}

// readyTimeout bounds how long a process may take to become ready.
const readyTimeout = 30 * time.Second

// startProcess starts spec and waits until it is ready: its READY line on
// stderr, or an answer at spec.readyURL.
func startProcess(ctx context.Context, spec procSpec) (*child, error) {
	cmd := exec.Command(spec.argv[0], spec.argv[1:]...)
	cmd.Env = append(os.Environ(), spec.env...)
	cmd.Dir = spec.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	c := &child{cmd: cmd, done: make(chan struct{}), tail: &tailBuffer{}}
	var err error
	if spec.stdio {
		if c.stdin, err = cmd.StdinPipe(); err != nil {
			return nil, err
		}
		if c.stdout, err = cmd.StdoutPipe(); err != nil {
			return nil, err
		}
	} else if spec.readyURL != "" {
		cmd.Stdout = c.tail
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", spec.argv[0], err)
	}
	ready := make(chan string, 1)
	go func() {
		// Forward stderr: the READY line to us, the rest to the tail.
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		sent := spec.readyURL != ""
		for sc.Scan() {
			line := sc.Text()
			if !sent && (strings.HasPrefix(line, servers.ReadyPrefix) || strings.HasPrefix(line, servers.UnsupportedPrefix)) {
				ready <- line
				sent = true
			}
			fmt.Fprintln(c.tail, line)
		}
		_, _ = io.Copy(io.Discard, stderr)
		c.waitErr = cmd.Wait()
		close(c.done)
	}()
	if spec.readyURL != "" {
		c.mcpURL = spec.readyURL
		go func() {
			if pollReady(ctx, spec.readyURL, c.done) {
				ready <- servers.ReadyPrefix + " mcp=" + spec.readyURL
			}
		}()
	}
	timer := time.NewTimer(readyTimeout)
	defer timer.Stop()
	select {
	case line := <-ready:
		if strings.HasPrefix(line, servers.UnsupportedPrefix) {
			<-c.done
			return nil, fmt.Errorf("%w: %s", errUnsupported, strings.TrimSpace(strings.TrimPrefix(line, servers.UnsupportedPrefix)))
		}
		for _, f := range strings.Fields(line)[1:] {
			k, v, _ := strings.Cut(f, "=")
			if v == "-" {
				v = ""
			}
			switch k {
			case "mcp":
				c.mcpURL = v
			case "side":
				c.sideURL = v
			}
		}
		return c, nil
	case <-c.done:
		var ee *exec.ExitError
		if errors.As(c.waitErr, &ee) && ee.ExitCode() == servers.ExitUnsupported {
			return nil, fmt.Errorf("%w: %s", errUnsupported, c.tail)
		}
		return nil, fmt.Errorf("%s exited before it was ready: %v: %s", spec.argv[0], c.waitErr, c.tail)
	case <-timer.C:
		c.stop()
		return nil, fmt.Errorf("%s not ready after %v: %s", spec.argv[0], readyTimeout, c.tail)
	case <-ctx.Done():
		c.stop()
		return nil, ctx.Err()
	}
}

// pollReady posts a ping to url every 50 ms until the answer is anything
// but 404 (an endpoint that exists), and reports whether it got one before
// done closed or readyTimeout passed.
func pollReady(ctx context.Context, url string, done <-chan struct{}) bool {
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr, Timeout: 2 * time.Second}
	deadline := time.Now().Add(readyTimeout)
	for time.Now().Before(deadline) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(`{"jsonrpc":"2.0","id":0,"method":"ping"}`))
		if err != nil {
			return false
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		if resp, err := cl.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				return true
			}
		}
		select {
		case <-done:
			return false
		case <-ctx.Done():
			return false
		case <-time.After(50 * time.Millisecond):
		}
	}
	return false
}

// stop ends the child: stdin closed and SIGTERM, then SIGKILL after 3s.
// Descendants still alive 2s after the child has ended (the processes a
// gateway started) are killed too.
func (c *child) stop() {
	if c.cleanup != nil {
		defer c.cleanup()
	}
	if c.stdin != nil {
		_ = c.stdin.Close()
	}
	select {
	case <-c.done:
		return
	default:
	}
	desc := descendants(c.cmd.Process.Pid)
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(3 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
	if len(desc) == 0 {
		return
	}
	deadline := time.Now().Add(2 * time.Second)
	for _, p := range desc {
		for alive(p) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if alive(p) {
			_ = syscall.Kill(p.pid, syscall.SIGKILL)
		}
	}
}

// alive reports whether process p is still running (not a zombie).
func alive(p procInfo) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(p.pid) + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return false
	}
	return b[i+2] != 'Z' && b[i+2] != 'X'
}

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat; it
// is 100 on every Linux architecture Go supports.
const clockTicks = 100

// cpuTime returns the CPU time (user + system, all threads) the child and
// its descendants have used so far (see treeCPUTime).
func (c *child) cpuTime() (time.Duration, error) {
	return treeCPUTime(c.cmd.Process.Pid)
}

// ownCPUTime returns the CPU time of the child process alone.
func (c *child) ownCPUTime() (time.Duration, error) {
	return procCPUTime(c.cmd.Process.Pid)
}

// procCPUTime returns the CPU time (user + system, all threads) process
// pid has used so far, read from /proc/PID/stat.
func procCPUTime(pid int) (time.Duration, error) {
	own, _, _, err := procStat(pid)
	return own, err
}

// procStat reads /proc/PID/stat: the process's own CPU time, that of its
// waited-for children, and its parent's pid.
func procStat(pid int) (own, reaped time.Duration, ppid int, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, 0, err
	}
	// The command name, field 2, is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, 0, errors.New("malformed /proc stat")
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state), f[1] field 4 (ppid); utime, stime, cutime
	// and cstime are fields 14 to 17.
	if len(f) < 15 {
		return 0, 0, 0, errors.New("short /proc stat")
	}
	var v [5]int64
	for k, j := range []int{1, 11, 12, 13, 14} {
		if v[k], err = strconv.ParseInt(f[j], 10, 64); err != nil {
			return 0, 0, 0, errors.New("malformed /proc stat times")
		}
	}
	tick := func(n int64) time.Duration { return time.Duration(n) * time.Second / clockTicks }
	return tick(v[1] + v[2]), tick(v[3] + v[4]), int(v[0]), nil
}

// treeCPUTime returns the CPU time used so far by process root and every
// live descendant, plus what the descendants that were waited for had used
// (cutime and cstime). A gateway's stdio upstreams are its descendants, so
// they are counted with it. Processes that end without being waited for
// are lost; the servers measured here live as long as their parent.
func treeCPUTime(root int) (time.Duration, error) {
	own, reaped, _, err := procStat(root)
	if err != nil {
		return 0, err
	}
	total := own + reaped
	for _, p := range descendants(root) {
		total += p.cpu
	}
	return total, nil
}

// procInfo is a process found under /proc.
type procInfo struct {
	pid  int
	cpu  time.Duration // own and waited-for children's CPU time
	ppid int
}

// descendants returns the live descendants of root (not root itself).
func descendants(root int) []procInfo {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	procs := map[int]procInfo{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == root {
			continue
		}
		own, reaped, ppid, err := procStat(pid)
		if err != nil {
			continue // gone meanwhile
		}
		procs[pid] = procInfo{pid, own + reaped, ppid}
	}
	// Walk up from each process to find whether root is an ancestor.
	inTree := map[int]bool{root: true}
	var under func(pid, depth int) bool
	under = func(pid, depth int) bool {
		if v, ok := inTree[pid]; ok {
			return v
		}
		p, ok := procs[pid]
		if !ok || depth > 64 {
			return false
		}
		v := under(p.ppid, depth+1)
		inTree[pid] = v
		return v
	}
	var out []procInfo
	for pid, p := range procs {
		if under(pid, 0) {
			out = append(out, p)
		}
	}
	return out
}

// systemBusy returns the CPU time all processors have spent busy (user,
// nice, system, irq, softirq, steal) since boot, from /proc/stat.
func systemBusy() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 9 || f[0] != "cpu" {
		return 0, errors.New("malformed /proc/stat")
	}
	var busy int64
	for _, i := range []int{1, 2, 3, 6, 7, 8} { // user nice system irq softirq steal
		v, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return 0, err
		}
		busy += v
	}
	return time.Duration(busy) * time.Second / clockTicks, nil
}

// cpuSample is the CPU time used so far by the server processes (each
// with its descendants), by the first of them alone (front: the process
// the load client talks to), by this process (the load client) and by the
// whole machine.
type cpuSample struct {
	server, front, client, system time.Duration
}

// sampleCPU samples the CPU clocks of the processes serving a target; the
// first is the one the load client talks to.
func sampleCPU(procs []*child) (cpuSample, error) {
	var s cpuSample
	for i, c := range procs {
		t, err := c.cpuTime()
		if err != nil {
			return s, fmt.Errorf("server CPU time: %w", err)
		}
		s.server += t
		if i == 0 {
			if s.front, err = c.ownCPUTime(); err != nil {
				return s, fmt.Errorf("server CPU time: %w", err)
			}
		}
	}
	var err error
	if s.client, err = procCPUTime(os.Getpid()); err != nil {
		return s, fmt.Errorf("client CPU time: %w", err)
	}
	if s.system, err = systemBusy(); err != nil {
		return s, fmt.Errorf("system CPU time: %w", err)
	}
	return s, nil
}
