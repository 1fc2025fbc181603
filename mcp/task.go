package mcp

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"sync"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport"
)

// Tasks (protocol revision 2025-11-25): a client may ask for a tools/call to
// run as a task. The server answers at once with a task handle and runs the
// tool in the background; the client polls tasks/get and fetches the
// outcome with tasks/result. A tool opts in through Tool.Execution.TaskSupport
// ("optional" or "required").
//
// Task state lives in a TaskStore; the running work lives in this process.
// A task is bound to its requestor (the session, or the authenticated
// principal when ServerOptions.TaskOwner says so): other requestors cannot
// see it.

// ErrTaskNotFound is returned by a TaskStore for an unknown or expired task.
var ErrTaskNotFound = errors.New("mcp: task not found")

// TaskRecord is what a TaskStore keeps of a task.
type TaskRecord struct {
	// Task is the task's state as reported to the requestor.
	Task protocol.Task
	// Result is the encoded result of the underlying request once the task
	// completed or failed with a result.
	Result jsontext.Value
	// Error is the protocol error the underlying request ended with, if any.
	Error *jsonrpc.Error
	// ExpiresAt is when the store may forget the task (zero: never).
	ExpiresAt time.Time
}

// TaskStore keeps task state. Implementations must be safe for concurrent
// use. Owner strings scope every operation: a task is only visible to the
// owner that created it.
type TaskStore interface {
	// Create stores a new task.
	Create(ctx context.Context, owner string, rec *TaskRecord) error
	// Get returns a copy of a task, or ErrTaskNotFound.
	Get(ctx context.Context, owner, id string) (*TaskRecord, error)
	// Update applies fn to a copy of the task and stores the result
	// atomically; fn's error aborts the update and is returned.
	Update(ctx context.Context, owner, id string, fn func(*TaskRecord) error) (*TaskRecord, error)
	// List returns the owner's tasks, oldest first, after cursor (an id
	// returned as next by an earlier call, or "").
	List(ctx context.Context, owner, cursor string, limit int) (tasks []*TaskRecord, next string, err error)
	// Delete forgets a task.
	Delete(ctx context.Context, owner, id string) error
}

// Defaults of the task bounds (ServerOptions.MaxTasksPerSession and
// MaxTasksPerClient).
const (
	DefaultMaxTasksPerSession = 64
	DefaultMaxTasksPerClient  = 256
)

// taskManager runs tasks in this process on behalf of one Server.
type taskManager struct {
	s     *Server
	store TaskStore

	mu        sync.Mutex
	running   map[string]*task
	bySession map[*ServerSession]int // running tasks of 2025-11-25 and of 2026-07-28
	byClient  map[string]int
	wg        sync.WaitGroup
	closed    bool
}

// admit reserves room for a task started by a request of session ss (nil
// for a stateless request) with context ctx: within the server's bounds on
// running tasks per session and per client, and within the transport's
// bounds on work in flight. It returns the function that gives the room
// back when the task ends.
func (m *taskManager) admit(ctx context.Context, ss *ServerSession) (release func(), err error) {
	var client string
	var adm transport.Admitter
	if info := transport.RequestInfoFrom(ctx); info != nil {
		client, adm = info.Client, info.Admitter
	}
	opts := &m.s.opts
	m.mu.Lock()
	switch {
	case ss != nil && opts.MaxTasksPerSession > 0 && m.bySession[ss] >= opts.MaxTasksPerSession:
		m.mu.Unlock()
		return nil, jsonrpc.ErrInternal("too many tasks running for this session (limit %d); retry when one ends", opts.MaxTasksPerSession)
	case client != "" && opts.MaxTasksPerClient > 0 && m.byClient[client] >= opts.MaxTasksPerClient:
		m.mu.Unlock()
		return nil, jsonrpc.ErrInternal("too many tasks running for this client (limit %d); retry when one ends", opts.MaxTasksPerClient)
	}
	if m.bySession == nil {
		m.bySession, m.byClient = make(map[*ServerSession]int), make(map[string]int)
	}
	if ss != nil {
		m.bySession[ss]++
	}
	if client != "" {
		m.byClient[client]++
	}
	m.mu.Unlock()
	var transportRelease func()
	if adm != nil {
		if transportRelease, err = adm.Admit(client); err != nil {
			m.unadmit(ss, client)
			return nil, jsonrpc.ErrInternal("cannot start the task: the server is busy (too much work in flight); retry later")
		}
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			m.unadmit(ss, client)
			if transportRelease != nil {
				transportRelease()
			}
		})
	}, nil
}

