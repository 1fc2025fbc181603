package mcp

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport"
)

// The tasks extension (io.modelcontextprotocol/tasks) of revision
// 2026-07-28. Tasks left the core protocol: the server decides per request
// whether a tools/call becomes a task, and answers with a task handle
// (resultType "task") without any opt-in on the request, provided the
// client declared the extension in the request's capabilities. The client
// polls tasks/get, which carries the final result or error inline (there
// is no tasks/result and no tasks/list), answers the task's input requests
// with tasks/update, and may cancel it with tasks/cancel.
//
// A tool becomes a task when it declares task support
// (Tool.Execution.TaskSupport optional or required) and the client
// declares the extension; a tool that requires tasks refuses clients that
// do not (-32021). Task state lives in the same TaskStore as 2025-11-25
// tasks; the work, and the input requests it is waiting on, live in this
// process. A task is reachable by its id (an unguessable bearer) and, when
// ServerOptions.TaskOwner names a principal, only by that principal.

// modernTask is a running task of the tasks extension.
type modernTask struct {
	s      *Server
	id     string
	owner  string
	cancel context.CancelFunc

	mu          sync.Mutex
	seq         int
	issued      map[string]bool           // input keys ever issued
	outstanding protocol.InputRequests    // input requests waiting for answers
	answers     map[string]jsontext.Value // answers to outstanding requests
	wake        chan struct{}             // closed when answers arrive
}

func (t *modernTask) nextKey(method string) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.seq++
	return fmt.Sprintf("%s-%d", inputKind(method), t.seq)
}

