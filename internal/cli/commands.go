package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	urfave "github.com/urfave/cli/v2"

	"github.com/queuebridge/bridge/compat/laravel"
	"github.com/queuebridge/bridge/compat/phpjson"
	"github.com/queuebridge/bridge/internal/conn"
)

// withConn opens the connection the flags name, runs f, and closes it.
func withConn(c *urfave.Context, f func(*conn.Conn) error) error {
	cfg, err := configFrom(c)
	if err != nil {
		return err
	}
	cn, err := conn.Open(c.Context, cfg)
	if err != nil {
		return err
	}
	defer cn.Close()
	return f(cn)
}

func pushCommand() *urfave.Command {
	return &urfave.Command{
		Name:      "push",
		Usage:     "push a job as the PHP library would (Queue::push / Queue::later); prints its id",
		ArgsUsage: `JOB [JSON-DATA]   e.g. 'app\job\Hello' '{"name":"Ann"}'`,
		Flags: append(connectionFlags(),
			&urfave.StringFlag{Name: "queue", Value: "default", Usage: "queue name"},
			&urfave.StringFlag{Name: "delay", Value: "0", Usage: "seconds before the job becomes visible (Queue::later)"},
			&urfave.BoolFlag{Name: "object", Usage: "Laravel: JOB is a job class (dispatch(new JOB)) and JSON-DATA its public properties, in declaration order"},
		),
		Action: func(c *urfave.Context) error {
			if c.NArg() < 1 || c.NArg() > 2 {
				return fmt.Errorf("push: want JOB [JSON-DATA], got %d arguments", c.NArg())
			}
			job := c.Args().Get(0)
			// PHP's default data is the empty string; given data is what json_decode($arg, true) would hold.
			var data any = ""
			if c.NArg() == 2 {
				v, err := phpjson.Decode([]byte(c.Args().Get(1)))
				if err != nil {
					return fmt.Errorf("push: JSON-DATA: %w", err)
				}
				data = phpjson.Assoc(v)
			}
			delay, err := parseSeconds("delay", c.String("delay"))
			if err != nil {
				return err
			}
			return withConn(c, func(cn *conn.Conn) error {
				push := func() (string, error) { return cn.Push(c.Context, c.String("queue"), job, data, delay) }
				if c.Bool("object") {
					cmd, err := objectCommand(job, data)
					if err != nil {
						return err
					}
					push = func() (string, error) { return cn.PushCommand(c.Context, c.String("queue"), cmd, delay) }
				}
				id, err := push()
				if err != nil {
					return err
				}
				fmt.Fprintln(c.App.Writer, id)
				return nil
			})
		},
	}
}

