package sql

import (
	"context"
	dbsql "database/sql"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge/queue"
	"github.com/queuebridge/bridge/worker"
)

var _ worker.Broker = (*Broker)(nil)

var jobsSchemas = []*jobsLayout{jobsV1, jobsV3, jobsLaravel}

// testClock is the injected clock: whole seconds, moved by the test.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(unix int64) *testClock { return &testClock{t: time.Unix(unix, 0)} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Set(unix int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = time.Unix(unix, 0)
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// brokerBundle is one test's database with a broker (and its jobs table) on it.
type brokerBundle struct {
	*database
	db     *DB
	b      *Broker
	schema *jobsLayout
	table  string
}

func setupBroker(t testing.TB, d driverKind, schema *jobsLayout, cfg *JobsConfig) *brokerBundle {
	t.Helper()
	db := newDatabase(t, d)
	return openBrokerOn(t, db, schema, cfg, true)
}

// openBrokerOn opens a broker on db's jobs table, which migrate creates first (else it must exist).
func openBrokerOn(t testing.TB, db *database, schema *jobsLayout, cfg *JobsConfig, migrate bool) *brokerBundle {
	t.Helper()
	ctx := context.Background()
	sdb := openDB(t, db)
	if migrate {
		_, err := sdb.MigrateJobs(ctx, schema.Jobs, "", false)
		require.NoError(t, err)
	}
	b, err := sdb.Jobs(ctx, schema.Jobs, "", cfg)
	require.NoError(t, err)
	return &brokerBundle{database: db, db: sdb, b: b, schema: schema, table: DefaultJobsTable}
}

// openFailedOn opens a failed store of layout on db and creates its table.
func openFailedOn(t testing.TB, db *database, layout *failedLayout) *FailedStore {
	t.Helper()
	sdb := openDB(t, db)
	_, err := sdb.MigrateFailed(context.Background(), layout.Failed, "", false)
	require.NoError(t, err)
	fs, err := sdb.Failed(layout.Failed, "")
	require.NoError(t, err)
	return fs
}

