package mcp

import (
	"context"
	"slices"
	"sync"
	"time"
)

// MemoryTaskStore is a TaskStore held in memory. Expired tasks are dropped
// as the store is used. It is safe for concurrent use.
type MemoryTaskStore struct {
	mu     sync.Mutex
	owners map[string]*ownerTasks
	now    func() time.Time
	ops    int
}

type ownerTasks struct {
	byID  map[string]*TaskRecord
	order []string // creation order
}

// NewMemoryTaskStore returns an empty store.
func NewMemoryTaskStore() *MemoryTaskStore {
	return &MemoryTaskStore{owners: make(map[string]*ownerTasks), now: time.Now}
}

func copyRecord(r *TaskRecord) *TaskRecord {
	c := *r
	if r.Task.TTL != nil {
		ttl := *r.Task.TTL
		c.Task.TTL = &ttl
	}
	return &c
}

func (m *MemoryTaskStore) expired(r *TaskRecord) bool {
	return !r.ExpiresAt.IsZero() && m.now().After(r.ExpiresAt)
}

// sweep drops expired tasks; called every so often under the lock.
func (m *MemoryTaskStore) sweep() {
	m.ops++
	if m.ops%256 != 0 {
		return
	}
	for owner, ot := range m.owners {
		ot.order = slices.DeleteFunc(ot.order, func(id string) bool {
			if m.expired(ot.byID[id]) {
				delete(ot.byID, id)
				return true
			}
			return false
		})
		if len(ot.order) == 0 {
			delete(m.owners, owner)
		}
	}
}

// Create implements TaskStore.
func (m *MemoryTaskStore) Create(_ context.Context, owner string, rec *TaskRecord) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep()
	ot := m.owners[owner]
	if ot == nil {
		ot = &ownerTasks{byID: make(map[string]*TaskRecord)}
		m.owners[owner] = ot
	}
	ot.byID[rec.Task.TaskID] = copyRecord(rec)
	ot.order = append(ot.order, rec.Task.TaskID)
	return nil
}

func (m *MemoryTaskStore) lookup(owner, id string) (*TaskRecord, error) {
	ot := m.owners[owner]
	if ot == nil {
		return nil, ErrTaskNotFound
	}
	r := ot.byID[id]
	if r == nil || m.expired(r) {
		return nil, ErrTaskNotFound
	}
	return r, nil
}

// Get implements TaskStore.
func (m *MemoryTaskStore) Get(_ context.Context, owner, id string) (*TaskRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.lookup(owner, id)
	if err != nil {
		return nil, err
	}
	return copyRecord(r), nil
}

// Update implements TaskStore.
func (m *MemoryTaskStore) Update(_ context.Context, owner, id string, fn func(*TaskRecord) error) (*TaskRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.lookup(owner, id)
	if err != nil {
		return nil, err
	}
	c := copyRecord(r)
	if err := fn(c); err != nil {
		return nil, err
	}
	m.owners[owner].byID[id] = c
	return copyRecord(c), nil
}

// List implements TaskStore.
func (m *MemoryTaskStore) List(_ context.Context, owner, cursor string, limit int) ([]*TaskRecord, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep()
	ot := m.owners[owner]
	if ot == nil {
		if cursor != "" {
			return nil, "", ErrTaskNotFound
		}
		return nil, "", nil
	}
	start := 0
	if cursor != "" {
		i := slices.Index(ot.order, cursor)
		if i < 0 {
			return nil, "", ErrTaskNotFound
		}
		start = i + 1
	}
	var out []*TaskRecord
	next := ""
	for _, id := range ot.order[start:] {
		r := ot.byID[id]
		if m.expired(r) {
			continue
		}
		if len(out) == limit {
			next = out[len(out)-1].Task.TaskID
			break
		}
		out = append(out, copyRecord(r))
	}
	return out, next, nil
}

// deleteOwner forgets every task of owner (the tasks of a session that
// ended).
func (m *MemoryTaskStore) deleteOwner(owner string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.owners, owner)
}

// Delete implements TaskStore.
func (m *MemoryTaskStore) Delete(_ context.Context, owner, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	ot := m.owners[owner]
	if ot == nil || ot.byID[id] == nil {
		return ErrTaskNotFound
	}
	delete(ot.byID, id)
	ot.order = slices.DeleteFunc(ot.order, func(s string) bool { return s == id })
	return nil
}
