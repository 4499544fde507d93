// Command notify is the bridge binary the deploy tests run through the samples: the whole bridge command
// line (bridge.Main) with one Go handler for think-queue's app\job\Notify, which keeps a ledger in Redis so
// a test can tell which jobs ran, in which process, and whether they finished.
//
//	app\job\Notify  data {"redis":"redis://host:port/db", "ledger":"<key>", "ms":N}:
//	                RPUSH "<id>|<pid>" onto <key>:started, work N ms (if the job's context ends first,
//	                return its error: the job did not finish), then RPUSH "<id>|<pid>" onto <key>:done.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/queuebridge/bridge"
)

func main() {
	var ledgers ledgerClients
	b := bridge.New()
	b.HandleFunc(`app\job\Notify`, func(ctx context.Context, job *bridge.Job) error {
		var d struct {
			Redis  string `json:"redis"`
			Ledger string `json:"ledger"`
			MS     int64  `json:"ms"`
		}
		if err := job.Bind(&d); err != nil {
			return err
		}
		if d.Redis == "" || d.Ledger == "" {
			return errors.New(`app\job\Notify: data needs "redis" and "ledger"`)
		}
		rdb, err := ledgers.get(d.Redis)
		if err != nil {
			return err
		}
		mark := fmt.Sprintf("%s|%d", job.ID(), os.Getpid())
		if err := rdb.RPush(ctx, d.Ledger+":started", mark).Err(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(d.MS) * time.Millisecond):
		}
		// The work is done: record it even if the stop signal cancels the job's context meanwhile.
		return rdb.RPush(context.WithoutCancel(ctx), d.Ledger+":done", mark).Err()
	})
	b.Main()
}

// ledgerClients keeps one Redis client per ledger URL, shared by concurrent jobs.
type ledgerClients struct {
	mu      sync.Mutex
	clients map[string]*goredis.Client
}

func (l *ledgerClients) get(url string) (*goredis.Client, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c, ok := l.clients[url]; ok {
		return c, nil
	}
	opt, err := goredis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("ledger redis: %w", err)
	}
	if l.clients == nil {
		l.clients = make(map[string]*goredis.Client)
	}
	c := goredis.NewClient(opt)
	l.clients[url] = c
	return c, nil
}
