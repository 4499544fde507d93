package cli

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/queuebridge/bridge/compat/laravel"
	"github.com/queuebridge/bridge/compat/phpjson"
	"github.com/queuebridge/bridge/queue"
)

// commands is the whole command line: every command, its arguments and flags.
func commands(p Params) *command {
	queueFlag := func(usage string) *flag { return &flag{name: "queue", arg: "Q", def: "default", usage: usage} }
	return &command{
		name:  "",
		usage: "run a PHP app's queued jobs (think-queue, Laravel) in Go, on the same queue, in the same bytes",
		subs: []*command{
			workCommand(),
			{
				name: "push", usage: "push a job as the PHP library would (Queue::push / Queue::later); prints its id",
				args: `JOB [JSON-DATA]`, minArgs: 1, maxArgs: 2,
				flags: with(queueFlag("queue name (with --app and no --queue: the app connection's default queue)"),
					&flag{name: "delay", arg: "S", def: "0", usage: "seconds before the job becomes visible (Queue::later)"},
					&flag{name: "object", usage: "Laravel: JOB is a job class (dispatch(new JOB)) and JSON-DATA its public properties, in declaration order"}),
				run: runPush,
			},
			{
				name: "failed", usage: "list, show, retry, forget or flush failed jobs",
				subs: []*command{
					{name: "list", usage: "list failed jobs, oldest first", flags: with(), run: runFailedList},
					{name: "show", usage: "one failed job: the whole payload, its decoded data and the full error", args: "ID",
						minArgs: 1, maxArgs: 1, flags: with(), run: runFailedShow},
					{name: "retry", usage: "push failed jobs back onto their queues (attempts reset) and forget them",
						args: "ID [ID…] | all", minArgs: 1, maxArgs: -1, flags: with(), run: runFailedRetry},
					{name: "forget", usage: "delete one failed job", args: "ID", minArgs: 1, maxArgs: 1, flags: with(), run: runFailedForget},
					{name: "flush", usage: "delete every failed job", flags: with(), run: runFailedFlush},
				},
			},
			{name: "status", usage: "the bridge processes working this connection (registered by bridge serve), their groups and states",
				flags: with(jsonFlag()), run: runStatus},
			{name: "queues", usage: "list the queues the store holds: their jobs by state, failed jobs, and jobs/min over the last 5 minutes (every bridge's)",
				flags: with(jsonFlag()), run: runQueues},
			jobsCommand(),
			queueCommand(),
			{name: "pause", usage: "stop every bridge (and Laravel 12's workers) taking jobs from a queue, within a second", args: "QUEUE",
				minArgs: 1, maxArgs: 1, flags: with(), run: runPause(true)},
			{name: "resume", usage: "undo pause", args: "QUEUE", minArgs: 1, maxArgs: 1, flags: with(), run: runPause(false)},
			{name: "restart", usage: "tell every worker on this queue, PHP's and the bridge's, to stop after its current jobs (queue:restart)",
				flags: with(), run: runRestart},
			{name: "migrate", usage: "create a database queue's jobs and failed_jobs tables as the PHP library ships them, where they do not exist yet (never done implicitly)",
				flags: with(&flag{name: "dry-run", usage: "print the DDL, change nothing"},
					&flag{name: "notify", usage: "PostgreSQL: print the opt-in trigger with which jobs PHP pushes wake idle bridges at once (run it yourself; changes nothing)"}), run: runMigrate},
			routeCommand(),
			reportCommand(),
			serveCommand(),
			dashboardCommand(),
			configCommand(),
			{name: "version", usage: "print the version"},
			{name: "help", usage: "help for a command", args: "[COMMAND [SUBCOMMAND]]", maxArgs: 2},
		},
	}
}

