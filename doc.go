// Package bridge runs a PHP application's queued jobs in Go, on the PHP library's own queue and in its own
// bytes, so PHP workers and the bridge can drain one queue side by side while handlers move to Go one class
// at a time.
//
// # Libraries and stores
//
// Dialects: thinkqueue-v1 and thinkqueue-v2 (ThinkPHP 5.0/5.1; the same bytes), thinkqueue-v3 (ThinkPHP
// 6/8, keys {queues:X}) and thinkqueue-v3-plain (3.0.0–3.0.4, keys queues:X), laravel-8 … laravel-12.
// Stores: Redis (standalone, Sentinel, Cluster), and the app's jobs table in MySQL/MariaDB, PostgreSQL or
// SQLite — with no Config.Connection, an SQLite file the bridge owns (the embedded default). See the
// README's compatibility table.
//
// # A worker binary
//
//	func main() {
//		b := bridge.New()
//		b.HandleFunc(`app\job\Hello`, func(ctx context.Context, job *bridge.Job) error {
//			var data struct{ Name string `json:"name"` }
//			if err := job.Bind(&data); err != nil {
//				return err
//			}
//			log.Printf("hello %s (attempt %d)", data.Name, job.Attempts())
//			return nil
//		})
//		b.Main() // bridge work --connection redis://127.0.0.1:6379/0 --dialect thinkqueue-v3 --queue default
//	}
//
// A handler that returns nil deletes its job (unless it called Release or Fail); one that returns an error
// releases it with the worker's delay, and fails it once its tries are used up. Jobs no handler matches are
// handed back untouched for the PHP workers, or run in the app's PHP by the PHP executor (NewPHPExecutor).
// Laravel class-based jobs route by their command's class and Bind decodes the PHP-serialized command.
//
// # The API
//
// Everything the command line does is a method, context first: Push, Later, PushCommand; Queues, Sizes,
// Jobs; Failed, FailedJob, Retry, RetryAll, Forget, Flush; Restart, Pause, Resume; Migrate; Run, Work,
// NewWorker; NewServer runs a bridge.yaml's worker groups (LoadConfigFile). Open connects from a URL,
// OpenRedis on a go-redis client the program already has.
package bridge
