package bridge_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
)

// `bridge work --app DIR --queue Q` drains the Laravel app's queue on the Redis DB index and prefix its own
// config names (REDIS_DB 5 and REDIS_PREFIX here), with nothing else said about the connection.
func TestWorkFromApp(t *testing.T) {
	needPHP(t)
	rdb := testRedis(t)
	prefix := fmt.Sprintf("qbapp%d_", rand.Int64())
	t.Cleanup(func() { deleteKeys(rdb, "*"+prefix+"*") })
	t.Setenv("REDIS_DB", "5")
	t.Setenv("REDIS_PREFIX", prefix)
	dir, err := filepath.Abs("integration/testdata/laravel")
	require.NoError(t, err)
	boot, err := filepath.Abs("executor/php/testdata/boot.php")
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := bridge.Open(ctx, &bridge.Config{Connection: "redis://127.0.0.1:6379/5", Dialect: "laravel-8", Prefix: prefix, Logger: quiet})
	require.NoError(t, err)
	defer p.Close()
	t.Cleanup(func() { _, _ = p.Flush(context.Background()) })
	_, err = p.Push(ctx, "q1", `App\Jobs\Record`, map[string]any{"n": 1})
	require.NoError(t, err)

	b := bridge.New()
	ran := 0
	b.HandleFunc(`App\Jobs\Record`, func(context.Context, *bridge.Job) error { ran++; return nil })
	var stdout, stderr bytes.Buffer
	code := b.RunCommand(ctx, []string{"bridge", "work", "--app", dir, "--php-boot", boot, "--queue", "q1", "--stop-when-empty",
		"--php-workers", "1"}, &stdout, &stderr)
	require.Equal(t, 0, code, stderr.String())
	require.Equal(t, 1, ran)
	require.Contains(t, stderr.String(), "dialect=laravel-8")
	require.Contains(t, stderr.String(), "/5")
	sizes, err := p.Sizes(ctx, "q1")
	require.NoError(t, err)
	require.Zero(t, sizes.Ready)
}
