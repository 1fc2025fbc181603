package mcp

import (
	"context"
	"errors"
	"iter"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport"
)

// ServerOptions configure a Server. The zero value is usable.
type ServerOptions struct {
	// Instructions are sent to clients in the initialize result, as a hint
	// to the model about how to use the server.
	Instructions string

	// Capabilities, if set, are advertised instead of the ones inferred from
	// what is registered. Inference advertises tools, resources (with
	// subscribe and listChanged), prompts and completions when any is
	// registered, logging always, and tasks when a task-capable tool is
	// registered.
	Capabilities *protocol.ServerCapabilities

	// PageSize is the number of items in one page of a list result. Zero
	// means 1000.
	PageSize int

	// MaxInFlight bounds the requests one session handles at the same time
	// on transports that dispatch them here. Zero means 64.
	MaxInFlight int

	// MaxSessions bounds the live sessions. Zero means unlimited (the HTTP
	// transport has its own bound).
	MaxSessions int

	// MaxURILength bounds the URIs a client may send in resources/read,
	// resources/subscribe and completion references; longer ones are
	// refused with -32602 before they are matched against resource
	// templates. Zero means DefaultMaxURILength (8 KiB).
	MaxURILength int

	// KeepAlive, if positive, makes the server ping each idle stdio
	// session at this interval and close it when a ping fails.
	KeepAlive time.Duration

	// Logger receives the server's own diagnostics (not the messages sent
	// to clients). Nil discards them.
	Logger *slog.Logger

	// Completion answers completion/complete requests for prompts and
	// resource templates that have no completer of their own.
	Completion CompletionHandler

	// TaskStore keeps the state of task-augmented requests. Nil means a
	// MemoryTaskStore created on first use. The tasks a session owns (all
	// of them unless TaskOwner names a principal) are deleted from the
	// store when the session ends: no one can reach them any more.
	TaskStore TaskStore

	// DefaultTaskTTL is the lifetime of a task whose requestor asked for
	// none, and the upper bound of a requested one. Zero means one hour.
	DefaultTaskTTL time.Duration

	// TaskPollInterval is the polling interval suggested to requestors.
	// Zero means one second.
	TaskPollInterval time.Duration

	// MaxTasksPerSession bounds the tasks of one session running at the
	// same time; a task-augmented call beyond it is refused with an error
	// (-32603). Zero means DefaultMaxTasksPerSession; negative means no
	// bound.
	MaxTasksPerSession int

	// MaxTasksPerClient bounds the tasks running at the same time for one
	// client, as the transport names it (transport.RequestInfo.Client),
	// over all its sessions and stateless requests. Zero means
	// DefaultMaxTasksPerClient; negative means no bound. Running tasks
	// also count against the transport's bounds on work in flight
	// (transport.RequestInfo.Admitter).
	MaxTasksPerClient int

	// OnSessionStart and OnSessionEnd, if set, observe session lifecycle.
	OnSessionStart func(*ServerSession)
	OnSessionEnd   func(*ServerSession)

	// SupportedVersions restricts the protocol revisions offered. Nil means
	// every revision this package implements.
	SupportedVersions []string

	// OnRootsListChanged, if set, is called when a client sends
	// notifications/roots/list_changed.
	OnRootsListChanged func(context.Context, *ServerSession)

	// OnClientProgress, if set, receives progress notifications that a
	// client sends for requests the server made of it.
	OnClientProgress func(context.Context, *ServerSession, *protocol.ProgressNotificationParams)

	// TaskOwner, if set, names the principal that owns a task created by a
	// request (for example the authenticated user), so that tasks can be
	// reached from later sessions of the same principal. An empty result,
	// or a nil TaskOwner, binds the task to the session that created it.
	// In revision 2026-07-28 it also binds MRTR requestState to the
	// principal.
	TaskOwner func(context.Context, *Request) string

	// Revision 2026-07-28 (stateless requests; see docs/revisions.md).

	// RequestStateKey is the HMAC-SHA256 key that authenticates the
	// requestState of multi round-trip requests. Servers behind a load
	// balancer share one key so that any of them can serve a retry. Nil
	// means a random key per Server.
	RequestStateKey []byte
	// RequestStateTTL bounds how long a requestState stays valid. Zero
	// means DefaultRequestStateTTL.
	RequestStateTTL time.Duration
	// ListTTL is the ttlMs of the results of tools/list, prompts/list,
	// resources/list, resources/templates/list and server/discover. Zero
	// means DefaultListTTL; negative means 0 (do not reuse).
	ListTTL time.Duration
	// ListCacheScope is their cacheScope. Empty means private.
	ListCacheScope protocol.CacheScope
	// ReadTTL is the ttlMs of resources/read results. Zero means 0.
	ReadTTL time.Duration
	// ReadCacheScope is their cacheScope. Empty means private.
	ReadCacheScope protocol.CacheScope

	// ListFilter, if set, decides what a request's list shows of each
	// registered tool, prompt, resource and resource template: item is a
	// *protocol.Tool, *protocol.Prompt, *protocol.Resource or
	// *protocol.ResourceTemplate (do not modify it); the filter returns
	// it, a modified copy of the same type, or nil to leave it out (a page
	// may then hold fewer items than the page size; its cursor stays
	// valid). It does not gate calls, reads or prompts: a server that
	// hides an item should refuse it in its handler or middleware too.
	ListFilter func(ctx context.Context, r *Request, item any) any

	// EditCapabilities, if set, adjusts the capabilities the server
	// declares to a client speaking version (in initialize and in
	// server/discover), after they are inferred from what is registered
	// (or copied from Capabilities). A proxy declares so the extensions
	// its upstreams have.
	EditCapabilities func(version string, c *protocol.ServerCapabilities)

	// ResourceFallback, if set, reads (and accepts subscriptions to)
	// resources whose URI matches no registered resource or template,
	// instead of the resource-not-found error; vars is nil. A proxy uses
	// it for URIs its upstream serves without listing them.
	ResourceFallback ResourceHandler
}

