package sql

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge/compat/jobstable"
	"github.com/queuebridge/bridge/queue"
)

var equalTime = cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })

// forEach runs f as a parallel subtest for every driver and schema.
func forEach(t *testing.T, f func(t *testing.T, d driverKind, schema *failedLayout)) {
	t.Helper()
	for _, d := range drivers {
		for _, schema := range schemas {
			t.Run(fmt.Sprintf("%s/%s", d, schema), func(t *testing.T) {
				t.Parallel()
				f(t, d, schema)
			})
		}
	}
}

// timeColumn is the schema's failed-at column.
func timeColumn(schema *failedLayout) string {
	if schema == failedThinkQueue {
		return "fail_time"
	}
	return "failed_at"
}

// fixtureCase is a fixture's failed_jobs row as the job the bridge inserts, and the row that must result.
type fixtureCase struct {
	job queue.FailedJob
	// row is every column of the stored row, as PDO returns it.
	row map[string]*string
	// class is queue:failed's Class column for it.
	class string
}

// fixtureCaseFor is the failed_jobs row PHP wrote in the fixture, and the job that must write it.
// The think-queue job's FailedAt is given in the capture's zone (ThinkPHP's default Asia/Shanghai,
// UTC+8), as a caller with the app's clock would give it.
func fixtureCaseFor(t testing.TB, schema *failedLayout) fixtureCase {
	t.Helper()
	if schema == failedLaravel {
		r, now := laravelFixtureRow(t)
		return fixtureCase{
			job: queue.FailedJob{ID: r.UUID, Connection: r.Connection, Queue: r.Queue, Payload: []byte(r.Payload),
				Exception: r.Exception, FailedAt: now},
			row: map[string]*string{"id": strp(r.ID.String()), "uuid": strp(r.UUID), "connection": strp(r.Connection),
				"queue": strp(r.Queue), "payload": strp(r.Payload), "exception": strp(r.Exception), "failed_at": strp(r.FailedAt)},
			class: `App\Jobs\Fails`,
		}
	}
	r := thinkQueueFixtureRow(t)
	at, err := time.ParseInLocation(time.DateTime, r.FailTime, time.FixedZone("CST", 8*3600))
	require.NoError(t, err)
	return fixtureCase{
		job: queue.FailedJob{ID: "ignored", Connection: r.Connection, Queue: r.Queue, Payload: []byte(r.Payload),
			Exception: r.Exception, FailedAt: at},
		row: map[string]*string{"id": strp(r.ID.String()), "connection": strp(r.Connection), "queue": strp(r.Queue),
			"payload": strp(r.Payload), "exception": strp(r.Exception), "fail_time": strp(r.FailTime)},
		class: `app\job\Fail`,
	}
}

// TestInsertFixtureRow writes the row PHP wrote in the fixtures and checks it byte for byte: in the
// table, through the store, and through PHP's PDO, which must also name the job class as queue:failed
// does.
func TestInsertFixtureRow(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, d driverKind, schema *failedLayout) {
		ctx := context.Background()
		tb := setup(t, d, schema, "", true)
		fc := fixtureCaseFor(t, schema)
		require.NoError(t, tb.store.Insert(ctx, fc.job))

		require.Empty(t, cmp.Diff([]map[string]*string{fc.row}, tb.rawRows(t)), "stored row (-want, +got)")
		if d == driverSQLite {
			var types string
			require.NoError(t, tb.raw.QueryRowContext(ctx, "SELECT typeof(connection)||typeof(queue)||typeof(payload)||typeof(exception)||typeof("+
				timeColumn(schema)+") FROM failed_jobs").Scan(&types))
			require.Equal(t, strings.Repeat("text", 5), types, "bound as text, as PDO binds PHP strings")
		}

		want := fc.job
		if schema == failedThinkQueue {
			want.ID = *fc.row["id"]
			// Read back in time.Local (no loc in the DSN): the same wall clock.
			want.FailedAt = time.Date(2026, 11, 26, 9, 13, 52, 0, time.Local)
		}
		got, err := tb.store.Failed(ctx)
		require.NoError(t, err)
		require.Empty(t, cmp.Diff([]queue.FailedJob{want}, got, equalTime), "(-want, +got)")
		require.Equal(t, *fc.row[timeColumn(schema)], got[0].FailedAt.Format(time.DateTime))
		one, ok, err := tb.store.FailedJob(ctx, want.ID)
		require.NoError(t, err)
		require.True(t, ok)
		require.Empty(t, cmp.Diff(want, one, equalTime), "(-want, +got)")

		php := phpRead(t, tb)
		require.Len(t, php, 1)
		require.Empty(t, cmp.Diff(fc.row, php[0].Columns), "PHP's PDO (-want, +got)")
		require.NotNil(t, php[0].Class)
		require.Equal(t, fc.class, *php[0].Class, "queue:failed's Class column")
	})
}

