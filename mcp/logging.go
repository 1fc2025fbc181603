package mcp

import (
	"context"
	"log/slog"
	"slices"

	"github.com/switchboard-mcp/switchboard/protocol"
)

type requestKey struct{}

// RequestFromContext returns the request a handler is serving, when ctx
// descends from the context the server gave the handler.
func RequestFromContext(ctx context.Context) *Request {
	r, _ := ctx.Value(requestKey{}).(*Request)
	return r
}

// LogHandlerOptions configure a LogHandler.
type LogHandlerOptions struct {
	// Logger is the logger name sent with each message (optional).
	Logger string
	// Level is the minimum level forwarded. Zero forwards everything the
	// client asked for (see logging/setLevel).
	Level slog.Leveler
}

// LogHandler is an slog.Handler that sends log records to MCP clients as
// notifications/message. A record logged with a context that descends from
// a handler's context goes to that request's client, on that request's
// stream; otherwise it goes to the session given to NewLogHandler, if any,
// and is dropped when there is none. The client's logging level applies.
type LogHandler struct {
	session *ServerSession
	opts    LogHandlerOptions
	attrs   []slog.Attr
	groups  []string
}

// NewLogHandler returns a handler that forwards records to clients.
// session may be nil.
func NewLogHandler(session *ServerSession, opts *LogHandlerOptions) *LogHandler {
	h := &LogHandler{session: session}
	if opts != nil {
		h.opts = *opts
	}
	return h
}

// Enabled implements slog.Handler.
func (h *LogHandler) Enabled(_ context.Context, l slog.Level) bool {
	if h.opts.Level != nil {
		return l >= h.opts.Level.Level()
	}
	return true
}

// Handle implements slog.Handler.
func (h *LogHandler) Handle(ctx context.Context, rec slog.Record) error {
	level := protocol.LevelFromSlog(rec.Level)
	data := make(map[string]any, rec.NumAttrs()+len(h.attrs)+1)
	data["message"] = rec.Message
	for _, a := range h.attrs {
		addAttr(data, a)
	}
	target := data
	for _, g := range h.groups {
		target = subMap(target, g)
	}
	rec.Attrs(func(a slog.Attr) bool {
		addAttr(target, a)
		return true
	})
	if r := RequestFromContext(ctx); r != nil {
		return r.Log(ctx, level, h.opts.Logger, data)
	}
	if h.session != nil {
		return h.session.Log(ctx, level, h.opts.Logger, data)
	}
	return nil
}

func addAttr(m map[string]any, a slog.Attr) {
	v := a.Value.Resolve()
	if a.Key == "" && v.Kind() != slog.KindGroup {
		return
	}
	if v.Kind() == slog.KindGroup {
		target := m
		if a.Key != "" {
			target = subMap(m, a.Key)
		}
		for _, ga := range v.Group() {
			addAttr(target, ga)
		}
		return
	}
	switch v.Kind() {
	case slog.KindTime:
		m[a.Key] = v.Time().Format("2006-01-02T15:04:05.999999999Z07:00")
	case slog.KindDuration:
		m[a.Key] = v.Duration().String()
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			m[a.Key] = err.Error()
			return
		}
		m[a.Key] = v.Any()
	default:
		m[a.Key] = v.Any()
	}
}

// subMap returns the map at m[key], creating it (or replacing a non-map).
func subMap(m map[string]any, key string) map[string]any {
	if sub, ok := m[key].(map[string]any); ok {
		return sub
	}
	sub := map[string]any{}
	m[key] = sub
	return sub
}

// WithAttrs implements slog.Handler.
func (h *LogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	// Attributes belong to the groups opened so far: nest them.
	for i := len(c.groups) - 1; i >= 0; i-- {
		attrs = []slog.Attr{slog.Group(c.groups[i], attrsToAny(attrs)...)}
	}
	c.attrs = append(slices.Clone(c.attrs), attrs...)
	return &c
}

func attrsToAny(attrs []slog.Attr) []any {
	out := make([]any, len(attrs))
	for i, a := range attrs {
		out[i] = a
	}
	return out
}

// WithGroup implements slog.Handler.
func (h *LogHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.groups = append(slices.Clone(c.groups), name)
	return &c
}
