// Package pins guards the gateway against tool definitions that change
// after they were trusted ("rug pulls") and against poisoned ones.
//
// The canonical hash of each upstream tool's definition — its name,
// title, description, input and output schemas and annotations, as
// canonical JSON — is pinned when an administrator approves it ("switchboard
// tools approve", or the admin API), or on first sight when so configured.
// A tool whose definition differs from its pin is withheld — hidden from
// lists and refused on calls — until its new definition is approved, and
// the change is reported as a notice event (gateway.KindNotice). Every
// definition is also scanned for hidden instructions, invisible or
// bidirectional Unicode and lookalikes of other tools' names (Scan); the
// findings are shown with the change, and can block approval.
//
// A Guard is the gateway's Hooks.Catalog (it sees every definition before
// clients do) and Hooks.Authorize (it withholds); pins and pending
// definitions live in a Store (store.DB's, SQLite, in serve).
package pins

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboard-mcp/switchboard/gateway"
	"github.com/switchboard-mcp/switchboard/protocol"
)

// Modes of a Guard.
const (
	ModeOff        = "off"
	ModeFirstSight = "first-sight"
	ModeApproval   = "approval"
)

// Rule is the rule name of the gateway denials of withheld tools.
const Rule = "tool-pinning"

// Key names a tool: its upstream and its own (original) name.
type Key struct {
	Upstream string `json:"upstream"`
	Tool     string `json:"tool"`
}

func (k Key) String() string { return k.Upstream + "/" + k.Tool }

// ParseKey parses "UPSTREAM/TOOL".
func ParseKey(s string) (Key, error) {
	u, t, ok := strings.Cut(s, "/")
	if !ok || u == "" || t == "" {
		return Key{}, fmt.Errorf("pins: %q: want UPSTREAM/TOOL", s)
	}
	return Key{Upstream: u, Tool: t}, nil
}

// Pin is an approved definition.
type Pin struct {
	Key
	// Hash is the canonical hash of the definition.
	Hash string `json:"hash"`
	// Definition is the definition's canonical JSON.
	Definition jsontext.Value `json:"definition"`
	// ApprovedAt and ApprovedBy say when and by whom ("first-sight" for
	// automatic pins).
	ApprovedAt time.Time `json:"approvedAt"`
	ApprovedBy string    `json:"approvedBy"`
	// Findings are the scan's findings the approval accepted.
	Findings []Finding `json:"findings,omitempty"`
}

// Pending is a definition waiting for approval: new (approval mode),
// flagged (first-sight mode with findings), or changed since its pin.
type Pending struct {
	Key
	Hash       string         `json:"hash"`
	Definition jsontext.Value `json:"definition"`
	// PinnedHash is the hash of the pin it differs from ("" when the tool
	// has none).
	PinnedHash string    `json:"pinnedHash,omitempty"`
	FirstSeen  time.Time `json:"firstSeen"`
	LastSeen   time.Time `json:"lastSeen"`
	Findings   []Finding `json:"findings,omitempty"`
}

// Store keeps pins and pending definitions.
type Store interface {
	// Pins returns every pin.
	Pins(ctx context.Context) ([]Pin, error)
	// SavePin creates or replaces a pin, and drops the pending definition
	// of its key.
	SavePin(ctx context.Context, p Pin) error
	// Pending returns every pending definition.
	Pending(ctx context.Context) ([]Pending, error)
	// SavePending creates or updates a pending definition (FirstSeen is
	// kept when the key and hash are known).
	SavePending(ctx context.Context, p Pending) error
	// DeletePin removes a pin (the tool is then new again).
	DeletePin(ctx context.Context, k Key) error
}

