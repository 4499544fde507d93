package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

const (
	// maxBlock bounds one blocking command: go-redis does not interrupt a blocking read when its context is
	// cancelled, so this is also how long a stop may wait for an idle worker.
	maxBlock = time.Second
	// beatEvery is how often a waiting bridge announces itself in a think-queue list's bridge registry;
	// deadAfter is how long after its last announcement a bridge counts as dead and its parked jobs are
	// recovered; sweepEvery is how often a waiting bridge looks for dead ones.
	beatEvery  = 10
	deadAfter  = 60
	sweepEvery = 30
)

// WaitReady blocks until one of the queues may have a ready job (true), or until d (at most a second)
// passed with none (false), so an idle worker starts a pushed job at once instead of at its next poll. It
// leaves every job where the PHP library expects it: the caller reserves as usual, and PHP workers on the
// same queues keep working unchanged. Delayed jobs becoming due do not wake it.
//
// On Laravel it is block_for's BLPOP on the queue's :notify list (the token it takes is one of the pushed
// job's, as with Laravel's own blocking pop). On think-queue it is BLMOVE from the list to this bridge's
// in-flight list {<list>}:inflight:<id>, and the job goes straight back to the head of the list; a bridge
// killed in between has its in-flight list put back by a live one after a minute (see
// lua/inflight_recover.lua). With several queues it blocks on each at once; a queue's wait that is still
// blocking when another woke the call carries over to the next call.
func (b *Broker) WaitReady(ctx context.Context, queues []string, d time.Duration) (bool, error) {
	if d <= 0 || len(queues) == 0 {
		return false, nil
	}
	d = min(max(d, time.Millisecond), maxBlock)
	waits := make([]*pendingWait, len(queues))
	for i, q := range queues {
		waits[i] = b.pendingWait(ctx, q, d)
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	left := make(chan struct{}) // closed when this call returns
	defer close(left)
	settled := make(chan *pendingWait, len(waits))
	for _, p := range waits {
		go func() {
			select {
			case <-p.done:
				settled <- p
			case <-left:
			}
		}()
	}
	var errs []error
	for range waits {
		select {
		case p := <-settled:
			b.consume(p)
			if p.ready {
				return true, nil
			}
			if p.err != nil {
				errs = append(errs, p.err)
			}
		case <-timer.C:
			return false, errors.Join(errs...)
		}
	}
	return false, errors.Join(errs...)
}

// pendingWait is one blocking command on one queue. It outlives the WaitReady call that started it when
// another queue woke that call first: the next call waits on it rather than block a second time, and takes
// its wake-up if it came meanwhile (on Laravel, a second BLPOP would have eaten that push's only token).
type pendingWait struct {
	queue string
	done  chan struct{} // closed once ready and err are set
	ready bool
	err   error
}

// pendingWait returns the wait on queue q in progress, or starts one that blocks at most d.
func (b *Broker) pendingWait(ctx context.Context, q string, d time.Duration) *pendingWait {
	b.mu.Lock()
	defer b.mu.Unlock()
	if p := b.waits[q]; p != nil {
		return p
	}
	p := &pendingWait{queue: q, done: make(chan struct{})}
	b.waits[q] = p
	go func() {
		p.ready, p.err = b.waitQueue(ctx, q, d)
		if !p.ready && p.err == nil {
			b.consume(p) // it timed out: nothing for the next call to take
		}
		close(p.done)
	}()
	return p
}

// consume forgets a settled wait, so the next call on its queue blocks afresh.
func (b *Broker) consume(p *pendingWait) {
	b.mu.Lock()
	if b.waits[p.queue] == p {
		delete(b.waits, p.queue)
	}
	b.mu.Unlock()
}

func (b *Broker) waitQueue(ctx context.Context, name string, d time.Duration) (bool, error) {
	k, err := b.keys(name)
	if err != nil {
		return false, fmt.Errorf("wait %s: %w", name, err)
	}
	if b.laravel != nil {
		err := b.client.Do(ctx, "blpop", k.notify, blockSeconds(d)).Err()
		switch {
		case errors.Is(err, goredis.Nil):
			return false, nil
		case err != nil:
			return false, fmt.Errorf("wait %s: %w", name, err)
		}
		return true, nil
	}
	park := b.parking(k.list)
	if err := b.tend(ctx, park); err != nil {
		return false, fmt.Errorf("wait %s: %w", name, err)
	}
	err = b.client.Do(ctx, "blmove", park.list, park.inflight, "LEFT", "RIGHT", blockSeconds(d)).Err()
	if errors.Is(err, goredis.Nil) {
		return false, nil
	}
	// A job was moved, or may have been (an error, a stop meanwhile): put back whatever is parked now, on a
	// context of its own, since a worker that is stopping waits for no next wait to do it.
	back, cancel := context.WithTimeout(context.WithoutCancel(ctx), putBackTimeout)
	defer cancel()
	if perr := b.putBack(back, park); perr != nil {
		b.forgetBeat(park.list) // the next wait announces the bridge again, which puts back what it parked
		if err == nil {
			err = fmt.Errorf("put the job back: %w", perr)
		}
	}
	if err != nil {
		return false, fmt.Errorf("wait %s: %w", name, err)
	}
	return true, nil
}

// putBackTimeout bounds putting a parked job back after its wait.
const putBackTimeout = 5 * time.Second

// blockSeconds is a blocking command's timeout, to the millisecond (go-redis's own helpers round up to whole
// seconds); d is at least a millisecond, since 0 would block forever.
func blockSeconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) }

