package sse

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/transport"
)

// This file holds the in-test protocol layer: a SessionFactory whose
// sessions speak a tiny protocol.
//
//	initialize {protocolVersion}  returns {"protocolVersion": ...} and sets the session's version
//	slow {n}                      sends n notifications/progress through the sink, then returns {"sent": n}
//	ask                           sends a roots/list request to the client and returns the client's result
//	block                         waits for release (or cancellation) and reports on its context
//	flood {size}                  sends notifications of size bytes until the sink fails
//	stuck                         waits for release, ignoring cancellation
//	anything else                 method not found

type ctxKey struct{}

type testFactory struct {
	newErr   error          // NewSession fails with it when set
	greeting []byte         // sent through the standalone sink inside NewSession
	release  chan struct{}  // "block" returns when it can receive from here
	created  chan *testSess // every session created

	inFlight    atomic.Int32
	maxInFlight atomic.Int32
}

func newTestFactory() *testFactory {
	return &testFactory{release: make(chan struct{}), created: make(chan *testSess, 16)}
}

func (f *testFactory) SupportedVersions() []string { return []string{"2025-03-26", "2024-11-05"} }

func (f *testFactory) NewSession(ctx context.Context, id string, standalone transport.Sink) (transport.Session, error) {
	if f.newErr != nil {
		return nil, f.newErr
	}
	s := &testSess{
		f:             f,
		id:            id,
		sink:          standalone,
		newInfo:       transport.RequestInfoFrom(ctx),
		done:          make(chan struct{}),
		notifications: make(chan *jsonrpc.Request, 16),
		asks:          make(map[jsonrpc.ID]chan *jsonrpc.Response),
	}
	if f.greeting != nil {
		if err := standalone.Send(ctx, f.greeting); err != nil {
			return nil, err
		}
	}
	f.created <- s
	return s, nil
}

type testSess struct {
	f       *testFactory
	id      string
	sink    transport.Sink
	newInfo *transport.RequestInfo

	version       atomic.Value // string
	notifications chan *jsonrpc.Request
	closeCalls    atomic.Int32
	done          chan struct{}
	closeOnce     sync.Once

	mu    sync.Mutex
	asks  map[jsonrpc.ID]chan *jsonrpc.Response
	askID int
}

func (s *testSess) ID() string { return s.id }

func (s *testSess) ProtocolVersion() string {
	v, _ := s.version.Load().(string)
	return v
}

func (s *testSess) Close() {
	s.closeCalls.Add(1)
	s.closeOnce.Do(func() { close(s.done) })
}

func (s *testSess) Done() <-chan struct{} { return s.done }

func (s *testSess) HandleNotification(_ context.Context, req *jsonrpc.Request) {
	// Take a little time, so that tests notice if the transport does not
	// wait for notifications before answering their POST.
	time.Sleep(10 * time.Millisecond)
	s.notifications <- req
}

func (s *testSess) HandleResponse(resp *jsonrpc.Response) {
	s.mu.Lock()
	ch := s.asks[resp.ID]
	delete(s.asks, resp.ID)
	s.mu.Unlock()
	if ch != nil {
		ch <- resp
	}
}

func (s *testSess) HandleRequest(ctx context.Context, req *jsonrpc.Request, sink transport.Sink) []byte {
	result, err := s.serve(ctx, req, sink)
	if err != nil {
		return jsonrpc.AppendErrorResponse(nil, req.ID, err)
	}
	b, merr := json.Marshal(result)
	if merr != nil {
		return jsonrpc.AppendErrorResponse(nil, req.ID, jsonrpc.ErrInternal("%v", merr))
	}
	return jsonrpc.AppendResponse(nil, &jsonrpc.Response{ID: req.ID, Result: b})
}

func (s *testSess) serve(ctx context.Context, req *jsonrpc.Request, sink transport.Sink) (any, *jsonrpc.Error) {
	var params struct {
		ProtocolVersion string `json:"protocolVersion"`
		N               int    `json:"n"`
		Size            int    `json:"size"`
	}
	if len(req.Params) > 0 {
		if err := json.Unmarshal(req.Params, &params); err != nil {
			return nil, jsonrpc.ErrInvalidParams("%v", err)
		}
	}
	switch req.Method {
	case "initialize":
		v := params.ProtocolVersion
		if v == "" {
			v = "2024-11-05"
		}
		s.version.Store(v)
		return map[string]string{"protocolVersion": v}, nil

	case "slow":
		for i := range params.N {
			msg := fmt.Sprintf(`{"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":%d}}`, i)
			if err := sink.Send(ctx, []byte(msg)); err != nil {
				return nil, jsonrpc.ErrInternal("send: %v", err)
			}
		}
		return map[string]int{"sent": params.N}, nil

	case "ask":
		s.mu.Lock()
		s.askID++
		id := jsonrpc.StringID("ask-" + strconv.Itoa(s.askID))
		ch := make(chan *jsonrpc.Response, 1)
		s.asks[id] = ch
		s.mu.Unlock()
		msg := jsonrpc.AppendRequest(nil, &jsonrpc.Request{ID: id, Method: "roots/list"})
		if err := sink.Send(ctx, msg); err != nil {
			return nil, jsonrpc.ErrInternal("send: %v", err)
		}
		select {
		case resp := <-ch:
			if resp.Error != nil {
				return nil, resp.Error
			}
			return map[string]jsontext.Value{"answer": resp.Result}, nil
		case <-ctx.Done():
			return nil, jsonrpc.ErrInternal("cancelled")
		}

	case "block":
		n := s.f.inFlight.Add(1)
		for {
			m := s.f.maxInFlight.Load()
			if n <= m || s.f.maxInFlight.CompareAndSwap(m, n) {
				break
			}
		}
		defer s.f.inFlight.Add(-1)
		select {
		case <-s.f.release:
		case <-ctx.Done():
		}
		report := map[string]string{}
		if err := ctx.Err(); err != nil {
			report["err"] = err.Error()
		}
		if v, ok := ctx.Value(ctxKey{}).(string); ok {
			report["value"] = v
		}
		if info := transport.RequestInfoFrom(ctx); info != nil {
			report["header"] = info.Header.Get("X-Test")
			report["remote"] = info.RemoteAddr
			report["host"] = info.Host
		}
		return report, nil

	case "stuck":
		<-s.f.release
		return map[string]string{}, nil

	case "flood":
		msg := fmt.Appendf(nil, `{"jsonrpc":"2.0","method":"notifications/message","params":{"data":"%0*d"}}`, params.Size, 0)
		for {
			if err := sink.Send(ctx, msg); err != nil {
				return nil, jsonrpc.ErrInternal("send: %v", err)
			}
		}
	}
	return nil, jsonrpc.ErrMethodNotFound(req.Method)
}

// closed reports whether Close was called.
func (s *testSess) closed() bool { return s.closeCalls.Load() > 0 }

var _ transport.SessionFactory = (*testFactory)(nil)
