package thinkqueue

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge/compat/phpjson"
)

// fixtureRoot is shared/fixtures/thinkqueue seen from this package directory (compat/thinkqueue in the
// module at /work/main). The fixtures are required: a missing tree fails the tests rather than skipping.
const fixtureRoot = "../../../shared/fixtures/thinkqueue"

// fixtureVersions are the captured think-queue lines and the dialect each one speaks.
var fixtureVersions = []struct {
	dir     string
	dialect string
}{
	{"v1", "thinkqueue-v1"},
	{"v2", "thinkqueue-v2"},
	{"v3", "thinkqueue-v3"},
}

func fixturePath(t testing.TB, parts ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{fixtureRoot}, parts...)...)
	_, err := os.Stat(p)
	require.NoError(t, err, "golden fixtures missing: expected them at %s", p)
	return p
}

func readFixture(t testing.TB, parts ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(fixturePath(t, parts...))
	require.NoError(t, err)
	return b
}

func loadFixture(t testing.TB, v any, parts ...string) {
	t.Helper()
	require.NoError(t, json.Unmarshal(readFixture(t, parts...), v), "fixture %v", parts)
}

func mustDialect(t testing.TB, name string) Dialect {
	t.Helper()
	d, err := ParseDialect(name)
	require.NoError(t, err)
	return d
}

func mustDecode(t testing.TB, data []byte) any {
	t.Helper()
	v, err := phpjson.Decode(data)
	require.NoError(t, err)
	return v
}
