package stdio

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/transport"
)

// DefaultShutdownTimeout is the time each step of a server process's
// shutdown is given when CommandOptions.ShutdownTimeout is 0.
const DefaultShutdownTimeout = 2 * time.Second

// StderrTailSize is how much of the end of a server process's standard
// error a connection keeps for its error messages.
const StderrTailSize = 4 << 10

// recvBuffer is how many decoded messages wait for Recv before the reader
// stops reading, which pushes back on the server.
const recvBuffer = 64

// maxRetainedWriteBuffer bounds the encoding buffer a connection keeps
// between sends; a larger one (left by a large message) is dropped.
const maxRetainedWriteBuffer = 1 << 20

// CommandOptions configure the server processes started by [Command]. The
// zero value is ready to use.
type CommandOptions struct {
	// Env lists environment variables ("KEY=value") for the server
	// process, added to a base environment: the parent's whole
	// environment if InheritEnv is set, otherwise only a small set of
	// variables programs commonly need, copied from the parent (PATH,
	// HOME, USER, LOGNAME, SHELL, TERM, LANG, LC_ALL, LC_CTYPE, TMPDIR,
	// TZ; on Windows the system variables such as SYSTEMROOT, PATHEXT,
	// APPDATA, TEMP and USERPROFILE). Secrets in the parent's environment
	// thus reach the server only when asked for. Entries of Env override
	// the base ones.
	Env []string
	// InheritEnv passes the parent's whole environment (plus Env).
	InheritEnv bool
	// Dir is the server's working directory; empty means the parent's.
	Dir string
	// Stderr receives what the server writes to its standard error. Nil
	// means os.Stderr, so that a server's complaints are visible; use
	// io.Discard to silence it. Either way the connection keeps the last
	// StderrTailSize bytes for its error messages. Writes to Stderr
	// happen on a goroutine of the connection; errors stop them.
	Stderr io.Writer
	// MaxMessageSize bounds one message from the server (0 means
	// DefaultMaxMessageSize). Longer lines are skipped.
	MaxMessageSize int
	// ShutdownTimeout bounds each step of stopping the server on Close:
	// after closing its standard input the connection waits this long
	// for it to exit, then sends SIGTERM and waits again, then sends
	// SIGKILL. On Windows, which has no SIGTERM, the process is killed
	// after the first wait. Zero means DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
	// OnDecodeError, if set, observes the lines of the server's output
	// that are not valid JSON-RPC messages, and lines over the size limit
	// (jsonrpc.ErrFrameTooLarge). Such lines are skipped. It is called
	// from the connection's reader goroutine and must not block.
	OnDecodeError func(err error)
}

// Command returns a Dialer that starts a server process, name with args,
// and speaks MCP over its standard input and output. Each Dial starts a
// new process; the connection's Close stops it (see
// CommandOptions.ShutdownTimeout). opts may be nil.
//
// On Unix the process leads a process group of its own: signals meant for
// the parent's group (Ctrl-C in a terminal) do not reach it, and Close
// stops the whole group, so that the real server started by a wrapper
// such as npx or uvx does not outlive the connection.
//
// name is looked up in the parent's PATH when it contains no path
// separator, as exec.Command does.
func Command(name string, args []string, opts *CommandOptions) transport.Dialer {
	d := &commandDialer{name: name, args: slices.Clone(args)}
	if opts != nil {
		d.opts = *opts
		d.opts.Env = slices.Clone(opts.Env)
	}
	if d.opts.ShutdownTimeout <= 0 {
		d.opts.ShutdownTimeout = DefaultShutdownTimeout
	}
	if d.opts.Stderr == nil {
		d.opts.Stderr = os.Stderr
	}
	return d
}

type commandDialer struct {
	name string
	args []string
	opts CommandOptions
}