func (m *taskManager) unadmit(ss *ServerSession, client string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if ss != nil {
		if m.bySession[ss]--; m.bySession[ss] <= 0 {
			delete(m.bySession, ss)
		}
	}
	if client != "" {
		if m.byClient[client]--; m.byClient[client] <= 0 {
			delete(m.byClient, client)
		}
	}
}

// forgetOwner deletes the records of owner's tasks: those of a session
// that ended, which no one can reach any more.
func (m *taskManager) forgetOwner(owner string) {
	if d, ok := m.store.(interface{ deleteOwner(string) }); ok {
		d.deleteOwner(owner)
		return
	}
	ctx := context.Background()
	for {
		recs, _, err := m.store.List(ctx, owner, "", 100)
		if err != nil || len(recs) == 0 {
			if err != nil {
				m.s.log.Warn("listing the tasks of an ended session", "owner", owner, "err", err)
			}
			return
		}
		for _, rec := range recs {
			if err := m.store.Delete(ctx, owner, rec.Task.TaskID); err != nil && !errors.Is(err, ErrTaskNotFound) {
				m.s.log.Warn("deleting a task of an ended session", "owner", owner, "err", err)
				return
			}
		}
	}
}

// task is a running task: its cancel function and the messages it has for
// its requestor.
type task struct {
	id, owner string
	mgr       *taskManager
	cancel    context.CancelFunc
	done      chan struct{}

	mu       sync.Mutex
	queue    [][]byte       // messages waiting for a tasks/result stream
	outlet   transport.Sink // the tasks/result stream attached now
	waitings int            // requests to the client awaiting answers
}

func (s *Server) taskManager() *taskManager {
	s.tasksOnce.Do(func() {
		store := s.opts.TaskStore
		if store == nil {
			store = NewMemoryTaskStore()
		}
		s.tasks = &taskManager{s: s, store: store, running: make(map[string]*task)}
	})
	return s.tasks
}

func (s *Server) hasTaskTools() bool {
	for _, st := range s.tools.all() {
		if ts := taskSupport(st.tool); ts == protocol.TaskSupportOptional || ts == protocol.TaskSupportRequired {
			return true
		}
	}
	return false
}

func taskSupport(t *protocol.Tool) protocol.TaskSupport {
	if t.Execution == nil || t.Execution.TaskSupport == "" {
		return protocol.TaskSupportForbidden
	}
	return t.Execution.TaskSupport
}

// checkTaskSupport enforces the tool-level task negotiation rules.
func (s *Server) checkTaskSupport(r *Request, st *serverTool, p *protocol.CallToolRequestParams) (any, error) {
	ts := taskSupport(st.tool)
	if !protocol.AllowsTasks(r.peer.version) {
		if p.Task != nil {
			p.Task = nil // older revisions have no tasks: ignore the field
		}
		return nil, nil
	}
	switch {
	case p.Task != nil && ts == protocol.TaskSupportForbidden:
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeMethodNotFound, Message: "tool " + p.Name + " does not support task-augmented calls"}
	case p.Task == nil && ts == protocol.TaskSupportRequired:
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeMethodNotFound, Message: "tool " + p.Name + " must be called as a task"}
	case p.Task != nil && r.Session == nil:
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidRequest, Message: "task-augmented calls need a session"}
	}
	return nil, nil
}

func (s *Server) taskOwner(ctx context.Context, r *Request) string {
	if s.opts.TaskOwner != nil {
		if o := s.opts.TaskOwner(ctx, r); o != "" {
			return o
		}
	}
	if r.Session == nil {
		return ""
	}
	return r.Session.ownerID()
}

