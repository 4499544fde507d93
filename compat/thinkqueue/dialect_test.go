package thinkqueue

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseDialect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		want    Dialect
		canonic string
	}{
		{"thinkqueue-v1", Dialect{V1, KeysPlain}, "thinkqueue-v1"},
		{"thinkqueue-v2", Dialect{V1, KeysPlain}, "thinkqueue-v1"},
		{"thinkqueue-v3", Dialect{V3, KeysHashTag}, "thinkqueue-v3"},
		{"thinkqueue-v3-plain", Dialect{V3, KeysPlain}, "thinkqueue-v3-plain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, err := ParseDialect(tt.name)
			require.NoError(t, err)
			require.Equal(t, tt.want, d)
			require.Equal(t, tt.canonic, d.Name())
			again, err := ParseDialect(d.Name())
			require.NoError(t, err)
			require.Equal(t, d, again)
		})
	}
}

func TestParseDialectErrors(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"", "thinkqueue", "thinkqueue-v4", "ThinkQueue-V1", "v1", "thinkqueue-v1-plain", "thinkqueue-v3-hashtag"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseDialect(name)
			require.Error(t, err)
			msg := err.Error()
			require.Contains(t, msg, "thinkqueue: unknown dialect")
			for _, accepted := range []string{"thinkqueue-v1", "thinkqueue-v2", "thinkqueue-v3", "thinkqueue-v3-plain"} {
				require.Contains(t, msg, accepted)
			}
		})
	}
}

func TestDialectNameOfUnnamedCombination(t *testing.T) {
	t.Parallel()
	require.Equal(t, "thinkqueue(version=0, keys=0)", Dialect{}.Name())
	require.Equal(t, "thinkqueue(version=1, keys=2)", Dialect{V1, KeysHashTag}.Name())
}
