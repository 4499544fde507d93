package sql

import (
	"slices"
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
	// think-queue 3's unnamed KEY (`queue`) is part of its MySQL CREATE TABLE; SQLite needs a statement.
	sqliteNames := slices.DeleteFunc(names(driverSQLite), func(n string) bool { return n == "JobsV3QueueIndex" })
	require.Equal(t, names(driverMySQL), sqliteNames)
	require.Equal(t, names(driverSQLite), names(driverPostgres), "postgres, like SQLite, indexes think-queue 3's queue separately")
	var failedNames []string
	for _, n := range names(driverMySQL) {
		if !strings.HasPrefix(n, "Jobs") && n != "ServerVersion" {
			failedNames = append(failedNames, n)
		}
	}
	require.Equal(t, []string{"Flush", "LaravelCreateTable", "LaravelFind", "LaravelForget", "LaravelInsert",
		"LaravelList", "LaravelUUIDIndex", "TableExists", "ThinkQueueCreateTable", "ThinkQueueFind",
		"ThinkQueueForget", "ThinkQueueInsert", "ThinkQueueList"}, failedNames)
	for _, d := range []driverKind{driverMySQL, driverSQLite, driverPostgres} { // every book, whatever the build
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

// TestJobsQueryBooks: every jobs statement of every schema binds with its table and lock put in; only
// {{ids}} is left, for the id list; "now" is always a parameter.
func TestJobsQueryBooks(t *testing.T) {
	t.Parallel()
	for _, d := range []driverKind{driverMySQL, driverSQLite, driverPostgres} { // every book, whatever the build
		for _, schema := range jobsSchemas {
			q, err := bindJobsQueries(d, schema, "tp_jobs", "FOR UPDATE SKIP LOCKED")
			require.NoError(t, err)
			all := append([]string{q.insert, q.reserveSelect, q.reserveUpdate, q.handBack, q.extend, q.held,
				q.deleteIDs, q.deleteID, q.size, q.tableExists}, q.migrate...)
			if schema == JobsThinkQueueV1 {
				all = append(all, q.recover)
			} else {
				require.Empty(t, q.recover)
			}
			for _, stmt := range all {
				require.NotEmpty(t, stmt)
				require.NotContains(t, strings.ReplaceAll(stmt, "{{ids}}", ""), "{{", "%s/%s: %s", d, schema, stmt)
				require.NotContains(t, stmt, "--", "comments are not sent: %s", stmt)
				upper := strings.ToUpper(stmt)
				require.NotContains(t, upper, "NOW()", "now is a parameter")
				require.NotContains(t, upper, "UNIX_TIMESTAMP", "now is a parameter")
				require.NotContains(t, upper, "STRFTIME", "now is a parameter")
				if stmt != q.tableExists {
					require.Contains(t, stmt, "tp_jobs")
				}
			}
			require.Equal(t, d != driverSQLite, strings.Contains(q.reserveSelect, "SKIP LOCKED"), q.reserveSelect)
			if d == driverPostgres {
				require.Contains(t, withNumberedIDs(q.reserveUpdate, 3), "IN ($2::bigint, $3::bigint, $4::bigint)")
				require.Contains(t, withNumberedIDs(q.deleteIDs, 2), `"queue" = $1 AND "id" IN ($2::bigint, $3::bigint)`)
				require.NotContains(t, strings.Join(all, "\n"), "?", "PostgreSQL placeholders are numbered")
			} else {
				require.Contains(t, withIDs(q.reserveUpdate, 3), "IN (?, ?, ?)")
			}
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