// Canonical returns the canonical JSON of a definition: name, title,
// description, inputSchema, outputSchema and annotations, with every
// object's keys sorted and no insignificant space. Icons, execution and
// _meta are not part of it.
func Canonical(t *protocol.Tool) jsontext.Value {
	canon := func(v jsontext.Value) any {
		if len(v) == 0 {
			return nil
		}
		var x any
		if json.Unmarshal(v, &x) != nil {
			return string(v)
		}
		return x
	}
	def := map[string]any{"name": t.Name}
	if t.Title != "" {
		def["title"] = t.Title
	}
	if t.Description != "" {
		def["description"] = t.Description
	}
	if s := canon(t.InputSchema); s != nil {
		def["inputSchema"] = s
	}
	if s := canon(t.OutputSchema); s != nil {
		def["outputSchema"] = s
	}
	if t.Annotations != nil {
		b, _ := json.Marshal(t.Annotations)
		if a := canon(b); a != nil {
			if m, ok := a.(map[string]any); !ok || len(m) > 0 {
				def["annotations"] = a
			}
		}
	}
	b, _ := json.Marshal(def, json.Deterministic(true))
	return b
}

// Hash returns the hex SHA-256 of the canonical definition.
func Hash(t *protocol.Tool) string {
	sum := sha256.Sum256(Canonical(t))
	return hex.EncodeToString(sum[:])
}

// Scan returns the findings of every tool of a set, by key, including
// lookalikes: tools whose names look the same (Skeleton) without being
// the same.
func Scan(tools []gateway.CatalogTool) map[Key][]Finding {
	out := map[Key][]Finding{}
	bySkel := map[string][]gateway.CatalogTool{}
	for _, ct := range tools {
		k := Key{ct.Upstream, ct.Tool.Name}
		if f := ScanTool(&ct.Tool); len(f) > 0 {
			out[k] = f
		}
		s := Skeleton(ct.Tool.Name)
		bySkel[s] = append(bySkel[s], ct)
	}
	for _, group := range bySkel {
		for _, a := range group {
			var like []string
			for _, b := range group {
				if a.Tool.Name != b.Tool.Name {
					like = append(like, Key{b.Upstream, b.Tool.Name}.String())
				}
			}
			if len(like) > 0 {
				sort.Strings(like)
				k := Key{a.Upstream, a.Tool.Name}
				out[k] = append(out[k], Finding{Kind: FindingLookalike, Where: "name", Detail: fmt.Sprintf("%q looks like %s", a.Tool.Name, strings.Join(like, ", "))})
			}
		}
	}
	return out
}

// Options configure a Guard.
type Options struct {
	// Mode is ModeFirstSight or ModeApproval (ModeOff: use no Guard).
	Mode string
	// BlockOnFindings withholds flagged tools in first-sight mode and
	// makes Approve refuse flagged definitions unless overridden.
	BlockOnFindings bool
	// Store keeps pins; required.
	Store Store
	// Logger receives changes and store failures. Nil discards them.
	Logger *slog.Logger
}

type state struct {
	allowed bool
	reason  string
}

// Guard applies pins to a gateway. It is safe for concurrent use.
type Guard struct {
	opts  Options
	log   *slog.Logger
	state atomic.Pointer[map[Key]state]

	mu       sync.Mutex
	last     []gateway.CatalogTool
	reported map[Key]string // hash last reported as changed or flagged
	emit     func(context.Context, *gateway.Event)
	queued   []*gateway.Event
	pinsSeen string // fingerprint of the pins last applied
}

// New returns a Guard.
func New(opts Options) (*Guard, error) {
	switch opts.Mode {
	case ModeFirstSight, ModeApproval:
	default:
		return nil, fmt.Errorf("pins: unknown mode %q (first-sight or approval)", opts.Mode)
	}
	if opts.Store == nil {
		return nil, errors.New("pins: no store")
	}
	g := &Guard{opts: opts, log: opts.Logger, reported: map[Key]string{}}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	empty := map[Key]state{}
	g.state.Store(&empty)
	return g, nil
}

