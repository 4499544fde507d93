package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
)

// tqxPHPRedisArgs are the host, port and db arguments tq_push.php takes.
func tqxPHPRedisArgs(t testing.TB) []string {
	t.Helper()
	env := Local()
	host, port, err := net.SplitHostPort(env.RedisAddr())
	require.NoError(t, err)
	return []string{host, port, strconv.Itoa(env.RedisDB())}
}

// tqxPushCase is one entry of v{1,3}/redis/push.json.
type tqxPushCase struct {
	Case             string   `json:"case"`
	PHPCall          string   `json:"php_call"`
	RedisType        string   `json:"redis_type"`
	Raw              string   `json:"raw"`
	RawFile          string   `json:"raw_file"`
	Return           *string  `json:"return"`
	ScoreMinusBefore *float64 `json:"score_minus_t_before"`
}

// TestProducerFixtures proves tq_push.php faithful: fed the job, data and id of every golden Redis payload
// fixture, it stores the fixture's exact bytes (and, for later, the score time()+delay).
func TestProducerFixtures(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ version, dialect string }{{"v1", tqxDialectV1}, {"v3", tqxDialectV3}} {
		t.Run(tc.version, func(t *testing.T) {
			t.Parallel()
			ctx := tqxCtx(t, time.Minute)
			rdb := tqxRedis(t)

			var push struct {
				Cases []tqxPushCase `json:"cases"`
			}
			raw, err := os.ReadFile(tqxFixturePath(t, filepath.Join(tc.version, "redis", "push.json")))
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(raw, &push))
			require.NotEmpty(t, push.Cases)

			checked := 0
			for _, c := range push.Cases {
				if tc.version == "v3" && c.Case == "object_job" {
					// v3 object jobs come from createObjectPayload (an extra "timeoutAt"), not from the plain
					// payload a producer of job names writes, so tq_push.php has no way to make them.
					continue
				}
				file := tqxFixturePath(t, filepath.Join(tc.version, "redis", c.RawFile))
				want, err := os.ReadFile(file)
				require.NoError(t, err)
				require.Equal(t, c.Raw, string(want), "%s: push.json and %s disagree", c.Case, c.RawFile)

				var fx struct {
					ID string `json:"id"`
				}
				require.NoError(t, json.Unmarshal(want, &fx), c.Case)

				queue, list, delayed, _ := tqxQueue(t, rdb, tc.dialect, c.Case)
				call, delay := "push", 0
				if c.PHPCall == "later" {
					require.NotNil(t, c.ScoreMinusBefore, c.Case)
					call, delay = "later", int(*c.ScoreMinusBefore)
				}
				args := append([]string{"fixture"}, tqxPHPRedisArgs(t)...)
				args = append(args, tc.version, queue, call, strconv.Itoa(delay), file)
				out, err := Local().PHP(ctx, tqxPushScript, args...)
				require.NoError(t, err, c.Case)
				var res struct {
					ID      string `json:"id"`
					Key     string `json:"key"`
					Score   *int64 `json:"score"`
					TBefore int64  `json:"t_before"`
				}
				require.NoError(t, json.Unmarshal(out, &res), "%s: php said %q", c.Case, out)
				require.Equal(t, fx.ID, res.ID, c.Case)

				if call == "push" {
					require.Equal(t, list, res.Key, c.Case)
					items, err := rdb.LRange(ctx, list, 0, -1).Result()
					require.NoError(t, err)
					require.Len(t, items, 1, c.Case)
					require.Equal(t, string(want), items[0], "%s: PHP producer bytes differ from the fixture", c.Case)
				} else {
					require.Equal(t, delayed, res.Key, c.Case)
					zs, err := tqxZMembers(ctx, rdb, delayed)
					require.NoError(t, err)
					require.Len(t, zs, 1, c.Case)
					require.Equal(t, string(want), zs[0].Member, "%s: PHP producer bytes differ from the fixture", c.Case)
					require.NotNil(t, res.Score, c.Case)
					require.Equal(t, float64(*res.Score), zs[0].Score, c.Case)
					// time() read just before the push and the one the script used may differ by a second.
					require.GreaterOrEqual(t, *res.Score-res.TBefore, int64(delay), c.Case)
					require.LessOrEqual(t, *res.Score-res.TBefore, int64(delay)+1, c.Case)
				}
				checked++
			}
			t.Logf("%d fixtures re-created byte for byte", checked)
			require.GreaterOrEqual(t, checked, 13)
		})
	}
}

