package redis

import (
	"context"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Registry keeps the bridges that work this Redis: one key per process, holding what the process says
// about itself, with a TTL its heartbeats push out, and an index of ids scored by the last heartbeat. A
// process that dies disappears once its key lapses. Keys: {<prefix>:bridges} (sorted set) and
// {<prefix>:bridges}:<id> (string), one hash slot on a Cluster.
type Registry struct {
	client goredis.UniversalClient
	index  string
}

// NewRegistry returns the registry under prefix (the bridge's own key prefix, e.g. "queuebridge").
func NewRegistry(client goredis.UniversalClient, prefix string) *Registry {
	return &Registry{client: client, index: "{" + prefix + ":bridges}"}
}

func (r *Registry) key(id string) string { return r.index + ":" + id }

// Heartbeat stores info for id until ttl from now.
func (r *Registry) Heartbeat(ctx context.Context, id string, info []byte, now time.Time, ttl time.Duration) error {
	_, err := r.client.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.Set(ctx, r.key(id), info, ttl)
		p.ZAdd(ctx, r.index, goredis.Z{Score: float64(now.Unix()), Member: id})
		return nil
	})
	if err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	return nil
}

// Remove deletes id at once (a process that stops cleanly).
func (r *Registry) Remove(ctx context.Context, id string) error {
	_, err := r.client.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.Del(ctx, r.key(id))
		p.ZRem(ctx, r.index, id)
		return nil
	})
	if err != nil {
		return fmt.Errorf("deregister: %w", err)
	}
	return nil
}

// List returns what every live process stored, and prunes the index of those whose key lapsed.
func (r *Registry) List(ctx context.Context) ([][]byte, error) {
	ids, err := r.client.ZRange(ctx, r.index, 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("list bridges: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = r.key(id)
	}
	vals, err := r.client.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("list bridges: %w", err)
	}
	var out [][]byte
	var gone []any
	for i, v := range vals {
		s, ok := v.(string)
		if !ok {
			gone = append(gone, ids[i])
			continue
		}
		out = append(out, []byte(s))
	}
	if len(gone) > 0 {
		r.client.ZRem(ctx, r.index, gone...) // best effort: the next List prunes them again
	}
	return out, nil
}
