// Package cluster runs a Switchboard gateway as one of N identical
// instances behind any HTTP load balancer, without sticky sessions, with
// the state that cannot travel in a request kept in Redis.
//
// What goes where:
//
//   - Revision 2026-07-28 requests carry everything in the request (and the
//     gateway's sealed requestState); any instance serves them with no
//     lookup. Nothing here is on their path.
//   - A 2025-11-25 session id is sealed (package seal) around the client's
//     initialize parameters, so any instance rebuilds the session from the
//     id alone (Sessions, a transport.SessionFactory for the streamable
//     handler). What changes after initialize — the log level, resource
//     subscriptions — and the end of a session (DELETE) are in Redis, read
//     once when an instance first sees the session.
//   - SSE events are appended to Redis (EventStore), so a client resumes a
//     stream on any instance with Last-Event-ID; the instance following a
//     stream served elsewhere reads it from Redis until it completes. A
//     stream whose instance died is completed with retryable errors.
//   - Requests the server sends the client (elicitation, sampling, roots)
//     get ids naming their instance; a client's response reaching another
//     instance is published to the owner over Redis pub/sub, and so are
//     cancellations. Whole requests are never forwarded.
//
// A Node is one instance's membership: its id, a heartbeat (a key with a
// short TTL that followers check to tell a dead instance from a slow one)
// and the pub/sub subscription.
package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Options configure a Node.
type Options struct {
	// Redis is the shared store. Required.
	Redis redis.UniversalClient
	// Prefix starts every key and channel name (default "switchboard:").
	Prefix string
	// Instance names this instance (default: random). It must differ
	// from every other live instance's, and should change when the
	// process restarts: what a dead process served is then recognized as
	// orphaned.
	Instance string
	// Heartbeat is the interval of the instance's heartbeat (default 1s);
	// an instance is taken for dead DeadAfter after its last one (default
	// 3 heartbeats).
	Heartbeat time.Duration
	// DeadAfter: see Heartbeat.
	DeadAfter time.Duration
	// EventTTL is how long a session's events are kept after its last
	// one (default DefaultEventTTL).
	EventTTL time.Duration
	// MaxStreamLen bounds the events kept per stream (default
	// DefaultMaxStreamLen); resuming before the oldest kept one fails.
	MaxStreamLen int64
	// FollowInterval is how often a follower of a quiet stream checks that
	// the stream's instance is alive (default 1s).
	FollowInterval time.Duration
	// Logger receives diagnostics (nil: discarded).
	Logger *slog.Logger
}

// Node is one instance of a cluster.
type Node struct {
	rdb       redis.UniversalClient
	prefix    string
	id        string
	heartbeat time.Duration
	deadAfter time.Duration
	log       *slog.Logger
	events    *EventStore

	mu       sync.Mutex
	handlers map[string][]func([]byte)

	stop  context.CancelFunc
	done  chan struct{}
	stats struct {
		orphans, forwarded, restored atomic.Int64
	}
}

// Stats counts what a Node did.
type Stats struct {
	// Orphans are streams of dead instances this node completed.
	Orphans int64
	// Forwarded are responses and cancellations published to other
	// instances.
	Forwarded int64
	// Restored are sessions rebuilt from their id.
	Restored int64
}

// Start joins the cluster: it starts the heartbeat and subscribes to the
// node's channels. ctx bounds the first heartbeat and subscription.
func Start(ctx context.Context, opts Options) (*Node, error) {
	if opts.Redis == nil {
		return nil, errors.New("cluster: Options.Redis is required")
	}
	n := &Node{
		rdb:       opts.Redis,
		prefix:    opts.Prefix,
		id:        opts.Instance,
		heartbeat: opts.Heartbeat,
		deadAfter: opts.DeadAfter,
		log:       opts.Logger,
		handlers:  map[string][]func([]byte){},
		done:      make(chan struct{}),
	}
	if n.prefix == "" {
		n.prefix = "switchboard:"
	}
	if n.id == "" {
		var b [6]byte
		rand.Read(b[:])
		n.id = hex.EncodeToString(b[:])
	}
	if n.heartbeat <= 0 {
		n.heartbeat = time.Second
	}
	if n.deadAfter <= 0 {
		n.deadAfter = 3 * n.heartbeat
	}
	if n.log == nil {
		n.log = slog.New(slog.DiscardHandler)
	}
	n.events = &EventStore{n: n, ttl: opts.EventTTL, maxLen: opts.MaxStreamLen, poll: opts.FollowInterval}
	if n.events.ttl <= 0 {
		n.events.ttl = DefaultEventTTL
	}
	if n.events.maxLen <= 0 {
		n.events.maxLen = DefaultMaxStreamLen
	}
	if n.events.poll <= 0 {
		n.events.poll = DefaultFollowInterval
	}
	if err := n.beat(ctx); err != nil {
		return nil, err
	}
	sub := n.rdb.Subscribe(ctx, n.channel(n.id), n.prefix+"bcast")
	if _, err := sub.Receive(ctx); err != nil {
		sub.Close()
		return nil, err
	}
	rctx, cancel := context.WithCancel(context.Background())
	n.stop = cancel
	go n.run(rctx, sub)
	return n, nil
}

