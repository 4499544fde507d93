package laravel

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestAttemptsMaxTriesTimeout(t *testing.T) {
	t.Parallel()
	d := mustDialect(t, "laravel-12")
	tests := []struct {
		name               string
		p                  Payload
		attempts, maxTries int
		timeout            time.Duration
	}{
		{"fresh push", Payload{HasAttempts: true}, 1, 3, time.Minute},
		{"released twice", Payload{Attempts: 2, HasAttempts: true}, 3, 3, time.Minute},
		{"missing attempts counts as 0", Payload{}, 1, 3, time.Minute},
		{"payload limits win", Payload{MaxTries: intp(5), Timeout: intp(9)}, 1, 5, 9 * time.Second},
		{"payload 0 overrides the worker's", Payload{MaxTries: intp(0), Timeout: intp(0)}, 1, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.attempts, d.Attempts(&tt.p))
			require.Equal(t, tt.maxTries, d.MaxTries(&tt.p, 3))
			require.Equal(t, tt.timeout, d.Timeout(&tt.p, time.Minute))
		})
	}
}

// TestFailRules follows Worker::markJobAsFailedIfAlreadyExceedsMaxAttempts (before the run) and
// markJobAsFailedIfWillExceedMaxAttempts / markJobAsFailedIfWillExceedMaxExceptions (after an exception).
func TestFailRules(t *testing.T) {
	t.Parallel()
	now := time.Unix(fixtureNow, 0)
	tests := []struct {
		name        string
		p           Payload
		attempts    int
		tries       int
		exceptions  int
		failBefore  bool
		failOnError bool
	}{
		{"unlimited", Payload{}, 100, 0, 0, false, false},
		{"below tries", Payload{}, 1, 2, 0, false, false},
		{"reaching tries fails after the error", Payload{}, 2, 2, 0, false, true},
		{"past tries fails before running", Payload{}, 3, 2, 0, true, true},
		{"payload maxTries wins over --tries", Payload{MaxTries: intp(5)}, 3, 2, 0, false, false},
		{"payload maxTries reached", Payload{MaxTries: intp(3)}, 3, 0, 0, false, true},
		{"payload maxTries 0 is unlimited", Payload{MaxTries: intp(0)}, 9, 2, 0, false, false},
		{"negative tries fail every job", Payload{}, 1, -1, 0, true, false},
		{"before retryUntil ignores tries", Payload{RetryUntil: int64p(fixtureNow + 1)}, 9, 2, 0, false, false},
		{"at retryUntil runs, then fails", Payload{RetryUntil: int64p(fixtureNow)}, 1, 0, 0, false, true},
		{"past retryUntil", Payload{RetryUntil: int64p(fixtureNow - 1)}, 1, 0, 0, true, true},
		{"retryUntil 0 is unset", Payload{RetryUntil: int64p(0)}, 1, 1, 0, false, true},
		{"maxExceptions not reached", Payload{UUID: "u", MaxExceptions: intp(2)}, 1, 0, 1, false, false},
		{"maxExceptions reached", Payload{UUID: "u", MaxExceptions: intp(2)}, 1, 0, 2, false, true},
		{"maxExceptions 0 fails on the first exception", Payload{UUID: "u", MaxExceptions: intp(0)}, 1, 0, 1, false, true},
		{"maxExceptions without a counter", Payload{UUID: "u", MaxExceptions: intp(0)}, 1, 0, 0, false, false},
		{"maxExceptions without a uuid", Payload{MaxExceptions: intp(1)}, 1, 0, 5, false, false},
		{"maxExceptions with retryUntil", Payload{UUID: "u", MaxExceptions: intp(1), RetryUntil: int64p(fixtureNow + 60)}, 1, 0, 1, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, v := range []Version{V8, V9, V10, V11, V12} {
				d := Dialect{Version: v, Prefix: DefaultPrefix}
				p := tt.p
				p.Job, p.DisplayName = CallQueuedHandlerJob, `App\Jobs\Fail`
				err := d.FailBeforeRun(&p, tt.attempts, tt.tries, now)
				if tt.failBefore {
					var exceeded *MaxAttemptsExceededError
					require.ErrorAs(t, err, &exceeded)
					require.Equal(t, MaxAttemptsExceededException, exceeded.PHPClass())
					if v < V10 {
						require.Equal(t, `App\Jobs\Fail has been attempted too many times or run too long. The job may have previously timed out.`, err.Error())
					} else {
						require.Equal(t, `App\Jobs\Fail has been attempted too many times.`, err.Error())
					}
				} else {
					require.NoError(t, err)
				}
				require.Equal(t, tt.failOnError, d.FailAfterError(&p, tt.attempts, tt.tries, tt.exceptions, now))
			}
		})
	}
}