// parkingKeys are the bridge-owned keys of a blocking wait on a think-queue list. They share the list's hash
// slot, and no dialect takes them for a queue's keys (their first brace opens the list's name).
type parkingKeys struct {
	list, inflight, bridges string
}

func (b *Broker) parking(list string) parkingKeys {
	return parkingKeys{list: list, inflight: inflightKey(list, b.id), bridges: "{" + hashTag(list) + "}:bridges"}
}

func inflightKey(list, bridgeID string) string { return "{" + hashTag(list) + "}:inflight:" + bridgeID }

// tend announces this bridge in the list's registry (every beatEvery seconds, putting back anything it
// parked), and recovers dead bridges' parked jobs (every sweepEvery seconds).
func (b *Broker) tend(ctx context.Context, p parkingKeys) error {
	now := b.now().Unix()
	b.mu.Lock()
	beat := now-b.beatAt[p.list] >= beatEvery
	if beat {
		b.beatAt[p.list] = now
	}
	sweep := now-b.sweptAt[p.list] >= sweepEvery
	if sweep {
		b.sweptAt[p.list] = now
	}
	b.mu.Unlock()
	if beat {
		if err := b.putBack(ctx, p); err != nil {
			b.forgetBeat(p.list)
			return err
		}
	}
	if !sweep {
		return nil
	}
	deadline := now - deadAfter
	dead, err := b.client.ZRangeByScore(ctx, p.bridges, &goredis.ZRangeBy{
		Min: "-inf", Max: strconv.FormatInt(deadline, 10), Count: 100,
	}).Result()
	if err != nil {
		return fmt.Errorf("find dead bridges: %w", err)
	}
	for _, id := range dead {
		if id == b.id {
			continue
		}
		err := inflightRecoverScript.Run(ctx, b.client, []string{inflightKey(p.list, id), p.list, p.bridges}, deadline, id).Err()
		if err != nil {
			return fmt.Errorf("recover the jobs parked by bridge %s: %w", id, err)
		}
	}
	return nil
}

func (b *Broker) putBack(ctx context.Context, p parkingKeys) error {
	return inflightReturnScript.Run(ctx, b.client, []string{p.inflight, p.list, p.bridges}, b.now().Unix(), b.id).Err()
}

// forgetBeat makes the next wait on list announce the bridge again, which puts back what it parked.
func (b *Broker) forgetBeat(list string) {
	b.mu.Lock()
	delete(b.beatAt, list)
	b.mu.Unlock()
}
