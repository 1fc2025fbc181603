package audit

import (
	"context"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"go.opentelemetry.io/otel/trace"

	"github.com/switchboard-mcp/switchboard/gateway"
	"github.com/switchboard-mcp/switchboard/protocol"
)

// pending is an event waiting in the queue: the gateway's Event (converted
// by the writer goroutine, off the hot path) or a ready record.
type pending struct {
	ev      *gateway.Event
	rec     *Record
	traceID string
	spanID  string
	cost    float64
}

// fromEvent converts a gateway event into a record (without stream, seq
// and hashes).
func (w *Writer) fromEvent(p *pending) *Record {
	e := p.ev
	r := &Record{
		Time: e.Time.UTC(), Kind: string(e.Kind), Method: e.Method, Upstream: e.Upstream,
		Name: e.Name, Original: e.Original, Session: e.Session, Revision: e.ProtocolVersion,
		Outcome: string(e.Outcome), LatencyUs: e.Duration.Microseconds(), Cost: p.cost,
		TraceID: p.traceID, SpanID: p.spanID, App: e.AppOriginated,
	}
	if r.Kind == "" {
		r.Kind = KindRequest
	}
	if e.Client.Name != "" {
		r.Client = e.Client.Name
		if e.Client.Version != "" {
			r.Client += "/" + e.Client.Version
		}
	}
	if id := e.Identity; id != nil {
		r.Subject, r.ClientID, r.Tenant, r.AuthMethod = id.Subject, id.ClientID, id.Tenant, id.Method
		if len(id.Groups) > 0 {
			r.Groups = append([]string(nil), id.Groups...)
		}
	}
	if s, ok := e.RequestID.Str(); ok {
		r.RequestID = s
	} else if n, ok := e.RequestID.Int64(); ok {
		r.RequestID = strconv.FormatInt(n, 10)
	}
	if e.Error != nil {
		r.ErrorCode, r.Error = int64(e.Error.Code), e.Error.Message
	}
	if e.Denial != nil {
		r.Rule, r.Reason = e.Denial.Rule, e.Denial.Reason
	}
	var params struct {
		Name      string         `json:"name"`
		URI       string         `json:"uri"`
		Arguments jsontext.Value `json:"arguments"`
		Meta      protocol.Meta  `json:"_meta"`
	}
	if len(e.Params) > 0 {
		_ = json.Unmarshal(e.Params, &params)
	}
	if r.TraceID == "" {
		if tp, ok := params.Meta[protocol.MetaTraceparent].(string); ok {
			r.TraceID, r.SpanID = parseTraceparent(tp)
		}
	}
	if r.Name == "" {
		switch e.Method {
		case protocol.MethodToolsCall, protocol.MethodPromptsGet:
			r.Name = params.Name
		case protocol.MethodResourcesRead, protocol.MethodResourcesSubscribe, protocol.MethodResourcesUnsubscribe:
			r.Name = params.URI
		}
	}
	switch {
	case e.Kind == gateway.KindUpstreamRequest:
		r.Arguments = CaptureJSON(withoutMeta(e.Params), w.capture, w.redactor)
		r.Answer = w.answer(e)
	case e.Method == protocol.MethodToolsCall || e.Method == protocol.MethodPromptsGet:
		r.Arguments = CaptureJSON(params.Arguments, w.capture, w.redactor)
	}
	if len(r.Arguments) > 0 {
		r.Capture = string(w.capture)
	}
	return r
}

// answer extracts from a client's answer to an upstream request what
// says who decided what.
func (w *Writer) answer(e *gateway.Event) jsontext.Value {
	if len(e.Result) == 0 {
		return nil
	}
	var a struct {
		Action     string         `json:"action,omitzero"`
		Model      string         `json:"model,omitzero"`
		Role       string         `json:"role,omitzero"`
		StopReason string         `json:"stopReason,omitzero"`
		Roots      int            `json:"roots,omitzero"`
		Content    jsontext.Value `json:"content,omitzero"`
	}
	switch e.Method {
	case protocol.MethodElicitationCreate:
		var res struct {
			Action  string         `json:"action"`
			Content jsontext.Value `json:"content"`
		}
		if json.Unmarshal(e.Result, &res) != nil {
			return nil
		}
		a.Action, a.Content = res.Action, CaptureJSON(res.Content, w.capture, w.redactor)
	case protocol.MethodSamplingCreateMessage:
		var res struct {
			Model      string         `json:"model"`
			Role       string         `json:"role"`
			StopReason string         `json:"stopReason"`
			Content    jsontext.Value `json:"content"`
		}
		if json.Unmarshal(e.Result, &res) != nil {
			return nil
		}
		a.Model, a.Role, a.StopReason, a.Content = res.Model, res.Role, res.StopReason, CaptureJSON(res.Content, w.capture, w.redactor)
	case protocol.MethodRootsList:
		var res struct {
			Roots []jsontext.Value `json:"roots"`
		}
		if json.Unmarshal(e.Result, &res) != nil {
			return nil
		}
		a.Roots = len(res.Roots)
		if a.Roots == 0 {
			return jsontext.Value(`{"roots":0}`)
		}
	default:
		return nil
	}
	b, err := json.Marshal(&a, json.Deterministic(true))
	if err != nil {
		return nil
	}
	return b
}

// withoutMeta returns an object's JSON without its _meta member.
func withoutMeta(raw jsontext.Value) jsontext.Value {
	if len(raw) == 0 || !strings.Contains(string(raw), `"_meta"`) {
		return raw
	}
	var m map[string]jsontext.Value
	if json.Unmarshal(raw, &m) != nil {
		return raw
	}
	delete(m, "_meta")
	b, err := json.Marshal(m, json.Deterministic(true))
	if err != nil {
		return raw
	}
	return b
}

// parseTraceparent returns the trace and parent ids of a W3C traceparent.
func parseTraceparent(tp string) (traceID, spanID string) {
	parts := strings.Split(strings.TrimSpace(tp), "-")
	if len(parts) < 4 || len(parts[1]) != 32 || len(parts[2]) != 16 {
		return "", ""
	}
	if _, err := hex.DecodeString(parts[1] + parts[2]); err != nil {
		return "", ""
	}
	return strings.ToLower(parts[1]), strings.ToLower(parts[2])
}

// spanOf returns the ids of the span in ctx, if any.
func spanOf(ctx context.Context) (string, string) {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return "", ""
	}
	return sc.TraceID().String(), sc.SpanID().String()
}

// now is the clock of records the writer makes itself.
func now() time.Time { return time.Now().UTC() }
