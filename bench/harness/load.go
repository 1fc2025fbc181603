package harness

import (
	"bytes"
	"context"
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
	// ClientCPU is the load client's CPU time in the round; OtherCores
	// is the CPU used by everything else on the machine, in cores (work
	// that competed with the benchmark).
	ClientCPU  time.Duration `json:"clientCPU"`
	OtherCores float64       `json:"otherCores"`
}

// Result is the median over rounds of one load configuration.
type Result struct {
	Impl       string        `json:"impl"`
	Mode       string        `json:"mode"`    // http, http-stateless, stdio
	Clients    int           `json:"clients"` // sessions (HTTP) or requests in flight (stdio)
	Status     string        `json:"status"`  // "" when measured, else why not
	CallsPerS  float64       `json:"callsPerSecond"`
	P50        time.Duration `json:"p50"`
	P99        time.Duration `json:"p99"`
	CPUPerCall time.Duration `json:"cpuPerCall"`
	Errors     int64         `json:"errors"`
	OtherCores float64       `json:"otherCores"` // median over rounds
	Rounds     []RoundStats  `json:"rounds"`
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

// measureRound times one round: after warmup it samples the CPU clocks,
// sets recording for d, samples them again, then calls stop (which must
// return only when no worker touches recs any more) and summarises recs.
func measureRound(ctx context.Context, c *child, warmup, d time.Duration, recording *atomic.Bool, recs []*recorder, stop func()) (RoundStats, error) {
	defer stop()
	if err := sleepCtx(ctx, warmup); err != nil {
		return RoundStats{}, err
	}
	cpu0, err := sampleCPU(c)
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
	cpu1, err := sampleCPU(c)
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
		ClientCPU: cpu1.client - cpu0.client,
	}
	sys := cpu1.system - cpu0.system
	st.OtherCores = max(0, (sys-st.ServerCPU-st.ClientCPU).Seconds()/st.Elapsed.Seconds())
	slices.Sort(all)
	st.P50, st.P99 = percentile(all, 0.50), percentile(all, 0.99)
	st.CallsPerS = float64(st.Calls) / st.Elapsed.Seconds()
	if st.Calls > 0 {
		st.CPUPerCall = st.ServerCPU / time.Duration(st.Calls)
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

// httpSession is one MCP session of the load client.
type httpSession struct {
	tr        *http.Transport
	url       string
	sessionID string // "" in stateless mode
	body      []byte // this session's tools/call body
	rd        bytes.Reader
	buf       []byte
	req       *http.Request
	seq       int64 // ids sent so far
}

// next returns the number of the next request, for its id.
func (s *httpSession) next() int64 {
	s.seq++
	return s.seq
}

// post sends one JSON-RPC message and reads the whole response.
func (s *httpSession) post(ctx context.Context, body []byte) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	s.setHeaders(req.Header)
	resp, err := s.tr.RoundTrip(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	return resp, b, err
}

func (s *httpSession) setHeaders(h http.Header) {
	h.Set("Content-Type", "application/json")
	h.Set("Accept", "application/json, text/event-stream")
	if s.sessionID != "" {
		h.Set("Mcp-Session-Id", s.sessionID)
		h.Set("Mcp-Protocol-Version", servers.ProtocolVersion)
	}
}

// initialize runs the handshake: initialize, then notifications/initialized.
// In stateless mode the session id, if any, is dropped afterwards.
func (s *httpSession) initialize(ctx context.Context, stateless bool) error {
	resp, b, err := s.post(ctx, initializeBody)
	if err != nil {
		return fmt.Errorf("initialize: %w", err)
	}
	if resp.StatusCode != http.StatusOK || !bytes.Contains(b, []byte(`"protocolVersion":"`+servers.ProtocolVersion+`"`)) {
		return fmt.Errorf("initialize: status %d: %.300s", resp.StatusCode, b)
	}
	s.sessionID = resp.Header.Get("Mcp-Session-Id")
	if !stateless && s.sessionID == "" {
		return errors.New("initialize: no Mcp-Session-Id in a stateful server's response")
	}
	resp, b, err = s.post(ctx, initializedBody)
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

// prepare builds the reusable tools/call request.
func (s *httpSession) prepare(ctx context.Context) error {
	s.body = slices.Clone(callTemplate)
	s.buf = make([]byte, 0, 4096)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, nil)
	if err != nil {
		return err
	}
	s.setHeaders(req.Header)
	if s.sessionID == "" {
		// Stateless: the protocol version still travels in the header.
		req.Header.Set("Mcp-Protocol-Version", servers.ProtocolVersion)
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
	return resp.StatusCode == http.StatusOK && bytes.Contains(s.buf, okMarker) && bytes.Contains(s.buf, []byte(`"result"`)), nil
}

// httpTarget is a Streamable HTTP server with initialized sessions.
type httpTarget struct {
	c        *child
	tr       *http.Transport
	sessions []*httpSession
}

// newHTTPTarget opens clients sessions on c's server and checks that a
// first tools/call succeeds on each.
func newHTTPTarget(ctx context.Context, c *child, clients int, stateless bool) (*httpTarget, error) {
	t := &httpTarget{c: c, tr: newTransport(clients), sessions: make([]*httpSession, clients)}
	var wg sync.WaitGroup
	errs := make([]error, clients)
	for i := range t.sessions {
		s := &httpSession{tr: t.tr, url: c.mcpURL}
		t.sessions[i] = s
		wg.Add(1)
		go func() {
			defer wg.Done()
			ictx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			if err := s.initialize(ictx, stateless); err != nil {
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

func (t *httpTarget) close() {
	t.tr.CloseIdleConnections()
	t.c.stop()
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
	return measureRound(ctx, t.c, warmup, d, &recording, recs, stop)
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
