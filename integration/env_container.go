package integration

// The container provider (QB_PROVIDER=container): github.com/testcontainers/testcontainers-go starts, once per
// test process and on one private Docker network,
//
//	redis    redis:7.0        (alias "redis", port 6379 published to a random host port)
//	mariadb  mariadb:10.11    (alias "mariadb", root password "queuebridge", database "queuebridge")
//	php      built from docker/php/Dockerfile (Debian bookworm: php-cli, php-redis, php-mysql, php-sqlite3,
//	         php-laravel-framework; integration/testdata copied to /qb/integration/testdata), kept running with
//	         `sleep infinity`; PHP scripts run in it with `docker exec` (Container.Exec) in /qb/integration,
//	         so the relative script paths the tests use (testdata/…) work unchanged.
//
// The Go side (tests, the bridge, testbridge) runs on the host and reaches Redis and MariaDB through the
// published ports (RedisAddr, MySQLDSN); PHP reaches them by alias (PHPSide). The build context sent to Docker
// holds only docker/php/Dockerfile and integration/testdata. The containers live until the test process ends:
// testcontainers' reaper (Ryuk) removes them and the network then, or call (*ContainerEnv).Terminate.
//
// Requirements: a Docker engine (DOCKER_HOST or the default socket) reachable by testcontainers-go. This
// provider is compiled and vetted in CI but cannot run on the reference machine, which has no Docker engine;
// Local is what CI runs.
//
// Limits: cancelling the ctx of PHP/PHPEnv stops waiting for the script but does not kill the process inside
// the container (docker exec has no kill); the PHP scripts therefore all stop by themselves (--drain,
// --stop-when-empty, --max-jobs, queue:restart).

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/testcontainers/testcontainers-go"
	tcexec "github.com/testcontainers/testcontainers-go/exec"
	"github.com/testcontainers/testcontainers-go/network"
	"github.com/testcontainers/testcontainers-go/wait"
)

const (
	ctrRedisImage     = "redis:7.0"
	ctrMariaDBImage   = "mariadb:10.11"
	ctrRedisAlias     = "redis"
	ctrMariaDBAlias   = "mariadb"
	ctrMySQLPassword  = "queuebridge"
	ctrMySQLDatabase  = "queuebridge"
	ctrWorkDir        = "/qb/integration" // integration/ inside the PHP container
	ctrDockerfile     = "docker/php/Dockerfile"
	ctrTestdata       = "integration/testdata"
	ctrStartupTimeout = 15 * time.Minute // first run builds the PHP image (apt-get)
)

// ContainerEnv is the Env of the container provider.
type ContainerEnv struct {
	network *testcontainers.DockerNetwork
	redis   testcontainers.Container
	mariadb testcontainers.Container
	php     testcontainers.Container

	redisAddr string // host:port published for this process
	mysqlDSN  string
}

var (
	containerOnce sync.Once
	containerEnv  *ContainerEnv
	containerErr  error
)

// Container starts the containers on first use (building the PHP image) and returns the provider; later calls
// return the same one.
func Container() (Env, error) {
	containerOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), ctrStartupTimeout)
		defer cancel()
		containerEnv, containerErr = startContainers(ctx)
	})
	if containerErr != nil {
		return nil, containerErr
	}
	return containerEnv, nil
}

func startContainers(ctx context.Context) (_ *ContainerEnv, err error) {
	e := &ContainerEnv{}
	defer func() {
		if err != nil {
			_ = e.Terminate(context.Background())
		}
	}()

	e.network, err = network.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("container provider: network: %w", err)
	}

	e.redis, err = testcontainers.Run(ctx, ctrRedisImage,
		network.WithNetwork([]string{ctrRedisAlias}, e.network),
		testcontainers.WithExposedPorts("6379/tcp"),
		testcontainers.WithCmd("redis-server", "--save", "", "--appendonly", "no"),
		testcontainers.WithWaitStrategy(wait.ForListeningPort("6379/tcp")),
	)
	if err != nil {
		return nil, fmt.Errorf("container provider: redis: %w", err)
	}
	e.redisAddr, err = hostPort(ctx, e.redis, "6379/tcp")
	if err != nil {
		return nil, err
	}

	e.mariadb, err = testcontainers.Run(ctx, ctrMariaDBImage,
		network.WithNetwork([]string{ctrMariaDBAlias}, e.network),
		testcontainers.WithExposedPorts("3306/tcp"),
		testcontainers.WithEnv(map[string]string{
			"MARIADB_ROOT_PASSWORD": ctrMySQLPassword,
			"MARIADB_DATABASE":      ctrMySQLDatabase,
		}),
		// The image's entrypoint runs a temporary server first: ready means the second "ready for connections".
		testcontainers.WithWaitStrategy(
			wait.ForLog("ready for connections").WithOccurrence(2),
			wait.ForListeningPort("3306/tcp"),
		),
	)
	if err != nil {
		return nil, fmt.Errorf("container provider: mariadb: %w", err)
	}
	mysqlAddr, err := hostPort(ctx, e.mariadb, "3306/tcp")
	if err != nil {
		return nil, err
	}
	e.mysqlDSN = fmt.Sprintf("root:%s@tcp(%s)/%s", ctrMySQLPassword, mysqlAddr, ctrMySQLDatabase)

	buildContext, err := phpBuildContext()
	if err != nil {
		return nil, err
	}
	e.php, err = testcontainers.Run(ctx, "",
		testcontainers.WithDockerfile(testcontainers.FromDockerfile{
			ContextArchive: bytes.NewReader(buildContext),
			Dockerfile:     ctrDockerfile,
			Repo:           "queuebridge-php",
			Tag:            "laravel8",
			KeepImage:      true,
		}),
		network.WithNetwork([]string{"php"}, e.network),
		testcontainers.WithCmd("sleep", "infinity"),
	)
	if err != nil {
		return nil, fmt.Errorf("container provider: php image from %s: %w", ctrDockerfile, err)
	}
	return e, nil
}

