package bridge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/queuebridge/bridge/worker"
)

// HandleShadow registers h, a handler without side effects, for a job name, as Handle does, and lets it
// shadow PHP: a job of this class routed to PHP runs in the PHP executor, whose outcome is applied, and h runs
// on a copy of it, with a context IsShadow reports, touching no store. The two outcomes are compared and
// `bridge report` counts the mismatches and keeps the last ones. With no route for the class, its jobs go
// to PHP (with h in shadow) until a route sends a share to Go. Shadow runs need a PHP executor (the jobs
// PHP's own workers take are never seen here) and a report store (the app's Redis, or a jobs table's
// database), where the comparisons are kept.
func (b *Bridge) HandleShadow(name string, h Handler) {
	b.mux.Handle(name, h)
	b.routing.mu.Lock()
	b.routing.shadow[routeClass(name)] = true
	b.routing.mu.Unlock()
}

func (r *routing) isShadow(name string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.shadow[routeClass(name)]
}

type shadowKey struct{}

type resultKey struct{}

// resultSlot holds what a compared run's handler left with SetShadowResult.
type resultSlot struct {
	mu sync.Mutex
	v  any
}

func (s *resultSlot) json() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.v == nil {
		return ""
	}
	b, err := json.Marshal(s.v)
	if err != nil {
		return fmt.Sprintf("(unencodable %T: %v)", s.v, err)
	}
	return string(b)
}

// IsShadow reports whether ctx is a shadow run's: the handler's outcome is compared with PHP's and thrown
// away, so it must leave nothing behind.
func IsShadow(ctx context.Context) bool {
	v, _ := ctx.Value(shadowKey{}).(bool)
	return v
}

// SetShadowResult records v (anything encoding/json encodes) as the result of the run ctx belongs to, to be
// compared between a shadow run in Go and its job's run in PHP (a Go handler standing in for the PHP
// side sets it the same way). Outside a compared run it does nothing.
func SetShadowResult(ctx context.Context, v any) {
	if s, ok := ctx.Value(resultKey{}).(*resultSlot); ok {
		s.mu.Lock()
		s.v = v
		s.mu.Unlock()
	}
}

// shadowRunner runs shadow copies of jobs for one worker, with its tries and backoff.
type shadowRunner struct {
	b       *Bridge
	tries   int
	backoff []time.Duration
}

func newShadowRunner(b *Bridge, wc *WorkerConfig) *shadowRunner {
	backoff := wc.Backoff
	if len(backoff) == 0 {
		backoff = []time.Duration{wc.Delay}
	}
	return &shadowRunner{b: b, tries: wc.Tries, backoff: backoff}
}

// run runs h on a copy of job as RunJob would, through the dialect's rules, but dispatching no events
// (the PHP run's are the job's) and running no Failed hook: nothing it does reaches a store.
func (s *shadowRunner) run(ctx context.Context, h Handler, job *Job) shadowResult {
	now := s.b.cfg.Clock()
	rules := s.b.be.format.rules(nil, "")
	res := job.Reservation()
	res.Raw, res.Member = bytes.Clone(res.Raw), nil
	cp, err := rules.NewJob(res)
	if err != nil {
		return shadowResult{Outcome: "failed", Error: "invalid payload: " + err.Error()}
	}
	if reason := rules.CheckBeforeRun(cp, s.tries, now); reason != nil {
		return shadowResult{Outcome: "failed", Error: errText(reason)}
	}
	slot := &resultSlot{}
	ctx = context.WithValue(context.WithValue(ctx, shadowKey{}, true), resultKey{}, slot)
	err = callShadow(ctx, h, cp)
	out := shadowResult{}
	outcome, _, failErr := cp.Outcome()
	switch {
	case outcome == OutcomeFailed:
		out.Outcome, out.Error = "failed", errText(failErr)
	case outcome == OutcomeReleased:
		out.Outcome = "released"
	case outcome == OutcomeKept && err == nil:
		out.Outcome = "kept"
	case outcome == OutcomeDeleted || err == nil:
		out.Outcome = "deleted"
	default:
		if reason := rules.FailAfterError(ctx, cp, err, s.tries, now); reason != nil {
			out.Outcome, out.Error = "failed", errText(reason)
		} else {
			out.Outcome = "released"
		}
	}
	if out.Error == "" && err != nil {
		out.Error = errText(err)
	}
	out.Result = slot.json()
	return out
}

// shadowResult is how a shadow run ended, in the terms both sides are compared in.
type shadowResult struct{ Outcome, Error, Result string }

// errText is an error as the two sides are compared: a PHP exception's own message (not (string)$e, whose
// file, line and stack Go cannot match), else Error().
func errText(err error) string {
	if err == nil {
		return ""
	}
	var thrown interface{ PHPMessage() string }
	if errors.As(err, &thrown) {
		return thrown.PHPMessage()
	}
	return err.Error()
}

// callShadow runs a shadow handler, turning a panic into its error as the worker does.
func callShadow(ctx context.Context, h Handler, job *Job) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &worker.PanicError{Job: job.Name(), Value: p, Stack: debug.Stack()}
		}
	}()
	return h.ProcessJob(ctx, job)
}
