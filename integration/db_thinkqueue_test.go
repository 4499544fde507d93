package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
)

// loadDBFixture reads think-queue's captured database fixture <v>/database/<name>.
func loadDBFixture(t testing.TB, v, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(fixturePath(t, "thinkqueue", v, "database", name))
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}

// dbSeed is one row put into the jobs table as a fixture recorded it.
type dbSeed struct {
	what     string
	queue    string
	payload  string
	attempts int
	reserved bool  // a reservation (v1 reserved=1 / v3 reserve_time set)
	reserveT int64 // reserved_at / reserve_time, relative to now
	availT   int64 // available_at / available_time, relative to now
	// wantRuns are the attempts() of every run of the job, in order; wantFailed the attempts() the failed
	// hook sees (0: the job must not fail).
	wantRuns   []int
	wantFailed int
}

// fixtureRow reads a jobs row of a per_round snapshot.
func fixtureRow(t testing.TB, fx map[string]any, round int) map[string]any {
	t.Helper()
	rounds := fx["summary"].(map[string]any)["per_round"].([]any)
	rows := rounds[round-1].(map[string]any)["jobs_rows_after_worker_exit"].([]any)
	require.Len(t, rows, 1)
	return rows[0].(map[string]any)
}

func atoiAny(v any) int {
	var n int
	_, _ = fmt.Sscan(fmt.Sprint(v), &n)
	return n
}

// TestDBThinkQueue: think-queue v1 and v3 database fixtures on MariaDB, PostgreSQL and SQLite. The tables
// are created with `bridge migrate` (Conn.Migrate); the fixture payloads (every push case, a foreign-encoded
// payload) and rows captured mid-flight (a released row, expired reservations) are seeded with their bytes, attempts
// and times relative to now; the bridge (--tries 2, --delay 0, expire 2) runs every job exactly once with
// the attempts() the fixtures record, delayed rows not before they are due; an always-throwing job follows
// each version's tries arithmetic (v1: released until the pop past --tries fails it without running; v3:
// fails in the run that reaches --tries); a row reserved past --tries fails without running; failed rows
// land in failed_jobs (connection "database", the payload bytes), and the jobs table ends empty.
func TestDBThinkQueue(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"v1", "v3"} {
		for _, kind := range dbKinds {
			t.Run(v+"/"+kind, func(t *testing.T) {
				t.Parallel()
				testDBThinkQueue(t, v, kind)
			})
		}
	}
}

// dbThrower runs every job: app\job\Fail always throws, the others succeed; every run (ok, throw) and every
// failure hook run (failed) is recorded.
type dbThrower struct{ rec *recorder }

func (h dbThrower) ProcessJob(_ context.Context, job *bridge.Job) error {
	if job.Name() == `app\job\Fail` {
		h.rec.Record(job, "throw", nil)
		return errAlwaysThrows
	}
	h.rec.Record(job, "ok", nil)
	return nil
}

func (h dbThrower) Failed(_ context.Context, job *bridge.Job, err error) {
	h.rec.Record(job, "failed", func(r *record) { r.Err = err })
}