// SetEmitter sets where notices go (gateway.Gateway.Emit); notices from
// before it was set are sent then.
func (g *Guard) SetEmitter(emit func(context.Context, *gateway.Event)) {
	g.mu.Lock()
	g.emit = emit
	q := g.queued
	g.queued = nil
	g.mu.Unlock()
	for _, e := range q {
		emit(context.Background(), e)
	}
}

func (g *Guard) notice(e *gateway.Event) {
	g.mu.Lock()
	emit := g.emit
	if emit == nil {
		g.queued = append(g.queued, e)
	}
	g.mu.Unlock()
	if emit != nil {
		emit(context.Background(), e)
	}
}

// Catalog is the gateway's Hooks.Catalog: it judges every definition
// against its pin, pins new ones on first sight, records pending ones
// and reports changes.
func (g *Guard) Catalog(tools []gateway.CatalogTool) {
	g.mu.Lock()
	g.last = tools
	g.mu.Unlock()
	g.apply(context.Background(), tools)
}

// apply computes the state of tools from the store.
func (g *Guard) apply(ctx context.Context, tools []gateway.CatalogTool) {
	next := map[Key]state{}
	pins, err := g.opts.Store.Pins(ctx)
	if err != nil {
		g.log.Error("pins: reading the pins failed; withholding every tool", "err", err)
		for _, ct := range tools {
			next[Key{ct.Upstream, ct.Tool.Name}] = state{reason: "the tool pins cannot be read"}
		}
		g.state.Store(&next)
		return
	}
	byKey := map[Key]Pin{}
	for _, p := range pins {
		byKey[p.Key] = p
	}
	g.mu.Lock()
	g.pinsSeen = fingerprint(pins)
	g.mu.Unlock()
	findings := Scan(tools)
	now := time.Now()
	for _, ct := range tools {
		t := ct.Tool
		k := Key{ct.Upstream, t.Name}
		h := Hash(&t)
		f := findings[k]
		pin, pinned := byKey[k]
		switch {
		case pinned && pin.Hash == h:
			next[k] = state{allowed: true}
			continue
		case !pinned && g.opts.Mode == ModeFirstSight && (len(f) == 0 || !g.opts.BlockOnFindings):
			p := Pin{Key: k, Hash: h, Definition: Canonical(&t), ApprovedAt: now, ApprovedBy: "first-sight", Findings: f}
			if err := g.opts.Store.SavePin(ctx, p); err != nil {
				g.log.Error("pins: pinning on first sight failed; withholding", "tool", k.String(), "err", err)
				next[k] = state{reason: "the tool's definition could not be pinned"}
				continue
			}
			if len(f) > 0 {
				g.log.Warn("pins: pinned on first sight despite findings", "tool", k.String(), "findings", findingsText(f))
			}
			next[k] = state{allowed: true}
			continue
		}
		pend := Pending{Key: k, Hash: h, Definition: Canonical(&t), FirstSeen: now, LastSeen: now, Findings: f}
		var reason, typ, msg string
		switch {
		case pinned:
			pend.PinnedHash = pin.Hash
			reason = fmt.Sprintf("the definition of tool %q of upstream %q changed since it was approved; it is withheld until an administrator approves it again (switchboard tools diff, switchboard tools approve %s)", t.Name, ct.Upstream, k)
			typ, msg = "tool-definition-changed", fmt.Sprintf("tool %s changed its definition after approval; withheld until approved", k)
		case len(f) > 0 && g.opts.Mode == ModeFirstSight:
			reason = fmt.Sprintf("tool %q of upstream %q was flagged by the poisoning checks (%s); it is withheld until an administrator approves it", t.Name, ct.Upstream, findingsText(f))
			typ, msg = "tool-flagged", fmt.Sprintf("tool %s was flagged: %s; withheld until approved", k, findingsText(f))
		default:
			reason = fmt.Sprintf("tool %q of upstream %q has not been approved (switchboard tools approve %s)", t.Name, ct.Upstream, k)
			typ, msg = "tool-awaiting-approval", fmt.Sprintf("tool %s awaits approval", k)
		}
		next[k] = state{reason: reason}
		if err := g.opts.Store.SavePending(ctx, pend); err != nil {
			g.log.Error("pins: recording a pending definition failed", "tool", k.String(), "err", err)
		}
		g.mu.Lock()
		already := g.reported[k] == h
		g.reported[k] = h
		g.mu.Unlock()
		if !already {
			g.log.Warn("pins: "+msg, "tool", k.String())
			data := map[string]string{"upstream": ct.Upstream, "tool": t.Name, "hash": h}
			if pend.PinnedHash != "" {
				data["pinnedHash"] = pend.PinnedHash
			}
			if len(f) > 0 {
				data["findings"] = findingsText(f)
			}
			g.notice(&gateway.Event{Kind: gateway.KindNotice, Method: "notifications/switchboard/" + typ, Upstream: ct.Upstream,
				Name: ct.Name, Original: t.Name, Outcome: gateway.OutcomeDenied, Denial: &gateway.Denial{Rule: Rule, Reason: reason},
				Notice: &gateway.Notice{Type: typ, Message: msg, Data: data}})
		}
	}
	g.state.Store(&next)
}

