package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/switchboard-mcp/switchboard/cluster/seal"
	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/mcp"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport"
	"github.com/switchboard-mcp/switchboard/transport/streamable"
)

// startRedis runs redis-server on a free loopback port until the test
// ends.
func startRedis(t *testing.T) *redis.Client {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not installed (make redis-deps installs Debian's)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	c := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port), PoolSize: 64})
	t.Cleanup(func() { c.Close() })
	deadline := time.Now().Add(10 * time.Second)
	for c.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			t.Fatal("redis-server did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return c
}

func startNode(t *testing.T, rdb *redis.Client, id string) *Node {
	t.Helper()
	n, err := Start(context.Background(), Options{Redis: rdb, Instance: id, Heartbeat: 100 * time.Millisecond, FollowInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

func collect(ids *[]string, data *[]string) func(string, []byte) error {
	return func(id string, d []byte) error {
		*ids = append(*ids, id)
		*data = append(*data, string(d))
		return nil
	}
}

func TestEventStoreReplay(t *testing.T) {
	rdb := startRedis(t)
	a, b := startNode(t, rdb, "a"), startNode(t, rdb, "b")
	ctx := context.Background()
	sa, sb := a.EventStore(), b.EventStore()
	// Two instances append to their own streams of one session, and to
	// the shared standalone stream.
	var ids []string
	for i, step := range []struct {
		s      *EventStore
		stream string
		data   string
	}{
		{sa, "a.1", ""}, {sa, "a.1", "m1"}, {sb, "b.1", ""}, {sb, "0", "s1"}, {sa, "a.1", "m2"}, {sb, "b.1", "n1"}, {sa, "0", "s2"},
	} {
		id, err := step.s.Append(ctx, "sess", step.stream, []byte(step.data))
		if err != nil {
			t.Fatal(i, err)
		}
		ids = append(ids, id)
	}
	tests := []struct {
		name   string
		last   string
		stream string
		want   []string
		err    error
	}{
		{"after priming", ids[0], "a.1", []string{"m1", "m2"}, nil},
		{"after first", ids[1], "a.1", []string{"m2"}, nil},
		{"other instance's stream", ids[2], "b.1", []string{"n1"}, nil},
		{"standalone", ids[3], "0", []string{"s2"}, nil},
		{"up to date", ids[4], "a.1", nil, nil},
		{"malformed", "nope", "", nil, streamable.ErrUnknownEvent},
		{"never issued", "a.1-99", "", nil, streamable.ErrUnknownEvent},
		{"unknown stream", "zz-1", "", nil, streamable.ErrUnknownEvent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got, data []string
			stream, err := sb.Replay(ctx, "sess", tt.last, collect(&got, &data))
			if !errors.Is(err, tt.err) {
				t.Fatalf("err %v, want %v", err, tt.err)
			}
			if err == nil && (stream != tt.stream || strings.Join(data, ",") != strings.Join(tt.want, ",")) {
				t.Fatalf("stream %q data %v, want %q %v", stream, data, tt.stream, tt.want)
			}
		})
	}
	if err := sa.Purge(ctx, "sess"); err != nil {
		t.Fatal(err)
	}
	if _, err := sa.Replay(ctx, "sess", ids[0], collect(new([]string), new([]string))); !errors.Is(err, streamable.ErrUnknownEvent) {
		t.Fatalf("after Purge: %v", err)
	}
}

// A follower on another instance delivers the events of a live stream as
// they are appended and stops when the stream completes.
func TestEventStoreFollow(t *testing.T) {
	rdb := startRedis(t)
	a, b := startNode(t, rdb, "a"), startNode(t, rdb, "b")
	ctx := context.Background()
	prime, _ := a.EventStore().Append(ctx, "s", "a.1", nil)
	a.EventStore().OpenStream(ctx, "s", "a.1", []jsonrpc.ID{jsonrpc.Int64ID(7)})
	var got, data []string
	done := make(chan error, 1)
	go func() {
		_, err := b.EventStore().Follow(ctx, "s", prime, collect(&got, &data))
		done <- err
	}()
	for i := range 3 {
		time.Sleep(30 * time.Millisecond)
		a.EventStore().Append(ctx, "s", "a.1", fmt.Appendf(nil, "p%d", i))
	}
	a.EventStore().Append(ctx, "s", "a.1", []byte(`{"jsonrpc":"2.0","id":7,"result":{}}`))
	a.EventStore().CompleteStream(ctx, "s", "a.1")
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the follower did not stop at completion")
	}
	if strings.Join(data, ",") != `p0,p1,p2,{"jsonrpc":"2.0","id":7,"result":{}}` {
		t.Fatalf("followed %v", data)
	}
}

// A stream whose instance dies is completed by a follower with a
// retryable error for the unanswered request, once; the dead instance can
// no longer append to it.
func TestEventStoreOrphan(t *testing.T) {
	rdb := startRedis(t)
	a, err := Start(context.Background(), Options{Redis: rdb, Instance: "a", Heartbeat: 50 * time.Millisecond, DeadAfter: 150 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	b := startNode(t, rdb, "b")
	ctx := context.Background()
	prime, _ := a.EventStore().Append(ctx, "s", "a.1", nil)
	a.EventStore().OpenStream(ctx, "s", "a.1", []jsonrpc.ID{jsonrpc.Int64ID(3)})
	a.EventStore().Append(ctx, "s", "a.1", []byte(`{"jsonrpc":"2.0","method":"notifications/progress","params":{}}`))
	a.stop() // dies: no more heartbeats, no Close
	<-a.done
	var got, data []string
	start := time.Now()
	if _, err := b.EventStore().Follow(ctx, "s", prime, collect(&got, &data)); err != nil {
		t.Fatal(err)
	}
	if len(data) != 2 || !strings.Contains(data[1], `"id":3`) || !strings.Contains(data[1], `"retryable":true`) {
		t.Fatalf("followed %v", data)
	}
	t.Logf("orphan completed after %s", time.Since(start).Round(time.Millisecond))
	if _, err := a.EventStore().Append(ctx, "s", "a.1", []byte("late")); !errors.Is(err, ErrStreamClosed) {
		t.Fatalf("late append: %v", err)
	}
	if b.Stats().Orphans != 1 {
		t.Fatalf("stats %+v", b.Stats())
	}
}

func newSessions(t *testing.T, n *Node, sealer *seal.Sealer, binding func(context.Context) string) (*Sessions, *mcp.Server) {
	t.Helper()
	srv := mcp.NewServer(protocol.Implementation{Name: "t", Version: "1"}, nil)
	srv.AddResource(&protocol.Resource{URI: "test://r", Name: "r"}, func(context.Context, *mcp.Request, string, map[string]string) (*protocol.ReadResourceResult, error) {
		return &protocol.ReadResourceResult{}, nil
	})
	s, err := n.Sessions(srv, SessionOptions{Sealer: sealer, Binding: binding})
	if err != nil {
		t.Fatal(err)
	}
	return s, srv
}

type principal struct{}

func TestSessionsRestore(t *testing.T) {
	rdb := startRedis(t)
	a, b := startNode(t, rdb, "a"), startNode(t, rdb, "b")
	k, _ := seal.NewKeyring(seal.KeySet{Primary: "k", Keys: []seal.Key{seal.GenerateKey("k")}})
	sealer := seal.NewSealer(k)
	bind := func(ctx context.Context) string { v, _ := ctx.Value(principal{}).(string); return v }
	sa, _ := newSessions(t, a, sealer, bind)
	sb, _ := newSessions(t, b, sealer, bind)
	alice := context.WithValue(context.Background(), principal{}, "alice")
	bob := context.WithValue(context.Background(), principal{}, "bob")
	init := &jsonrpc.Request{ID: jsonrpc.Int64ID(0), Method: "initialize",
		Params: []byte(`{"protocolVersion":"2025-06-18","capabilities":{"elicitation":{}},"clientInfo":{"name":"c","version":"9"}}`)}
	id, err := sa.NewSessionID(alice, init)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sa.NewSession(alice, id, discard{}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ctx  context.Context
		id   string
		err  error
	}{
		{"same principal", alice, id, nil},
		{"other principal", bob, id, streamable.ErrUnknownSession},
		{"forged", alice, "k.AAAA", streamable.ErrUnknownSession},
		{"unknown key", alice, "zz" + id[1:], streamable.ErrUnknownSession},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := sb.RestoreSession(tt.ctx, tt.id, discard{})
			if !errors.Is(err, tt.err) {
				t.Fatalf("err %v, want %v", err, tt.err)
			}
			if err == nil {
				if v := s.ProtocolVersion(); v != "2025-06-18" {
					t.Fatalf("restored version %q", v)
				}
				s.Close()
			}
		})
	}
	// State set on one instance reaches later restores.
	w, _ := sb.RestoreSession(alice, id, discard{})
	resp := w.HandleRequest(alice, &jsonrpc.Request{ID: jsonrpc.Int64ID(1), Method: "logging/setLevel", Params: []byte(`{"level":"error"}`)}, discard{})
	if !strings.Contains(string(resp), `"result"`) {
		t.Fatalf("setLevel: %s", resp)
	}
	w2, err := sa.RestoreSession(alice, id, discard{})
	if err != nil {
		t.Fatal(err)
	}
	if lvl := w2.(*session).inner.LogLevel(); lvl != "error" {
		t.Fatalf("restored log level %q", lvl)
	}
	// Subscriptions too: recorded, replayed by a restore, forgotten on
	// unsubscribe.
	sub := func(w interface {
		HandleRequest(context.Context, *jsonrpc.Request, transport.Sink) []byte
	}, method string) {
		t.Helper()
		resp := w.HandleRequest(alice, &jsonrpc.Request{ID: jsonrpc.Int64ID(2), Method: method, Params: []byte(`{"uri":"test://r"}`)}, discard{})
		if !strings.Contains(string(resp), `"result"`) {
			t.Fatalf("%s: %s", method, resp)
		}
	}
	sub(w, "resources/subscribe")
	key := sb.stateKey(w.(*session).nonce)
	if v, _ := rdb.HGet(context.Background(), key, "sub:test://r").Result(); v != "1" {
		t.Fatalf("subscription not recorded: %q", v)
	}
	sc, _ := newSessions(t, startNode(t, rdb, "c"), sealer, bind)
	if wc, err := sc.RestoreSession(alice, id, discard{}); err != nil {
		t.Fatalf("restore with a subscription: %v", err)
	} else {
		wc.Close()
	}
	sub(w, "resources/unsubscribe")
	if n, _ := rdb.HExists(context.Background(), key, "sub:test://r").Result(); n {
		t.Fatal("unsubscribe not recorded")
	}
	// DELETE ends it everywhere: copies are closed by the time it
	// returns (a request the client sends next may reach any instance),
	// and restores fail.
	if err := sb.TerminateSession(alice, id); err != nil {
		t.Fatal(err)
	}
	select {
	case <-w2.Done():
	default:
		t.Fatal("the copy on the other instance was still open when the session's end returned")
	}
	if _, err := sa.RestoreSession(alice, id, discard{}); !errors.Is(err, streamable.ErrUnknownSession) {
		t.Fatalf("after terminate: %v", err)
	}
}

// Responses to requests the server sent reach the instance that sent
// them, whichever instance the client posts them to.
func TestResponseRouting(t *testing.T) {
	rdb := startRedis(t)
	a, b := startNode(t, rdb, "a"), startNode(t, rdb, "b")
	k, _ := seal.NewKeyring(seal.KeySet{Primary: "k", Keys: []seal.Key{seal.GenerateKey("k")}})
	sealer := seal.NewSealer(k)
	sa, _ := newSessions(t, a, sealer, nil)
	sb, _ := newSessions(t, b, sealer, nil)
	ctx := context.Background()
	init := &jsonrpc.Request{Method: "initialize", Params: []byte(`{"protocolVersion":"2025-11-25","capabilities":{"elicitation":{"form":{}}},"clientInfo":{"name":"c","version":"1"}}`)}
	id, _ := sa.NewSessionID(ctx, init)
	sink := &chanSink{ch: make(chan []byte, 4)}
	wa, err := sa.RestoreSession(ctx, id, sink)
	if err != nil {
		t.Fatal(err)
	}
	wb, err := sb.RestoreSession(ctx, id, discard{})
	if err != nil {
		t.Fatal(err)
	}
	var res *protocol.ElicitResult
	var eerr error
	var wg sync.WaitGroup
	wg.Go(func() {
		res, eerr = wa.(*session).inner.Elicit(ctx, &protocol.ElicitRequestParams{Message: "ok?", RequestedSchema: &protocol.ElicitSchema{}})
	})
	msg := <-sink.ch
	m, err := jsonrpc.Decode(msg)
	if err != nil {
		t.Fatal(err)
	}
	req := m.(*jsonrpc.Request)
	if s, _ := req.ID.Str(); !strings.HasPrefix(s, "sb~a~") {
		t.Fatalf("request id %v does not name instance a", req.ID)
	}
	wb.HandleResponse(&jsonrpc.Response{ID: req.ID, Result: []byte(`{"action":"accept","content":{}}`)})
	wg.Wait()
	if eerr != nil || res.Action != "accept" {
		t.Fatalf("elicit: %v %v", res, eerr)
	}
	if b.Stats().Forwarded != 1 {
		t.Fatalf("stats %+v", b.Stats())
	}
}

type chanSink struct{ ch chan []byte }

func (c *chanSink) Send(_ context.Context, msg []byte) error {
	c.ch <- append([]byte(nil), msg...)
	return nil
}

// FuzzParseEventID feeds untrusted Last-Event-ID values to the parser.
func FuzzParseEventID(f *testing.F) {
	for _, s := range []string{"a.1-3", "0-1", "-1", "a-", "a-0", "a--1", "x-99999999999999999999", strings.Repeat("a", 300) + "-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		stream, seq, ok := parseEventID(id)
		if ok && (seq <= 0 || stream == "" || stream+"-"+fmt.Sprint(seq) != id && !strings.HasPrefix(id, stream+"-")) {
			t.Fatalf("%q parsed as %q %d", id, stream, seq)
		}
	})
}

// FuzzOpenSessionID feeds untrusted Mcp-Session-Id values to Sessions:
// nothing but ids it minted opens.
func FuzzOpenSessionID(f *testing.F) {
	k, _ := seal.NewKeyring(seal.KeySet{Primary: "k", Keys: []seal.Key{seal.GenerateKey("k")}})
	s := &Sessions{sealer: seal.NewSealer(k)}
	good := k.Seal(SealPurpose, []byte(`{"v":1,"n":"abc","t":1}`))
	f.Add(good)
	f.Add(k.Seal(SealPurpose, []byte(`{"v":2}`)))
	f.Add(k.Seal(SealPurpose, []byte(`not json`)))
	f.Add("k.")
	f.Fuzz(func(t *testing.T, id string) {
		st, err := s.open(id)
		if err == nil && (st.V != 1 || st.N == "") {
			t.Fatalf("%q opened as %+v", id, st)
		}
		if err != nil && !errors.Is(err, streamable.ErrUnknownSession) {
			t.Fatalf("error %v does not wrap ErrUnknownSession", err)
		}
	})
}
