package integration

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
)

// TestLaravelFailedJobsTable: with FailedDatabase the bridge writes its failed jobs into the app's own
// failed_jobs table (MariaDB, DatabaseUuidFailedJobProvider's schema), next to the rows of Laravel's worker:
// the same job failing under each gives rows that differ only in uuid, id and the exception's text; Laravel's
// `queue:failed` lists the bridge's row and `queue:retry <uuid>` puts that job back on its queue, and the
// bridge's Retry does the same with the row Laravel's worker wrote.
func TestLaravelFailedJobsTable(t *testing.T) {
	t.Parallel()
	a := newLaravelApp(t, laravelOptions{FailedDB: "mysql"})
	ctx := context.Background()
	log := a.Key("log")
	const phpQ, goQ = "php", "go"
	dispatch := func(q string) laravelJob {
		jobs := a.Dispatch("--objects=1", "--via=queue", "--start=7", "--queue="+q, "--log="+log, "--raw",
			"--set=failTimes=99", "--set=tries=2")
		require.Len(t, jobs, 1)
		return jobs[0]
	}
	phpJob, goJob := dispatch(phpQ), dispatch(goQ)

	cfg := a.Config(bridge.WorkerConfig{Queues: []string{goQ}, Tries: 1, Sleep: 50 * time.Millisecond})
	cfg.FailedDatabase = "mysql:" + a.env.MySQLDSN()
	cfg.FailedTable = a.FailedTable
	b := a.OpenConfig(cfg)
	rec := a.NewRecorder()
	b.Handle(classRecord, recordHandler{rec: rec})
	running := runBackground(t, b)
	a.Work("--queue="+phpQ, "--drain", "--sleep=0.1")
	waitFor(t, "the bridge failed its job", func() bool { return a.QueueEmpty(goQ) })
	require.NoError(t, running.stop(t))

	rows := a.FailedJobs()
	require.Len(t, rows, 2, "one row from each worker, in Laravel's table")
	byUUID := map[string]laravelFailedJob{}
	for _, r := range rows {
		byUUID[r.UUID] = r
	}
	pr, gr := byUUID[phpJob.UUID], byUUID[goJob.UUID]
	require.Equal(t, goJob.UUID, gr.UUID, "the bridge's row is keyed by the job's uuid")
	require.Equal(t, pr.Connection, gr.Connection)
	require.Equal(t, phpQ, pr.Queue)
	require.Equal(t, goQ, gr.Queue)
	require.Equal(t, withoutIdentity(t, pr.Payload), withoutIdentity(t, gr.Payload),
		"failed on attempt 2: both rows hold the cjson copy reserved by attempt 1")
	require.Regexp(t, `^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$`, gr.FailedAt)
	first, _, _ := strings.Cut(pr.Exception, "\n")
	m := exceptionFirstLine.FindStringSubmatch(first)
	require.NotNil(t, m, "Laravel's exception text: %q", pr.Exception)
	require.Equal(t, "RuntimeException", m[1])
	require.Equal(t, "Record 7 fails on attempt 2", m[2])
	require.Contains(t, gr.Exception, m[2], "the bridge's exception text carries the message")
	t.Logf("failed_jobs.exception by Laravel: %q (%d lines); by the bridge: %q", first,
		strings.Count(pr.Exception, "\n")+1, gr.Exception)

	// Laravel's commands see the bridge's row.
	listed := a.Artisan("queue:failed")
	require.Contains(t, listed, goJob.UUID)
	require.Contains(t, listed, phpJob.UUID)

	requireBackOnQueue := func(q, uuid string) {
		t.Helper()
		list := a.LRange(a.Keys(q).List)
		require.Len(t, list, 1, "queue %s", q)
		var p laravelPayload
		require.NoError(t, json.Unmarshal([]byte(list[0]), &p))
		require.Equal(t, uuid, p.UUID)
		require.NotNil(t, p.Attempts)
		require.Zero(t, *p.Attempts, "attempts reset")
	}
	// queue:retry of the bridge's row.
	require.Contains(t, a.Artisan("queue:retry", goJob.UUID), goJob.UUID)
	requireBackOnQueue(goQ, goJob.UUID)
	// The bridge's Retry of Laravel's row.
	c := a.OpenConfig(cfg)
	require.NoError(t, c.Retry(ctx, phpJob.UUID))
	requireBackOnQueue(phpQ, phpJob.UUID)
	require.Empty(t, a.FailedJobs(), "both rows were forgotten by the retries")
}
