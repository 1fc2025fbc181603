package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-mcp/switchboard/bench/servers"
)

// idBase makes every request id a 10-digit number, so that ids can be
// written into a precomputed body in place.
const idBase = 1_000_000_000

// echoText is the argument sent to the echo tool, and okMarker what a
// successful response must contain.
const echoText = "hello"

var okMarker = []byte(`"text":"` + echoText + `"`)

// request bodies, with the id as the only varying part.
var (
	initializeBody  = []byte(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"` + servers.ProtocolVersion + `","capabilities":{},"clientInfo":{"name":"switchboard-bench","version":"0"}}}`)
	initializedBody = []byte(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	callTemplate    = []byte(`{"jsonrpc":"2.0","id":` + strconv.Itoa(idBase) + `,"method":"tools/call","params":{"name":"echo","arguments":{"text":"` + echoText + `"}}}`)
	callIDOffset    = bytes.Index(callTemplate, []byte(strconv.Itoa(idBase)))
)

// Revision 2026-07-28 (stateless) request bodies: no initialize; every
// request carries the protocol version, the client's capabilities and its
// identity in its _meta, as Switchboard's own client sends them. The id
// sits at callIDOffset, as in callTemplate, so putID serves both.
var (
	modernMeta         = `"_meta":{"io.modelcontextprotocol/protocolVersion":"` + servers.StatelessProtocolVersion + `","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"switchboard-bench","version":"0"}}`
	discoverBody       = []byte(`{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{` + modernMeta + `}}`)
	modernCallTemplate = []byte(`{"jsonrpc":"2.0","id":` + strconv.Itoa(idBase) + `,"method":"tools/call","params":{"name":"echo","arguments":{"text":"` + echoText + `"},` + modernMeta + `}}`)
	// modernOK is what a 2026-07-28 tools/call result must carry besides
	// the echoed text: the call completed (no input_required, no task).
	modernOK = []byte(`"resultType":"complete"`)
)

// putID writes idBase+n into the 10 id digits of a call body.
func putID(body []byte, n int64) {
	v := idBase + n
	for i := callIDOffset + 9; i >= callIDOffset; i-- {
		body[i] = byte('0' + v%10)
		v /= 10
	}
}

// parseID reads the numeric id of a response line; ok is false for
// messages without one (notifications) or with another form.
func parseID(msg []byte) (int64, bool) {
	i := bytes.Index(msg, []byte(`"id":`))
	if i < 0 {
		return 0, false
	}
	i += 5
	for i < len(msg) && msg[i] == ' ' {
		i++
	}
	var v int64
	start := i
	for i < len(msg) && msg[i] >= '0' && msg[i] <= '9' {
		v = v*10 + int64(msg[i]-'0')
		i++
	}
	return v, i > start
}

// recorder collects the latencies of the calls a worker completes while
// its round's recording flag is set. A worker owns one; the controller
// reads it only after the worker has stopped.
type recorder struct {
	lat    []time.Duration
	errors int64
}

func newRecorder() *recorder {
	return &recorder{lat: make([]time.Duration, 0, 1<<14)}
}

// RoundStats are the measurements of one round.
type RoundStats struct {
	Calls      int64         `json:"calls"`
	Errors     int64         `json:"errors"`
	Elapsed    time.Duration `json:"elapsed"`
	ServerCPU  time.Duration `json:"serverCPU"`
	P50        time.Duration `json:"p50"`
	P99        time.Duration `json:"p99"`
	CallsPerS  float64       `json:"callsPerSecond"`
	CPUPerCall time.Duration `json:"cpuPerCall"`
	// FrontCPU is the CPU time of the process the client talks to, alone
	// (for a gateway: without its upstream); ServerCPU counts every
	// process serving the target, each with its descendants.
	FrontCPU        time.Duration `json:"frontCPU"`
	FrontCPUPerCall time.Duration `json:"frontCPUPerCall"`
	// ClientCPU is the load client's CPU time in the round; OtherCores
	// is the CPU used by everything else on the machine, in cores (work
	// that competed with the benchmark).
	ClientCPU  time.Duration `json:"clientCPU"`
	OtherCores float64       `json:"otherCores"`
}

