package redis

import (
	"context"
	"fmt"

	goredis "github.com/redis/go-redis/v9"
)

// RouteTable is where a connection keeps which side runs each job class (the bridge's `route` command):
// one hash, {<prefix>:routes}, class → route as written ("go", "php", "25%"). Every bridge on the
// connection reads it, so they route alike.
type RouteTable struct {
	client goredis.UniversalClient
	key    string
}

// NewRouteTable returns the route table under prefix (the bridge's own key prefix, as the registry's).
func NewRouteTable(client goredis.UniversalClient, prefix string) *RouteTable {
	return &RouteTable{client: client, key: "{" + prefix + ":routes}"}
}

// Set stores class's route.
func (t *RouteTable) Set(ctx context.Context, class, route string) error {
	if err := t.client.HSet(ctx, t.key, class, route).Err(); err != nil {
		return fmt.Errorf("set route of %s: %w", class, err)
	}
	return nil
}

// Clear removes class's route; false when it had none.
func (t *RouteTable) Clear(ctx context.Context, class string) (bool, error) {
	n, err := t.client.HDel(ctx, t.key, class).Result()
	if err != nil {
		return false, fmt.Errorf("clear route of %s: %w", class, err)
	}
	return n > 0, nil
}

// All returns every stored route, by class.
func (t *RouteTable) All(ctx context.Context) (map[string]string, error) {
	m, err := t.client.HGetAll(ctx, t.key).Result()
	if err != nil {
		return nil, fmt.Errorf("read routes: %w", err)
	}
	return m, nil
}
