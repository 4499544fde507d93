package filecache

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge/compat/thinkqueue"
)

func TestSetWritesWhatPHPWrites(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := &Store{Dir: filepath.Join(dir, "runtime", "cache")}
	want, err := os.ReadFile("../../../shared/fixtures/thinkqueue/v1/restart_file_cache_content.txt")
	require.NoError(t, err)
	require.NoError(t, s.Set(ctx, thinkqueue.RestartCacheKey, []byte("i:1795655584;")))
	p := filepath.Join(dir, "runtime/cache/fe/767bdf35445c5d9d176a0c20c983f6.php")
	got, err := os.ReadFile(p)
	require.NoError(t, err)
	require.Equal(t, string(want), string(got))

	umask := syscall.Umask(0)
	syscall.Umask(umask)
	info, err := os.Stat(p)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o666&^umask), info.Mode().Perm())
	info, err = os.Stat(filepath.Dir(p))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o755&^umask), info.Mode().Perm())
	entries, err := os.ReadDir(filepath.Dir(p))
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file left beside it")

	data, ok, err := s.Get(ctx, thinkqueue.RestartCacheKey)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "i:1795655584;", string(data))
}

func TestPrefixIsADirectory(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := &Store{Dir: dir, Prefix: "shop"}
	require.NoError(t, s.Set(ctx, thinkqueue.RestartCacheKey, []byte("1795655621")))
	_, err := os.Stat(filepath.Join(dir, "shop/fe/767bdf35445c5d9d176a0c20c983f6.php"))
	require.NoError(t, err)
	_, ok, err := (&Store{Dir: dir}).Get(ctx, thinkqueue.RestartCacheKey)
	require.NoError(t, err)
	require.False(t, ok, "another prefix is another file")
}

func TestGetAbsentExpiredAndForeign(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	now := time.Now()
	s := &Store{Dir: dir, NowFunc: func() time.Time { return now }}
	_, ok, err := s.Get(ctx, thinkqueue.RestartCacheKey)
	require.NoError(t, err)
	require.False(t, ok, "no file: absent")

	p := s.Path(thinkqueue.RestartCacheKey)
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, thinkqueue.FileCacheContent([]byte("1795655621"), 60), 0o644))
	mtime := now.Add(-61 * time.Second)
	require.NoError(t, os.Chtimes(p, mtime, mtime))
	_, ok, err = s.Get(ctx, thinkqueue.RestartCacheKey)
	require.NoError(t, err)
	require.False(t, ok, "past its expire: absent")

	mtime = now.Add(-59 * time.Second)
	require.NoError(t, os.Chtimes(p, mtime, mtime))
	data, ok, err := s.Get(ctx, thinkqueue.RestartCacheKey)
	require.NoError(t, err)
	require.True(t, ok, "within its expire")
	require.Equal(t, "1795655621", string(data))

	require.NoError(t, os.WriteFile(p, []byte("not a cache file"), 0o644))
	_, _, err = s.Get(ctx, thinkqueue.RestartCacheKey)
	require.ErrorContains(t, err, "not a ThinkPHP File cache file")
}
