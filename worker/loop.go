package worker

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/queuebridge/bridge/queue"
)

// maxErrWait is the longest a daemon waits after failed reserves before it tries again.
const maxErrWait = 30 * time.Second

// maxHeld bounds how many jobs without a handler one round holds while it looks behind them.
const maxHeld = 1000

// loop reserves and starts jobs until the worker must stop; it returns why.
func (w *Worker) loop() (string, error) {
	var lastMemoryCheck time.Time
	for {
		if w.stopCtx.Err() != nil {
			return "signal", nil
		}
		// Reading the heap stops the world briefly: once a second is enough.
		if now := time.Now(); now.Sub(lastMemoryCheck) >= time.Second {
			lastMemoryCheck = now
			if w.memoryExceeded() {
				return "memory", ErrMemoryExceeded
			}
		}
		free := w.acquire()
		if free == 0 {
			continue // stopping
		}
		// Whether anything ran before this round: a queue is empty only when a round that began after the
		// last job settled found nothing, or a job that released itself meanwhile would be missed.
		idle := w.runningCount() == 0
		res := w.round(free)
		w.releaseSlots(free - res.started)
		switch {
		case res.restart:
			return "restart", nil
		case res.err != nil && (w.cfg.Once || w.cfg.StopWhenEmpty):
			// Jobs may be waiting: this run did not end because the queues are empty.
			return "error", fmt.Errorf("worker: %w", res.err)
		case res.err != nil:
			w.errWait = min(max(2*w.errWait, w.minErrWait), maxErrWait)
			w.log.Error("reserve failed", "err", res.err, "retry_in", w.errWait)
			w.sleep(w.errWait)
			continue
		}
		w.errWait = 0
		ran := res.started+res.settled > 0
		switch {
		case w.cfg.Once && ran:
			return "once", nil
		case ran:
		case w.cfg.Once:
			return "empty", nil
		case w.cfg.StopWhenEmpty && !idle:
			w.waitFinished() // a job still running may release work back onto the queue
		case w.cfg.StopWhenEmpty && res.skippedResting:
			w.fullScan = true // empty only once every queue was looked at
		case w.cfg.StopWhenEmpty:
			return "empty", nil
		default:
			w.idle()
		}
	}
}

// roundResult is what one round of reserving did.
type roundResult struct {
	started        int   // jobs whose handlers now run, one slot each
	settled        int   // jobs failed without running (poison, out of tries)
	restart        bool  // the restart signal came: what was reserved went back
	skippedResting bool  // a queue holding only jobs for PHP was left out
	err            error // a reserve failed; what was reserved before it was started
}

