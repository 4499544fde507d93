package laravel

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNewUUID(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 2000 {
		u := NewUUID()
		require.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, u)
		require.False(t, seen[u])
		seen[u] = true
	}
}

func TestNewID(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	var all strings.Builder
	for range 2000 {
		id := NewID()
		require.Regexp(t, `^[A-Za-z0-9]{32}$`, id)
		require.False(t, seen[id], "duplicate id %s", id)
		seen[id] = true
		all.WriteString(id)
	}
	for _, c := range idLetters {
		require.Contains(t, all.String(), string(c))
	}
}
