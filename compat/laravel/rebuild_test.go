package laravel

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge/compat/phpjson"
)

// stringData decodes a string job's data for rebuilding it. PHP held the float -0.0 in the cjson-edges
// case, written -0, which JSON reads back as the integer 0.
func stringData(t *testing.T, p *Payload) any {
	t.Helper()
	data, err := phpjson.Decode(p.Data)
	require.NoError(t, err)
	if m, ok := data.(*phpjson.Map); ok {
		if v, ok := m.Get("neg0"); ok && v == int64(0) {
			m.Set("neg0", negativeZero())
		}
	}
	return data
}

func negativeZero() float64 {
	zero := 0.0
	return -zero
}

// payloadFolders are the folders of pushed payloads per version, with the jobs that made them.
var payloadFolders = []struct {
	parts []string
	jobs  map[string]fixtureJob
	redis bool
}{
	{[]string{"payloads"}, redisJobs, true},
	{[]string{"database", "payloads"}, databaseJobs, false},
	{[]string{"database", "mariadb", "payloads"}, databaseJobs, false},
}

// pushedCases lists a payload folder's pushed payloads; payloads/reserved_after_pop.json is a reserved
// copy Redis's cjson wrote (see TestParseReservedCopies).
func pushedCases(t *testing.T, jobs map[string]fixtureJob, dir ...string) []string {
	t.Helper()
	var cases []string
	for _, c := range fixtureCases(t, -1, dir...) {
		if c != "reserved_after_pop" {
			cases = append(cases, c)
		}
	}
	require.Len(t, cases, len(jobs), "pushed payloads in %v", dir)
	return cases
}

// TestRebuildFixtures builds every captured payload (Redis list elements and delayed members, database
// payload columns) from a Go description of its job, with the uuid, id and clock of the capture, and
// expects Laravel's bytes.
func TestRebuildFixtures(t *testing.T) {
	t.Parallel()
	for _, v := range fixtureVersions {
		d := mustDialect(t, v.dialect)
		for _, folder := range payloadFolders {
			dir := append([]string{v.dir}, folder.parts...)
			for _, c := range pushedCases(t, folder.jobs, dir...) {
				job, ok := folder.jobs[c]
				require.True(t, ok, "no job description for %s", c)
				t.Run(strings.Join(append(dir, c), "/"), func(t *testing.T) {
					t.Parallel()
					raw := readFixture(t, append(dir, c+".json")...)
					p := mustParse(t, d, raw)
					require.Equal(t, folder.redis, p.HasAttempts)
					require.Equal(t, folder.redis, p.ID != "")
					params := paramsFor(p, job, d)

					var got []byte
					var err error
					if job.cmd == nil {
						require.NotEqual(t, CallQueuedHandlerJob, p.Job)
						got, err = d.NewStringPayload(p.Job, stringData(t, p), params)
					} else {
						cmd := job.cmd(t, d, v.dir)
						if c == "row5_model" && strings.Contains(strings.Join(dir, "/"), "mariadb") {
							cmd = withModelJob("mysql")
						}
						got, err = d.NewObjectPayload(cmd, params)
					}
					require.NoError(t, err)
					require.Equal(t, string(raw), string(got))
				})
			}
		}
	}
}

