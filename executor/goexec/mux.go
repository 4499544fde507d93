// Package goexec routes jobs to Go handlers by their PHP job name, the way net/http's ServeMux routes
// requests by path.
package goexec

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/queuebridge/bridge/queue"
)

// Mux maps job names to handlers. A name is matched exactly (`app\job\Hello`, `app\job\Multi@taskA`); a
// `Class@method` name with no handler of its own goes to the handler of `Class` (the handler then serves
// every method of the class, as the PHP class did); anything else goes to the fallback, if one is set.
// A leading backslash is ignored on both sides, as PHP ignores it in class names.
type Mux struct {
	mu       sync.RWMutex
	handlers map[string]queue.Handler
	fallback queue.Handler
}

// NewMux returns an empty Mux.
func NewMux() *Mux { return &Mux{handlers: make(map[string]queue.Handler)} }

// Handle registers h for name. It panics if name is empty, h is nil or name is already registered, since
// that is a programming error found at start-up.
func (m *Mux) Handle(name string, h queue.Handler) {
	if err := m.HandleSafely(name, h); err != nil {
		panic(err)
	}
}

// HandleSafely is Handle returning an error instead of panicking.
func (m *Mux) HandleSafely(name string, h queue.Handler) error {
	key := canonical(name)
	switch {
	case key == "":
		return errors.New("goexec: empty job name")
	case h == nil:
		return fmt.Errorf("goexec: nil handler for %q", name)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, dup := m.handlers[key]; dup {
		return fmt.Errorf("goexec: handler for %q registered twice", name)
	}
	m.handlers[key] = h
	return nil
}

// HandleFunc registers f for name.
func (m *Mux) HandleFunc(name string, f func(ctx context.Context, job *queue.Job) error) {
	m.Handle(name, queue.HandlerFunc(f))
}

// HandleFallback sets the handler for names no other handler matches.
func (m *Mux) HandleFallback(h queue.Handler) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fallback = h
}

// Lookup returns the handler for a job name, and false when there is none (not even a fallback).
func (m *Mux) Lookup(name string) (queue.Handler, bool) {
	key := canonical(name)
	m.mu.RLock()
	defer m.mu.RUnlock()
	if h, ok := m.handlers[key]; ok {
		return h, true
	}
	if class, _, ok := strings.Cut(key, "@"); ok {
		if h, ok := m.handlers[class]; ok {
			return h, true
		}
	}
	return m.fallback, m.fallback != nil
}

// Names lists the registered job names.
func (m *Mux) Names() []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	names := make([]string, 0, len(m.handlers))
	for n := range m.handlers {
		names = append(names, n)
	}
	return names
}

func canonical(name string) string { return strings.TrimPrefix(strings.TrimSpace(name), `\`) }
