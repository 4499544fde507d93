package integration

// The container provider (QB_PROVIDER=container): github.com/testcontainers/testcontainers-go starts, once per
// test process and on one private Docker network,
//
//	redis    qb/redis:<tag>    (alias "redis"; port 6379 published on 127.0.0.1, a random port)
//	mariadb  qb/mariadb:<tag>  (alias "mariadb"; root without a password, database "queuebridge"; port 3306
//	                            published on 127.0.0.1 only)
//	php      qb/php:<tag>      (docker/php/Dockerfile: php-cli 8.2, phpredis, pdo_mysql, pdo_sqlite, Laravel 8.83
//	                            and integration/testdata), kept running with `sleep infinity`; PHP scripts run
//	                            in it with `docker exec` in /qb/integration, so the relative script paths the
//	                            tests use (testdata/…) work unchanged.
//
// The images come from scripts/images.sh, which builds them from Debian's packages without a registry; <tag> is
// the hash of their inputs, which the provider asks the script for (--tag). Nothing is ever pulled: a missing
// image fails with the command to run. The Go side (tests, the bridge, testbridge) runs on the host and reaches
// Redis and MariaDB through the published ports (RedisAddr, MySQLDSN); PHP reaches them by alias (PHPSide).
// bridgeImage builds the bridge's own image (docker/bridge/Dockerfile) from a static binary, once per test
// process, for tests that run the bridge in a container; closeContainers removes it.
//
// Cleanup is the tests' own: testcontainers' reaper (Ryuk) is turned off (TESTCONTAINERS_RYUK_DISABLED, its
// image cannot be pulled here); TestMain ends the shared containers (closeContainers), a test ends what it
// started (t.Cleanup). Every container and network is labelled queuebridge.run=<QB_CONTAINER_RUN, or a random
// id>, so scripts/test-containers.sh removes what a killed test process left behind, and only that.
//
// Limits: cancelling the ctx of PHP/PHPEnv stops waiting for the script but does not kill the process inside
// the container (docker exec has no kill); the PHP scripts therefore all stop by themselves (--drain,
// --stop-when-empty, --max-jobs, queue:restart).

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	mobynetwork "github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tcexec "github.com/testcontainers/testcontainers-go/exec"
	tclog "github.com/testcontainers/testcontainers-go/log"
	"github.com/testcontainers/testcontainers-go/network"
	"github.com/testcontainers/testcontainers-go/wait"
)

const (
	ctrRedisAlias     = "redis"
	ctrMariaDBAlias   = "mariadb"
	ctrDatabase       = "queuebridge"
	ctrWorkDir        = "/qb/integration" // integration/ inside the PHP image
	ctrRunLabel       = "queuebridge.run"
	ctrStartupTimeout = 2 * time.Minute
)

// ctrImages are the images of scripts/images.sh's current tag.
type ctrImages struct {
	Tag, PHP, Redis, MariaDB string
}

var (
	containerOnce sync.Once
	containerEnv  *ContainerEnv
	containerErr  error

	imagesOnce = sync.OnceValues(findImages)
	runID      = sync.OnceValue(func() string {
		if id := os.Getenv("QB_CONTAINER_RUN"); id != "" {
			return id
		}
		var b [6]byte
		_, _ = rand.Read(b[:])
		return hex.EncodeToString(b[:])
	})
)

// containerImages returns the images of the current tag, all present in the Docker engine, or an error that
// says to run scripts/images.sh. It turns testcontainers' reaper off before anything of testcontainers runs.
func containerImages() (ctrImages, error) { return imagesOnce() }

