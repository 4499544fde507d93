// Command hello is the smallest bridge binary: one Go handler for think-queue's app\job\Hello, and the
// whole bridge command line (work, push, failed, serve, …) around it. hello_test.go tests the handler with
// the bridgetest kit.
package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/queuebridge/bridge"
)

func main() {
	b := bridge.New()
	register(b)
	b.Main()
}

// register adds the program's handlers; main and the tests share it.
func register(b *bridge.Bridge) {
	b.HandleFunc(`app\job\Hello`, func(ctx context.Context, job *bridge.Job) error {
		var data struct {
			Name string `json:"name"`
		}
		if err := job.Bind(&data); err != nil {
			return err
		}
		if data.Name == "" {
			return errors.New("hello: no name to greet")
		}
		fmt.Printf("Hello, %s! (job %s, attempt %d)\n", data.Name, job.ID(), job.Attempts())
		return nil
	})
}
