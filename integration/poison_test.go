package integration

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
)

// poison is a payload no worker can run, and what must become of it.
type poison struct {
	payload string
	reason  string // the failed record's Exception must mention it
	listed  string // the Job column of `failed list`
	retryV1 string // what `failed retry` pushes back (v1 / v3); "" means the bytes unchanged
	retryV3 string
}

var poisons = []poison{
	{payload: `this is not JSON {`, reason: "not valid JSON", listed: "(not JSON)"},
	{payload: `[]`, reason: "not a JSON object", listed: "(no job)"},
	{payload: `{"data":1}`, reason: `no "job" field`, listed: "(no job)"},
	{payload: `{"job":5}`, reason: `"job" is not a string`, listed: "(no job)"},
	// queue:retry re-encodes JSON PHP style ({} becomes []) and resets attempts to the start value.
	{payload: `{"data":{"a":{}},"attempts":7}`, reason: `no "job" field`, listed: "(no job)",
		retryV1: `{"data":{"a":[]},"attempts":1}`, retryV3: `{"data":{"a":[]},"attempts":0}`},
	// Malformed UTF-8 inside otherwise valid JSON: PHP's json_decode rejects it; its bytes must survive.
	{payload: "{\"job\":\"app\\\\job\\\\Good\",\"data\":\"\xff\xfe\"}", reason: "not valid UTF-8", listed: "(not JSON)"},
}

func (p poison) retried(dialect string) string {
	r := p.retryV3
	if dialect == dialectV1 {
		r = p.retryV1
	}
	if r == "" {
		return p.payload
	}
	return r
}

// TestPoison: payloads that are not jobs, pushed between valid jobs, each end in the failed store with a
// reason; the valid jobs around them run; nothing stays reserved. Then `bridge failed list`, `failed retry all`
// and `failed flush` work on them.
func TestPoison(t *testing.T) {
	t.Parallel()
	for _, dialect := range thinkQueueDialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			ctx := testCtx(t, time.Minute)
			be := newBackend(t, "redis", dialect)
			q := be.Queue("poison")
			k := be.Keys(q)

			rec := be.NewRecorder()
			b := be.Open(bridge.WorkerConfig{Queues: []string{q}, Concurrency: 2, StopWhenEmpty: true, Sleep: 10 * time.Millisecond})
			b.HandleFunc(`app\job\Good`, func(_ context.Context, job *bridge.Job) error {
				var v struct{ N int }
				if err := job.Bind(&v); err != nil {
					return err
				}
				rec.Record(job, "ok", nil)
				return nil
			})
			rec.Listen(b)

			// valid, poison, valid, poison, …, valid
			var good []string
			push := func(i int) {
				id, err := b.Push(ctx, q, `app\job\Good`, map[string]int{"n": i})
				require.NoError(t, err)
				good = append(good, id)
			}
			for i, p := range poisons {
				push(i)
				require.NoError(t, be.Redis.RPush(ctx, k.List, p.payload).Err())
			}
			push(len(poisons))

			require.NoError(t, b.Run(ctx))

			ran := rec.Records().ByID()
			for _, id := range good {
				require.Equal(t, 1, ran[id], "valid job %s around the poison", id)
			}
			require.Len(t, ran, len(good))
			failed := rec.Events().Of("JobFailed")
			require.Len(t, failed, len(poisons), "JobFailed once per poison payload")
			for _, f := range failed {
				require.Nil(t, f.Job, "a payload that is not a job has no Job")
				require.Equal(t, q, f.Queue, "the reservation's queue")
			}
			be.RequireQueueEmpty(q)

			cn := be.Open(bridge.WorkerConfig{})
			checkPoisonStore(t, ctx, cn, q)

			// failed list
			code, out, errOut := be.CLI(ctx, "failed", "list")
			require.Equal(t, 0, code, errOut)
			lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
			require.Len(t, lines, 1+len(poisons), out)
			require.Regexp(t, `^ID\s+Connection\s+Queue\s+Job\s+Failed At\s+Error$`, lines[0])
			store, err := cn.Failed(ctx)
			require.NoError(t, err)
			for _, rec := range store {
				p := poisonFor(t, rec.Payload)
				var row string
				for _, l := range lines[1:] {
					if strings.HasPrefix(l, rec.ID+" ") {
						row = l
					}
				}
				require.NotEmpty(t, row, "failed list has no row for %s:\n%s", rec.ID, out)
				require.Contains(t, row, q)
				require.Contains(t, row, p.listed)
				require.Contains(t, row, p.reason)
			}

			// failed retry all: back onto the queue (RetryCopy for JSON, unchanged bytes otherwise), store empty.
			code, out, errOut = be.CLI(ctx, "failed", "retry", "all")
			require.Equal(t, 0, code, errOut)
			require.Equal(t, len(poisons), strings.Count(out, "has been pushed back onto the queue"), out)
			items := be.LRange(k.List)
			var want []string
			for _, p := range poisons {
				want = append(want, p.retried(dialect))
			}
			slices.Sort(items)
			slices.Sort(want)
			require.Equal(t, want, items, "what `failed retry all` pushed back")
			store, err = cn.Failed(ctx)
			require.NoError(t, err)
			require.Empty(t, store)
			code, out, errOut = be.CLI(ctx, "failed", "list")
			require.Equal(t, 0, code, errOut)
			require.Contains(t, out, "No failed jobs!")

			// The retried poison fails again, and the worker still finishes.
			require.NoError(t, b.Run(ctx))
			be.RequireQueueEmpty(q)
			store, err = cn.Failed(ctx)
			require.NoError(t, err)
			require.Len(t, store, len(poisons))

			// failed flush
			code, out, errOut = be.CLI(ctx, "failed", "flush")
			require.Equal(t, 0, code, errOut)
			require.Contains(t, out, fmt.Sprintf("%d failed jobs deleted.", len(poisons)))
			store, err = cn.Failed(ctx)
			require.NoError(t, err)
			require.Empty(t, store)
			be.RequireGone(be.FailedKeys()...)
		})
	}
}

// poisonFor finds the poison a failed record's payload came from.
func poisonFor(t testing.TB, payload []byte) poison {
	t.Helper()
	for _, p := range poisons {
		if p.payload == string(payload) {
			return p
		}
	}
	require.FailNow(t, "unexpected failed payload", "%q", payload)
	return poison{}
}

// checkPoisonStore: one record per poison, holding its exact bytes and a reason that says why.
func checkPoisonStore(t *testing.T, ctx context.Context, b *bridge.Bridge, queueName string) {
	t.Helper()
	store, err := b.Failed(ctx)
	require.NoError(t, err)
	require.Len(t, store, len(poisons))
	seen := map[string]bool{}
	for _, rec := range store {
		p := poisonFor(t, rec.Payload)
		require.False(t, seen[p.payload], "two failed records for %q", p.payload)
		seen[p.payload] = true
		require.Equal(t, queueName, rec.Queue)
		require.Equal(t, "redis", rec.Connection)
		require.NotEmpty(t, rec.ID)
		require.False(t, rec.FailedAt.IsZero())
		require.Contains(t, rec.Exception, p.reason, "the reason for %q", p.payload)
	}
}