func findingsText(f []Finding) string {
	s := make([]string, len(f))
	for i, x := range f {
		s[i] = x.String()
	}
	return strings.Join(s, "; ")
}

func fingerprint(pins []Pin) string {
	s := make([]string, len(pins))
	for i, p := range pins {
		s[i] = p.Key.String() + "=" + p.Hash
	}
	sort.Strings(s)
	return strings.Join(s, ",")
}

// Authorize is the gateway's Hooks.Authorize for pins: a tool whose
// definition is not approved is hidden and refused, with rule Rule.
func (g *Guard) Authorize(ctx context.Context, a *gateway.Access) error {
	if a.Kind != "tool" {
		return nil
	}
	st, ok := (*g.state.Load())[Key{a.Upstream, a.Original}]
	if ok && st.allowed {
		return nil
	}
	if !ok {
		st.reason = fmt.Sprintf("tool %q of upstream %q has not been checked", a.Original, a.Upstream)
	}
	return &gateway.Denial{Rule: Rule, Reason: st.reason}
}

// Refresh re-reads the pins and re-judges the last catalog; it reports
// whether what is withheld changed (then tell clients:
// gateway.VisibilityChanged).
func (g *Guard) Refresh(ctx context.Context) bool {
	pins, err := g.opts.Store.Pins(ctx)
	if err != nil {
		g.log.Error("pins: reading the pins failed", "err", err)
		return false
	}
	g.mu.Lock()
	same := fingerprint(pins) == g.pinsSeen
	tools := g.last
	g.mu.Unlock()
	if same {
		return false
	}
	before := maps.Clone(*g.state.Load())
	g.apply(ctx, tools)
	after := *g.state.Load()
	if len(before) != len(after) {
		return true
	}
	for k, s := range after {
		if before[k].allowed != s.allowed {
			return true
		}
	}
	return false
}

// Watch calls Refresh every interval until ctx ends, and changed when
// what is withheld changed.
func (g *Guard) Watch(ctx context.Context, interval time.Duration, changed func()) {
	if interval <= 0 {
		interval = 5 * time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if g.Refresh(ctx) && changed != nil {
				changed()
			}
		}
	}
}

// ErrFindings is returned (wrapped) by Approve when findings block an
// approval.
var ErrFindings = errors.New("findings block the approval")

