package thinkqueue

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge/compat/phpjson"
)

// payloadCases lists the captured push cases of one version's redis/payloads folder.
func payloadCases(t *testing.T, version string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(fixturePath(t, version, "redis", "payloads"), "*.json"))
	require.NoError(t, err)
	require.Len(t, files, 14, "push cases of %s", version)
	cases := make([]string, len(files))
	for i, f := range files {
		cases[i] = strings.TrimSuffix(filepath.Base(f), ".json")
	}
	return cases
}

// TestNewPayloadRebuildsFixtures parses every stored Redis payload and rebuilds it byte for byte from its
// job, data and id.
func TestNewPayloadRebuildsFixtures(t *testing.T) {
	t.Parallel()
	for _, v := range fixtureVersions {
		d := mustDialect(t, v.dialect)
		for _, c := range payloadCases(t, v.dir) {
			t.Run(v.dir+"/"+c, func(t *testing.T) {
				t.Parallel()
				raw := readFixture(t, v.dir, "redis", "payloads", c+".json")
				p, err := d.Parse(raw)
				require.NoError(t, err)
				require.True(t, p.HasAttempts)
				require.Equal(t, int(d.startAttempts()), p.Attempts)
				require.Len(t, p.ID, 32)
				require.Nil(t, p.MaxTries)
				require.Nil(t, p.Timeout)
				require.Nil(t, p.TimeoutAt)

				data, err := phpjson.Decode(p.Data)
				require.NoError(t, err)
				got, err := d.NewPayload(p.Job, data, p.ID)
				require.NoError(t, err)
				require.Equal(t, string(raw), string(got))
			})
		}
	}
}

// TestNewPayloadV1NormalizesLikeSetMeta feeds the v1 producer the data PHP encoded only once (the v1
// Database payloads, where stdClass is still {}) and expects the Redis bytes PHP wrote after its two
// setMeta round trips.
func TestNewPayloadV1NormalizesLikeSetMeta(t *testing.T) {
	t.Parallel()
	for _, dir := range []string{"v1", "v2"} {
		d := mustDialect(t, "thinkqueue-"+dir)
		for _, c := range payloadCases(t, dir) {
			t.Run(dir+"/"+c, func(t *testing.T) {
				t.Parallel()
				want := readFixture(t, dir, "redis", "payloads", c+".json")
				stored, err := d.Parse(want)
				require.NoError(t, err)
				var row struct {
					Job  string          `json:"job"`
					Data json.RawMessage `json:"data"`
				}
				require.NoError(t, json.Unmarshal(readFixture(t, dir, "database", "payloads", c+".json"), &row))
				data, err := phpjson.Decode(row.Data)
				require.NoError(t, err)
				got, err := d.NewPayload(row.Job, data, stored.ID)
				require.NoError(t, err)
				require.Equal(t, string(want), string(got))
			})
		}
	}
}

