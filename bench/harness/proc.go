package harness

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
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
	argv := append(append([]string(nil), cfg.ServerCmd[1:]...), args...)
	cmd := exec.Command(cfg.ServerCmd[0], argv...)
	cmd.Env = append(os.Environ(), cfg.ServerEnv...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	c := &child{cmd: cmd, done: make(chan struct{}), tail: &tailBuffer{}}
	var err error
	if stdio {
		if c.stdin, err = cmd.StdinPipe(); err != nil {
			return nil, err
		}
		if c.stdout, err = cmd.StdoutPipe(); err != nil {
			return nil, err
		}
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", cfg.ServerCmd[0], err)
	}
	ready := make(chan string, 1)
	go func() {
		// Forward stderr: the READY line to us, the rest to the tail.
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		sent := false
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
	timer := time.NewTimer(30 * time.Second)
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
		return nil, fmt.Errorf("server exited before it was ready: %v: %s", c.waitErr, c.tail)
	case <-timer.C:
		c.stop()
		return nil, errors.New("server not ready after 30s")
	case <-ctx.Done():
		c.stop()
		return nil, ctx.Err()
	}
}

// stop ends the child: stdin closed and SIGTERM, then SIGKILL after 3s.
func (c *child) stop() {
	if c.stdin != nil {
		_ = c.stdin.Close()
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(3 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat; it
// is 100 on every Linux architecture Go supports.
const clockTicks = 100

// cpuTime returns the CPU time (user + system, all threads) the child has
// used so far, read from /proc/PID/stat.
func (c *child) cpuTime() (time.Duration, error) {
	return procCPUTime(c.cmd.Process.Pid)
}

func procCPUTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name, field 2, is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc stat")
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("malformed /proc stat times")
	}
	return time.Duration(ut+st) * time.Second / clockTicks, nil
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

// cpuSample is the CPU time used so far by the server child, by this
// process (the load client) and by the whole machine.
type cpuSample struct {
	server, client, system time.Duration
}

func sampleCPU(c *child) (cpuSample, error) {
	var s cpuSample
	var err error
	if s.server, err = c.cpuTime(); err != nil {
		return s, fmt.Errorf("server CPU time: %w", err)
	}
	if s.client, err = procCPUTime(os.Getpid()); err != nil {
		return s, fmt.Errorf("client CPU time: %w", err)
	}
	if s.system, err = systemBusy(); err != nil {
		return s, fmt.Errorf("system CPU time: %w", err)
	}
	return s, nil
}
