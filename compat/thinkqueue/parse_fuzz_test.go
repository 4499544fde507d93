package thinkqueue

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge/compat/phpjson"
	"github.com/queuebridge/bridge/queue"
)

// hostilePayloads seed the fuzz targets with payloads that broke parsers elsewhere: truncations, huge and
// negative numbers, foreign field types, invalid UTF-8 and escapes, duplicate keys, deep nesting.
var hostilePayloads = []string{
	``, `{`, `{"job":`, `{"job":"J"`, `{"job":"J",}`, `{"job":"J","attempts":}`, `[]`, `null`, `"J"`,
	`{"job":"J","attempts":9223372036854775807}`, `{"job":"J","attempts":9223372036854775808}`,
	`{"job":"J","attempts":-9223372036854775808}`, `{"job":"J","attempts":-1}`, `{"job":"J","attempts":1e300}`,
	`{"job":"J","attempts":2.0}`, `{"job":"J","attempts":"1"}`, `{"job":"J","attempts":null}`,
	`{"job":"J","maxTries":"x","timeout":true,"timeoutAt":"soon"}`, `{"job":"J","maxTries":-1,"timeoutAt":-9223372036854775808}`,
	`{"job":"J","timeout":9223372036854775807,"timeoutAt":9223372036854775807}`,
	`{"job":"J","data":{},"data":[],"job":"K"}`, `{"job":"\ud800"}`, `{"job":"\u0000"}`, "{\"job\":\"J\xff\"}",
	`{"job":"J","data":"\ud83d\ude00\/"}`, `{"jo\u0062":"J"}`, `{"job":""}`, `{"job":5}`,
	`{"job":"J","data":` + strings.Repeat("[", 511) + strings.Repeat("]", 511) + `}`,
	`{"job":"J","data":` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + `}`,
	`{"job":"J","data":` + strings.Repeat(`{"a":`, 5000) + `1` + strings.Repeat(`}`, 5000) + `}`,
}

// addPayloadSeeds adds every captured payload and the hostile ones.
func addPayloadSeeds(f *testing.F) {
	files, err := filepath.Glob(filepath.Join(fixtureRoot, "v*", "*", "payloads", "*.json"))
	require.NoError(f, err)
	require.NotEmpty(f, files)
	for _, file := range files {
		b, err := os.ReadFile(file)
		require.NoError(f, err)
		f.Add(b)
	}
	for _, s := range hostilePayloads {
		f.Add([]byte(s))
	}
}

// FuzzParse checks the hand-rolled top-level walk against encoding/json on arbitrary input, for both
// versions: v1 refuses only a non-integer attempts, v3 its other integer fields too.
func FuzzParse(f *testing.F) {
	addPayloadSeeds(f)
	f.Add([]byte(`{"job":"J","data":{"x":"}\"{"},"id":7,"attempts":1.0}`))
	f.Add([]byte(`{"jo\u0062":"\ud83d\ude00","data":[],"data":"again"}`))
	v1, v3 := Dialect{Version: V1, Keys: KeysPlain}, Dialect{Version: V3, Keys: KeysHashTag}
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, d := range []Dialect{v1, v3} {
			p, err := d.Parse(raw)
			var ref map[string]json.RawMessage
			if !utf8.Valid(raw) || json.Unmarshal(raw, &ref) != nil || ref == nil {
				require.Error(t, err)
				continue
			}
			var job string
			if json.Unmarshal(ref["job"], &job) != nil || job == "" {
				require.Error(t, err)
				continue
			}
			if err != nil {
				var pe *PayloadError
				require.ErrorAs(t, err, &pe) // only the integer fields may still be refused
				if d == v1 {
					_, ok := phpjson.Int(ref["attempts"])
					require.False(t, ok, "v1 refused %q: %v", raw, err)
				}
				continue
			}
			require.Equal(t, job, p.Job)
			// Byte for byte: both are the value's own bytes, and a number beyond float64 (1E700) is valid
			// JSON that a decode into float64 would refuse.
			require.Equal(t, string(ref["data"]), string(p.Data))
			if id, ok := ref["id"]; ok && id[0] == '"' {
				var want string
				require.NoError(t, json.Unmarshal(id, &want))
				require.Equal(t, want, p.ID)
			}
			if d == v1 {
				require.Nil(t, p.MaxTries)
				require.Nil(t, p.Timeout)
				require.Nil(t, p.TimeoutAt)
			}
		}
	})
}

