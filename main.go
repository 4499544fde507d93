package bridge

import (
	"context"
	"io"
	"os"

	"github.com/queuebridge/bridge/internal/cli"
)

// Main runs the bridge command line (work, push, failed, queues, pause, restart, migrate, …) with this
// Bridge's handlers, then exits. The program names itself by its own file name in help and errors.
func (b *Bridge) Main() {
	os.Exit(b.RunCommand(context.Background(), os.Args, os.Stdout, os.Stderr))
}

// RunCommand runs one command line (args[0] is the program name) with this Bridge's handlers and returns
// its exit status: 0, 1 for an error, 2 for a command line that cannot be run as written, 12 for a worker
// past its memory limit.
func (b *Bridge) RunCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return cli.Run(ctx, args, cli.Params{
		Connect: func(ctx context.Context, s cli.Settings) (cli.Bridge, error) {
			c := &Bridge{mux: b.mux, events: b.events}
			err := c.Connect(ctx, &Config{
				Connection:      s.Connection,
				Dialect:         s.Dialect,
				Prefix:          s.Prefix,
				Expire:          s.Expire,
				CacheConnection: s.CacheConnection,
				CachePrefix:     s.CachePrefix,
				RestartKey:      s.RestartKey,
				FailedKeyPrefix: s.FailedKeyPrefix,
				FailedDatabase:  s.FailedDatabase,
				FailedTable:     s.FailedTable,
				Logger:          s.Logger,
			})
			if err != nil {
				return nil, err
			}
			return c, nil
		},
		Stdout: stdout,
		Stderr: stderr,
	})
}