func findImages() (ctrImages, error) {
	if os.Getenv("TESTCONTAINERS_RYUK_DISABLED") == "" {
		// The tests clean up after themselves; the reaper's image cannot be pulled without a registry.
		_ = os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	}
	tclog.SetDefault(tclog.NewNoopLogger())

	script := filepath.Join("..", "scripts", "images.sh")
	out, err := exec.Command("bash", script, "--tag").Output()
	if err != nil {
		return ctrImages{}, fmt.Errorf("container provider: %s --tag: %w", script, err)
	}
	tag := strings.TrimSpace(string(out))
	im := ctrImages{Tag: tag, PHP: "qb/php:" + tag, Redis: "qb/redis:" + tag, MariaDB: "qb/mariadb:" + tag}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := requireImages(ctx, im.PHP, im.Redis, im.MariaDB); err != nil {
		return ctrImages{}, err
	}
	return im, nil
}

// requireImages returns an error naming the first of images the Docker engine does not have, and the command
// that builds it.
func requireImages(ctx context.Context, images ...string) error {
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return fmt.Errorf("container provider: Docker engine: %w", err)
	}
	defer cli.Close()
	for _, name := range images {
		if _, err := cli.ImageInspect(ctx, name); err != nil {
			return fmt.Errorf("container provider: image %s is not in the Docker engine (%v): "+
				"build the images with scripts/images.sh (nothing is pulled)", name, err)
		}
	}
	return nil
}

// Container starts the shared containers on first use and returns the provider; later calls return the same
// one. closeContainers ends them.
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

// ContainerEnv is the Env of the container provider.
type ContainerEnv struct {
	network *testcontainers.DockerNetwork
	redis   *testcontainers.DockerContainer
	mariadb *testcontainers.DockerContainer
	php     *testcontainers.DockerContainer

	redisAddr string // host:port published for this process
	mysqlDSN  string
}

func startContainers(ctx context.Context) (_ *ContainerEnv, err error) {
	im, err := containerImages()
	if err != nil {
		return nil, err
	}
	e := &ContainerEnv{}
	defer func() {
		if err != nil {
			_ = e.terminate(context.Background())
		}
	}()
	if e.network, err = newNetwork(ctx); err != nil {
		return nil, err
	}
	if e.redis, err = runContainer(ctx, im.Redis,
		append(redisOptions(""), network.WithNetwork([]string{ctrRedisAlias}, e.network))...); err != nil {
		return nil, fmt.Errorf("container provider: redis: %w", err)
	}
	if e.redisAddr, err = hostPort(ctx, e.redis, "6379/tcp"); err != nil {
		return nil, err
	}
	if e.mariadb, err = runContainer(ctx, im.MariaDB,
		append(mariadbOptions(""), network.WithNetwork([]string{ctrMariaDBAlias}, e.network))...); err != nil {
		return nil, fmt.Errorf("container provider: mariadb: %w", err)
	}
	mysqlAddr, err := hostPort(ctx, e.mariadb, "3306/tcp")
	if err != nil {
		return nil, err
	}
	e.mysqlDSN = fmt.Sprintf("root@tcp(%s)/%s", mysqlAddr, ctrDatabase)
	if e.php, err = runContainer(ctx, im.PHP, network.WithNetwork([]string{"php"}, e.network)); err != nil {
		return nil, fmt.Errorf("container provider: php: %w", err)
	}
	return e, nil
}

// closeContainers ends the shared containers and their network, if they were started, and removes the
// bridge images and binaries the tests built.
func closeContainers(ctx context.Context) error {
	var errs []error
	if containerEnv != nil {
		errs = append(errs, containerEnv.terminate(ctx))
	}
	bridgeMu.Lock()
	defer bridgeMu.Unlock()
	if len(bridgeImages) > 0 {
		cli, err := testcontainers.NewDockerClientWithOpts(ctx)
		if err != nil {
			return errors.Join(append(errs, err)...)
		}
		defer cli.Close()
		for _, img := range bridgeImages {
			_, err := cli.ImageRemove(ctx, img, client.ImageRemoveOptions{Force: true, PruneChildren: true})
			errs = append(errs, err)
		}
	}
	if bridgeBinDir != "" {
		errs = append(errs, os.RemoveAll(bridgeBinDir))
	}
	return errors.Join(errs...)
}