// TestPHPWritesBridgeReads has PHP insert the fixture row as the library's failed provider does, and
// reads it with the store.
func TestPHPWritesBridgeReads(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, d driverKind, schema *failedLayout) {
		ctx := context.Background()
		tb := setup(t, d, schema, "", true)
		fc := fixtureCaseFor(t, schema)
		row := map[string]string{}
		for k, v := range fc.row {
			if k != "id" {
				row[k] = *v
			}
		}
		id := phpInsert(t, tb, row)
		require.Equal(t, "1", id)

		want := fc.job
		if schema == failedThinkQueue {
			want.ID = id
			want.FailedAt = time.Date(2026, 11, 26, 9, 13, 52, 0, time.Local)
		}
		got, err := tb.store.Failed(ctx)
		require.NoError(t, err)
		require.Empty(t, cmp.Diff([]queue.FailedJob{want}, got, equalTime), "(-want, +got)")
		require.Equal(t, fc.job.Payload, got[0].Payload)
	})
}

// TestListForgetFlush runs the queue:failed / forget / flush cycle on three rows: the fixture's, a
// payload with NUL escapes and raw UTF-8 (Laravel's ObjectProps fixture), and one with a literal NUL
// byte and a 4-byte character.
func TestListForgetFlush(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, d driverKind, schema *failedLayout) {
		ctx := context.Background()
		tb := setup(t, d, schema, "", true)
		fc := fixtureCaseFor(t, schema)
		base := fc.job.FailedAt
		jobs := []queue.FailedJob{
			fc.job,
			{ID: "00000000-0000-4000-8000-000000000001", Connection: "redis", Queue: "default",
				Payload:   readFixture(t, "laravel/v8/payloads/object_props.json"),
				Exception: "RuntimeException: 张三 😀 in /app/Job.php:1\nStack trace:\n#0 {main}\n\nNext LogicException: second in /app/Job.php:2\nStack trace:\n#0 {main}",
				FailedAt:  base.Add(time.Second)},
			{ID: "00000000-0000-4000-8000-0000000000ff", Connection: "database", Queue: "reports",
				Payload: []byte("{\"job\":\"poison\x00\",\"data\":\"😀\"}\x00"), Exception: "", FailedAt: base.Add(2 * time.Second)},
		}
		if d == driverPostgres {
			// PostgreSQL's text cannot hold NUL bytes (ErrNULByte, TestInsertRejects): the same row with them
			// escaped, as JSON has them.
			jobs[2].Payload = []byte("{\"job\":\"poison\\u0000\",\"data\":\"😀\"}")
		}
		for _, j := range jobs {
			require.NoError(t, tb.store.Insert(ctx, j))
		}
		want := make([]queue.FailedJob, len(jobs))
		copy(want, jobs)
		for i := range want {
			if schema == failedThinkQueue {
				want[i].ID = fmt.Sprint(i + 1)
				// The wall clock as given, read back in time.Local.
				wall := want[i].FailedAt
				want[i].FailedAt = time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), 0, time.Local)
			}
		}

		got, err := tb.store.Failed(ctx)
		require.NoError(t, err)
		require.Empty(t, cmp.Diff(want, got, equalTime), "oldest first (-want, +got)")
		for i := range want {
			require.Equal(t, want[i].Payload, got[i].Payload, "payload %d byte for byte", i)
		}

		php := phpRead(t, tb)
		require.Len(t, php, 3)
		for i, r := range php {
			j := jobs[len(jobs)-1-i] // PHP lists newest first
			require.Equal(t, string(j.Payload), *r.Columns["payload"], "PHP reads payload %d byte for byte", i)
			require.Equal(t, j.Exception, *r.Columns["exception"])
		}
		require.Equal(t, `App\Jobs\ObjectProps`, *php[1].Class)

		one, ok, err := tb.store.FailedJob(ctx, want[1].ID)
		require.NoError(t, err)
		require.True(t, ok)
		require.Empty(t, cmp.Diff(want[1], one, equalTime), "(-want, +got)")
		for _, id := range []string{"", "missing", "999", "-1", "1.0", "99999999999999999999"} {
			_, ok, err := tb.store.FailedJob(ctx, id)
			require.NoError(t, err, id)
			require.False(t, ok, id)
			ok, err = tb.store.Forget(ctx, id)
			require.NoError(t, err, id)
			require.False(t, ok, id)
		}

		ok, err = tb.store.Forget(ctx, want[1].ID)
		require.NoError(t, err)
		require.True(t, ok)
		ok, err = tb.store.Forget(ctx, want[1].ID)
		require.NoError(t, err)
		require.False(t, ok, "already forgotten")
		_, ok, err = tb.store.FailedJob(ctx, want[1].ID)
		require.NoError(t, err)
		require.False(t, ok)
		got, err = tb.store.Failed(ctx)
		require.NoError(t, err)
		require.Empty(t, cmp.Diff([]queue.FailedJob{want[0], want[2]}, got, equalTime), "(-want, +got)")

		n, err := tb.store.Flush(ctx)
		require.NoError(t, err)
		require.Equal(t, 2, n)
		n, err = tb.store.Flush(ctx)
		require.NoError(t, err)
		require.Zero(t, n)
		got, err = tb.store.Failed(ctx)
		require.NoError(t, err)
		require.Empty(t, got)
		require.Empty(t, tb.rawRows(t))
		require.Empty(t, phpRead(t, tb))
	})
}