// Server is an MCP server: a set of tools, resources and prompts, served to
// any number of sessions over any transport. Its methods are safe for
// concurrent use; features may be added and removed while it serves, and
// sessions are told of the change.
type Server struct {
	impl protocol.Implementation
	opts ServerOptions
	log  *slog.Logger

	mu         sync.RWMutex
	tools      registry[*serverTool]
	resources  registry[*serverResource]
	templates  registry[*serverTemplate]
	prompts    registry[*serverPrompt]
	sessions   map[*ServerSession]struct{}
	middleware []Middleware
	toolMW     []ToolMiddleware
	handler    MethodHandler // the middleware chain around dispatch, rebuilt by Use

	batchMu sync.Mutex
	batch   batchState // list changes held back by Batch

	tasksOnce sync.Once
	tasks     *taskManager

	v26 serverV2026 // revision 2026-07-28
}

// NewServer returns a server that identifies itself to clients as impl.
func NewServer(impl protocol.Implementation, opts *ServerOptions) *Server {
	s := &Server{impl: impl, sessions: make(map[*ServerSession]struct{})}
	if opts != nil {
		s.opts = *opts
	}
	if s.opts.PageSize <= 0 {
		s.opts.PageSize = 1000
	}
	if s.opts.MaxInFlight <= 0 {
		s.opts.MaxInFlight = 64
	}
	if s.opts.MaxURILength <= 0 {
		s.opts.MaxURILength = DefaultMaxURILength
	}
	if s.opts.DefaultTaskTTL <= 0 {
		s.opts.DefaultTaskTTL = time.Hour
	}
	if s.opts.TaskPollInterval <= 0 {
		s.opts.TaskPollInterval = time.Second
	}
	if s.opts.MaxTasksPerSession == 0 {
		s.opts.MaxTasksPerSession = DefaultMaxTasksPerSession
	}
	if s.opts.MaxTasksPerClient == 0 {
		s.opts.MaxTasksPerClient = DefaultMaxTasksPerClient
	}
	s.initVersions()
	s.log = s.opts.Logger
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.handler = s.dispatch
	return s
}

// Implementation returns the identity the server reports to clients.
func (s *Server) Implementation() protocol.Implementation { return s.impl }

// Use adds middleware around every method the server handles. Middleware
// added first runs outermost.
func (s *Server) Use(mw ...Middleware) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.middleware = append(s.middleware, mw...)
	h := MethodHandler(s.dispatch)
	for i := len(s.middleware) - 1; i >= 0; i-- {
		h = s.middleware[i](h)
	}
	s.handler = h
}

// UseTools adds middleware around every tool call, with the tool's name and
// arguments in hand. Middleware added first runs outermost.
func (s *Server) UseTools(mw ...ToolMiddleware) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.toolMW = append(s.toolMW, mw...)
	s.rewrapTools()
}

// SupportedVersions implements transport.SessionFactory.
func (s *Server) SupportedVersions() []string { return s.opts.SupportedVersions }

// NewSession implements transport.SessionFactory: transports call it when
// a client connects or initializes.
func (s *Server) NewSession(ctx context.Context, id string, standalone transport.Sink) (transport.Session, error) {
	ss, err := s.newSession(id, standalone)
	if err != nil {
		return nil, err
	}
	return ss, nil
}

func (s *Server) newSession(id string, standalone transport.Sink) (*ServerSession, error) {
	s.mu.Lock()
	if s.opts.MaxSessions > 0 && len(s.sessions) >= s.opts.MaxSessions {
		s.mu.Unlock()
		return nil, transport.ErrSessionLimit
	}
	ss := newServerSession(s, id, standalone)
	s.sessions[ss] = struct{}{}
	s.mu.Unlock()
	if s.opts.KeepAlive > 0 && id == "" && standalone != nil {
		go ss.keepAlive(s.opts.KeepAlive) // stdio sessions have no id
	}
	if s.opts.OnSessionStart != nil {
		s.opts.OnSessionStart(ss)
	}
	return ss, nil
}