func (e *ContainerEnv) terminate(ctx context.Context) error {
	var errs []error
	for _, c := range []*testcontainers.DockerContainer{e.php, e.mariadb, e.redis} {
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
		MySQLDSN:  fmt.Sprintf("root@tcp(%s:3306)/%s", ctrMariaDBAlias, ctrDatabase),
		TempDir:   "/tmp",
	}
}

func (e *ContainerEnv) PHP(ctx context.Context, script string, args ...string) ([]byte, error) {
	return e.PHPEnv(ctx, nil, script, args...)
}

// PHPEnv runs `php script args…` in the PHP container (docker exec), in /qb/integration, with env added.
func (e *ContainerEnv) PHPEnv(ctx context.Context, env []string, script string, args ...string) ([]byte, error) {
	return execPHP(ctx, e.php, env, script, args...)
}

// execPHP runs `php script args…` in container c (an image of docker/php), in /qb/integration, with env added,
// and returns its stdout; stderr is part of the error.
func execPHP(ctx context.Context, c *testcontainers.DockerContainer, env []string, script string, args ...string) ([]byte, error) {
	opts := []tcexec.ProcessOption{tcexec.WithWorkingDir(ctrWorkDir)}
	if len(env) > 0 {
		opts = append(opts, tcexec.WithEnv(env))
	}
	code, r, err := c.Exec(ctx, append([]string{"php", script}, args...), opts...)
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

// newNetwork creates a private bridge network labelled as this run's.
func newNetwork(ctx context.Context) (*testcontainers.DockerNetwork, error) {
	nw, err := network.New(ctx, network.WithLabels(map[string]string{ctrRunLabel: runID()}))
	if err != nil {
		return nil, fmt.Errorf("container provider: network: %w", err)
	}
	return nw, nil
}

// runContainer starts a container of image, labelled as this run's. It never pulls: the images are local
// (containerImages) or built by the request.
func runContainer(ctx context.Context, image string, opts ...testcontainers.ContainerCustomizer) (*testcontainers.DockerContainer, error) {
	opts = append(opts, testcontainers.WithLabels(map[string]string{ctrRunLabel: runID()}))
	return testcontainers.Run(ctx, image, opts...)
}

// redisOptions run qb/redis with its port published on 127.0.0.1:hostPort ("": Docker picks one), with cmd
// instead of the image's command when given.
func redisOptions(hostPort string, cmd ...string) []testcontainers.ContainerCustomizer {
	opts := []testcontainers.ContainerCustomizer{
		onLoopback("6379/tcp", hostPort),
		testcontainers.WithWaitStrategy(wait.ForLog("Ready to accept connections").WithStartupTimeout(ctrStartupTimeout)),
	}
	if len(cmd) > 0 {
		opts = append(opts, testcontainers.WithCmd(cmd...))
	}
	return opts
}

// mariadbOptions run qb/mariadb with its port published on 127.0.0.1:hostPort ("": Docker picks one; a fixed
// port survives `docker restart`).
func mariadbOptions(hostPort string) []testcontainers.ContainerCustomizer {
	return []testcontainers.ContainerCustomizer{
		onLoopback("3306/tcp", hostPort),
		testcontainers.WithWaitStrategy(wait.ForLog("ready for connections").WithStartupTimeout(ctrStartupTimeout)),
	}
}

// onLoopback publishes the container's port on 127.0.0.1 only: the images' Redis and MariaDB root have no
// password, so nothing beyond this machine may reach them.
func onLoopback(port, hostPort string) testcontainers.CustomizeRequestOption {
	return func(req *testcontainers.GenericContainerRequest) error {
		p, err := mobynetwork.ParsePort(port)
		if err != nil {
			return err
		}
		if err := testcontainers.WithExposedPorts(port)(req); err != nil {
			return err
		}
		return testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
			if hc.PortBindings == nil {
				hc.PortBindings = mobynetwork.PortMap{}
			}
			hc.PortBindings[p] = []mobynetwork.PortBinding{{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: hostPort}}
		})(req)
	}
}