// Result is the median over rounds of one load configuration.
type Result struct {
	Impl    string `json:"impl"`
	Mode    string `json:"mode"`    // http, http-stateless, stdio
	Clients int    `json:"clients"` // sessions (HTTP) or requests in flight (stdio)
	Status  string `json:"status"`  // "" when measured, else why not
	// Protocol is the revision the load client spoke: 2025-11-25 for
	// sessions and the peers' stateless mode, 2026-07-28 for Switchboard's.
	Protocol   string        `json:"protocol,omitempty"`
	CallsPerS  float64       `json:"callsPerSecond"`
	P50        time.Duration `json:"p50"`
	P99        time.Duration `json:"p99"`
	CPUPerCall time.Duration `json:"cpuPerCall"`
	// FrontCPUPerCall is the median CPU per call of the process the client
	// talks to alone: for a gateway, without its upstream.
	FrontCPUPerCall time.Duration `json:"frontCPUPerCall"`
	// Upstream is the transport between a gateway and its upstream
	// (mode "gateway": stdio or http; "" for the direct row).
	Upstream   string       `json:"upstream,omitempty"`
	Errors     int64        `json:"errors"`
	OtherCores float64      `json:"otherCores"` // median over rounds
	Rounds     []RoundStats `json:"rounds"`
}

// target is one server child under load, measured a round at a time so
// that the rounds of different implementations can be interleaved.
type target interface {
	// round loads the server for warmup + d and measures the last d.
	round(ctx context.Context, warmup, d time.Duration) (RoundStats, error)
	// close ends the load and stops the server child.
	close()
	// proc returns the server child.
	proc() *child
}

// measureRound times one round: after warmup it samples the CPU clocks of
// procs (the processes serving the target, the one the client talks to
// first), sets recording for d, samples them again, then calls stop
// (which must return only when no worker touches recs any more) and
// summarises recs.
func measureRound(ctx context.Context, procs []*child, warmup, d time.Duration, recording *atomic.Bool, recs []*recorder, stop func()) (RoundStats, error) {
	defer stop()
	if err := sleepCtx(ctx, warmup); err != nil {
		return RoundStats{}, err
	}
	cpu0, err := sampleCPU(procs)
	if err != nil {
		return RoundStats{}, err
	}
	t0 := time.Now()
	recording.Store(true)
	err = sleepCtx(ctx, d)
	recording.Store(false)
	t1 := time.Now()
	if err != nil {
		return RoundStats{}, err
	}
	cpu1, err := sampleCPU(procs)
	if err != nil {
		return RoundStats{}, err
	}
	stop()
	var all []time.Duration
	var errs int64
	for _, rec := range recs {
		all = append(all, rec.lat...)
		errs += rec.errors
	}
	st := RoundStats{
		Calls:     int64(len(all)),
		Errors:    errs,
		Elapsed:   t1.Sub(t0),
		ServerCPU: cpu1.server - cpu0.server,
		FrontCPU:  cpu1.front - cpu0.front,
		ClientCPU: cpu1.client - cpu0.client,
	}
	sys := cpu1.system - cpu0.system
	st.OtherCores = max(0, (sys-st.ServerCPU-st.ClientCPU).Seconds()/st.Elapsed.Seconds())
	slices.Sort(all)
	st.P50, st.P99 = percentile(all, 0.50), percentile(all, 0.99)
	st.CallsPerS = float64(st.Calls) / st.Elapsed.Seconds()
	if st.Calls > 0 {
		st.CPUPerCall = st.ServerCPU / time.Duration(st.Calls)
		st.FrontCPUPerCall = st.FrontCPU / time.Duration(st.Calls)
	}
	return st, nil
}