func newTaskID() string {
	var b [18]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (s *Server) startToolTask(ctx context.Context, r *Request, st *serverTool, p *protocol.CallToolRequestParams) (any, error) {
	m := s.taskManager()
	now := time.Now().UTC()
	ttl := s.opts.DefaultTaskTTL
	if p.Task.TTL != nil && *p.Task.TTL > 0 {
		ttl = min(time.Duration(*p.Task.TTL)*time.Millisecond, s.opts.DefaultTaskTTL)
	}
	ttlMS := ttl.Milliseconds()
	owner := s.taskOwner(ctx, r)
	release, err := m.admit(ctx, r.Session)
	if err != nil {
		return nil, err
	}
	rec := &TaskRecord{
		Task: protocol.Task{
			TaskID:        newTaskID(),
			Status:        protocol.TaskStatusWorking,
			CreatedAt:     now.Format(time.RFC3339Nano),
			LastUpdatedAt: now.Format(time.RFC3339Nano),
			TTL:           &ttlMS,
			PollInterval:  s.opts.TaskPollInterval.Milliseconds(),
		},
		ExpiresAt: now.Add(ttl),
	}
	if err := m.store.Create(ctx, owner, rec); err != nil {
		release()
		return nil, jsonrpc.ErrInternal("creating the task: %v", err)
	}

	// The task outlives the request that created it, but not its session;
	// it keeps the request's values (auth info, transport info).
	tctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(r.Session.ctx, cancel)
	t := &task{id: rec.Task.TaskID, owner: owner, mgr: m, cancel: cancel, done: make(chan struct{})}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		cancel()
		stop()
		release()
		return nil, jsonrpc.ErrInternal("server is shutting down")
	}
	m.running[t.id] = t
	m.wg.Add(1)
	m.mu.Unlock()

	tr := &Request{Method: r.Method, Params: r.Params, ID: r.ID, Session: r.Session, sink: taskSink{t}, peer: r.peer, task: t}
	tr.setMeta(r.Meta())
	tctx = context.WithValue(tctx, requestKey{}, tr)
	call := *p
	call.Task = nil
	go func() {
		defer m.wg.Done()
		defer release()
		defer stop()
		defer cancel()
		res, err := runTool(tctx, tr, st, &call)
		m.finish(t, r.Session, res, err)
	}()
	return &protocol.CreateTaskResult{Task: rec.Task}, nil
}

// finish records the outcome of a task's work and tells the requestor.
func (m *taskManager) finish(t *task, ss *ServerSession, res *protocol.CallToolResult, err error) {
	ctx := context.Background()
	updated, uerr := m.store.Update(ctx, t.owner, t.id, func(rec *TaskRecord) error {
		if isTerminal(rec.Task.Status) {
			return errTerminal // cancelled meanwhile: stays cancelled
		}
		switch {
		case err != nil:
			rec.Task.Status = protocol.TaskStatusFailed
			rec.Error = toJSONRPCError(err)
			rec.Task.StatusMessage = rec.Error.Message
		default:
			b, merr := json.Marshal(res)
			if merr != nil {
				rec.Task.Status = protocol.TaskStatusFailed
				rec.Error = jsonrpc.ErrInternal("encoding the result: %v", merr)
				rec.Task.StatusMessage = rec.Error.Message
				break
			}
			rec.Result = b
			rec.Task.Status = protocol.TaskStatusCompleted
			if res.IsError {
				rec.Task.Status = protocol.TaskStatusFailed
				rec.Task.StatusMessage = "the tool reported an error"
			}
		}
		rec.Task.LastUpdatedAt = time.Now().UTC().Format(time.RFC3339Nano)
		return nil
	})
	m.mu.Lock()
	delete(m.running, t.id)
	m.mu.Unlock()
	close(t.done)
	if ss != nil && ss.ctx.Err() != nil && t.owner == ss.ownerID() {
		// The session ended (and forgot its tasks) while this one ran.
		_ = m.store.Delete(ctx, t.owner, t.id)
		return
	}
	if uerr == nil {
		m.notifyStatus(ss, updated)
	}
}

var errTerminal = errors.New("mcp: task already in a terminal status")

func isTerminal(s protocol.TaskStatus) bool {
	return s == protocol.TaskStatusCompleted || s == protocol.TaskStatusFailed || s == protocol.TaskStatusCancelled
}

func (m *taskManager) notifyStatus(ss *ServerSession, rec *TaskRecord) {
	if ss == nil {
		return
	}
	p := protocol.TaskStatusNotificationParams{Task: rec.Task}
	if err := ss.notify(context.Background(), nil, protocol.NotificationTasksStatus, &p); err != nil {
		m.s.log.Debug("task status not delivered", "task", rec.Task.TaskID, "err", err)
	}
}

func (m *taskManager) setStatus(t *task, ss *ServerSession, from, to protocol.TaskStatus) {
	updated, err := m.store.Update(context.Background(), t.owner, t.id, func(rec *TaskRecord) error {
		if rec.Task.Status != from {
			return errTerminal
		}
		rec.Task.Status = to
		rec.Task.LastUpdatedAt = time.Now().UTC().Format(time.RFC3339Nano)
		return nil
	})
	if err == nil {
		m.notifyStatus(ss, updated)
	}
}

func (m *taskManager) get(id string) *task {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.running[id]
}

