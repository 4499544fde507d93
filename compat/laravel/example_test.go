package laravel_test

import (
	"fmt"
	"time"

	"github.com/queuebridge/bridge/compat/laravel"
	"github.com/queuebridge/bridge/compat/phpjson"
)

// A Go producer pushes a class-based job that Laravel 11's worker runs as App\Jobs\SendReport.
func ExampleDialect_NewObjectPayload() {
	d, err := laravel.ParseDialect("laravel-11")
	if err != nil {
		panic(err)
	}
	tries := 3
	cmd := laravel.Command{
		Class: `App\Jobs\SendReport`,
		Props: []laravel.Prop{
			{Name: "tries", Value: tries},
			{Name: "user", Value: laravel.ModelIdentifier{Class: `App\Models\User`, ID: 42, Connection: "mysql"}},
			{Name: "format", Visibility: laravel.Protected, Value: "pdf"},
		},
		InteractsWithQueue: true,
		Queueable:          &laravel.Queueable{Queue: "reports"},
		SerializesModels:   true,
		Tries:              &tries,
	}
	raw, err := d.NewObjectPayload(cmd, laravel.PayloadParams{
		UUID: "00000000-0000-4000-8000-000000000001", ID: "abcdefghijklmnopqrstuvwxyz012345",
		Now: time.Unix(1735787045, 0), Redis: true,
	})
	if err != nil {
		panic(err)
	}
	list, _, _ := d.QueueKeys("reports")
	fmt.Println(list)
	fmt.Println(string(raw))
	// Output:
	// laravel_database_queues:reports
	// {"uuid":"00000000-0000-4000-8000-000000000001","displayName":"App\\Jobs\\SendReport","job":"Illuminate\\Queue\\CallQueuedHandler@call","maxTries":3,"maxExceptions":null,"failOnTimeout":false,"backoff":null,"timeout":null,"retryUntil":null,"data":{"commandName":"App\\Jobs\\SendReport","command":"O:19:\"App\\Jobs\\SendReport\":4:{s:5:\"tries\";i:3;s:4:\"user\";O:45:\"Illuminate\\Contracts\\Database\\ModelIdentifier\":5:{s:5:\"class\";s:15:\"App\\Models\\User\";s:2:\"id\";i:42;s:9:\"relations\";a:0:{}s:10:\"connection\";s:5:\"mysql\";s:15:\"collectionClass\";N;}s:9:\"\u0000*\u0000format\";s:3:\"pdf\";s:5:\"queue\";s:7:\"reports\";}"},"id":"abcdefghijklmnopqrstuvwxyz012345","attempts":0}
}

// A Go consumer routes a popped job by name and decodes its command.
func ExampleDecodeCommand() {
	d := laravel.Dialect{Version: laravel.V8, Prefix: laravel.DefaultPrefix}
	raw := []byte(`{"uuid":"u","displayName":"App\\Jobs\\Plain","job":"Illuminate\\Queue\\CallQueuedHandler@call","maxTries":null,"maxExceptions":null,"failOnTimeout":false,"backoff":"10,30","timeout":null,"retryUntil":null,"data":{"commandName":"App\\Jobs\\Plain","command":"O:14:\"App\\Jobs\\Plain\":3:{s:1:\"n\";i:7;s:3:\"job\";N;s:5:\"queue\";s:4:\"high\";}"},"id":"x","attempts":0}`)
	p, err := d.Parse(raw)
	if err != nil {
		panic(err)
	}
	var job struct {
		N int
		laravel.Queueable
	}
	if err := laravel.DecodeCommand(p.Command, &job); err != nil {
		panic(err)
	}
	attempts := d.Attempts(p)
	fmt.Println(p.Name(), job.N, job.Queue, attempts, d.Backoff(p, attempts, nil))
	// Output: App\Jobs\Plain 7 high 1 10s
}

// A "Class@method" job needs no PHP serialization; the handler receives data as an array.
func ExampleDialect_NewStringPayload() {
	d := laravel.Dialect{Version: laravel.V12, Prefix: laravel.DefaultPrefix}
	data, err := phpjson.FromGo(map[string]any{"to": "ada@example.com", "name": "Ada Lovelace"})
	if err != nil {
		panic(err)
	}
	raw, err := d.NewStringPayload(`App\Handlers\Mail@send`, data, laravel.PayloadParams{
		UUID: "u", Now: time.Unix(1735787045, 0), Later: true, Delay: time.Minute,
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(string(raw))
	// Output: {"uuid":"u","displayName":"App\\Handlers\\Mail","job":"App\\Handlers\\Mail@send","maxTries":null,"maxExceptions":null,"failOnTimeout":false,"backoff":null,"timeout":null,"data":{"name":"Ada Lovelace","to":"ada@example.com"},"createdAt":1735787045,"delay":60}
}
