// Package limits holds the gateway's rate and concurrency limits: token
// buckets and bounds on requests in flight, keyed by any combination of
// tenant, identity, upstream and tool. A Limiter is the gateway's
// Hooks.Admit: it is asked about every call, read, prompt and completion
// that policy allowed, on every path.
//
// Counters live in a Store: in memory by default (one gateway process),
// or in Redis (NewRedis), shared by every gateway process that uses the
// same Redis, with a choice of failing open (allow) or closed (refuse)
// when Redis cannot be reached.
//
// A limited tools/call gets a tool error result that tells the model how
// long to wait (and _meta "io.switchboard/retryAfterMs"); other requests
// get JSON-RPC error gateway.CodeLimited. The handler of a tool cannot
// choose the HTTP status of its answer — on Streamable HTTP the response
// may already be an event stream, or carry other answers — so HTTP 429
// with Retry-After is given by HTTPStatus, a wrapper of the HTTP handler
// that rewrites the status of a JSON answer (not a stream) that a limit
// refused, where the transport allows.
package limits

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-mcp/switchboard/gateway"
	"github.com/switchboard-mcp/switchboard/protocol"
)

// Dimensions a limit counts by (Rule.Key).
const (
	KeyTenant   = "tenant"
	KeyIdentity = "identity"
	KeyUpstream = "upstream"
	KeyTool     = "tool"
)

// Rule is one limit.
type Rule struct {
	// Name identifies the limit in refusals.
	Name string
	// Key lists what the limit counts by (default [KeyIdentity]).
	Key []string
	// Upstreams, Tools (exposed names), Tenants restrict the rule to
	// matching requests ("*" wildcards); empty matches all.
	Upstreams, Tools, Tenants []string
	// Methods restricts the rule to these methods (default: every
	// method Admit is asked about).
	Methods []string
	// Rate is a token bucket, "N/s", "N/m", "N/h" or "N/d" ("" for
	// none).
	Rate string
	// Burst is the bucket's size (default N of Rate).
	Burst int
	// Concurrency bounds the requests in flight (0: none).
	Concurrency int
	// Scope, when set, makes the rule a tenant's own: it applies only to
	// that tenant's requests and its counters are the tenant's.
	Scope string
}

// Options configure a Limiter.
type Options struct {
	// Rules are the limits.
	Rules []Rule
	// Store keeps the counters; nil means NewMemory().
	Store Store
	// FailClosed refuses requests when the store fails (Redis down);
	// false allows them (and logs).
	FailClosed bool
	// LeaseTTL bounds how long a concurrency slot is held if its holder
	// never releases it (a crashed process); default 5 minutes.
	LeaseTTL time.Duration
	// Logger receives store failures. Nil discards them.
	Logger *slog.Logger
}

// Store keeps the counters of limits.
type Store interface {
	// Take takes one token from the bucket key (refilled at rate tokens
	// per second up to burst). It returns whether there was one and, if
	// not, how long until there is.
	Take(ctx context.Context, key string, rate float64, burst int) (ok bool, retryAfter time.Duration, err error)
	// Acquire takes one of limit slots of key, for at most ttl, under
	// the lease id. It returns whether one was free.
	Acquire(ctx context.Context, key, lease string, limit int, ttl time.Duration) (bool, error)
	// Release gives back the slot of lease.
	Release(ctx context.Context, key, lease string) error
}

type rule struct {
	Rule
	perSecond float64
	burst     int
	methods   []string
}

// Limiter applies limits. It is safe for concurrent use.
type Limiter struct {
	rules      []rule
	store      Store
	failClosed bool
	ttl        time.Duration
	log        *slog.Logger
	seq        leaseSeq
}

// New checks the rules and returns their Limiter.
func New(opts Options) (*Limiter, error) {
	l := &Limiter{store: opts.Store, failClosed: opts.FailClosed, ttl: opts.LeaseTTL, log: opts.Logger}
	if l.store == nil {
		l.store = NewMemory()
	}
	if l.ttl <= 0 {
		l.ttl = 5 * time.Minute
	}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	var errs []error
	seen := map[string]bool{}
	for i, r := range opts.Rules {
		where := fmt.Sprintf("limit %d", i+1)
		if r.Name != "" {
			where = fmt.Sprintf("limit %q", r.Name)
		}
		id := r.Scope + "/" + r.Name
		switch {
		case r.Name == "":
			errs = append(errs, fmt.Errorf("limits: %s: a limit needs a name", where))
		case seen[id]:
			errs = append(errs, fmt.Errorf("limits: %s: two limits have this name", where))
		}
		seen[id] = true
		cr := rule{Rule: r, methods: r.Methods}
		if len(cr.Key) == 0 {
			cr.Key = []string{KeyIdentity}
		}
		for _, k := range cr.Key {
			switch k {
			case KeyTenant, KeyIdentity, KeyUpstream, KeyTool:
			default:
				errs = append(errs, fmt.Errorf("limits: %s: unknown key %q (tenant, identity, upstream or tool)", where, k))
			}
		}
		if r.Rate != "" {
			n, per, err := ParseRate(r.Rate)
			if err != nil {
				errs = append(errs, fmt.Errorf("limits: %s: %v", where, err))
			} else {
				cr.perSecond = n / per.Seconds()
				cr.burst = r.Burst
				if cr.burst <= 0 {
					cr.burst = max(1, int(math.Ceil(n)))
				}
			}
		}
		if r.Rate == "" && r.Concurrency <= 0 {
			errs = append(errs, fmt.Errorf("limits: %s: set a rate, a concurrency, or both", where))
		}
		if r.Concurrency < 0 || r.Burst < 0 {
			errs = append(errs, fmt.Errorf("limits: %s: burst and concurrency cannot be negative", where))
		}
		l.rules = append(l.rules, cr)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return l, nil
}

// ParseRate parses "N/s", "N/m", "N/h" or "N/d" (also "N/second",
// "N/minute", ...): N requests per period.
func ParseRate(s string) (n float64, per time.Duration, err error) {
	num, unit, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return 0, 0, fmt.Errorf("rate %q: want N/s, N/m, N/h or N/d", s)
	}
	n, err = strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || n <= 0 || math.IsInf(n, 0) || math.IsNaN(n) {
		return 0, 0, fmt.Errorf("rate %q: want a positive number of requests", s)
	}
	switch strings.TrimSpace(unit) {
	case "s", "sec", "second":
		per = time.Second
	case "m", "min", "minute":
		per = time.Minute
	case "h", "hour":
		per = time.Hour
	case "d", "day":
		per = 24 * time.Hour
	default:
		return 0, 0, fmt.Errorf("rate %q: the period is s, m, h or d", s)
	}
	return n, per, nil
}

