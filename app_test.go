package bridge_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
	"github.com/queuebridge/bridge/executor/php"
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

// `bridge work --app DIR --queue Q` on each ThinkPHP stand-in drains a queue pushed in that app's dialect on
// the Redis DB its own config selects (PHP_REDIS_SELECT here), running app\job\Act in the PHP executor: no
// --connection, --dialect or --php-framework.
func TestWorkFromThinkPHPApp(t *testing.T) {
	needPHP(t)
	rdb := goredis.NewClient(&goredis.Options{Addr: testRedis(t).Options().Addr, DB: 5})
	t.Cleanup(func() { rdb.Close() })
	t.Setenv("PHP_REDIS_SELECT", "5")
	t.Setenv("PHP_QUEUE_CONNECTION", "redis")
	for _, tc := range []struct{ dir, dialect string }{
		{"tp50", "thinkqueue-v1"}, {"tp51", "thinkqueue-v2"}, {"tp6", "thinkqueue-v3"}, {"tp6-3.0.4", "thinkqueue-v3-plain"},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			queue := fmt.Sprintf("tpapp%d", rand.Int64())
			t.Cleanup(func() { deleteKeys(rdb, "*queues:"+queue+"*") })
			// The app's default queue: what work drains without --queue, as the app's own queue:work does.
			t.Setenv("PHP_QUEUE_DEFAULT", queue) // 5.0 and 5.1
			t.Setenv("PHP_QUEUE_QUEUE", queue)   // 6/8
			dir := thinkPHPApp(t, tc.dir)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			p, err := bridge.Open(ctx, &bridge.Config{Connection: "redis://127.0.0.1:6379/5", Dialect: tc.dialect, Logger: quiet})
			require.NoError(t, err)
			defer p.Close()
			mark := filepath.Join(t.TempDir(), "marks")
			_, err = p.Push(ctx, queue, `app\job\Act`, map[string]any{"mark": mark, "what": "ok"})
			require.NoError(t, err)

			var stdout, stderr bytes.Buffer
			code := bridge.New().RunCommand(ctx, []string{"bridge", "work", "--app", dir, "--stop-when-empty",
				"--php-workers", "1"}, &stdout, &stderr)
			require.Equal(t, 0, code, stderr.String())
			require.Contains(t, stderr.String(), "dialect="+strings.Replace(tc.dialect, "v2", "v1", 1))
			marks, err := os.ReadFile(mark)
			require.NoError(t, err, stderr.String())
			require.Contains(t, string(marks), `"event":"start"`)
			sizes, err := p.Sizes(ctx, queue)
			require.NoError(t, err)
			require.Zero(t, sizes.Ready+sizes.Reserved+sizes.Delayed)

			// push --app without --queue pushes onto the app's default queue, as its Queue::push does.
			stdout.Reset()
			code = bridge.New().RunCommand(ctx, []string{"bridge", "push", "--app", dir, `app\job\Act`, `{"what":"ok"}`}, &stdout, &stderr)
			require.Equal(t, 0, code, stderr.String())
			sizes, err = p.Sizes(ctx, queue)
			require.NoError(t, err)
			require.Equal(t, int64(1), sizes.Ready)
		})
	}
}

// thinkPHPApp is the directory of a ThinkPHP stand-in; "tp6-3.0.4" is tp6 with think-queue 3.0.4 installed
// (which keeps the keys queues:X that 3.0.5 renamed): a copy beside the stand-ins' shared code, whose
// vendor/composer/installed.json says so.
func thinkPHPApp(t *testing.T, name string) string {
	t.Helper()
	const root = "executor/php/testdata/thinkphp"
	if name != "tp6-3.0.4" {
		dir, err := filepath.Abs(filepath.Join(root, name))
		require.NoError(t, err)
		return dir
	}
	tmp := t.TempDir()
	require.NoError(t, os.CopyFS(filepath.Join(tmp, "shared"), os.DirFS(filepath.Join(root, "shared"))))
	dir := filepath.Join(tmp, "tp6")
	require.NoError(t, os.CopyFS(dir, os.DirFS(filepath.Join(root, "tp6"))))
	installed := filepath.Join(dir, "vendor", "composer", "installed.json")
	b, err := os.ReadFile(installed)
	require.NoError(t, err)
	b = bytes.ReplaceAll(b, []byte("3.0.9"), []byte("3.0.4"))
	require.NoError(t, os.WriteFile(installed, b, 0o644))
	return dir
}

