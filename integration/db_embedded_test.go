package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDBEmbeddedDefault: examples/hello with no connection configured, run in an empty directory: `hello
// push` and `hello work --stop-when-empty` use the embedded SQLite queue, which the bridge creates as
// ./bridge.db there; the jobs run ("Hello, …"), and the log names the embedded default.
func TestDBEmbeddedDefault(t *testing.T) {
	t.Parallel()
	bin := binary(t, "../examples/hello")

	dir := t.TempDir()
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BRIDGE_") {
			env = append(env, kv)
		}
	}
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "hello %v:\n%s", args, out)
		return string(out)
	}
	p1 := run("push", `app\job\Hello`, `{"name":"Ada"}`)
	p2 := run("push", `app\job\Hello`, `{"name":"张三"}`)
	require.Contains(t, p1, "embedded default", "the push names the embedded default")
	require.Contains(t, p1, "sqlite:./bridge.db")
	require.FileExists(t, filepath.Join(dir, "bridge.db"), "bridge.db is created in the working directory")
	_ = p2

	w := run("work", "--stop-when-empty", "--sleep", "0")
	require.Contains(t, w, "no connection configured: using the embedded default")
	require.Contains(t, w, "Hello, Ada!")
	require.Contains(t, w, "Hello, 张三!")
	require.Equal(t, 1, strings.Count(w, "Hello, Ada!"))

	// Drained: a second worker finds nothing.
	w2 := run("work", "--stop-when-empty", "--sleep", "0")
	require.NotContains(t, w2, "Hello,")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	require.Contains(t, names, "bridge.db")
}