// matches reports whether r applies to a.
func (r *rule) matches(a *gateway.Access) bool {
	tenant := ""
	if a.Identity != nil {
		tenant = a.Identity.Tenant
	}
	if r.Scope != "" && tenant != r.Scope {
		return false
	}
	if len(r.methods) > 0 && !slices.Contains(r.methods, a.Method) {
		return false
	}
	if !anyGlob(r.Upstreams, a.Upstream) || !anyGlob(r.Tenants, tenant) {
		return false
	}
	if len(r.Tools) > 0 && (a.Method != protocol.MethodToolsCall || !anyGlob(r.Tools, a.Name)) {
		return false
	}
	return true
}

// key returns the counter key of a under r.
func (r *rule) key(a *gateway.Access) string {
	var b strings.Builder
	b.WriteString(r.Scope)
	b.WriteByte('/')
	b.WriteString(r.Name)
	for _, k := range r.Key {
		b.WriteByte('|')
		switch k {
		case KeyTenant:
			if a.Identity != nil {
				b.WriteString(a.Identity.Tenant)
			}
		case KeyIdentity:
			if a.Identity != nil {
				// The tenant qualifies the subject: "ada" of two tenants
				// are two people.
				b.WriteString(a.Identity.Tenant)
				b.WriteByte('/')
				b.WriteString(a.Identity.Subject)
				if a.Identity.Subject == "" {
					b.WriteString(a.Identity.ClientID)
				}
			}
		case KeyUpstream:
			b.WriteString(a.Upstream)
		case KeyTool:
			b.WriteString(a.Kind)
			b.WriteByte(':')
			b.WriteString(a.Name)
		}
	}
	return b.String()
}

// Admit is the gateway's Hooks.Admit: it holds a to every rule that
// matches it, taking a token from each rate limit and a slot of each
// concurrency limit; the release function gives the slots back.
func (l *Limiter) Admit(ctx context.Context, a *gateway.Access) (func(), error) {
	type held struct{ key, lease string }
	var slots []held
	release := func() {
		// The request may be over (cancelled): release regardless. A Redis
		// store's operations are bounded by the client's timeouts.
		rctx := context.WithoutCancel(ctx)
		for _, s := range slots {
			if err := l.store.Release(rctx, s.key, s.lease); err != nil {
				l.log.Warn("limits: releasing a concurrency slot failed (it expires by itself)", "err", err)
			}
		}
	}
	for i := range l.rules {
		r := &l.rules[i]
		if !r.matches(a) {
			continue
		}
		key := r.key(a)
		if r.perSecond > 0 {
			ok, wait, err := l.store.Take(ctx, "rate:"+key, r.perSecond, r.burst)
			if err != nil {
				if lim := l.storeFailed(r, err); lim != nil {
					release()
					return nil, lim
				}
			} else if !ok {
				release()
				return nil, &gateway.Limited{Rule: r.Name, Reason: "rate limit of " + r.Rate + " reached", RetryAfter: wait}
			}
		}
		if r.Concurrency > 0 {
			lease := l.seq.next()
			ok, err := l.store.Acquire(ctx, "conc:"+key, lease, r.Concurrency, l.ttl)
			switch {
			case err != nil:
				if lim := l.storeFailed(r, err); lim != nil {
					release()
					return nil, lim
				}
			case !ok:
				release()
				return nil, &gateway.Limited{Rule: r.Name, Reason: fmt.Sprintf("at most %d at once", r.Concurrency), RetryAfter: time.Second}
			default:
				slots = append(slots, held{"conc:" + key, lease})
			}
		}
	}
	if len(slots) == 0 {
		return nil, nil
	}
	return release, nil
}

// storeFailed applies the fail mode to a store error: nil to go on (fail
// open), or the refusal (fail closed).
func (l *Limiter) storeFailed(r *rule, err error) *gateway.Limited {
	if !l.failClosed {
		l.log.Warn("limits: the store failed; allowing (fail open)", "limit", r.Name, "err", err)
		return nil
	}
	l.log.Warn("limits: the store failed; refusing (fail closed)", "limit", r.Name, "err", err)
	return &gateway.Limited{Rule: r.Name, Reason: "the limit cannot be checked now", RetryAfter: time.Second}
}

func anyGlob(patterns []string, s string) bool {
	if len(patterns) == 0 {
		return true
	}
	for _, p := range patterns {
		if glob(p, s) {
			return true
		}
	}
	return false
}

// glob matches s against pattern, where "*" is any run of characters.
func glob(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for i, p := range parts[1:] {
		if i == len(parts)-2 {
			return strings.HasSuffix(s, p)
		}
		j := strings.Index(s, p)
		if j < 0 {
			return false
		}
		s = s[j+len(p):]
	}
	return true
}