// Terminate removes the containers and the network (the reaper does it anyway when the process ends).
func (e *ContainerEnv) Terminate(ctx context.Context) error {
	var errs []error
	for _, c := range []testcontainers.Container{e.php, e.mariadb, e.redis} {
		if c != nil {
			errs = append(errs, c.Terminate(ctx))
		}
	}
	if e.network != nil {
		errs = append(errs, e.network.Remove(ctx))
	}
	return errors.Join(errs...)
}

func (e *ContainerEnv) RedisAddr() string { return e.redisAddr }

// RedisDB: the Redis container is the tests' own, but the same database as Local keeps keys comparable.
func (e *ContainerEnv) RedisDB() int { return 3 }

func (e *ContainerEnv) MySQLDSN() string { return e.mysqlDSN }

func (e *ContainerEnv) LaravelDir() string { return ctrWorkDir + "/testdata/laravel" }

func (e *ContainerEnv) PHPSide() PHPSide {
	return PHPSide{
		RedisAddr: ctrRedisAlias + ":6379",
		MySQLDSN:  fmt.Sprintf("root:%s@tcp(%s:3306)/%s", ctrMySQLPassword, ctrMariaDBAlias, ctrMySQLDatabase),
		TempDir:   "/tmp",
	}
}

func (e *ContainerEnv) PHP(ctx context.Context, script string, args ...string) ([]byte, error) {
	return e.PHPEnv(ctx, nil, script, args...)
}

// PHPEnv runs `php script args…` in the PHP container (docker exec), in /qb/integration, with env added.
func (e *ContainerEnv) PHPEnv(ctx context.Context, env []string, script string, args ...string) ([]byte, error) {
	opts := []tcexec.ProcessOption{tcexec.WithWorkingDir(ctrWorkDir)}
	if len(env) > 0 {
		opts = append(opts, tcexec.WithEnv(env))
	}
	code, r, err := e.php.Exec(ctx, append([]string{"php", script}, args...), opts...)
	if err != nil {
		return nil, fmt.Errorf("php %s (container): %w", script, err)
	}
	var stdout, stderr bytes.Buffer
	if _, err := stdcopy.StdCopy(&stdout, &stderr, r); err != nil {
		return stdout.Bytes(), fmt.Errorf("php %s (container): reading output: %w", script, err)
	}
	if code != 0 {
		return stdout.Bytes(), fmt.Errorf("php %s (container): exit status %d\n%s", script, code, stderr.String())
	}
	return stdout.Bytes(), nil
}

// hostPort is host:port where this process reaches the container's port.
func hostPort(ctx context.Context, c testcontainers.Container, port string) (string, error) {
	host, err := c.Host(ctx)
	if err != nil {
		return "", fmt.Errorf("container provider: host of %s: %w", port, err)
	}
	mapped, err := c.MappedPort(ctx, port)
	if err != nil {
		return "", fmt.Errorf("container provider: mapped port %s: %w", port, err)
	}
	return net.JoinHostPort(host, mapped.Port()), nil
}

// phpBuildContext is a tar of docker/php/Dockerfile and integration/testdata, paths relative to the
// repository root (this package's parent directory).
func phpBuildContext() ([]byte, error) {
	root, err := filepath.Abs("..")
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(rel string) error {
		return filepath.WalkDir(filepath.Join(root, rel), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			name, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			name = filepath.ToSlash(name)
			if d.IsDir() {
				// Local scratch (sqlite files of local runs) stays out of the image.
				if strings.HasSuffix(name, "/laravel/storage") {
					return filepath.SkipDir
				}
				return nil
			}
			if !d.Type().IsRegular() {
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			body, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if err := tw.WriteHeader(&tar.Header{Name: name, Mode: int64(info.Mode().Perm()), Size: int64(len(body)),
				ModTime: info.ModTime()}); err != nil {
				return err
			}
			_, err = tw.Write(body)
			return err
		})
	}
	for _, rel := range []string{ctrDockerfile, ctrTestdata} {
		if err := add(rel); err != nil {
			return nil, fmt.Errorf("container provider: build context %s: %w", rel, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
