package bridge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/queuebridge/bridge/executor/goexec"
	"github.com/queuebridge/bridge/status"
	redisstore "github.com/queuebridge/bridge/storage/redis"
)

// Route says which side runs a job class: RouteGo, RoutePHP or RoutePercent(25) (see status.Route).
type Route = status.Route

// ClassRoute is a class's route and where it comes from.
type ClassRoute = status.ClassRoute

// The whole-class routes.
var (
	RouteGo  = status.RouteGo
	RoutePHP = status.RoutePHP
)

// RoutePercent routes pct percent of a class's jobs to Go, the rest to PHP.
func RoutePercent(pct float64) Route { return status.RoutePercent(pct) }

// ParseRoute reads go, php or a percentage for Go such as 25%.
func ParseRoute(s string) (Route, error) { return status.ParseRoute(s) }

// routesInterval is how often a bridge re-reads the stored route table, so every bridge on a connection
// routes alike within it.
const routesInterval = time.Second

var errNoRoutes = errors.New("the stored route table lives in Redis: a database queue needs the app's Redis cache store (--cache-connection), or routes in the config file and the code")

// routing is what every Bridge of one program shares: the routes set in code and in the config file, and
// which Go handlers may shadow PHP.
type routing struct {
	mu     sync.RWMutex
	code   map[string]Route
	file   map[string]Route
	shadow map[string]bool
}

func newRouting() *routing {
	return &routing{code: map[string]Route{}, file: map[string]Route{}, shadow: map[string]bool{}}
}

// setFile replaces the config file's routes (at start and on SIGHUP).
func (r *routing) setFile(routes map[string]Route) {
	m := make(map[string]Route, len(routes))
	for c, rt := range routes {
		m[routeClass(c)] = rt
	}
	r.mu.Lock()
	r.file = m
	r.mu.Unlock()
}

