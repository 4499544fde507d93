package worker

import (
	"context"
	"log/slog"
	"time"
)

// completer acknowledges finished jobs in batches: one ZREM for the jobs that finished within ackWait of the
// first one (or ackBatch of them), instead of one round trip per job. A stop flushes what is queued before
// the worker returns.
type completer struct {
	broker Broker
	log    *slog.Logger
	acks   chan ack
}

// ackWait is how long an acknowledgement waits for others to share its round trip: short against any
// reservation's lifetime, long against a no-op job.
const ackWait = 2 * time.Millisecond

// ackBatch is the most acknowledgements one round trip carries.
const ackBatch = 512

type ack struct {
	queue  string
	member []byte
}

func newCompleter(b Broker, log *slog.Logger) *completer {
	return &completer{broker: b, log: log, acks: make(chan ack, 1024)}
}

// delete queues one acknowledgement.
func (c *completer) delete(queue string, member []byte) { c.acks <- ack{queue, member} }

// close lets run flush what is queued and return.
func (c *completer) close() { close(c.acks) }

// run acknowledges until close. ctx must outlive the stop signal: an ack after a stop still has to land.
func (c *completer) run(ctx context.Context) {
	byQueue := make(map[string][][]byte)
	wait := time.NewTimer(ackWait)
	wait.Stop()
	open := true
	for open {
		first, ok := <-c.acks
		if !ok {
			return
		}
		byQueue[first.queue] = append(byQueue[first.queue], first.member)
		wait.Reset(ackWait)
	gather:
		for n := 1; n < ackBatch; n++ {
			select {
			case a, ok := <-c.acks:
				if !ok {
					open = false
					break gather
				}
				byQueue[a.queue] = append(byQueue[a.queue], a.member)
			case <-wait.C:
				break gather
			}
		}
		wait.Stop()
		for q, members := range byQueue {
			if _, err := c.broker.Delete(ctx, q, members...); err != nil {
				// The jobs ran; they come back after their reservation lapses and run again.
				c.log.Error("acknowledge jobs", "queue", q, "jobs", len(members), "err", err)
			}
			delete(byQueue, q)
		}
	}
}
