package bridge

import (
	"context"
	dbsql "database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	_ "github.com/go-sql-driver/mysql"

	"github.com/queuebridge/bridge/queue"
)

// routeDatabase is a jobs-table connection of the test's own, its tables migrated: a SQLite file, or a
// MariaDB database (QB_MYSQL_ADDR, default 127.0.0.1:3306, root) dropped after the test.
func routeDatabase(t *testing.T, kind, dialect string) *Bridge {
	t.Helper()
	ctx := context.Background()
	conn := "sqlite:" + filepath.Join(t.TempDir(), "app.db")
	if kind == "mariadb" {
		addr := os.Getenv("QB_MYSQL_ADDR")
		if addr == "" {
			addr = "127.0.0.1:3306"
		}
		admin, err := dbsql.Open("mysql", "root@tcp("+addr+")/")
		require.NoError(t, err)
		name := fmt.Sprintf("qbroute%d", rand.Int64N(1<<40))
		_, err = admin.ExecContext(ctx, "CREATE DATABASE `"+name+"` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
		require.NoError(t, err)
		t.Cleanup(func() {
			if _, err := admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS `"+name+"`"); err != nil {
				t.Errorf("drop database %s: %v", name, err)
			}
			admin.Close()
		})
		conn = "mysql://root@" + addr + "/" + name
	}
	cfg := &Config{Connection: conn, Dialect: dialect, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	_, err := Migrate(ctx, cfg, false)
	require.NoError(t, err)
	b := New()
	require.NoError(t, b.Connect(ctx, cfg))
	t.Cleanup(func() { b.Close() })
	return b
}

// TestRouteSplitJobsTable: a 30% route on a jobs table (think-queue v3 on SQLite, Laravel on MariaDB), with
// no Redis anywhere: jobs split within ±3% of 30/70, each run to success once, each on the same side on
// every attempt although a release gives it a new row; the report, kept in the bridge's own tables beside
// the jobs table, has the ledger's figures, and a shadow handler's mismatches.
func TestRouteSplitJobsTable(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ kind, dialect, class string }{
		{"sqlite", "thinkqueue-v3", `app\job\Split`},
		{"mariadb", "laravel-8", `App\Jobs\Split`},
	} {
		t.Run(c.kind+"/"+c.dialect, func(t *testing.T) {
			t.Parallel()
			const n = 2000
			b := routeDatabase(t, c.kind, c.dialect)
			require.Nil(t, b.be.cache, "no Redis")
			const q = "split"
			b.Route(c.class, RoutePercent(30))
			var l ledger
			behave := func(side string) HandlerFunc {
				return func(ctx context.Context, job *Job) error {
					id := fmt.Sprint(jobN(t, job))
					if jobN(t, job)%10 == 3 && job.Attempts() == 1 {
						l.add(id, side, "released")
						return errors.New("try again")
					}
					l.add(id, side, "deleted")
					return nil
				}
			}
			b.Handle(c.class, behave("go"))
			shadowClass := c.class + "Shadow"
			b.HandleShadow(shadowClass, HandlerFunc(func(ctx context.Context, job *Job) error {
				if jobN(t, job)%20 == 5 {
					job.Fail(errors.New("Go says no"))
				}
				return nil
			}))
			goSplit := behave("php")
			php := HandlerFunc(func(ctx context.Context, job *Job) error {
				if job.Name() == shadowClass {
					l.add("shadow"+fmt.Sprint(jobN(t, job)), "php", "deleted")
					return nil
				}
				return goSplit(ctx, job)
			})
			pushN(t, b, q, c.class, n)
			pushN(t, b, q, shadowClass, 100)
			drain(t, b, q, php, &l, n+100)

			goJobs := 0
			for i := range n {
				id := fmt.Sprint(i)
				side := l.sideOf(t, id)
				if i%10 == 3 {
					require.Len(t, l.runs[id], 2, "job %s", id)
				}
				if side == "go" {
					goJobs++
				}
			}
			share := float64(goJobs) / n
			t.Logf("Go ran %d of %d jobs (%.2f%%)", goJobs, n, 100*share)
			require.InDelta(t, 0.30, share, 0.03)
			sizes, err := b.Sizes(context.Background(), q)
			require.NoError(t, err)
			require.Zero(t, sizes.Ready+sizes.Delayed+sizes.Reserved)

			reps, err := b.Report(context.Background(), time.Hour)
			require.NoError(t, err)
			require.Len(t, reps, 2)
			r := reps[0]
			require.Equal(t, c.class, r.Class)
			require.Equal(t, "30%", r.Route)
			require.Equal(t, l.count("go", ""), r.Go.Runs)
			require.Equal(t, l.count("php", "")-100, r.PHP.Runs)
			require.Equal(t, l.count("go", "released"), r.Go.Released)
			require.Equal(t, l.count("php", "released"), r.PHP.Released)
			require.Positive(t, r.Go.Released)
			require.Positive(t, r.PHP.Released)
			s := reps[1]
			require.Equal(t, shadowClass, s.Class)
			require.EqualValues(t, 100, s.ShadowRuns)
			require.EqualValues(t, 5, s.ShadowMismatches)
			require.Len(t, s.Mismatches, 5)
			for _, m := range s.Mismatches {
				require.Equal(t, "deleted", m.PHP.Outcome)
				require.Equal(t, "failed", m.Go.Outcome)
				require.Equal(t, "Go says no", m.Go.Error)
			}
			_, err = b.Routes(context.Background())
			require.NoError(t, err, "routes from the file and the code, without a stored table")
			require.ErrorIs(t, b.SetRoute(context.Background(), c.class, RouteGo), errNoRoutes)
		})
	}
}

// The SQL report counters keep a class's newest mismatches only, and drop minutes past the ttl.
func TestReportCountersSQL(t *testing.T) {
	t.Parallel()
	b := routeDatabase(t, "sqlite", "thinkqueue-v3")
	ctx := context.Background()
	c := b.be.jobs.ReportCounters(3)
	now := time.Now().Unix() / 60
	require.NoError(t, c.Add(ctx, []queue.ReportDelta{
		{Class: "A", Minute: now - 100, Counts: map[string]int64{"go.runs": 7}},
		{Class: "A", Minute: now, Counts: map[string]int64{"go.runs": 2, "php.runs": 1}, Mismatches: [][]byte{[]byte("1"), []byte("2")}},
	}, time.Hour))
	require.NoError(t, c.Add(ctx, []queue.ReportDelta{
		{Class: "A", Minute: now, Counts: map[string]int64{"go.runs": 1}, Mismatches: [][]byte{[]byte("3"), []byte("4")}},
		{Class: "B", Minute: now - 1, Counts: map[string]int64{"php.failed": 1}},
	}, time.Hour))
	got, err := c.Read(ctx, now-200, now)
	require.NoError(t, err)
	require.Equal(t, map[string]int64{"go.runs": 3, "php.runs": 1}, got["A"].Counts, "the minute past the ttl is gone")
	require.Equal(t, [][]byte{[]byte("4"), []byte("3"), []byte("2")}, got["A"].Mismatches)
	require.Equal(t, map[string]int64{"php.failed": 1}, got["B"].Counts)
	got, err = c.Read(ctx, now, now)
	require.NoError(t, err)
	require.NotContains(t, got, "B")
}