// rows reads the jobs table as PHP's PDO sees it: every value as text, nil for NULL, in id order.
func (bb *brokerBundle) rows(t testing.TB) []map[string]any {
	t.Helper()
	rows, err := bb.raw.QueryContext(context.Background(), "SELECT * FROM "+quoteIdent(bb.driver, bb.table)+" ORDER BY id")
	require.NoError(t, err)
	defer rows.Close()
	cols, err := rows.Columns()
	require.NoError(t, err)
	var out []map[string]any
	for rows.Next() {
		vals := make([]dbsql.RawBytes, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		require.NoError(t, rows.Scan(ptrs...))
		row := map[string]any{}
		for i, c := range cols {
			if vals[i] == nil {
				row[c] = nil
			} else {
				row[c] = string(vals[i])
			}
		}
		out = append(out, row)
	}
	require.NoError(t, rows.Err())
	return out
}

// fixtureJobRows turns a fixture's rows into rows comparable with brokerBundle.rows: the table's columns
// only (payload_file, *_minus_now and the like dropped), numbers as text; payloads come from payload.
func fixtureJobRows(t testing.TB, rows []map[string]any, payload func(row map[string]any) string) []map[string]any {
	t.Helper()
	out := make([]map[string]any, 0, len(rows))
	for _, r := range rows {
		row := map[string]any{}
		for k, v := range r {
			if strings.HasSuffix(k, "_minus_now") || strings.HasPrefix(k, "payload_") {
				continue
			}
			switch v := v.(type) {
			case nil:
				row[k] = nil
			case string:
				row[k] = v
			case float64:
				row[k] = strconv.FormatFloat(v, 'f', -1, 64)
			default:
				t.Fatalf("fixture value %v (%T)", v, v)
			}
		}
		if payload != nil {
			row["payload"] = payload(r)
		}
		out = append(out, row)
	}
	return out
}

// withoutPayload drops the payload column (think-queue's summaries record rows without it).
func withoutPayload(rows []map[string]any) []map[string]any {
	out := make([]map[string]any, len(rows))
	for i, r := range rows {
		c := map[string]any{}
		for k, v := range r {
			if k != "payload" {
				c[k] = v
			}
		}
		out[i] = c
	}
	return out
}

func thinkQueueVersion(s *jobsLayout) string {
	if s == jobsV1 {
		return "v1"
	}
	return "v3"
}

// expectedJobsMigration returns the statements Migrate must return and the definitions the database
// must then report (SHOW CREATE TABLE, or the sqlite_master text of the table and its indexes).
func expectedJobsMigration(t testing.TB, d driverKind, s *jobsLayout) (stmts, created []string) {
	t.Helper()
	switch {
	case d == driverPostgres:
		return jobsPostgresDDL[s], jobsPostgresTable[s]
	case s == jobsLaravel:
		f := laravelSchema(t, "v8", d)
		stmts = f.Queries["stub:jobs.stub"]
		if d == driverMySQL {
			return stmts, []string{f.ShowCreateTable["jobs"]}
		}
		return stmts, append([]string{f.SQLiteMaster["jobs"]}, f.Indexes["jobs"]...)
	case d == driverMySQL:
		v := thinkQueueVersion(s)
		create := "thinkqueue/v3/ddl/jobs.create.as_executed_by_think-migration.sql"
		if v == "v1" {
			create = "thinkqueue/v1/ddl/jobs.readme.sql"
		}
		stmt := strings.ReplaceAll(strings.TrimRight(string(readFixture(t, create)), "\n"), "`prefix_jobs`", "`jobs`")
		show := strings.TrimRight(string(readFixture(t, "thinkqueue/"+v+"/ddl/jobs.show_create.mariadb-10.11.sql")), ";\n")
		return []string{stmt}, []string{show}
	case s == jobsV1:
		// No shipped SQLite DDL: the bridge's own rendering of the README table.
		stmt := `CREATE TABLE "jobs" ("id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, "queue" VARCHAR(255) NOT NULL, "payload" TEXT NOT NULL, "attempts" INTEGER NOT NULL, "reserved" INTEGER NOT NULL, "reserved_at" INTEGER NULL, "available_at" INTEGER NOT NULL, "created_at" INTEGER NOT NULL)`
		return []string{stmt}, []string{stmt}
	default:
		// think-queue 3.0.9's stub as phinx's SQLiteAdapter renders it (derived, not captured).
		create := "CREATE TABLE `jobs` (`id` INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, `queue` VARCHAR(255) NULL, `payload` TEXT NULL, `attempts` TINYINT NULL, `reserve_time` INTEGER NULL, `available_time` INTEGER NULL, `create_time` INTEGER NULL);"
		index := "CREATE INDEX `jobs_queue` ON `jobs` (`queue`);"
		return []string{create, index}, []string{strings.TrimSuffix(create, ";"), strings.TrimSuffix(index, ";")}
	}
}

// jobsPostgresDDL are the jobs tables' statements on PostgreSQL (no captured fixture: Laravel 8.83's
// PostgresGrammar and think-migration 3.1.1's phinx PostgresAdapter as derived from their code, and the
// bridge's own rendering of think-queue 1.x's README table), and jobsPostgresTable what the catalog then
// holds (postgresDefinitions).
var (
	jobsPostgresDDL = map[*jobsLayout][]string{
		jobsV1: {`CREATE TABLE "jobs" ("id" SERIAL NOT NULL PRIMARY KEY, "queue" VARCHAR(255) NOT NULL, "payload" TEXT NOT NULL, "attempts" SMALLINT NOT NULL, "reserved" SMALLINT NOT NULL, "reserved_at" INTEGER NULL, "available_at" INTEGER NOT NULL, "created_at" INTEGER NOT NULL)`},
		jobsV3: {
			`CREATE TABLE "public"."jobs" ("id" INTEGER NOT NULL GENERATED ALWAYS AS IDENTITY, "queue" CHARACTER VARYING (255) NULL, "payload" TEXT NULL, "attempts" INTEGER NULL, "reserve_time" INTEGER NULL, "available_time" INTEGER NULL, "create_time" INTEGER NULL, CONSTRAINT "jobs_pkey" PRIMARY KEY ("id"))`,
			`CREATE  INDEX "jobs_queue" ON "public"."jobs" ("queue") ;`,
		},
		jobsLaravel: {
			`create table "jobs" ("id" bigserial primary key not null, "queue" varchar(255) not null, "payload" text not null, "attempts" smallint not null, "reserved_at" integer null, "available_at" integer not null, "created_at" integer not null)`,
			`create index "jobs_queue_index" on "jobs" ("queue")`,
		},
	}
	jobsPostgresTable = map[*jobsLayout][]string{
		jobsV1: {
			"id integer NOT NULL DEFAULT nextval('jobs_id_seq'::regclass)",
			"queue character varying(255) NOT NULL",
			"payload text NOT NULL",
			"attempts smallint NOT NULL",
			"reserved smallint NOT NULL",
			"reserved_at integer NULL",
			"available_at integer NOT NULL",
			"created_at integer NOT NULL",
			"CONSTRAINT jobs_pkey PRIMARY KEY (id)",
			"CREATE UNIQUE INDEX jobs_pkey ON public.jobs USING btree (id)",
		},
		jobsV3: {
			"id integer NOT NULL GENERATED ALWAYS AS IDENTITY",
			"queue character varying(255) NULL",
			"payload text NULL",
			"attempts integer NULL",
			"reserve_time integer NULL",
			"available_time integer NULL",
			"create_time integer NULL",
			"CONSTRAINT jobs_pkey PRIMARY KEY (id)",
			"CREATE UNIQUE INDEX jobs_pkey ON public.jobs USING btree (id)",
			"CREATE INDEX jobs_queue ON public.jobs USING btree (queue)",
		},
		jobsLaravel: {
			"id bigint NOT NULL DEFAULT nextval('jobs_id_seq'::regclass)",
			"queue character varying(255) NOT NULL",
			"payload text NOT NULL",
			"attempts smallint NOT NULL",
			"reserved_at integer NULL",
			"available_at integer NOT NULL",
			"created_at integer NOT NULL",
			"CONSTRAINT jobs_pkey PRIMARY KEY (id)",
			"CREATE UNIQUE INDEX jobs_pkey ON public.jobs USING btree (id)",
			"CREATE INDEX jobs_queue_index ON public.jobs USING btree (queue)",
		},
	}
)

func (bb *brokerBundle) definitions(t testing.TB) []string {
	t.Helper()
	ctx := context.Background()
	if bb.driver == driverPostgres {
		return postgresDefinitions(t, bb.raw, bb.table)
	}
	if bb.driver == driverMySQL {
		var name, def string
		require.NoError(t, bb.raw.QueryRowContext(ctx, "SHOW CREATE TABLE `"+bb.table+"`").Scan(&name, &def))
		return []string{def}
	}
	rows, err := bb.raw.QueryContext(ctx, `SELECT sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL ORDER BY type = 'index', name`, bb.table)
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

func forEachJobs(t *testing.T, f func(t *testing.T, d driverKind, s *jobsLayout)) {
	for _, d := range drivers {
		for _, s := range jobsSchemas {
			t.Run(string(d)+"/"+s.String(), func(t *testing.T) {
				t.Parallel()
				f(t, d, s)
			})
		}
	}
}

func TestBrokerMigrateMatchesFixtureDDL(t *testing.T) {
	forEachJobs(t, func(t *testing.T, d driverKind, s *jobsLayout) {
		ctx := context.Background()
		db := newDatabase(t, d)
		sdb := openDB(t, db)
		bb := &brokerBundle{database: db, db: sdb, schema: s, table: DefaultJobsTable}
		wantStmts, wantCreated := expectedJobsMigration(t, d, s)
		dry, err := sdb.MigrateJobs(ctx, s.Jobs, "", true)
		require.NoError(t, err)
		require.Equal(t, wantStmts, dry.Statements)
		require.False(t, dry.Existed)
		require.False(t, rawTableExists(t, db, bb.table), "a dry run creates nothing")
		got, err := sdb.MigrateJobs(ctx, s.Jobs, "", false)
		require.NoError(t, err)
		require.Equal(t, Migration{Table: bb.table, Statements: wantStmts}, got)
		require.Equal(t, wantCreated, bb.definitions(t))
		// Run again, it finds the table and leaves it be; a dry run still gives the statements.
		for _, dryRun := range []bool{false, true} {
			again, err := sdb.MigrateJobs(ctx, s.Jobs, "", dryRun)
			require.NoError(t, err)
			require.Equal(t, Migration{Table: bb.table, Statements: wantStmts, Existed: true}, again)
			require.Equal(t, wantCreated, bb.definitions(t))
		}
	})
}

func TestBrokerPushMatchesThinkQueueFixture(t *testing.T) {
	for _, d := range drivers {
		for _, s := range []*jobsLayout{jobsV1, jobsV3} {
			t.Run(string(d)+"/"+s.String(), func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				v := thinkQueueVersion(s)
				var f struct {
					Summary struct {
						PerCase map[string]struct {
							RawFile      string         `json:"raw_file"`
							Row          map[string]any `json:"row"`
							AvailMinusCr int64          `json:"available_minus_created"`
						} `json:"per_case"`
					} `json:"summary"`
				}
				readJSON(t, "thinkqueue/"+v+"/database/push.json", &f)
				require.NotEmpty(t, f.Summary.PerCase)
				for name, c := range f.Summary.PerCase {
					bb := setupBroker(t, d, s, &JobsConfig{NowFunc: newClockFromRow(t, c.Row).Now})
					payload := readFixture(t, "thinkqueue/"+v+"/database/"+c.RawFile)
					now := bb.b.now()
					if c.AvailMinusCr == 0 {
						require.NoError(t, bb.b.Push(ctx, c.Row["queue"].(string), payload), name)
					} else {
						require.NoError(t, bb.b.Later(ctx, c.Row["queue"].(string), payload, now.Add(time.Duration(c.AvailMinusCr)*time.Second)), name)
					}
					want := fixtureJobRows(t, []map[string]any{c.Row}, func(map[string]any) string { return string(payload) })
					want[0]["id"] = "1"
					require.Equal(t, want, bb.rows(t), name)
					size, err := bb.b.Size(ctx, c.Row["queue"].(string))
					require.NoError(t, err)
					require.EqualValues(t, 1, size)
				}
			})
		}
	}
}

// newClockFromRow starts the clock at a fixture row's created_at / create_time.
func newClockFromRow(t testing.TB, row map[string]any) *testClock {
	t.Helper()
	for _, k := range []string{"created_at", "create_time"} {
		if v, ok := row[k].(string); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			require.NoError(t, err)
			return newClock(n)
		}
	}
	t.Fatalf("row %v has no creation time", row)
	return nil
}

