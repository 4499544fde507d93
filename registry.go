package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/queuebridge/bridge/internal/cli"
	"github.com/queuebridge/bridge/status"
	redisstore "github.com/queuebridge/bridge/storage/redis"
)

// BridgeInfo is what a running bridge process says about itself in the registry, as `bridge status` shows
// it (like supervisorctl status and horizon:status).
type BridgeInfo = status.Bridge

// Heartbeats: every registryInterval, valid for registryTTL, so a bridge that died disappears within it.
const (
	registryInterval = 5 * time.Second
	registryTTL      = 15 * time.Second
)

// registry is where a connection keeps its bridges: the app's Redis (the queue's own, or its cache store).
type registry interface {
	Heartbeat(ctx context.Context, id string, info []byte, now time.Time, ttl time.Duration) error
	Remove(ctx context.Context, id string) error
	List(ctx context.Context) ([][]byte, error)
}

var errNoRegistry = errors.New("the registry of running bridges lives in Redis: a database queue needs the app's Redis cache store (--cache-connection)")

func (b *Bridge) registry() (registry, error) {
	if b.be.cache == nil {
		return nil, errNoRegistry
	}
	return redisstore.NewRegistry(b.be.cache, b.cfg.FailedKeyPrefix), nil
}

// Bridges lists the bridge processes registered on this connection whose heartbeat has not lapsed.
func (b *Bridge) Bridges(ctx context.Context) ([]BridgeInfo, error) {
	if err := b.ready(); err != nil {
		return nil, err
	}
	reg, err := b.registry()
	if err != nil {
		return nil, err
	}
	raw, err := reg.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]BridgeInfo, 0, len(raw))
	for _, r := range raw {
		var info BridgeInfo
		if err := json.Unmarshal(r, &info); err != nil {
			continue // not ours to read: skip rather than fail the listing
		}
		out = append(out, info)
	}
	slices.SortFunc(out, func(a, b BridgeInfo) int { return a.StartedAt.Compare(b.StartedAt) })
	return out, nil
}

// processID names this process in the registry.
func processID(host string, pid int, started time.Time) string {
	return host + ":" + strconv.Itoa(pid) + ":" + strconv.FormatInt(started.UnixNano(), 36)
}

// heartbeat registers the server in the registry of every connection its groups use, until ctx is done,
// then removes it.
func (s *Server) heartbeat(ctx context.Context) {
	host, _ := os.Hostname()
	started := time.Now()
	info := BridgeInfo{ID: processID(host, os.Getpid(), started), Host: host, PID: os.Getpid(), Version: cli.Version(), StartedAt: started}
	for {
		info.HeartbeatAt = time.Now()
		info.Groups = s.Status()
		blob, _ := json.Marshal(info)
		regs := s.registries()
		for _, reg := range regs {
			if err := reg.Heartbeat(ctx, info.ID, blob, info.HeartbeatAt, registryTTL); err != nil && ctx.Err() == nil {
				s.log.Warn("registry heartbeat", "err", err)
			}
		}
		next := registryInterval
		if len(regs) == 0 {
			next = registryInterval / 20 // no group connected yet: register as soon as one is
		}
		select {
		case <-ctx.Done():
			rm, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			for _, reg := range s.registries() {
				reg.Remove(rm, info.ID)
			}
			cancel()
			return
		case <-time.After(next):
		}
	}
}

// registries are the registries of the running groups' connections, one per distinct store.
func (s *Server) registries() map[string]registry {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]registry{}
	for _, g := range s.groups {
		g.mu.Lock()
		b := g.bridge
		g.mu.Unlock()
		if b == nil {
			continue
		}
		if reg, err := b.registry(); err == nil {
			out[b.cfg.CacheConnection+"|"+b.cfg.Connection+"|"+b.cfg.FailedKeyPrefix] = reg
		}
	}
	return out
}