func TestMaxExceptionsKey(t *testing.T) {
	t.Parallel()
	d := mustDialect(t, "laravel-8")
	key, ok := d.MaxExceptionsKey(&Payload{UUID: "u-1", MaxExceptions: intp(2)})
	require.True(t, ok)
	require.Equal(t, "job-exceptions:u-1", key)
	require.Equal(t, "laravel_database_laravel_cache:job-exceptions:u-1", d.CacheKey("laravel_cache", key))
	for _, p := range []Payload{{UUID: "u-1"}, {MaxExceptions: intp(2)}} {
		key, ok := d.MaxExceptionsKey(&p)
		require.False(t, ok)
		require.Empty(t, key)
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	d := mustDialect(t, "laravel-11")
	tests := []struct {
		name     string
		backoff  *string
		attempts int
		worker   []int
		want     time.Duration
	}{
		{"first entry", strp("10,30"), 1, nil, 10 * time.Second},
		{"second entry", strp("10,30"), 2, nil, 30 * time.Second},
		{"last entry repeats", strp("10,30"), 7, nil, 30 * time.Second},
		{"single value", strp("15"), 3, nil, 15 * time.Second},
		{"payload wins over --backoff", strp("5"), 1, []int{7, 11}, 5 * time.Second},
		{"--backoff list", nil, 2, []int{7, 11}, 11 * time.Second},
		{"--backoff last repeats", nil, 3, []int{7, 11}, 11 * time.Second},
		{"no backoff at all", nil, 1, nil, 0},
		{"attempts 0 takes the last", strp("1,2,3"), 0, nil, 3 * time.Second},
		{"empty string is 0", strp(""), 1, []int{9}, 0},
		{"PHP int cast of entries", strp(" 12abc, 1e1,x"), 2, nil, 10 * time.Second},
		{"PHP int cast of junk", strp(" 12abc, 1e1,x"), 3, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, d.Backoff(&Payload{Backoff: tt.backoff}, tt.attempts, tt.worker))
		})
	}
}

// The expected values were printed by PHP 8.2's (int) cast.
func TestPHPInt(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int64{
		" 12abc": 12, "1e3": 1000, "1.9": 1, "": 0, "-4": -4, "\n7": 7, ".5": 0, "5.": 5, "1e": 1, "abc": 0, "+3": 3, "-": 0,
		"99999999999999999999": 9223372036854775807, "-99999999999999999999": -9223372036854775808, "1e400": 0, "1.5e3x": 1500,
		"\v8": 8, "-0": 0, "0x1A": 0, "  -.5e1": -5, " 10 ": 10, "1e-3": 0,
	} {
		require.Equal(t, want, phpInt(in), "%q", in)
	}
}

func TestReleasedCopy(t *testing.T) {
	t.Parallel()
	d := mustDialect(t, "laravel-8")
	got, err := d.ReleasedCopy([]byte("raw"), []byte("reserved"))
	require.NoError(t, err)
	require.Equal(t, "reserved", string(got))
	got, err = d.ReleasedCopy([]byte("raw"), nil)
	require.NoError(t, err)
	require.Equal(t, "raw", string(got))
}

