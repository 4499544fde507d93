package laravel

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fixtureRoot is shared/fixtures/laravel seen from this package directory (compat/laravel in the module at
// /work/main). The fixtures are required: a missing tree fails the tests rather than skipping.
const fixtureRoot = "../../../shared/fixtures/laravel"

// fixtureNow is the clock every capture ran at (Carbon::setTestNow): 2025-01-02T03:04:05Z.
const fixtureNow = 1735787045

// fixtureVersions are the captured Laravel lines and the dialect each one speaks.
var fixtureVersions = []struct {
	dir     string
	dialect string
}{
	{"v8", "laravel-8"},
	{"v11", "laravel-11"},
	{"v12", "laravel-12"},
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

// fixtureCases lists the *.json files of one folder (relative to fixtureRoot), without the extension; want
// is how many there must be, or -1 for at least one.
func fixtureCases(t testing.TB, want int, parts ...string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(fixturePath(t, parts...), "*.json"))
	require.NoError(t, err)
	if want < 0 {
		require.NotEmpty(t, files, "cases in %v", parts)
	} else {
		require.Len(t, files, want, "cases in %v", parts)
	}
	cases := make([]string, len(files))
	for i, f := range files {
		cases[i] = strings.TrimSuffix(filepath.Base(f), ".json")
	}
	return cases
}

func mustDialect(t testing.TB, name string) Dialect {
	t.Helper()
	d, err := ParseDialect(name)
	require.NoError(t, err)
	return d
}

func mustParse(t testing.TB, d Dialect, raw []byte) *Payload {
	t.Helper()
	p, err := d.Parse(raw)
	require.NoError(t, err)
	return p
}

var errTest = errors.New("test error")

var timeZero time.Time

func unixNow() int64 { return time.Now().Unix() }

func intp(n int) *int       { return &n }
func int64p(n int64) *int64 { return &n }
func strp(s string) *string { return &s }

func unixp(sec int64) *time.Time {
	t := time.Unix(sec, 0)
	return &t
}
