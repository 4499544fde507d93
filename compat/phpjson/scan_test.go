package phpjson

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestUnquote(t *testing.T) {
	t.Parallel()
	for _, lit := range []string{
		`""`, `"plain"`, `"app\\job\\Hello"`, `"a\/b"`, `"\"q\" \b\f\n\r\t"`,
		`"\u5f20\u4e09"`, `"\ud83d\ude00"`, `"\uD83D\uDE00x"`, `"lone \ud83d"`, `"lone \ude00 end"`,
		`"\ud83d\u0041"`, `"\u0000\u001f\u007f"`, `"raw 中 😀"`, `"\\u0041"`,
	} {
		t.Run(lit, func(t *testing.T) {
			t.Parallel()
			var want string
			require.NoError(t, json.Unmarshal([]byte(lit), &want))
			require.Equal(t, want, Unquote([]byte(lit)))
		})
	}
}

func TestMembers(t *testing.T) {
	t.Parallel()
	raw := " {\n\"a\" : 1 ,\"b\":\"x,}\\\"]\",\"c\":{\"d\":[1,{\"e\":\"}\"}],\"f\":[]} , \"jo\\u0062\":[ ],\"g\":null,\"h\":-1.5e3}\t"
	require.True(t, json.Valid([]byte(raw)))
	var got [][2]string
	for m := NewMembers([]byte(raw)); ; {
		key, value, ok := m.Next()
		if !ok {
			break
		}
		got = append(got, [2]string{string(key), string(value)})
	}
	require.Equal(t, [][2]string{
		{"a", "1"}, {"b", `"x,}\"]"`}, {"c", `{"d":[1,{"e":"}"}],"f":[]}`}, {"job", "[ ]"}, {"g", "null"}, {"h", "-1.5e3"},
	}, got)

	empty := NewMembers([]byte(" { } "))
	_, _, ok := empty.Next()
	require.False(t, ok)
}

func TestInt(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		raw string
		n   int64
		ok  bool
	}{
		{"3", 3, true}, {"-7", -7, true}, {"1.0", 1, true}, {"1e2", 100, true},
		{"1.5", 0, false}, {`"3"`, 0, false}, {"null", 0, false}, {"1e30", 0, false},
	} {
		n, ok := Int([]byte(tc.raw))
		require.Equal(t, tc.ok, ok, tc.raw)
		require.Equal(t, tc.n, n, tc.raw)
	}
	_, ok := Int(nil)
	require.False(t, ok)
}