// An app whose queue connector the bridge cannot drain gets an error naming it.
func TestWorkFromThinkPHPAppUnsupported(t *testing.T) {
	needPHP(t)
	t.Setenv("PHP_QUEUE_CONNECTOR", "Topthink")
	dir, err := filepath.Abs("executor/php/testdata/thinkphp/tp50")
	require.NoError(t, err)
	var stdout, stderr bytes.Buffer
	code := bridge.New().RunCommand(context.Background(), []string{"bridge", "work", "--app", dir, "--queue", "q"}, &stdout, &stderr)
	require.NotEqual(t, 0, code)
	require.Contains(t, stderr.String(), `uses the Topthink driver`)
}

// FromApp on a ThinkPHP app: the dialect of its line, and the restart signal in its File cache (the
// runtime/cache/ of the app) or its Redis cache store.
func TestFromThinkPHPApp(t *testing.T) {
	needPHP(t)
	t.Setenv("PHP_QUEUE_CONNECTION", "redis")
	for _, tc := range []struct{ dir, dialect string }{
		{"tp50", "thinkqueue-v1"}, {"tp51", "thinkqueue-v2"}, {"tp6", "thinkqueue-v3"}, {"tp6-3.0.4", "thinkqueue-v3-plain"},
	} {
		dir := thinkPHPApp(t, tc.dir)
		cfg, app, err := bridge.FromApp(context.Background(), php.Options{App: dir}, "")
		require.NoError(t, err, tc.dir)
		require.Equal(t, tc.dialect, cfg.Dialect, tc.dir)
		require.Equal(t, "redis://127.0.0.1:6379/0", cfg.Connection, tc.dir)
		require.Equal(t, 60*time.Second, cfg.Expire, tc.dir)
		require.Equal(t, []string{"default"}, cfg.Worker.Queues, tc.dir)
		require.Equal(t, "file:"+filepath.Join(dir, "runtime", "cache"), cfg.CacheConnection, tc.dir)
		require.NotEmpty(t, app.Version, tc.dir)
	}
	dir, err := filepath.Abs("executor/php/testdata/thinkphp/tp6")
	require.NoError(t, err)
	cfg, _, err := bridge.FromApp(context.Background(), php.Options{App: dir,
		Env: []string{"PHP_CACHE_DRIVER=redis", "PHP_CACHE_SELECT=3", "PHP_CACHE_PREFIX=shop:"}}, "")
	require.NoError(t, err)
	require.Equal(t, "redis://127.0.0.1:6379/3", cfg.CacheConnection)
	require.Equal(t, "shop:", cfg.CachePrefix)

	// Without a database config, the queue config's database connection is an error only when drained.
	dir = thinkPHPApp(t, "tp6-3.0.4")
	require.NoError(t, os.Remove(filepath.Join(dir, "config", "database.php")))
	_, _, err = bridge.FromApp(context.Background(), php.Options{App: dir}, "redis")
	require.NoError(t, err)
	_, _, err = bridge.FromApp(context.Background(), php.Options{App: dir}, "database")
	require.ErrorContains(t, err, `app: queue connection "database": queue.connections.database: no database connection in the app's database config`)
}

// `bridge restart --app DIR` writes the restart signal where and as the app's own `php think queue:restart`
// does: in its File cache, serialize()d for ThinkPHP 5.0 (whose daemon cannot read anything else), plain for
// 5.1 and 6/8.
func TestRestartFromThinkPHPApp(t *testing.T) {
	needPHP(t)
	t.Setenv("PHP_QUEUE_CONNECTION", "redis")
	for _, tc := range []struct{ dir, stamp string }{
		{"tp50", `i:[0-9]{10};`}, {"tp51", `[0-9]{10}`}, {"tp6", `[0-9]{10}`},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			dir, err := filepath.Abs(filepath.Join("executor/php/testdata/thinkphp", tc.dir))
			require.NoError(t, err)
			// The cache prefix is a directory of the File cache: this test's own, inside the app's runtime/.
			prefix := fmt.Sprintf("qbrestart%d", rand.Int64())
			t.Setenv("PHP_CACHE_PREFIX", prefix)
			cache := filepath.Join(dir, "runtime", "cache", prefix)
			t.Cleanup(func() { os.RemoveAll(cache) })
			var stdout, stderr bytes.Buffer
			code := bridge.New().RunCommand(context.Background(), []string{"bridge", "restart", "--app", dir}, &stdout, &stderr)
			require.Equal(t, 0, code, stderr.String())
			got, err := os.ReadFile(filepath.Join(cache, "fe", "767bdf35445c5d9d176a0c20c983f6.php"))
			require.NoError(t, err, stderr.String())
			require.Regexp(t, `^<\?php\n//000000000000\n exit\(\);\?>\n`+tc.stamp+`$`, string(got))
		})
	}
}
