package bridge

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/queuebridge/bridge/executor/php"
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
			c := b.sibling()
			if err := c.Connect(ctx, configOf(s)); err != nil {
				return nil, err
			}
			return c, nil
		},
		Migrate: func(ctx context.Context, s cli.Settings, dryRun bool) ([]cli.Migration, error) {
			ms, err := Migrate(ctx, configOf(s), dryRun)
			out := make([]cli.Migration, len(ms))
			for i, m := range ms {
				out[i] = cli.Migration(m)
			}
			return out, err
		},
		NotifyTrigger: func(s cli.Settings) (string, error) { return NotifyTrigger(configOf(s)) },
		App: func(ctx context.Context, dir, boot, binary string) (cli.Settings, error) {
			cfg, _, err := FromApp(ctx, php.Options{App: dir, Boot: boot, Binary: binary}, "")
			return cli.Settings{Connection: cfg.Connection, Dialect: cfg.Dialect, Prefix: cfg.Prefix, Expire: cfg.Expire,
				CacheConnection: cfg.CacheConnection, CachePrefix: cfg.CachePrefix, Queue: first(cfg.Worker.Queues)}, err
		},
		Serving:   serving{b},
		Dashboard: b.serveDashboard,
		Stdout:    stdout,
		Stderr:    stderr,
	})
}

// configOf is the Config the connection flags describe.
func configOf(s cli.Settings) *Config {
	return &Config{
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
	}
}

// serving runs config files for the command line.
type serving struct{ b *Bridge }

func (s serving) Check(path string) ([]byte, error) {
	fc, err := LoadConfigFile(path)
	if err != nil {
		return nil, err
	}
	return fc.Redacted()
}

func (s serving) Serve(ctx context.Context, path, httpAddr string, reload <-chan struct{}, st cli.Settings) error {
	fc, err := LoadConfigFile(path)
	if err != nil {
		return err
	}
	srv := s.b.NewServer(fc, st.Logger)
	if httpAddr == "" {
		httpAddr = fc.HTTP
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if fc.Dashboard != nil && httpAddr == "" {
		return fmt.Errorf("%s: the dashboard is served on http: give http (or --http), e.g. 127.0.0.1:9464", path)
	}
	var httpDone <-chan error
	if httpAddr != "" {
		db, err := srv.openDashboard(ctx)
		if err != nil {
			return err
		}
		if db != nil {
			defer db.Close()
		}
		addr, done, err := listenHTTP(ctx, httpAddr, srv.Handler())
		if err != nil {
			return err
		}
		httpDone = done
		st.Logger.Info("serving health and metrics", "addr", addr)
	}
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-reload:
			}
			next, err := LoadConfigFile(path)
			if err != nil {
				st.Logger.Error("SIGHUP: config not reloaded, the running groups go on", "err", err)
				continue
			}
			st.Logger.Info("SIGHUP: config reloaded", "file", path)
			srv.Reload(next)
		}
	}()
	err = srv.Run(ctx)
	cancel()
	if httpDone != nil {
		if herr := <-httpDone; herr != nil && err == nil {
			err = herr
		}
	}
	return err
}

// first is the first of names, "" for none.
func first(names []string) string {
	if len(names) == 0 {
		return ""
	}
	return names[0]
}
