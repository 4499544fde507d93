package cli

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/queuebridge/bridge/status"
)

func routeCommand() *command {
	return &command{name: "route", usage: "which side runs each job class: Go, PHP or a share in Go; every bridge on the connection follows within a second",
		subs: []*command{
			{name: "set", usage: "route a class: go, php, or the percentage of its jobs for Go (25%); wins over the config file's routes",
				args: "CLASS go|php|PCT%", minArgs: 2, maxArgs: 2, flags: with(), run: runRouteSet},
			{name: "list", usage: "the routes in force, by class, and where each comes from (store, file, code)",
				flags: with(&flag{name: "json", usage: "print JSON"}), run: runRouteList},
			{name: "clear", usage: "remove a class's stored route (the config file's or the code's applies again)",
				args: "CLASS", minArgs: 1, maxArgs: 1, flags: with(), run: runRouteClear},
		}}
}

func reportCommand() *command {
	return &command{name: "report", usage: "per routed or shadowed job class: runs in Go and PHP, failures, releases, run times, shadow mismatches, and whether Go can take it all",
		flags: with(&flag{name: "window", arg: "DURATION", def: "1h", usage: "how far back to count (whole minutes, e.g. 15m, 24h)"},
			&flag{name: "json", usage: "print JSON, with the kept mismatches"}),
		run: runReport}
}

func runRouteSet(inv *invocation) error {
	r, err := status.ParseRoute(inv.arg(1))
	if err != nil {
		return usagef("route set: %v", err)
	}
	return inv.withBridge(func(b Bridge) error {
		if err := b.SetRoute(inv.ctx, inv.arg(0), r); err != nil {
			return err
		}
		fmt.Fprintf(inv.stdout(), "%s: %s\n", inv.arg(0), r)
		return nil
	})
}

func runRouteClear(inv *invocation) error {
	return inv.withBridge(func(b Bridge) error {
		ok, err := b.ClearRoute(inv.ctx, inv.arg(0))
		if err != nil {
			return err
		}
		if !ok {
			fmt.Fprintf(inv.stdout(), "%s had no stored route.\n", inv.arg(0))
			return nil
		}
		fmt.Fprintf(inv.stdout(), "%s: stored route cleared.\n", inv.arg(0))
		return nil
	})
}

func runRouteList(inv *invocation) error {
	return inv.withBridge(func(b Bridge) error {
		routes, err := b.Routes(inv.ctx)
		if err != nil {
			return err
		}
		if inv.bool("json") {
			enc := json.NewEncoder(inv.stdout())
			enc.SetIndent("", "  ")
			return enc.Encode(routes)
		}
		if len(routes) == 0 {
			fmt.Fprintln(inv.stdout(), "No routes: every job with a Go handler runs in Go.")
			return nil
		}
		tw := tabwriter.NewWriter(inv.stdout(), 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "Class\tRoute\tFrom")
		for _, r := range routes {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Class, r.Route, r.Source)
		}
		return tw.Flush()
	})
}

func runReport(inv *invocation) error {
	window, err := time.ParseDuration(inv.flag("window"))
	if err != nil || window <= 0 {
		return usagef("--window %q: want a duration such as 15m or 24h", inv.flag("window"))
	}
	return inv.withBridge(func(b Bridge) error {
		reps, err := b.Report(inv.ctx, window)
		if err != nil {
			return err
		}
		if inv.bool("json") {
			enc := json.NewEncoder(inv.stdout())
			enc.SetIndent("", "  ")
			return enc.Encode(reps)
		}
		if len(reps) == 0 {
			fmt.Fprintf(inv.stdout(), "No routed or shadowed job ran in the last %s.\n", window)
			return nil
		}
		tw := tabwriter.NewWriter(inv.stdout(), 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "Class\tRoute\tRuns\tGo\tGo failed\tGo released\tGo mean\tGo p95\tPHP\tPHP failed\tPHP released\tPHP mean\tPHP p95\tShadow\tMismatches\tVerdict")
		for _, r := range reps {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%s\t%s\t%d\t%d\t%d\t%s\t%s\t%d\t%d\t%s\n", r.Class, orDash(r.Route), r.Runs,
				r.Go.Runs, r.Go.Failed, r.Go.Released, r.Go.Mean, r.Go.P95,
				r.PHP.Runs, r.PHP.Failed, r.PHP.Released, r.PHP.Mean, r.PHP.P95,
				r.ShadowRuns, r.ShadowMismatches, r.Verdict)
		}
		return tw.Flush()
	})
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
