package servers

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
)

// baselineMaxBody bounds a baseline request body, like the real servers'
// limits.
const baselineMaxBody = 4 << 20

// The baseline is the cost floor: decode one JSON-RPC message with
// encoding/json, build the same response an MCP server would send for the
// echo tool and encode it with encoding/json. It keeps no sessions and
// validates nothing beyond what decoding does.

type baselineRequest struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params,omitempty"`
}

type baselineCallParams struct {
	Name      string `json:"name"`
	Arguments struct {
		Text string `json:"text"`
	} `json:"arguments"`
}

type baselineResponse struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  any             `json:"result,omitempty"`
	Error   *baselineError  `json:"error,omitempty"`
}

type baselineError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

type baselineText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type baselineCallResult struct {
	Content []baselineText `json:"content"`
}

type baselineInitResult struct {
	ProtocolVersion string         `json:"protocolVersion"`
	Capabilities    map[string]any `json:"capabilities"`
	ServerInfo      struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	} `json:"serverInfo"`
}

// baselineHandle decodes one message and returns the response to encode,
// or nil for a notification.
func baselineHandle(body []byte) *baselineResponse {
	var req baselineRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return &baselineResponse{JSONRPC: "2.0", ID: json.RawMessage("null"), Error: &baselineError{Code: -32700, Message: "parse error"}}
	}
	if len(req.ID) == 0 {
		return nil
	}
	resp := &baselineResponse{JSONRPC: "2.0", ID: req.ID}
	switch req.Method {
	case "initialize":
		r := baselineInitResult{ProtocolVersion: ProtocolVersion, Capabilities: map[string]any{"tools": map[string]any{}}}
		r.ServerInfo.Name, r.ServerInfo.Version = "baseline", "0"
		resp.Result = r
	case "tools/call":
		var p baselineCallParams
		if err := json.Unmarshal(req.Params, &p); err != nil || p.Name != "echo" {
			resp.Error = &baselineError{Code: -32602, Message: "invalid params"}
			break
		}
		resp.Result = baselineCallResult{Content: []baselineText{{Type: "text", Text: p.Arguments.Text}}}
	case "ping":
		resp.Result = struct{}{}
	default:
		resp.Error = &baselineError{Code: -32601, Message: "method not found"}
	}
	return resp
}

// NewBaselineHandler returns the baseline HTTP handler: POST only, one
// JSON-RPC message per body, JSON responses, 202 for notifications. It
// hands out a random Mcp-Session-Id on initialize and ignores it after.
func NewBaselineHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, baselineMaxBody))
		if err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		resp := baselineHandle(body)
		if resp == nil {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		if _, ok := resp.Result.(baselineInitResult); ok {
			var b [16]byte
			rand.Read(b[:])
			w.Header().Set("Mcp-Session-Id", hex.EncodeToString(b[:]))
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(resp)
	})
}

// ServeBaselineStdio is the baseline stdio server: a plain loop that reads
// a line, decodes it with encoding/json, encodes the response and writes
// it, flushing whenever no further input is already buffered (so that
// pipelined requests share write calls). It handles one message at a
// time.
func ServeBaselineStdio(ctx context.Context, r io.Reader, w io.Writer) error {
	br := bufio.NewReaderSize(r, 64<<10)
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	var line []byte
	for ctx.Err() == nil {
		chunk, err := br.ReadSlice('\n')
		line = append(line[:0], chunk...)
		for errors.Is(err, bufio.ErrBufferFull) {
			if len(line) > baselineMaxBody {
				return errors.New("baseline: message too large")
			}
			chunk, err = br.ReadSlice('\n')
			line = append(line, chunk...)
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return bw.Flush()
			}
			return err
		}
		if resp := baselineHandle(line); resp != nil {
			if err := enc.Encode(resp); err != nil { // Encode ends with '\n'
				return err
			}
		}
		if br.Buffered() == 0 {
			if err := bw.Flush(); err != nil {
				return err
			}
		}
	}
	return ctx.Err()
}

// BaselineHandleMessage is the baseline's whole per-message work, for
// in-process benchmarks: decode msg, build the response and encode it. It
// returns nil for a notification.
func BaselineHandleMessage(msg []byte) ([]byte, error) {
	resp := baselineHandle(msg)
	if resp == nil {
		return nil, nil
	}
	return json.Marshal(resp)
}
