package bridge

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const sampleConfig = `
http: 127.0.0.1:9464
connections:
  tq:
    url: redis://:${QB_TEST_PASSWORD}@127.0.0.1:6379/7
    dialect: thinkqueue-v1
    expire: null
  app:
    url: mysql://root:${QB_TEST_PASSWORD}@127.0.0.1:3306/app?table=jobs
    dialect: laravel-8
    expire: 90
groups:
  notify:
    connection: tq
    queues: [notify, default]
    concurrency: 8
    tries: 3
    backoff: [10, 30.5]
    php:
      app: /srv/app
      framework: thinkphp50
      workers: 2
  mail:
    connection: app
    queues: mail
    delay: 5
    timeout: 0
`

func TestConfigFile(t *testing.T) {
	t.Setenv("QB_TEST_PASSWORD", "pa$$word-from-env")
	fc, err := ParseConfigFile("bridge.yaml", []byte(sampleConfig))
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:9464", fc.HTTP)
	tq := fc.Connections["tq"].Config(nil)
	require.Equal(t, "redis://:pa$$word-from-env@127.0.0.1:6379/7", tq.Connection)
	require.Equal(t, time.Duration(-1), tq.Expire)
	require.Equal(t, 90*time.Second, fc.Connections["app"].Config(nil).Expire)
	wc := fc.Groups["notify"].WorkerConfig()
	require.Equal(t, []string{"notify", "default"}, wc.Queues)
	require.Equal(t, 8, wc.Concurrency)
	require.Equal(t, []time.Duration{10 * time.Second, 30500 * time.Millisecond}, wc.Backoff)
	require.Equal(t, "thinkphp50", fc.Groups["notify"].PHP.Framework)
	mail := fc.Groups["mail"].WorkerConfig()
	require.Equal(t, []string{"mail"}, mail.Queues)
	require.Equal(t, 5*time.Second, mail.Delay)
	require.Equal(t, time.Duration(-1), mail.Timeout, "timeout 0 disables it, as --timeout 0")

	shown, err := fc.Redacted()
	require.NoError(t, err)
	require.NotContains(t, string(shown), "word-from-env")
	require.Contains(t, string(shown), "redis://***@127.0.0.1:6379/7")
}

// Each mistake is one error naming the file, the line and the key.
func TestConfigFileErrors(t *testing.T) {
	t.Setenv("QB_TEST_PASSWORD", "x")
	for _, tc := range []struct{ name, edit, want string }{
		{"unknown key", "    concurrency: 8", "bridge.yaml:16: groups.notify.concurency: unknown key"},
		{"wrong type", "    concurrency: 8", "bridge.yaml:16: groups.notify.concurrency: want a whole number"},
		{"missing connection", "    connection: tq", `bridge.yaml:14: groups.notify.connection: no connection "nope"`},
		{"unset variable", "    dialect: thinkqueue-v1", "bridge.yaml:6: connections.tq.dialect: environment variable QB_NOT_SET is not set"},
		{"bad seconds", "    delay: 5", `groups.mail.delay: want a number of seconds ≥ 0, got "soon"`},
		{"bad dialect", "    dialect: laravel-8", "connections.app: config: Dialect"},
		{"no queues", "    queues: mail", "groups.mail.queues: name the queues"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := sampleConfig
			repl := map[string]string{
				"unknown key":        "    concurency: 8",
				"wrong type":         "    concurrency: lots",
				"missing connection": "    connection: nope",
				"unset variable":     "    dialect: ${QB_NOT_SET}",
				"bad seconds":        "    delay: soon",
				"bad dialect":        "    dialect: laravel-99",
				"no queues":          "    queues: []",
			}[tc.name]
			require.Contains(t, text, tc.edit)
			text = strings.Replace(text, tc.edit, repl, 1)
			_, err := ParseConfigFile("bridge.yaml", []byte(text))
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
			require.Equal(t, 1, strings.Count(err.Error(), "bridge.yaml"), "one error: %v", err)
		})
	}
}

// The example in deploy/ is valid.
func TestExampleConfigFile(t *testing.T) {
	t.Setenv("REDIS_PASSWORD", "x")
	t.Setenv("DB_PASSWORD", "y")
	fc, err := LoadConfigFile("deploy/bridge.yaml")
	require.NoError(t, err)
	require.Len(t, fc.Groups, 3)
	require.Equal(t, "redis", fc.Groups["notify"].Connection)
	require.Equal(t, "/home/wwwroot/app", fc.Groups["notify"].PHP.App)
}

// A dashboard section names a connection (or the only one), and config show hides its token.
func TestConfigFileDashboard(t *testing.T) {
	fc, err := ParseConfigFile("bridge.yaml", []byte(`
http: 127.0.0.1:9464
dashboard: {token: s3cret}
connections: {tq: {url: "redis://127.0.0.1:6379/0"}}
groups: {g: {queues: default}}
`))
	require.NoError(t, err)
	require.Equal(t, "tq", fc.Dashboard.Connection)
	out, err := fc.Redacted()
	require.NoError(t, err)
	require.NotContains(t, string(out), "s3cret")

	_, err = ParseConfigFile("bridge.yaml", []byte(`
dashboard: {connection: nope}
connections: {tq: {url: "redis://127.0.0.1:6379/0"}}
groups: {g: {queues: default}}
`))
	require.ErrorContains(t, err, `dashboard.connection: no connection "nope"`)
}

// app: at the top supplies the connections the groups name (or leave out) that the file does not have,
// as the app's own config says; a file's own connection of that name wins.
func TestConfigFileAppConnections(t *testing.T) {
	needPHPBinary(t)
	dir, err := filepath.Abs("executor/php/testdata/thinkphp/tp6")
	require.NoError(t, err)
	t.Setenv("PHP_QUEUE_CONNECTION", "redis")
	t.Setenv("PHP_REDIS_SELECT", "6")
	fc, err := ParseConfigFile("bridge.yaml", []byte("app: "+dir+"\ngroups:\n  main:\n    queues: [default]\n  db:\n    connection: database\n    queues: [jobs]\n"))
	require.NoError(t, err)
	require.Equal(t, "redis", fc.Groups["main"].Connection)
	redis := fc.Connections["redis"]
	require.Equal(t, "redis://127.0.0.1:6379/6", redis.URL)
	require.Equal(t, "thinkqueue-v3", redis.Dialect)
	require.Equal(t, 60*time.Second, redis.Expire.Duration())
	require.Equal(t, "file:"+filepath.Join(dir, "runtime", "cache"), redis.Cache)
	require.Equal(t, "mysql://root:@127.0.0.1:3306/test?table=jobs", fc.Connections["database"].URL)

	fc, err = ParseConfigFile("bridge.yaml", []byte("app: "+dir+"\nconnections:\n  redis:\n    url: redis://127.0.0.1:6379/9\n    dialect: thinkqueue-v3\ngroups:\n  main:\n    connection: redis\n    queues: [default]\n"))
	require.NoError(t, err)
	require.Equal(t, "redis://127.0.0.1:6379/9", fc.Connections["redis"].URL, "the file's own connection wins")

	_, err = ParseConfigFile("bridge.yaml", []byte("app: "+dir+"\ngroups:\n  main:\n    connection: sync\n    queues: [default]\n"))
	require.ErrorContains(t, err, "bridge.yaml:4: groups.main.connection")
	require.ErrorContains(t, err, `uses the sync driver`)
}

func needPHPBinary(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("php"); err != nil {
		t.Skip("no php on PATH")
	}
}
