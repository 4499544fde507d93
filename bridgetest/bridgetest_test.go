package bridgetest_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/queuebridge/bridge"
	"github.com/queuebridge/bridge/bridgetest"
	"github.com/queuebridge/bridge/events"
)

// fixtures is shared/fixtures beside the checkout.
var fixtures = filepath.Join("..", "..", "shared", "fixtures")

// A think-queue 1.x payload captured from PHP runs through the Go handler with PHP's data.
func TestRunThinkQueueFixture(t *testing.T) {
	b := bridge.New()
	var name string
	b.HandleFunc(`app\job\Hello`, func(_ context.Context, job *bridge.Job) error {
		var d struct{ Name string }
		if err := job.Bind(&d); err != nil {
			return err
		}
		name = d.Name
		return nil
	})
	kit := bridgetest.New(t, b, "thinkqueue-v1")
	kit.Run(kit.Fixture(filepath.Join(fixtures, "thinkqueue", "v1", "redis", "payloads", "assoc_default_queue.json")), bridge.WorkerConfig{}).
		AssertDeleted().
		AssertEvents(events.JobProcessing{}, events.JobProcessed{})
	if name != "张三" {
		t.Fatalf("bound name %q", name)
	}
}

// A Laravel 11 object job captured from PHP binds its serialized command's properties.
func TestRunLaravelObjectFixture(t *testing.T) {
	b := bridge.New()
	var got struct {
		Name  string  `php:"name"`
		Ratio float64 `php:"ratio"`
	}
	b.HandleFunc(`App\Jobs\ObjectProps`, func(_ context.Context, job *bridge.Job) error { return job.Bind(&got) })
	kit := bridgetest.New(t, b, "laravel-11")
	kit.Run(kit.Fixture(filepath.Join(fixtures, "laravel", "v11", "payloads", "object_props.json")), bridge.WorkerConfig{}).AssertDeleted()
	if got.Ratio != 0.1 || got.Name == "" {
		t.Fatalf("bound %+v", got)
	}
}

// An error releases with the worker's delay until the dialect's tries rule fails the job; a handler's own
// Release and Fail win.
func TestRunOutcomes(t *testing.T) {
	b := bridge.New()
	b.HandleFunc(`app\job\Flaky`, func(context.Context, *bridge.Job) error { return errors.New("down") })
	b.HandleFunc(`app\job\Later`, func(_ context.Context, job *bridge.Job) error { job.Release(30 * time.Second); return nil })
	b.HandleFunc(`app\job\Bad`, func(_ context.Context, job *bridge.Job) error { job.Fail(errors.New("bad data")); return nil })
	kit := bridgetest.New(t, b, "thinkqueue-v3")
	wc := bridge.WorkerConfig{Tries: 2, Delay: 5 * time.Second}
	kit.Run(kit.Payload(`app\job\Flaky`, nil), wc).
		AssertReleased(5*time.Second).
		AssertEvents(events.JobProcessing{}, events.JobReleased{}, events.JobExceptionOccurred{})
	kit.Run(kit.Payload(`app\job\Later`, nil), wc).AssertReleased(30 * time.Second)
	kit.Run(kit.Payload(`app\job\Bad`, nil), wc).AssertFailed("bad data")
	// think-queue 3.x counts the reserved attempt: a payload already tried once fails on this run.
	var p map[string]any
	if err := json.Unmarshal(kit.Payload(`app\job\Flaky`, nil), &p); err != nil {
		t.Fatal(err)
	}
	p["attempts"] = 1
	tried, _ := json.Marshal(p)
	kit.Run(tried, wc).AssertFailed("down")
}

// notifier is code under test that pushes: it needs only Push.
type notifier struct {
	q interface {
		Push(ctx context.Context, queueName, job string, data any) (string, error)
	}
}

func (n notifier) welcome(ctx context.Context, user string) error {
	_, err := n.q.Push(ctx, "mail", `App\Jobs\SendWelcome@handle`, map[string]string{"user": user})
	return err
}

// The fake queue records pushes in the dialect's bytes and asserts on them, as Queue::fake() does.
func TestFakeQueue(t *testing.T) {
	q := bridgetest.NewQueue(t, "laravel-8")
	q.AssertNothingPushed()
	if err := (notifier{q}).welcome(context.Background(), "ann"); err != nil {
		t.Fatal(err)
	}
	q.AssertPushed("mail", `App\Jobs\SendWelcome`, bridgetest.DataEquals(map[string]string{"user": "ann"}))
	pushed := q.Pushed()
	if len(pushed) != 1 || len(pushed[0].Payload) == 0 {
		t.Fatalf("pushed %+v", pushed)
	}
	var payload struct{ DisplayName string }
	if err := json.Unmarshal(pushed[0].Payload, &payload); err != nil || payload.DisplayName != `App\Jobs\SendWelcome` {
		t.Fatalf("payload %s: %v", pushed[0].Payload, err)
	}
}
