package sql

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
)

// thinkQueueSQLiteDDL is think-queue 3.0.9's failed_jobs.stub as think-migration 3.1.1's phinx
// SQLiteAdapter renders it. There is no captured fixture for SQLite; this is derived from that adapter
// (createTable, getColumnSqlDefinition, $supportedColumnTypes) and is the bridge's own expectation.
const thinkQueueSQLiteDDL = "CREATE TABLE `failed_jobs` (`id` INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, `connection` TEXT NULL, `queue` TEXT NULL, `payload` TEXT NULL, `exception` TEXT NULL, `fail_time` TIMESTAMP_TEXT NULL DEFAULT CURRENT_TIMESTAMP);"

// laravelPostgresDDL is Laravel 8.83's failed_jobs.stub through PostgresGrammar, and laravelPostgresTable
// the table PostgreSQL then holds (postgresDefinitions). No PostgreSQL fixture was captured: this is the
// grammar's output as derived from its code (see postgres/failed_jobs_ddl.sql).
var (
	laravelPostgresDDL = []string{
		`create table "failed_jobs" ("id" bigserial primary key not null, "uuid" varchar(255) not null, "connection" text not null, "queue" text not null, "payload" text not null, "exception" text not null, "failed_at" timestamp(0) without time zone default CURRENT_TIMESTAMP not null)`,
		`alter table "failed_jobs" add constraint "failed_jobs_uuid_unique" unique ("uuid")`,
	}
	laravelPostgresTable = []string{
		"id bigint NOT NULL DEFAULT nextval('failed_jobs_id_seq'::regclass)",
		"uuid character varying(255) NOT NULL",
		"connection text NOT NULL",
		"queue text NOT NULL",
		"payload text NOT NULL",
		"exception text NOT NULL",
		"failed_at timestamp(0) without time zone NOT NULL DEFAULT CURRENT_TIMESTAMP",
		"CONSTRAINT failed_jobs_pkey PRIMARY KEY (id)",
		"CONSTRAINT failed_jobs_uuid_unique UNIQUE (uuid)",
		"CREATE UNIQUE INDEX failed_jobs_pkey ON public.failed_jobs USING btree (id)",
		"CREATE UNIQUE INDEX failed_jobs_uuid_unique ON public.failed_jobs USING btree (uuid)",
	}
	// thinkQueuePostgresDDL is think-queue 3.0.9's failed_jobs.stub as think-migration 3.1.1's phinx
	// PostgresAdapter renders it on PostgreSQL >= 10 (derived, not captured).
	thinkQueuePostgresDDL   = `CREATE TABLE "public"."failed_jobs" ("id" INTEGER NOT NULL GENERATED ALWAYS AS IDENTITY, "connection" TEXT NULL, "queue" TEXT NULL, "payload" TEXT NULL, "exception" TEXT NULL, "fail_time" TIMESTAMP NULL  DEFAULT CURRENT_TIMESTAMP, CONSTRAINT "failed_jobs_pkey" PRIMARY KEY ("id"))`
	thinkQueuePostgresTable = []string{
		"id integer NOT NULL GENERATED ALWAYS AS IDENTITY",
		"connection text NULL",
		"queue text NULL",
		"payload text NULL",
		"exception text NULL",
		"fail_time timestamp without time zone NULL DEFAULT CURRENT_TIMESTAMP",
		"CONSTRAINT failed_jobs_pkey PRIMARY KEY (id)",
		"CREATE UNIQUE INDEX failed_jobs_pkey ON public.failed_jobs USING btree (id)",
	}
)

// tableInfo is one row of SQLite's PRAGMA table_info.
type tableInfo struct {
	CID       int     `json:"cid"`
	Name      string  `json:"name"`
	Type      string  `json:"type"`
	NotNull   int     `json:"notnull"`
	DfltValue *string `json:"dflt_value"`
	PK        int     `json:"pk"`
}