// TestRebuildFixturesGeneric rebuilds every class-based payload from what Parse and Unserialize read from
// it, without knowing the job class: the serialized object round-trips byte for byte.
func TestRebuildFixturesGeneric(t *testing.T) {
	t.Parallel()
	for _, v := range fixtureVersions {
		d := mustDialect(t, v.dialect)
		for _, folder := range payloadFolders {
			dir := append([]string{v.dir}, folder.parts...)
			for _, c := range pushedCases(t, folder.jobs, dir...) {
				t.Run(strings.Join(append(dir, c), "/"), func(t *testing.T) {
					t.Parallel()
					raw := readFixture(t, append(dir, c+".json")...)
					p := mustParse(t, d, raw)
					params := paramsFor(p, folder.jobs[c], d)
					if p.Job != CallQueuedHandlerJob {
						got, err := d.NewStringPayload(p.Job, stringData(t, p), params)
						require.NoError(t, err)
						require.Equal(t, string(raw), string(got))
						return
					}
					cmd := Command{
						Class:         p.CommandName,
						DisplayName:   p.DisplayName,
						Tries:         p.MaxTries,
						MaxExceptions: p.MaxExceptions,
						Timeout:       p.Timeout,
						FailOnTimeout: p.FailOnTimeout,
					}
					if p.RetryUntil != nil {
						cmd.RetryUntil = unixp(*p.RetryUntil)
					}
					// Payload.Backoff falls back to 12.x's "delay"; only a "backoff" of its own is the job's.
					if p.Backoff != nil && !strings.Contains(string(raw), `"backoff":null`) {
						for _, s := range strings.Split(*p.Backoff, ",") {
							n, err := strconv.Atoi(s)
							require.NoError(t, err)
							cmd.Backoff = append(cmd.Backoff, n)
						}
					}
					if p.Encrypted() {
						require.Equal(t, "encrypted", c)
						cmd = encryptedFixtureJob(t, d, v.dir)
					} else {
						var obj Object
						require.NoError(t, DecodeCommand(p.Command, &obj))
						require.Equal(t, p.CommandName, obj.Class)
						cmd.Props = obj.Props
						again, err := d.SerializeCommand(cmd)
						require.NoError(t, err)
						require.Equal(t, p.Command, again)
					}
					got, err := d.NewObjectPayload(cmd, params)
					require.NoError(t, err)
					require.Equal(t, string(raw), string(got))
				})
			}
		}
	}
}

