package bridge

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/queuebridge/bridge/executor/php"
	"github.com/queuebridge/bridge/status"
	"github.com/queuebridge/bridge/worker"
)

// GroupState is where a worker group of a Server is in its life, in supervisord's words.
type GroupState = status.State

// The states of a group.
const (
	GroupStarting = status.Starting
	GroupRunning  = status.Running
	GroupBackoff  = status.Backoff
	GroupStopping = status.Stopping
	GroupStopped  = status.Stopped
	GroupFatal    = status.Fatal
)

// GroupStatus is what a group of a Server is doing.
type GroupStatus = status.Group

// Server runs the worker groups of a bridge.yaml in one process, as supervisor and Horizon run PHP workers:
// each group on its own connection, restarted with backoff when its store is unreachable, while the others go
// on. Create it with NewServer; Run it once.
type Server struct {
	b       *Bridge // the handlers and listeners every group uses
	log     *slog.Logger
	reg     *prometheus.Registry
	metrics *Metrics

	mu     sync.Mutex
	base   context.Context // what groups run under, once Run started
	cfg    *FileConfig
	groups map[string]*serverGroup
	// dashboard is the config file's dashboard, once openDashboard connected it.
	dashboard http.Handler
}

// serverGroup is one running group.
type serverGroup struct {
	metrics *Metrics
	spec    groupSpec
	cancel  context.CancelFunc
	done    chan struct{}

	mu     sync.Mutex
	status GroupStatus
	bridge *Bridge        // connected while the group runs
	worker *worker.Worker // running while the group runs
	pool   *php.Pool      // its PHP pool while the group runs, or the last one if it went FATAL
}

// groupSpec is everything a group is started from; two equal specs need no restart on reload.
type groupSpec struct {
	name   string
	conn   FileConnection
	group  FileGroup
	php    *FilePHP
	queues []string
}

// NewServer returns a server for cfg with b's handlers and listeners (b need not be connected).
func (b *Bridge) NewServer(cfg *FileConfig, log *slog.Logger) *Server {
	if log == nil {
		log = slog.Default()
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := NewMetrics(reg)
	b.Listen(m.listener(time.Now))
	b.routing.setFile(cfg.RouteTable())
	return &Server{b: b, log: log, reg: reg, metrics: m, cfg: cfg, groups: map[string]*serverGroup{}}
}

// Run starts every group and runs until ctx is cancelled, then stops them all gracefully (each within its
// grace period, handing back what did not finish).
func (s *Server) Run(ctx context.Context) error {
	s.mu.Lock()
	// Groups stop when the server stops them, gracefully, not when ctx is cancelled under them.
	s.base = context.WithoutCancel(ctx)
	s.apply(s.base, s.cfg)
	s.mu.Unlock()
	beats, stopBeats := context.WithCancel(context.WithoutCancel(ctx))
	beating := make(chan struct{})
	go func() { s.heartbeat(beats); close(beating) }()
	<-ctx.Done()
	stopBeats() // leave the registry while the connections are still open
	<-beating
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopAll()
	return nil
}

// Reload applies a new config: groups added are started, groups removed are stopped gracefully, groups whose
// settings (or connection) changed are stopped and started again; the others keep running untouched.
func (s *Server) Reload(cfg *FileConfig) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg = cfg
	s.b.routing.setFile(cfg.RouteTable())
	if s.base != nil {
		s.apply(s.base, cfg)
	}
}

// Status is every group's state, by name.
func (s *Server) Status() []GroupStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]GroupStatus, 0, len(s.groups))
	for _, name := range mapKeys(s.groups) {
		g := s.groups[name]
		g.mu.Lock()
		st := g.status
		if g.worker != nil {
			stats := g.worker.Stats()
			st.InFlight, st.Stuck = stats.Running, stats.Stuck
		}
		if g.pool != nil {
			st.PHP = phpProcesses(g.pool.Processes())
		}
		g.mu.Unlock()
		out = append(out, st)
	}
	return out
}