// round reserves up to free jobs from the queues in priority order and starts them: a lower queue only
// when the ones before it came up short. Jobs reserved ahead by the round before come first: they were
// the head of the queue that round was draining. Jobs no handler here runs are held until the round ends,
// so the round sees the jobs behind them (a jobs table gives a handed-back row out first again), then
// handed back untouched. A round that filled its slots from a batch that came back full and started
// whole reserves the next batch ahead (see ahead).
func (w *Worker) round(free int) (res roundResult) {
	// Like PHP's workers, look for the restart signal before taking more work, so a restart stops the
	// worker after the jobs it is running. The signal is read while the round's first reservation is on its
	// way, so it costs no round trip; a round that only starts jobs reserved ahead reads it with them.
	var restarted func() bool
	checked := false
	var held []heldJob
	// Held jobs go back even when the jobs were cancelled meanwhile: a reservation left behind would wait
	// out its lifetime.
	ctx := w.settleCtx
	defer func() {
		if restarted != nil && !checked {
			res.restart = restarted()
		}
		for _, h := range held {
			w.handBack(ctx, h.res, h.why)
		}
	}()
	fullScan := w.fullScan
	w.fullScan = false
	done := func() bool {
		return res.started == free || w.cfg.Once && res.settled > 0 || len(held) >= maxHeld || w.stopCtx.Err() != nil
	}
	// startAll starts a batch of q; it reports whether every job of it runs now.
	var ran, heldHere int
	var lastExpires time.Time // when the round's last batch's reservations lapse
	startAll := func(q string, rs []decoded) bool {
		whole := true
		if len(rs) > 0 {
			lastExpires = rs[len(rs)-1].res.Expires
		}
		for _, r := range rs {
			switch out, name, why := w.start(r); out {
			case startRunning:
				res.started++
				ran++
			case startSettled:
				res.settled++
				ran++
				whole = false
			case startUnserved:
				held = append(held, heldJob{r.res, why})
				heldHere++
				whole = false
				w.unserved.handedBack(q, name, why)
			}
		}
		return whole
	}
	noteQueue := func(q string) {
		switch {
		case ran > 0:
			w.unserved.served(q)
		case heldHere > 0:
			w.unserved.offeredNothing(q)
		}
		ran, heldHere = 0, 0
	}
	// aheadFrom is the queue to reserve the next batch ahead from: set while the round's last batch came
	// back full and started whole.
	aheadFrom := ""
	if q := w.ahead.queue; w.ahead.inFlight() || w.ahead.size() > 0 {
		// Jobs reserved ahead are taken now, as far as the restart signal goes: they start only after a
		// reading of it begun in this round, which the next batch on its way does not wait for.
		restarted, checked = w.restart.begin(w.stopCtx), true
		if restarted() {
			w.handBackAhead("restart signal")
			res.restart = true
			return res
		}
		whole := true
		if !w.ahead.landed() {
			whole = startAll(q, w.ahead.take(free-res.started))
		}
		if !done() {
			full, err := w.ahead.wait()
			if err != nil {
				res.err = err
				return res
			}
			whole = startAll(q, w.ahead.take(free-res.started)) && whole
			if w.ahead.size() == 0 && !full {
				whole = false // the queue has no more ready jobs: the scan below looks again
			}
		}
		if whole && q == w.cfg.Queues[0] {
			// Only from the first queue does the next batch ahead leave without a look at the queues
			// before it: a lower queue's chain would keep a job pushed onto a higher one waiting until
			// the lower one is empty.
			aheadFrom = q
		}
		noteQueue(q)
	}
	for _, q := range w.cfg.Queues {
		if done() {
			break
		}
		if w.paused(q) {
			continue
		}
		if w.unserved.resting(q) && !fullScan {
			res.skippedResting = true
			continue
		}
		for !done() {
			n := min(free-res.started, w.cfg.Batch)
			if restarted == nil && !checked {
				restarted = w.restart.begin(w.stopCtx)
			}
			rs, err := w.broker.Reserve(w.workCtx, q, n)
			if !checked {
				checked = true
				if res.restart = restarted(); res.restart {
					if len(rs) > 0 {
						w.log.Info("restart signal: handing back the jobs just reserved", "queue", q, "jobs", len(rs))
					}
					for _, r := range rs {
						w.handBack(ctx, r, "restart signal")
					}
					return res
				}
			}
			if err != nil {
				res.err = err
				return res
			}
			whole := startAll(q, w.decode(rs))
			aheadFrom = ""
			if len(rs) < n {
				break // the queue has no more ready jobs
			}
			if whole {
				aheadFrom = q
			}
		}
		noteQueue(q)
	}
	if aheadFrom != "" && !w.cfg.Once && w.stopCtx.Err() == nil && w.ahead.canLaunch(aheadFrom) && w.leaseFresh(lastExpires) &&
		w.shortJobs() {
		// Half the cap held or on its way is enough to start on while the next batch comes; a reservation
		// for a few jobs costs as much as one for many.
		asking := w.ahead.asking()
		if most, have := w.aheadCap(), asking+w.ahead.size(); have <= most/2 {
			w.ahead.launch(w, aheadFrom, min(w.cfg.Batch, most-have))
		}
	}
	return res
}

// leaseFresh reports whether reservations that lapse at expires are safe from the next reserve: that one
// recovers lapsed reservations, and a batch reserved in the last instant of a second with a small expire
// (the stores keep whole seconds) may lapse before its runners extend it. Such a batch gets nothing
// reserved ahead behind it; its runners extend it first.
func (w *Worker) leaseFresh(expires time.Time) bool {
	return w.lease == nil || expires.Sub(w.cfg.Clock()) >= w.cfg.Expire*3/4
}

// aheadMaxRun is the longest mean run time of a worker's jobs at which it reserves ahead: for longer jobs
// the round trip it saves is a small part of their time, and a job it held would wait that long for a slot
// while other workers (PHP's among them) could have run it.
const aheadMaxRun = 10 * time.Millisecond