func atoi(t testing.TB, v any) int64 {
	t.Helper()
	if f, ok := v.(float64); ok {
		return int64(f)
	}
	n, err := strconv.ParseInt(fmt.Sprint(v), 10, 64)
	require.NoError(t, err)
	return n
}

func reservedCol(s *jobsLayout) string {
	if s == jobsV3 {
		return "reserve_time"
	}
	return "reserved_at"
}

func TestBrokerReleaseMatchesThinkQueueFixture(t *testing.T) {
	for _, d := range drivers {
		for _, s := range []*jobsLayout{jobsV1, jobsV3} {
			t.Run(string(d)+"/"+s.String(), func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				var f struct {
					Config struct {
						Expire int64 `json:"expire_or_retry_after"`
						Delay  int64 `json:"release_delay"`
					} `json:"config"`
					Summary struct {
						Rounds []struct {
							Attempts  int              `json:"attempts()_inside_fire"`
							Before    map[string]any   `json:"row_before_release"`
							After     []map[string]any `json:"rows_after_release"`
							Unchanged bool             `json:"payload_unchanged"`
						} `json:"rounds"`
					} `json:"summary"`
					Pushed struct {
						T     int64 `json:"t"`
						State struct {
							Jobs []map[string]any `json:"table:jobs"`
						} `json:"state"`
					} `json:"pushed"`
				}
				readJSON(t, "thinkqueue/"+thinkQueueVersion(s)+"/database/release.json", &f)
				clock := newClock(f.Pushed.T)
				bb := setupBroker(t, d, s, &JobsConfig{NowFunc: clock.Now, Expire: time.Duration(f.Config.Expire) * time.Second})
				require.Len(t, f.Pushed.State.Jobs, 1)
				payload := []byte(f.Pushed.State.Jobs[0]["payload"].(string))
				require.NoError(t, bb.b.Push(ctx, "default", payload))
				require.Equal(t, fixtureJobRows(t, f.Pushed.State.Jobs, nil), bb.rows(t))
				require.Len(t, f.Summary.Rounds, 3)
				for i, r := range f.Summary.Rounds {
					clock.Set(atoi(t, r.Before[reservedCol(s)]))
					res, err := bb.b.Reserve(ctx, "default", 4)
					require.NoError(t, err)
					require.Len(t, res, 1, "round %d", i+1)
					require.Equal(t, r.Attempts, res[0].Attempts, "round %d attempts()", i+1)
					require.Equal(t, fmt.Sprint(r.Before["id"]), string(res[0].Member))
					require.Equal(t, payload, res[0].Raw)
					require.Equal(t, clock.Now().Add(time.Duration(f.Config.Expire)*time.Second), res[0].Expires)
					require.Equal(t, fixtureJobRows(t, []map[string]any{r.Before}, nil), withoutPayload(bb.rows(t)), "round %d reserved", i+1)
					ok, err := bb.b.Release(ctx, res[0], res[0].Raw, clock.Now().Add(time.Duration(f.Config.Delay)*time.Second))
					require.NoError(t, err)
					require.True(t, ok)
					require.Equal(t, fixtureJobRows(t, r.After, nil), withoutPayload(bb.rows(t)), "round %d released", i+1)
					require.True(t, r.Unchanged)
					require.Equal(t, string(payload), bb.rows(t)[0]["payload"])
					// A second release of the same reservation finds no row and inserts nothing.
					ok, err = bb.b.Release(ctx, res[0], res[0].Raw, clock.Now())
					require.NoError(t, err)
					require.False(t, ok)
					require.Len(t, bb.rows(t), 1)
				}
			})
		}
	}
}

