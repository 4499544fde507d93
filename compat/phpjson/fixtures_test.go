package phpjson

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// fixturesDir is where the PHP-captured fixtures live: /work/shared/fixtures beside the checkout.
func fixturesDir(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "..", "shared", "fixtures"))
	require.NoError(t, err)
	info, err := os.Stat(dir)
	require.NoError(t, err, "fixtures folder missing")
	require.True(t, info.IsDir(), "%s is not a folder", dir)
	return dir
}

// globFixtures returns the files matching pattern under the fixtures folder, failing if there are none.
func globFixtures(t testing.TB, pattern string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(fixturesDir(t), pattern))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no fixtures match %s", pattern)
	return files
}

func readFixture(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

// Each think-queue payload is one json_encode of a PHP array, so decoding and encoding it gives it back.
func TestFixturesThinkQueueEncodeDecode(t *testing.T) {
	t.Parallel()

	for _, path := range globFixtures(t, "thinkqueue/v*/*/payloads/*.json") {
		t.Run(fixtureName(t, path), func(t *testing.T) {
			t.Parallel()
			want := readFixture(t, path)
			v, err := Decode(want)
			require.NoError(t, err)
			got, err := Encode(v)
			require.NoError(t, err)
			require.Equal(t, string(want), string(got))
		})
	}
}

// The v1 and v2 Redis payloads went through setMeta's json_decode($s, true) / json_encode round trip in PHP, so
// they are already normal.
func TestFixturesThinkQueueNormalized(t *testing.T) {
	t.Parallel()

	files := slices.Concat(
		globFixtures(t, "thinkqueue/v1/redis/payloads/*.json"),
		globFixtures(t, "thinkqueue/v2/redis/payloads/*.json"),
	)
	for _, path := range files {
		t.Run(fixtureName(t, path), func(t *testing.T) {
			t.Parallel()
			want := readFixture(t, path)
			got, err := Normalize(want)
			require.NoError(t, err)
			require.Equal(t, string(want), string(got))
		})
	}
}

// Laravel writes with JSON_UNESCAPED_UNICODE and Redis's cjson re-encodes reserved copies, so their bytes are not
// json_encode's; they must still decode.
func TestFixturesLaravelDecode(t *testing.T) {
	t.Parallel()

	files := laravelPayloads(t)
	for _, path := range files {
		t.Run(fixtureName(t, path), func(t *testing.T) {
			t.Parallel()
			_, err := Decode(readFixture(t, path))
			require.NoError(t, err)
		})
	}
}

// laravelPayloads lists the JSON files anywhere below a "payloads" folder under laravel/.
func laravelPayloads(t testing.TB) []string {
	t.Helper()
	var files []string
	root := filepath.Join(fixturesDir(t), "laravel")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		inPayloads := slices.Contains(strings.Split(filepath.ToSlash(rel), "/"), "payloads")
		if !d.IsDir() && filepath.Ext(path) == ".json" && inPayloads {
			files = append(files, path)
		}
		return nil
	})
	require.NoError(t, err)
	require.NotEmpty(t, files, "no laravel payload fixtures under %s", root)
	return files
}

func fixtureName(t testing.TB, path string) string {
	t.Helper()
	rel, err := filepath.Rel(fixturesDir(t), path)
	require.NoError(t, err)
	return filepath.ToSlash(rel)
}
