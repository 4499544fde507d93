package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
)

// tqPushScript is the PHP producer of think-queue jobs, relative to this package's directory.
const tqPushScript = "testdata/php/tq_push.php"

// tqPushArgs are tq_push.php's first arguments: the command, then the Redis host, port and db.
func tqPushArgs(be *backend, command string) []string {
	host, port, db := be.phpRedisAddr()
	return []string{command, host, port, db}
}

// pushCase is one entry of v{1,3}/redis/push.json.
type pushCase struct {
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
	for _, tc := range []struct{ version, dialect string }{{"v1", dialectV1}, {"v3", dialectV3}} {
		t.Run(tc.version, func(t *testing.T) {
			t.Parallel()
			ctx := testCtx(t, time.Minute)
			be := newBackend(t, "redis", tc.dialect)

			var push struct {
				Cases []pushCase `json:"cases"`
			}
			raw, err := os.ReadFile(fixturePath(t, "thinkqueue", tc.version, "redis", "push.json"))
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
				file := fixturePath(t, "thinkqueue", tc.version, "redis", c.RawFile)
				want, err := os.ReadFile(file)
				require.NoError(t, err)
				require.Equal(t, c.Raw, string(want), "%s: push.json and %s disagree", c.Case, c.RawFile)

				var fx struct {
					ID string `json:"id"`
				}
				require.NoError(t, json.Unmarshal(want, &fx), c.Case)

				queue := be.Queue(c.Case)
				k := be.Keys(queue)
				call, delay := "push", 0
				if c.PHPCall == "later" {
					require.NotNil(t, c.ScoreMinusBefore, c.Case)
					call, delay = "later", int(*c.ScoreMinusBefore)
				}
				args := append(tqPushArgs(be, "fixture"), tc.version, queue, call, strconv.Itoa(delay), file)
				out, err := be.env.PHP(ctx, tqPushScript, args...)
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
					require.Equal(t, k.List, res.Key, c.Case)
					items := be.LRange(k.List)
					require.Len(t, items, 1, c.Case)
					require.Equal(t, string(want), items[0], "%s: PHP producer bytes differ from the fixture", c.Case)
				} else {
					require.Equal(t, k.Delayed, res.Key, c.Case)
					zs := be.ZRange(k.Delayed)
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
	producerBulk(t, "v1", dialectV1, 1001)
}

// TestProducerBulkV3: the same for the think-queue 3.x format.
func TestProducerBulkV3(t *testing.T) {
	t.Parallel()
	producerBulk(t, "v3", dialectV3, 3003)
}

// bulkLine is what tq_push.php bulk prints for each job.
type bulkLine struct {
	ID       string `json:"id"`
	Queue    string `json:"queue"`
	Job      string `json:"job"`
	Later    bool   `json:"later"`
	Score    *int64 `json:"score"`
	Expected string `json:"expected"`
	Stored   string `json:"stored"`
}

type bulkRun struct {
	count int
	seq   int64
	name  string
	queue string
	at    time.Time
	data  []byte
	value any
	err   error
}

func producerBulk(t *testing.T, version, dialect string, seed int) {
	const (
		n        = 1000
		jobName  = `app\job\Bulk`
		workers  = 8
		deadline = 3 * time.Minute
	)
	ctx := testCtx(t, deadline)
	be := newBackend(t, "redis", dialect)
	rdb := be.Redis
	high, low := be.Queue("high"), be.Queue("low")
	hk, lk := be.Keys(high), be.Keys(low)

	// PHP pushes everything before the bridge starts.
	args := append(tqPushArgs(be, "bulk"), version, high, low, strconv.Itoa(n), strconv.Itoa(seed), jobName)
	out, err := be.env.PHP(ctx, tqPushScript, args...)
	require.NoError(t, err)
	var lines []bulkLine
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l bulkLine
		require.NoError(t, json.Unmarshal(sc.Bytes(), &l), "php line %q", sc.Text())
		lines = append(lines, l)
	}
	require.NoError(t, sc.Err())
	require.Len(t, lines, n)

	byID := make(map[string]bulkLine, n)
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
	for _, k := range []queueKeys{hk, lk} {
		stored += rdb.LLen(ctx, k.List).Val() + rdb.ZCard(ctx, k.Delayed).Val()
	}
	require.Equal(t, int64(n), stored, "PHP did not store every job")

	var (
		mu   sync.Mutex
		runs = make(map[string]*bulkRun, n)
		seq  atomic.Int64
	)
	b := be.Open(bridge.WorkerConfig{
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
			r = &bulkRun{seq: s, name: job.Name(), queue: job.Queue(), at: at,
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
		waitFor(t, fmt.Sprintf("more due jobs (%d of %d ran)", seen(), n), func() bool {
			now := strconv.FormatInt(time.Now().Unix(), 10)
			for _, k := range []queueKeys{hk, lk} {
				l, err := rdb.LLen(ctx, k.List).Result()
				require.NoError(t, err)
				due, err := rdb.ZCount(ctx, k.Delayed, "-inf", now).Result()
				require.NoError(t, err)
				if l > 0 || due > 0 {
					return true
				}
			}
			return false
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
	var first *bulkRun
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
		if !sameValue(want, r.value) {
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

	be.RequireGone(append(hk.all(), lk.all()...)...)
	failed, err := rdb.Exists(ctx, be.FailedKeys()...).Result()
	require.NoError(t, err)
	require.Zero(t, failed, "jobs ended in the failed store")
}

// sameValue compares two values decoded by encoding/json after one more pass through it, so both sides are
// in exactly the same form.
func sameValue(want, got any) bool {
	a, errA := json.Marshal(want)
	b, errB := json.Marshal(got)
	if errA != nil || errB != nil {
		return false
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return deepEqual(x, y)
}

func deepEqual(x, y any) bool {
	switch x := x.(type) {
	case map[string]any:
		m, ok := y.(map[string]any)
		if !ok || len(m) != len(x) {
			return false
		}
		for k, v := range x {
			w, ok := m[k]
			if !ok || !deepEqual(v, w) {
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
			if !deepEqual(x[i], l[i]) {
				return false
			}
		}
		return true
	default:
		return x == y
	}
}
