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

// Pool runs jobs on Workers long-lived PHP processes, one job per process at a time. A process is replaced
// without a stall: its replacement boots in the background while it runs its last jobs (see replaceSoon), so
// the job after the last one finds the new process ready, or nearly.
type Pool struct {
	o         Options
	failures  phpFailures
	dir       string
	runner    string
	slots     chan *slot
	retired   chan *slot      // FATAL slots, out of service
	ctx       context.Context // the boots'; cancelled by Close
	cancel    context.CancelFunc
	closeOnce sync.Once
	closed    chan struct{}
	bg        sync.WaitGroup

	mu         sync.Mutex
	sup        []supervision // by slot
	fatalSlots int
	allFatal   chan struct{}
}

// slot is one process of the pool and its replacement; whoever holds the slot owns both.
type slot struct {
	i    int // its index in Pool.sup
	p    *proc
	next *boot // the replacement, booting or booted; nil if none
}

// boot is a process starting in the background.
type boot struct {
	done chan struct{}
	p    *proc
	err  error
}

// NewPool starts o.Workers processes (in parallel) and returns once they all booted, each within its
// StartRetries (see Pool.start); the error wraps ErrFatal when one never did.
func NewPool(ctx context.Context, o Options) (*Pool, error) {
	o = o.withDefaults()
	dir, runner, err := writeRunner(o.Framework)
	if err != nil {
		return nil, err
	}
	pl := &Pool{o: o, dir: dir, runner: runner, slots: make(chan *slot, o.Workers), retired: make(chan *slot, o.Workers),
		closed: make(chan struct{}), sup: make([]supervision, o.Workers), allFatal: make(chan struct{})}
	pl.ctx, pl.cancel = context.WithCancel(context.WithoutCancel(ctx))
	errs := make([]error, o.Workers)
	all := make([]*slot, o.Workers)
	var wg sync.WaitGroup
	for i := range o.Workers {
		all[i] = &slot{i: i}
		wg.Go(func() {
			all[i].p, errs[i] = pl.start(ctx, i)
		})
	}
	wg.Wait()
	for i, s := range all {
		if errors.Is(errs[i], ErrFatal) {
			pl.retired <- s
		} else {
			pl.slots <- s
		}
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
	case <-pl.allFatal:
		return message{}, pl.fatalErr()
	case <-ctx.Done():
		return message{}, ctx.Err()
	}
	retire := false
	defer func() {
		if retire {
			pl.retired <- s
		} else {
			pl.slots <- s
		}
	}()
	select {
	case <-pl.closed:
		return message{}, ErrClosed
	default:
	}
	if s.p != nil && s.p.dead() {
		// Ended while idle (killed from outside): replaced before the job, which does not lose an attempt.
		pl.o.Logger.Warn("php runner ended while idle, replaced", "pid", s.p.pid, "status", s.p.status())
		pl.ended(s.i, s.p, "ended while idle: "+s.p.status())
		s.p = nil
	}
	if s.p == nil {
		p, err := pl.take(ctx, s)
		if errors.Is(err, ErrFatal) {
			retire = true
		}
		if err != nil {
			return message{}, err
		}
		s.p = p
	}
	if s.next == nil && pl.replaceSoon(s.p) {
		s.next = pl.boot(s.i)
	}
	pl.noteJob(s.i)
	m, err := s.p.run(ctx, job, pl.o, typ, reason)
	if err != nil {
		pl.o.Logger.Warn("php runner replaced", "pid", s.p.pid, "job", jobLabel(job), "err", err)
		var crash *CrashError
		if errors.As(err, &crash) {
			pl.ended(s.i, s.p, err.Error())
		} else {
			pl.setState(s.i, ProcExited, s.p.pid, err.Error())
		}
		s.p = nil
		if s.next == nil {
			s.next = pl.boot(s.i) // restarted at once, as supervisord does
		}
		return message{}, err
	}
	if why := s.p.due(pl.o); why != "" {
		old := s.p
		s.p = nil
		pl.o.Logger.Info("php runner recycled", "pid", old.pid, "why", why, "jobs", old.jobs, "memory", old.memory)
		pl.bg.Go(func() { old.stop(stopGrace) })
		if s.next == nil {
			s.next = pl.boot(s.i)
		}
	}
	return m, nil
}

// fatalErr is the error of a job given to a pool whose every process is FATAL.
func (pl *Pool) fatalErr() error {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	return fmt.Errorf("%w: %s", ErrFatal, pl.sup[0].LastError)
}

// take returns the slot's replacement once it booted, or starts a process now if there is none (or it did not
// boot, or ended since).
func (pl *Pool) take(ctx context.Context, s *slot) (*proc, error) {
	if b := s.next; b != nil {
		select {
		case <-b.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		s.next = nil
		switch {
		case errors.Is(b.err, ErrFatal):
			return nil, b.err
		case b.err != nil:
			pl.o.Logger.Warn("php runner's replacement did not boot, starting another", "err", b.err)
		case b.p.dead():
			pl.o.Logger.Warn("php runner ended while idle, replaced", "pid", b.p.pid, "status", b.p.status())
			pl.ended(s.i, b.p, "ended while idle: "+b.p.status())
		default:
			return b.p, nil
		}
	}
	// The boot is bounded by StartTimeout, not by the job's own deadline.
	return pl.start(pl.ctx, s.i)
}

// boot starts slot i's process in the background.
func (pl *Pool) boot(i int) *boot {
	b := &boot{done: make(chan struct{})}
	pl.bg.Go(func() {
		defer close(b.done)
		b.p, b.err = pl.start(pl.ctx, i)
	})
	return b
}

// replaceSoon says whether p will be recycled soon enough that its replacement should boot now, to be ready
// when p is retired: p is within its last MaxJobs jobs that one boot (as long as p's) lasts at p's pace so far,
// twice over, or on its very last one; within two boots of its TTL; past 90% of the memory ceiling.
func (pl *Pool) replaceSoon(p *proc) bool {
	o := pl.o
	if o.MaxJobs > 0 {
		left := o.MaxJobs - p.jobs // this job included
		if left <= 1 {
			return true
		}
		if p.jobs > 0 {
			pace := time.Since(p.firstJob) / time.Duration(p.jobs)
			if time.Duration(left-1)*pace <= 2*p.boot {
				return true
			}
		}
	}
	if o.TTL > 0 && time.Since(p.started)+2*p.boot >= o.TTL {
		return true
	}
	return o.Memory > 0 && p.memory >= o.Memory/10*9
}

// Close waits for running jobs, stops every process and removes the runner file.
func (pl *Pool) Close() error {
	pl.closeOnce.Do(func() {
		close(pl.closed)
		all := make([]*slot, 0, pl.o.Workers)
		for range pl.o.Workers {
			select {
			case s := <-pl.slots:
				all = append(all, s)
			case <-pl.retired:
			}
		}
		pl.cancel() // boots still under way end
		for _, s := range all {
			if p := s.p; p != nil {
				pl.bg.Go(func() { p.stop(stopGrace) })
			}
			if b := s.next; b != nil {
				pl.bg.Go(func() {
					<-b.done
					if b.p != nil {
						b.p.stop(stopGrace)
					}
				})
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