func runPush(inv *invocation) error {
	job := inv.arg(0)
	// PHP's default data is the empty string; given data is what json_decode($arg, true) would hold.
	var data any = ""
	if len(inv.parsed.args) == 2 {
		v, err := phpjson.Decode([]byte(inv.arg(1)))
		if err != nil {
			return usagef("push: JSON-DATA: %v", err)
		}
		data = phpjson.Assoc(v)
	}
	delay, err := parseSeconds("delay", inv.flag("delay"))
	if err != nil {
		return err
	}
	var cmd laravel.Command
	if inv.bool("object") {
		if cmd, err = objectCommand(job, data); err != nil {
			return err
		}
	}
	queue, err := inv.queue()
	if err != nil {
		return err
	}
	return inv.withBridge(func(b Bridge) error {
		var id string
		var err error
		if inv.bool("object") {
			id, err = b.LaterCommand(inv.ctx, delay, queue, cmd)
		} else {
			id, err = b.Later(inv.ctx, delay, queue, job, data)
		}
		if err != nil {
			return err
		}
		fmt.Fprintln(inv.stdout(), id)
		return nil
	})
}

func runFailedList(inv *invocation) error {
	return inv.withBridge(func(b Bridge) error {
		jobs, err := b.Failed(inv.ctx)
		if err != nil {
			return err
		}
		if len(jobs) == 0 {
			fmt.Fprintln(inv.stdout(), "No failed jobs!")
			return nil
		}
		tw := tabwriter.NewWriter(inv.stdout(), 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tConnection\tQueue\tJob\tFailed At\tError")
		for _, j := range jobs {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", j.ID, j.Connection, j.Queue, jobName(j.Payload),
				j.FailedAt.Format(time.DateTime), firstLine(j.Exception))
		}
		return tw.Flush()
	})
}

func runFailedShow(inv *invocation) error {
	return inv.withBridge(func(b Bridge) error {
		j, err := b.FailedJob(inv.ctx, inv.arg(0))
		if err != nil {
			return err
		}
		w := inv.stdout()
		fmt.Fprintf(w, "ID:         %s\nConnection: %s\nQueue:      %s\nJob:        %s\nFailed at:  %s\n",
			j.ID, j.Connection, j.Queue, jobName(j.Payload), j.FailedAt.Format(time.DateTime))
		fmt.Fprintf(w, "\nPayload:\n%s\n", j.Payload)
		if data, ok := decodedData(j.Payload); ok {
			fmt.Fprintf(w, "\nData:\n%s\n", data)
		}
		fmt.Fprintf(w, "\nError:\n%s\n", j.Exception)
		return nil
	})
}

func runFailedRetry(inv *invocation) error {
	ids := inv.parsed.args
	if len(ids) > 1 && slices.Contains(ids, "all") {
		return usagef("failed retry: all stands alone; with it, %q would be ignored", strings.Join(slices.DeleteFunc(slices.Clone(ids), func(s string) bool { return s == "all" }), " "))
	}
	return inv.withBridge(func(b Bridge) error {
		if len(ids) == 1 && ids[0] == "all" {
			done, err := b.RetryAll(inv.ctx)
			for _, id := range done {
				fmt.Fprintf(inv.stdout(), "The failed job [%s] has been pushed back onto the queue!\n", id)
			}
			return err
		}
		for _, id := range ids {
			if err := b.Retry(inv.ctx, id); err != nil {
				return err
			}
			fmt.Fprintf(inv.stdout(), "The failed job [%s] has been pushed back onto the queue!\n", id)
		}
		return nil
	})
}

func runFailedForget(inv *invocation) error {
	return inv.withBridge(func(b Bridge) error {
		if err := b.Forget(inv.ctx, inv.arg(0)); err != nil {
			return err
		}
		fmt.Fprintln(inv.stdout(), "Failed job deleted successfully!")
		return nil
	})
}

