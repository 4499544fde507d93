package thinkqueue

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

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