// TestDuplicateUUID: failed_jobs_uuid_unique rejects a second row with the same uuid, as it does for
// PHP. On MySQL the column's utf8mb4_unicode_ci collation makes uuids differing only in case the same
// uuid (and FailedJob finds either spelling); SQLite and PostgreSQL compare bytes.
func TestDuplicateUUID(t *testing.T) {
	t.Parallel()
	for _, d := range drivers {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			tb := setup(t, d, failedLaravel, "", true)
			fc := fixtureCaseFor(t, failedLaravel)
			require.NoError(t, tb.store.Insert(ctx, fc.job))

			again := fc.job
			again.Exception = "another failure"
			err := tb.store.Insert(ctx, again)
			require.ErrorIs(t, err, ErrDuplicateID)
			require.ErrorContains(t, err, fc.job.ID)
			require.Len(t, tb.rawRows(t), 1)

			upper := fc.job
			upper.ID = strings.ToUpper(fc.job.ID + "a")
			require.NoError(t, tb.store.Insert(ctx, queue.FailedJob{ID: fc.job.ID + "a", Payload: []byte("{}"), FailedAt: fc.job.FailedAt}))
			err = tb.store.Insert(ctx, upper)
			_, found, ferr := tb.store.FailedJob(ctx, upper.ID)
			require.NoError(t, ferr)
			if d == driverMySQL {
				require.ErrorIs(t, err, ErrDuplicateID)
				require.True(t, found, "unicode_ci: case-insensitive")
			} else {
				require.NoError(t, err)
				require.True(t, found)
				require.Len(t, tb.rawRows(t), 3)
			}
		})
	}
}

