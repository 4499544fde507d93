package php

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// thinkStandIn is one ThinkPHP stand-in app and how php -r boots it to ask its own config.
type thinkStandIn struct {
	dir       string
	framework Framework
	boot      string // PHP that boots the app in DIR and leaves $config with get('a.b'), $runtime
	queue     string // the config path of the Redis connection's options
}

var thinkStandIns = []thinkStandIn{
	{"tp50", FrameworkThinkPHP50, `define('APP_PATH', 'DIR/application/'); require 'DIR/thinkphp/base.php'; \think\App::initCommon();
		$config = new class { function get($n) { return \think\Config::get($n); } }; $version = THINK_VERSION; $runtime = RUNTIME_PATH;`, "queue"},
	{"tp51", FrameworkThinkPHP51, `$_SERVER['argv'][0] = 'DIR/think'; require 'DIR/thinkphp/base.php';
		$app = \think\Container::get('app')->path('DIR/application/'); $app->initialize();
		$config = \think\Container::get('config'); $version = \think\App::VERSION; $runtime = $app->getRuntimePath();`, "queue"},
	{"tp6", FrameworkThinkPHP6, `require 'DIR/vendor/autoload.php'; $app = (new \think\App('DIR'))->initialize();
		$config = $app->config; $version = \think\App::VERSION; $runtime = $app->getRuntimePath();`, "queue.connections.redis"},
}

// copyStandIns copies the stand-in apps (with the shared app code they load) to a directory of the test's,
// so a test can give one a .env.
func copyStandIns(t *testing.T) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "thinkphp")
	require.NoError(t, os.CopyFS(root, os.DirFS("testdata/thinkphp")))
	return root
}

