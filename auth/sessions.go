package auth

import (
	"net/http"
	"sync"
	"time"
)

// sessionTable remembers which principal created each MCP session, so that
// a session id that leaks cannot be used with another principal's token.
type sessionTable struct {
	mu  sync.Mutex
	m   map[string]sessionEntry
	max int
	ttl time.Duration
	now func() time.Time
}

type sessionEntry struct {
	principal string
	seen      time.Time
}

func newSessionTable(max int, ttl time.Duration) *sessionTable {
	if max <= 0 {
		max = 100000
	}
	if ttl <= 0 {
		ttl = 24 * time.Hour
	}
	return &sessionTable{m: make(map[string]sessionEntry), max: max, ttl: ttl, now: time.Now}
}

// check reports whether principal may use session sid. A session the table
// does not know is bound to the first principal that uses it.
func (t *sessionTable) check(sid, principal string) bool {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.m[sid]
	if ok && now.Sub(e.seen) <= t.ttl {
		if e.principal != principal {
			return false
		}
		e.seen = now
		t.m[sid] = e
		return true
	}
	t.putLocked(sid, principal, now)
	return true
}

func (t *sessionTable) put(sid, principal string) {
	now := t.now()
	t.mu.Lock()
	t.putLocked(sid, principal, now)
	t.mu.Unlock()
}

func (t *sessionTable) putLocked(sid, principal string, now time.Time) {
	if _, ok := t.m[sid]; !ok && len(t.m) >= t.max {
		for k, e := range t.m {
			if now.Sub(e.seen) > t.ttl {
				delete(t.m, k)
			}
		}
		for k := range t.m {
			if len(t.m) < t.max {
				break
			}
			delete(t.m, k) // arbitrary: map order is unspecified
		}
	}
	t.m[sid] = sessionEntry{principal: principal, seen: now}
}

func (t *sessionTable) forget(sid string) {
	t.mu.Lock()
	delete(t.m, sid)
	t.mu.Unlock()
}

func (t *sessionTable) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}

// sessionRecorder watches the response of an initialize request for the
// new session's id, or the response of a DELETE for the session's end.
type sessionRecorder struct {
	http.ResponseWriter
	table     *sessionTable
	principal string // record the new session for this principal
	forget    string // forget this session on success
	done      bool
}

func (s *sessionRecorder) observe(status int) {
	if s.done {
		return
	}
	s.done = true
	if status < 200 || status > 299 {
		return
	}
	if s.forget != "" {
		s.table.forget(s.forget)
		return
	}
	if sid := s.Header().Get(sessionHeader); sid != "" {
		s.table.put(sid, s.principal)
	}
}

func (s *sessionRecorder) WriteHeader(status int) {
	s.observe(status)
	s.ResponseWriter.WriteHeader(status)
}

func (s *sessionRecorder) Write(p []byte) (int, error) {
	s.observe(http.StatusOK)
	return s.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the underlying writer
// (flushing SSE streams, write deadlines).
func (s *sessionRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Flush implements http.Flusher for handlers that assert it.
func (s *sessionRecorder) Flush() {
	s.observe(http.StatusOK)
	_ = http.NewResponseController(s.ResponseWriter).Flush()
}
