package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/queuebridge/bridge/queue"
)

// jsonFlag makes a command print JSON instead of a table.
func jsonFlag() *flag { return &flag{name: "json", usage: "print JSON"} }

// jobsCommand is `jobs list|show|cancel|edit`: the jobs waiting in a queue, by id.
func jobsCommand() *command {
	return &command{
		name: "jobs", usage: "list, show, cancel or edit the jobs in a queue",
		subs: []*command{
			{name: "list", usage: "a queue's jobs in one state, in the order they run", args: "QUEUE", minArgs: 1, maxArgs: 1,
				flags: with(
					&flag{name: "state", arg: "S", def: "ready", usage: "ready, delayed or reserved"},
					&flag{name: "limit", arg: "N", def: "50", usage: "list at most this many jobs"},
					&flag{name: "offset", arg: "N", def: "0", usage: "skip this many jobs first"},
					&flag{name: "job", arg: "CLASS", usage: "only jobs of this class (Laravel: the command's class)"},
					jsonFlag()),
				run: runJobsList},
			{name: "show", usage: "one job: where it is, when it runs, its attempts, its raw payload and decoded data (a Laravel command's properties)",
				args: "ID", minArgs: 1, maxArgs: 1, flags: with(jsonFlag()), run: runJobsShow},
			{name: "cancel", usage: "withdraw a ready or delayed job (撤回) so it never runs; a reserved job is running and cannot be cancelled (exit 1)",
				args: "ID", minArgs: 1, maxArgs: 1, flags: with(jsonFlag()), run: runJobsCancel},
			{name: "edit", usage: "change a ready or delayed job in one step: its data (string jobs), when it runs, its queue or its place",
				args: "ID", minArgs: 1, maxArgs: 1,
				flags: with(
					&flag{name: "data", arg: "JSON", usage: "new data, encoded as the PHP library encodes a payload (not for Laravel object jobs)"},
					&flag{name: "delay", arg: "S", usage: "run after this many seconds from now"},
					&flag{name: "at", arg: "TIME", usage: `run at this time: RFC 3339 or "2006-01-02 15:04:05" (local time)`},
					&flag{name: "queue", arg: "Q", usage: "move the job to this queue"},
					&flag{name: "front", usage: "move the job to the front of its queue: it runs next"},
					jsonFlag()),
				run: runJobsEdit},
		},
	}
}

