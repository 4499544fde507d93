package goexec

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge/queue"
)

// namedHandler is a handler with an identity, so a test can tell which one Lookup returned.
type namedHandler struct{ name string }

func (*namedHandler) ProcessJob(context.Context, *queue.Job) error { return nil }

func named(name string) queue.Handler { return &namedHandler{name} }

func TestMuxLookup(t *testing.T) {
	t.Parallel()
	m := NewMux()
	hello, multi, taskA := named("hello"), named("multi"), named("taskA")
	m.Handle(`app\job\Hello`, hello)
	m.Handle(`app\job\Multi`, multi)
	m.Handle(`app\job\Multi@taskA`, taskA)

	for _, tc := range []struct {
		name string
		want queue.Handler
	}{
		{`app\job\Hello`, hello},
		{`\app\job\Hello`, hello}, // PHP ignores a leading backslash
		{`app\job\Multi@taskA`, taskA},
		{`app\job\Multi@taskB`, multi}, // the class handler serves its other methods
		{`app\job\Multi`, multi},
	} {
		h, ok := m.Lookup(tc.name)
		require.True(t, ok, tc.name)
		require.Same(t, tc.want, h, tc.name)
	}
	_, ok := m.Lookup(`app\job\Other`)
	require.False(t, ok)
	_, ok = m.Lookup(`app\job\Hello@fire`) // Class@method matches Class, as the PHP class would run it
	require.True(t, ok)

	fallback := named("fallback")
	m.HandleFallback(fallback)
	h, ok := m.Lookup(`app\job\Other`)
	require.True(t, ok)
	require.Same(t, fallback, h)
}

func TestMuxRegistrationErrors(t *testing.T) {
	t.Parallel()
	m := NewMux()
	m.Handle("A", named("a"))
	require.Error(t, m.HandleSafely("A", named("a2")))
	require.Error(t, m.HandleSafely(`\A`, named("a3")), "a leading backslash names the same class")
	require.Error(t, m.HandleSafely("", named("empty")))
	require.Error(t, m.HandleSafely("B", nil))
	require.Panics(t, func() { m.Handle("A", named("again")) })
	require.ElementsMatch(t, []string{"A"}, m.Names())
}
