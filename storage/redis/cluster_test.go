package redis

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge/compat/thinkqueue"
	"github.com/queuebridge/bridge/storage/storagetest"
)

// clusterMasters is how many masters startCluster starts; Redis Cluster's 16384 slots are split evenly.
const clusterMasters = 3

// startCluster starts a Redis Cluster of its own for t: clusterMasters redis-server processes on
// loopback ports, without persistence, stopped when t ends. It skips t when redis-server is not installed.
func startCluster(t *testing.T) *goredis.ClusterClient {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not installed: no Redis Cluster to test on")
	}
	ctx := context.Background()
	dir := t.TempDir()
	addrs := make([]string, clusterMasters)
	nodes := make([]*goredis.Client, clusterMasters)
	for i := range addrs {
		port := freeClusterPort(t)
		addrs[i] = "127.0.0.1:" + strconv.Itoa(port)
		cmd := exec.Command(bin, "--bind", "127.0.0.1", "--port", strconv.Itoa(port), "--dir", dir,
			"--cluster-enabled", "yes", "--cluster-config-file", fmt.Sprintf("nodes-%d.conf", port),
			"--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", "")
		require.NoError(t, cmd.Start())
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		})
		nodes[i] = goredis.NewClient(&goredis.Options{Addr: addrs[i]})
		t.Cleanup(func() { _ = nodes[i].Close() })
	}
	const slots = 16384
	for i, node := range nodes {
		require.NoError(t, waitFor(func() error { return node.Ping(ctx).Err() }), "redis-server at %s", addrs[i])
		lo, hi := i*slots/clusterMasters, (i+1)*slots/clusterMasters-1
		require.NoError(t, node.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", lo, hi).Err())
	}
	for _, node := range nodes[1:] {
		host, port, _ := net.SplitHostPort(addrs[0])
		require.NoError(t, node.ClusterMeet(ctx, host, port).Err())
	}
	for _, node := range nodes {
		require.NoError(t, waitFor(func() error {
			info, err := node.ClusterInfo(ctx).Result()
			if err != nil {
				return err
			}
			if !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, fmt.Sprintf("cluster_known_nodes:%d", clusterMasters)) {
				return fmt.Errorf("cluster not formed yet: %s", info)
			}
			return nil
		}))
	}
	client := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: addrs})
	t.Cleanup(func() { _ = client.Close() })
	require.NoError(t, waitFor(func() error {
		return client.ForEachMaster(ctx, func(ctx context.Context, c *goredis.Client) error { return c.Ping(ctx).Err() })
	}))
	return client
}

// waitFor retries f every 50 ms for up to 10 s, for processes this test started to come up.
func waitFor(f func() error) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := f()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// freeClusterPort returns a loopback port that is free, as is its cluster bus port (port+10000).
func freeClusterPort(t *testing.T) int {
	t.Helper()
	for range 100 {
		port := 20000 + rand.IntN(20000)
		a, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			continue
		}
		b, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port+10000))
		_ = a.Close()
		if err != nil {
			continue
		}
		_ = b.Close()
		return port
	}
	t.Fatal("no free loopback port pair for a Redis Cluster node")
	return 0
}

// TestConformanceCluster runs the storage suite on a Redis Cluster with think-queue v3's hash-tag keys.
// The cluster has one database, so the suite's stores take it in turn: each store's Queues must see only
// its own queues.
func TestConformanceCluster(t *testing.T) {
	t.Parallel()
	client := startCluster(t)
	d, err := thinkqueue.ParseDialect("thinkqueue-v3")
	require.NoError(t, err)
	var turn sync.Mutex
	storagetest.Run(t, func(t *testing.T, now func() time.Time) storagetest.Store {
		turn.Lock()
		t.Cleanup(turn.Unlock)
		b, err := New(client, d, &Config{Expire: storagetest.Expire, NowFunc: now, FailedKeyPrefix: uniqueName(t)})
		require.NoError(t, err)
		t.Cleanup(func() {
			require.NoError(t, client.ForEachMaster(context.Background(), func(ctx context.Context, c *goredis.Client) error {
				return c.FlushDB(ctx).Err()
			}))
		})
		return b
	}, thinkQueueFacts(d))
}

// TestQueuesCluster: the queues of a cluster lie on every master, and Queues finds them all.
func TestQueuesCluster(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client := startCluster(t)
	d, err := thinkqueue.ParseDialect("thinkqueue-v3")
	require.NoError(t, err)
	b, err := New(client, d, &Config{NowFunc: newStubClock().Now})
	require.NoError(t, err)

	var want []string
	for i := range 60 {
		q := fmt.Sprintf("q%02d", i)
		want = append(want, q)
		require.NoError(t, b.Push(ctx, q, []byte(job(q, 0))))
	}
	var masters atomic.Int32 // ForEachMaster calls back from one goroutine per master
	require.NoError(t, client.ForEachMaster(ctx, func(ctx context.Context, c *goredis.Client) error {
		n, err := c.DBSize(ctx).Result()
		if n > 0 {
			masters.Add(1)
		}
		return err
	}))
	require.Equal(t, int32(clusterMasters), masters.Load(), "the queues are spread over every master")

	got, err := b.Queues(ctx)
	require.NoError(t, err)
	require.Equal(t, want, got)
}

// TestWaitReadyCluster: on a cluster, a blocking wait on several queues (think-queue v3's hash-tag keys,
// Laravel's hash-tagged queue names) spread over the masters wakes on a push to any of them, and the parked
// job goes back to its list: the in-flight list shares the list's slot.
func TestWaitReadyCluster(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client := startCluster(t)
	v3, err := thinkqueue.ParseDialect("thinkqueue-v3")
	require.NoError(t, err)
	for name, d := range map[string]QueueKeyer{"thinkqueue-v3": v3, "laravel": testLaravel{prefix: "laravel_database_"}} {
		t.Run(name, func(t *testing.T) {
			b, err := New(client, d, &Config{NowFunc: newStubClock().Now})
			require.NoError(t, err)
			var queues []string
			for i := range 12 {
				queues = append(queues, fmt.Sprintf("{%s-q%02d}", name, i))
			}
			for _, q := range queues {
				go func() {
					time.Sleep(50 * time.Millisecond)
					_ = b.Push(ctx, q, []byte(job(q, 0)))
				}()
				ready, err := b.WaitReady(ctx, queues, time.Second)
				require.NoError(t, err)
				require.True(t, ready, q)
				got, err := b.Reserve(ctx, q, 1)
				require.NoError(t, err)
				require.Len(t, got, 1, "the job %s woke the wait for is on its list", q)
				_, err = b.Delete(ctx, q, got[0].Member)
				require.NoError(t, err)
			}
		})
	}
}
