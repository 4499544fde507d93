package integration

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
)

// TestLaravelRunsEditedJob: a string job the bridge edits (new data, then a new run time and queue) is run
// by Laravel 8.83's own worker with the new data: the edited payload is what Laravel reads.
func TestLaravelRunsEditedJob(t *testing.T) {
	t.Parallel()
	a := newLaravelApp(t, laravelOptions{})
	ctx := context.Background()
	b := a.Open(bridge.WorkerConfig{})
	log := a.Key("log")
	id, err := b.Push(ctx, "edit-from", jobLegacy, map[string]any{"n": 1, "name": "before", "log": log})
	require.NoError(t, err)

	newData := map[string]any{"n": 2, "name": "after: 张三 <b>&amp;</b>", "list": []any{1, 2}, "log": log}
	raw, err := json.Marshal(newData)
	require.NoError(t, err)
	_, err = b.EditJob(ctx, id, bridge.JobEdit{Data: raw})
	require.NoError(t, err)
	delay := time.Second
	info, err := b.EditJob(ctx, id, bridge.JobEdit{Delay: &delay, Queue: "edit-to"})
	require.NoError(t, err)
	require.Equal(t, "edit-to", info.Queue)
	require.Equal(t, bridge.StateDelayed, info.State)

	w := a.Work("--queue=edit-to", "--drain", "--sleep=0.1")
	require.Len(t, w.Of("JobProcessed"), 1)
	recs := a.RecordsIn(log)
	require.Len(t, recs, 1)
	require.Equal(t, "laravel", recs[0].Runner)
	require.Equal(t, id, recs[0].ID, "the edited job keeps its id")
	require.Equal(t, asJSON(t, newData), asJSON(t, recs[0].Data), "Laravel ran it with the new data")
	a.RequireQueueEmpty("edit-from")
	a.RequireQueueEmpty("edit-to")
}