// TestNewPayloadShapes pins the envelope of each version on small inputs.
func TestNewPayloadShapes(t *testing.T) {
	t.Parallel()
	params := PayloadParams{UUID: "U", ID: "I", Now: unixp(fixtureNow).UTC(), Redis: true}
	dbParams := params
	dbParams.Redis = false
	later := params
	later.Later, later.Delay = true, 0
	hook := params
	hook.Hooks = objMap("tenant", "a/b", "job", "overwritten in place")
	cmd := Command{Class: `App\Jobs\X`, DisplayName: "X job", Props: []Prop{{Name: "p", Value: "é"}}, BatchID: "B",
		Backoff: []int{}, RetryUntil: unixp(1700000000)}
	tests := []struct {
		name    string
		dialect Version
		build   func(d Dialect) ([]byte, error)
		want    string
	}{
		{"v8 string job, default data", V8, func(d Dialect) ([]byte, error) { return d.NewStringPayload(`App\H`, "", params) },
			`{"uuid":"U","displayName":"App\\H","job":"App\\H","maxTries":null,"maxExceptions":null,"failOnTimeout":false,"backoff":null,"timeout":null,"data":"","id":"I","attempts":0}`},
		{"v12 string job, database", V12, func(d Dialect) ([]byte, error) { return d.NewStringPayload(`App\H@run`, nil, dbParams) },
			`{"uuid":"U","displayName":"App\\H","job":"App\\H@run","maxTries":null,"maxExceptions":null,"failOnTimeout":false,"backoff":null,"timeout":null,"data":null,"createdAt":1735787045,"delay":null}`},
		{"v12 later(0) writes 0", V12, func(d Dialect) ([]byte, error) { return d.NewStringPayload("H", 1.5, later) },
			`{"uuid":"U","displayName":"H","job":"H","maxTries":null,"maxExceptions":null,"failOnTimeout":false,"backoff":null,"timeout":null,"data":1.5,"createdAt":1735787045,"id":"I","attempts":0,"delay":0}`},
		{"v8 hooks after data, existing key in place", V8, func(d Dialect) ([]byte, error) { return d.NewStringPayload("H", "", hook) },
			`{"uuid":"U","displayName":"H","job":"overwritten in place","maxTries":null,"maxExceptions":null,"failOnTimeout":false,"backoff":null,"timeout":null,"data":"","tenant":"a\/b","id":"I","attempts":0}`},
		{"v12 hooks after createdAt", V12, func(d Dialect) ([]byte, error) { return d.NewStringPayload("H", "", hook) },
			`{"uuid":"U","displayName":"H","job":"overwritten in place","maxTries":null,"maxExceptions":null,"failOnTimeout":false,"backoff":null,"timeout":null,"data":"","createdAt":1735787045,"tenant":"a\/b","id":"I","attempts":0,"delay":null}`},
		{"v11 object job: empty backoff list is an empty string", V11, func(d Dialect) ([]byte, error) { return d.NewObjectPayload(cmd, params) },
			`{"uuid":"U","displayName":"X job","job":"Illuminate\\Queue\\CallQueuedHandler@call","maxTries":null,"maxExceptions":null,"failOnTimeout":false,"backoff":"","timeout":null,"retryUntil":1700000000,"data":{"commandName":"App\\Jobs\\X","command":"O:10:\"App\\Jobs\\X\":1:{s:1:\"p\";s:2:\"é\";}"},"id":"I","attempts":0}`},
		{"v12 object job: batchId", V12, func(d Dialect) ([]byte, error) { return d.NewObjectPayload(cmd, dbParams) },
			`{"uuid":"U","displayName":"X job","job":"Illuminate\\Queue\\CallQueuedHandler@call","maxTries":null,"maxExceptions":null,"failOnTimeout":false,"backoff":"","timeout":null,"retryUntil":1700000000,"data":{"commandName":"App\\Jobs\\X","command":"O:10:\"App\\Jobs\\X\":1:{s:1:\"p\";s:2:\"é\";}","batchId":"B"},"createdAt":1735787045,"delay":null}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.build(Dialect{Version: tt.dialect, Prefix: DefaultPrefix})
			require.NoError(t, err)
			require.Equal(t, tt.want, string(got))
		})
	}
}

// TestNewPayloadDefaults draws the uuid and id and reads the clock when the caller leaves them out.
func TestNewPayloadDefaults(t *testing.T) {
	t.Parallel()
	d := mustDialect(t, "laravel-12")
	raw, err := d.NewStringPayload("H", "", PayloadParams{Redis: true})
	require.NoError(t, err)
	p := mustParse(t, d, raw)
	require.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, p.UUID)
	require.Regexp(t, `^[A-Za-z0-9]{32}$`, p.ID)
	require.NotNil(t, p.CreatedAt)
	require.InDelta(t, float64(unixNow()), float64(*p.CreatedAt), 5)
}

func TestNewPayloadErrors(t *testing.T) {
	t.Parallel()
	d := mustDialect(t, "laravel-8")
	_, err := d.NewStringPayload("", "x", PayloadParams{})
	require.EqualError(t, err, "laravel: new payload: empty job name")
	// json_encode refuses malformed UTF-8 (Laravel throws InvalidPayloadException).
	_, err = d.NewStringPayload("H", "bad \xff", PayloadParams{})
	require.ErrorContains(t, err, "laravel: new payload for H: phpjson: encode: malformed UTF-8")
	_, err = d.NewObjectPayload(Command{Class: "X", Props: []Prop{{Name: "b", Value: "\xff"}}}, PayloadParams{})
	require.ErrorContains(t, err, "laravel: new payload for X: phpjson: encode: malformed UTF-8")
	_, err = d.NewObjectPayload(Command{}, PayloadParams{})
	require.EqualError(t, err, "laravel: serialize command: empty class name")
	_, err = d.NewObjectPayload(Command{Class: "X", Props: []Prop{{Name: "c", Value: make(chan int)}}}, PayloadParams{})
	require.EqualError(t, err, "laravel: serialize command: X::$c: cannot serialize chan int")
	_, err = d.NewObjectPayload(Command{Class: "X", Encrypt: func(string) (string, error) { return "", errTest }}, PayloadParams{})
	require.EqualError(t, err, "laravel: encrypt command X: test error")
}
