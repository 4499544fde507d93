package thinkqueue

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

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
			require.Equal(t, want, unquote([]byte(lit)))
		})
	}
}

func TestMembers(t *testing.T) {
	t.Parallel()
	raw := " {\n\"a\" : 1 ,\"b\":\"x,}\\\"]\",\"c\":{\"d\":[1,{\"e\":\"}\"}],\"f\":[]} , \"jo\\u0062\":[ ],\"g\":null,\"h\":-1.5e3}\t"
	require.True(t, json.Valid([]byte(raw)))
	var got [][2]string
	for m := newMembers([]byte(raw)); ; {
		key, value, ok := m.next()
		if !ok {
			break
		}
		got = append(got, [2]string{string(key), string(value)})
	}
	require.Equal(t, [][2]string{
		{"a", "1"}, {"b", `"x,}\"]"`}, {"c", `{"d":[1,{"e":"}"}],"f":[]}`}, {"job", "[ ]"}, {"g", "null"}, {"h", "-1.5e3"},
	}, got)

	empty := newMembers([]byte(" { } "))
	_, _, ok := empty.next()
	require.False(t, ok)
}

// FuzzParse checks the hand-rolled top-level walk against encoding/json on arbitrary input.
func FuzzParse(f *testing.F) {
	for _, v := range []string{"v1", "v3"} {
		files, err := filepath.Glob(filepath.Join(fixtureRoot, v, "redis", "payloads", "*.json"))
		require.NoError(f, err)
		require.NotEmpty(f, files)
		for _, file := range files {
			b, err := os.ReadFile(file)
			require.NoError(f, err)
			f.Add(b)
		}
	}
	f.Add([]byte(`{"job":"J","data":{"x":"}\"{"},"id":7,"attempts":1.0}`))
	f.Add([]byte(`{"jo\u0062":"\ud83d\ude00","data":[],"data":"again"}`))
	d := Dialect{Version: V3, Keys: KeysHashTag}
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, err := d.Parse(raw)
		var ref map[string]json.RawMessage
		if !utf8.Valid(raw) || json.Unmarshal(raw, &ref) != nil || ref == nil {
			require.Error(t, err)
			return
		}
		var job string
		if json.Unmarshal(ref["job"], &job) != nil || job == "" {
			require.Error(t, err)
			return
		}
		if err != nil {
			var pe *PayloadError
			require.ErrorAs(t, err, &pe) // only the integer fields may still be refused
			return
		}
		require.Equal(t, job, p.Job)
		require.JSONEq(t, orNull(ref["data"]), orNull(p.Data))
		if id, ok := ref["id"]; ok && id[0] == '"' {
			var want string
			require.NoError(t, json.Unmarshal(id, &want))
			require.Equal(t, want, p.ID)
		}
	})
}

func orNull(b []byte) string {
	if b == nil {
		return "null"
	}
	return string(b)
}