// percentile returns the q-quantile of sorted (nearest rank).
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// medianResult fills a Result with the medians of its rounds.
func medianResult(res *Result, rounds []RoundStats) {
	res.Rounds = rounds
	pick := func(f func(RoundStats) float64) float64 {
		v := make([]float64, len(rounds))
		for i, r := range rounds {
			v[i] = f(r)
		}
		return median(v)
	}
	res.CallsPerS = pick(func(r RoundStats) float64 { return r.CallsPerS })
	res.P50 = time.Duration(pick(func(r RoundStats) float64 { return float64(r.P50) }))
	res.P99 = time.Duration(pick(func(r RoundStats) float64 { return float64(r.P99) }))
	res.CPUPerCall = time.Duration(pick(func(r RoundStats) float64 { return float64(r.CPUPerCall) }))
	res.FrontCPUPerCall = time.Duration(pick(func(r RoundStats) float64 { return float64(r.FrontCPUPerCall) }))
	res.OtherCores = pick(func(r RoundStats) float64 { return r.OtherCores })
	for _, r := range rounds {
		res.Errors += r.Errors
	}
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// newTransport returns the load client's HTTP transport: HTTP/1.1 with
// keep-alive and an idle pool large enough for every session.
func newTransport(conns int) *http.Transport {
	return &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          conns + 16,
		MaxIdleConnsPerHost:   conns + 16,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		DisableCompression:    true,
		ForceAttemptHTTP2:     false,
		WriteBufferSize:       16 << 10,
		ReadBufferSize:        16 << 10,
	}
}

// maxResponse bounds what the client reads of a response body.
const maxResponse = 1 << 20

// clientMode is how the load client talks to a Streamable HTTP server.
type clientMode int

const (
	// modeSession: initialize with servers.ProtocolVersion, then every
	// request with the Mcp-Session-Id the server issued.
	modeSession clientMode = iota
	// modeInitStateless: the peers' stateless mode, an initialize-era
	// server without sessions: initialize, then requests without a session
	// id (MCP-Protocol-Version: servers.ProtocolVersion).
	modeInitStateless
	// modeModern: revision 2026-07-28 (Switchboard's stateless mode): one
	// server/discover per worker, as a 2026 client probes before its first
	// request, then requests carrying the version, capabilities and client
	// info in _meta and the MCP-Protocol-Version, Mcp-Method and Mcp-Name
	// headers. No initialize, no session.
	modeModern
	// modeSessionIfAny: initialize, then every request with the session id
	// if the server issued one, and without one otherwise (peer gateways,
	// some of which serve their front statelessly).
	modeSessionIfAny
)

// statelessMode returns the client mode of impl's stateless mode.
func statelessMode(impl string) clientMode {
	if servers.StatelessRevision(impl) == servers.StatelessProtocolVersion {
		return modeModern
	}
	return modeInitStateless
}

// protocolOf returns the revision the load client speaks in mode.
func protocolOf(mode clientMode) string {
	if mode == modeModern {
		return servers.StatelessProtocolVersion
	}
	return servers.ProtocolVersion
}

// httpSession is one worker of the load client: an MCP session, or in a
// stateless mode a client that sends requests standing alone.
type httpSession struct {
	tr        *http.Transport
	url       string
	mode      clientMode
	sessionID string // "" in the stateless modes
	// version is the revision the server answered initialize with; in
	// modeSessionIfAny any revision is accepted and then sent in the
	// MCP-Protocol-Version header, in the other initialize modes it must be
	// servers.ProtocolVersion.
	version string
	body    []byte // this session's tools/call body
	rd      bytes.Reader
	buf     []byte
	req     *http.Request
	seq     int64 // ids sent so far
}

// next returns the number of the next request, for its id.
func (s *httpSession) next() int64 {
	s.seq++
	return s.seq
}

// post sends one JSON-RPC message and reads the whole response. method
// and name are the message's method and tool name, for the headers of
// revision 2026-07-28.
func (s *httpSession) post(ctx context.Context, body []byte, method, name string) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	s.setHeaders(req.Header, method, name)
	resp, err := s.tr.RoundTrip(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	return resp, b, err
}

// setHeaders sets the headers of a POST carrying method (on tool name for
// tools/call).
func (s *httpSession) setHeaders(h http.Header, method, name string) {
	h.Set("Content-Type", "application/json")
	h.Set("Accept", "application/json, text/event-stream")
	switch {
	case s.mode == modeModern:
		h.Set("Mcp-Protocol-Version", servers.StatelessProtocolVersion)
		h.Set("Mcp-Method", method)
		if name != "" {
			h.Set("Mcp-Name", name)
		}
	case s.sessionID != "":
		h.Set("Mcp-Session-Id", s.sessionID)
		h.Set("Mcp-Protocol-Version", s.protocolVersion())
	}
}