func (s *Server) forgetSession(ss *ServerSession) {
	s.mu.Lock()
	_, ok := s.sessions[ss]
	delete(s.sessions, ss)
	s.mu.Unlock()
	if s.tasks != nil {
		// Nobody can reach the tasks the session owned any more.
		s.tasks.forgetOwner(ss.ownerID())
	}
	if ok && s.opts.OnSessionEnd != nil {
		s.opts.OnSessionEnd(ss)
	}
}

// Sessions returns the live sessions, in no particular order.
func (s *Server) Sessions() iter.Seq[*ServerSession] {
	s.mu.RLock()
	list := slices.Collect(maps.Keys(s.sessions))
	s.mu.RUnlock()
	return slices.Values(list)
}

// capabilities returns what the server advertises to a client speaking
// version v.
func (s *Server) capabilities(v string) *protocol.ServerCapabilities {
	c := s.inferCapabilities(v)
	if s.opts.EditCapabilities != nil {
		s.opts.EditCapabilities(v, c)
	}
	return c
}

func (s *Server) inferCapabilities(v string) *protocol.ServerCapabilities {
	if s.opts.Capabilities != nil {
		c := *s.opts.Capabilities
		c.Extensions = maps.Clone(c.Extensions)
		c.Experimental = maps.Clone(c.Experimental)
		return &c
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	c := &protocol.ServerCapabilities{Logging: &protocol.LoggingCapability{}}
	if s.tools.len() > 0 {
		c.Tools = &protocol.ToolsCapability{ListChanged: true}
	}
	if s.resources.len() > 0 || s.templates.len() > 0 {
		c.Resources = &protocol.ResourcesCapability{ListChanged: true, Subscribe: true}
	}
	if s.prompts.len() > 0 {
		c.Prompts = &protocol.PromptsCapability{ListChanged: true}
	}
	if s.opts.Completion != nil || s.hasCompleters() {
		c.Completions = &protocol.CompletionsCapability{}
	}
	if protocol.AllowsTasks(v) && s.hasTaskTools() {
		c.Tasks = &protocol.ServerTasksCapability{
			List:     &protocol.EmptyCapability{},
			Cancel:   &protocol.EmptyCapability{},
			Requests: &protocol.ServerTaskRequests{Tools: &protocol.ServerTaskToolRequests{Call: &protocol.EmptyCapability{}}},
		}
	}
	return c
}

// batchState counts the Batch calls running and the list changes they
// hold back.
type batchState struct {
	depth   int
	changed []string // notification methods to send when the last batch ends
}

// Batch runs fn, which may add and remove tools, resources and prompts,
// and tells sessions of the changes once at the end: one
// notifications/tools/list_changed (and likewise for resources and
// prompts) however many changes fn made. Changes made by other goroutines
// while a batch runs are held back with it. Batches may nest; the
// notifications go out when the outermost ends.
func (s *Server) Batch(fn func()) {
	s.batchMu.Lock()
	s.batch.depth++
	s.batchMu.Unlock()
	defer func() {
		s.batchMu.Lock()
		s.batch.depth--
		var send []string
		if s.batch.depth == 0 {
			send, s.batch.changed = s.batch.changed, nil
		}
		s.batchMu.Unlock()
		for _, method := range send {
			s.broadcast(method, nil, nil)
		}
	}()
	fn()
}

// listChanged tells sessions that a list changed, now or at the end of
// the running Batch.
func (s *Server) listChanged(method string) {
	s.batchMu.Lock()
	if s.batch.depth > 0 {
		if !slices.Contains(s.batch.changed, method) {
			s.batch.changed = append(s.batch.changed, method)
		}
		s.batchMu.Unlock()
		return
	}
	s.batchMu.Unlock()
	s.broadcast(method, nil, nil)
}

// broadcast sends a notification to every initialized session and to the
// subscriptions/listen streams that asked for it.
func (s *Server) broadcast(method string, params any, filter func(*ServerSession) bool) {
	s.publish(method, params)
	for ss := range s.Sessions() {
		if !ss.initialized() || (filter != nil && !filter(ss)) {
			continue
		}
		if err := ss.notify(context.Background(), nil, method, params); err != nil {
			s.log.Debug("notification not delivered", "method", method, "session", ss.ID(), "err", err)
		}
	}
}

// ErrServerClosed is returned by serving methods after Close.
var ErrServerClosed = errors.New("mcp: server closed")

// Close ends every session.
func (s *Server) Close() error {
	for ss := range s.Sessions() {
		ss.Close()
	}
	if s.tasks != nil {
		s.tasks.close()
	}
	s.closeV2026()
	return nil
}
