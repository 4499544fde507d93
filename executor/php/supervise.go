package php

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ProcState is where a pool process is in its life, in supervisord's words.
type ProcState string

// The states of a pool process.
const (
	ProcStarting ProcState = "STARTING" // booting, or up for less than StartUptime
	ProcRunning  ProcState = "RUNNING"  // up for StartUptime or more
	ProcBackoff  ProcState = "BACKOFF"  // its last start failed; waiting to try again
	ProcExited   ProcState = "EXITED"   // ended after it counted as started; the next job restarts it
	ProcFatal    ProcState = "FATAL"    // StartRetries serial start failures: given up
)

// ProcessState is one process of a pool, as Pool.Processes reports it.
type ProcessState struct {
	State     ProcState `json:"state"`
	PID       int       `json:"pid,omitempty"`
	Jobs      int       `json:"jobs"` // run by this process
	Since     time.Time `json:"since"`
	LastError string    `json:"last_error,omitempty"`
}

// backoffUnit is the wait after a first start failure; the nth waits n times as long, as supervisord's BACKOFF.
const backoffUnit = time.Second

// ErrFatal is wrapped by the error of a pool whose processes failed to start StartRetries times in a row.
var ErrFatal = errors.New("php: runner FATAL")

// supervision is the start bookkeeping of one slot: its state and its serial start failures (pl.mu).
type supervision struct {
	ProcessState
	failures int
	retired  bool // FATAL, out of service
}

// setState records slot i's state (and its process's pid, 0 for none).
func (pl *Pool) setState(i int, st ProcState, pid int, lastErr string) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	s := &pl.sup[i]
	if s.PID != pid {
		s.Jobs = 0
	}
	if s.State != st || s.PID != pid {
		s.State, s.Since, s.PID = st, time.Now(), pid
	}
	if lastErr != "" {
		s.LastError = lastErr
	}
}

// start starts slot i's process as supervisord starts a program: after a start failure (a boot that failed,
// or a process that ended within StartUptime of its spawn) it waits 1 s, 2 s, 3 s… (BACKOFF) and
// tries again, and it gives up (FATAL) after StartRetries serial failures. A process that stays up StartUptime
// counts as started (RUNNING) and clears the count.
func (pl *Pool) start(ctx context.Context, i int) (*proc, error) {
	for {
		pl.mu.Lock()
		n := pl.sup[i].failures
		pl.mu.Unlock()
		if n > pl.o.StartRetries {
			pl.setState(i, ProcFatal, 0, "")
			pl.fatal(i)
			pl.mu.Lock()
			last := pl.sup[i].LastError
			pl.mu.Unlock()
			return nil, fmt.Errorf("%w: %d start failures in a row, the last: %s", ErrFatal, n, last)
		}
		if n > 0 {
			pl.setState(i, ProcBackoff, 0, "")
			select {
			case <-ctx.Done():
				return nil, fmt.Errorf("php: start runner: %w", ctx.Err())
			case <-time.After(time.Duration(n) * backoffUnit):
			}
		}
		pl.setState(i, ProcStarting, 0, "")
		p, err := startProc(ctx, pl.o, pl.runner)
		if err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			pl.startFailed(i, err.Error())
			pl.o.Logger.Warn("php runner did not start", "err", err, "failures", n+1, "startretries", pl.o.StartRetries)
			continue
		}
		pl.setState(i, ProcStarting, p.pid, "")
		pl.watch(i, p)
		return p, nil
	}
}

// watch makes slot i RUNNING once p has been up StartUptime since its spawn, and has the pool replace p at
// once if it ends while idle (see sweep).
func (pl *Pool) watch(i int, p *proc) {
	up := func() {
		pl.mu.Lock()
		defer pl.mu.Unlock()
		if s := &pl.sup[i]; s.PID == p.pid && s.State == ProcStarting && !p.dead() {
			s.State, s.Since, s.failures = ProcRunning, time.Now(), 0
		}
	}
	t := time.AfterFunc(max(pl.o.StartUptime-time.Since(p.started), 0), up)
	pl.bg.Go(func() {
		defer t.Stop()
		select {
		case <-p.exited:
			pl.sweep()
		case <-pl.ctx.Done():
		}
	})
}

// sweep replaces the processes of idle slots that ended (killed from outside, or crashed by themselves),
// as supervisord restarts a program that exited, instead of waiting for the next job to find them dead.
func (pl *Pool) sweep() {
	var idle []*slot
collect:
	for range cap(pl.slots) {
		select {
		case s := <-pl.slots:
			idle = append(idle, s)
		default:
			break collect
		}
	}
	for _, s := range idle {
		if s.p != nil && s.p.dead() && s.next == nil && pl.ctx.Err() == nil {
			pl.o.Logger.Warn("php runner ended while idle, replaced", "pid", s.p.pid, "status", s.p.status())
			pl.ended(s.i, s.p, "ended while idle: "+s.p.status())
			s.p = nil
			s.next = pl.boot(s.i)
		}
		pl.slots <- s
	}
}

// startFailed counts a start failure of slot i.
func (pl *Pool) startFailed(i int, why string) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	s := &pl.sup[i]
	s.failures++
	s.LastError = why
}

// ended records that slot i's process p ended by itself: a start failure when within StartUptime of its spawn.
func (pl *Pool) ended(i int, p *proc, why string) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	s := &pl.sup[i]
	if s.PID != p.pid {
		return
	}
	s.LastError = why
	if s.State == ProcStarting {
		s.failures++
		s.State, s.Since = ProcBackoff, time.Now()
		return
	}
	s.State, s.Since = ProcExited, time.Now()
}

// noteJob counts a job run by slot i's process.
func (pl *Pool) noteJob(i int) {
	pl.mu.Lock()
	pl.sup[i].Jobs++
	pl.mu.Unlock()
}

// fatal takes slot i out of service; once every slot is FATAL, Fatal's channel closes.
func (pl *Pool) fatal(i int) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	if pl.sup[i].retired {
		return
	}
	pl.sup[i].retired = true
	if pl.fatalSlots++; pl.fatalSlots == pl.o.Workers {
		close(pl.allFatal)
	}
}

// Processes is the state of every process of the pool, in slot order.
func (pl *Pool) Processes() []ProcessState {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	out := make([]ProcessState, len(pl.sup))
	for i, s := range pl.sup {
		out[i] = s.ProcessState
	}
	return out
}

// Fatal is closed once every process of the pool is FATAL: the pool then fails every job with ErrFatal.
func (pl *Pool) Fatal() <-chan struct{} { return pl.allFatal }