// open gets the worker ready for its first tools/call: the handshake, or
// server/discover in revision 2026-07-28.
func (s *httpSession) open(ctx context.Context) error {
	if s.mode == modeModern {
		return s.discover(ctx)
	}
	return s.initialize(ctx)
}

// discover sends server/discover and checks that the server offers the
// stateless revision.
func (s *httpSession) discover(ctx context.Context) error {
	resp, b, err := s.post(ctx, discoverBody, "server/discover", "")
	if err != nil {
		return fmt.Errorf("server/discover: %w", err)
	}
	var msg struct {
		Result *struct {
			ResultType        string   `json:"resultType"`
			SupportedVersions []string `json:"supportedVersions"`
		} `json:"result"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &msg) != nil || msg.Result == nil {
		return fmt.Errorf("server/discover: status %d: %.300s", resp.StatusCode, b)
	}
	if msg.Result.ResultType != "complete" || !slices.Contains(msg.Result.SupportedVersions, servers.StatelessProtocolVersion) {
		return fmt.Errorf("server/discover: %s not offered, or result not complete: %.300s", servers.StatelessProtocolVersion, b)
	}
	if sid := resp.Header.Get("Mcp-Session-Id"); sid != "" {
		return fmt.Errorf("server/discover: a stateless response carries Mcp-Session-Id %q", sid)
	}
	return nil
}

// initialize runs the handshake: initialize, then notifications/initialized.
// In modeInitStateless the session id, if any, is dropped afterwards; in
// modeSession the server must issue one.
func (s *httpSession) initialize(ctx context.Context) error {
	stateless := s.mode == modeInitStateless
	resp, b, err := s.post(ctx, initializeBody, "initialize", "")
	if err != nil {
		return fmt.Errorf("initialize: %w", err)
	}
	s.version = negotiatedVersion(b)
	if resp.StatusCode != http.StatusOK || s.version == "" || s.mode != modeSessionIfAny && s.version != servers.ProtocolVersion {
		return fmt.Errorf("initialize: status %d: %.300s", resp.StatusCode, b)
	}
	s.sessionID = resp.Header.Get("Mcp-Session-Id")
	if s.mode == modeSession && s.sessionID == "" {
		return errors.New("initialize: no Mcp-Session-Id in a stateful server's response")
	}
	resp, b, err = s.post(ctx, initializedBody, "notifications/initialized", "")
	if err != nil {
		return fmt.Errorf("notifications/initialized: %w", err)
	}
	if resp.StatusCode != http.StatusAccepted && resp.StatusCode != http.StatusOK {
		return fmt.Errorf("notifications/initialized: status %d: %.300s", resp.StatusCode, b)
	}
	if stateless {
		s.sessionID = ""
	}
	return nil
}

// protocolVersion returns the revision of the session's requests.
func (s *httpSession) protocolVersion() string {
	if s.version != "" {
		return s.version
	}
	return servers.ProtocolVersion
}

// negotiatedVersion returns the protocolVersion of an initialize response
// (a JSON body or an SSE stream carrying it), or "".
func negotiatedVersion(b []byte) string {
	const key = `"protocolVersion":"`
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return ""
	}
	v := b[i+len(key):]
	j := bytes.IndexByte(v, '"')
	if j < 0 {
		return ""
	}
	return string(v[:j])
}

// prepare builds the reusable tools/call request.
func (s *httpSession) prepare(ctx context.Context) error {
	if s.mode == modeModern {
		s.body = slices.Clone(modernCallTemplate)
	} else {
		s.body = slices.Clone(callTemplate)
	}
	s.buf = make([]byte, 0, 4096)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, nil)
	if err != nil {
		return err
	}
	s.setHeaders(req.Header, "tools/call", "echo")
	if s.mode != modeModern && s.sessionID == "" {
		// No session: the protocol version still travels in the header.
		req.Header.Set("Mcp-Protocol-Version", s.protocolVersion())
	}
	req.ContentLength = int64(len(s.body))
	s.req = req
	return nil
}