func TestInsertRejects(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, d driverKind, schema *failedLayout) {
		ctx := context.Background()
		tb := setup(t, d, schema, "", true)
		fc := fixtureCaseFor(t, schema)

		zero := fc.job
		zero.FailedAt = time.Time{}
		require.ErrorContains(t, tb.store.Insert(ctx, zero), "FailedAt is zero")

		if schema == failedLaravel {
			noID := fc.job
			noID.ID = ""
			require.ErrorContains(t, tb.store.Insert(ctx, noID), "ID (the payload's uuid) is required")
		}

		poison := fc.job
		poison.ID = "00000000-0000-4000-8000-00000000dead"
		poison.Payload = []byte("\xff\xfenot utf-8 \x00")
		err := tb.store.Insert(ctx, poison)
		if d == driverMySQL || d == driverPostgres {
			require.ErrorIs(t, err, ErrNotUTF8)
			require.ErrorContains(t, err, "payload")
			if d == driverPostgres {
				nul := poison
				nul.Payload = []byte("{\"job\":\"x\"}\x00")
				require.ErrorIs(t, tb.store.Insert(ctx, nul), ErrNULByte)
				nul.Payload, nul.Exception = []byte("{}"), "boom\x00"
				err := tb.store.Insert(ctx, nul)
				require.ErrorIs(t, err, ErrNULByte)
				require.ErrorContains(t, err, "exception")
			}
			require.Empty(t, tb.rawRows(t))
			return
		}
		require.NoError(t, err, "SQLite keeps any bytes")
		got, err := tb.store.Failed(ctx)
		require.NoError(t, err)
		require.Len(t, got, 1)
		require.Equal(t, poison.Payload, got[0].Payload)
		php := phpRead(t, tb)
		require.Len(t, php, 1)
		require.Equal(t, string(poison.Payload), *php[0].Columns["payload"], "PHP reads the same bytes")
	})
}

// TestTimeZones: loc in the DSN is the PHP app's zone. Writes convert FailedAt into it and reads parse in
// it. Without it Laravel is UTC, and think-queue writes the wall clock as given.
func TestTimeZones(t *testing.T) {
	t.Parallel()
	// The think-queue fixture's fail_time: 1795655632 in ThinkPHP's default Asia/Shanghai.
	at := time.Unix(1795655632, 0)
	cases := []struct {
		name     string
		schema   *failedLayout
		params   []string
		failedAt time.Time
		stored   string
		readZone string
	}{
		{"laravel default UTC", failedLaravel, nil, at.In(time.FixedZone("X", -5*3600)), "2026-11-26 01:13:52", "UTC"},
		{"laravel app zone", failedLaravel, []string{"loc=Asia%2FShanghai"}, at.UTC(), "2026-11-26 09:13:52", "Asia/Shanghai"},
		{"thinkqueue app zone", failedThinkQueue, []string{"loc=Asia%2FShanghai"}, at.UTC(), "2026-11-26 09:13:52", "Asia/Shanghai"},
		{"thinkqueue as given", failedThinkQueue, nil, at.In(time.FixedZone("CST", 8*3600)), "2026-11-26 09:13:52", "Local"},
	}
	for _, d := range drivers {
		for _, c := range cases {
			t.Run(string(d)+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				tb := setup(t, d, c.schema, "", true, c.params...)
				job := queue.FailedJob{ID: "00000000-0000-4000-8000-000000000009", Connection: "redis", Queue: "default",
					Payload: []byte(`{}`), FailedAt: c.failedAt}
				require.NoError(t, tb.store.Insert(ctx, job))
				rows := tb.rawRows(t)
				require.Len(t, rows, 1)
				require.Equal(t, c.stored, *rows[0][timeColumn(c.schema)])
				got, err := tb.store.Failed(ctx)
				require.NoError(t, err)
				require.Len(t, got, 1)
				if c.readZone == "Local" {
					require.Same(t, time.Local, got[0].FailedAt.Location())
				} else {
					require.Equal(t, c.readZone, got[0].FailedAt.Location().String())
				}
				require.Equal(t, c.stored, got[0].FailedAt.Format(time.DateTime))
				if c.readZone != "Local" {
					require.True(t, got[0].FailedAt.Equal(at), "same instant: %v", got[0].FailedAt)
				}
			})
		}
	}
}

