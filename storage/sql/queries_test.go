package sql

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
)

var allDrivers = []*dbDriver{mysqlDriver, sqliteDriver, postgresDriver}

// TestDDLBooks: every driver has every migration's statements, and they bind with the table put in.
func TestDDLBooks(t *testing.T) {
	t.Parallel()
	names := func(d driverKind) []string {
		var out []string
		for n := range ddlBooks[d] {
			out = append(out, n)
		}
		slices.Sort(out)
		return out
	}
	// think-queue 3's unnamed KEY (`queue`) is part of its MySQL CREATE TABLE; SQLite needs a statement.
	sqliteNames := slices.DeleteFunc(names(driverSQLite), func(n string) bool { return n == "thinkqueue-v3-jobs.2" })
	require.Equal(t, names(driverMySQL), sqliteNames)
	require.Equal(t, names(driverSQLite), names(driverPostgres), "postgres, like SQLite, indexes think-queue 3's queue separately")
	require.Equal(t, []string{"laravel-failed-jobs.1", "laravel-failed-jobs.2", "laravel-jobs.1", "laravel-jobs.2",
		"thinkqueue-v1-jobs.1", "thinkqueue-v3-failed-jobs.1", "thinkqueue-v3-jobs.1"}, names(driverMySQL))
	for _, drv := range allDrivers {
		db := &DB{drv: drv}
		var migrations []string
		for _, l := range []*jobsLayout{jobsV1, jobsV3, jobsLaravel} {
			migrations = append(migrations, l.Migration)
		}
		for _, l := range schemas {
			migrations = append(migrations, l.Migration)
		}
		for _, m := range migrations {
			stmts, err := db.ddl(m, "tp_x")
			require.NoError(t, err, "%s %s", drv.kind, m)
			for _, stmt := range stmts {
				require.NotContains(t, stmt, "{{", "%s/%s: %s", drv.kind, m, stmt)
				require.NotContains(t, stmt, "--", "comments are not sent: %s", stmt)
				require.Contains(t, stmt, "tp_x")
			}
		}
		_, err := db.ddl("nope", "x")
		require.ErrorContains(t, err, `no migration "nope"`)
	}
}

// TestQueryBooks: every failed-store statement binds with its table put in; "now" is a parameter.
func TestQueryBooks(t *testing.T) {
	t.Parallel()
	for _, d := range allDrivers {
		for _, schema := range schemas {
			q := bindFailedQueries(d, schema.Failed, "tp_failed_jobs")
			for _, stmt := range []string{q.insert, q.list, q.find, q.forget, q.flush} {
				require.NotEmpty(t, stmt)
				require.NotContains(t, stmt, "{{", "%s/%s: %s", d.kind, schema, stmt)
				require.Contains(t, stmt, "tp_failed_jobs")
			}
			require.NotContains(t, strings.ToUpper(q.insert), "NOW()", "now is a parameter")
			require.NotContains(t, strings.ToUpper(q.insert), "CURRENT_TIMESTAMP", "now is a parameter")
			if d.numbered {
				require.NotContains(t, q.insert+q.find+q.forget, "?", "PostgreSQL placeholders are numbered")
			}
		}
	}
	// The statements the PHP libraries send, as the bridge spells them (MySQL's general log).
	q := bindFailedQueries(mysqlDriver, failedLaravel.Failed, "failed_jobs")
	require.Equal(t, "INSERT INTO `failed_jobs` (`uuid`, `connection`, `queue`, `payload`, `exception`, `failed_at`) VALUES (?, ?, ?, ?, ?, ?)", q.insert)
	require.Equal(t, "SELECT `id`, `uuid`, `connection`, `queue`, `payload`, `exception`, `failed_at` FROM `failed_jobs` WHERE `uuid` = ? LIMIT 1", q.find)
	q = bindFailedQueries(postgresDriver, failedThinkQueue.Failed, "failed_jobs")
	require.Equal(t, `INSERT INTO "failed_jobs" ("connection", "queue", "payload", "exception", "fail_time") VALUES ($1, $2, $3, $4, $5)`, q.insert)
	require.Equal(t, `SELECT "id", NULL AS "uuid", "connection", "queue", "payload", "exception", CAST("fail_time" AS TEXT) FROM "failed_jobs" WHERE "id" = CAST($1 AS bigint)`, q.find)
}

