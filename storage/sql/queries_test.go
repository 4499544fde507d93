package sql

import (
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
)

// TestQueryBooks: both drivers name the same queries, and every bound statement has its table put in.
func TestQueryBooks(t *testing.T) {
	t.Parallel()
	names := func(d driverKind) []string {
		var out []string
		for n := range queryBooks[d] {
			out = append(out, n)
		}
		sort.Strings(out)
		return out
	}
	require.Equal(t, names(driverMySQL), names(driverSQLite))
	require.Equal(t, []string{"Flush", "LaravelCreateTable", "LaravelFind", "LaravelForget", "LaravelInsert",
		"LaravelList", "LaravelUUIDIndex", "TableExists", "ThinkQueueCreateTable", "ThinkQueueFind",
		"ThinkQueueForget", "ThinkQueueInsert", "ThinkQueueList"}, names(driverMySQL))
	for _, d := range drivers {
		for _, schema := range schemas {
			q, err := bindQueries(d, schema, "tp_failed_jobs")
			require.NoError(t, err)
			all := append([]string{q.insert, q.list, q.find, q.forget, q.flush, q.tableExists}, q.migrate...)
			for _, stmt := range all {
				require.NotEmpty(t, stmt)
				require.NotContains(t, stmt, "{{", "%s/%s: %s", d, schema, stmt)
				require.NotContains(t, stmt, "--", "comments are not sent: %s", stmt)
			}
			for _, stmt := range append([]string{q.insert, q.list, q.find, q.forget, q.flush}, q.migrate...) {
				require.Contains(t, stmt, "tp_failed_jobs")
			}
			require.NotContains(t, strings.ToUpper(q.insert), "NOW()", "now is a parameter")
			require.NotContains(t, strings.ToUpper(q.insert), "CURRENT_TIMESTAMP", "now is a parameter")
		}
	}
}

func TestParseNamedQueries(t *testing.T) {
	t.Parallel()
	book, err := readQueryBook(fstest.MapFS{"d/a.sql": {Data: []byte(`-- header
-- more header

-- name: One
-- doc line
SELECT 1
FROM x

-- name: Two
DELETE FROM y -- trailing comment stays
`)}}, "d")
	require.NoError(t, err)
	require.Equal(t, map[string]string{"One": "SELECT 1\nFROM x", "Two": "DELETE FROM y -- trailing comment stays"}, book)

	for src, msg := range map[string]string{
		"-- name: A\nSELECT 1\n-- name: A\nSELECT 2\n": "defined twice",
		"-- name: A\n-- only doc\n":                    "is empty",
		"-- name: A B\nSELECT 1\n":                     "bad query name",
	} {
		_, err := readQueryBook(fstest.MapFS{"d/a.sql": {Data: []byte(src)}}, "d")
		require.ErrorContains(t, err, msg)
	}
	_, err = readQueryBook(fstest.MapFS{}, "d")
	require.ErrorContains(t, err, "no .sql files")
}