// TestNullColumns: think-queue's columns are NULL-able, and 3.0.3 never wrote fail_time (#97). Such rows
// read as empty strings and a zero FailedAt.
func TestNullColumns(t *testing.T) {
	t.Parallel()
	for _, d := range drivers {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			tb := setup(t, d, failedThinkQueue, "", true)
			_, err := tb.raw.ExecContext(ctx, "INSERT INTO failed_jobs (connection, fail_time) VALUES ('redis', NULL)")
			require.NoError(t, err)
			got, err := tb.store.Failed(ctx)
			require.NoError(t, err)
			require.Equal(t, []queue.FailedJob{{ID: "1", Connection: "redis"}}, got)
		})
	}
}

func TestMySQLSession(t *testing.T) {
	t.Parallel()
	tb := setup(t, driverMySQL, failedLaravel, "", false)
	var mode, collation string
	require.NoError(t, tb.db.pool.QueryRowContext(context.Background(),
		"SELECT @@SESSION.sql_mode, @@SESSION.collation_connection").Scan(&mode, &collation))
	require.Contains(t, strings.Split(mode, ","), "STRICT_ALL_TABLES")
	require.Equal(t, "utf8mb4_unicode_ci", collation)
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := "sqlite:" + t.TempDir() + "/x.db"
	db, err := Open(ctx, dsn, &Options{Create: true})
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Failed(jobstable.Failed{}, "")
	require.ErrorContains(t, err, "column name is empty")
	_, err = db.Failed(jobstable.Failed{FailedAt: "failed-at"}, "")
	require.ErrorContains(t, err, "only letters, digits and _")
	for _, table := range []string{"failed-jobs", "failed_jobs; DROP TABLE x", "`failed_jobs`", "表", strings.Repeat("a", 65)} {
		_, err = db.Failed(failedLaravel.Failed, table)
		require.Error(t, err, table)
	}
	_, err = Open(ctx, "postgres://u:s3cr3t@127.0.0.1:1/db?connect_timeout=2", nil)
	require.ErrorContains(t, err, "connect to postgres 127.0.0.1:1/db")
	require.NotContains(t, err.Error(), "s3cr3t")
	_, err = Open(ctx, "pgsql:host=localhost;dbname=db", nil)
	require.ErrorIs(t, err, ErrUnsupportedDriver)

	_, err = Open(ctx, "mysql://root:s3cr3t@127.0.0.1:1/db?timeout=2s", nil)
	require.ErrorContains(t, err, "connect to mysql 127.0.0.1:1/db")
	require.NotContains(t, err.Error(), "s3cr3t")

	store, err := db.Failed(failedThinkQueue.Failed, "tp_failed_jobs")
	require.NoError(t, err)
	require.Equal(t, "tp_failed_jobs", store.Table())
}

// TestMySQLTimestampRange: failed_at / fail_time are TIMESTAMP columns on MySQL, which end in January
// 2038 (MariaDB < 11.5). With the strict sql_mode the store sets, a later time is an error instead of a
// row with a zero date.
func TestMySQLTimestampRange(t *testing.T) {
	t.Parallel()
	for _, schema := range schemas {
		t.Run(schema.String(), func(t *testing.T) {
			t.Parallel()
			tb := setup(t, driverMySQL, schema, "", true)
			err := tb.store.Insert(context.Background(), queue.FailedJob{ID: "00000000-0000-4000-8000-000000002040",
				Payload: []byte("{}"), FailedAt: time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)})
			require.ErrorContains(t, err, "Incorrect datetime value")
			require.Empty(t, tb.rawRows(t))
		})
	}
}