// TestJobsQueryBooks: every jobs statement of every layout binds with its table and lock put in; only
// {{ids}} is left, for the id list; "now" is always a parameter.
func TestJobsQueryBooks(t *testing.T) {
	t.Parallel()
	for _, d := range allDrivers {
		lock := "FOR UPDATE SKIP LOCKED"
		if d.skipLocked == nil {
			lock = "" // SQLite: BEGIN IMMEDIATE
		}
		for _, schema := range jobsSchemas {
			q, err := bindJobsQueries(d, schema.Jobs, "tp_jobs", lock)
			require.NoError(t, err)
			all := []string{q.insert, q.reserveSelect, q.reserveAbove, q.reserveUpdate, q.handBack, q.extend, q.held,
				q.deleteIDs, q.deleteID, q.size, q.sizes, q.queues, q.probe}
			for _, l := range q.list {
				all = append(all, l.q)
			}
			if schema == jobsV1 {
				all = append(all, q.recover)
			} else {
				require.Empty(t, q.recover)
			}
			for _, stmt := range all {
				require.NotEmpty(t, stmt)
				require.NotContains(t, strings.ReplaceAll(stmt, "{{ids}}", ""), "{{", "%s/%s: %s", d.kind, schema, stmt)
				require.NotContains(t, stmt, "--", "comments are not sent: %s", stmt)
				upper := strings.ToUpper(stmt)
				require.NotContains(t, upper, "NOW()", "now is a parameter")
				require.NotContains(t, upper, "UNIX_TIMESTAMP", "now is a parameter")
				require.NotContains(t, upper, "STRFTIME", "now is a parameter")
				require.Contains(t, stmt, "tp_jobs")
			}
			require.Equal(t, d.kind != driverSQLite, strings.Contains(q.reserveSelect, "SKIP LOCKED"), q.reserveSelect)
			if d.numbered {
				require.Contains(t, d.withIDs(q.reserveUpdate, 3), "IN ($2::bigint, $3::bigint, $4::bigint)")
				require.Contains(t, d.withIDs(q.deleteIDs, 2), `"queue" = $1 AND "id" IN ($2::bigint, $3::bigint)`)
				require.NotContains(t, strings.Join(all, "\n"), "?", "PostgreSQL placeholders are numbered")
			} else {
				require.Contains(t, d.withIDs(q.reserveUpdate, 3), "IN (?, ?, ?)")
			}
		}
	}
	// The statements the PHP libraries send, as the bridge spells them (MySQL's general log).
	q, err := bindJobsQueries(mysqlDriver, jobsV3.Jobs, "jobs", "FOR UPDATE")
	require.NoError(t, err)
	require.Equal(t, "INSERT INTO `jobs` (`queue`, `attempts`, `reserve_time`, `available_time`, `create_time`, `payload`) VALUES (?, ?, NULL, ?, ?, ?)", q.insert)
	require.Equal(t, "SELECT `id`, `payload`, `attempts` FROM `jobs` WHERE `queue` = ? AND ((`reserve_time` IS NULL AND `available_time` <= ?) OR `reserve_time` <= ?) ORDER BY `id` ASC LIMIT ? FOR UPDATE", q.reserveSelect)
	require.Equal(t, "UPDATE `jobs` SET `reserve_time` = ?, `attempts` = LEAST(`attempts` + 1, 255) WHERE `id` IN ({{ids}})", q.reserveUpdate)
	require.Equal(t, "UPDATE `jobs` SET `reserve_time` = NULL, `attempts` = GREATEST(CAST(`attempts` AS SIGNED) - 1, 0) WHERE `id` = ? AND `reserve_time` IS NOT NULL", q.handBack)
	q, err = bindJobsQueries(sqliteDriver, jobsV1.Jobs, "jobs", "")
	require.NoError(t, err)
	// SQLite quotes with backquotes: a double-quoted name that is no column would be a string literal.
	require.Equal(t, "INSERT INTO `jobs` (`queue`, `payload`, `attempts`, `reserved`, `reserved_at`, `available_at`, `created_at`) VALUES (?, ?, ?, 0, NULL, ?, ?)", q.insert)
	require.Equal(t, "UPDATE `jobs` SET `reserved` = 0, `reserved_at` = NULL, `attempts` = MIN(`attempts` + 1, 255) WHERE `queue` = ? AND `reserved` = 1 AND `reserved_at` <= ?", q.recover)
	require.Equal(t, "SELECT `id`, `payload`, `attempts` FROM `jobs` WHERE `queue` = ? AND `reserved` = 0 AND `available_at` <= ? ORDER BY `id` ASC LIMIT ?", q.reserveSelect)
	require.Equal(t, "UPDATE `jobs` SET `reserved` = 1, `reserved_at` = ? WHERE `id` IN ({{ids}})", q.reserveUpdate)
	q, err = bindJobsQueries(postgresDriver, jobsLaravel.Jobs, "jobs", "FOR UPDATE SKIP LOCKED")
	require.NoError(t, err)
	// The push notifies the table's channel in the INSERT's own statement (see WaitReady).
	require.Equal(t, `WITH "j" AS (INSERT INTO "jobs" ("queue", "attempts", "reserved_at", "available_at", "created_at", "payload") VALUES ($1, $2, NULL, $3, $4, $5) RETURNING "id") SELECT "id" FROM "j", pg_notify('qb_jobs', $6)`, q.insert)
	require.Equal(t, `SELECT "id", "payload", "attempts" FROM "jobs" WHERE "queue" = $1 AND "id" > CAST($2 AS bigint) AND (("reserved_at" IS NULL AND "available_at" <= $3) OR "reserved_at" <= $4) ORDER BY "id" ASC LIMIT $5 FOR UPDATE SKIP LOCKED`, q.reserveAbove)
	require.Equal(t, `UPDATE "jobs" SET "reserved_at" = $1 WHERE "id" = CAST($2 AS bigint) AND "reserved_at" IS NOT NULL`, q.extend)

	bad := jobsLaravel.Jobs
	bad.InsertColumns = bad.InsertColumns[1:]
	_, err = bindJobsQueries(mysqlDriver, bad, "jobs", "")
	require.ErrorContains(t, err, "insert columns")
	bad = jobsLaravel.Jobs
	bad.AvailableAt = "available at"
	_, err = bindJobsQueries(mysqlDriver, bad, "jobs", "")
	require.ErrorContains(t, err, "only letters, digits and _")
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