// Dial starts the server process. ctx bounds the start only: once Dial
// has returned, the process lives until the connection is closed or the
// process exits.
func (d *commandDialer) Dial(ctx context.Context) (transport.ClientConn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if d.opts.Dir != "" {
		// Checked here: a failed chdir in the child reports only its
		// errno, not the directory.
		if fi, err := os.Stat(d.opts.Dir); err != nil {
			return nil, fmt.Errorf("stdio: the working directory of server %s: %w", strconv.Quote(d.name), err)
		} else if !fi.IsDir() {
			return nil, fmt.Errorf("stdio: the working directory of server %s, %s, is not a directory", strconv.Quote(d.name), d.opts.Dir)
		}
	}
	cmd := exec.Command(d.name, d.args...)
	cmd.Env = childEnv(d.opts.Env, d.opts.InheritEnv)
	cmd.Dir = d.opts.Dir
	setProcessGroup(cmd)

	// The connection owns the pipes (rather than letting exec copy
	// through goroutines of its own), so that Wait returns as soon as the
	// process exits, even if a descendant keeps the pipes open.
	var files []*os.File
	closeAll := func() {
		for _, f := range files {
			f.Close()
		}
	}
	pipe := func() (r, w *os.File, err error) {
		r, w, err = os.Pipe()
		if err == nil {
			files = append(files, r, w)
		}
		return r, w, err
	}
	stdinR, stdinW, err := pipe()
	if err != nil {
		return nil, fmt.Errorf("stdio: creating pipes: %w", err)
	}
	stdoutR, stdoutW, err := pipe()
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("stdio: creating pipes: %w", err)
	}
	stderrR, stderrW, err := pipe()
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("stdio: creating pipes: %w", err)
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdinR, stdoutW, stderrW
	if err := cmd.Start(); err != nil {
		closeAll()
		return nil, fmt.Errorf("stdio: cannot start server %s: %w", strconv.Quote(d.name), err)
	}
	// The child has its copies; the parent keeps only its ends.
	stdinR.Close()
	stdoutW.Close()
	stderrW.Close()

	p := &process{
		name:       d.name,
		cmd:        cmd,
		stdin:      stdinW,
		stdout:     stdoutR,
		stderr:     stderrR,
		timeout:    d.opts.ShutdownTimeout,
		userStderr: d.opts.Stderr,
		exited:     make(chan struct{}),
		waited:     make(chan struct{}),
		stderrDone: make(chan struct{}),
	}
	stream := NewStream(stdoutR, stdinW, &Options{MaxMessageSize: d.opts.MaxMessageSize})
	c := newClientConn(stream, d.opts.OnDecodeError, p)
	c.deadliner = stdinW
	go p.copyStderr()
	go c.wait()
	go c.read()
	return c, nil
}

// childEnv returns the environment of a server process.
func childEnv(extra []string, inherit bool) []string {
	var env []string
	if inherit {
		env = os.Environ()
	} else {
		names := unixEnvVars
		if runtime.GOOS == "windows" {
			names = windowsEnvVars
		}
		for _, name := range names {
			v, ok := os.LookupEnv(name)
			// Skip exported shell functions, which some shells
			// misinterpret (Shellshock).
			if !ok || strings.HasPrefix(v, "()") {
				continue
			}
			env = append(env, name+"="+v)
		}
	}
	// exec uses the last value of a duplicated variable.
	return append(env, extra...)
}

// The variables a server process gets from the parent by default.
var (
	unixEnvVars    = []string{"HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TZ"}
	windowsEnvVars = []string{
		"APPDATA", "COMSPEC", "HOMEDRIVE", "HOMEPATH", "LOCALAPPDATA", "PATH", "PATHEXT",
		"PROCESSOR_ARCHITECTURE", "PROGRAMDATA", "PROGRAMFILES", "SYSTEMDRIVE", "SYSTEMROOT",
		"TEMP", "TMP", "USERNAME", "USERPROFILE", "WINDIR",
	}
)

// ClientOptions configure a ClientConn made by [NewClientConn]. The zero
// value is ready to use.
type ClientOptions struct {
	// OnDecodeError, if set, observes frames from the server that are
	// not valid JSON-RPC messages, and frames over the stream's size limit
	// (jsonrpc.ErrFrameTooLarge). Such frames are skipped. It is called
	// from the connection's reader goroutine and must not block.
	OnDecodeError func(err error)
}