func failedCommand() *urfave.Command {
	return &urfave.Command{
		Name:  "failed",
		Usage: "list, retry, forget or flush failed jobs",
		Subcommands: []*urfave.Command{
			{
				Name:  "list",
				Flags: connectionFlags(),
				Usage: "list failed jobs, oldest first",
				Action: func(c *urfave.Context) error {
					return withConn(c, func(cn *conn.Conn) error {
						jobs, err := cn.Failed(c.Context)
						if err != nil {
							return err
						}
						if len(jobs) == 0 {
							fmt.Fprintln(c.App.Writer, "No failed jobs!")
							return nil
						}
						tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
						fmt.Fprintln(tw, "ID\tConnection\tQueue\tJob\tFailed At\tError")
						for _, j := range jobs {
							fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", j.ID, j.Connection, j.Queue, jobName(j.Payload),
								j.FailedAt.Format(time.DateTime), firstLine(j.Exception))
						}
						return tw.Flush()
					})
				},
			},
			{
				Name:      "retry",
				Flags:     connectionFlags(),
				Usage:     "push failed jobs back onto their queues (attempts reset) and forget them",
				ArgsUsage: "ID [ID…] | all",
				Action: func(c *urfave.Context) error {
					if c.NArg() == 0 {
						return fmt.Errorf("retry: name failed job ids, or all")
					}
					return withConn(c, func(cn *conn.Conn) error {
						ids := c.Args().Slice()
						if len(ids) == 1 && ids[0] == "all" {
							jobs, err := cn.Failed(c.Context)
							if err != nil {
								return err
							}
							ids = ids[:0]
							for _, j := range jobs {
								ids = append(ids, j.ID)
							}
						}
						for _, id := range ids {
							if err := cn.Retry(c.Context, id); err != nil {
								return err
							}
							fmt.Fprintf(c.App.Writer, "The failed job [%s] has been pushed back onto the queue!\n", id)
						}
						return nil
					})
				},
			},
			{
				Name:      "forget",
				Flags:     connectionFlags(),
				Usage:     "delete one failed job",
				ArgsUsage: "ID",
				Action: func(c *urfave.Context) error {
					if c.NArg() != 1 {
						return fmt.Errorf("forget: want one failed job id")
					}
					return withConn(c, func(cn *conn.Conn) error {
						ok, err := cn.Forget(c.Context, c.Args().First())
						if err != nil {
							return err
						}
						if !ok {
							return fmt.Errorf("forget: no failed job %s", c.Args().First())
						}
						fmt.Fprintln(c.App.Writer, "Failed job deleted successfully!")
						return nil
					})
				},
			},
			{
				Name:  "flush",
				Flags: connectionFlags(),
				Usage: "delete every failed job",
				Action: func(c *urfave.Context) error {
					return withConn(c, func(cn *conn.Conn) error {
						n, err := cn.Flush(c.Context)
						if err != nil {
							return err
						}
						fmt.Fprintf(c.App.Writer, "%d failed jobs deleted.\n", n)
						return nil
					})
				},
			},
		},
	}
}

func restartCommand() *urfave.Command {
	return &urfave.Command{
		Name:  "restart",
		Flags: connectionFlags(),
		Usage: "tell every worker on this queue, PHP's and the bridge's, to stop after its current job (think-queue's queue:restart)",
		Action: func(c *urfave.Context) error {
			return withConn(c, func(cn *conn.Conn) error {
				if err := cn.Restart(c.Context); err != nil {
					return err
				}
				fmt.Fprintf(c.App.Writer, "Broadcasting queue restart signal (%s).\n", cn.RestartKey())
				return nil
			})
		},
	}
}

func migrateCommand() *urfave.Command {
	return &urfave.Command{
		Name:  "migrate",
		Usage: "create a database queue's jobs table and its failed_jobs table (or --failed-database's) as the PHP library ships them, where they do not exist yet (never done implicitly)",
		Flags: append(connectionFlags(),
			&urfave.BoolFlag{Name: "dry-run", Usage: "print the DDL, change nothing"},
		),
		Action: func(c *urfave.Context) error {
			cfg, err := configFrom(c)
			if err != nil {
				return err
			}
			dryRun := c.Bool("dry-run")
			migrations, err := conn.Migrate(c.Context, cfg, dryRun)
			if err != nil {
				return err
			}
			for _, m := range migrations {
				if m.Existed {
					fmt.Fprintf(c.App.Writer, "-- %s exists already: left as it is\n", m.Table)
					if !dryRun {
						continue
					}
				}
				for _, s := range m.Statements {
					fmt.Fprintf(c.App.Writer, "%s;\n", strings.TrimSuffix(strings.TrimSpace(s), ";"))
				}
			}
			return nil
		},
	}
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
			return cmd, fmt.Errorf("push --object: JSON-DATA must be an object of properties, not a list")
		}
	case string:
		if props != "" {
			return cmd, fmt.Errorf("push --object: JSON-DATA must be an object of properties")
		}
	default:
		return cmd, fmt.Errorf("push --object: JSON-DATA must be an object of properties")
	}
	return cmd, nil
}

// jobName is the job's name for listings, or a marker when the payload is not a job at all.
func jobName(payload []byte) string {
	v, err := phpjson.Decode(payload)
	if err != nil {
		return "(not JSON)"
	}
	if m, ok := v.(*phpjson.Map); ok {
		if name, ok := m.Get("job"); ok {
			if s, ok := name.(string); ok {
				return s
			}
		}
	}
	return "(no job)"
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