func TestBrokerExpiryMatchesThinkQueueFailNoopFixture(t *testing.T) {
	for _, d := range drivers {
		for _, s := range []*jobsLayout{jobsV1, jobsV3} {
			t.Run(string(d)+"/"+s.String(), func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				var f struct {
					Config struct {
						Expire int64 `json:"expire_or_retry_after"`
					} `json:"config"`
					Summary struct {
						FireCalls []struct {
							Attempts int `json:"attempts()"`
						} `json:"fire_calls"`
						PerRound []struct {
							Rows   []map[string]any `json:"jobs_rows_after_worker_exit"`
							Failed []map[string]any `json:"failed_jobs_rows"`
						} `json:"per_round"`
						HookV1 struct {
							Attempts int `json:"attempts()"`
						} `json:"queue_failed_hook"`
						EventV3 struct {
							Attempts int `json:"attempts()"`
						} `json:"JobFailed_event"`
					} `json:"summary"`
					Pushed struct {
						T     int64 `json:"t"`
						State struct {
							Jobs []map[string]any `json:"table:jobs"`
						} `json:"state"`
					} `json:"pushed"`
				}
				readJSON(t, "thinkqueue/"+thinkQueueVersion(s)+"/database/fail_noop.json", &f)
				clock := newClock(f.Pushed.T)
				db := newDatabase(t, d)
				cfg := &JobsConfig{NowFunc: clock.Now, Expire: time.Duration(f.Config.Expire) * time.Second}
				if s == jobsV3 {
					cfg.Failed = openFailedOn(t, db, failedThinkQueue)
				}
				bb := openBrokerOn(t, db, s, cfg, true)
				payload := []byte(f.Pushed.State.Jobs[0]["payload"].(string))
				require.NoError(t, bb.b.Push(ctx, "default", payload))
				require.Len(t, f.Summary.PerRound, 3)
				var last int64
				for i, round := range f.Summary.PerRound[:2] {
					last = atoi(t, round.Rows[0][reservedCol(s)])
					clock.Set(last)
					res, err := bb.b.Reserve(ctx, "default", 1)
					require.NoError(t, err)
					require.Len(t, res, 1)
					require.Equal(t, f.Summary.FireCalls[i].Attempts, res[0].Attempts, "round %d", i+1)
					// The job neither deletes nor releases: the reservation lapses.
					require.Equal(t, fixtureJobRows(t, round.Rows, nil), withoutPayload(bb.rows(t)), "round %d", i+1)
				}
				clock.Set(last + 3) // the third worker run, 3 s later
				res, err := bb.b.Reserve(ctx, "default", 1)
				require.NoError(t, err)
				require.Len(t, res, 1)
				wantAttempts := f.Summary.HookV1.Attempts
				if s == jobsV3 {
					wantAttempts = f.Summary.EventV3.Attempts
				}
				require.Equal(t, wantAttempts, res[0].Attempts, "attempts() of the run that fails")
				if s == jobsV1 {
					n, err := bb.b.Delete(ctx, "default", res[0].Member)
					require.NoError(t, err)
					require.Equal(t, 1, n)
				} else {
					want := f.Summary.PerRound[2].Failed[0]
					require.NoError(t, bb.b.Fail(ctx, res[0], queue.FailedJob{Connection: "database",
						Exception: "x", FailedAt: clock.Now()}))
					failed, err := cfg.Failed.Failed(ctx)
					require.NoError(t, err)
					require.Len(t, failed, 1)
					require.Equal(t, want["payload"], string(failed[0].Payload))
					require.Equal(t, want["queue"], failed[0].Queue)
					require.Equal(t, want["connection"], failed[0].Connection)
				}
				require.Empty(t, bb.rows(t))
			})
		}
	}
}