// aheadMaxWait bounds how long, at the recent mean run time, the jobs reserved ahead wait for slots: so
// few slots can still hold a whole batch of very short jobs, whose reservations never come near lapsing.
const aheadMaxWait = 100 * time.Millisecond

// aheadCap is how many jobs may be held reserved ahead: as many as the slots start within aheadMaxWait at
// the recent mean run time, or Concurrency if that is more, but never more than two batches: one held, and
// the next on its way while it is started.
func (w *Worker) aheadCap() int {
	c := int64(w.cfg.Concurrency)
	startable := c * int64(aheadMaxWait) / max(w.meanRun.Load(), 1)
	return int(min(2*int64(w.cfg.Batch), max(startable, c)))
}

// shortJobs reports whether the worker's recent jobs ran shorter than aheadMaxRun on average; false until
// one ran.
func (w *Worker) shortJobs() bool {
	mean := w.meanRun.Load()
	return mean > 0 && mean < int64(aheadMaxRun)
}

// noteRun adds a run time to the mean of recent ones (weight 1/8: a moving average, not an exact one;
// concurrent runners may lose an update).
func (w *Worker) noteRun(took time.Duration) {
	d := max(int64(took), 1)
	if old := w.meanRun.Load(); old > 0 {
		d = old + (d-old)/8
	}
	w.meanRun.Store(d)
}

// handBackAhead hands back, untouched, the jobs reserved ahead that never started.
func (w *Worker) handBackAhead(why string) {
	if n := w.ahead.handBack(w.settleCtx, w, why); n > 0 {
		w.log.Info("jobs reserved ahead handed back untouched", "why", why, "jobs", n)
	}
}

// heldJob is a reservation no handler here runs, waiting for the end of its round to be handed back.
type heldJob struct {
	res queue.Reservation
	why string
}

func (w *Worker) paused(q string) bool {
	return w.cfg.PausedFunc != nil && w.cfg.PausedFunc(w.stopCtx, q)
}

// acquire blocks for one free slot, then takes every other free one up to Batch (1 with Once); it returns
// how many it holds, 0 when the worker must stop.
func (w *Worker) acquire() int {
	select {
	case w.slots <- struct{}{}:
	case <-w.stopCtx.Done():
		return 0
	}
	n, most := 1, w.cfg.Batch
	if w.cfg.Once {
		most = 1
	}
	for n < most {
		select {
		case w.slots <- struct{}{}:
			n++
		default:
			return n
		}
	}
	return n
}

func (w *Worker) releaseSlots(n int) {
	for range n {
		<-w.slots
	}
}

// Waiter is a Broker that can block until a queue may have a ready job (true) or d passed (false); it may
// return before d with neither. An idle worker waits on it instead of sleeping, so a pushed job starts at
// once, and does its next round (due delayed jobs, the restart signal) after Sleep as a sleeping one would.
type Waiter interface {
	WaitReady(ctx context.Context, queues []string, d time.Duration) (bool, error)
}

// idle waits Sleep, or less when the broker says a job may be ready.
func (w *Worker) idle() {
	waiter, ok := w.broker.(Waiter)
	if !ok {
		w.sleep(w.cfg.Sleep)
		return
	}
	deadline := time.Now().Add(w.cfg.Sleep)
	for w.stopCtx.Err() == nil {
		left := time.Until(deadline)
		if left <= 0 {
			return
		}
		queues := make([]string, 0, len(w.cfg.Queues))
		for _, q := range w.cfg.Queues {
			// A resting queue holds only jobs for PHP: its list is never empty, so a wait on it would not block.
			if !w.paused(q) && !w.unserved.resting(q) {
				queues = append(queues, q)
			}
		}
		if len(queues) == 0 {
			w.sleep(left)
			return
		}
		ready, err := waiter.WaitReady(w.stopCtx, queues, left)
		switch {
		case ready:
			return
		case err != nil && w.stopCtx.Err() == nil:
			w.log.Warn("wait for jobs: polling instead", "err", err, "retry_in", left)
			w.sleep(left)
			return
		}
	}
}

// waitFinished waits until a run settles or the worker must stop.
func (w *Worker) waitFinished() {
	select {
	case <-w.finished:
	case <-w.stopCtx.Done():
	}
}

func (w *Worker) memoryExceeded() bool {
	if w.cfg.Memory < 0 {
		return false
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc) > w.cfg.Memory
}
