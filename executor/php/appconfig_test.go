package php

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The Laravel test app (real Laravel 8.83) with a Redis password and a non-default DB index: what ReadApp
// derives is what the app's own PHP config says, asked of the booted app with php -r.
func TestReadAppLaravel(t *testing.T) {
	needPHP(t)
	boot, err := filepath.Abs("testdata/boot.php")
	require.NoError(t, err)
	dir, err := filepath.Abs("../../integration/testdata/laravel")
	require.NoError(t, err)
	env := []string{"REDIS_PASSWORD=s3cr:t@x", "REDIS_DB=7", "REDIS_CACHE_DB=9", "REDIS_PREFIX=myapp_", "QUEUE_RETRY_AFTER=45",
		"REDIS_QUEUE=mails", "CACHE_PREFIX=mycache"}
	truth := func(expr string) string {
		cmd := exec.Command("php", "-r", `$app = require '`+boot+`'; echo `+expr+`;`)
		cmd.Dir = dir
		cmd.Env = append(cmd.Environ(), env...)
		out, err := cmd.Output()
		require.NoError(t, err, expr)
		return string(out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	app, err := ReadApp(ctx, Options{App: dir, Boot: boot, Env: env})
	require.NoError(t, err)
	require.Equal(t, FrameworkLaravel, app.Framework)
	require.Equal(t, truth(`$app->version()`), app.Version)
	require.Equal(t, truth(`config('queue.default')`), app.Default)
	c := app.Connections["redis"]
	require.Equal(t, "redis", c.Driver)
	require.Equal(t, "redis://:"+"s3cr%3At%40x"+"@"+truth(`config('database.redis.default.host')`)+":"+
		truth(`config('database.redis.default.port')`)+"/"+truth(`config('database.redis.default.database')`), c.URL)
	require.Contains(t, c.URL, "/7")
	require.Equal(t, truth(`config('database.redis.options.prefix')`), c.Prefix)
	require.Equal(t, truth(`config('queue.connections.redis.queue')`), c.Queue)
	require.Equal(t, truth(`config('queue.connections.redis.retry_after')`)+"s", c.RetryAfter.String())
	db := app.Connections["database"]
	require.Equal(t, "sqlite:"+truth(`config('database.connections.sqlite.database')`)+"?table="+
		truth(`config('queue.connections.database.table')`), db.URL)
	require.Equal(t, "sync", app.Unsupported["sync"])
	require.Equal(t, truth(`config('cache.stores.'.config('cache.default').'.driver')`), app.Cache.Driver)
	require.Equal(t, truth(`config('cache.prefix')`), app.Cache.Prefix)
	require.True(t, strings.HasSuffix(app.Cache.URL, "/"+truth(`config('database.redis.cache.database')`)), app.Cache.URL)
}

func TestReadAppNotAnApp(t *testing.T) {
	needPHP(t)
	_, err := ReadApp(context.Background(), Options{App: t.TempDir()})
	require.ErrorContains(t, err, "neither a Laravel app")
}