// laravelSchemaFixture is what fixtures/laravel/<v>/database/{schema_sqlite,mariadb/schema_mariadb}.json
// record about failed_jobs.
type laravelSchemaFixture struct {
	Queries         map[string][]string    `json:"queries_sent_by_stub_up"`
	SQLiteMaster    map[string]string      `json:"sqlite_master"`
	Indexes         map[string][]string    `json:"indexes"`
	PragmaTableInfo map[string][]tableInfo `json:"pragma_table_info"`
	ShowCreateTable map[string]string      `json:"show_create_table"`
}

func laravelSchema(t testing.TB, version string, d driverKind) laravelSchemaFixture {
	t.Helper()
	var f laravelSchemaFixture
	if d == driverMySQL {
		readJSON(t, "laravel/"+version+"/database/mariadb/schema_mariadb.json", &f)
	} else {
		readJSON(t, "laravel/"+version+"/database/schema_sqlite.json", &f)
	}
	return f
}

// expectedMigration returns the statements Migrate must return and the table (and index) definitions
// the database must then report, for failed_jobs; renamed puts another table name in.
func expectedMigration(t testing.TB, d driverKind, schema *failedLayout) (stmts []string, created []string) {
	t.Helper()
	if schema == failedLaravel && d == driverPostgres {
		return laravelPostgresDDL, laravelPostgresTable
	}
	if schema == failedLaravel {
		f := laravelSchema(t, "v8", d)
		stmts = f.Queries["stub:failed_jobs.stub"]
		if d == driverMySQL {
			return stmts, []string{f.ShowCreateTable["failed_jobs"]}
		}
		return stmts, append([]string{f.SQLiteMaster["failed_jobs"]}, f.Indexes["failed_jobs"]...)
	}
	if d == driverPostgres {
		return []string{thinkQueuePostgresDDL}, thinkQueuePostgresTable
	}
	if d == driverMySQL {
		create := strings.TrimRight(string(readFixture(t, "thinkqueue/v3/ddl/failed_jobs.create.as_executed_by_think-migration.sql")), "\n")
		show := strings.TrimRight(string(readFixture(t, "thinkqueue/v3/ddl/failed_jobs.show_create.mariadb-10.11.sql")), ";\n")
		return []string{create}, []string{show}
	}
	// SQLite keeps the statement's text, less the ";".
	return []string{thinkQueueSQLiteDDL}, []string{strings.TrimSuffix(thinkQueueSQLiteDDL, ";")}
}

func renameTable(ss []string, table string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.ReplaceAll(s, "failed_jobs", table)
	}
	return out
}

// createdDefinitions reads back what the database says about the table: SHOW CREATE TABLE on MySQL;
// the table's and its indexes' sqlite_master text on SQLite.
func createdDefinitions(t testing.TB, tb *testBundle) []string {
	t.Helper()
	ctx := context.Background()
	if tb.driver == driverPostgres {
		return postgresDefinitions(t, tb.raw, tb.table)
	}
	if tb.driver == driverMySQL {
		var name, create string
		require.NoError(t, tb.raw.QueryRowContext(ctx, "SHOW CREATE TABLE `"+tb.table+"`").Scan(&name, &create))
		return []string{create}
	}
	rows, err := tb.raw.QueryContext(ctx,
		`SELECT sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL ORDER BY type = 'index', name`, tb.table)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		out = append(out, s)
	}
	require.NoError(t, rows.Err())
	return out
}

func sqliteTableInfo(t testing.TB, tb *testBundle) []tableInfo {
	t.Helper()
	rows, err := tb.raw.QueryContext(context.Background(), `SELECT cid, name, type, "notnull", dflt_value, pk FROM pragma_table_info(?)`, tb.table)
	require.NoError(t, err)
	defer rows.Close()
	var out []tableInfo
	for rows.Next() {
		var ti tableInfo
		require.NoError(t, rows.Scan(&ti.CID, &ti.Name, &ti.Type, &ti.NotNull, &ti.DfltValue, &ti.PK))
		out = append(out, ti)
	}
	require.NoError(t, rows.Err())
	return out
}