// TestProducerBulkV1: 1,000 jobs written by the PHP producer in think-queue 1.x/2.x format are each run
// exactly once by the bridge, with the data PHP pushed.
func TestProducerBulkV1(t *testing.T) {
	t.Parallel()
	tqxProducerBulk(t, "v1", tqxDialectV1, 1001)
}

// TestProducerBulkV3: the same for the think-queue 3.x format.
func TestProducerBulkV3(t *testing.T) {
	t.Parallel()
	tqxProducerBulk(t, "v3", tqxDialectV3, 3003)
}

// tqxBulkLine is what tq_push.php bulk prints for each job.
type tqxBulkLine struct {
	ID       string `json:"id"`
	Queue    string `json:"queue"`
	Job      string `json:"job"`
	Later    bool   `json:"later"`
	Score    *int64 `json:"score"`
	Expected string `json:"expected"`
	Stored   string `json:"stored"`
}

type tqxBulkRun struct {
	count int
	seq   int64
	name  string
	queue string
	at    time.Time
	data  []byte
	value any
	err   error
}

func tqxProducerBulk(t *testing.T, version, dialect string, seed int) {
	const (
		n        = 1000
		jobName  = `app\job\Bulk`
		workers  = 8
		deadline = 3 * time.Minute
	)
	ctx := tqxCtx(t, deadline)
	rdb := tqxRedis(t)
	setup := tqxNewSetup(t, rdb)
	high, highList, highDelayed, highReserved := tqxQueue(t, rdb, dialect, "high")
	low, lowList, lowDelayed, lowReserved := tqxQueue(t, rdb, dialect, "low")
	allKeys := []string{highList, highDelayed, highReserved, lowList, lowDelayed, lowReserved}

	// PHP pushes everything before the bridge starts.
	args := append([]string{"bulk"}, tqxPHPRedisArgs(t)...)
	args = append(args, version, high, low, strconv.Itoa(n), strconv.Itoa(seed), jobName)
	out, err := Local().PHP(ctx, tqxPushScript, args...)
	require.NoError(t, err)
	var lines []tqxBulkLine
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l tqxBulkLine
		require.NoError(t, json.Unmarshal(sc.Bytes(), &l), "php line %q", sc.Text())
		lines = append(lines, l)
	}
	require.NoError(t, sc.Err())
	require.Len(t, lines, n)

	byID := make(map[string]tqxBulkLine, n)
	readyHigh, delayedJobs := 0, 0
	for _, l := range lines {
		require.NotContains(t, byID, l.ID, "PHP made the id %s twice", l.ID)
		byID[l.ID] = l
		if l.Later {
			delayedJobs++
		} else if l.Queue == high {
			readyHigh++
		}
	}
	// The mix must hold what the assertions below rely on.
	require.Greater(t, delayedJobs, 50, "too few later() jobs in the mix")
	require.GreaterOrEqual(t, readyHigh, workers, "the priority check needs the high queue to fill every slot")
	stored := int64(0)
	for _, k := range []string{highList, lowList} {
		stored += rdb.LLen(ctx, k).Val()
	}
	for _, k := range []string{highDelayed, lowDelayed} {
		stored += rdb.ZCard(ctx, k).Val()
	}
	require.Equal(t, int64(n), stored, "PHP did not store every job")

	var (
		mu   sync.Mutex
		runs = make(map[string]*tqxBulkRun, n)
		seq  atomic.Int64
	)
	b := setup.Open(t, ctx, dialect, bridge.WorkerConfig{
		Queues:        []string{high, low},
		Concurrency:   workers,
		StopWhenEmpty: true,
		Sleep:         20 * time.Millisecond,
	})
	b.HandleFunc(jobName, func(_ context.Context, job *bridge.Job) error {
		at := time.Now()
		s := seq.Add(1)
		var v any
		bindErr := job.Bind(&v)
		mu.Lock()
		defer mu.Unlock()
		r := runs[job.ID()]
		if r == nil {
			r = &tqxBulkRun{seq: s, name: job.Name(), queue: job.Queue(), at: at,
				data: bytes.Clone(job.Data()), value: v, err: bindErr}
			runs[job.ID()] = r
		}
		r.count++
		return nil
	})

	seen := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(runs)
	}
	// StopWhenEmpty returns once the lists are empty, while later() jobs may still wait in the delayed sets:
	// run again whenever something has become due, until every job ran.
	for {
		require.NoError(t, b.Run(ctx))
		if seen() == n {
			break
		}
		tqxWaitFor(t, ctx, fmt.Sprintf("more due jobs (%d of %d ran)", seen(), n), func() (bool, error) {
			now := strconv.FormatInt(time.Now().Unix(), 10)
			for _, q := range [][2]string{{highList, highDelayed}, {lowList, lowDelayed}} {
				if l, err := rdb.LLen(ctx, q[0]).Result(); err != nil || l > 0 {
					return l > 0, err
				}
				if due, err := rdb.ZCount(ctx, q[1], "-inf", now).Result(); err != nil || due > 0 {
					return due > 0, err
				}
			}
			return false, nil
		})
	}

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, runs, n, "the bridge ran jobs PHP never pushed")
	problems := 0
	report := func(format string, args ...any) {
		problems++
		if problems <= 20 {
			t.Errorf(format, args...)
		}
	}
	var first *tqxBulkRun
	for id, l := range byID {
		r := runs[id]
		if r == nil {
			report("job %s never ran", id)
			continue
		}
		if first == nil || r.seq < first.seq {
			first = r
		}
		if r.count != 1 {
			report("job %s ran %d times", id, r.count)
		}
		if r.name != l.Job || r.queue != l.Queue {
			report("job %s: name %q queue %q, PHP pushed %q on %q", id, r.name, r.queue, l.Job, l.Queue)
		}
		if r.err != nil {
			report("job %s: Bind: %v", id, r.err)
			continue
		}
		var want any
		if err := json.Unmarshal([]byte(l.Expected), &want); err != nil {
			report("job %s: PHP's expected JSON %q does not decode: %v", id, l.Expected, err)
			continue
		}
		if !tqxSameValue(want, r.value) {
			report("job %s: Bind gave %#v, PHP pushed %s", id, r.value, l.Expected)
		}
		if !bytes.Equal(r.data, []byte(l.Stored)) {
			report("job %s: Data() is %s, the stored payload holds %s", id, r.data, l.Stored)
		}
		if l.Later && r.at.Unix() < *l.Score {
			report("job %s ran at %s, before its availability second %d", id, r.at.Format(time.RFC3339Nano), *l.Score)
		}
	}
	require.Zero(t, problems, "%d problems (first 20 shown)", problems)
	require.Equal(t, high, first.queue, "the first job run came from the low-priority queue while the high one was full")

	tqxRequireGone(t, ctx, rdb, allKeys...)
	failed, err := rdb.Exists(ctx, setup.FailedKeys()...).Result()
	require.NoError(t, err)
	require.Zero(t, failed, "jobs ended in the failed store")
}

// tqxSameValue compares two values decoded by encoding/json after one more pass through it, so both sides are
// in exactly the same form.
func tqxSameValue(want, got any) bool {
	a, errA := json.Marshal(want)
	b, errB := json.Marshal(got)
	if errA != nil || errB != nil {
		return false
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return tqxDeepEqual(x, y)
}

func tqxDeepEqual(x, y any) bool {
	switch x := x.(type) {
	case map[string]any:
		m, ok := y.(map[string]any)
		if !ok || len(m) != len(x) {
			return false
		}
		for k, v := range x {
			w, ok := m[k]
			if !ok || !tqxDeepEqual(v, w) {
				return false
			}
		}
		return true
	case []any:
		l, ok := y.([]any)
		if !ok || len(l) != len(x) {
			return false
		}
		for i := range x {
			if !tqxDeepEqual(x[i], l[i]) {
				return false
			}
		}
		return true
	default:
		return x == y
	}
}
