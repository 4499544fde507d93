package thinkqueue

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRewritesExpired(t *testing.T) {
	t.Parallel()
	require.True(t, mustDialect(t, "thinkqueue-v1").RewritesExpired())
	require.True(t, mustDialect(t, "thinkqueue-v2").RewritesExpired())
	require.False(t, mustDialect(t, "thinkqueue-v3").RewritesExpired())
	require.False(t, mustDialect(t, "thinkqueue-v3-plain").RewritesExpired())
}

// TestCopies covers payloads the fixtures do not: missing or odd attempts and foreign encodings.
func TestCopies(t *testing.T) {
	t.Parallel()
	const foreign = `{"job": "J", "data": {"u": "/", "e": {}, "f": 1.0}, "attempts": 1, "x": "中"}`
	tests := []struct {
		name, dialect, raw                 string
		reserved, released, expired, retry string
	}{
		{
			name: "v1 missing attempts counts as 1", dialect: "thinkqueue-v1", raw: `{"job":"J","data":{}}`,
			reserved: `{"job":"J","data":{}}`,
			released: `{"job":"J","data":[],"attempts":2}`,
			expired:  `{"job":"J","data":[],"attempts":2}`,
			retry:    `{"job":"J","data":[]}`,
		},
		{
			name: "v3 missing attempts counts as 0", dialect: "thinkqueue-v3", raw: `{"job":"J","data":{}}`,
			reserved: `{"job":"J","data":[],"attempts":1}`,
			released: `{"job":"J","data":[],"attempts":1}`,
			expired:  `{"job":"J","data":{}}`,
			retry:    `{"job":"J","data":[]}`,
		},
		{
			name: "v3 null attempts stays null on retry", dialect: "thinkqueue-v3", raw: `{"job":"J","attempts":null}`,
			reserved: `{"job":"J","attempts":1}`,
			released: `{"job":"J","attempts":1}`,
			expired:  `{"job":"J","attempts":null}`,
			retry:    `{"job":"J","attempts":null}`,
		},
		{
			name: "v1 foreign bytes", dialect: "thinkqueue-v1", raw: foreign,
			reserved: foreign,
			released: `{"job":"J","data":{"u":"\/","e":[],"f":1},"attempts":2,"x":"\u4e2d"}`,
			expired:  `{"job":"J","data":{"u":"\/","e":[],"f":1},"attempts":2,"x":"\u4e2d"}`,
			retry:    `{"job":"J","data":{"u":"\/","e":[],"f":1},"attempts":1,"x":"\u4e2d"}`,
		},
		{
			name: "v3 foreign bytes", dialect: "thinkqueue-v3", raw: foreign,
			reserved: `{"job":"J","data":{"u":"\/","e":[],"f":1},"attempts":2,"x":"\u4e2d"}`,
			released: `{"job":"J","data":{"u":"\/","e":[],"f":1},"attempts":2,"x":"\u4e2d"}`,
			expired:  foreign,
			retry:    `{"job":"J","data":{"u":"\/","e":[],"f":1},"attempts":0,"x":"\u4e2d"}`,
		},
		{
			name: "v3 float attempts stay floats", dialect: "thinkqueue-v3", raw: `{"job":"J","attempts":2.0}`,
			reserved: `{"job":"J","attempts":3}`,
			released: `{"job":"J","attempts":3}`,
			expired:  `{"job":"J","attempts":2.0}`,
			retry:    `{"job":"J","attempts":0}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := mustDialect(t, tt.dialect)
			reserved, err := d.ReservedCopy([]byte(tt.raw))
			require.NoError(t, err)
			require.Equal(t, tt.reserved, string(reserved), "reserved")
			released, err := d.ReleasedCopy([]byte(tt.raw), reserved)
			require.NoError(t, err)
			require.Equal(t, tt.released, string(released), "released")
			// the expired member a worker finds is the one it reserved; here raw stands in for it
			expired, err := d.ExpiredCopy([]byte(tt.raw))
			require.NoError(t, err)
			require.Equal(t, tt.expired, string(expired), "expired")
			retry, err := d.RetryCopy([]byte(tt.raw))
			require.NoError(t, err)
			require.Equal(t, tt.retry, string(retry), "retry")

			// What the copies claim must agree with what Parse reads back from them.
			p, err := d.Parse(reserved)
			require.NoError(t, err)
			raw, err := d.Parse([]byte(tt.raw))
			require.NoError(t, err)
			if d.Version == V3 {
				require.Equal(t, d.Attempts(raw), p.Attempts)
			} else {
				p, err = d.Parse(released)
				require.NoError(t, err)
				require.Equal(t, d.Attempts(raw)+1, p.Attempts)
			}
		})
	}
}

// TestRetryCopyOfFailedJobsRow takes the v3 failed_jobs payloads (the list copy) back to attempts 0.
func TestRetryCopyOfFailedJobsRow(t *testing.T) {
	t.Parallel()
	d := mustDialect(t, "thinkqueue-v3")
	for _, file := range []string{"fail_throw.json", "fail_noop.json"} {
		var fx fxScenario
		loadFixture(t, &fx, "v3", "redis", file)
		last := fx.Rounds[len(fx.Rounds)-1].After
		require.Len(t, last.FailedJobs, 1, file)
		failed := []byte(last.FailedJobs[0].Payload)
		retry, err := d.RetryCopy(failed)
		require.NoError(t, err)
		p, err := d.Parse(retry)
		require.NoError(t, err)
		require.Zero(t, p.Attempts, file)
		original, err := d.Parse(failed)
		require.NoError(t, err)
		require.NotZero(t, original.Attempts, file)
		// Only attempts changed: the rest of the stored bytes come back as they were.
		again, err := d.NewPayload(p.Job, mustDecode(t, p.Data), p.ID)
		require.NoError(t, err)
		require.Equal(t, string(again), string(retry), file)
	}
}

func TestCopyErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, dialect, raw, reason string
	}{
		{"v3 reserve of non-JSON", "thinkqueue-v3", `{"job":`, "not valid JSON: "},
		{"v3 reserve of a list", "thinkqueue-v3", `[1]`, "not a JSON object"},
		{"v3 reserve of {}", "thinkqueue-v3", `{}`, "not a JSON object"},
		{"v3 reserve of string attempts", "thinkqueue-v3", `{"job":"J","attempts":"1"}`, `"attempts" is not an integer`},
		{"v1 expire of fractional attempts", "thinkqueue-v1", `{"job":"J","attempts":1.5}`, `"attempts" is not an integer`},
		{"v1 expire of bad UTF-8", "thinkqueue-v1", "{\"job\":\"\xff\"}", "not valid JSON: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := mustDialect(t, tt.dialect)
			var err error
			if d.Version == V3 {
				_, err = d.ReservedCopy([]byte(tt.raw))
			} else {
				_, err = d.ExpiredCopy([]byte(tt.raw))
			}
			var pe *PayloadError
			require.ErrorAs(t, err, &pe)
			require.Contains(t, pe.Reason, tt.reason)
		})
	}
}

// attempts+1 past PHP_INT_MAX is a float in PHP ($a++ overflows), written as PHP 8.2's json_encode writes it.
func TestCopiesAttemptsOverflow(t *testing.T) {
	t.Parallel()
	raw := []byte(`{"job":"J","attempts":9223372036854775807}`)
	const php = `{"job":"J","attempts":9.223372036854776e+18}`
	released, err := mustDialect(t, "thinkqueue-v1").ReleasedCopy(raw, raw)
	require.NoError(t, err)
	require.Equal(t, php, string(released))
	reserved, err := mustDialect(t, "thinkqueue-v3").ReservedCopy(raw)
	require.NoError(t, err)
	require.Equal(t, php, string(reserved))
}
