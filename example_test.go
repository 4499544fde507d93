package bridge_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	goredis "github.com/redis/go-redis/v9"

	"github.com/queuebridge/bridge"
)

// exampleRedis is the Redis the examples run against: QB_REDIS_ADDR (default 127.0.0.1:6379), database 4.
func exampleRedis() string {
	addr := os.Getenv("QB_REDIS_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6379"
	}
	return "redis://" + addr + "/4"
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// Push a think-queue job from Go and run it with a Go handler, as `php think queue:work` would. This is the
// README's example, wired by hand instead of by Main.
func Example() {
	ctx := context.Background()
	b, err := bridge.Open(ctx, &bridge.Config{
		Connection: exampleRedis(),
		Dialect:    "thinkqueue-v3",
		Logger:     quiet,
		Worker:     bridge.WorkerConfig{Queues: []string{"example-hello"}, StopWhenEmpty: true},
	})
	if err != nil {
		panic(err)
	}
	defer b.Close()

	b.HandleFunc(`app\job\Hello`, func(ctx context.Context, job *bridge.Job) error {
		var data struct {
			Name string `json:"name"`
		}
		if err := job.Bind(&data); err != nil {
			return err // released with --delay; failed once --tries are used up
		}
		fmt.Printf("Hello, %s! (attempt %d)\n", data.Name, job.Attempts())
		return nil // deleted
	})
	if _, err := b.Push(ctx, "example-hello", `app\job\Hello`, map[string]string{"name": "张三"}); err != nil {
		panic(err)
	}
	if err := b.Run(ctx); err != nil {
		panic(err)
	}
	// Output: Hello, 张三! (attempt 1)
}

// A Handler is any type with ProcessJob; one with Failed too gets think-queue's failed($data) call.
type sendMail struct{}

func (sendMail) ProcessJob(ctx context.Context, job *bridge.Job) error {
	return errors.New("mail server down")
}

func (sendMail) Failed(ctx context.Context, job *bridge.Job, err error) {
	fmt.Println("failed:", job.Name(), err)
}

// Handle registers a Handler type; think-queue 1.x fails a job on the pop past --tries, with the error of
// its last run, and the failed store keeps it until Retry or Flush.
func ExampleBridge_Handle() {
	ctx := context.Background()
	b, err := bridge.Open(ctx, &bridge.Config{
		Connection:      exampleRedis(),
		Dialect:         "thinkqueue-v1",
		FailedKeyPrefix: "example-handle",
		Logger:          quiet,
		Worker:          bridge.WorkerConfig{Queues: []string{"example-mail"}, Tries: 2, StopWhenEmpty: true},
	})
	if err != nil {
		panic(err)
	}
	defer b.Close()
	b.Handle(`app\job\SendMail`, sendMail{})
	if _, err := b.Push(ctx, "example-mail", `app\job\SendMail`, json.RawMessage(`{"to":"ann@example.com"}`)); err != nil {
		panic(err)
	}
	if err := b.Run(ctx); err != nil {
		panic(err)
	}
	failed, err := b.Failed(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(failed), "failed job on", failed[0].Queue)
	if _, err := b.Flush(ctx); err != nil {
		panic(err)
	}
	// Output:
	// failed: app\job\SendMail app\job\SendMail has been attempted too many times or run too long. The job may have previously timed out.; last error: mail server down
	// 1 failed job on example-mail
}

// OpenRedis works the queue on a go-redis client the program already has; Sizes and Jobs look into a queue
// without taking anything from it.
func ExampleOpenRedis() {
	ctx := context.Background()
	o, err := goredis.ParseURL(exampleRedis())
	if err != nil {
		panic(err)
	}
	client := goredis.NewClient(o)
	defer client.Close()
	b, err := bridge.OpenRedis(ctx, client, &bridge.Config{Dialect: "laravel-11", Prefix: "example_", Logger: quiet})
	if err != nil {
		panic(err)
	}
	defer b.Close()
	keys := []string{"example_queues:example-sizes", "example_queues:example-sizes:notify"}
	client.Del(ctx, keys...)
	defer client.Del(ctx, keys...)
	for range 2 {
		if _, err := b.Push(ctx, "example-sizes", `App\Jobs\Legacy@handle`, nil); err != nil {
			panic(err)
		}
	}
	sizes, err := b.Sizes(ctx, "example-sizes")
	if err != nil {
		panic(err)
	}
	next, err := b.Jobs(ctx, "example-sizes", bridge.StateReady, 0, 1)
	if err != nil {
		panic(err)
	}
	fmt.Println(sizes.Ready, "ready; next:", len(next))
	// Output: 2 ready; next: 1
}

// Pause stops every bridge (and Laravel 12's own workers) taking jobs from a queue until Resume.
func ExampleBridge_Pause() {
	ctx := context.Background()
	b, err := bridge.Open(ctx, &bridge.Config{Connection: exampleRedis(), Dialect: "laravel-12", FailedKeyPrefix: "example-pause", Logger: quiet})
	if err != nil {
		panic(err)
	}
	defer b.Close()
	if err := b.Pause(ctx, "emails"); err != nil {
		panic(err)
	}
	paused, _ := b.Paused(ctx, "emails")
	fmt.Println("paused:", paused)
	if err := b.Resume(ctx, "emails"); err != nil {
		panic(err)
	}
	paused, _ = b.Paused(ctx, "emails")
	fmt.Println("paused:", paused)
	// Output:
	// paused: true
	// paused: false
}

// A database queue: the app's jobs table (here an SQLite file), created as the library ships it.
func ExampleMigrate() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "bridge-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	cfg := &bridge.Config{Connection: "sqlite:" + filepath.Join(dir, "app.db"), Dialect: "laravel-8", Logger: quiet}
	migrations, err := bridge.Migrate(ctx, cfg, false)
	if err != nil {
		panic(err)
	}
	b, err := bridge.Open(ctx, cfg)
	if err != nil {
		panic(err)
	}
	defer b.Close()
	id, err := b.Push(ctx, "default", `App\Jobs\Legacy@handle`, []int{1, 2})
	if err != nil {
		panic(err)
	}
	fmt.Println(migrations[0].Table, migrations[1].Table, "row", id)
	// Output: jobs failed_jobs row 1
}