// ClientConn is the client side of a stdio connection: it sends messages
// to a server over a stream and receives the server's messages from it.
// It implements transport.ClientConn. Connections made by [Command]'s
// Dialer own a server process; those made by [NewClientConn] own only a
// stream.
//
// A goroutine of the connection reads and decodes the server's messages
// and keeps a few of them for Recv; when Recv is not called it stops
// reading, which eventually blocks the server's writes. Batches are
// accepted and delivered message by message. Frames that are not valid
// messages are skipped (see ClientOptions.OnDecodeError).
type ClientConn struct {
	stream        jsonrpc.Stream
	onDecodeError func(error)
	proc          *process // nil without a process

	// deadliner, if set, lets a send be interrupted when its context
	// ends (os.File pipes support write deadlines).
	deadliner interface{ SetWriteDeadline(time.Time) error }

	wlock chan struct{} // one-slot write lock of sendOne, so waiting honours ctx
	wbuf  []byte        // under wlock

	wmu     sync.Mutex
	wout    []byte        // frames queued for the Send writing, under wmu
	wspare  []byte        // the other buffer of the pair, under wmu
	writing bool          // a Send is writing, under wmu
	wround  chan struct{} // closed when the writer finishes a write, for Sends waiting; under wmu
	sendErr error         // under wmu: the write side is broken

	msgs     chan jsonrpc.Message
	readDone chan struct{}
	readErr  error // set before readDone is closed

	invalidMu    sync.Mutex
	invalidCount int
	lastInvalid  string

	closed    chan struct{}
	closeOnce sync.Once
	closeErr  error
}

var _ transport.ClientConn = (*ClientConn)(nil)

// NewClientConn returns a client connection over s, typically a [Stream]
// over a pair of pipes to a server running in the same process (see
// [Pipe]) or over a network connection. It starts a goroutine reading s,
// which ends when s does; Close closes s, whose Close must make a blocked
// ReadFrame return. opts may be nil.
func NewClientConn(s jsonrpc.Stream, opts *ClientOptions) *ClientConn {
	var onErr func(error)
	if opts != nil {
		onErr = opts.OnDecodeError
	}
	c := newClientConn(s, onErr, nil)
	go c.read()
	return c
}

func newClientConn(s jsonrpc.Stream, onErr func(error), p *process) *ClientConn {
	return &ClientConn{
		stream:        s,
		onDecodeError: onErr,
		proc:          p,
		wlock:         make(chan struct{}, 1),
		msgs:          make(chan jsonrpc.Message, recvBuffer),
		readDone:      make(chan struct{}),
		closed:        make(chan struct{}),
	}
}

// Pipe returns two connected in-memory streams: what is written to one is
// read from the other. Use it to connect a client in the same process to
// a server, without a child process:
//
//	client, server := stdio.Pipe()
//	go stdio.Serve(ctx, factory, server, nil)
//	conn := stdio.NewClientConn(client, nil)
//
// Writes block until the other side reads. Closing either stream ends
// both directions for both.
func Pipe() (a, b *Stream) {
	ar, bw := io.Pipe()
	br, aw := io.Pipe()
	return NewStream(ar, aw, nil), NewStream(br, bw, nil)
}