// call sends one tools/call with id n and reports whether the response
// was a successful echo.
func (s *httpSession) call(n int64) (bool, error) {
	putID(s.body, n)
	s.rd.Reset(s.body)
	s.req.Body = io.NopCloser(&s.rd)
	resp, err := s.tr.RoundTrip(s.req)
	if err != nil {
		return false, err
	}
	s.buf = s.buf[:0]
	for {
		if len(s.buf) == cap(s.buf) {
			if cap(s.buf) >= maxResponse {
				break
			}
			s.buf = slices.Grow(s.buf, cap(s.buf))
		}
		m, rerr := resp.Body.Read(s.buf[len(s.buf):cap(s.buf)])
		s.buf = s.buf[:len(s.buf)+m]
		if rerr != nil {
			if rerr != io.EOF {
				err = rerr
			}
			break
		}
	}
	resp.Body.Close()
	if err != nil {
		return false, err
	}
	ok := resp.StatusCode == http.StatusOK && bytes.Contains(s.buf, okMarker) && bytes.Contains(s.buf, []byte(`"result"`))
	if ok && s.mode == modeModern {
		ok = bytes.Contains(s.buf, modernOK)
	}
	return ok, nil
}

// httpTarget is a Streamable HTTP server with its load client's workers
// ready (sessions initialized, or discovery done).
type httpTarget struct {
	c        *child
	more     []*child // other processes serving the target (a gateway's HTTP upstream)
	tr       *http.Transport
	sessions []*httpSession
}

// newHTTPTarget opens clients workers on c's server, talking to it in
// mode, and checks that a first tools/call succeeds on each.
func newHTTPTarget(ctx context.Context, c *child, clients int, mode clientMode) (*httpTarget, error) {
	t := &httpTarget{c: c, tr: newTransport(clients), sessions: make([]*httpSession, clients)}
	var wg sync.WaitGroup
	errs := make([]error, clients)
	for i := range t.sessions {
		s := &httpSession{tr: t.tr, url: c.mcpURL, mode: mode}
		t.sessions[i] = s
		wg.Add(1)
		go func() {
			defer wg.Done()
			ictx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			if err := s.open(ictx); err != nil {
				errs[i] = err
				return
			}
			errs[i] = s.prepare(ctx)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.close()
		return nil, err
	}
	for i, s := range t.sessions {
		if ok, err := s.call(0); err != nil || !ok {
			t.close()
			return nil, fmt.Errorf("first tools/call on session %d failed: %v: %.300s", i, err, s.buf)
		}
	}
	return t, nil
}

func (t *httpTarget) proc() *child { return t.c }

// protocol returns the revision the first worker negotiated ("" for
// revision 2026-07-28, which has no initialize).
func (t *httpTarget) protocol() string {
	if len(t.sessions) == 0 {
		return ""
	}
	return t.sessions[0].version
}

func (t *httpTarget) close() {
	t.tr.CloseIdleConnections()
	t.c.stop()
	for _, c := range t.more {
		c.stop()
	}
}

// round runs one worker per session, each calling tools/call in a loop;
// workers finish their call in progress when the round ends.
func (t *httpTarget) round(ctx context.Context, warmup, d time.Duration) (RoundStats, error) {
	var recording, stopping atomic.Bool
	var wg sync.WaitGroup
	recs := make([]*recorder, len(t.sessions))
	for i, s := range t.sessions {
		rec := newRecorder()
		recs[i] = rec
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stopping.Load() && ctx.Err() == nil {
				t0 := time.Now()
				ok, err := s.call(s.next())
				dur := time.Since(t0)
				rec.result(recording.Load(), ok && err == nil, dur)
				if err != nil {
					time.Sleep(time.Millisecond) // a broken connection: back off
				}
			}
		}()
	}
	stop := sync.OnceFunc(func() { stopping.Store(true); wg.Wait() })
	return measureRound(ctx, append([]*child{t.c}, t.more...), warmup, d, &recording, recs, stop)
}

// result records one completed call while the round is recording.
func (r *recorder) result(recording, ok bool, d time.Duration) {
	switch {
	case !recording:
	case ok:
		r.lat = append(r.lat, d)
	default:
		r.errors++
	}
}
