package php

import (
	"context"
	"errors"

	"github.com/queuebridge/bridge/queue"
)

// Failed makes the pool a queue.FailedHandler: once the bridge has failed a job that runs in PHP (its tries
// used up, or out of tries before it ran), the app's own failure hooks run — on ThinkPHP the job's failed()
// and the queue_failed listeners or the JobFailed event (FailJob). Laravel's runner runs failed() itself when
// PHP fails the job, so there is nothing to do for it here.
func (pl *Pool) Failed(ctx context.Context, job *queue.Job, err error) {
	logFailed(pl.o, job, pl.FailJob(ctx, job, err))
}

// Failed is Pool.Failed in a fresh process.
func (pj *PerJob) Failed(ctx context.Context, job *queue.Job, err error) {
	logFailed(pj.o, job, pj.FailJob(ctx, job, err))
}

func logFailed(o Options, job *queue.Job, err error) {
	if err != nil && !errors.Is(err, ErrFailUnsupported) {
		o.Logger.Warn("php failure hooks", "job", jobLabel(job), "err", err)
	}
}