// input publishes input requests on the task (status input_required) and
// waits for tasks/update to answer all of them.
func (t *modernTask) input(ctx context.Context, reqs protocol.InputRequests) (protocol.InputResponses, error) {
	wire := make(map[string]string, len(reqs)) // caller's key -> key on the wire
	t.mu.Lock()
	if t.issued == nil {
		t.issued, t.outstanding, t.answers = map[string]bool{}, protocol.InputRequests{}, map[string]jsontext.Value{}
		t.wake = make(chan struct{})
	}
	for _, k := range slices.Sorted(maps.Keys(reqs)) {
		w := k
		for t.issued[w] {
			// Keys are unique over the task's lifetime.
			t.seq++
			w = fmt.Sprintf("%s.%d", k, t.seq)
		}
		t.issued[w] = true
		wire[k] = w
		in := reqs[k]
		if in.Method == protocol.MethodElicitationCreate || in.Method == protocol.MethodSamplingCreateMessage {
			// Strip members 2026-07-28 has no place for.
			var p any
			if in.Method == protocol.MethodElicitationCreate {
				p = new(protocol.ElicitRequestParams)
			} else {
				p = new(protocol.CreateMessageRequestParams)
			}
			if json.Unmarshal(in.Params, p, protocol.UnionUnmarshalers) == nil {
				if c, err := inputRequestFor(in.Method, p); err == nil {
					in = c
				}
			}
		}
		t.outstanding[w] = in
	}
	t.mu.Unlock()
	t.s.setModernTaskStatus(t, protocol.TaskStatusWorking, protocol.TaskStatusInputRequired)

	out := make(protocol.InputResponses, len(reqs))
	for {
		t.mu.Lock()
		done := true
		for k, w := range wire {
			if a, ok := t.answers[w]; ok {
				out[k] = a
			} else {
				done = false
			}
		}
		if done {
			for _, w := range wire {
				delete(t.outstanding, w)
				delete(t.answers, w)
			}
			idle := len(t.outstanding) == 0
			t.mu.Unlock()
			if idle {
				t.s.setModernTaskStatus(t, protocol.TaskStatusInputRequired, protocol.TaskStatusWorking)
			}
			for k, a := range out {
				if err := checkAnswer(k, reqs[k].Method, a); err != nil {
					return nil, err
				}
			}
			return out, nil
		}
		wake := t.wake
		t.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// update delivers tasks/update answers; answers to keys that are not
// outstanding are ignored.
func (t *modernTask) update(resps map[string]jsontext.Value) {
	t.mu.Lock()
	defer t.mu.Unlock()
	got := false
	for k, v := range resps {
		if _, ok := t.outstanding[k]; !ok {
			continue
		}
		if _, dup := t.answers[k]; dup {
			continue
		}
		t.answers[k] = v
		got = true
	}
	if got {
		close(t.wake)
		t.wake = make(chan struct{})
	}
}

// pendingInput returns the input requests still waiting for an answer
// (a partial tasks/update removes the answered ones).
func (t *modernTask) pendingInput() protocol.InputRequests {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out protocol.InputRequests
	for k, in := range t.outstanding {
		if _, answered := t.answers[k]; answered {
			continue
		}
		if out == nil {
			out = protocol.InputRequests{}
		}
		out[k] = in
	}
	return out
}

// callToolModern serves a stateless tools/call: Mcp-Param header checks,
// then either a task of the tasks extension or an ordinary call.
func (s *Server) callToolModern(ctx context.Context, r *Request, name string, args jsontext.Value) (any, error) {
	s.mu.RLock()
	st, ok := s.tools.get(name)
	s.mu.RUnlock()
	if !ok {
		return s.dispatch(ctx, r)
	}
	if info := transport.RequestInfoFrom(ctx); info != nil && info.Header != nil {
		if err := s.checkParamHeaders(st.tool, info.Header, args); err != nil {
			return nil, err
		}
	}
	ts := taskSupport(st.tool)
	clientTasks := hasTasksExtension(&r.peer.caps)
	switch {
	case ts == protocol.TaskSupportRequired && !clientTasks:
		return nil, tasksCapabilityError("tool " + name + " runs only as a task, which needs the " + protocol.ExtensionTasks + " extension")
	case (ts == protocol.TaskSupportRequired || ts == protocol.TaskSupportOptional) && clientTasks && st.taskAfterInput:
		d := &deferredTask{s: s, st: st}
		r.v26.deferred = d
		res, err := s.dispatch(ctx, r)
		if d.state != nil {
			return d.state, nil
		}
		return res, err
	case (ts == protocol.TaskSupportRequired || ts == protocol.TaskSupportOptional) && clientTasks:
		return s.startModernTask(ctx, r, st)
	}
	return s.dispatch(ctx, r)
}

// errTaskStarted is what Request.StartTask returns to the handler when
// the call became a task: the handler returns it, and the call is
// answered with the task's handle.
var errTaskStarted = errors.New("mcp: the call continues as a task")

// StartTask continues a tools/call as a task of the tasks extension
// (revision 2026-07-28): fn, the rest of the handler's work, runs in the
// background with a request of its own (tr, whose input requests go to the
// task, answered with tasks/update), and the call is answered with the
// task's handle. The handler returns what StartTask returns. It is for
// tools registered with WithTaskAfterInput, which may gather input
// through multi round-trip requests before they call it; the task's
// result is fn's.
//
// Everywhere else (another revision, a client that did not declare the
// extension, a tool without the option, a call that is already a task)
// StartTask runs fn at once, on the handler's goroutine, with r, and
// returns its result.
func (r *Request) StartTask(ctx context.Context, fn func(ctx context.Context, tr *Request) (*protocol.CallToolResult, error)) (*protocol.CallToolResult, error) {
	if r.v26 == nil || r.v26.deferred == nil || r.v26.deferred.state != nil {
		return fn(ctx, r)
	}
	d := r.v26.deferred
	p, err := decodeParams[protocol.CallToolRequestParams](r)
	if err != nil {
		return nil, err
	}
	state, err := d.s.startModernTaskWith(ctx, r, p, func(tctx context.Context, tr *Request, call *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
		res, err := fn(tctx, tr)
		if err != nil {
			if je, ok := protocolError(err); ok {
				return nil, je
			}
			if tctx.Err() != nil && errors.Is(err, tctx.Err()) {
				return nil, err
			}
			return ErrorResult(err), nil
		}
		if res == nil {
			res = &protocol.CallToolResult{}
		}
		if res.Content == nil && res.Raw == nil {
			res.Content = []protocol.Content{}
		}
		return res, nil
	})
	if err != nil {
		return nil, err
	}
	d.state = state
	return nil, errTaskStarted
}

// startModernTask creates a task for a tools/call and runs the tool in the
// background.
func (s *Server) startModernTask(ctx context.Context, r *Request, st *serverTool) (any, error) {
	p, err := decodeParams[protocol.CallToolRequestParams](r)
	if err != nil {
		return nil, err
	}
	return s.startModernTaskWith(ctx, r, p, func(tctx context.Context, tr *Request, call *protocol.CallToolRequestParams) (*protocol.CallToolResult, error) {
		return runTool(tctx, tr, st, call)
	})
}

// startModernTaskWith creates a task for the tools/call r (params p) and
// runs run in the background, with the task's context and request.
func (s *Server) startModernTaskWith(ctx context.Context, r *Request, p *protocol.CallToolRequestParams, run func(context.Context, *Request, *protocol.CallToolRequestParams) (*protocol.CallToolResult, error)) (any, error) {
	r.setMeta(p.Meta)
	release, err := s.taskManager().admit(ctx, nil)
	if err != nil {
		return nil, err
	}
	store := s.taskManager().store
	now := time.Now().UTC()
	ttl := s.opts.DefaultTaskTTL
	ttlMS := ttl.Milliseconds()
	owner := s.taskOwner(ctx, r)
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
	if err := store.Create(ctx, owner, rec); err != nil {
		release()
		return nil, jsonrpc.ErrInternal("creating the task: %v", err)
	}
	// The task outlives the request that created it, keeping its values
	// (authentication, transport information); it ends with the Server.
	tctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	t := &modernTask{s: s, id: rec.Task.TaskID, owner: owner, cancel: cancel}
	s.v26.mu.Lock()
	if s.v26.closed {
		s.v26.mu.Unlock()
		cancel()
		release()
		return nil, jsonrpc.ErrInternal("server is shutting down")
	}
	if s.v26.tasks == nil {
		s.v26.tasks = make(map[string]*modernTask)
	}
	s.v26.tasks[t.id] = t
	s.v26.tasksWG.Add(1)
	s.v26.mu.Unlock()

	call := *p
	call.InputResponses, call.RequestState, call.Task = nil, "", nil
	tr := &Request{Method: r.Method, Params: r.Params, ID: r.ID, peer: r.peer,
		v26: &requestV2026{dispatching: true, task: t}}
	tr.setMeta(p.Meta)
	tctx = context.WithValue(tctx, requestKey{}, tr)
	go func() {
		defer s.v26.tasksWG.Done()
		defer release()
		defer cancel()
		res, err := run(tctx, tr, &call)
		s.finishModernTask(t, res, err)
	}()
	state := s.taskState(rec, nil)
	state.ResultType = protocol.ResultTypeTask
	return state, nil
}

// finishModernTask records a task's outcome: completed with the tool's
// result (even one with isError set), failed with a protocol error.
func (s *Server) finishModernTask(t *modernTask, res *protocol.CallToolResult, err error) {
	var result jsontext.Value
	if err == nil {
		b, derr := s.decorate(&Request{Method: protocol.MethodToolsCall}, protocol.ModernMethodInfo{}, res)
		if derr != nil {
			err = derr
		}
		result = b
	}
	updated, uerr := s.taskManager().store.Update(context.Background(), t.owner, t.id, func(rec *TaskRecord) error {
		if isTerminal(rec.Task.Status) {
			return errTerminal
		}
		if err != nil {
			rec.Task.Status = protocol.TaskStatusFailed
			rec.Error = toJSONRPCError(err)
			rec.Task.StatusMessage = rec.Error.Message
		} else {
			rec.Task.Status = protocol.TaskStatusCompleted
			rec.Result = result
		}
		rec.Task.LastUpdatedAt = time.Now().UTC().Format(time.RFC3339Nano)
		return nil
	})
	s.v26.mu.Lock()
	delete(s.v26.tasks, t.id)
	s.v26.mu.Unlock()
	if uerr == nil {
		s.publish(protocol.NotificationTasks, s.taskState(updated, nil))
	}
}

// setModernTaskStatus moves a task between working and input_required.
func (s *Server) setModernTaskStatus(t *modernTask, from, to protocol.TaskStatus) {
	updated, err := s.taskManager().store.Update(context.Background(), t.owner, t.id, func(rec *TaskRecord) error {
		if rec.Task.Status != from {
			return errTerminal
		}
		rec.Task.Status = to
		rec.Task.LastUpdatedAt = time.Now().UTC().Format(time.RFC3339Nano)
		return nil
	})
	if err == nil {
		s.publish(protocol.NotificationTasks, s.taskState(updated, t))
	}
}

// taskState is the DetailedTask of a stored task; t, if the task is
// running here, supplies its outstanding input requests.
func (s *Server) taskState(rec *TaskRecord, t *modernTask) *protocol.TaskState {
	st := &protocol.TaskState{
		TaskID:         rec.Task.TaskID,
		Status:         rec.Task.Status,
		StatusMessage:  rec.Task.StatusMessage,
		CreatedAt:      rec.Task.CreatedAt,
		LastUpdatedAt:  rec.Task.LastUpdatedAt,
		TTLMs:          rec.Task.TTL,
		PollIntervalMs: rec.Task.PollInterval,
	}
	switch rec.Task.Status {
	case protocol.TaskStatusCompleted:
		st.Result = rec.Result
	case protocol.TaskStatusFailed:
		st.Error = rec.Error
		if st.Error == nil {
			st.Error = jsonrpc.ErrInternal("the task failed")
		}
	case protocol.TaskStatusInputRequired:
		if t == nil {
			s.v26.mu.Lock()
			t = s.v26.tasks[rec.Task.TaskID]
			s.v26.mu.Unlock()
		}
		if t != nil {
			st.InputRequests = t.pendingInput()
		}
		if st.InputRequests == nil {
			// Between two input requests: nothing to answer right now.
			st.InputRequests = protocol.InputRequests{}
		}
	}
	return st
}

// modernTaskMethod serves tasks/get, tasks/update and tasks/cancel of the
// tasks extension.
func (s *Server) modernTaskMethod(ctx context.Context, r *Request) (any, error) {
	if !hasTasksExtension(&r.peer.caps) {
		return nil, tasksCapabilityError(r.Method + " needs the " + protocol.ExtensionTasks + " extension")
	}
	var p struct {
		TaskID         string         `json:"taskId"`
		InputResponses jsontext.Value `json:"inputResponses"`
	}
	if len(r.Params) > 0 {
		if err := json.Unmarshal(r.Params, &p); err != nil {
			return nil, jsonrpc.ErrInvalidParams("invalid params for %s: %v", r.Method, paramsError(err))
		}
	}
	if p.TaskID == "" {
		return nil, jsonrpc.ErrInvalidParams("%s needs a taskId", r.Method)
	}
	store := s.taskManager().store
	owner := s.taskOwner(ctx, r)
	rec, err := store.Get(ctx, owner, p.TaskID)
	if err != nil {
		if errors.Is(err, ErrTaskNotFound) {
			return nil, jsonrpc.ErrInvalidParams("Failed to retrieve task: Task not found")
		}
		return nil, jsonrpc.ErrInternal("task store: %v", err)
	}
	s.v26.mu.Lock()
	t := s.v26.tasks[p.TaskID]
	s.v26.mu.Unlock()
	switch r.Method {
	case protocol.MethodTasksGet:
		st := s.taskState(rec, t)
		st.ResultType = protocol.ResultTypeComplete
		return st, nil
	case protocol.MethodTasksUpdate:
		if len(p.InputResponses) == 0 || p.InputResponses.Kind() != '{' {
			return nil, jsonrpc.ErrInvalidParams("tasks/update needs inputResponses, an object")
		}
		var resps map[string]jsontext.Value
		if err := json.Unmarshal(p.InputResponses, &resps); err != nil {
			return nil, jsonrpc.ErrInvalidParams("invalid inputResponses: %v", paramsError(err))
		}
		for k, v := range resps {
			if v.Kind() != '{' {
				return nil, jsonrpc.ErrInvalidParams("inputResponses[%s] must be an object", jsonrpc.QuoteElided(k, jsonrpc.EchoLimit))
			}
		}
		if t != nil {
			t.update(resps)
		}
		return emptyResult{}, nil
	}
	// tasks/cancel: acknowledged whatever happens next (cooperative).
	if !isTerminal(rec.Task.Status) {
		updated, err := store.Update(ctx, owner, p.TaskID, func(rec *TaskRecord) error {
			if isTerminal(rec.Task.Status) {
				return errTerminal
			}
			rec.Task.Status = protocol.TaskStatusCancelled
			rec.Task.StatusMessage = "cancelled at the client's request"
			rec.Task.LastUpdatedAt = time.Now().UTC().Format(time.RFC3339Nano)
			return nil
		})
		if err == nil {
			if t != nil {
				t.cancel()
			}
			s.publish(protocol.NotificationTasks, s.taskState(updated, nil))
		}
	}
	return emptyResult{}, nil
}