// Send writes one message. It is safe for concurrent use; messages are
// written whole, one at a time. It returns transport.ErrConnClosed after
// Close.
//
// Messages sent while another Send is writing are combined: they are
// queued, Send returns, and the Send in progress writes them with its own
// in one system call when its write is done. Under load, requests thus
// share system calls on both sides of the pipe; at rest each leaves at
// once. A Send waits only when more than maxPendingSend bytes are queued.
//
// When ctx ends before the message could be written (the server does not
// read), Send returns ctx's error. If part of a message was already
// written to a server process, the stream is broken: the connection
// closes the process's standard input, which asks it to exit, and later
// Sends fail.
func (c *ClientConn) Send(ctx context.Context, msg jsonrpc.Message) error {
	if msg == nil {
		return errors.New("stdio: Send of a nil message")
	}
	if isDone(c.closed) {
		return transport.ErrConnClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	bs, ok := c.stream.(jsonrpc.BatchStream)
	if !ok {
		return c.sendOne(ctx, msg)
	}
	c.wmu.Lock()
	for {
		if c.sendErr != nil {
			err := c.sendErr
			c.wmu.Unlock()
			return err
		}
		if !c.writing || len(c.wout) <= maxPendingSend {
			break
		}
		// The server is not keeping up: wait for the writer's progress.
		if c.wround == nil {
			c.wround = make(chan struct{})
		}
		round := c.wround
		c.wmu.Unlock()
		select {
		case <-round:
		case <-c.closed:
			return transport.ErrConnClosed
		case <-ctx.Done():
			return ctx.Err()
		}
		c.wmu.Lock()
	}
	start := len(c.wout)
	c.wout = jsonrpc.AppendMessage(c.wout, msg)
	var err error
	if c.wout, err = bs.AppendFrame(c.wout[:start], c.wout[start:]); err != nil {
		c.wout = c.wout[:start]
		c.wmu.Unlock()
		return err
	}
	if c.writing {
		c.wmu.Unlock()
		return nil // the Send writing takes it
	}
	c.writing = true
	interrupted := false
	for len(c.wout) > 0 && err == nil {
		buf := c.wout
		c.wout = c.wspare[:0]
		c.wmu.Unlock()
		err, interrupted = c.writeFrames(ctx, bs, buf)
		c.wmu.Lock()
		if cap(buf) <= maxRetainedWriteBuffer {
			c.wspare = buf[:0]
		} else {
			c.wspare = nil
		}
		if c.wround != nil {
			close(c.wround)
			c.wround = nil
		}
	}
	c.writing = false
	if err != nil {
		c.wout = nil
		c.sendErr = c.writeError(ctx, err, interrupted)
		if c.wround != nil {
			close(c.wround)
			c.wround = nil
		}
		if interrupted && errors.Is(err, os.ErrDeadlineExceeded) {
			err = ctx.Err()
		} else {
			err = c.sendErr
		}
	}
	c.wmu.Unlock()
	if err != nil && isDone(c.closed) {
		return transport.ErrConnClosed
	}
	return err
}

// maxPendingSend bounds the bytes queued behind a write in progress before
// Send waits.
const maxPendingSend = 1 << 20

// writeFrames writes b, frames made by AppendFrame, with the write
// interrupted when ctx ends; interrupted reports that it was.
func (c *ClientConn) writeFrames(ctx context.Context, bs jsonrpc.BatchStream, b []byte) (err error, interrupted bool) {
	var stop func() bool
	var fired chan struct{}
	if c.deadliner != nil && ctx.Done() != nil {
		fired = make(chan struct{})
		stop = context.AfterFunc(ctx, func() {
			_ = c.deadliner.SetWriteDeadline(time.Unix(1, 0))
			close(fired)
		})
	}
	err = bs.WriteFrames(b)
	if stop != nil && !stop() {
		<-fired
		interrupted = true
		_ = c.deadliner.SetWriteDeadline(time.Time{})
	}
	return err, interrupted
}

// writeError returns the error that breaks the write side after a failed
// write, closing the server's standard input when a write was cut short.
func (c *ClientConn) writeError(ctx context.Context, err error, interrupted bool) error {
	if interrupted && errors.Is(err, os.ErrDeadlineExceeded) {
		// The stream's buffered writer keeps the error: the write side
		// is unusable, possibly with half a message sent.
		if c.proc != nil {
			_ = c.proc.stdin.Close()
		}
		return fmt.Errorf("stdio: the connection is broken: a send was interrupted by its context: %w", ctx.Err())
	}
	return fmt.Errorf("stdio: writing to the server: %w", err)
}

// sendOne is Send over a stream that cannot combine frames: one message,
// one write, under the one-slot write lock.
func (c *ClientConn) sendOne(ctx context.Context, msg jsonrpc.Message) error {
	select {
	case c.wlock <- struct{}{}:
	case <-c.closed:
		return transport.ErrConnClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-c.wlock }()
	if isDone(c.closed) {
		return transport.ErrConnClosed
	}
	c.wmu.Lock()
	err := c.sendErr
	c.wmu.Unlock()
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c.wbuf = jsonrpc.AppendMessage(c.wbuf[:0], msg)
	var stop func() bool
	var fired chan struct{}
	if c.deadliner != nil && ctx.Done() != nil {
		fired = make(chan struct{})
		stop = context.AfterFunc(ctx, func() {
			_ = c.deadliner.SetWriteDeadline(time.Unix(1, 0))
			close(fired)
		})
	}
	err = c.stream.WriteFrame(c.wbuf)
	interrupted := false
	if stop != nil && !stop() {
		<-fired
		interrupted = true
		_ = c.deadliner.SetWriteDeadline(time.Time{})
	}
	if cap(c.wbuf) > maxRetainedWriteBuffer {
		c.wbuf = nil
	}
	if err == nil {
		return nil
	}
	if isDone(c.closed) {
		return transport.ErrConnClosed
	}
	cut := interrupted && errors.Is(err, os.ErrDeadlineExceeded)
	c.wmu.Lock()
	c.sendErr = c.writeError(ctx, err, interrupted)
	err = c.sendErr
	c.wmu.Unlock()
	if cut {
		return ctx.Err()
	}
	return err
}

// Recv returns the next message from the server. It returns
// transport.ErrConnClosed after Close, and ctx's error when ctx ends
// first. When the server's output has ended it returns, after the
// messages read before, io.EOF for a stream, or an *ExitError (which
// wraps io.EOF) for a server process.
func (c *ClientConn) Recv(ctx context.Context) (jsonrpc.Message, error) {
	if isDone(c.closed) {
		return nil, transport.ErrConnClosed
	}
	select {
	case m := <-c.msgs:
		return m, nil
	case <-c.closed:
		return nil, transport.ErrConnClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.readDone:
		select {
		case m := <-c.msgs:
			return m, nil
		default:
		}
		if isDone(c.closed) {
			return nil, transport.ErrConnClosed
		}
		return nil, c.readErr
	}
}

// Close ends the connection. For a server process it follows the MCP
// shutdown order: close the process's standard input and wait for it to
// exit, then send SIGTERM and wait, then send SIGKILL (each wait bounded
// by CommandOptions.ShutdownTimeout). The process is reaped before Close
// returns, and the connection's goroutines have ended. Pending and later
// Recv and Send calls return transport.ErrConnClosed. Close returns an
// error only when the connection could not be shut down cleanly, not for
// the server's exit status (see [ClientConn.ProcessState]).
func (c *ClientConn) Close() error {
	c.closeOnce.Do(func() {
		close(c.closed)
		if c.proc == nil {
			c.closeErr = c.stream.Close()
			<-c.readDone
			return
		}
		c.closeErr = c.proc.stop()
		// Closing the read ends ends the reader and the stderr copier.
		// The reader has been discarding messages since c.closed, so a
		// server blocked writing to a full pipe could exit.
		_ = c.stream.Close()
		_ = c.proc.stderr.Close()
		<-c.readDone
		c.proc.waitStderr()
	})
	return c.closeErr
}

// ProcessState returns the exit state of the server process once it has
// exited and been reaped, and nil before that or for a connection without
// a process.
func (c *ClientConn) ProcessState() *os.ProcessState {
	if c.proc == nil || !isDone(c.proc.waited) {
		return nil
	}
	return c.proc.cmd.ProcessState
}

// read is the reader goroutine: it decodes frames and delivers them until
// the stream ends.
func (c *ClientConn) read() {
	var err error
	for {
		frame, rerr := c.stream.ReadFrame()
		if errors.Is(rerr, jsonrpc.ErrFrameTooLarge) {
			c.invalid(rerr, nil)
			continue
		}
		if rerr != nil {
			err = rerr
			break
		}
		// Messages refer to their frame; the stream reuses its buffer.
		frame = bytes.Clone(frame)
		msgs, errs, _, derr := jsonrpc.DecodeBatch(frame)
		if derr != nil {
			c.invalid(derr, frame)
			continue
		}
		for i, m := range msgs {
			if errs != nil && errs[i] != nil {
				c.invalid(errs[i], frame)
				continue
			}
			select {
			case c.msgs <- m:
			case <-c.closed:
				// Closing: keep draining so the server is not blocked
				// writing and can exit.
			}
		}
	}
	c.readErr = c.endError(err)
	close(c.readDone)
}

// invalid records a frame that was skipped.
func (c *ClientConn) invalid(err error, frame []byte) {
	c.invalidMu.Lock()
	c.invalidCount++
	if frame != nil {
		const max = 120
		if len(frame) > max {
			frame = frame[:max]
		}
		c.lastInvalid = strings.ToValidUTF8(string(frame), "\uFFFD")
	} else {
		c.lastInvalid = "(" + err.Error() + ")"
	}
	c.invalidMu.Unlock()
	if c.onDecodeError != nil {
		c.onDecodeError(err)
	}
}

// endError returns the error Recv reports once the stream has ended with
// err.
func (c *ClientConn) endError(err error) error {
	if isDone(c.closed) {
		return transport.ErrConnClosed
	}
	p := c.proc
	if p == nil {
		if errors.Is(err, io.EOF) {
			return io.EOF
		}
		return fmt.Errorf("stdio: reading from the server: %w", err)
	}
	// The output normally ends because the process exited: wait a little
	// for its exit status and the rest of its stderr, for the message.
	t := time.NewTimer(p.timeout)
	defer t.Stop()
	select {
	case <-p.waited:
	case <-t.C:
	case <-c.closed:
		return transport.ErrConnClosed
	}
	e := &ExitError{Command: p.name, Err: err}
	if isDone(p.waited) {
		e.State = p.cmd.ProcessState
		e.Err = io.EOF // possibly after wait closed the pipe
		select {
		case <-p.stderrDone:
		case <-time.After(100 * time.Millisecond): // a descendant holds stderr
		}
	}
	e.Stderr = p.tail.String()
	c.invalidMu.Lock()
	e.InvalidLines, e.LastInvalid = c.invalidCount, c.lastInvalid
	c.invalidMu.Unlock()
	return e
}

// wait is the goroutine that reaps the process.
func (c *ClientConn) wait() {
	p := c.proc
	_ = p.cmd.Wait()
	close(p.waited)
	// The output ends when the process exits, unless a descendant holds
	// it open: then let the reader drain what the process wrote, and end
	// the stream.
	t := time.NewTimer(p.timeout)
	defer t.Stop()
	select {
	case <-c.readDone:
	case <-t.C:
		_ = p.stdout.Close()
	}
	close(p.exited)
}

// ExitError is the error Recv returns when a server process's output has
// ended, usually because the process exited. It says how the process
// ended and shows the end of what it wrote to standard error, so that a
// server that crashed or could not start explains itself. It wraps io.EOF
// (or the error that ended reading).
type ExitError struct {
	// Command is the name of the program.
	Command string
	// State is the process's exit state, nil if it had not exited when
	// its output ended.
	State *os.ProcessState
	// Stderr holds the end of the process's standard error (at most
	// StderrTailSize bytes, from the start of a line).
	Stderr string
	// InvalidLines counts the frames of the process's output that were
	// skipped as invalid; LastInvalid holds the start of the last one.
	InvalidLines int
	LastInvalid  string
	// Err is io.EOF or the error that ended reading.
	Err error
}

// Error describes how the server process ended, with its stderr tail.
func (e *ExitError) Error() string {
	var b strings.Builder
	b.WriteString("stdio: server ")
	b.WriteString(strconv.Quote(e.Command))
	if e.State != nil {
		b.WriteString(" exited (")
		b.WriteString(e.State.String())
		b.WriteString(")")
	} else {
		b.WriteString(" closed its output")
	}
	if e.Err != nil && !errors.Is(e.Err, io.EOF) {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if e.InvalidLines > 0 {
		fmt.Fprintf(&b, "; %d line(s) of its output were not JSON-RPC messages, the last: %q", e.InvalidLines, e.LastInvalid)
	}
	if e.Stderr != "" {
		b.WriteString("; its stderr ends with:\n")
		b.WriteString(e.Stderr)
	} else {
		b.WriteString("; it wrote nothing to stderr")
	}
	return b.String()
}

// Unwrap returns Err.
func (e *ExitError) Unwrap() error { return e.Err }

// process is a server process and the parent's ends of its pipes.
type process struct {
	name       string
	cmd        *exec.Cmd
	stdin      *os.File
	stdout     *os.File
	stderr     *os.File
	timeout    time.Duration
	userStderr io.Writer
	tail       tailBuffer

	waited     chan struct{} // closed when Wait has returned
	exited     chan struct{} // closed when the wait goroutine ends
	stderrDone chan struct{} // closed when the stderr copier ends
}

// stop shuts the process down in the MCP order and reaps it, then stops
// what is left of its process group (the children of a wrapper such as
// npx).
func (p *process) stop() error {
	_ = p.stdin.Close()
	if p.waitFor(p.waited, p.timeout) {
		return p.finish(p.stopGroup())
	}
	pid := p.cmd.Process.Pid
	if !signalGroup(pid, syscall.SIGTERM) {
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
			// No SIGTERM (Windows): go straight to the end.
			_ = p.cmd.Process.Kill()
		}
	}
	if p.waitFor(p.waited, p.timeout) {
		return p.finish(p.stopGroup())
	}
	signalGroup(pid, syscall.SIGKILL)
	_ = p.cmd.Process.Kill()
	if p.waitFor(p.waited, p.timeout) {
		return p.finish(p.stopGroup())
	}
	return fmt.Errorf("stdio: server %s (pid %d) did not exit after SIGKILL", strconv.Quote(p.name), pid)
}

// stopGroup ends the processes left in the server's process group once
// the server itself has exited: SIGTERM, then SIGKILL after the shutdown
// timeout. It costs nothing when the group is empty, as it usually is.
func (p *process) stopGroup() error {
	pid := p.cmd.Process.Pid
	if !signalGroup(pid, syscall.SIGTERM) {
		return nil
	}
	deadline := time.Now().Add(p.timeout)
	for time.Now().Before(deadline) {
		if !groupAlive(pid) {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	signalGroup(pid, syscall.SIGKILL)
	return nil
}

// finish ends the wait goroutine once the process has been reaped.
func (p *process) finish(err error) error {
	_ = p.stdout.Close() // the wait goroutine may be giving the reader time
	<-p.exited
	return err
}

func (p *process) waitFor(ch <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
		return false
	}
}

// waitStderr waits (bounded) for the stderr copier, which may be blocked
// writing to CommandOptions.Stderr.
func (p *process) waitStderr() {
	p.waitFor(p.stderrDone, p.timeout)
}

// copyStderr is the goroutine that copies the process's stderr to the
// configured writer and the tail buffer.
func (p *process) copyStderr() {
	defer close(p.stderrDone)
	w := p.userStderr
	buf := make([]byte, 4096)
	for {
		n, err := p.stderr.Read(buf)
		if n > 0 {
			p.tail.Write(buf[:n])
			if w != nil {
				if _, werr := w.Write(buf[:n]); werr != nil {
					w = nil // keep draining, so the process never blocks
				}
			}
		}
		if err != nil {
			return
		}
	}
}

// tailBuffer keeps the last StderrTailSize bytes written to it.
type tailBuffer struct {
	mu        sync.Mutex
	buf       []byte
	truncated bool
}

func (t *tailBuffer) Write(p []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(p) >= StderrTailSize {
		t.buf = append(t.buf[:0], p[len(p)-StderrTailSize:]...)
		t.truncated = true
		return
	}
	if over := len(t.buf) + len(p) - StderrTailSize; over > 0 {
		t.buf = t.buf[:copy(t.buf, t.buf[over:])]
		t.truncated = true
	}
	t.buf = append(t.buf, p...)
}

// String returns the kept text from the start of a line, with control
// characters other than newline and tab replaced, so that it is safe to
// show.
func (t *tailBuffer) String() string {
	t.mu.Lock()
	b := t.buf
	if t.truncated {
		if i := bytes.IndexByte(b, '\n'); i >= 0 && i+1 < len(b) {
			b = b[i+1:]
		}
	}
	s := string(b)
	t.mu.Unlock()
	s = strings.TrimRight(s, " \t\r\n")
	return sanitize(s)
}

// sanitize replaces invalid UTF-8 and control characters other than
// newline and tab, so that a process's output cannot play tricks on a
// terminal showing an error message.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case r == utf8.RuneError, unicode.IsControl(r), !unicode.IsPrint(r) && !unicode.IsSpace(r):
			return '\uFFFD'
		}
		return r
	}, s)
}

func isDone(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
