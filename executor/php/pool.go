package php

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/queuebridge/bridge/queue"
)

// ErrClosed is returned for jobs given to a closed executor.
var ErrClosed = errors.New("php: executor closed")

// stopGrace is how long a recycled or closed runner gets to end by itself before SIGKILL.
const stopGrace = 5 * time.Second

// Pool runs jobs on Workers long-lived PHP processes, one job per process at a time.
type Pool struct {
	o         Options
	failures  phpFailures
	dir       string
	runner    string
	slots     chan *slot
	closeOnce sync.Once
	closed    chan struct{}
	bg        sync.WaitGroup
}

type slot struct{ p *proc }

// NewPool starts o.Workers processes (in parallel) and returns once they all booted.
func NewPool(ctx context.Context, o Options) (*Pool, error) {
	o = o.withDefaults()
	dir, runner, err := writeRunner(o.Framework)
	if err != nil {
		return nil, err
	}
	pl := &Pool{o: o, dir: dir, runner: runner, slots: make(chan *slot, o.Workers), closed: make(chan struct{})}
	errs := make([]error, o.Workers)
	all := make([]*slot, o.Workers)
	var wg sync.WaitGroup
	for i := range o.Workers {
		all[i] = &slot{}
		wg.Go(func() {
			all[i].p, errs[i] = startProc(ctx, o, runner)
		})
	}
	wg.Wait()
	for _, s := range all {
		pl.slots <- s
	}
	if err := errors.Join(errs...); err != nil {
		_ = pl.Close()
		return nil, err
	}
	return pl, nil
}

// ProcessJob runs job in one of the pool's processes and records what it decided on job. A process that
// crashed (exit(), a fatal error) or was killed because ctx ended is replaced; the job then returns an error
// (a *CrashError, or one wrapping ErrTimeout and ctx.Err()), which counts as an attempt.
func (pl *Pool) ProcessJob(ctx context.Context, job *queue.Job) error {
	m, err := pl.do(ctx, job, "job", nil)
	if err != nil {
		return err
	}
	pl.failures.note(job, m)
	return apply(job, m)
}

// FailJob (ThinkPHP runners) runs job's failure hooks in one of the pool's processes, as think-queue's worker
// does when it gives a job up: the job's failed($data) (think-queue 1.x/2.x) or failed($data, $e) (3.x, $e
// built from reason), then the queue_failed hook listeners (1.x/2.x) or the JobFailed event (3.x). It records
// job as failed with reason and returns what a hook threw (an *Exception), or a process error as ProcessJob.
func (pl *Pool) FailJob(ctx context.Context, job *queue.Job, reason error) error {
	m, err := pl.do(ctx, job, "failed", reason)
	if err != nil {
		return err
	}
	return applyFailed(job, m, reason)
}

func (pl *Pool) do(ctx context.Context, job *queue.Job, typ string, reason error) (message, error) {
	var s *slot
	select {
	case s = <-pl.slots:
	case <-pl.closed:
		return message{}, ErrClosed
	case <-ctx.Done():
		return message{}, ctx.Err()
	}
	defer func() { pl.slots <- s }()
	select {
	case <-pl.closed:
		return message{}, ErrClosed
	default:
	}
	if s.p != nil && s.p.dead() {
		// Ended while idle (killed from outside): replaced before the job, which does not lose an attempt.
		pl.o.Logger.Warn("php runner ended while idle, replaced", "pid", s.p.pid, "status", s.p.status())
		s.p = nil
	}
	if s.p == nil {
		p, err := pl.start(ctx)
		if err != nil {
			return message{}, err
		}
		s.p = p
	}
	m, err := s.p.run(ctx, job, pl.o, typ, reason)
	if err != nil {
		pl.o.Logger.Warn("php runner replaced", "pid", s.p.pid, "job", jobLabel(job), "err", err)
		s.p = nil
		return message{}, err
	}
	if why := s.p.due(pl.o); why != "" {
		old := s.p
		s.p = nil
		pl.o.Logger.Info("php runner recycled", "pid", old.pid, "why", why, "jobs", old.jobs, "memory", old.memory)
		pl.bg.Go(func() { old.stop(stopGrace) })
	}
	return m, nil
}

func (pl *Pool) start(ctx context.Context) (*proc, error) {
	// The boot is bounded by StartTimeout, not by the job's own deadline.
	return startProc(context.WithoutCancel(ctx), pl.o, pl.runner)
}

// Close waits for running jobs, stops every process and removes the runner file.
func (pl *Pool) Close() error {
	pl.closeOnce.Do(func() {
		close(pl.closed)
		for range pl.o.Workers {
			s := <-pl.slots
			if s.p != nil {
				pl.bg.Go(func() { s.p.stop(stopGrace) })
			}
		}
		pl.bg.Wait()
		_ = os.RemoveAll(pl.dir)
	})
	return nil
}

// PerJob runs every job in a fresh PHP process, like queue:listen; at most Workers at once.
type PerJob struct {
	o         Options
	failures  phpFailures
	dir       string
	runner    string
	sem       chan struct{}
	closeOnce sync.Once
	closed    chan struct{}
	running   sync.WaitGroup
	mu        sync.Mutex
}

// NewPerJob returns a PerJob executor; it starts no process until a job comes.
func NewPerJob(o Options) (*PerJob, error) {
	o = o.withDefaults()
	dir, runner, err := writeRunner(o.Framework)
	if err != nil {
		return nil, err
	}
	return &PerJob{o: o, dir: dir, runner: runner, sem: make(chan struct{}, o.Workers), closed: make(chan struct{})}, nil
}

// ProcessJob starts a process, runs job in it and stops it. Errors are those of Pool.ProcessJob.
func (pj *PerJob) ProcessJob(ctx context.Context, job *queue.Job) error {
	m, err := pj.do(ctx, job, "job", nil)
	if err != nil {
		return err
	}
	pj.failures.note(job, m)
	return apply(job, m)
}

// FailJob is Pool.FailJob in a fresh process.
func (pj *PerJob) FailJob(ctx context.Context, job *queue.Job, reason error) error {
	m, err := pj.do(ctx, job, "failed", reason)
	if err != nil {
		return err
	}
	return applyFailed(job, m, reason)
}

func (pj *PerJob) do(ctx context.Context, job *queue.Job, typ string, reason error) (message, error) {
	pj.mu.Lock()
	select {
	case <-pj.closed:
		pj.mu.Unlock()
		return message{}, ErrClosed
	default:
	}
	pj.running.Add(1)
	pj.mu.Unlock()
	defer pj.running.Done()
	select {
	case pj.sem <- struct{}{}:
	case <-ctx.Done():
		return message{}, ctx.Err()
	}
	defer func() { <-pj.sem }()
	// The boot counts against the job's deadline, as queue:listen's child process does.
	p, err := startProc(ctx, pj.o, pj.runner)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return message{}, fmt.Errorf("%w: %w", ErrTimeout, err)
		}
		return message{}, err
	}
	m, err := p.run(ctx, job, pj.o, typ, reason)
	if err != nil {
		return message{}, err
	}
	p.stop(stopGrace)
	return m, nil
}

// Close waits for running jobs and removes the runner file.
func (pj *PerJob) Close() error {
	pj.closeOnce.Do(func() {
		pj.mu.Lock()
		close(pj.closed)
		pj.mu.Unlock()
		pj.running.Wait()
		_ = os.RemoveAll(pj.dir)
	})
	return nil
}
