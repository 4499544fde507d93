package bridge_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge"
)

// `migrate --notify` prints the trigger of the connection's own table (its prefix included) and changes
// nothing; on another database it says there is none.
func TestMigrateNotify(t *testing.T) {
	var out, errOut bytes.Buffer
	code := bridge.New().RunCommand(context.Background(), []string{"bridge", "migrate", "--notify",
		"-c", "postgres://nobody:s3cret@127.0.0.1:1/none?table=jobs&prefix=tp_"}, &out, &errOut)
	require.Equal(t, 0, code, errOut.String())
	require.Contains(t, out.String(), `AFTER INSERT ON "tp_jobs"`)
	require.Contains(t, out.String(), `pg_notify('qb_tp_jobs', NEW."queue")`)

	out.Reset()
	code = bridge.New().RunCommand(context.Background(), []string{"bridge", "migrate", "--notify",
		"-c", "sqlite:" + filepath.Join(t.TempDir(), "jobs.db")}, &out, &errOut)
	require.Equal(t, 1, code)
	require.Contains(t, errOut.String(), "the trigger is PostgreSQL's")
	require.Empty(t, out.String())
}
