package thinkqueue

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNewID(t *testing.T) {
	t.Parallel()
	seen := make(map[string]bool)
	for range 2000 {
		id := NewID()
		require.Regexp(t, `^[A-Za-z]{32}$`, id)
		for _, c := range id {
			// think-helper shuffles 5 copies of the alphabet, so no letter can repeat more often.
			require.LessOrEqual(t, strings.Count(id, string(c)), 5, id)
		}
		require.False(t, seen[id], "duplicate id %s", id)
		seen[id] = true
	}
}

// TestNewIDUsesWholeAlphabet guards against a shuffle that never reaches part of the pool.
func TestNewIDUsesWholeAlphabet(t *testing.T) {
	t.Parallel()
	var all strings.Builder
	for range 500 {
		all.WriteString(NewID())
	}
	for _, c := range idLetters {
		require.Contains(t, all.String(), string(c))
	}
}
