// Command hello is the smallest bridge binary: one Go handler for think-queue's app\job\Hello, and the
// whole bridge command line (work, push, failed, restart) around it.
package main

import (
	"context"
	"fmt"

	"github.com/queuebridge/bridge"
)

func main() {
	b := bridge.New()
	b.HandleFunc(`app\job\Hello`, func(ctx context.Context, job *bridge.Job) error {
		var data struct {
			Name string `json:"name"`
		}
		if err := job.Bind(&data); err != nil {
			return err
		}
		fmt.Printf("Hello, %s! (job %s, attempt %d)\n", data.Name, job.ID(), job.Attempts())
		return nil
	})
	b.Main()
}
