package mcp

import (
	"context"
	"errors"

	"github.com/go-json-experiment/json"

	"github.com/switchboard-mcp/switchboard/protocol"
	"github.com/switchboard-mcp/switchboard/transport"
)

// RestoredSession is what a session of the initialize handshake (revisions
// up to 2025-11-25) needs to be rebuilt on another server instance: the
// client's initialize parameters. A scale-out layer keeps it where every
// instance can read it (sealed into the session id, or in a shared store)
// and passes it to Server.RestoreSession when a request of the session
// reaches an instance that does not hold it.
type RestoredSession struct {
	// Initialize are the params of the client's initialize request, as
	// sent. The protocol version is negotiated from them again, exactly as
	// initialize did, so every instance with the same configuration
	// arrives at the same revision.
	Initialize protocol.InitializeRequestParams
	// LogLevel is the level the client set with logging/setLevel, if any.
	LogLevel protocol.LoggingLevel
}

// ErrNotRestorable is returned by Server.RestoreSession for a state that
// cannot make a session: one without a protocol version, or naming a
// revision without the initialize handshake.
var ErrNotRestorable = errors.New("mcp: the session state cannot be restored")

// RestoreSession creates an initialized session from state, as if its
// client had completed initialize (and sent notifications/initialized)
// on this server: it implements the protocol side of moving a session
// between instances. The session gets id and the standalone sink like
// one made by NewSession, and OnSessionStart runs for it. Resource
// subscriptions are not part of state: a scale-out layer replays the
// client's resources/subscribe requests through HandleRequest, which also
// lets a gateway subscribe upstream again.
func (s *Server) RestoreSession(ctx context.Context, id string, standalone transport.Sink, state *RestoredSession) (*ServerSession, error) {
	if state == nil || state.Initialize.ProtocolVersion == "" {
		return nil, ErrNotRestorable
	}
	v := negotiate(state.Initialize.ProtocolVersion, s.opts.SupportedVersions)
	if !protocol.UsesInitialize(v) {
		return nil, ErrNotRestorable
	}
	ss, err := s.newSession(id, standalone)
	if err != nil {
		return nil, err
	}
	if !ss.state.CompareAndSwap(int32(stateNew), int32(stateInitializing)) {
		ss.Close()
		return nil, ErrNotRestorable
	}
	p := &state.Initialize
	ss.mu.Lock()
	ss.peer = peer{version: v, caps: p.Capabilities, info: p.ClientInfo}
	ss.logLevel = state.LogLevel
	ss.mu.Unlock()
	ss.state.Store(int32(stateInitialized))
	return ss, nil
}

// InitializeParams decodes the params of an initialize request, for a
// scale-out layer that records them when a session is created. It returns
// an error for params that initialize itself would refuse to decode.
func InitializeParams(raw []byte) (*protocol.InitializeRequestParams, error) {
	var p protocol.InitializeRequestParams
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// LogLevel returns the level the client set with logging/setLevel ("" if
// none).
func (ss *ServerSession) LogLevel() protocol.LoggingLevel {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.logLevel
}