func tableExists(t testing.TB, tb *testBundle) bool {
	t.Helper()
	return rawTableExists(t, tb.database, tb.table)
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	for _, d := range drivers {
		for _, schema := range schemas {
			for _, table := range []string{"", "tp_failed_jobs"} {
				name := table
				if name == "" {
					name = "default_table"
				}
				t.Run(fmt.Sprintf("%s/%s/%s", d, schema, name), func(t *testing.T) {
					t.Parallel()
					tb := setup(t, d, schema, table, false)
					wantStmts, wantCreated := expectedMigration(t, d, schema)
					wantStmts, wantCreated = renameTable(wantStmts, tb.table), renameTable(wantCreated, tb.table)

					m, err := tb.migrate(true)
					require.NoError(t, err)
					require.Empty(t, cmp.Diff(wantStmts, m.Statements), "dry run (-want, +got)")
					require.False(t, m.Existed)
					require.False(t, tableExists(t, tb), "a dry run creates nothing")

					m, err = tb.migrate(false)
					require.NoError(t, err)
					require.Empty(t, cmp.Diff(wantStmts, m.Statements), "(-want, +got)")
					require.Equal(t, tb.table, m.Table)
					require.False(t, m.Existed)
					require.Empty(t, cmp.Diff(wantCreated, createdDefinitions(t, tb)), "the table as the database reports it (-want, +got)")

					// Idempotent: the table is found and left as it is.
					for _, dryRun := range []bool{false, true} {
						m, err = tb.migrate(dryRun)
						require.NoError(t, err)
						require.True(t, m.Existed)
						require.Empty(t, cmp.Diff(wantStmts, m.Statements), "(-want, +got)")
						require.Empty(t, cmp.Diff(wantCreated, createdDefinitions(t, tb)), "(-want, +got)")
					}
				})
			}
		}
	}
}

// TestMigrateSQLiteColumns compares the SQLite tables column by column (PRAGMA table_info) with what
// Laravel 8, 11 and 12 create: the CREATE text differs across versions, the columns do not.
func TestMigrateSQLiteColumns(t *testing.T) {
	t.Parallel()
	t.Run("laravel", func(t *testing.T) {
		t.Parallel()
		tb := setup(t, driverSQLite, failedLaravel, "", true)
		got := sqliteTableInfo(t, tb)
		for _, v := range []string{"v8", "v11", "v12"} {
			want := laravelSchema(t, v, driverSQLite).PragmaTableInfo["failed_jobs"]
			require.NotEmpty(t, want, v)
			require.Empty(t, cmp.Diff(want, got), "%s (-want, +got)", v)
		}
	})
	t.Run("thinkqueue", func(t *testing.T) {
		t.Parallel()
		tb := setup(t, driverSQLite, failedThinkQueue, "", true)
		ts := strp("CURRENT_TIMESTAMP")
		want := []tableInfo{
			{CID: 0, Name: "id", Type: "INTEGER", NotNull: 1, PK: 1},
			{CID: 1, Name: "connection", Type: "TEXT"},
			{CID: 2, Name: "queue", Type: "TEXT"},
			{CID: 3, Name: "payload", Type: "TEXT"},
			{CID: 4, Name: "exception", Type: "TEXT"},
			{CID: 5, Name: "fail_time", Type: "TIMESTAMP_TEXT", DfltValue: ts},
		}
		require.Empty(t, cmp.Diff(want, sqliteTableInfo(t, tb)), "(-want, +got)")
	})
}

func TestMigrateLongIndexName(t *testing.T) {
	t.Parallel()
	table := strings.Repeat("t", maxIdentifier-len("_uuid_unique")+1)
	tb := setup(t, driverMySQL, failedLaravel, table, false)
	_, err := tb.migrate(true)
	require.ErrorContains(t, err, "longer than MySQL's 64 bytes")
	require.False(t, tableExists(t, tb))
}