func TestBrokerLaravelPushReserveRelease(t *testing.T) {
	for _, d := range drivers {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			dir := "laravel/v8/database/"
			if d == driverMySQL {
				dir += "mariadb/"
			}
			var f struct {
				Meta struct {
					FixedNow int64 `json:"fixed_now"`
				} `json:"meta"`
				RetryAfter int64 `json:"retry_after"`
				Steps      []struct {
					Step string           `json:"step"`
					Job  map[string]any   `json:"job"`
					Rows []map[string]any `json:"rows"`
				} `json:"steps"`
			}
			readJSON(t, dir+"push_reserve_release.json", &f)
			require.Len(t, f.Steps, 5)
			payloadOf := func(row map[string]any) string {
				return string(readFixture(t, "laravel/v8/"+row["payload_file"].(string)))
			}
			clock := newClock(f.Meta.FixedNow)
			bb := setupBroker(t, d, jobsLaravel, &JobsConfig{NowFunc: clock.Now, Expire: time.Duration(f.RetryAfter) * time.Second})

			// push object(default), string(legacy), later 600 (delayed), pushOn(reports), model(model)
			for _, row := range f.Steps[0].Rows {
				at := time.Unix(atoi(t, row["available_at"]), 0)
				if at.Equal(clock.Now()) {
					require.NoError(t, bb.b.Push(ctx, row["queue"].(string), []byte(payloadOf(row))))
				} else {
					require.NoError(t, bb.b.Later(ctx, row["queue"].(string), []byte(payloadOf(row)), at))
				}
			}
			require.Equal(t, fixtureJobRows(t, f.Steps[0].Rows, payloadOf), bb.rows(t))

			// pop(default)
			res, err := bb.b.Reserve(ctx, "default", 16)
			require.NoError(t, err)
			require.Len(t, res, 1)
			require.Equal(t, strconv.FormatInt(atoi(t, f.Steps[1].Job["getJobId"]), 10), string(res[0].Member))
			require.EqualValues(t, f.Steps[1].Job["attempts()"], res[0].Attempts)
			require.Equal(t, payloadOf(f.Steps[1].Rows[0]), string(res[0].Raw))
			require.Equal(t, clock.Now().Add(time.Duration(f.RetryAfter)*time.Second), res[0].Expires)
			require.Equal(t, fixtureJobRows(t, f.Steps[1].Rows, payloadOf), bb.rows(t))

			// clock +1s, release(5)
			clock.Add(time.Second)
			ok, err := bb.b.Release(ctx, res[0], res[0].Raw, clock.Now().Add(5*time.Second))
			require.NoError(t, err)
			require.True(t, ok)
			require.Equal(t, fixtureJobRows(t, f.Steps[2].Rows, payloadOf), bb.rows(t))

			// "clock +6s, pop(default)": +6 s from the fixed start (the row's reserved_at)
			clock.Set(f.Meta.FixedNow + 6)
			res, err = bb.b.Reserve(ctx, "default", 16)
			require.NoError(t, err)
			require.Len(t, res, 1)
			require.Equal(t, strconv.FormatInt(atoi(t, f.Steps[3].Job["getJobId"]), 10), string(res[0].Member))
			require.EqualValues(t, f.Steps[3].Job["attempts()"], res[0].Attempts)
			require.Equal(t, fixtureJobRows(t, f.Steps[3].Rows, payloadOf), bb.rows(t))

			// an expired reservation is taken again by the same select, attempts + 1 (spec 3.2, run)
			clock.Add(time.Duration(f.RetryAfter) * time.Second)
			again, err := bb.b.Reserve(ctx, "default", 16)
			require.NoError(t, err)
			require.Len(t, again, 1)
			require.Equal(t, res[0].Member, again[0].Member)
			require.Equal(t, res[0].Attempts+1, again[0].Attempts)

			// delete()
			n, err := bb.b.Delete(ctx, "default", again[0].Member)
			require.NoError(t, err)
			require.Equal(t, 1, n)
			require.Equal(t, fixtureJobRows(t, f.Steps[4].Rows, payloadOf), bb.rows(t))
			n, err = bb.b.Delete(ctx, "default", again[0].Member, []byte("nope"))
			require.NoError(t, err)
			require.Zero(t, n)
		})
	}
}