type redisEntry struct {
	Key      string   `json:"key"`
	Type     string   `json:"type"`
	Elements []string `json:"elements"`
	Members  []struct {
		Member        string  `json:"member"`
		ScoreMinusNow float64 `json:"score_minus_now"`
	} `json:"members"`
}

// TestBackoffReleaseFixtures replays redis/backoff_release.json: FailsWithBackoff (tries 3, backoff
// [10,30]) throws on its first run under Worker::runNextJob (--tries 0) and is released to :delayed at
// now+10 as the reserved bytes.
func TestBackoffReleaseFixtures(t *testing.T) {
	t.Parallel()
	for _, v := range fixtureVersions {
		t.Run(v.dir, func(t *testing.T) {
			t.Parallel()
			d := mustDialect(t, v.dialect)
			var fx struct {
				Before []redisEntry `json:"redis_before"`
				After  []redisEntry `json:"redis_after"`
			}
			loadFixture(t, &fx, v.dir, "redis", "backoff_release.json")
			list, delayed, _ := d.QueueKeys("")
			require.Equal(t, list, fx.Before[0].Key)
			raw := []byte(fx.Before[0].Elements[0])
			p := mustParse(t, d, raw)

			rebuilt, err := d.NewObjectPayload(failsWithBackoffJob(), paramsFor(p, fixtureJob{}, d))
			require.NoError(t, err)
			require.Equal(t, string(raw), string(rebuilt))

			now := time.Unix(fixtureNow, 0)
			attempts := d.Attempts(p)
			require.Equal(t, 1, attempts)
			require.NoError(t, d.FailBeforeRun(p, attempts, 0, now))
			require.False(t, d.FailAfterError(p, attempts, 0, 0, now))
			require.Equal(t, 10*time.Second, d.Backoff(p, attempts, nil))

			require.Len(t, fx.After, 1)
			require.Equal(t, delayed, fx.After[0].Key)
			require.Len(t, fx.After[0].Members, 1)
			member := fx.After[0].Members[0]
			require.Equal(t, d.Backoff(p, attempts, nil).Seconds(), member.ScoreMinusNow)
			// The released member is the reserved copy: attempts already 1, the next pop reports 2.
			released, err := d.ReleasedCopy(raw, []byte(member.Member))
			require.NoError(t, err)
			require.Equal(t, member.Member, string(released))
			next := mustParse(t, d, released)
			require.Equal(t, 2, d.Attempts(next))
			require.Equal(t, 30*time.Second, d.Backoff(next, d.Attempts(next), nil))
			require.False(t, d.FailAfterError(next, 2, 0, 0, now))
			require.True(t, d.FailAfterError(next, 3, 0, 0, now))
		})
	}
}

// TestObservedOrder replays spec §4.8 (8.83, database driver, tries=2, backoff "7,11"): the first failure
// releases after 7 s, the second fails the job before JobExceptionOccurred; a third reservation (a
// timed-out copy) would fail before running.
func TestObservedOrder(t *testing.T) {
	t.Parallel()
	d := mustDialect(t, "laravel-8")
	now := time.Unix(fixtureNow, 0)
	raw, err := d.NewObjectPayload(Command{Class: `App\Jobs\Flaky`, Tries: intp(2), Backoff: []int{7, 11}},
		PayloadParams{UUID: "20b96c60-a9b9-4237-ac06-5dbec87bd2ca", Now: now})
	require.NoError(t, err)
	p := mustParse(t, d, raw)
	require.False(t, p.HasAttempts, "database payloads carry no attempts")

	// pop #1: the attempts column is 1 after the reservation.
	require.NoError(t, d.FailBeforeRun(p, 1, 1, now))
	require.False(t, d.FailAfterError(p, 1, 1, 0, now))
	require.Equal(t, 7*time.Second, d.Backoff(p, 1, nil))
	released, err := d.ReleasedCopy(raw, nil)
	require.NoError(t, err)
	require.Equal(t, raw, released, "the database release re-inserts the same bytes")

	// pop #2
	require.NoError(t, d.FailBeforeRun(p, 2, 1, now))
	require.True(t, d.FailAfterError(p, 2, 1, 0, now))

	// A copy reserved a third time (the job timed out) fails unrun.
	err = d.FailBeforeRun(p, 3, 1, now)
	require.EqualError(t, err, `App\Jobs\Flaky has been attempted too many times or run too long. The job may have previously timed out.`)
}

