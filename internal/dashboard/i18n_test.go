package dashboard

import (
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// Every string is in both languages.
func TestLanguagesHaveTheSameKeys(t *testing.T) {
	en, zh := slices.Sorted(maps.Keys(english.strings)), slices.Sorted(maps.Keys(chinese.strings))
	require.Equal(t, en, zh)
}

// A class filter's hint never skips a payload of that class, however PHP escaped its name.
func TestClassHint(t *testing.T) {
	require.Equal(t, "Ship", string(classHint(`App\Jobs\Ship`)))
	require.Equal(t, "Ship@fire", string(classHint(`App\Jobs\Ship@fire`)))
	require.Nil(t, classHint(`App\Jobs\发货`), "PHP writes non-ASCII as \\uXXXX")
	require.Nil(t, classHint(`App\Jobs\`))
}
