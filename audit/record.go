package audit

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Kinds of records.
const (
	// KindRequest is a client's request to the gateway and its outcome.
	KindRequest = "request"
	// KindUpstreamRequest is an upstream's request to a client (sampling,
	// elicitation, roots) relayed by the gateway, with the client's answer.
	KindUpstreamRequest = "upstream-request"
	// KindBudget is a budget decision: a warning threshold crossed or a
	// budget spent (Outcome "warning" or "exhausted").
	KindBudget = "budget"
	// KindAudit is the audit trail's own event: records that could not be
	// written (Outcome "dropped", Detail {"dropped": N}).
	KindAudit = "audit"
	// KindCheckpoint marks a checkpoint line in an export.
	KindCheckpoint = "checkpoint"
)

// Record is one audit event. Its JSON form (without Hash) is what the
// hash covers; see [Record.Body].
type Record struct {
	// Stream names the hash chain the record belongs to; Seq is its
	// position there, from 1.
	Stream string `json:"stream"`
	Seq    int64  `json:"seq"`
	// Time is when the request arrived (UTC).
	Time time.Time `json:"time"`
	// Kind is KindRequest, KindUpstreamRequest, KindBudget or KindAudit.
	Kind string `json:"kind"`
	// Method is the JSON-RPC method.
	Method string `json:"method,omitzero"`
	// Upstream is the upstream that served the request or made it.
	Upstream string `json:"upstream,omitzero"`
	// Name is the tool or prompt name or resource URI the client used;
	// Original is the upstream's own.
	Name     string `json:"name,omitzero"`
	Original string `json:"original,omitzero"`
	// Identity: the subject (person or machine), the OAuth client, the
	// tenant, the groups and how the caller authenticated.
	Subject    string   `json:"subject,omitzero"`
	ClientID   string   `json:"clientId,omitzero"`
	Tenant     string   `json:"tenant,omitzero"`
	Groups     []string `json:"groups,omitzero"`
	AuthMethod string   `json:"authMethod,omitzero"`
	// Client is the client's self-description, "name/version".
	Client string `json:"client,omitzero"`
	// Session is the client's MCP session ("" for stdio and 2026-07-28
	// requests); Revision the protocol revision of the request.
	Session  string `json:"session,omitzero"`
	Revision string `json:"revision,omitzero"`
	// RequestID is the client's JSON-RPC request id.
	RequestID string `json:"requestId,omitzero"`
	// Arguments are the call's arguments (tools/call, prompts/get) or the
	// upstream request's params, by shape or with their values (Capture).
	Arguments jsontext.Value `json:"arguments,omitzero"`
	Capture   string         `json:"capture,omitzero"`
	// Answer is the client's answer to an upstream request: the
	// elicitation action, the sampling model and stop reason, the number
	// of roots (content by shape or value, as Arguments).
	Answer jsontext.Value `json:"answer,omitzero"`
	// Outcome is "ok", "tool_error", "error", "denied" or "cancelled" (for
	// budget and audit records, what happened).
	Outcome string `json:"outcome,omitzero"`
	// ErrorCode and Error are the JSON-RPC error of an error or denial.
	ErrorCode int64  `json:"errorCode,omitzero"`
	Error     string `json:"error,omitzero"`
	// Rule and Reason are the policy decision of a denial.
	Rule   string `json:"rule,omitzero"`
	Reason string `json:"reason,omitzero"`
	// LatencyUs is how long the request took, in microseconds.
	LatencyUs int64 `json:"latencyUs,omitzero"`
	// Cost is the cost units the call was charged.
	Cost float64 `json:"cost,omitzero"`
	// TraceID and SpanID tie the record to the request's trace.
	TraceID string `json:"traceId,omitzero"`
	SpanID  string `json:"spanId,omitzero"`
	// App marks calls made by an MCP App view.
	App bool `json:"app,omitzero"`
	// Detail holds what is particular to budget and audit records.
	Detail jsontext.Value `json:"detail,omitzero"`
	// Prev is the hash of the previous record of the stream ("" for the
	// first).
	Prev string `json:"prev"`
	// Hash is the hex SHA-256 of Body; it is not part of the body.
	Hash string `json:"hash,omitzero"`
}

// Body returns the canonical JSON encoding of r without its hash: the
// bytes the hash covers.
func (r *Record) Body() ([]byte, error) {
	c := *r
	c.Hash = ""
	c.Time = c.Time.UTC()
	return json.Marshal(&c, json.Deterministic(true))
}

// Seal sets r.Hash from its body and returns the body.
func (r *Record) Seal() ([]byte, error) {
	b, err := r.Body()
	if err != nil {
		return nil, err
	}
	r.Hash = HashBody(b)
	return b, nil
}

// HashBody returns the hex SHA-256 of a record body.
func HashBody(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// ParseRecord decodes a record body (or an exported record line, with
// its hash). Unknown members are an error: they could not be hashed back.
func ParseRecord(data []byte) (*Record, error) {
	var r Record
	if err := json.Unmarshal(data, &r, json.RejectUnknownMembers(true)); err != nil {
		return nil, err
	}
	return &r, nil
}

// Checkpoint is a signed statement that the record Seq of Stream has
// hash Hash: it anchors the chain against truncation and against
// rewriting the whole chain.
type Checkpoint struct {
	Kind   string    `json:"kind"` // KindCheckpoint
	Stream string    `json:"stream"`
	Seq    int64     `json:"seq"`
	Hash   string    `json:"hash"`
	Time   time.Time `json:"time"`
	// KeyID names the signing key (the first 8 bytes of the SHA-256 of
	// the public key, hex); Signature is the Ed25519 signature, base64.
	KeyID     string `json:"keyId"`
	Signature string `json:"signature"`
}

// signedBytes is what a checkpoint's signature covers.
func (c *Checkpoint) signedBytes() []byte {
	var b bytes.Buffer
	b.WriteString("switchboard-audit-checkpoint/1\n")
	b.WriteString(c.Stream)
	b.WriteByte('\n')
	b.WriteString(strconv.FormatInt(c.Seq, 10))
	b.WriteByte('\n')
	b.WriteString(c.Hash)
	b.WriteByte('\n')
	b.WriteString(c.Time.UTC().Format(time.RFC3339Nano))
	return b.Bytes()
}

// Sign signs c with key.
func (c *Checkpoint) Sign(key ed25519.PrivateKey) {
	c.Kind = KindCheckpoint
	c.KeyID = KeyID(key.Public().(ed25519.PublicKey))
	c.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(key, c.signedBytes()))
}

// Check verifies c's signature with pub.
func (c *Checkpoint) Check(pub ed25519.PublicKey) error {
	if len(pub) != ed25519.PublicKeySize {
		return errors.New("no valid public key")
	}
	if c.KeyID != KeyID(pub) {
		return fmt.Errorf("signed by key %s, not by the audit key %s", c.KeyID, KeyID(pub))
	}
	sig, err := base64.StdEncoding.DecodeString(c.Signature)
	if err != nil || !ed25519.Verify(pub, c.signedBytes(), sig) {
		return errors.New("the signature does not match")
	}
	return nil
}

// KeyID names a public key: the hex of the first 8 bytes of its SHA-256.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}
