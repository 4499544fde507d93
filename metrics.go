package bridge

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/queuebridge/bridge/compat/laravel"
	"github.com/queuebridge/bridge/events"
	"github.com/queuebridge/bridge/queue"
)

// maxJobLabels bounds the job label's values: job names are the app's classes, but a payload can name
// anything, so past this many distinct names the rest count as "other".
const maxJobLabels = 500

// Metrics are the bridge's Prometheus metrics, fed by job events and by the server's samplers. Names and
// labels follow Prometheus' conventions; labels are bounded (queues and job classes, never ids).
type Metrics struct {
	jobs     *prometheus.CounterVec   // bridge_jobs_total{queue,job,runtime,outcome}
	run      *prometheus.HistogramVec // bridge_job_run_seconds{queue,job,runtime}
	wait     *prometheus.HistogramVec // bridge_job_wait_seconds{queue}
	inFlight *prometheus.GaugeVec     // bridge_jobs_in_flight{queue}
	sizes    *prometheus.GaugeVec     // bridge_queue_jobs{group,queue,state}
	groups   *prometheus.GaugeVec     // bridge_group_up{group,state}
	storeErr *prometheus.CounterVec   // bridge_store_errors_total{group}

	mu    sync.Mutex
	names map[string]bool
}

// NewMetrics registers the bridge's metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bridge_jobs_total",
			Help: "Jobs by outcome: processed (deleted), failed (to the failed store), released (back for another attempt), exception (a run that ended in an error), handed_back (left for the PHP workers)."},
			[]string{"queue", "job", "runtime", "outcome"}),
		run: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "bridge_job_run_seconds",
			Help: "How long jobs ran, by runtime (go or php).", Buckets: prometheus.ExponentialBuckets(0.001, 4, 10)},
			[]string{"queue", "job", "runtime"}),
		wait: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "bridge_job_wait_seconds",
			Help: "How long jobs waited between push and start, where the payload says when it was pushed (Laravel 12's createdAt).", Buckets: prometheus.ExponentialBuckets(0.01, 4, 10)},
			[]string{"queue"}),
		inFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "bridge_jobs_in_flight", Help: "Jobs running now."}, []string{"queue"}),
		sizes: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "bridge_queue_jobs",
			Help: "Jobs in a queue by state (ready, delayed, reserved), sampled."}, []string{"group", "queue", "state"}),
		groups: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "bridge_group_up",
			Help: "1 for a worker group's current state (STARTING, RUNNING, BACKOFF, STOPPING, STOPPED)."}, []string{"group", "state"}),
		storeErr: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bridge_store_errors_total",
			Help: "Errors reaching a group's store (connect, sample)."}, []string{"group"}),
		names: map[string]bool{},
	}
	reg.MustRegister(m.jobs, m.run, m.wait, m.inFlight, m.sizes, m.groups, m.storeErr)
	return m
}

// listener counts the events of the jobs b's workers run: runtime is the side the worker gave each job to
// (its route applied), php for the PHP executor. Shadow runs dispatch no events, so they are no job runs here.
func (m *Metrics) listener(now func() time.Time) events.Listener {
	runtime := func(j *queue.Job) string {
		if j.InPHP() {
			return "php"
		}
		return "go"
	}
	return func(_ context.Context, event any) {
		switch e := event.(type) {
		case events.JobProcessing:
			m.inFlight.WithLabelValues(e.Job.Queue()).Inc()
			if p, ok := e.Job.Payload().(*laravel.Payload); ok && p.CreatedAt != nil {
				m.wait.WithLabelValues(e.Job.Queue()).Observe(now().Sub(time.Unix(*p.CreatedAt, 0)).Seconds())
			}
		case events.JobProcessed:
			m.finish(e.Job, runtime(e.Job), "processed")
		case events.JobExceptionOccurred:
			m.finish(e.Job, runtime(e.Job), "exception")
		case events.JobReleased:
			m.jobs.WithLabelValues(e.Job.Queue(), m.jobLabel(e.Job.Name()), runtime(e.Job), "released").Inc()
		case events.JobFailed:
			if e.Job == nil {
				m.jobs.WithLabelValues(e.Reservation.Queue, "(invalid payload)", "", "failed").Inc()
				return
			}
			m.jobs.WithLabelValues(e.Job.Queue(), m.jobLabel(e.Job.Name()), runtime(e.Job), "failed").Inc()
		}
	}
}

// finish ends a run started by JobProcessing, at its last event, which comes once the worker has set how
// long the handler ran (Job.Took).
func (m *Metrics) finish(j *queue.Job, runtime, outcome string) {
	name := m.jobLabel(j.Name())
	m.jobs.WithLabelValues(j.Queue(), name, runtime, outcome).Inc()
	m.inFlight.WithLabelValues(j.Queue()).Dec()
	m.run.WithLabelValues(j.Queue(), name, runtime).Observe(j.Took().Seconds())
}

func (m *Metrics) jobLabel(name string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.names[name] {
		return name
	}
	if len(m.names) >= maxJobLabels {
		return "other"
	}
	m.names[name] = true
	return name
}

// groupState sets a group's state gauge.
func (m *Metrics) groupState(group string, st GroupState) {
	for _, s := range []GroupState{GroupStarting, GroupRunning, GroupBackoff, GroupStopping, GroupStopped} {
		v := 0.0
		if s == st {
			v = 1
		}
		m.groups.WithLabelValues(group, string(s)).Set(v)
	}
}

// sample records a queue's sizes.
func (m *Metrics) sample(group, queueName string, s QueueSizes) {
	m.sizes.WithLabelValues(group, queueName, string(StateReady)).Set(float64(s.Ready))
	m.sizes.WithLabelValues(group, queueName, string(StateDelayed)).Set(float64(s.Delayed))
	m.sizes.WithLabelValues(group, queueName, string(StateReserved)).Set(float64(s.Reserved))
}