func testDBThinkQueue(t *testing.T, v, kind string) {
	dialect := "thinkqueue-" + v
	be := newBackend(t, kind, dialect)

	// The seeds: every push case, as pushed.
	var seeds []dbSeed
	push := loadDBFixture(t, v, "push.json")
	cases := push["summary"].(map[string]any)["per_case"].(map[string]any)
	names := make([]string, 0, len(cases))
	for name := range cases {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		c := cases[name].(map[string]any)
		raw, err := os.ReadFile(fixturePath(t, "thinkqueue", v, "database", c["raw_file"].(string)))
		require.NoError(t, err)
		row := c["row"].(map[string]any)
		delay := int64(c["available_minus_created"].(float64))
		// later(): due in the future; scaled down to 1-2 s so the test waits for it.
		delay = min(delay, 1+delay/3600)
		seeds = append(seeds, dbSeed{what: "push " + name, queue: row["queue"].(string), payload: string(raw),
			attempts: atoiAny(row["attempts"]), availT: delay, wantRuns: []int{1}})
	}
	// A payload no PHP encoder wrote, pushed directly into storage.
	foreign := loadDBFixture(t, v, "foreign_payload.json")["summary"].(map[string]any)
	seeds = append(seeds, dbSeed{what: "foreign payload", queue: "foreign", payload: foreign["pushed_raw"].(string),
		wantRuns: []int{int(foreign["attempts()_inside_fire"].(float64))}})

	// fail_throw: Fail always throws; --tries 2 --delay 0.
	throw := loadDBFixture(t, v, "fail_throw.json")
	throwSum := throw["summary"].(map[string]any)
	throwRaw := throwSum["fire_calls"].([]any)[0].(map[string]any)["getRawBody"].(string)
	failedAttempts := 0
	if hook, ok := throwSum["queue_failed_hook"].(map[string]any); ok { // v1
		failedAttempts = int(hook["attempts()"].(float64))
	} else {
		failedAttempts = int(throwSum["JobFailed_event"].(map[string]any)["attempts()"].(float64))
	}
	seeds = append(seeds, dbSeed{what: "fail_throw from push", queue: "throw_push", payload: throwRaw,
		wantRuns: []int{1, 2}, wantFailed: failedAttempts})
	// The row round 1 left behind (released once, waiting): round 2 runs it with attempts() 2.
	r1 := fixtureRow(t, throw, 1)
	seeds = append(seeds, dbSeed{what: "fail_throw round-1 row", queue: "throw_mid", payload: throwRaw,
		attempts: atoiAny(r1["attempts"]), wantRuns: []int{2}, wantFailed: failedAttempts})

	// fail_noop (expire 2, runs 3 s apart): rows left reserved by a worker that never finished them.
	noop := loadDBFixture(t, v, "fail_noop.json")
	noopSum := noop["summary"].(map[string]any)
	noopRaw := noopSum["fire_calls"].([]any)[0].(map[string]any)["getRawBody"].(string)
	noopRound2 := int(noopSum["fire_calls"].([]any)[1].(map[string]any)["attempts()"].(float64))
	noopFailed := 0
	if hook, ok := noopSum["queue_failed_hook"].(map[string]any); ok {
		noopFailed = int(hook["attempts()"].(float64))
	} else {
		noopFailed = int(noopSum["JobFailed_event"].(map[string]any)["attempts()"].(float64))
	}
	n1, n2 := fixtureRow(t, noop, 1), fixtureRow(t, noop, 2)
	seeds = append(seeds,
		dbSeed{what: "fail_noop round-1 row (reservation lapsed)", queue: "noop_1", payload: noopRaw,
			attempts: atoiAny(n1["attempts"]), reserved: true, reserveT: -3, availT: -3, wantRuns: []int{noopRound2}},
		dbSeed{what: "fail_noop round-2 row (lapsed, past --tries)", queue: "noop_2", payload: noopRaw,
			attempts: atoiAny(n2["attempts"]), reserved: true, reserveT: -3, availT: -6, wantFailed: noopFailed})

	now := time.Now().Unix()
	queues := map[string]bool{}
	for _, s := range seeds {
		queues[s.queue] = true
		var reserveT any
		if s.reserved {
			reserveT = now + s.reserveT
		}
		if v == "v1" {
			reserved := 0
			if s.reserved {
				reserved = 1
			}
			be.Exec(`INSERT INTO jobs (queue, payload, attempts, reserved, reserved_at, available_at, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?)`, s.queue, s.payload, s.attempts, reserved, reserveT, now+s.availT, now+min(s.availT, 0))
		} else {
			be.Exec(`INSERT INTO jobs (queue, attempts, reserve_time, available_time, create_time, payload)
				VALUES (?, ?, ?, ?, ?, ?)`, s.queue, s.attempts, reserveT, now+s.availT, now+min(s.availT, 0), s.payload)
		}
	}
	var qs []string
	for q := range queues {
		qs = append(qs, q)
	}
	sort.Strings(qs)

	rec := be.NewRecorder()
	be.Expire = 2 * time.Second
	b := be.Open(bridge.WorkerConfig{Queues: qs, Concurrency: 4, Tries: 2, Sleep: 50 * time.Millisecond})
	b.HandleFallback(dbThrower{rec: rec})
	run := runBackground(t, b)
	waitFor(t, "the jobs table is empty", func() bool { return be.Count("jobs", "") == 0 })
	require.NoError(t, run.stop(t))

	all := rec.Records()
	runs := append(all.Of("ok"), all.Of("throw")...)
	failedByQueue := map[string]records{}
	for _, r := range all.Of("failed") {
		failedByQueue[r.Queue] = append(failedByQueue[r.Queue], r)
	}
	// Seeds with the same queue and bytes (push and later of one case) are told apart by their runs' order.
	type group struct {
		seeds []dbSeed
		runs  records
	}
	groups := map[string]*group{}
	var order []string
	for _, s := range seeds {
		k := s.queue + "\x00" + s.payload
		if groups[k] == nil {
			groups[k] = &group{}
			order = append(order, k)
		}
		groups[k].seeds = append(groups[k].seeds, s)
	}
	for _, r := range runs {
		k := r.Queue + "\x00" + r.Raw
		require.NotNil(t, groups[k], "a run of a job nobody seeded: %+v", r)
		groups[k].runs = append(groups[k].runs, r)
	}
	for _, k := range order {
		g := groups[k]
		var want, got, avail []int
		var what []string
		for _, s := range g.seeds {
			want = append(want, s.wantRuns...)
			what = append(what, s.what)
			for range s.wantRuns {
				avail = append(avail, int(s.availT))
			}
		}
		for _, r := range g.runs {
			got = append(got, r.Attempts)
		}
		sort.Ints(want)
		sort.Ints(got)
		require.Equal(t, want, got, "%v: attempts() of each run", what)
		sort.Ints(avail)
		sort.Slice(g.runs, func(i, j int) bool { return g.runs[i].T < g.runs[j].T })
		for i, r := range g.runs {
			require.GreaterOrEqual(t, r.Time().Unix(), now+int64(avail[i]), "%v: a delayed row ran before it was due", what)
		}
		var fwant, fgot []int
		for _, s := range g.seeds {
			if s.wantFailed != 0 {
				fwant = append(fwant, s.wantFailed)
			}
		}
		for _, f := range failedByQueue[g.seeds[0].queue] {
			if f.Raw == g.seeds[0].payload {
				fgot = append(fgot, f.Attempts)
			}
		}
		require.Equal(t, fwant, fgot, "%v: the failed hook ran once per failed job, with attempts()", what)
	}
	require.Len(t, runs, func() int {
		n := 0
		for _, s := range seeds {
			n += len(s.wantRuns)
		}
		return n
	}(), "no other runs")

	// failed_jobs: one row per failed job (think-queue 3.x's table; the bridge keeps v1's there too).
	rows := be.Rows("SELECT connection, queue, payload, exception FROM failed_jobs ORDER BY id")
	var got []string
	for _, r := range rows {
		require.Equal(t, "database", r["connection"])
		got = append(got, r["queue"].(string))
		switch r["queue"] {
		case "throw_push", "throw_mid":
			require.Equal(t, throwRaw, r["payload"], "failed_jobs.payload is the job's bytes")
			if v == "v1" { // failed by the pop past --tries, without running
				require.Contains(t, r["exception"], "attempted too many times")
			} else { // failed in the run that reached --tries
				require.Contains(t, r["exception"], "Fail job always throws")
			}
		case "noop_2":
			require.Equal(t, noopRaw, r["payload"])
			require.Contains(t, r["exception"], "attempted too many times")
		}
	}
	sort.Strings(got)
	require.Equal(t, []string{"noop_2", "throw_mid", "throw_push"}, got)
	require.Zero(t, be.Count("jobs", ""))
}
