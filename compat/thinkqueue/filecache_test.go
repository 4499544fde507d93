package thinkqueue

import (
	"encoding/base64"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// restartFileFixture is the File cache half of a version's restart.json.
type restartFileFixture struct {
	FileCache struct {
		TimeBefore int64  `json:"time_before"`
		MD5OfKey   string `json:"md5_of_key"`
		Files      []struct {
			Path          string `json:"path_relative_to_app_root"`
			Content       string `json:"content"`
			ContentBase64 string `json:"content_base64"`
		} `json:"files"`
	} `json:"file_cache"`
}

func TestRestartFileMatchesFixtures(t *testing.T) {
	t.Parallel()
	for _, v := range fixtureVersions {
		var fx restartFileFixture
		loadFixture(t, &fx, v.dir, "restart.json")
		require.Len(t, fx.FileCache.Files, 1, v.dir)
		file := fx.FileCache.Files[0]
		want, err := base64.StdEncoding.DecodeString(file.ContentBase64)
		require.NoError(t, err)
		require.Equal(t, string(want), file.Content, v.dir)
		require.Equal(t, want, readFixture(t, v.dir, "restart_file_cache_content.txt"), v.dir)

		// The skeleton's cache path is runtime/cache/ with no prefix.
		require.Equal(t, file.Path, filepath.Join("runtime/cache", FileCachePath(RestartCacheKey, "")), v.dir)
		require.True(t, strings.HasPrefix(FileCachePath(RestartCacheKey, ""), fx.FileCache.MD5OfKey[:2]+"/"+fx.FileCache.MD5OfKey[2:]), v.dir)

		form := CacheFormOf(v.dialect)
		at := time.Unix(fx.FileCache.TimeBefore, 0)
		require.Equal(t, string(want), string(FileCacheContent(form.RestartValue(at), 0)), v.dir)

		data, expire, err := ParseFileCache(want)
		require.NoError(t, err, v.dir)
		require.Zero(t, expire, v.dir)
		stamp, err := form.ParseRestartValue(data)
		require.NoError(t, err, v.dir)
		require.Equal(t, strconv.FormatInt(at.Unix(), 10), stamp, v.dir)
	}
}

func TestCacheFormOfDialects(t *testing.T) {
	t.Parallel()
	require.Equal(t, CacheSerialized, CacheFormOf("thinkqueue-v1"))
	for _, d := range []string{"thinkqueue-v2", "thinkqueue-v3", "thinkqueue-v3-plain"} {
		require.Equal(t, CachePlain, CacheFormOf(d), d)
	}
}

func TestFileCachePathPrefix(t *testing.T) {
	t.Parallel()
	// The prefix option is a directory above the md5 subdirectory (File::getCacheKey of 5.0 … 8.x).
	require.Equal(t, "app/fe/767bdf35445c5d9d176a0c20c983f6.php", FileCachePath(RestartCacheKey, "app"))
	require.Equal(t, "fe/767bdf35445c5d9d176a0c20c983f6.php", FileCachePath(RestartCacheKey, ""))
}

func TestFileCacheExpire(t *testing.T) {
	t.Parallel()
	content := FileCacheContent([]byte("1795655621"), 90)
	require.Equal(t, "<?php\n//000000000090\n exit();?>\n1795655621", string(content))
	data, expire, err := ParseFileCache(content)
	require.NoError(t, err)
	require.Equal(t, "1795655621", string(data))
	require.Equal(t, int64(90), expire)

	mtime := time.Unix(1000, 0)
	require.False(t, FileCacheExpired(expire, mtime, time.Unix(1090, 999e6)), "at mtime+expire it still reads")
	require.True(t, FileCacheExpired(expire, mtime, time.Unix(1091, 0)))
	require.False(t, FileCacheExpired(0, mtime, time.Unix(1e10, 0)), "0 is for ever")
}

func TestParseFileCacheRejects(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"", "<?php\n//", "<?php\n//000000000000\n exit();?>", "<?php\n//00000000000a\n exit();?>\n1",
		"<?php\n//-00000000001\n exit();?>\n1", "<?php\n//000000000000\n exit();?>X1", "1795655621",
	} {
		_, _, err := ParseFileCache([]byte(s))
		require.Error(t, err, "%q", s)
	}
}

func TestParseRestartValueRejects(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "i:;", "i:12", "12;", "i:-1;", "i:1.5;", "s:10:\"1795655621\";", "b:1;"} {
		_, err := CacheSerialized.ParseRestartValue([]byte(s))
		require.Error(t, err, "serialized %q", s)
	}
	for _, s := range []string{"", "i:1795655621;", "-1", "1.5", " 1", "1\n", "12345678901234567890"} {
		_, err := CachePlain.ParseRestartValue([]byte(s))
		require.Error(t, err, "plain %q", s)
	}
}

// FuzzParseRestartFile: any file content decodes to a stamp or an error, never a panic, and a stamp
// decoded is one the encoder writes back byte for byte.
func FuzzParseRestartFile(f *testing.F) {
	for _, v := range fixtureVersions {
		f.Add(readFixture(f, v.dir, "restart_file_cache_content.txt"))
	}
	f.Add([]byte("<?php\n//000000000060\n exit();?>\ni:0;"))
	f.Add([]byte("<?php\n//000000000000\n exit();?>\n"))
	f.Add([]byte("<?php\n//000000000000\n exit();?>\ni:9223372036854775808;"))
	f.Fuzz(func(t *testing.T, content []byte) {
		data, expire, err := ParseFileCache(content)
		if err != nil {
			return
		}
		for _, form := range []CacheForm{CacheSerialized, CachePlain} {
			stamp, err := form.ParseRestartValue(data)
			if err != nil {
				continue
			}
			// Leading zeros and stamps past int64 are the only stamps the encoder cannot write back.
			n, err := strconv.ParseInt(stamp, 10, 64)
			if err != nil || (len(stamp) > 1 && stamp[0] == '0') {
				continue
			}
			if got := FileCacheContent(form.RestartValue(time.Unix(n, 0)), expire); string(got) != string(content) {
				t.Fatalf("%q re-encodes as %q", content, got)
			}
		}
	})
}