// TestFailFixtures replays redis/fail.json and database/fail.json: Fails (tries 1) throws under
// Worker::runNextJob (--tries 0) and is failed at once; the failed_jobs row holds the pushed bytes.
func TestFailFixtures(t *testing.T) {
	t.Parallel()
	for _, v := range fixtureVersions {
		for _, driver := range []string{"redis", "database"} {
			t.Run(v.dir+"/"+driver, func(t *testing.T) {
				t.Parallel()
				d := mustDialect(t, v.dialect)
				var fx struct {
					Before []redisEntry `json:"redis_before"`
					After  []redisEntry `json:"redis_after"`
					Rows   []struct {
						UUID       string `json:"uuid"`
						Connection string `json:"connection"`
						Queue      string `json:"queue"`
						Payload    string `json:"payload"`
						Exception  string `json:"exception"`
						FailedAt   string `json:"failed_at"`
					} `json:"failed_jobs_rows"`
				}
				loadFixture(t, &fx, v.dir, driver, "fail.json")
				require.Len(t, fx.Rows, 1)
				row := fx.Rows[0]
				raw := []byte(row.Payload)
				if driver == "redis" {
					require.Equal(t, row.Payload, fx.Before[0].Elements[0], "failed_jobs.payload is the popped raw body")
					require.Empty(t, fx.After)
				}
				p := mustParse(t, d, raw)
				rebuilt, err := d.NewObjectPayload(failsJob(), paramsFor(p, fixtureJob{}, d))
				require.NoError(t, err)
				require.Equal(t, string(raw), string(rebuilt))

				now := time.Unix(fixtureNow, 0)
				attempts := 1 // Redis: Attempts(p); database: the attempts column after reserving
				if driver == "redis" {
					attempts = d.Attempts(p)
				}
				require.NoError(t, d.FailBeforeRun(p, attempts, 0, now))
				require.True(t, d.FailAfterError(p, attempts, 0, 0, now))

				exc := phpException(t, row.Exception)
				require.Equal(t, "RuntimeException", exc.Class)
				require.Equal(t, "boom", exc.Message)
				got := d.FailedJobRow(driver, "default", raw, exc.String(), now)
				require.Equal(t, FailedJob{UUID: row.UUID, Connection: row.Connection, Queue: row.Queue, Payload: raw,
					Exception: row.Exception, FailedAt: row.FailedAt}, got)
				require.Equal(t, "2025-01-02 03:04:05", got.FailedAt)
			})
		}
	}
}

// phpException reads PHP's (string)$e of a single exception back into an Exception.
func phpException(t *testing.T, s string) *Exception {
	t.Helper()
	head, trace, ok := strings.Cut(s, "\nStack trace:\n")
	require.True(t, ok)
	at := strings.LastIndex(head, " in ")
	where := head[at+len(" in "):]
	colon := strings.LastIndex(where, ":")
	line := 0
	for _, c := range where[colon+1:] {
		line = line*10 + int(c-'0')
	}
	e := &Exception{File: where[:colon], Line: line}
	e.Class, e.Message, _ = strings.Cut(head[:at], ": ")
	frames := strings.Split(trace, "\n")
	for i, f := range frames[:len(frames)-1] {
		_, frame, ok := strings.Cut(f, " ")
		require.True(t, ok, "frame %d", i)
		e.Trace = append(e.Trace, frame)
	}
	require.Equal(t, "{main}", strings.SplitN(frames[len(frames)-1], " ", 2)[1])
	return e
}
