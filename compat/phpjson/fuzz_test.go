package phpjson

import (
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzNormalize checks that Normalize never panics and that its output is normal: normalizing it again gives
// the same bytes. The one exception is PHP's own: a float -0 is written "-0", which reads back as the int 0.
func FuzzNormalize(f *testing.F) {
	files := slices.Concat(globFixtures(f, "thinkqueue/v*/*/payloads/*.json"), laravelPayloads(f))
	for _, path := range files {
		b, err := os.ReadFile(path)
		require.NoError(f, err)
		f.Add(b)
	}
	for _, s := range []string{`{}`, `{"0":1,"1":{}}`, `[-0.0,1e25,0.00001,12345678901234567890]`, `"\ud83d\ude00\/"`,
		`{"a":1,"a":2}`, `"\ud800"`, "\"\xff\"", strings.Repeat("[", 512)} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		once, err := Normalize(data)
		if err != nil {
			return
		}
		twice, err := Normalize(once)
		require.NoError(t, err, "Normalize(%q) = %q", data, once)
		v, err := Decode(data)
		require.NoError(t, err)
		if !hasNegativeZero(v) {
			require.Equal(t, string(once), string(twice), "Normalize(%q)", data)
			return
		}
		thrice, err := Normalize(twice)
		require.NoError(t, err)
		require.Equal(t, string(twice), string(thrice), "Normalize(%q)", data)
	})
}

func hasNegativeZero(v any) bool {
	switch v := v.(type) {
	case float64:
		return v == 0 && math.Signbit(v)
	case []any:
		return slices.ContainsFunc(v, hasNegativeZero)
	case *Map:
		return slices.ContainsFunc(v.Values, hasNegativeZero)
	}
	return false
}