// Ready reports whether every group is running (for /readyz), and the first that is not.
func (s *Server) Ready() (bool, string) {
	for _, st := range s.Status() {
		if st.State != GroupRunning {
			return false, fmt.Sprintf("group %s is %s: %s", st.Name, st.State, st.LastError)
		}
	}
	return true, ""
}

func specsOf(cfg *FileConfig) map[string]groupSpec {
	specs := map[string]groupSpec{}
	for name, g := range cfg.Groups {
		spec := groupSpec{name: name, group: *g, php: g.PHP, queues: g.Queues}
		if c := cfg.Connections[g.Connection]; c != nil {
			spec.conn = *c
		}
		specs[name] = spec
	}
	return specs
}

// apply makes the running groups those of cfg (s.mu held).
func (s *Server) apply(ctx context.Context, cfg *FileConfig) {
	want := specsOf(cfg)
	for name, g := range s.groups {
		if spec, ok := want[name]; !ok || !reflect.DeepEqual(spec, g.spec) {
			s.log.Info("stopping group", "group", name, "why", map[bool]string{true: "changed", false: "removed"}[ok])
			g.stop()
			delete(s.groups, name)
		}
	}
	for _, name := range mapKeys(want) {
		if _, running := s.groups[name]; running {
			continue
		}
		s.groups[name] = s.start(ctx, want[name])
	}
}

func (s *Server) stopAll() {
	var wg sync.WaitGroup
	for _, g := range s.groups {
		wg.Go(g.stop)
	}
	wg.Wait()
}

// stop cancels the group and waits until its worker has stopped gracefully.
func (g *serverGroup) stop() {
	g.setState(GroupStopping, "")
	g.cancel()
	<-g.done
	g.setState(GroupStopped, "")
}

func (g *serverGroup) setState(st GroupState, lastErr string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.status.State != st {
		g.status.State, g.status.Since = st, time.Now()
		g.metrics.groupState(g.spec.name, st)
	}
	if lastErr != "" {
		g.status.LastError = lastErr
	}
}

// Backoff of a group whose store or PHP executor failed: 1s doubling to 30s, as the worker rests an
// unserved queue.
const (
	groupBackoffFirst = time.Second
	groupBackoffMost  = 30 * time.Second
)

// start runs a group in its own goroutine until its context is cancelled.
func (s *Server) start(parent context.Context, spec groupSpec) *serverGroup {
	ctx, cancel := context.WithCancel(parent)
	g := &serverGroup{metrics: s.metrics, spec: spec, cancel: cancel, done: make(chan struct{})}
	g.status = GroupStatus{Name: spec.name, Connection: redactURL(cmp.Or(spec.conn.URL, EmbeddedConnection)), Dialect: spec.conn.Dialect,
		Queues: slices.Clone(spec.queues), State: GroupStarting, Since: time.Now()}
	log := s.log.With("group", spec.name)
	go func() {
		defer close(g.done)
		wait := groupBackoffFirst
		for first := true; ctx.Err() == nil; first = false {
			if !first {
				g.mu.Lock()
				g.status.Restarts++
				g.mu.Unlock()
			}
			err := s.runGroup(ctx, g, log)
			switch {
			case ctx.Err() != nil:
				return
			case errors.Is(err, php.ErrFatal):
				// supervisord leaves a FATAL program alone until told otherwise: here, a reload that changes it.
				g.setState(GroupFatal, err.Error())
				log.Error("group FATAL: its PHP processes could not be started; fix the app and reload", "err", err)
				<-ctx.Done()
				return
			case err == nil:
				wait = groupBackoffFirst // stopped by itself (restart signal): start it again at once
				log.Info("group's worker stopped; starting it again")
				continue
			}
			g.setState(GroupBackoff, err.Error())
			s.metrics.storeErr.WithLabelValues(spec.name).Inc()
			log.Error("group failed; trying again", "err", err, "in", wait)
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			wait = min(wait*2, groupBackoffMost)
		}
	}()
	return g
}