// hostPort is host:port where this process reaches the container's port.
func hostPort(ctx context.Context, c *testcontainers.DockerContainer, port string) (string, error) {
	mapped, err := c.MappedPort(ctx, port)
	if err != nil {
		return "", fmt.Errorf("container provider: mapped port %s: %w", port, err)
	}
	return net.JoinHostPort("127.0.0.1", mapped.Port()), nil
}

var (
	bridgeMu     sync.Mutex
	bridgeBinDir string            // made on first use, removed by closeContainers
	bridgeBins   map[string]string // package → static binary
	bridgeImages map[string]string // package → image, removed by closeContainers
)

// bridgeImage is the bridge's image (docker/bridge/Dockerfile) around a static build (CGO_ENABLED=0) of the Go
// package pkg, relative to integration/ (../cmd/bridge, ./testdata/testbridge); built once per test process.
func bridgeImage(ctx context.Context, pkg string) (string, error) {
	bridgeMu.Lock()
	defer bridgeMu.Unlock()
	if img, ok := bridgeImages[pkg]; ok {
		return img, nil
	}
	bin, err := buildStatic(pkg)
	if err != nil {
		return "", err
	}
	files := map[string]string{"bin/bridge": bin}
	for _, f := range []string{"Dockerfile", "passwd", "group", "home/README"} {
		files["docker/bridge/"+f] = filepath.Join("..", "docker", "bridge", f)
	}
	archive, err := buildContext(files)
	if err != nil {
		return "", fmt.Errorf("container provider: bridge image context: %w", err)
	}
	p, err := testcontainers.NewDockerProvider()
	if err != nil {
		return "", fmt.Errorf("container provider: Docker engine: %w", err)
	}
	defer p.Close()
	img, err := p.BuildImage(ctx, &testcontainers.ContainerRequest{FromDockerfile: testcontainers.FromDockerfile{
		ContextArchive: bytes.NewReader(archive),
		Dockerfile:     "docker/bridge/Dockerfile",
		Repo:           "qb-test/bridge",
		Tag:            runID() + "-" + filepath.Base(pkg),
	}})
	if err != nil {
		return "", fmt.Errorf("container provider: bridge image of %s: %w", pkg, err)
	}
	bridgeImages[pkg] = img
	return img, nil
}

// staticBinary is a static build (CGO_ENABLED=0) of the Go package pkg, relative to integration/; built once
// per test process. It runs on this machine and in the bridge's image alike.
func staticBinary(pkg string) (string, error) {
	bridgeMu.Lock()
	defer bridgeMu.Unlock()
	return buildStatic(pkg)
}

func buildStatic(pkg string) (string, error) {
	if bin, ok := bridgeBins[pkg]; ok {
		return bin, nil
	}
	if bridgeBinDir == "" {
		dir, err := os.MkdirTemp("", "queuebridge-images-")
		if err != nil {
			return "", err
		}
		bridgeBinDir, bridgeBins, bridgeImages = dir, map[string]string{}, map[string]string{}
	}
	bin := filepath.Join(bridgeBinDir, fmt.Sprintf("bridge-%d", len(bridgeBins)))
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("CGO_ENABLED=0 go build %s: %w\n%s", pkg, err, out)
	}
	bridgeBins[pkg] = bin
	return bin, nil
}

// buildContext is a tar of files: name in the archive → path on disk.
func buildContext(files map[string]string) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, path := range files {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		info, err := f.Stat()
		if err == nil {
			err = tw.WriteHeader(&tar.Header{Name: name, Mode: int64(info.Mode().Perm()), Size: info.Size(), ModTime: info.ModTime()})
		}
		if err == nil {
			_, err = io.Copy(tw, f)
		}
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
