package phpjson

import (
	"fmt"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// benchPayload is a typical think-queue v3 payload (about 400 bytes): strings with escapes and CJK, ints,
// floats, nested and empty arrays and objects.
func benchPayload(b *testing.B) []byte {
	dir := filepath.Join(fixturesDir(b), "thinkqueue", "v3", "database", "payloads")
	return readFixture(b, filepath.Join(dir, "assoc_default_queue.json"))
}

func BenchmarkNormalize(b *testing.B) {
	data := benchPayload(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Normalize(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	data := benchPayload(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	data := benchPayload(b)
	v, err := Decode(data)
	require.NoError(b, err)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encode(v); err != nil {
			b.Fatal(err)
		}
	}
}

// bigRecord is one entry of a bulk job's data, as a Go handler binds it.
type bigRecord struct {
	ID     int64             `json:"id"`
	Name   string            `json:"name"`
	Email  string            `json:"email"`
	Tags   []string          `json:"tags"`
	Meta   map[string]string `json:"meta"` // PHP writes an empty one as []
	Score  float64           `json:"score"`
	Active bool              `json:"active"`
	Parent *struct {
		ID   int64  `json:"id"`
		Path string `json:"path"`
	} `json:"parent"`
	Extra any `json:"extra"`
}

// bigJob is about 16 MB of PHP-written job data: json_encode's escapes (\/ and \uXXXX), empty objects
// written as [], nested objects, lists and numbers, in records as bulk imports and exports push them.
func bigJob() []byte {
	var b []byte
	b = append(b, `{"batch":"import-2025-01-02","records":[`...)
	for i := 0; len(b) < 16<<20; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		meta := `[]`
		if i%3 == 0 {
			meta = `{"source":"csv","row":"` + strconv.Itoa(i) + `"}`
		}
		b = fmt.Appendf(b, `{"id":%d,"name":"Caf\u00e9 M\u00fcller \/ %d","email":"user%d@example.com","tags":["a","b\/c"],`+
			`"meta":%s,"score":%d.25,"active":%t,"parent":{"id":%d,"path":"\/org\/%d"},"extra":{"k":[1,2.5,null],"e":[]}}`,
			i, i, i, meta, i%1000, i%2 == 0, i/10, i%97)
	}
	return append(b, `]}`...)
}

// bigJobTarget is what a handler binds bigJob to.
type bigJobTarget struct {
	Batch   string      `json:"batch"`
	Records []bigRecord `json:"records"`
}

// BenchmarkUnmarshal16MB binds a 16 MB job: bind is Unmarshal's one pass, encoding_json the way through
// encoding/json it takes for what the binder leaves to it. Unmarshal used to run encoding/json three
// times (json.Valid, a tree decode to find the [] to rewrite, json.Unmarshal): about 1.1 s of CPU per job.
func BenchmarkUnmarshal16MB(b *testing.B) {
	data := bigJob()
	var want bigJobTarget
	require.NoError(b, unmarshalFitted(data, &want))
	for _, tc := range []struct {
		name      string
		unmarshal func([]byte, any) error
	}{{"bind", Unmarshal}, {"encoding_json", unmarshalFitted}} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				var got bigJobTarget
				if err := tc.unmarshal(data, &got); err != nil {
					b.Fatal(err)
				}
				if len(got.Records) != len(want.Records) {
					b.Fatalf("%d records, want %d", len(got.Records), len(want.Records))
				}
			}
		})
	}
}
