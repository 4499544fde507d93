// Package events carries what happens to jobs to the listeners that care: Go funcs today, PHP hooks and
// webhooks later. The names follow think-queue 3.x and Laravel (JobProcessing, JobProcessed,
// JobExceptionOccurred, JobFailed, WorkerStopping) so a PHP developer finds the event they already use.
package events

import (
	"context"
	"sync"
	"time"

	"github.com/queuebridge/bridge/queue"
)

// JobProcessing is dispatched before a job's handler runs.
type JobProcessing struct{ Job *queue.Job }

// JobProcessed is dispatched after a job's handler returned without an error.
type JobProcessed struct{ Job *queue.Job }

// JobExceptionOccurred is dispatched after a job's handler returned an error (or panicked, or timed out).
type JobExceptionOccurred struct {
	Job *queue.Job
	Err error
}

// JobReleased is dispatched after a job went back to its queue.
type JobReleased struct {
	Job   *queue.Job
	Delay time.Duration
}

// JobFailed is dispatched once, after a job left its queue for the failed store. Job is nil when the payload
// could not be decoded at all; Reservation then holds its bytes.
type JobFailed struct {
	Job         *queue.Job
	Reservation queue.Reservation
	Err         error
}

// WorkerStopping is dispatched when a worker stops; Reason says why ("signal", "restart", "memory", "empty", "once").
type WorkerStopping struct{ Reason string }

// Listener receives every event; it switches on the event's type. Listeners run on the job's goroutine, so
// a slow listener slows that job's slot, never the others.
type Listener func(ctx context.Context, event any)

// Dispatcher fans events out to listeners. The zero value is ready to use.
type Dispatcher struct {
	mu        sync.RWMutex
	listeners []Listener
}

// Listen adds l to the listeners.
func (d *Dispatcher) Listen(l Listener) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.listeners = append(d.listeners, l)
}

// Dispatch calls every listener with event, in the order they were added.
func (d *Dispatcher) Dispatch(ctx context.Context, event any) {
	if d == nil {
		return
	}
	d.mu.RLock()
	ls := d.listeners
	d.mu.RUnlock()
	for _, l := range ls {
		l(ctx, event)
	}
}