// ID returns the instance id.
func (n *Node) ID() string { return n.id }

// Redis returns the node's Redis client.
func (n *Node) Redis() redis.UniversalClient { return n.rdb }

// EventStore returns the node's shared event store.
func (n *Node) EventStore() *EventStore { return n.events }

// Stats returns the node's counters.
func (n *Node) Stats() Stats {
	return Stats{Orphans: n.stats.orphans.Load(), Forwarded: n.stats.forwarded.Load(), Restored: n.stats.restored.Load()}
}

func (n *Node) channel(instance string) string { return n.prefix + "inst:" + instance }

func (n *Node) aliveKey(instance string) string { return n.prefix + "alive:" + instance }

func (n *Node) beat(ctx context.Context) error {
	return n.rdb.Set(ctx, n.aliveKey(n.id), time.Now().UnixMilli(), n.deadAfter).Err()
}

// alive reports whether instance has sent a heartbeat recently. An error
// reading Redis counts as alive: a follower keeps waiting rather than
// declaring a live instance dead.
func (n *Node) alive(ctx context.Context, instance string) bool {
	c, err := n.rdb.Exists(ctx, n.aliveKey(instance)).Result()
	return err != nil || c > 0
}

// Close leaves the cluster: the heartbeat stops and its key is deleted, so
// that followers of streams this instance still served complete them at
// once. Call it after the instance's requests have ended.
func (n *Node) Close() error {
	n.stop()
	<-n.done
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return n.rdb.Del(ctx, n.aliveKey(n.id)).Err()
}

// message is what travels on the node channels.
type message struct {
	Kind    string          `json:"k"`
	Payload json.RawMessage `json:"p"`
}

func (n *Node) run(ctx context.Context, sub *redis.PubSub) {
	defer close(n.done)
	defer sub.Close()
	t := time.NewTicker(n.heartbeat)
	defer t.Stop()
	ch := sub.Channel(redis.WithChannelSize(1024))
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			bctx, cancel := context.WithTimeout(ctx, n.heartbeat)
			if err := n.beat(bctx); err != nil && ctx.Err() == nil {
				n.log.Warn("cluster: heartbeat failed", "err", err)
			}
			cancel()
		case m, ok := <-ch:
			if !ok {
				return
			}
			var msg message
			if err := json.Unmarshal([]byte(m.Payload), &msg); err != nil {
				n.log.Debug("cluster: bad message", "channel", m.Channel, "err", err)
				continue
			}
			n.mu.Lock()
			hs := n.handlers[msg.Kind]
			n.mu.Unlock()
			for _, h := range hs {
				h(msg.Payload)
			}
		}
	}
}

// Handle registers fn for the messages of kind published with Broadcast or
// Send. Handlers run one at a time on the node's goroutine and must not
// block.
func (n *Node) Handle(kind string, fn func(payload []byte)) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.handlers[kind] = append(n.handlers[kind], fn)
}

// Broadcast publishes a message of kind to every instance, this one
// included.
func (n *Node) Broadcast(ctx context.Context, kind string, payload any) error {
	_, err := n.broadcast(ctx, kind, payload)
	return err
}

// broadcast is Broadcast that also returns how many instances (this one
// included) received the message.
func (n *Node) broadcast(ctx context.Context, kind string, payload any) (int64, error) {
	return n.publishN(ctx, n.prefix+"bcast", kind, payload)
}

// Send publishes a message of kind to one instance.
func (n *Node) Send(ctx context.Context, instance, kind string, payload any) error {
	return n.publish(ctx, n.channel(instance), kind, payload)
}

func (n *Node) publish(ctx context.Context, channel, kind string, payload any) error {
	_, err := n.publishN(ctx, channel, kind, payload)
	return err
}

// publishN publishes and returns the number of subscribers that got the
// message.
func (n *Node) publishN(ctx context.Context, channel, kind string, payload any) (int64, error) {
	p, err := json.Marshal(payload)
	if err != nil {
		return 0, err
	}
	b, err := json.Marshal(message{Kind: kind, Payload: p})
	if err != nil {
		return 0, err
	}
	return n.rdb.Publish(ctx, channel, b).Result()
}
