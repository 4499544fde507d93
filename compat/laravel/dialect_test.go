package laravel

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseDialect(t *testing.T) {
	t.Parallel()
	for v := V8; v <= V12; v++ {
		name := Dialect{Version: v}.Name()
		d, err := ParseDialect(name)
		require.NoError(t, err)
		require.Equal(t, Dialect{Version: v, Prefix: "laravel_database_"}, d)
		require.Equal(t, name, d.Name())
	}
	require.Equal(t, "laravel-11", Dialect{Version: V11, Prefix: "x_"}.Name())
}

func TestParseDialectErrors(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"", "laravel", "laravel-7", "laravel-13", "laravel-08", "laravel-+9", "Laravel-8", "laravel-8.83", "thinkqueue-v3"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseDialect(name)
			require.EqualError(t, err, `laravel: unknown dialect "`+name+`" (accepted: laravel-8, laravel-9, laravel-10, laravel-11, laravel-12)`)
		})
	}
}

// TestVersionFeatures pins which version turns each wire change on (see the package documentation).
func TestVersionFeatures(t *testing.T) {
	t.Parallel()
	type features struct{ modelDefaults, collectionClass, shortMessage, newOrder, colon, v12, timeoutAt, utf8 bool }
	tests := []struct {
		v    Version
		want features
	}{
		{V8, features{colon: true, timeoutAt: true}},
		{V9, features{modelDefaults: true, collectionClass: true, colon: true, utf8: true}},
		{V10, features{modelDefaults: true, collectionClass: true, shortMessage: true, colon: true, utf8: true}},
		{V11, features{modelDefaults: true, collectionClass: true, shortMessage: true, newOrder: true, utf8: true}},
		{V12, features{modelDefaults: true, collectionClass: true, shortMessage: true, newOrder: true, v12: true, utf8: true}},
	}
	for _, tt := range tests {
		d := Dialect{Version: tt.v}
		require.Equal(t, tt.want, features{d.omitsModelDefaults(), d.hasCollectionClass(), d.shortAttemptsMessage(),
			d.newQueueableOrder(), d.cacheColon(), d.v12(), d.timeoutAtFallback(), d.validatesUTF8Exception()}, d.Name())
	}
}