// runGroup connects, starts the PHP executor, and works until the worker stops.
func (s *Server) runGroup(ctx context.Context, g *serverGroup, log *slog.Logger) error {
	g.setState(GroupStarting, "")
	cfg := g.spec.conn.Config(&Config{Logger: log})
	b := s.b.sibling()
	if err := b.Connect(ctx, &cfg); err != nil {
		return err
	}
	defer b.Close()
	wc := g.spec.group.WorkerConfig()
	if p := g.spec.php; p != nil {
		o, err := p.options()
		if err != nil {
			return err
		}
		o.Tries = wc.Tries
		ex, err := b.NewPHPExecutor(ctx, o)
		if err != nil {
			return err
		}
		defer ex.Close()
		wc.PHP = ex
		if pool, ok := ex.(*php.Pool); ok {
			g.mu.Lock()
			g.pool = pool
			g.mu.Unlock()
			// A pool whose every process went FATAL stops the group's worker, which then reports FATAL.
			var cancel context.CancelFunc
			ctx, cancel = context.WithCancel(ctx)
			defer cancel()
			go func() {
				select {
				case <-pool.Fatal():
					cancel()
				case <-ctx.Done():
				}
			}()
		}
	}
	w, err := b.NewWorker(wc)
	if err != nil {
		return err
	}
	g.mu.Lock()
	g.status.Dialect, g.status.Concurrency, g.bridge, g.worker = b.Dialect(), max(wc.Concurrency, 1), b, w
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.bridge, g.worker = nil, nil
		g.mu.Unlock()
	}()
	g.setState(GroupRunning, "")
	go s.sampleSizes(ctx, b, g.spec, log)
	log.Info("group working", "connection", b.Connection(), "dialect", b.Dialect(), "queues", wc.Queues,
		"concurrency", max(wc.Concurrency, 1))
	err = w.Run(ctx)
	if g.pool != nil {
		select {
		case <-g.pool.Fatal():
			return fmt.Errorf("PHP executor: %w", php.ErrFatal)
		default:
		}
	}
	if errors.Is(err, worker.ErrMemoryExceeded) {
		return fmt.Errorf("worker passed its memory limit: %w", err)
	}
	return err
}

// options is the executor's php.Options.
func (p *FilePHP) options() (php.Options, error) {
	o := php.Options{App: p.App, Boot: p.Boot, Binary: p.Binary, Workers: p.Workers, Memory: int64(p.Memory) << 20}
	if p.StartSecs != nil {
		o.StartUptime = p.StartSecs.Duration()
		if o.StartUptime == 0 {
			o.StartUptime = -1 // startsecs: 0 is "started once ready"
		}
	}
	if p.StartRetries != nil {
		o.StartRetries = *p.StartRetries
		if o.StartRetries == 0 {
			o.StartRetries = -1 // startretries: 0 is FATAL on the first failure
		}
	}
	if p.Framework != "" {
		f, err := php.ParseFramework(p.Framework)
		if err != nil {
			return o, err
		}
		o.Framework = f
	}
	mode, err := php.ParseMode(p.Mode)
	if err != nil {
		return o, err
	}
	o.Mode = mode
	o.MaxJobs = 1000
	if p.MaxJobs != nil {
		o.MaxJobs = *p.MaxJobs
	}
	return o, nil
}

// phpProcesses is a pool's processes as status reports them.
func phpProcesses(ps []php.ProcessState) []status.PHPProcess {
	out := make([]status.PHPProcess, len(ps))
	for i, p := range ps {
		out[i] = status.PHPProcess{State: string(p.State), PID: p.PID, Jobs: p.Jobs, Since: p.Since, LastError: p.LastError}
	}
	return out
}

// sizesInterval is how often a group's queue sizes are sampled for /metrics.
const sizesInterval = 15 * time.Second

// sampleSizes records the sizes of a group's queues until ctx is done.
func (s *Server) sampleSizes(ctx context.Context, b *Bridge, spec groupSpec, log *slog.Logger) {
	t := time.NewTicker(sizesInterval)
	defer t.Stop()
	for {
		for _, q := range spec.queues {
			sizes, err := b.Sizes(ctx, q)
			if err != nil {
				if ctx.Err() == nil {
					s.metrics.storeErr.WithLabelValues(spec.name).Inc()
					log.Warn("sample queue sizes", "queue", q, "err", err)
				}
				continue
			}
			s.metrics.sample(spec.name, q, sizes)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
