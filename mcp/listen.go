package mcp

import (
	"context"
	"slices"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/jsonrpc"
	"github.com/switchboard-mcp/switchboard/protocol"
)

// subscriptions/listen (revision 2026-07-28): the long-lived request whose
// response stream carries the change notifications a client opted in to.
// It replaces the standalone GET stream and resources/subscribe of earlier
// revisions. The subscription lives exactly as long as the request: it ends
// when the client closes the stream (HTTP) or cancels the request (stdio),
// or when the server closes, which answers the request with a result.

// listenerQueue bounds the notifications waiting for a slow subscriber;
// further ones are dropped (they are change hints the client can recover
// from by listing again).
const listenerQueue = 64

// listener is one open subscriptions/listen request.
type listener struct {
	id     jsonrpc.ID
	filter protocol.SubscriptionFilter
	ch     chan []byte
	done   chan struct{} // closed when the server shuts down
}

func (l *listener) wants(method string, params any) bool {
	f := &l.filter
	switch method {
	case protocol.NotificationToolsListChanged:
		return f.ToolsListChanged
	case protocol.NotificationPromptsListChanged:
		return f.PromptsListChanged
	case protocol.NotificationResourcesListChanged:
		return f.ResourcesListChanged
	case protocol.NotificationResourcesUpdated:
		p, ok := params.(*protocol.ResourceUpdatedNotificationParams)
		return ok && slices.Contains(f.ResourceSubscriptions, p.URI)
	case protocol.NotificationTasks:
		p, ok := params.(*protocol.TaskState)
		return ok && slices.Contains(f.TaskIDs, p.TaskID)
	}
	return false
}

func hasTasksExtension(c *protocol.ClientCapabilities) bool {
	_, ok := c.Extensions[protocol.ExtensionTasks]
	return ok
}

func tasksCapabilityError(message string) *jsonrpc.Error {
	return protocol.NewMissingRequiredClientCapabilityError(message,
		protocol.ClientCapabilities{Extensions: map[string]jsontext.Value{protocol.ExtensionTasks: jsontext.Value(`{}`)}})
}

// listen serves subscriptions/listen.
func (s *Server) listen(ctx context.Context, r *Request) (any, error) {
	var p protocol.SubscriptionsListenRequestParams
	if len(r.Params) > 0 {
		if err := json.Unmarshal(r.Params, &p); err != nil {
			return nil, jsonrpc.ErrInvalidParams("invalid params for %s: %v", r.Method, paramsError(err))
		}
	}
	want := p.Notifications
	if len(want.TaskIDs) > 0 && !hasTasksExtension(&r.peer.caps) {
		return nil, tasksCapabilityError("task notifications need the " + protocol.ExtensionTasks + " extension")
	}
	caps := s.capabilities(r.peer.version)
	var ack protocol.SubscriptionFilter
	ack.ToolsListChanged = want.ToolsListChanged && caps.Tools != nil && caps.Tools.ListChanged
	ack.PromptsListChanged = want.PromptsListChanged && caps.Prompts != nil && caps.Prompts.ListChanged
	ack.ResourcesListChanged = want.ResourcesListChanged && caps.Resources != nil && caps.Resources.ListChanged
	if caps.Resources != nil && caps.Resources.Subscribe {
		ack.ResourceSubscriptions = slices.Clone(want.ResourceSubscriptions)
	}
	ack.TaskIDs = slices.Clone(want.TaskIDs)
	if r.sink == nil {
		return nil, jsonrpc.ErrInternal("no stream to deliver notifications on")
	}

	l := &listener{id: r.ID, filter: ack, ch: make(chan []byte, listenerQueue)}
	s.v26.mu.Lock()
	if s.v26.closed {
		s.v26.mu.Unlock()
		return listenResult(r.ID), nil
	}
	if s.v26.listeners == nil {
		s.v26.listeners = make(map[*listener]struct{})
	}
	l.done = s.v26.closing()
	s.v26.listeners[l] = struct{}{}
	s.v26.mu.Unlock()
	defer func() {
		s.v26.mu.Lock()
		delete(s.v26.listeners, l)
		s.v26.mu.Unlock()
	}()

	ackMsg, err := subscriptionMessage(protocol.NotificationSubscriptionsAcknowledged,
		&protocol.SubscriptionsAcknowledgedNotificationParams{Notifications: ack}, r.ID)
	if err != nil {
		return nil, jsonrpc.ErrInternal("%v", err)
	}
	if err := r.sink.Send(ctx, ackMsg); err != nil {
		return nil, err
	}
	for {
		select {
		case msg := <-l.ch:
			if err := r.sink.Send(ctx, msg); err != nil {
				return nil, err
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-l.done:
			return listenResult(r.ID), nil
		}
	}
}

// listenResult is the graceful end of a subscription.
func listenResult(id jsonrpc.ID) *protocol.SubscriptionsListenResult {
	return &protocol.SubscriptionsListenResult{ResultType: protocol.ResultTypeComplete,
		Meta: protocol.Meta{protocol.MetaSubscriptionID: id}}
}

// subscriptionMessage encodes a notification of subscription id: params
// with io.modelcontextprotocol/subscriptionId set in its _meta.
func subscriptionMessage(method string, params any, id jsonrpc.ID) ([]byte, error) {
	raw, err := marshalParams(params)
	if err != nil {
		return nil, err
	}
	obj := map[string]jsontext.Value{}
	if len(raw) > 0 && raw.Kind() == '{' {
		if err := json.Unmarshal(raw, &obj); err != nil {
			return nil, err
		}
	}
	meta := map[string]jsontext.Value{}
	if m, ok := obj["_meta"]; ok && m.Kind() == '{' {
		if err := json.Unmarshal(m, &meta); err != nil {
			return nil, err
		}
	}
	meta[protocol.MetaSubscriptionID] = id.AppendJSON(nil)
	if obj["_meta"], err = json.Marshal(meta, json.Deterministic(true)); err != nil {
		return nil, err
	}
	b, err := json.Marshal(obj, json.Deterministic(true))
	if err != nil {
		return nil, err
	}
	return jsonrpc.AppendRequest(nil, &jsonrpc.Request{Method: method, Params: b}), nil
}

// publish delivers a change notification to every subscription that asked
// for it. It never blocks: a subscriber whose queue is full misses it.
func (s *Server) publish(method string, params any) {
	s.v26.mu.Lock()
	var targets []*listener
	for l := range s.v26.listeners {
		if l.wants(method, params) {
			targets = append(targets, l)
		}
	}
	s.v26.mu.Unlock()
	for _, l := range targets {
		msg, err := subscriptionMessage(method, params, l.id)
		if err != nil {
			s.log.Debug("notification not encoded", "method", method, "err", err)
			continue
		}
		select {
		case l.ch <- msg:
		default:
			s.log.Debug("subscription queue full: notification dropped", "method", method, "subscription", l.id.String())
		}
	}
}

// closing returns the channel closed at shutdown; v.mu is held.
func (v *serverV2026) closing() chan struct{} {
	if v.shutdown == nil {
		v.shutdown = make(chan struct{})
	}
	return v.shutdown
}

// closeV2026 ends subscriptions gracefully and stops the tasks of the
// tasks extension, waiting for their goroutines.
func (s *Server) closeV2026() {
	s.v26.mu.Lock()
	if !s.v26.closed {
		s.v26.closed = true
		close(s.v26.closing())
		for _, t := range s.v26.tasks {
			t.cancel()
		}
	}
	s.v26.mu.Unlock()
	s.v26.tasksWG.Wait()
}
