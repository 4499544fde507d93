package thinkqueue

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func intp(n int) *int       { return &n }
func int64p(n int64) *int64 { return &n }

func TestAttemptsMaxTriesTimeout(t *testing.T) {
	t.Parallel()
	v1, v3 := mustDialect(t, "thinkqueue-v1"), mustDialect(t, "thinkqueue-v3")
	plain := &Payload{Job: "J", Attempts: 2}
	overridden := &Payload{Job: "J", Attempts: 2, MaxTries: intp(5), Timeout: intp(9)}
	tests := []struct {
		name               string
		dialect            Dialect
		p                  *Payload
		attempts, maxTries int
		timeout            time.Duration
	}{
		{"v1 plain", v1, plain, 2, 3, time.Minute},
		{"v1 ignores payload overrides", v1, overridden, 2, 3, time.Minute},
		{"v3 plain", v3, plain, 3, 3, time.Minute},
		{"v3 payload overrides", v3, overridden, 3, 5, 9 * time.Second},
		{"v3 maxTries and timeout 0 override the worker's", v3, &Payload{Job: "J", MaxTries: intp(0), Timeout: intp(0)}, 1, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.attempts, tt.dialect.Attempts(tt.p))
			require.Equal(t, tt.maxTries, tt.dialect.MaxTries(tt.p, 3))
			require.Equal(t, tt.timeout, tt.dialect.Timeout(tt.p, time.Minute))
		})
	}
}

func TestFailRules(t *testing.T) {
	t.Parallel()
	v1, v3 := mustDialect(t, "thinkqueue-v1"), mustDialect(t, "thinkqueue-v3")
	now := time.Unix(1700000000, 0)
	tests := []struct {
		name        string
		dialect     Dialect
		p           Payload
		attempts    int
		tries       int
		failBefore  bool
		failOnError bool
	}{
		{"v1 unlimited", v1, Payload{}, 100, 0, false, false},
		{"v1 within tries", v1, Payload{}, 2, 2, false, false},
		{"v1 past tries", v1, Payload{}, 3, 2, true, false},
		{"v1 ignores payload maxTries", v1, Payload{MaxTries: intp(1)}, 2, 0, false, false},
		{"v1 ignores timeoutAt", v1, Payload{TimeoutAt: int64p(1)}, 1, 0, false, false},
		{"v3 unlimited", v3, Payload{}, 100, 0, false, false},
		{"v3 below tries", v3, Payload{}, 1, 2, false, false},
		{"v3 reaching tries", v3, Payload{}, 2, 2, false, true},
		{"v3 past tries", v3, Payload{}, 3, 2, true, true},
		{"v3 payload maxTries wins", v3, Payload{MaxTries: intp(5)}, 3, 2, false, false},
		{"v3 payload maxTries reached", v3, Payload{MaxTries: intp(3)}, 3, 0, false, true},
		{"v3 payload maxTries 0 is unlimited", v3, Payload{MaxTries: intp(0)}, 9, 2, false, false},
		{"v3 negative tries fail every job", v3, Payload{}, 1, -1, true, false},
		{"v3 before timeoutAt ignores tries", v3, Payload{TimeoutAt: int64p(1700000001)}, 9, 2, false, true},
		{"v3 at timeoutAt", v3, Payload{TimeoutAt: int64p(1700000000)}, 1, 0, false, true},
		{"v3 past timeoutAt", v3, Payload{TimeoutAt: int64p(1699999999)}, 1, 0, true, true},
		{"v3 timeoutAt 0 is unset", v3, Payload{TimeoutAt: int64p(0)}, 1, 0, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := tt.p
			p.Job = `app\job\Fail`
			err := tt.dialect.FailBeforeRun(&p, tt.attempts, tt.tries, now)
			if tt.failBefore {
				var exceeded *MaxAttemptsExceededError
				require.ErrorAs(t, err, &exceeded)
				require.Equal(t, `app\job\Fail has been attempted too many times or run too long. The job may have previously timed out.`, err.Error())
			} else {
				require.NoError(t, err)
			}
			require.Equal(t, tt.failOnError, tt.dialect.FailAfterError(&p, tt.attempts, tt.tries, now))
		})
	}
}