// Each stand-in with a Redis password (with :@/ in it) from .env and a non-default select from the
// environment: what ReadApp derives is what the app's own PHP config says, asked of the booted app.
func TestReadAppThinkPHP(t *testing.T) {
	needPHP(t)
	root := copyStandIns(t)
	env := []string{"PHP_REDIS_SELECT=7", "PHP_QUEUE_CONNECTION=redis"}
	for _, s := range thinkStandIns {
		t.Run(s.dir, func(t *testing.T) {
			dir := filepath.Join(root, s.dir)
			require.NoError(t, os.WriteFile(filepath.Join(dir, ".env"), []byte("[redis]\npassword = \"s3cr:t@x/y\"\n"), 0o644))
			truth := func(expr string) string {
				t.Helper()
				code := strings.ReplaceAll(s.boot, "DIR", dir) + " echo " + expr + ";"
				cmd := exec.Command("php", "-r", code)
				cmd.Dir = dir
				cmd.Env = append(cmd.Environ(), env...)
				out, err := cmd.CombinedOutput()
				require.NoError(t, err, "%s: %s", expr, out)
				return string(out)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			app, err := ReadApp(ctx, Options{App: dir, Env: env})
			require.NoError(t, err)
			require.Equal(t, s.framework, app.Framework)
			require.Equal(t, truth(`$version`), app.Version)
			require.Equal(t, "redis", app.Default)
			c, ok := app.Connections["redis"]
			require.True(t, ok, "%+v", app)
			password := truth(`$config->get('` + s.queue + `.password')`)
			require.Equal(t, "s3cr:t@x/y", password, "the stand-in read .env")
			require.Equal(t, "7", truth(`$config->get('`+s.queue+`.select')`), "the stand-in read the environment")
			require.Equal(t, "redis://:"+url.QueryEscape(password)+"@"+truth(`$config->get('`+s.queue+`.host')`)+":"+
				truth(`$config->get('`+s.queue+`.port')`)+"/7", c.URL)
			u, err := url.Parse(c.URL)
			require.NoError(t, err)
			pw, _ := u.User.Password()
			require.Equal(t, password, pw)
			if s.framework == FrameworkThinkPHP6 {
				require.Equal(t, truth(`$config->get('queue.connections.redis.queue')`), c.Queue)
				require.Equal(t, 60*time.Second, c.RetryAfter, "3.x: retry_after absent is 60")
				require.Equal(t, "sync", app.Unsupported["sync"])
				require.Contains(t, app.Connections, "database")
				require.Equal(t, "mysql://root:@"+truth(`$config->get('database.connections.mysql.hostname')`)+":"+
					truth(`$config->get('database.connections.mysql.hostport')`)+"/"+
					truth(`$config->get('database.connections.mysql.database')`)+"?table=jobs", app.Connections["database"].URL)
			} else {
				require.Equal(t, truth(`$config->get('queue.default')`), c.Queue)
				require.Equal(t, truth(`$config->get('queue.expire')`), strconv.Itoa(int(c.RetryAfter.Seconds())))
			}
			require.Equal(t, "file", app.Cache.Driver)
			wantPath := truth(`$runtime`) + "cache"
			if s.framework == FrameworkThinkPHP50 {
				wantPath = truth(`$config->get('cache.path')`)
			}
			require.Equal(t, filepath.Clean(wantPath), filepath.Clean(app.Cache.Path))
			require.Equal(t, map[string]string{"tp50": "", "tp51": "v2.0.4", "tp6": "v3.0.9"}[s.dir], app.QueueVersion)
		})
	}
}

// An app without a database config (a Redis-only app may have none): ThinkPHP reads the missing file as [],
// an empty config, and the queue config's database connection, which then has no database, is
// unreadable, not an error for the app's other connections.
func TestReadAppThinkPHPWithoutDatabaseConfig(t *testing.T) {
	needPHP(t)
	root := copyStandIns(t)
	for _, dir := range []string{"tp51", "tp6"} {
		require.NoError(t, os.Remove(filepath.Join(root, dir, "config", "database.php")))
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		app, err := ReadApp(ctx, Options{App: filepath.Join(root, dir), Env: []string{"PHP_QUEUE_CONNECTION=redis"}})
		cancel()
		require.NoError(t, err, dir)
		require.Equal(t, "redis://127.0.0.1:6379/0", app.Connections["redis"].URL, dir)
		if dir == "tp6" {
			require.ErrorContains(t, app.Unreadable["database"], "no database connection", "the shipped queue config's database connection")
		}
	}
}

// installedVersion reads both of Composer's installed.json shapes; a file that is neither is an error.
func TestInstalledVersion(t *testing.T) {
	dir := t.TempDir()
	v, err := installedVersion(dir, "topthink/think-queue")
	require.NoError(t, err)
	require.Empty(t, v, "no vendor/composer/installed.json")
	file := filepath.Join(dir, "vendor", "composer", "installed.json")
	require.NoError(t, os.MkdirAll(filepath.Dir(file), 0o755))
	for body, want := range map[string]string{
		`[{"name":"topthink/framework","version":"v6.1.4"},{"name":"topthink/think-queue","version":"v3.0.2"}]`: "v3.0.2",
		`{"packages":[{"name":"topthink/think-queue","version":"v3.0.4"}],"dev":true}`:                          "v3.0.4",
		`{"packages":[{"name":"topthink/framework","version":"v8.0.3"}]}`:                                       "",
	} {
		require.NoError(t, os.WriteFile(file, []byte(body), 0o644))
		v, err := installedVersion(dir, "topthink/think-queue")
		require.NoError(t, err, body)
		require.Equal(t, want, v, body)
	}
	require.NoError(t, os.WriteFile(file, []byte(`{"packages":`), 0o644))
	_, err = installedVersion(dir, "topthink/think-queue")
	require.ErrorContains(t, err, "installed.json")
}

// think-queue 1.x/2.x's Sync and Topthink connectors, and a Database connector on the app's database.php.
func TestReadAppThinkPHPConnectors(t *testing.T) {
	needPHP(t)
	for _, s := range thinkStandIns[:2] {
		dir, err := filepath.Abs(filepath.Join("testdata/thinkphp", s.dir))
		require.NoError(t, err)
		for _, connector := range []string{"Sync", "Topthink"} {
			app, err := ReadApp(context.Background(), Options{App: dir, Env: []string{"PHP_QUEUE_CONNECTOR=" + connector}})
			require.NoError(t, err)
			require.Empty(t, app.Connections, s.dir)
			require.Equal(t, connector, app.Unsupported[app.Default], s.dir)
		}
		app, err := ReadApp(context.Background(), Options{App: dir, Env: []string{"PHP_QUEUE_CONNECTOR=Database",
			"PHP_DATABASE_PREFIX=tp_", "PHP_DATABASE_PASSWORD=p@ss", "PHP_DATABASE_HOSTPORT=3307"}})
		require.NoError(t, err)
		require.Equal(t, "database", app.Default, s.dir)
		require.Equal(t, "mysql://root:p%40ss@127.0.0.1:3307/test?prefix=tp_&table=jobs", app.Connections["database"].URL, s.dir)
	}
}

func TestDetectFramework(t *testing.T) {
	for _, s := range thinkStandIns {
		f, err := DetectFramework(filepath.Join("testdata/thinkphp", s.dir))
		require.NoError(t, err)
		require.Equal(t, s.framework, f, s.dir)
	}
	_, err := DetectFramework(t.TempDir())
	require.ErrorContains(t, err, "neither a Laravel app")
}
