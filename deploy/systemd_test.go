package deploy

import (
	"context"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The systemd sample: the keys that make a stop graceful and a restart automatic, a TimeoutStopSec longer
// than the --grace its ExecStart gives, and an ExecStart the bridge runs as written (with this machine's
// binary and Redis, and --stop-when-empty so it returns).
func TestSystemdSample(t *testing.T) {
	unit := readINI(t, "systemd/queuebridge.service")
	const service = "Service"
	require.Equal(t, "simple", unit.value(t, service, "Type"))
	require.Equal(t, "always", unit.value(t, service, "Restart"), "the bridge exits 0 after a restart signal; systemd must start it again")
	require.Equal(t, "SIGTERM", unit.value(t, service, "KillSignal"))
	args := strings.Fields(unit.value(t, service, "ExecStart"))
	require.GreaterOrEqual(t, len(args), 2)
	require.Equal(t, "work", args[1], "ExecStart= runs `bridge work`")
	grace := graceOf(t, args)
	stopTimeout := systemdSeconds(t, unit.value(t, service, "TimeoutStopSec"))
	require.Greater(t, stopTimeout, grace, "TimeoutStopSec must be longer than --grace, or systemd SIGKILLs a bridge still finishing its jobs")

	// Environment= lines hold KEY=VALUE words; the connection is the one this test substitutes.
	ownRedis(t)
	var env []string
	haveConnection := false
	for _, line := range unit.values(service, "Environment") {
		for _, kv := range strings.Fields(line) {
			k, _, ok := strings.Cut(kv, "=")
			require.True(t, ok, "Environment=%s: want KEY=VALUE", line)
			if k == "BRIDGE_CONNECTION" {
				kv, haveConnection = k+"="+connection(), true
			}
			env = append(env, kv)
		}
	}
	require.True(t, haveConnection, "the unit sets BRIDGE_CONNECTION")

	args[0] = notifyBridge(t)
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], append(args[1:], "--stop-when-empty")...)
	cmd.Dir = t.TempDir()
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "ExecStart as written, with --stop-when-empty:\n%s", out)
	require.Contains(t, string(out), `msg="bridge working" connection=`+connection())
	require.Contains(t, string(out), "reason=empty")
}