// queueCommand is `queue clear`.
func queueCommand() *command {
	return &command{
		name: "queue", usage: "act on a whole queue",
		subs: []*command{
			{name: "clear", usage: "delete a queue's waiting jobs, ready and delayed (reserved ones finish); needs --yes",
				args: "QUEUE", minArgs: 1, maxArgs: 1,
				flags: with(&flag{name: "yes", usage: "yes, delete them"}, jsonFlag()), run: runQueueClear},
		},
	}
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// jobJSON is a job as --json prints it.
type jobJSON struct {
	ID            string          `json:"id"`
	Queue         string          `json:"queue"`
	State         queue.State     `json:"state"`
	Name          string          `json:"name"`
	Attempts      int             `json:"attempts"`
	AvailableAt   *time.Time      `json:"available_at,omitempty"`
	ReservedUntil *time.Time      `json:"reserved_until,omitempty"`
	Payload       string          `json:"payload"`
	Data          json.RawMessage `json:"data,omitempty"`
}

func toJobJSON(j queue.JobInfo) jobJSON {
	out := jobJSON{ID: j.ID, Queue: j.Queue, State: j.State, Name: j.Name, Attempts: j.Attempts, Payload: string(j.Raw), Data: j.Data}
	if !j.AvailableAt.IsZero() {
		out.AvailableAt = &j.AvailableAt
	}
	if !j.ReservedUntil.IsZero() {
		out.ReservedUntil = &j.ReservedUntil
	}
	if !json.Valid(out.Data) {
		out.Data = nil
	}
	return out
}

func runJobsList(inv *invocation) error {
	state := queue.State(inv.flag("state"))
	switch state {
	case queue.StateReady, queue.StateDelayed, queue.StateReserved:
	default:
		return usagef("--state %q: want ready, delayed or reserved", state)
	}
	limit, err := parseInt("limit", inv.flag("limit"))
	if err != nil {
		return err
	}
	offset, err := parseInt("offset", inv.flag("offset"))
	if err != nil {
		return err
	}
	if limit < 1 || offset < 0 {
		return usagef("--limit must be at least 1 and --offset at least 0")
	}
	return inv.withBridge(func(b Bridge) error {
		stored, err := b.Jobs(inv.ctx, inv.arg(0), state, offset, limit)
		if err != nil {
			return err
		}
		class := inv.flag("job")
		jobs := make([]jobJSON, 0, len(stored))
		for _, s := range stored {
			j := b.DescribeJob(s)
			if class == "" || j.Name == class {
				jobs = append(jobs, toJobJSON(j))
			}
		}
		if inv.bool("json") {
			return printJSON(inv.stdout(), jobs)
		}
		if len(jobs) == 0 {
			fmt.Fprintf(inv.stdout(), "No %s jobs in %s.\n", state, inv.arg(0))
			return nil
		}
		tw := tabwriter.NewWriter(inv.stdout(), 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tJob\tAttempts\tRuns\tData")
		for _, j := range jobs {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", j.ID, j.Name, j.Attempts, runsAt(j), clip(string(j.Data), 60))
		}
		return tw.Flush()
	})
}

// runsAt says when a job runs, for a table.
func runsAt(j jobJSON) string {
	switch {
	case j.State == queue.StateReserved && j.ReservedUntil != nil:
		return "running (reserved until " + j.ReservedUntil.Local().Format(time.DateTime) + ")"
	case j.State == queue.StateReserved:
		return "running"
	case j.AvailableAt != nil && j.State == queue.StateDelayed:
		return j.AvailableAt.Local().Format(time.DateTime)
	}
	return "next free worker"
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func runJobsShow(inv *invocation) error {
	return inv.withBridge(func(b Bridge) error {
		info, err := b.FindJob(inv.ctx, inv.arg(0))
		if err != nil {
			return err
		}
		j := toJobJSON(info)
		if inv.bool("json") {
			return printJSON(inv.stdout(), j)
		}
		printJob(inv.stdout(), j)
		return nil
	})
}

func printJob(w io.Writer, j jobJSON) {
	fmt.Fprintf(w, "ID:        %s\nQueue:     %s\nState:     %s\nJob:       %s\nAttempts:  %d (as attempts() reports on its next run)\nRuns:      %s\n",
		j.ID, j.Queue, j.State, j.Name, j.Attempts, runsAt(j))
	fmt.Fprintf(w, "\nPayload:\n%s\n", j.Payload)
	var data bytes.Buffer
	if json.Indent(&data, j.Data, "", "  ") == nil {
		fmt.Fprintf(w, "\nData:\n%s\n", data.String())
	}
}

func runJobsCancel(inv *invocation) error {
	return inv.withBridge(func(b Bridge) error {
		id := inv.arg(0)
		if err := b.CancelJob(inv.ctx, id); err != nil {
			return err
		}
		if inv.bool("json") {
			return printJSON(inv.stdout(), map[string]any{"id": id, "cancelled": true})
		}
		fmt.Fprintf(inv.stdout(), "Job %s cancelled: it will not run.\n", id)
		return nil
	})
}

func runJobsEdit(inv *invocation) error {
	var e queue.JobEdit
	if inv.given("data") {
		e.Data = json.RawMessage(inv.flag("data"))
		if !json.Valid(e.Data) {
			return usagef("jobs edit: --data is not JSON: %s", clip(inv.flag("data"), 40))
		}
	}
	if inv.given("delay") && inv.given("at") {
		return usagef("jobs edit: give --delay or --at, not both")
	}
	if inv.given("delay") {
		d, err := parseSeconds("delay", inv.flag("delay"))
		if err != nil {
			return err
		}
		e.Delay = &d
	}
	if inv.given("at") {
		at, err := parseTime(inv.flag("at"))
		if err != nil {
			return err
		}
		e.At = &at
	}
	e.Queue, e.Front = inv.flag("queue"), inv.bool("front")
	if e.Front && (e.Delay != nil || e.At != nil) {
		return usagef("jobs edit: --front runs the job next; it takes no --delay or --at")
	}
	if e.Data == nil && e.Delay == nil && e.At == nil && e.Queue == "" && !e.Front {
		return usagef("jobs edit: nothing to change (give --data, --delay, --at, --queue or --front)")
	}
	return inv.withBridge(func(b Bridge) error {
		info, err := b.EditJob(inv.ctx, inv.arg(0), e)
		if err != nil {
			return err
		}
		j := toJobJSON(info)
		if inv.bool("json") {
			return printJSON(inv.stdout(), j)
		}
		fmt.Fprintf(inv.stdout(), "Job %s edited.\n\n", inv.arg(0))
		printJob(inv.stdout(), j)
		return nil
	})
}

// parseTime reads --at: RFC 3339, or "2006-01-02 15:04:05" in local time.
func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation(time.DateTime, s, time.Local); err == nil {
		return t, nil
	}
	return time.Time{}, usagef(`--at %q: want RFC 3339 (2006-01-02T15:04:05+08:00) or "2006-01-02 15:04:05"`, s)
}

func runQueueClear(inv *invocation) error {
	q := inv.arg(0)
	if !inv.bool("yes") {
		return usagef("queue clear %s deletes every ready and delayed job of the queue: add --yes to do it", q)
	}
	return inv.withBridge(func(b Bridge) error {
		n, err := b.ClearQueue(inv.ctx, q)
		if err != nil {
			return err
		}
		if inv.bool("json") {
			return printJSON(inv.stdout(), map[string]any{"queue": q, "deleted": n})
		}
		fmt.Fprintf(inv.stdout(), "Cleared %d jobs from the [%s] queue.\n", n, q)
		return nil
	})
}
