package worker

import (
	"context"
	"log/slog"
)

// completer acknowledges finished jobs in batches: one ZREM for every job that finished while the last one
// was in flight, instead of one round trip per job.
type completer struct {
	broker Broker
	log    *slog.Logger
	acks   chan ack
}

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
	for first := range c.acks {
		byQueue[first.queue] = append(byQueue[first.queue], first.member)
	gather:
		for n := 1; n < 512; n++ {
			select {
			case a, ok := <-c.acks:
				if !ok {
					break gather
				}
				byQueue[a.queue] = append(byQueue[a.queue], a.member)
			default:
				break gather
			}
		}
		for q, members := range byQueue {
			if _, err := c.broker.Delete(ctx, q, members...); err != nil {
				// The jobs ran; they come back after their reservation lapses and run again.
				c.log.Error("acknowledge jobs", "queue", q, "jobs", len(members), "err", err)
			}
			delete(byQueue, q)
		}
	}
}