func TestBrokerLaravelFail(t *testing.T) {
	for _, d := range drivers {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			var f struct {
				Meta struct {
					FixedNow int64 `json:"fixed_now"`
				} `json:"meta"`
				Failed []fixtureRow `json:"failed_jobs_rows"`
			}
			readJSON(t, "laravel/v8/database/fail.json", &f)
			require.Len(t, f.Failed, 1)
			want := f.Failed[0]
			clock := newClock(f.Meta.FixedNow)
			db := newDatabase(t, d)
			fs := openFailedOn(t, db, failedLaravel)
			noStore := openBrokerOn(t, db, jobsLaravel, &JobsConfig{NowFunc: clock.Now}, true)
			bb := openBrokerOn(t, db, jobsLaravel, &JobsConfig{NowFunc: clock.Now, Failed: fs}, false)
			require.NoError(t, bb.b.Push(ctx, want.Queue, []byte(want.Payload)))
			res, err := bb.b.Reserve(ctx, want.Queue, 1)
			require.NoError(t, err)
			require.Len(t, res, 1)
			require.Error(t, noStore.b.Fail(ctx, res[0], queue.FailedJob{ID: want.UUID}))
			require.NoError(t, bb.b.Fail(ctx, res[0], queue.FailedJob{ID: want.UUID, Connection: want.Connection,
				Exception: want.Exception, FailedAt: clock.Now()}))
			require.Empty(t, bb.rows(t))
			got, ok, err := fs.FailedJob(ctx, want.UUID)
			require.NoError(t, err)
			require.True(t, ok)
			require.Equal(t, want.Payload, string(got.Payload))
			require.Equal(t, want.Queue, got.Queue)
			require.Equal(t, want.FailedAt, got.FailedAt.UTC().Format(time.DateTime))
		})
	}
}

