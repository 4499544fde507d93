package bridge

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// pauseKey is the bridge's own pause flag of a queue, in the app's cache store; every bridge on the queue
// reads it. Laravel 12's queue:pause flag is written and read beside it, so PHP workers pause too.
func (b *Bridge) pauseKey(queueName string) string {
	return b.cfg.FailedKeyPrefix + ":paused:" + b.ConnectionName() + ":" + queueName
}

// Pause makes every bridge on this queue stop taking jobs from it (within a second; running jobs finish),
// and for Laravel 12 every PHP worker too, until Resume.
func (b *Bridge) Pause(ctx context.Context, queueName string) error {
	return b.setPaused(ctx, queueName, true)
}

// Resume undoes Pause.
func (b *Bridge) Resume(ctx context.Context, queueName string) error {
	return b.setPaused(ctx, queueName, false)
}

func (b *Bridge) setPaused(ctx context.Context, queueName string, paused bool) error {
	if err := b.ready(); err != nil {
		return err
	}
	if b.be.cache == nil {
		return fmt.Errorf("pause %s: %w", queueName, errNoCache)
	}
	keys := []string{b.pauseKey(queueName)}
	if key := b.be.format.pauseKey(b.cfg.CachePrefix); key != nil {
		keys = append(keys, key(b.ConnectionName(), queueName))
	}
	for _, k := range keys {
		var err error
		if paused {
			err = b.be.cache.Set(ctx, k, "b:1;", 0).Err() // serialize(true), as Laravel's Cache::forever writes it
		} else {
			err = b.be.cache.Del(ctx, k).Err()
		}
		if err != nil {
			return fmt.Errorf("pause %s: %w", queueName, err)
		}
	}
	return nil
}

// Paused reports whether a queue is paused, by the bridge or by Laravel 12's queue:pause.
func (b *Bridge) Paused(ctx context.Context, queueName string) (bool, error) {
	if err := b.ready(); err != nil {
		return false, err
	}
	if b.be.cache == nil {
		return false, nil
	}
	keys := []string{b.pauseKey(queueName)}
	if key := b.be.format.pauseKey(b.cfg.CachePrefix); key != nil {
		keys = append(keys, key(b.ConnectionName(), queueName))
	}
	vals, err := b.be.cache.MGet(ctx, keys...).Result()
	if err != nil {
		return false, fmt.Errorf("read pause flags of %s: %w", queueName, err)
	}
	for _, v := range vals {
		// PHP tests the cached value for truth; Laravel stores serialize(true), "b:1;".
		if s, ok := v.(string); ok && s != "" && s != "b:0;" && s != "0" && s != "N;" {
			return true, nil
		}
	}
	return false, nil
}

// pauseWatcher answers the worker's "is this queue paused?" from flags read at most every interval, so
// reserving costs no extra round trip; a pause reaches every bridge within the interval.
type pauseWatcher struct {
	b        *Bridge
	interval time.Duration
	now      func() time.Time

	mu     sync.Mutex
	read   map[string]time.Time
	paused map[string]bool
}

func newPauseWatcher(b *Bridge, interval time.Duration) *pauseWatcher {
	return &pauseWatcher{b: b, interval: interval, now: b.cfg.Clock, read: map[string]time.Time{}, paused: map[string]bool{}}
}

func (p *pauseWatcher) Paused(ctx context.Context, queueName string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if last, ok := p.read[queueName]; ok && now.Sub(last) < p.interval {
		return p.paused[queueName]
	}
	paused, err := p.b.Paused(ctx, queueName)
	if err != nil {
		// Keep what was known: a store hiccup neither pauses nor resumes a queue.
		p.b.cfg.Logger.Warn("read pause flags", "queue", queueName, "err", err)
		paused = p.paused[queueName]
	}
	p.read[queueName], p.paused[queueName] = now, paused
	return paused
}