// Approve pins the pending definition of k, approved by by. With
// blockOnFindings, a definition with findings is refused unless override
// is set.
func Approve(ctx context.Context, s Store, k Key, by string, blockOnFindings, override bool) (Pin, error) {
	pend, err := s.Pending(ctx)
	if err != nil {
		return Pin{}, err
	}
	for _, p := range pend {
		if p.Key != k {
			continue
		}
		if len(p.Findings) > 0 && blockOnFindings && !override {
			return Pin{}, fmt.Errorf("pins: %s: %w: %s (approve with --accept-findings to override)", k, ErrFindings, findingsText(p.Findings))
		}
		pin := Pin{Key: k, Hash: p.Hash, Definition: p.Definition, ApprovedAt: time.Now(), ApprovedBy: by, Findings: p.Findings}
		return pin, s.SavePin(ctx, pin)
	}
	return Pin{}, fmt.Errorf("pins: no definition of %s is waiting for approval", k)
}

// Change is a pending definition with the pin it would replace.
type Change struct {
	Pending Pending
	// Pinned is the current pin (nil for a new tool).
	Pinned *Pin
	// Diff is a line diff of the two definitions, pretty-printed ("-"
	// lines are the pin's, "+" lines the new definition's).
	Diff string
}

// Changes lists the pending definitions, by key, with their diffs.
func Changes(ctx context.Context, s Store) ([]Change, error) {
	pend, err := s.Pending(ctx)
	if err != nil {
		return nil, err
	}
	pins, err := s.Pins(ctx)
	if err != nil {
		return nil, err
	}
	byKey := map[Key]Pin{}
	for _, p := range pins {
		byKey[p.Key] = p
	}
	var out []Change
	for _, p := range pend {
		c := Change{Pending: p}
		var old []string
		if pin, ok := byKey[p.Key]; ok {
			if pin.Hash == p.Hash {
				continue // approved meanwhile
			}
			c.Pinned = &pin
			old = prettyLines(pin.Definition)
		}
		c.Diff = lineDiff(old, prettyLines(p.Definition))
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Pending.Key.String() < out[j].Pending.Key.String() })
	return out, nil
}

func prettyLines(v jsontext.Value) []string {
	b := []byte(v)
	var x any
	if json.Unmarshal(v, &x) == nil {
		if p, err := json.Marshal(x, json.Deterministic(true), jsontext.WithIndent("  ")); err == nil {
			b = p
		}
	}
	return strings.Split(string(b), "\n")
}

// lineDiff is a longest-common-subsequence diff of two line lists.
func lineDiff(a, b []string) string {
	n, m := len(a), len(b)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var sb strings.Builder
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			sb.WriteString("  " + a[i] + "\n")
			i++
			j++
		case j < m && (i == n || lcs[i][j+1] >= lcs[i+1][j]):
			sb.WriteString("+ " + b[j] + "\n")
			j++
		default:
			sb.WriteString("- " + a[i] + "\n")
			i++
		}
	}
	return sb.String()
}

// Memory is a Store in memory, for tests and for gateways without a data
// directory.
type Memory struct {
	mu      sync.Mutex
	pins    map[Key]Pin
	pending map[Key]Pending
}

// NewMemory returns an empty Memory store.
func NewMemory() *Memory { return &Memory{pins: map[Key]Pin{}, pending: map[Key]Pending{}} }

// Pins implements Store.
func (m *Memory) Pins(context.Context) ([]Pin, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Pin, 0, len(m.pins))
	for _, p := range m.pins {
		out = append(out, p)
	}
	return out, nil
}

// SavePin implements Store.
func (m *Memory) SavePin(_ context.Context, p Pin) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pins[p.Key] = p
	delete(m.pending, p.Key)
	return nil
}

// Pending implements Store.
func (m *Memory) Pending(context.Context) ([]Pending, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Pending, 0, len(m.pending))
	for _, p := range m.pending {
		out = append(out, p)
	}
	return out, nil
}

// SavePending implements Store.
func (m *Memory) SavePending(_ context.Context, p Pending) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.pending[p.Key]; ok && old.Hash == p.Hash {
		p.FirstSeen = old.FirstSeen
	}
	m.pending[p.Key] = p
	return nil
}

// DeletePin implements Store.
func (m *Memory) DeletePin(_ context.Context, k Key) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.pins, k)
	return nil
}