// RunCommand runs the command line in-process, as Main does with os.Args.
func ExampleBridge_RunCommand() {
	b := bridge.New()
	code := b.RunCommand(context.Background(), []string{"mybridge", "work", "--queue", "a", "b"}, os.Stdout, os.Stdout)
	fmt.Println("exit", code)
	// Output:
	// mybridge: work takes no arguments, and "b" would be ignored (a list of queues is one word: --queue a,b)
	// exit 2
}

// The sync connection runs a pushed job before Push returns, as think-queue's Sync driver does: for
// development and tests.
func Example_sync() {
	ctx := context.Background()
	b, err := bridge.Open(ctx, &bridge.Config{Connection: "sync:", Dialect: "thinkqueue-v3", Logger: quiet})
	if err != nil {
		panic(err)
	}
	defer b.Close()
	b.HandleFunc(`app\job\Hello`, func(ctx context.Context, job *bridge.Job) error {
		fmt.Println("ran, attempt", job.Attempts())
		return nil
	})
	if _, err := b.Push(ctx, "default", `app\job\Hello`, nil); err != nil {
		panic(err)
	}
	fmt.Println("pushed")
	// Output:
	// ran, attempt 1
	// pushed
}

// OpenDB works the app's jobs table on a database/sql pool the program already has.
func ExampleOpenDB() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "bridge-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "app.db")
	if _, err := bridge.Migrate(ctx, &bridge.Config{Connection: "sqlite:" + file, Dialect: "thinkqueue-v3", Logger: quiet}, false); err != nil {
		panic(err)
	}
	pool, err := sql.Open("sqlite", file)
	if err != nil {
		panic(err)
	}
	defer pool.Close()
	b, err := bridge.OpenDB(ctx, pool, "sqlite", "jobs", &bridge.Config{Dialect: "thinkqueue-v3", Logger: quiet})
	if err != nil {
		panic(err)
	}
	defer b.Close()
	id, err := b.Push(ctx, "default", `app\job\Hello`, map[string]string{"name": "Ann"})
	if err != nil {
		panic(err)
	}
	sizes, err := b.Sizes(ctx, "default")
	if err != nil {
		panic(err)
	}
	fmt.Println("row", id, "ready", sizes.Ready)
	// Output: row 1 ready 1
}