func (m *taskManager) close() {
	m.mu.Lock()
	m.closed = true
	for _, t := range m.running {
		t.cancel()
	}
	m.mu.Unlock()
	m.wg.Wait()
}

// relatedMeta is the _meta that ties a message to the task.
func (t *task) relatedMeta() protocol.Meta {
	return protocol.Meta{protocol.MetaRelatedTask: map[string]any{"taskId": t.id}}
}

// taskSink queues a task's messages until a tasks/result stream takes them.
type taskSink struct{ t *task }

func (s taskSink) Send(ctx context.Context, msg []byte) error {
	t := s.t
	t.mu.Lock()
	out := t.outlet
	if out == nil {
		if len(t.queue) >= maxTaskQueue && !t.makeRoomLocked(msg) {
			t.mu.Unlock()
			if isNotificationFrame(msg) {
				// Progress and log messages are best effort: a requestor
				// that only polls tasks/get must not make the task fail.
				return nil
			}
			return errors.New("mcp: task message queue full")
		}
		t.queue = append(t.queue, msg)
		t.mu.Unlock()
		return nil
	}
	t.mu.Unlock()
	if err := out.Send(ctx, msg); err != nil {
		t.mu.Lock()
		t.queue = append(t.queue, msg)
		if t.outlet == out {
			t.outlet = nil
		}
		t.mu.Unlock()
	}
	return nil
}

const maxTaskQueue = 1024

// makeRoomLocked makes room in the full queue for a request by dropping
// the oldest notification. It reports whether there is room now; it never
// drops anything for a notification. The caller holds t.mu.
func (t *task) makeRoomLocked(msg []byte) bool {
	if isNotificationFrame(msg) {
		return false
	}
	for i, q := range t.queue {
		if isNotificationFrame(q) {
			t.queue = append(t.queue[:i], t.queue[i+1:]...)
			return true
		}
	}
	return false
}

// isNotificationFrame reports whether an encoded message is a notification.
func isNotificationFrame(msg []byte) bool {
	m, err := jsonrpc.Decode(msg)
	if err != nil {
		return false
	}
	r, ok := m.(*jsonrpc.Request)
	return ok && r.IsNotification()
}

// attach makes sink the task's outlet and flushes queued messages to it.
func (t *task) attach(ctx context.Context, sink transport.Sink) {
	t.mu.Lock()
	queue := t.queue
	t.queue = nil
	t.outlet = sink
	t.mu.Unlock()
	for i, msg := range queue {
		if err := sink.Send(ctx, msg); err != nil {
			t.mu.Lock()
			t.queue = append(queue[i:], t.queue...)
			t.outlet = nil
			t.mu.Unlock()
			return
		}
	}
}

func (t *task) detach(sink transport.Sink) {
	t.mu.Lock()
	if t.outlet == sink {
		t.outlet = nil
	}
	t.mu.Unlock()
}

// call sends a request to the client on behalf of the task: the task is
// input_required until the answer comes.
func (t *task) call(ctx context.Context, ss *ServerSession, method string, params, result any) error {
	params = withRelatedTask(params, t)
	t.mu.Lock()
	t.waitings++
	first := t.waitings == 1
	t.mu.Unlock()
	if first {
		t.mgr.setStatus(t, ss, protocol.TaskStatusWorking, protocol.TaskStatusInputRequired)
	}
	err := ss.call(ctx, taskSink{t}, method, params, result)
	t.mu.Lock()
	t.waitings--
	last := t.waitings == 0
	t.mu.Unlock()
	if last {
		t.mgr.setStatus(t, ss, protocol.TaskStatusInputRequired, protocol.TaskStatusWorking)
	}
	return err
}

// withRelatedTask adds the related-task _meta to request params.
func withRelatedTask(params any, t *task) any {
	switch p := params.(type) {
	case *protocol.ElicitRequestParams:
		c := *p
		c.Meta = mergeMeta(c.Meta, t.relatedMeta())
		return &c
	case *protocol.CreateMessageRequestParams:
		c := *p
		c.Meta = mergeMeta(c.Meta, t.relatedMeta())
		return &c
	case *protocol.ListRootsRequestParams:
		c := *p
		c.Meta = mergeMeta(c.Meta, t.relatedMeta())
		return &c
	}
	return params
}

