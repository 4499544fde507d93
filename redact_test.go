package bridge

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// silentListener accepts connections on loopback and never answers, like a server that hangs.
func silentListener(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		l.Close()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}

// No output of the bridge — errors, logs, help — carries a password, whatever the URL form, whether it
// parses or not, on any command.
func TestNoSecretInOutput(t *testing.T) {
	t.Chdir(t.TempDir()) // a fallback to the embedded default would create ./bridge.db here, not in the checkout
	const secret = "s3cr#t/p?w@x"
	const plain = "s3cretplain"
	hang := silentListener(t)
	urls := []string{
		"redis://:" + plain + "@127.0.0.1:notaport/0",
		"redis://:" + secret + "@127.0.0.1:1/0",
		"redis://user:" + plain + "@" + hang + "/0?dial_timeout=200ms&read_timeout=200ms",
		"rediss://:" + plain + "@127.0.0.1:notaport/0",
		"redis+sentinel://:" + plain + "@127.0.0.1:notaport?master_name=m",
		"redis+cluster://:" + plain + "@127.0.0.1:notaport",
		"redis://127.0.0.1:1/0?password=" + plain,
		"mysql://root:" + plain + "@127.0.0.1:notaport/db",
		"mysql://root:" + secret + "@127.0.0.1:1/db?timeout=200ms",
		"mysql://root:" + plain + "@" + hang + "/db?timeout=200ms&readTimeout=200ms",
		"postgres://u:" + plain + "@127.0.0.1:notaport/db",
		"postgres://u:" + secret + "@127.0.0.1:1/db?connect_timeout=1",
		"postgres://u:" + plain + "@" + hang + "/db?connect_timeout=1",
	}
	commands := [][]string{
		{"push", "X"},
		{"work", "--once"},
		{"failed", "list"},
		{"failed", "retry", "all"},
		{"restart"},
		{"queues"},
		{"migrate", "--dry-run"},
	}
	b := New()
	for _, u := range urls {
		for _, cmd := range commands {
			for _, flags := range [][]string{
				{"--connection", u},
				{"--connection", "redis://127.0.0.1:1/0", "--cache-connection", u},
				{"--connection", "sqlite:" + filepath.Join(t.TempDir(), "q.db"), "--failed-database", u},
			} {
				var stdout, stderr bytes.Buffer
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				code := b.RunCommand(ctx, append(append([]string{"bridge"}, cmd...), flags...), &stdout, &stderr)
				cancel()
				out := stdout.String() + stderr.String()
				for _, s := range []string{plain, secret, "s3cr%23t"} {
					require.NotContains(t, out, s, "%v %v (exit %d)", cmd, flags, code)
				}
			}
		}
	}
	t.Setenv("BRIDGE_CONNECTION", "redis://:"+plain+"@127.0.0.1:notaport/0")
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, b.RunCommand(context.Background(), []string{"bridge", "work", "--help"}, &stdout, &stderr))
	require.NotContains(t, stdout.String()+stderr.String(), plain)
	require.NotEqual(t, 0, b.RunCommand(context.Background(), []string{"bridge", "failed", "list"}, &stdout, &stderr))
	require.NotContains(t, stdout.String()+stderr.String(), plain)
	_, err := os.Stat("bridge.db")
	require.True(t, os.IsNotExist(err), "no command fell back to the embedded default")
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"redis://:pw@127.0.0.1:6379/0":                 "redis://***@127.0.0.1:6379/0",
		"redis://u:p/a#ss?w@h:1/0":                     "redis://***@h:1/0",
		"mysql://root:pw@127.0.0.1:3306/db?table=jobs": "mysql://***@127.0.0.1:3306/db?table=jobs",
		"redis://h:1/0?password=pw&db=1":               "redis://h:1/0?password=***&db=1",
		"sqlite:./bridge.db":                           "sqlite:./bridge.db",
		"root:pw@tcp(127.0.0.1:3306)/db":               "root:***@tcp(127.0.0.1:3306)/db",
	} {
		got := redactURL(in)
		require.Equal(t, want, got, in)
		require.False(t, strings.Contains(got, "pw"), in)
	}
}
