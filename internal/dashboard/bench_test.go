package dashboard_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
)

// benchJobs is how many jobs the benchmark's queue holds: pages must not load them all.
const benchJobs = 100_000

// BenchmarkDashboard renders each page against real Redis with benchJobs ready jobs in one queue.
func BenchmarkDashboard(b *testing.B) {
	s := newSite(b, testToken)
	ctx := context.Background()
	_, err := s.b.Push(ctx, "big", "App\\Jobs\\Ship", map[string]any{"order": 1, "note": "a job of a typical size, with some text in it"})
	require.NoError(b, err)
	jobs, err := s.b.Jobs(ctx, "big", bridge.StateReady, 0, 1)
	require.NoError(b, err)
	rdb, key := s.rdb, s.prefix+"queues:big" // Laravel's list of ready jobs
	raw := jobs[0].Raw
	for i := 1; i < benchJobs; i += 1000 {
		pipe := rdb.Pipeline()
		for j := i; j < min(i+1000, benchJobs); j++ {
			name := "App\\\\Jobs\\\\Ship"
			if j%100 == 0 {
				name = "App\\\\Jobs\\\\Rare"
			}
			pipe.RPush(ctx, key, bytes.ReplaceAll(raw, []byte(`App\\Jobs\\Ship`), []byte(name)))
		}
		_, err := pipe.Exec(ctx)
		require.NoError(b, err)
	}
	sizes, err := s.b.Sizes(ctx, "big")
	require.NoError(b, err)
	require.EqualValues(b, benchJobs, sizes.Ready)
	failJob(b, s, "mail", "App\\Jobs\\Boom", nil, "boom")

	h, err := s.b.Dashboard(bridge.DashboardOptions{Token: testToken})
	require.NoError(b, err)
	for _, page := range []struct{ name, path string }{
		{"overview", "/"},
		{"queue-first-page", "/queues/big"},
		{"queue-last-page", fmt.Sprintf("/queues/big?offset=%d", benchJobs-50)},
		{"queue-class-filter", "/queues/big?class=App%5CJobs%5CRare"},
		{"failed", "/failed"},
		{"api-overview", "/api/overview"},
	} {
		b.Run(page.name, func(b *testing.B) {
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, page.path, nil))
				if w.Code != http.StatusOK {
					b.Fatalf("%s: %d %s", page.path, w.Code, w.Body)
				}
			}
		})
	}
}