func runFailedFlush(inv *invocation) error {
	return inv.withBridge(func(b Bridge) error {
		n, err := b.Flush(inv.ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(inv.stdout(), "%d failed jobs deleted.\n", n)
		return nil
	})
}

func runStatus(inv *invocation) error {
	return inv.withBridge(func(b Bridge) error {
		bridges, err := b.Bridges(inv.ctx)
		if err != nil {
			return err
		}
		if inv.bool("json") {
			enc := json.NewEncoder(inv.stdout())
			enc.SetIndent("", "  ")
			return enc.Encode(bridges)
		}
		if len(bridges) == 0 {
			fmt.Fprintln(inv.stdout(), "No bridges are running on this connection.")
			return nil
		}
		tw := tabwriter.NewWriter(inv.stdout(), 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "Bridge\tGroup\tState\tQueues\tRunning\tUptime\tLast error")
		for _, br := range bridges {
			for _, g := range br.Groups {
				fmt.Fprintf(tw, "%s (pid %d, %s)\t%s\t%s\t%s\t%d/%d\t%s\t%s\n", br.Host, br.PID, br.Version, g.Name, g.State,
					strings.Join(g.Queues, ","), g.InFlight, g.Concurrency, br.HeartbeatAt.Sub(br.StartedAt).Truncate(time.Second), firstLine(g.LastError))
			}
		}
		return tw.Flush()
	})
}

func runQueues(inv *invocation) error {
	return inv.withBridge(func(b Bridge) error {
		names, err := b.Queues(inv.ctx)
		if err != nil {
			return err
		}
		failed, err := b.Failed(inv.ctx)
		if err != nil {
			return err
		}
		failedIn := map[string]int{}
		for _, f := range failed {
			failedIn[f.Queue]++
		}
		type queueJSON struct {
			Queue       string     `json:"queue"`
			Ready       int64      `json:"ready"`
			Delayed     int64      `json:"delayed"`
			Reserved    int64      `json:"reserved"`
			Failed      int        `json:"failed"`
			PerMinute   float64    `json:"jobs_per_minute"`
			OldestReady *time.Time `json:"oldest_ready,omitempty"`
		}
		since := time.Now().Add(-trendWindow)
		rows := make([]queueJSON, 0, len(names))
		for _, q := range names {
			s, err := b.Sizes(inv.ctx, q)
			if err != nil {
				return err
			}
			points, err := b.Trends(inv.ctx, q, since)
			if err != nil {
				return err
			}
			row := queueJSON{Queue: q, Ready: s.Ready, Delayed: s.Delayed, Reserved: s.Reserved, Failed: failedIn[q],
				PerMinute: perMinute(points)}
			if !s.OldestReady.IsZero() {
				row.OldestReady = &s.OldestReady
			}
			rows = append(rows, row)
		}
		if inv.bool("json") {
			return printJSON(inv.stdout(), rows)
		}
		if len(rows) == 0 {
			fmt.Fprintln(inv.stdout(), "No queues.")
			return nil
		}
		tw := tabwriter.NewWriter(inv.stdout(), 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "Queue\tReady\tDelayed\tReserved\tFailed\tJobs/min\tOldest ready")
		for _, r := range rows {
			oldest := "-"
			if r.OldestReady != nil {
				oldest = r.OldestReady.Format(time.DateTime)
			}
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%.1f\t%s\n", r.Queue, r.Ready, r.Delayed, r.Reserved, r.Failed, r.PerMinute, oldest)
		}
		return tw.Flush()
	})
}

// trendWindow is the span `queues` averages jobs/min over.
const trendWindow = 5 * time.Minute

// perMinute is the jobs processed per minute over trendWindow, as every bridge counted them.
func perMinute(points []queue.TrendPoint) float64 {
	var n int64
	for _, p := range points {
		n += p.Processed
	}
	return float64(n) / trendWindow.Minutes()
}

func runPause(pause bool) func(*invocation) error {
	return func(inv *invocation) error {
		return inv.withBridge(func(b Bridge) error {
			q := inv.arg(0)
			if pause {
				if err := b.Pause(inv.ctx, q); err != nil {
					return err
				}
				fmt.Fprintf(inv.stdout(), "Queue %s paused: workers finish their running jobs and take no new ones.\n", q)
				return nil
			}
			if err := b.Resume(inv.ctx, q); err != nil {
				return err
			}
			fmt.Fprintf(inv.stdout(), "Queue %s resumed.\n", q)
			return nil
		})
	}
}

func runRestart(inv *invocation) error {
	return inv.withBridge(func(b Bridge) error {
		if err := b.Restart(inv.ctx); err != nil {
			return err
		}
		fmt.Fprintf(inv.stdout(), "Broadcasting queue restart signal (%s).\n", b.RestartKey())
		return nil
	})
}

func runMigrate(inv *invocation) error {
	s, err := inv.settings()
	if err != nil {
		return err
	}
	if inv.bool("notify") {
		sql, err := inv.p.NotifyTrigger(s)
		if err != nil {
			return err
		}
		fmt.Fprint(inv.stdout(), sql)
		return nil
	}
	dryRun := inv.bool("dry-run")
	migrations, err := inv.p.Migrate(inv.ctx, s, dryRun)
	if err != nil {
		return err
	}
	for _, m := range migrations {
		if m.Existed {
			fmt.Fprintf(inv.stdout(), "-- %s exists already: left as it is\n", m.Table)
			if !dryRun {
				continue
			}
		}
		for _, st := range m.Statements {
			fmt.Fprintf(inv.stdout(), "%s;\n", strings.TrimSuffix(strings.TrimSpace(st), ";"))
		}
	}
	return nil
}

// objectCommand describes a job class with public properties (a JSON object, in declaration order) and the
// InteractsWithQueue and Queueable traits, as `php artisan make:job` writes it.
func objectCommand(class string, data any) (laravel.Command, error) {
	cmd := laravel.Command{Class: class, InteractsWithQueue: true, Queueable: &laravel.Queueable{}}
	switch props := data.(type) {
	case *phpjson.Map:
		for i, name := range props.Keys {
			cmd.Props = append(cmd.Props, laravel.Prop{Name: name, Value: props.Values[i]})
		}
	case []any:
		if len(props) > 0 {
			return cmd, usagef("push --object: JSON-DATA must be an object of properties, not a list")
		}
	case string:
		if props != "" {
			return cmd, usagef("push --object: JSON-DATA must be an object of properties")
		}
	default:
		return cmd, usagef("push --object: JSON-DATA must be an object of properties")
	}
	return cmd, nil
}

// jobName is the job's name for listings, or a marker when the payload is not a job at all.
func jobName(payload []byte) string {
	v, err := phpjson.Decode(payload)
	if err != nil {
		return "(not JSON)"
	}
	m, ok := phpjson.Assoc(v).(*phpjson.Map)
	if !ok {
		return "(no job)"
	}
	if name, ok := m.Get("job"); ok {
		if s, ok := name.(string); ok {
			if cmd, ok := m.Get("data"); ok {
				if dm, ok := cmd.(*phpjson.Map); ok {
					if c, ok := dm.Get("commandName"); ok {
						if cs, ok := c.(string); ok {
							return cs // a Laravel object job: its class, not CallQueuedHandler@call
						}
					}
				}
			}
			return s
		}
	}
	return "(no job)"
}

func payloadMap(payload []byte) (*phpjson.Map, bool) {
	v, err := phpjson.Decode(payload)
	if err != nil {
		return nil, false
	}
	m, ok := phpjson.Assoc(v).(*phpjson.Map)
	return m, ok
}

// decodedData is the payload's data, indented; a Laravel command's serialized object is decoded into its
// class and properties.
func decodedData(payload []byte) (string, bool) {
	m, ok := payloadMap(payload)
	if !ok {
		return "", false
	}
	data, ok := m.Get("data")
	if !ok {
		return "", false
	}
	if dm, ok := data.(*phpjson.Map); ok {
		if c, ok := dm.Get("command"); ok {
			if s, ok := c.(string); ok {
				if v, err := laravel.Unserialize(s); err == nil {
					return fmt.Sprintf("%+v", v), true
				}
			}
		}
	}
	out, err := json.MarshalIndent(data, "", "  ")
	if err != nil {
		return "", false
	}
	return string(out), true
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
