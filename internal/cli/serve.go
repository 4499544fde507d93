package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// Serving is what `serve` and `config` need from the caller: load and check a config file, and run it.
type Serving interface {
	// Check loads and validates the file without connecting, and returns it resolved, secrets redacted.
	Check(path string) ([]byte, error)
	// Serve runs the file's groups until ctx is done; reload re-reads the file (SIGHUP).
	Serve(ctx context.Context, path, httpAddr string, reload <-chan struct{}, s Settings) error
}

var configFlag = &flag{name: "config", env: "BRIDGE_CONFIG", arg: "FILE", def: "bridge.yaml", usage: "the bridge.yaml to read (see deploy/bridge.yaml)"}

func serveCommand() *command {
	return &command{name: "serve", usage: "run every worker group of a config file in one process (what supervisor and Horizon do); SIGHUP re-reads it",
		flags: []*flag{configFlag,
			{name: "http", env: "BRIDGE_HTTP", arg: "ADDR", usage: "serve /metrics, /healthz and /readyz here, e.g. 127.0.0.1:9464 (default: the file's http, else off)"},
			logLevelFlag(), logFormatFlag()},
		run: runServe}
}

func configCommand() *command {
	return &command{name: "config", usage: "check or show a config file",
		subs: []*command{
			{name: "check", usage: "validate a config file without starting anything", flags: []*flag{configFlag}, run: runConfig(false)},
			{name: "show", usage: "print the config as the bridge resolves it, secrets redacted", flags: []*flag{configFlag}, run: runConfig(true)},
		}}
}

func runConfig(show bool) func(*invocation) error {
	return func(inv *invocation) error {
		if inv.p.Serving == nil {
			return fmt.Errorf("config files are not supported by this program")
		}
		out, err := inv.p.Serving.Check(inv.flag("config"))
		if err != nil {
			return err
		}
		if show {
			_, err = inv.stdout().Write(out)
			return err
		}
		fmt.Fprintf(inv.stdout(), "%s: OK\n", inv.flag("config"))
		return nil
	}
}

func runServe(inv *invocation) error {
	if inv.p.Serving == nil {
		return fmt.Errorf("serve is not supported by this program")
	}
	log, err := inv.log()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(inv.ctx, syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() { <-ctx.Done(); stop() }() // a second signal: the default action, a hard stop
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	reload := make(chan struct{}, 1)
	go func() {
		for range hup {
			select {
			case reload <- struct{}{}:
			default:
			}
		}
	}()
	return inv.p.Serving.Serve(ctx, inv.flag("config"), inv.flag("http"), reload, Settings{Logger: log})
}

func dashboardCommand() *command {
	return &command{name: "dashboard", usage: "serve the web dashboard: queues, jobs, failed jobs, bridges; pause, retry, push (read-only without a token)",
		flags: with(
			&flag{name: "http", env: "BRIDGE_DASHBOARD_HTTP", arg: "ADDR", def: "127.0.0.1:9465", usage: "where to listen; a bare :PORT is 127.0.0.1:PORT"},
			&flag{name: "dashboard-token", env: "BRIDGE_DASHBOARD_TOKEN", arg: "T", secret: true,
				usage: "the token a person types to change the queue (retry, forget, pause, push, …); without it the dashboard is read-only"}),
		run: runDashboard}
}

func runDashboard(inv *invocation) error {
	if inv.p.Dashboard == nil {
		return fmt.Errorf("dashboard is not supported by this program")
	}
	s, err := inv.settings()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(inv.ctx, syscall.SIGTERM, os.Interrupt)
	defer stop()
	return inv.p.Dashboard(ctx, s, inv.flag("http"), inv.flag("dashboard-token"))
}
