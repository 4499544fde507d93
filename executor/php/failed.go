package php

import (
	"context"
	"sync"

	"github.com/queuebridge/bridge/queue"
)

// Failed makes the executor a queue.FailedHandler: once the bridge has failed a job that runs in PHP (out of
// tries, past its timeout with failOnTimeout, out of tries before it ran), the app's own failure hooks run in
// PHP (FailJob): Laravel's failed() and JobFailed; ThinkPHP's failed() and queue_failed / JobFailed. A job
// that PHP failed itself already ran them, so it is not failed twice.
func (pl *Pool) Failed(ctx context.Context, job *queue.Job, err error) {
	if pl.failures.seen(job) {
		return
	}
	logFailed(pl.o, job, pl.FailJob(ctx, job, err))
}

// Failed is Pool.Failed in a fresh process.
func (pj *PerJob) Failed(ctx context.Context, job *queue.Job, err error) {
	if pj.failures.seen(job) {
		return
	}
	logFailed(pj.o, job, pj.FailJob(ctx, job, err))
}

func logFailed(o Options, job *queue.Job, err error) {
	if err != nil {
		o.Logger.Warn("php failure hooks", "job", jobLabel(job), "err", err)
	}
}

// phpFailures remembers the jobs PHP failed itself (and so ran their hooks) until the bridge reports them
// failed.
type phpFailures struct{ jobs sync.Map }

func (f *phpFailures) note(job *queue.Job, m message) {
	if m.Status == "failed" {
		f.jobs.Store(job, struct{}{})
	}
}

func (f *phpFailures) seen(job *queue.Job) bool {
	_, ok := f.jobs.LoadAndDelete(job)
	return ok
}
