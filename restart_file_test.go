package bridge_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
	"github.com/queuebridge/bridge/events"
)

// restartFixture is the File cache half of shared/fixtures/thinkqueue/<v>/restart.json.
type restartFixture struct {
	FileCache struct {
		TimeBefore int64 `json:"time_before"`
		Files      []struct {
			Path string `json:"path_relative_to_app_root"`
		} `json:"files"`
	} `json:"file_cache"`
}

var restartFixtureDialects = []struct{ dir, dialect string }{
	{"v1", "thinkqueue-v1"}, {"v2", "thinkqueue-v2"}, {"v3", "thinkqueue-v3"},
}

func loadRestartFixture(t *testing.T, dir string) (restartFixture, []byte) {
	t.Helper()
	root := filepath.Join("..", "shared", "fixtures", "thinkqueue", dir)
	raw, err := os.ReadFile(filepath.Join(root, "restart.json"))
	require.NoError(t, err)
	var fx restartFixture
	require.NoError(t, json.Unmarshal(raw, &fx))
	require.Len(t, fx.FileCache.Files, 1)
	content, err := os.ReadFile(filepath.Join(root, "restart_file_cache_content.txt"))
	require.NoError(t, err)
	return fx, content
}

// `bridge restart` with a file: cache writes the file `php think queue:restart` writes, byte for byte, at
// the app-relative path the fixture names.
func TestRestartCommandFileCache(t *testing.T) {
	t.Parallel()
	for _, v := range restartFixtureDialects {
		t.Run(v.dir, func(t *testing.T) {
			t.Parallel()
			fx, want := loadRestartFixture(t, v.dir)
			app := t.TempDir()
			b, err := bridge.Open(context.Background(), &bridge.Config{Connection: redisURL(), Dialect: v.dialect,
				CacheConnection: "file:" + filepath.Join(app, "runtime", "cache"),
				Clock:           func() time.Time { return time.Unix(fx.FileCache.TimeBefore, 0) }})
			require.NoError(t, err)
			defer b.Close()
			require.NoError(t, b.Restart(context.Background()))
			got, err := os.ReadFile(filepath.Join(app, fx.FileCache.Files[0].Path))
			require.NoError(t, err)
			require.Equal(t, string(want), string(got))
		})
	}
	// And through the command line.
	b := setup(t)
	cache := t.TempDir()
	code, _, errOut := b.run(t, "--dialect", "thinkqueue-v1", "--cache-connection", "file:"+cache, "restart")
	require.Equal(t, 0, code, errOut)
	got, err := os.ReadFile(filepath.Join(cache, b.prefix+":", "fe", "767bdf35445c5d9d176a0c20c983f6.php"))
	require.NoError(t, err, "the cache prefix is a directory of the File cache")
	require.Regexp(t, `^<\?php\n//000000000000\n exit\(\);\?>\ni:[0-9]{10};$`, string(got))
}

// A running worker stops with reason restart when the File cache's stamp appears (the bytes PHP writes,
// serialize()d for 5.0, plain for 5.1/6/8) and again when it changes; a stamp that was there when it
// started is its baseline.
func TestWorkerStopsOnFileCacheRestart(t *testing.T) {
	t.Parallel()
	for _, v := range restartFixtureDialects {
		t.Run(v.dir, func(t *testing.T) {
			t.Parallel()
			fx, content := loadRestartFixture(t, v.dir)
			app := t.TempDir()
			stampFile := filepath.Join(app, fx.FileCache.Files[0].Path)
			b, err := bridge.Open(context.Background(), &bridge.Config{Connection: redisURL(), Dialect: v.dialect,
				CacheConnection: "file:" + filepath.Join(app, "runtime", "cache")})
			require.NoError(t, err)
			defer b.Close()
			reasons := make(chan string, 4)
			b.Listen(func(_ context.Context, e any) {
				if s, ok := e.(events.WorkerStopping); ok {
					reasons <- s.Reason
				}
			})
			queue := "restart-file-" + t.Name()
			run := func(write func()) {
				t.Helper()
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				done := make(chan error, 1)
				go func() {
					done <- b.Work(ctx, bridge.WorkerConfig{Queues: []string{queue}, Sleep: 50 * time.Millisecond})
				}()
				time.Sleep(300 * time.Millisecond) // the worker has read its baseline
				write()
				select {
				case err := <-done:
					require.NoError(t, err)
				case <-ctx.Done():
					t.Fatal("the worker did not stop on the restart stamp")
				}
				require.Equal(t, "restart", <-reasons)
			}
			run(func() {
				require.NoError(t, os.MkdirAll(filepath.Dir(stampFile), 0o755))
				require.NoError(t, os.WriteFile(stampFile, content, 0o644))
			})
			run(func() { require.NoError(t, b.Restart(context.Background())) })
		})
	}
}

func TestFileCacheRefusedForLaravel(t *testing.T) {
	t.Parallel()
	_, err := bridge.Open(context.Background(), &bridge.Config{Connection: redisURL(), Dialect: "laravel-10",
		CacheConnection: "file:" + t.TempDir()})
	require.ErrorContains(t, err, "Laravel's file cache store is another format")
	_, err = bridge.Open(context.Background(), &bridge.Config{Connection: redisURL(), CacheConnection: "file:"})
	require.ErrorContains(t, err, "file: names no directory")
}
