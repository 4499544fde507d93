package sql_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/queuebridge/bridge/compat/laravel"
	"github.com/queuebridge/bridge/queue"
	"github.com/queuebridge/bridge/storage/sql"
)

// A Laravel app's failed_jobs table on SQLite: create it as Laravel's stub does, log a failed job the
// way DatabaseUuidFailedJobProvider does, then list, forget and flush as queue:failed, queue:forget and
// queue:flush do.
func ExampleDB_Failed() {
	dir, err := os.MkdirTemp("", "qb-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()

	// The app's database file does not exist yet: Create lets the migration make it.
	db, err := sql.Open(ctx, "sqlite:"+filepath.Join(dir, "app.db"), &sql.Options{Create: true})
	if err != nil {
		panic(err)
	}
	defer db.Close()

	m, err := db.MigrateFailed(ctx, laravel.FailedTable(), "", false)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(m.Statements), "statements, the first:", m.Statements[0][:40]+"…")
	store, err := db.Failed(laravel.FailedTable(), "")
	if err != nil {
		panic(err)
	}

	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC) // the worker's clock
	for _, id := range []string{"00000000-0000-4000-8000-000000000016", "00000000-0000-4000-8000-000000000017"} {
		err := store.Insert(ctx, queue.FailedJob{ID: id, Connection: "redis", Queue: "default",
			Payload: []byte(`{"uuid":"` + id + `","job":"App\\Jobs\\Fails"}`), Exception: "RuntimeException: boom",
			FailedAt: now})
		if err != nil {
			panic(err)
		}
	}
	jobs, err := store.Failed(ctx)
	if err != nil {
		panic(err)
	}
	for _, j := range jobs {
		fmt.Println(j.ID, j.Connection, j.Queue, j.FailedAt.Format(time.DateTime))
	}
	forgotten, _ := store.Forget(ctx, jobs[0].ID)
	flushed, _ := store.Flush(ctx)
	fmt.Println("forgot:", forgotten, "flushed:", flushed)
	// Output:
	// 2 statements, the first: create table "failed_jobs" ("id" integer…
	// 00000000-0000-4000-8000-000000000016 redis default 2025-01-02 03:04:05
	// 00000000-0000-4000-8000-000000000017 redis default 2025-01-02 03:04:05
	// forgot: true flushed: 1
}