func mergeMeta(a, b protocol.Meta) protocol.Meta {
	out := make(protocol.Meta, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// taskMethod serves tasks/get, tasks/result and tasks/cancel.
func (s *Server) taskMethod(ctx context.Context, r *Request, id string) (any, error) {
	if r.Session == nil || !protocol.AllowsTasks(r.peer.version) {
		return nil, jsonrpc.ErrMethodNotFound(r.Method)
	}
	m := s.taskManager()
	owner := s.taskOwner(ctx, r)
	rec, err := m.store.Get(ctx, owner, id)
	if err != nil {
		return nil, taskLookupError(err)
	}
	switch r.Method {
	case protocol.MethodTasksGet:
		return &protocol.GetTaskResult{Task: rec.Task}, nil
	case protocol.MethodTasksCancel:
		if isTerminal(rec.Task.Status) {
			return nil, jsonrpc.ErrInvalidParams("task %s is already %s", id, rec.Task.Status)
		}
		updated, err := m.store.Update(ctx, owner, id, func(rec *TaskRecord) error {
			if isTerminal(rec.Task.Status) {
				return errTerminal
			}
			rec.Task.Status = protocol.TaskStatusCancelled
			rec.Task.StatusMessage = "cancelled at the requestor's request"
			rec.Task.LastUpdatedAt = time.Now().UTC().Format(time.RFC3339Nano)
			return nil
		})
		if errors.Is(err, errTerminal) {
			return nil, jsonrpc.ErrInvalidParams("task %s already reached a terminal status", id)
		}
		if err != nil {
			return nil, taskLookupError(err)
		}
		if t := m.get(id); t != nil {
			t.cancel()
		}
		m.notifyStatus(r.Session, updated)
		return &protocol.CancelTaskResult{Task: updated.Task}, nil
	}
	// tasks/result: wait for a terminal status, relaying the task's
	// messages (such as elicitation requests) on this request's stream.
	if !isTerminal(rec.Task.Status) {
		if t := m.get(id); t != nil {
			t.attach(ctx, r.sink)
			select {
			case <-t.done:
			case <-ctx.Done():
				t.detach(r.sink)
				return nil, ctx.Err()
			}
			t.detach(r.sink)
		}
		if rec, err = m.store.Get(ctx, owner, id); err != nil {
			return nil, taskLookupError(err)
		}
		if !isTerminal(rec.Task.Status) {
			return nil, jsonrpc.ErrInternal("task %s is no longer running in this server", id)
		}
	}
	if rec.Error != nil {
		return nil, rec.Error
	}
	if rec.Result == nil {
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "task " + id + " was cancelled"}
	}
	return withResultMeta(rec.Result, protocol.Meta{protocol.MetaRelatedTask: map[string]any{"taskId": id}})
}

func taskLookupError(err error) error {
	if errors.Is(err, ErrTaskNotFound) {
		return jsonrpc.ErrInvalidParams("failed to retrieve task: task not found")
	}
	return jsonrpc.ErrInternal("task store: %v", err)
}

// withResultMeta adds keys to the _meta of an encoded result object.
func withResultMeta(result jsontext.Value, meta protocol.Meta) (any, error) {
	var obj map[string]jsontext.Value
	if err := json.Unmarshal(result, &obj); err != nil {
		return nil, jsonrpc.ErrInternal("stored task result is not an object")
	}
	var existing protocol.Meta
	if raw, ok := obj["_meta"]; ok {
		_ = json.Unmarshal(raw, &existing)
	}
	b, err := json.Marshal(mergeMeta(existing, meta))
	if err != nil {
		return nil, err
	}
	obj["_meta"] = b
	return obj, nil
}

func (s *Server) listTasks(ctx context.Context, r *Request, cursor string) (any, error) {
	if r.Session == nil || !protocol.AllowsTasks(r.peer.version) {
		return nil, jsonrpc.ErrMethodNotFound(r.Method)
	}
	m := s.taskManager()
	var after string
	if cursor != "" {
		var err error
		if after, err = decodeCursor(cursor); err != nil {
			return nil, err
		}
	}
	recs, next, err := m.store.List(ctx, s.taskOwner(ctx, r), after, s.opts.PageSize)
	if err != nil {
		if errors.Is(err, ErrTaskNotFound) {
			return nil, jsonrpc.ErrInvalidParams("invalid cursor")
		}
		return nil, jsonrpc.ErrInternal("task store: %v", err)
	}
	res := &protocol.ListTasksResult{Tasks: make([]protocol.Task, len(recs))}
	for i, rec := range recs {
		res.Tasks[i] = rec.Task
	}
	if next != "" {
		res.NextCursor = encodeCursor(next)
	}
	return res, nil
}