func TestBrokerHandBackAndExtend(t *testing.T) {
	forEachJobs(t, func(t *testing.T, d driverKind, s *jobsLayout) {
		ctx := context.Background()
		clock := newClock(1_800_000_000)
		bb := setupBroker(t, d, s, &JobsConfig{NowFunc: clock.Now, Expire: 30 * time.Second})
		require.NoError(t, bb.b.Push(ctx, "default", []byte(`{"job":"a"}`)))
		require.NoError(t, bb.b.Push(ctx, "default", []byte(`{"job":"b"}`)))
		// A job that was released once: attempts 1.
		res, err := bb.b.Reserve(ctx, "default", 1)
		require.NoError(t, err)
		clock.Add(time.Second)
		ok, err := bb.b.Release(ctx, res[0], res[0].Raw, clock.Now())
		require.NoError(t, err)
		require.True(t, ok)
		clock.Add(time.Second)
		before := bb.rows(t)

		res, err = bb.b.Reserve(ctx, "default", 8)
		require.NoError(t, err)
		require.Len(t, res, 2)
		require.Equal(t, []byte(`{"job":"b"}`), res[0].Raw)
		require.Equal(t, 2, res[1].Attempts, "released once, second run")
		require.NotEqual(t, before, bb.rows(t))

		// Extend: the reservation lapses at until.
		clock.Add(10 * time.Second)
		until := clock.Now().Add(30 * time.Second)
		for _, r := range res {
			ok, err = bb.b.Extend(ctx, r, until)
			require.NoError(t, err)
			require.True(t, ok)
		}
		ok, err = bb.b.Extend(ctx, res[0], until) // the same second again: still held
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, strconv.FormatInt(clock.Now().Unix(), 10), bb.rows(t)[0][reservedCol(s)])
		clock.Set(until.Unix() - 1)
		none, err := bb.b.Reserve(ctx, "default", 8)
		require.NoError(t, err)
		require.Empty(t, none, "neither reservation has lapsed")
		clock.Set(until.Unix() - 10) // back to where the reservations were taken

		for _, r := range res {
			ok, err := bb.b.HandBack(ctx, r)
			require.NoError(t, err)
			require.True(t, ok)
		}
		require.Equal(t, before, bb.rows(t), "hand back leaves the rows as they were")
		ok, err = bb.b.HandBack(ctx, res[0])
		require.NoError(t, err)
		require.False(t, ok, "not reserved any more")
		ok, err = bb.b.Extend(ctx, res[0], until)
		require.NoError(t, err)
		require.False(t, ok)
		ok, err = bb.b.HandBack(ctx, queue.Reservation{Member: []byte("x")})
		require.NoError(t, err)
		require.False(t, ok)
	})
}

func TestBrokerNeverExpire(t *testing.T) {
	forEachJobs(t, func(t *testing.T, d driverKind, s *jobsLayout) {
		ctx := context.Background()
		clock := newClock(1_800_000_000)
		bb := setupBroker(t, d, s, &JobsConfig{NowFunc: clock.Now, Expire: -1})
		require.NoError(t, bb.b.Push(ctx, "default", []byte(`{}`)))
		res, err := bb.b.Reserve(ctx, "default", 1)
		require.NoError(t, err)
		require.Len(t, res, 1)
		require.True(t, res[0].Expires.IsZero())
		clock.Add(1000 * time.Hour)
		none, err := bb.b.Reserve(ctx, "default", 1)
		require.NoError(t, err)
		require.Empty(t, none)
		ok, err := bb.b.Extend(ctx, res[0], clock.Now())
		require.NoError(t, err)
		require.True(t, ok)
	})
}