// FuzzCopies feeds arbitrary payloads to the copies the stores write (reserved, released, expired,
// retry): never a panic; for a payload PHP can decode and Parse accepts, copies that parse again with the
// attempts PHP's arithmetic gives them, and no promise for one PHP could not encode again either; a copy
// made by splicing equals the full re-encode.
func FuzzCopies(f *testing.F) {
	addPayloadSeeds(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		if spliced, ok := spliceAttempts(raw); ok {
			reencoded, err := reencodeAttempts(raw, 0)
			require.NoError(t, err, "spliced %q", raw)
			require.Equal(t, string(reencoded), string(spliced), "the splice of %q differs from its re-encode", raw)
		}
		for _, d := range []Dialect{{Version: V1, Keys: KeysPlain}, {Version: V3, Keys: KeysHashTag}} {
			reserved, rerr := d.ReservedCopy(raw)
			released, lerr := d.ReleasedCopy(raw, reserved)
			expired, eerr := d.ExpiredCopy(raw)
			retry, terr := d.RetryCopy(raw)
			p, err := d.Parse(raw)
			v, derr := phpjson.Decode(raw)
			if err != nil || derr != nil || p.Attempts >= math.MaxInt32 || p.Attempts <= math.MinInt32 {
				continue
			}
			if _, err := phpjson.Encode(phpjson.Assoc(v)); err != nil {
				// PHP's json_encode refuses it too (1E700 decodes to INF): a copy that must re-encode it fails,
				// which makes the worker move such a job aside instead of writing it back.
				continue
			}
			for _, err := range []error{rerr, lerr, eerr, terr} {
				require.NoError(t, err, "%s of %q", d.Name(), raw)
			}
			next := p.Attempts + 1
			for name, c := range map[string]struct {
				copy     []byte
				attempts int
			}{"reserved": {reserved, p.Attempts}, "released": {released, next}, "expired": {expired, p.Attempts}} {
				if d.Version == V3 && name != "expired" || d.Version == V1 && name != "reserved" {
					c.attempts = next
				}
				q, err := d.Parse(c.copy)
				require.NoError(t, err, "%s %s copy %q of %q", d.Name(), name, c.copy, raw)
				require.Equal(t, c.attempts, q.Attempts, "%s %s copy %q of %q", d.Name(), name, c.copy, raw)
				require.Equal(t, p.Job, q.Job)
			}
			q, err := d.Parse(retry)
			require.NoError(t, err, "retry copy %q of %q", retry, raw)
			if p.HasAttempts {
				require.Equal(t, int(d.startAttempts()), q.Attempts)
			}
		}
	})
}

// FuzzRules runs a reservation of arbitrary bytes through every rule the worker applies: never a panic,
// and on a database queue a job's attempts are the reservation's and it always has an id.
func FuzzRules(f *testing.F) {
	addPayloadSeeds(f)
	ctx := context.Background()
	now := time.Unix(1700000000, 0)
	timedOut := errors.Join(errors.New("boom"), context.DeadlineExceeded)
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, d := range []Dialect{{Version: V1, Keys: KeysPlain}, {Version: V3, Keys: KeysHashTag}} {
			r := NewRules(d)
			for _, res := range []queue.Reservation{
				{Queue: "default", Raw: raw, Member: raw},
				{Queue: "default", Raw: raw, Member: []byte("42"), Attempts: 1 + len(raw)%300},
			} {
				j, err := r.NewJob(res)
				if err != nil {
					continue
				}
				if res.Attempts > 0 {
					require.Equal(t, res.Attempts, j.Attempts())
					require.NotEmpty(t, j.ID(), "the payload's id, else the row's")
				}
				for _, tries := range []int{0, 1, 3, -1} {
					_ = r.CheckBeforeRun(j, tries, now)
					_ = r.FailAfterError(ctx, j, timedOut, tries, now)
				}
				_ = r.RetryDelay(j, timedOut, []time.Duration{time.Second, 2 * time.Second}, now)
				_ = r.RetryDelay(j, timedOut, nil, now)
				_, _ = r.ReleasedCopy(res)
				var data any
				_ = j.Bind(&data)
				_ = r.ExceptionText(timedOut)
			}
		}
	})
}
