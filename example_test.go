package bridge_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/queuebridge/bridge"
)

// Push a think-queue job from Go and run it with a Go handler, as `php think queue:work` would.
func Example() {
	ctx := context.Background()
	addr := os.Getenv("QB_REDIS_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6379"
	}
	b, err := bridge.Open(ctx, &bridge.Config{
		Connection: "redis://" + addr + "/4",
		Dialect:    "thinkqueue-v3",
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
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
			return err
		}
		fmt.Printf("Hello, %s! (attempt %d)\n", data.Name, job.Attempts())
		return nil
	})
	if _, err := b.Push(ctx, "example-hello", `app\job\Hello`, map[string]string{"name": "张三"}); err != nil {
		panic(err)
	}
	if err := b.Run(ctx); err != nil {
		panic(err)
	}
	// Output: Hello, 张三! (attempt 1)
}