func TestNewPayloadFromGoValues(t *testing.T) {
	t.Parallel()
	type mail struct {
		To   string         `json:"to"`
		Tags []string       `json:"tags"`
		Meta map[string]int `json:"meta"`
	}
	data, err := phpjson.FromGo(mail{To: "a/b@c.d", Tags: []string{"中"}, Meta: map[string]int{}})
	require.NoError(t, err)
	tests := []struct {
		dialect, job string
		data         any
		want         string
	}{
		{"thinkqueue-v1", `app\job\Mail`, data,
			`{"job":"app\\job\\Mail","data":{"to":"a\/b@c.d","tags":["\u4e2d"],"meta":[]},"id":"ID","attempts":1}`},
		{"thinkqueue-v3", `app\job\Mail`, data,
			`{"job":"app\\job\\Mail","maxTries":null,"timeout":null,"data":{"to":"a\/b@c.d","tags":["\u4e2d"],"meta":[]},"id":"ID","attempts":0}`},
		{"thinkqueue-v1", "Job1", "", `{"job":"Job1","data":"","id":"ID","attempts":1}`},
		{"thinkqueue-v3-plain", "Job1", nil, `{"job":"Job1","maxTries":null,"timeout":null,"data":null,"id":"ID","attempts":0}`},
		{"thinkqueue-v1", "Job1", &phpjson.Map{}, `{"job":"Job1","data":[],"id":"ID","attempts":1}`},
		{"thinkqueue-v3", "Job1", &phpjson.Map{}, `{"job":"Job1","maxTries":null,"timeout":null,"data":{},"id":"ID","attempts":0}`},
		{"thinkqueue-v1", "Job1", []any{&phpjson.Map{Keys: []string{"0", "1"}, Values: []any{"x", 1.5}}},
			`{"job":"Job1","data":[["x",1.5]],"id":"ID","attempts":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.dialect+"/"+tt.want, func(t *testing.T) {
			t.Parallel()
			got, err := mustDialect(t, tt.dialect).NewPayload(tt.job, tt.data, "ID")
			require.NoError(t, err)
			require.Equal(t, tt.want, string(got))
		})
	}
}

func TestNewPayloadErrors(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"thinkqueue-v1", "thinkqueue-v3"} {
		d := mustDialect(t, name)
		_, err := d.NewPayload("", "x", NewID())
		require.ErrorContains(t, err, "thinkqueue: new payload: empty job name")
		// json_encode refuses malformed UTF-8 ("Unable to create payload").
		_, err = d.NewPayload("Job1", "bad \xff", NewID())
		require.ErrorContains(t, err, "thinkqueue: new payload for Job1")
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	v1, v3 := mustDialect(t, "thinkqueue-v1"), mustDialect(t, "thinkqueue-v3")
	three, thirty, at := 3, 30, int64(1700000000)
	tests := []struct {
		name    string
		dialect Dialect
		raw     string
		want    Payload
	}{
		{"v1 missing attempts counts as 1", v1, `{"job":"Job1","data":{"a":1}}`,
			Payload{Job: "Job1", Data: json.RawMessage(`{"a":1}`), Attempts: 1}},
		{"v3 missing attempts counts as 0", v3, `{"job":"Job1","data":[]}`,
			Payload{Job: "Job1", Data: json.RawMessage(`[]`), Attempts: 0}},
		{"null attempts is missing", v3, `{"job":"Job1","attempts":null}`,
			Payload{Job: "Job1", Attempts: 0}},
		{"missing data and id", v1, `{"job":"Job1","attempts":4}`,
			Payload{Job: "Job1", Attempts: 4, HasAttempts: true}},
		{"numeric id", v3, `{"job":"J","id":123,"attempts":0}`,
			Payload{Job: "J", ID: "123", HasAttempts: true}},
		{"null id", v3, `{"job":"J","id":null,"attempts":0}`,
			Payload{Job: "J", HasAttempts: true}},
		{"escaped strings", v3, `{"job":"app\\job\\Foo@bar","id":"a\/b","attempts":2}`,
			Payload{Job: `app\job\Foo@bar`, ID: "a/b", Attempts: 2, HasAttempts: true}},
		{"foreign spacing and float attempts", v1, "{ \"job\" : \"J\", \"data\" : {} , \"attempts\" : 1.0, \"extra\": 1 }",
			Payload{Job: "J", Data: json.RawMessage(`{}`), Attempts: 1, HasAttempts: true}},
		{"object job fields", v3, `{"job":"think\\queue\\CallQueuedHandler@call","maxTries":3,"timeout":30,"timeoutAt":1700000000,"data":{"commandName":"C","command":"O:1:\"C\":0:{}"},"id":"x","attempts":0}`,
			Payload{Job: CallQueuedHandlerJob, Data: json.RawMessage(`{"commandName":"C","command":"O:1:\"C\":0:{}"}`), ID: "x",
				HasAttempts: true, MaxTries: &three, Timeout: &thirty, TimeoutAt: &at}},
		{"keys match case-sensitively", v3, `{"job":"J","Job":"K","ATTEMPTS":"x","attempts":1}`,
			Payload{Job: "J", Attempts: 1, HasAttempts: true}},
		{"duplicate key: last wins as in PHP", v3, `{"job":"J","job":"K","attempts":1}`,
			Payload{Job: "K", Attempts: 1, HasAttempts: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := tt.dialect.Parse([]byte(tt.raw))
			require.NoError(t, err)
			require.Equal(t, tt.want, *p)
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, raw, reason string
	}{
		{"not JSON", `not json`, "not valid JSON: "},
		{"truncated", `{"job":"J"`, "not valid JSON: "},
		{"empty input", ``, "not valid JSON: "},
		{"list", `[]`, "not a JSON object (got array)"},
		{"string", `"job"`, "not a JSON object (got string)"},
		{"null", `null`, "not a JSON object (got null)"},
		{"no job", `{"data":1}`, `no "job" field`},
		{"empty job", `{"job":""}`, `"job" is empty`},
		{"number job", `{"job":5}`, `"job" is not a string`},
		{"null job", `{"job":null}`, `"job" is not a string`},
		{"bad UTF-8", "{\"job\":\"J\xff\"}", "not valid UTF-8"},
		{"string attempts", `{"job":"J","attempts":"2"}`, `"attempts" is not an integer`},
		{"fractional attempts", `{"job":"J","attempts":1.5}`, `"attempts" is not an integer`},
		{"list maxTries", `{"job":"J","maxTries":[]}`, `"maxTries" is not an integer`},
		{"bool timeout", `{"job":"J","timeout":true}`, `"timeout" is not an integer`},
		{"string timeoutAt", `{"job":"J","timeoutAt":"soon"}`, `"timeoutAt" is not an integer`},
	}
	// Fields think-queue 1.x/2.x never reads (see TestParseV1IgnoresV3Fields).
	v3Only := map[string]bool{"list maxTries": true, "bool timeout": true, "string timeoutAt": true}
	for _, tt := range tests {
		for _, name := range []string{"thinkqueue-v1", "thinkqueue-v3"} {
			if v3Only[tt.name] && name == "thinkqueue-v1" {
				continue
			}
			t.Run(name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				p, err := mustDialect(t, name).Parse([]byte(tt.raw))
				require.Nil(t, p)
				var pe *PayloadError
				require.ErrorAs(t, err, &pe)
				require.True(t, strings.HasPrefix(pe.Reason, tt.reason), "reason %q", pe.Reason)
				require.True(t, strings.HasPrefix(err.Error(), "thinkqueue: invalid payload: "), err.Error())
				require.ErrorIs(t, err, &PayloadError{})
				require.ErrorIs(t, err, &PayloadError{Reason: pe.Reason})
				require.NotErrorIs(t, err, &PayloadError{Reason: "something else"})
				require.NotErrorIs(t, err, errors.New(err.Error()))
			})
		}
	}
}

// think-queue 1.x/2.x never reads maxTries, timeout or timeoutAt, so a v1 payload runs whatever they hold
// (a v3 producer's fields, a foreign one's strings), under the worker's own limits.
func TestParseV1IgnoresV3Fields(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{
		`{"job":"J","maxTries":"x","timeout":true,"timeoutAt":"soon","data":[],"attempts":2}`,
		`{"job":"J","maxTries":[1],"timeout":{"s":1},"timeoutAt":1.5,"data":[],"attempts":2}`,
		`{"job":"J","maxTries":3,"timeout":30,"timeoutAt":1700000000,"data":[],"attempts":2}`,
	} {
		p, err := Dialect{Version: V1, Keys: KeysPlain}.Parse([]byte(raw))
		require.NoError(t, err, raw)
		require.Equal(t, Payload{Job: "J", Data: json.RawMessage(`[]`), Attempts: 2, HasAttempts: true}, *p, raw)
	}
	_, err := Dialect{Version: V3, Keys: KeysHashTag}.Parse([]byte(`{"job":"J","maxTries":"x"}`))
	require.ErrorIs(t, err, &PayloadError{Reason: `"maxTries" is not an integer: "x"`})
}

// BenchmarkParse measures the per-job decode on a typical PHP-written payload (the captured assoc case).
func BenchmarkParse(b *testing.B) {
	raw, err := os.ReadFile(filepath.Join(fixtureRoot, "v3", "redis", "payloads", "assoc_default_queue.json"))
	require.NoError(b, err)
	d := Dialect{Version: V3, Keys: KeysHashTag}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Parse(raw); err != nil {
			b.Fatal(err)
		}
	}
}

// Every database payload fixture is rebuilt byte for byte by NewDBPayload from its own job and data.
func TestNewDBPayloadMatchesFixtures(t *testing.T) {
	t.Parallel()
	for _, v := range fixtureVersions {
		t.Run(v.dir, func(t *testing.T) {
			t.Parallel()
			d := mustDialect(t, v.dialect)
			files, err := filepath.Glob(filepath.Join(fixturePath(t, v.dir, "database", "payloads"), "*.json"))
			require.NoError(t, err)
			require.NotEmpty(t, files)
			for _, file := range files {
				raw, err := os.ReadFile(file)
				require.NoError(t, err)
				m := mustDecode(t, raw).(*phpjson.Map)
				job, _ := m.Get("job")
				data, _ := m.Get("data")
				if _, hasID := m.Get("id"); hasID {
					t.Fatalf("%s: a database payload has no id", file)
				}
				got, err := d.NewDBPayload(job.(string), data)
				require.NoError(t, err, file)
				require.Equal(t, string(raw), string(got), file)
			}
		})
	}
}

// BenchmarkReservedCopy measures the v3 reserved copy (attempts+1) of a payload PHP's json_encode wrote,
// spliced and the long way round (decode, increment, encode):
//
//	go test -run '^$' -bench '^BenchmarkReservedCopy$' -count 3 ./compat/thinkqueue/
func BenchmarkReservedCopy(b *testing.B) {
	d := Dialect{Version: V3, Keys: KeysHashTag}
	raw, err := d.NewPayload(`app\job\Hello`, map[string]any{"n": 1, "name": "张三", "url": "https://example.com/a"}, NewID())
	require.NoError(b, err)
	require.True(b, phpjson.Canonical(raw), "%s", raw)
	for _, c := range []struct {
		name string
		copy func([]byte, int64) ([]byte, error)
	}{{"splice", rewriteAttempts}, {"reencode", reencodeAttempts}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.copy(raw, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
