package thinkqueue

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseJobName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, class, method string
	}{
		{`app\job\Hello`, `app\job\Hello`, "fire"},
		{"Hello", "Hello", "fire"},
		{`app\job\Multi@taskA`, `app\job\Multi`, "taskA"},
		{CallQueuedHandlerJob, `think\queue\CallQueuedHandler`, "call"},
		{"index/Job2@task1", "index/Job2", "task1"},
		// explode('@') read by list($class, $method): a second "@" and what follows are dropped.
		{"A@b@c", "A", "b"},
		{"A@", "A", ""},
		{"", "", "fire"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			class, method := ParseJobName(tt.name)
			require.Equal(t, tt.class, class)
			require.Equal(t, tt.method, method)
		})
	}
}