// TestBrokerAttemptsCeiling: attempts is TINYINT UNSIGNED on MySQL. A row at 255 is reserved with the
// column kept at 255 (never an overflow error that would wedge the queue) and attempts() >= 255, for the
// worker to fail; a release writes 255 at most.
func TestBrokerAttemptsCeiling(t *testing.T) {
	forEachJobs(t, func(t *testing.T, d driverKind, s *jobsLayout) {
		ctx := context.Background()
		clock := newClock(1_800_000_000)
		bb := setupBroker(t, d, s, &JobsConfig{NowFunc: clock.Now, Expire: 10 * time.Second})
		require.NoError(t, bb.b.Push(ctx, "default", []byte(`{"job":"poison"}`)))
		require.NoError(t, bb.b.Push(ctx, "default", []byte(`{"job":"next"}`)))
		_, err := bb.raw.ExecContext(ctx, "UPDATE "+quoteIdent(d, bb.table)+" SET attempts = 255 WHERE id = 1")
		require.NoError(t, err)

		res, err := bb.b.Reserve(ctx, "default", 1)
		require.NoError(t, err)
		require.Len(t, res, 1)
		require.Equal(t, "1", string(res[0].Member))
		require.GreaterOrEqual(t, res[0].Attempts, 255)
		require.Equal(t, "255", bb.rows(t)[0]["attempts"])

		// The reservation lapses and the row is taken again (v1: recovered with attempts + 1 first).
		clock.Add(11 * time.Second)
		res, err = bb.b.Reserve(ctx, "default", 2)
		require.NoError(t, err)
		require.Len(t, res, 2, "the poison row does not block the queue")
		require.Equal(t, "1", string(res[0].Member))
		require.GreaterOrEqual(t, res[0].Attempts, 255)
		require.Equal(t, "255", bb.rows(t)[0]["attempts"])

		ok, err := bb.b.Release(ctx, res[0], res[0].Raw, clock.Now())
		require.NoError(t, err)
		require.True(t, ok)
		rows := bb.rows(t)
		require.Equal(t, "255", rows[len(rows)-1]["attempts"])
	})
}

func TestHasSkipLocked(t *testing.T) {
	for v, want := range map[string]bool{
		"10.11.19-MariaDB-0+deb12u1": true,
		"5.5.5-10.6.0-MariaDB":       true,
		"10.5.22-MariaDB":            false,
		"8.0.1":                      true,
		"8.0.0-dmr":                  false,
		"5.7.44-log":                 false,
		"8.4.3":                      true,
		"11.4.2-MariaDB-ubu2404":     true,
	} {
		require.Equal(t, want, hasSkipLocked(v), v)
	}
}

// fill inserts n rows into queue in multi-row INSERTs (attempts 0, available now).
func fill(t testing.TB, bb *brokerBundle, q string, n int, now int64) {
	t.Helper()
	ctx := context.Background()
	cols := "queue, payload, attempts, reserved_at, available_at, created_at"
	row := "(?, ?, 0, NULL, ?, ?)"
	switch bb.schema {
	case jobsV1:
		cols = "queue, payload, attempts, reserved, reserved_at, available_at, created_at"
		row = "(?, ?, 0, 0, NULL, ?, ?)"
	case jobsV3:
		cols = "queue, payload, attempts, reserve_time, available_time, create_time"
	}
	for done := 0; done < n; {
		k := min(500, n-done)
		args := make([]any, 0, 4*k)
		for i := range k {
			args = append(args, q, fmt.Sprintf(`{"job":"app\\job\\N","data":{"n":%d}}`, done+i), now, now)
		}
		stmt := "INSERT INTO " + quoteIdent(bb.driver, bb.table) + " (" + cols + ") VALUES " +
			strings.TrimSuffix(strings.Repeat(row+", ", k), ", ")
		if bb.driver == driverPostgres {
			n := 0
			stmt = regexp.MustCompile(`\?`).ReplaceAllStringFunc(stmt, func(string) string {
				n++
				return "$" + strconv.Itoa(n)
			})
		}
		_, err := bb.raw.ExecContext(ctx, stmt, args...)
		require.NoError(t, err)
		done += k
	}
}

// concurrencyCases are the drivers and worker counts of the benchmark: 8 workers on
// MariaDB and PostgreSQL, 4 on SQLite (one writer at a time).
func concurrencyCases() []struct {
	d       driverKind
	workers int
} {
	cases := []struct {
		d       driverKind
		workers int
	}{{driverMySQL, 8}, {driverSQLite, 4}, {driverPostgres, 8}}
	return cases
}

// BenchmarkReserveDelete drains a Laravel jobs table with 8 workers (MariaDB, PostgreSQL) or 4 (SQLite)
// reserving 16 jobs at a time and deleting them; jobs/s is the drain rate.
func BenchmarkReserveDelete(b *testing.B) {
	for _, c := range concurrencyCases() {
		b.Run(string(c.d), func(b *testing.B) {
			ctx := context.Background()
			bb := setupBroker(b, c.d, jobsLaravel, nil)
			fill(b, bb, "default", b.N, time.Now().Unix())
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for range c.workers {
				wg.Go(func() {
					for {
						res, err := bb.b.Reserve(ctx, "default", 16)
						if err != nil {
							b.Error(err)
							return
						}
						if len(res) == 0 {
							return
						}
						members := make([][]byte, len(res))
						for i, r := range res {
							members[i] = r.Member
						}
						if _, err := bb.b.Delete(ctx, "default", members...); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "jobs/s")
		})
	}
}
