package phpjson

import (
	"path/filepath"
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