// routeClass is the class a job name is routed by: `Class@method` goes as Class; a leading backslash is
// ignored, as in handler names.
func routeClass(name string) string {
	class, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimSpace(name), `\`), "@")
	return class
}

// Route sets the route of a job class in code. The config file's routes: win over it, and the route
// table stored on the connection (SetRoute, `bridge route set`) wins over both.
func (b *Bridge) Route(class string, r Route) {
	b.routing.mu.Lock()
	b.routing.code[routeClass(class)] = r
	b.routing.mu.Unlock()
}

// storedRoutes reads a connection's route table at most every routesInterval.
type storedRoutes struct {
	table *redisstore.RouteTable
	now   func() time.Time
	log   func(msg string, args ...any)

	first  sync.Mutex // held while the table is read the first time
	routes atomic.Pointer[map[string]Route]
	read   atomic.Int64 // UnixNano of the last read
	busy   atomic.Bool  // a read is under way
}

// get returns the table, re-read if it is older than routesInterval. Only one caller reads; the others go
// on with the table they have (the very first read is waited for by everyone).
func (s *storedRoutes) get(ctx context.Context) map[string]Route {
	if p := s.routes.Load(); p == nil {
		s.first.Lock()
		if s.routes.Load() == nil {
			s.refresh(ctx)
		}
		s.first.Unlock()
	} else if s.now().UnixNano()-s.read.Load() >= int64(routesInterval) && s.busy.CompareAndSwap(false, true) {
		s.refresh(ctx)
		s.busy.Store(false)
	}
	return *s.routes.Load()
}

func (s *storedRoutes) refresh(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	raw, err := s.table.All(ctx)
	s.read.Store(s.now().UnixNano())
	if err != nil {
		// Keep what was known: a store hiccup does not move jobs between the sides.
		s.log("read the route table", "err", err)
		if s.routes.Load() == nil {
			s.routes.Store(&map[string]Route{})
		}
		return
	}
	m := make(map[string]Route, len(raw))
	for class, v := range raw {
		r, err := ParseRoute(v)
		if err != nil {
			s.log("stored route ignored", "class", class, "err", err)
			continue
		}
		m[routeClass(class)] = r
	}
	s.routes.Store(&m)
}

// routeTable is the connection's stored route table.
func (b *Bridge) routeTable() (*redisstore.RouteTable, error) {
	if b.be.cache == nil {
		return nil, errNoRoutes
	}
	return redisstore.NewRouteTable(b.be.cache, b.cfg.FailedKeyPrefix), nil
}

// SetRoute stores class's route on the connection, where every bridge reads it within a second; it wins
// over the config file's and the code's.
func (b *Bridge) SetRoute(ctx context.Context, class string, r Route) error {
	if err := b.ready(); err != nil {
		return err
	}
	t, err := b.routeTable()
	if err != nil {
		return err
	}
	return t.Set(ctx, routeClass(class), r.String())
}

// ClearRoute removes class's stored route (the file's or the code's applies again); false when it had none.
func (b *Bridge) ClearRoute(ctx context.Context, class string) (bool, error) {
	if err := b.ready(); err != nil {
		return false, err
	}
	t, err := b.routeTable()
	if err != nil {
		return false, err
	}
	return t.Clear(ctx, routeClass(class))
}

// Routes lists the routes in force on this connection for this program, by class, with where each comes
// from; the stored table is read afresh.
func (b *Bridge) Routes(ctx context.Context) ([]ClassRoute, error) {
	if err := b.ready(); err != nil {
		return nil, err
	}
	var stored map[string]string
	if t, err := b.routeTable(); err == nil {
		if stored, err = t.All(ctx); err != nil {
			return nil, err
		}
	}
	b.routing.mu.RLock()
	all := map[string]ClassRoute{}
	for c, r := range b.routing.code {
		all[c] = ClassRoute{Class: c, Route: r, Source: "code"}
	}
	for c, r := range b.routing.file {
		all[c] = ClassRoute{Class: c, Route: r, Source: "file"}
	}
	b.routing.mu.RUnlock()
	for c, v := range stored {
		r, err := ParseRoute(v)
		if err != nil {
			return nil, fmt.Errorf("stored route of %s: %w", c, err)
		}
		all[routeClass(c)] = ClassRoute{Class: routeClass(c), Route: r, Source: "store"}
	}
	out := slices.Collect(maps.Values(all))
	slices.SortFunc(out, func(a, b ClassRoute) int { return strings.Compare(a.Class, b.Class) })
	return out, nil
}

// jobRouter is the worker's Router: the Go handlers, with each class's route applied. A job routed to PHP
// has no handler here, so the PHP executor runs it, or it is handed back for the PHP workers.
type jobRouter struct {
	mux      *goexec.Mux
	routing  *routing
	stored   *storedRoutes // nil without Redis: the file's and the code's routes only
	database bool          // a jobs table: its row id changes on release, so jobs are told apart by payload
	report   *reportRecorder
}

// Lookup satisfies worker.Router. A job whose class has a route or a shadow handler is marked routed, so the
// report counts its run on the side it was given.
func (r *jobRouter) Lookup(job *Job) (Handler, bool) {
	route, routed, shadow := r.route(job.Name())
	if routed || shadow {
		job.SetRouted()
	}
	h, ok := r.mux.Lookup(job.Name())
	switch {
	case !ok:
		return nil, false
	case routed:
		if !route.Go(r.hash(job)) {
			return nil, false
		}
		return h, true
	case shadow:
		return nil, false // a shadow handler shadows; PHP runs its class until a route says otherwise
	}
	return h, true
}

// route is the route in force for a job name, the stored table's, else the file's, else the code's, and
// whether its class has a shadow handler.
func (r *jobRouter) route(name string) (rt Route, routed, shadow bool) {
	class := routeClass(name)
	if r.stored != nil {
		rt, routed = r.stored.get(context.Background())[class]
	}
	r.routing.mu.RLock()
	defer r.routing.mu.RUnlock()
	if !routed {
		if rt, routed = r.routing.file[class]; !routed {
			rt, routed = r.routing.code[class]
		}
	}
	return rt, routed, r.routing.shadow[class]
}

// hash is FNV-1a (32 bits) of what identifies a job on every attempt: its uuid or payload id, or on a
// jobs table (whose row id changes on release) its payload bytes, which a release does not change.
func (r *jobRouter) hash(job *Job) uint32 {
	switch {
	case job.UUID() != "":
		return fnv1a(job.UUID())
	case job.ID() != "" && !r.database:
		return fnv1a(job.ID())
	}
	return fnv1a(bytes.TrimSpace(job.RawBody()))
}

// fnv1a is hash/fnv's New32a over s, without its allocation: it runs for every routed job.
func fnv1a[T string | []byte](s T) uint32 {
	const offset, prime = 2166136261, 16777619
	h := uint32(offset)
	for i := range len(s) {
		h ^= uint32(s[i])
		h *= prime
	}
	return h
}

// connRouting is what routing needs of one connection: its stored route table, in the app's Redis (nil
// without it), and its report counters (nil on the sync connection).
type connRouting struct {
	stored *storedRoutes
	report *reportRecorder
}

// conn is the connection's routing state, made on first use (b is connected).
func (b *Bridge) conn() *connRouting {
	b.connMu.Lock()
	defer b.connMu.Unlock()
	if b.cs == nil {
		b.cs = &connRouting{}
		if b.be.cache != nil {
			b.cs.stored = &storedRoutes{table: redisstore.NewRouteTable(b.be.cache, b.cfg.FailedKeyPrefix), now: b.cfg.Clock,
				log: b.cfg.Logger.Warn}
		}
		if s := b.reportStore(); s != nil {
			b.cs.report = newReportRecorder(b, s)
		}
	}
	return b.cs
}
