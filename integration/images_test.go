package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// imagesScript runs scripts/images.sh of the repository rooted at root with args and returns its stdout.
func imagesScript(t *testing.T, root string, args ...string) string {
	t.Helper()
	out, err := exec.Command("bash", append([]string{filepath.Join(root, "scripts", "images.sh")}, args...)...).Output()
	require.NoError(t, err, "scripts/images.sh %v", args)
	return string(out)
}

// TestImagesBuildContext: what scripts/images.sh hashes into the tag, and sends to Docker as the build context,
// holds the Dockerfiles, the package list and the test apps, and none of the app's local scratch (storage/) or
// the Go sources.
func TestImagesBuildContext(t *testing.T) {
	t.Parallel()
	names := map[string]bool{}
	for _, n := range strings.Fields(imagesScript(t, "..", "--inputs")) {
		names[n] = true
	}
	for _, want := range []string{"scripts/images.sh", "docker/base/packages", "docker/php/Dockerfile",
		"docker/redis/Dockerfile", "docker/mariadb/Dockerfile", "docker/mariadb/init.sql",
		"integration/testdata/laravel/bootstrap.php", "integration/testdata/laravel/work.php",
		"integration/testdata/laravel/app/Jobs/Record.php", "integration/testdata/php/tq_push.php"} {
		require.True(t, names[want], "%s in the build context", want)
	}
	for n := range names {
		require.False(t, strings.Contains(n, "/laravel/storage/"), "local scratch %s in the build context", n)
		require.False(t, strings.HasSuffix(n, ".go"), "Go source %s in the build context", n)
	}
}

// TestImagesTag: the tag is a hash of the inputs' content: the same for a copy of them, different once a test
// app file changes (so the images are rebuilt), and blind to files outside the inputs.
func TestImagesTag(t *testing.T) {
	t.Parallel()
	tag := strings.TrimSpace(imagesScript(t, "..", "--tag"))
	require.Regexp(t, regexp.MustCompile(`^[0-9a-f]{16}$`), tag)

	copyRoot := t.TempDir()
	for _, name := range strings.Fields(imagesScript(t, "..", "--inputs")) {
		body, err := os.ReadFile(filepath.Join("..", name))
		require.NoError(t, err)
		dst := filepath.Join(copyRoot, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(dst), 0o755))
		require.NoError(t, os.WriteFile(dst, body, 0o644))
	}
	require.Equal(t, tag, strings.TrimSpace(imagesScript(t, copyRoot, "--tag")), "a copy of the inputs")

	require.NoError(t, os.WriteFile(filepath.Join(copyRoot, "README.md"), []byte("not an input\n"), 0o644))
	require.Equal(t, tag, strings.TrimSpace(imagesScript(t, copyRoot, "--tag")), "a file outside the inputs")

	work := filepath.Join(copyRoot, "integration", "testdata", "laravel", "work.php")
	f, err := os.OpenFile(work, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("// changed\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	require.NotEqual(t, tag, strings.TrimSpace(imagesScript(t, copyRoot, "--tag")), "a test app changed")
}

// TestImagesMissing: the provider never pulls; an image that is not in the engine fails with the command that
// builds it.
func TestImagesMissing(t *testing.T) {
	requireContainerProvider(t)
	t.Parallel()
	err := requireImages(t.Context(), "qb/php:0000000000000000")
	require.Error(t, err)
	require.Contains(t, err.Error(), "qb/php:0000000000000000")
	require.Contains(t, err.Error(), "scripts/images.sh")
	require.NoError(t, requireImages(t.Context(), "qb/php:"+strings.TrimSpace(imagesScript(t, "..", "--tag"))))
}
