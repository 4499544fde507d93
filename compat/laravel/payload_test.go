package laravel

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestParseFixtures reads what every captured payload says, version by version.
func TestParseFixtures(t *testing.T) {
	t.Parallel()
	type want struct {
		name, display                   string
		maxTries, maxExceptions, timout *int
		failOnTimeout                   bool
		backoff                         *string
		retryUntil                      *int64
		encrypted                       bool
	}
	plain := want{name: `App\Jobs\Plain`, display: `App\Jobs\Plain`}
	legacy := want{name: `App\Jobs\Legacy@handle`, display: `App\Jobs\Legacy`}
	cases := map[string]want{
		"object_props": {name: `App\Jobs\ObjectProps`, display: `App\Jobs\ObjectProps`},
		"queueable_options": {name: `App\Jobs\WithOptions`, display: `App\Jobs\WithOptions`, maxTries: intp(5), maxExceptions: intp(2),
			timout: intp(120), failOnTimeout: true, backoff: strp("10,30,60"), retryUntil: int64p(fixtureNow + 3600)},
		"int_backoff_retry_until_prop": {name: `App\Jobs\IntBackoff`, display: `App\Jobs\IntBackoff`, maxTries: intp(3),
			backoff: strp("15"), retryUntil: int64p(1735790645)},
		"model":                    {name: `App\Jobs\WithModel`, display: `App\Jobs\WithModel`},
		"string_job":               legacy,
		"string_job_cjson_edges":   legacy,
		"string_job_no_data":       legacy,
		"later_600":                plain,
		"bus_delay_600":            plain,
		"custom_queue_pushon":      plain,
		"bus_onqueue_onconnection": plain,
		"chain":                    plain,
		"encrypted":                {name: `App\Jobs\Encrypted`, display: `App\Jobs\Encrypted`, encrypted: true},
		"unique":                   {name: `App\Jobs\Unique`, display: `App\Jobs\Unique`},
	}
	for _, v := range fixtureVersions {
		d := mustDialect(t, v.dialect)
		for _, c := range pushedCases(t, redisJobs, v.dir, "payloads") {
			w, ok := cases[c]
			require.True(t, ok, c)
			for _, copyDir := range []string{"payloads", "payloads/reserved"} {
				if copyDir == "payloads/reserved" && strings.Contains(c, "600") {
					continue // delayed jobs were never popped
				}
				t.Run(v.dir+"/"+copyDir+"/"+c, func(t *testing.T) {
					t.Parallel()
					raw := readFixture(t, v.dir, copyDir, c+".json")
					p := mustParse(t, d, raw)
					require.Equal(t, w.name, p.Name())
					require.Equal(t, w.display, p.ResolveName())
					require.Equal(t, w.display, p.DisplayName)
					require.Regexp(t, `^00000000-0000-4000-8000-\d{12}$`, p.UUID)
					require.Regexp(t, `^[A-Za-z0-9]{32}$`, p.ID)
					require.True(t, p.HasAttempts)
					require.Equal(t, w.maxTries, p.MaxTries)
					require.Equal(t, w.maxExceptions, p.MaxExceptions)
					require.Equal(t, w.timout, p.Timeout)
					require.Equal(t, w.failOnTimeout, p.FailOnTimeout)
					require.Equal(t, w.retryUntil, p.RetryUntil)
					require.Equal(t, w.encrypted, p.Encrypted())

					delayed := v.dir == "v12" && strings.Contains(c, "600")
					switch {
					case w.backoff != nil:
						require.Equal(t, w.backoff, p.Backoff)
					case delayed: // 12.x: Job::backoff() falls back to the payload's delay
						require.Equal(t, strp("600"), p.Backoff)
					default:
						require.Nil(t, p.Backoff)
					}
					if v.dir == "v12" {
						require.Equal(t, int64p(fixtureNow), p.CreatedAt)
						if delayed {
							require.Equal(t, intp(600), p.Delay)
						} else {
							require.Nil(t, p.Delay)
						}
					} else {
						require.Nil(t, p.CreatedAt)
						require.Nil(t, p.Delay)
					}

					// The pop script reserves a copy with attempts+1: RedisJob::attempts() is 1 either way.
					if copyDir == "payloads" {
						require.Equal(t, 0, p.Attempts)
						require.Equal(t, 1, d.Attempts(p))
					} else {
						require.Equal(t, 1, p.Attempts)
					}
					if p.Job == CallQueuedHandlerJob {
						require.Equal(t, w.name, p.CommandName)
						require.NotEmpty(t, p.Command)
						require.Equal(t, !w.encrypted, strings.HasPrefix(p.Command, "O:"))
					} else {
						require.Empty(t, p.CommandName)
						require.False(t, p.Encrypted())
						require.True(t, json.Valid(p.Data))
					}
				})
			}
		}
	}
}

// TestParseReservedCopies compares each reserved copy (Redis's cjson re-encode) with the pushed payload:
// same fields, attempts+1.
func TestParseReservedCopies(t *testing.T) {
	t.Parallel()
	for _, v := range fixtureVersions {
		d := mustDialect(t, v.dialect)
		for _, c := range fixtureCases(t, 12, v.dir, "payloads", "reserved") {
			t.Run(v.dir+"/"+c, func(t *testing.T) {
				t.Parallel()
				pushed := mustParse(t, d, readFixture(t, v.dir, "payloads", c+".json"))
				reserved := mustParse(t, d, readFixture(t, v.dir, "payloads", "reserved", c+".json"))
				require.Equal(t, pushed.Attempts+1, reserved.Attempts)
				require.Equal(t, d.Attempts(pushed), reserved.Attempts)
				pushed.Attempts, reserved.Attempts = 0, 0
				pushed.Data, reserved.Data = nil, nil // cjson reorders and re-spells data
				require.Equal(t, pushed, reserved)
			})
		}
		t.Run(v.dir+"/reserved_after_pop", func(t *testing.T) {
			t.Parallel()
			p := mustParse(t, d, readFixture(t, v.dir, "payloads", "reserved_after_pop.json"))
			require.Equal(t, 1, p.Attempts)
			require.Equal(t, `App\Jobs\Plain`, p.Name())
		})
	}
}

// TestParseDatabasePayloads reads the database driver's payload column: no id, no attempts.
func TestParseDatabasePayloads(t *testing.T) {
	t.Parallel()
	for _, v := range fixtureVersions {
		d := mustDialect(t, v.dialect)
		for _, dir := range [][]string{{v.dir, "database", "payloads"}, {v.dir, "database", "mariadb", "payloads"}} {
			for _, c := range fixtureCases(t, len(databaseJobs), dir...) {
				t.Run(filepath.Join(append(dir, c)...), func(t *testing.T) {
					t.Parallel()
					p := mustParse(t, d, readFixture(t, append(dir, c+".json")...))
					require.False(t, p.HasAttempts)
					require.Empty(t, p.ID)
					require.NotEmpty(t, p.UUID)
					require.Equal(t, map[string]string{
						"row1_default": `App\Jobs\ObjectProps`, "row2_legacy": `App\Jobs\Legacy@handle`, "row3_delayed": `App\Jobs\Plain`,
						"row4_reports": `App\Jobs\Plain`, "row5_model": `App\Jobs\WithModel`, "row6_default": `App\Jobs\ObjectProps`,
					}[c], p.Name())
				})
			}
		}
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	v8, v12 := mustDialect(t, "laravel-8"), mustDialect(t, "laravel-12")
	tests := []struct {
		name    string
		dialect Dialect
		raw     string
		want    Payload
	}{
		{"minimal", v12, `{"job":"J"}`, Payload{Job: "J"}},
		{"missing attempts counts as 0", v12, `{"job":"J","data":{"a":1}}`, Payload{Job: "J", Data: json.RawMessage(`{"a":1}`)}},
		{"null attempts and id", v12, `{"job":"J","attempts":null,"id":null}`, Payload{Job: "J"}},
		{"numeric id kept as text", v12, `{"job":"J","id":123,"attempts":4}`, Payload{Job: "J", ID: "123", Attempts: 4, HasAttempts: true}},
		{"escapes", v12, `{"job":"App\\Jobs\\Foo@bar","uuid":"a\/b","displayName":"\u00e9"}`,
			Payload{Job: `App\Jobs\Foo@bar`, UUID: "a/b", DisplayName: "é"}},
		{"foreign spacing and float integers", v12, "{ \"job\" : \"J\" , \"attempts\" : 1.0 , \"maxTries\" : 3e0 }",
			Payload{Job: "J", Attempts: 1, HasAttempts: true, MaxTries: intp(3)}},
		{"v8 retryUntil falls back to timeoutAt", v8, `{"job":"J","retryUntil":null,"timeoutAt":1700000000}`,
			Payload{Job: "J", RetryUntil: int64p(1700000000)}},
		{"v12 ignores timeoutAt", v12, `{"job":"J","timeoutAt":1700000000}`, Payload{Job: "J"}},
		{"retryUntil wins over timeoutAt", v8, `{"job":"J","retryUntil":5,"timeoutAt":6}`, Payload{Job: "J", RetryUntil: int64p(5)}},
		{"backoff falls back to delay", v12, `{"job":"J","backoff":null,"delay":60}`,
			Payload{Job: "J", Backoff: strp("60"), Delay: intp(60)}},
		{"backoff wins over delay", v12, `{"job":"J","backoff":"1,2","delay":60}`,
			Payload{Job: "J", Backoff: strp("1,2"), Delay: intp(60)}},
		{"integer backoff from a foreign producer", v8, `{"job":"J","backoff":7}`, Payload{Job: "J", Backoff: strp("7")}},
		{"fractional backoff kept for the int cast", v8, `{"job":"J","backoff":7.5}`, Payload{Job: "J", Backoff: strp("7.5")}},
		{"empty backoff string", v8, `{"job":"J","backoff":""}`, Payload{Job: "J", Backoff: strp("")}},
		{"failOnTimeout truthiness", v8, `{"job":"J","failOnTimeout":1}`, Payload{Job: "J", FailOnTimeout: true}},
		{"failOnTimeout string zero", v8, `{"job":"J","failOnTimeout":"0"}`, Payload{Job: "J"}},
		{"object job", v12, `{"job":"Illuminate\\Queue\\CallQueuedHandler@call","data":{"commandName":"App\\X","command":"O:5:\"App\\X\":0:{}","batchId":null},"createdAt":1,"delay":null}`,
			Payload{Job: CallQueuedHandlerJob, Data: json.RawMessage(`{"commandName":"App\\X","command":"O:5:\"App\\X\":0:{}","batchId":null}`),
				CommandName: `App\X`, Command: `O:5:"App\X":0:{}`, CreatedAt: int64p(1), hasCommand: true}},
		{"data that is not an object", v12, `{"job":"J","data":["commandName"]}`, Payload{Job: "J", Data: json.RawMessage(`["commandName"]`)}},
		{"keys match case-sensitively", v12, `{"job":"J","Job":"K","ATTEMPTS":"x"}`, Payload{Job: "J"}},
		{"duplicate key: last wins as in PHP", v12, `{"job":"J","job":"K"}`, Payload{Job: "K"}},
		{"escaped key", v12, `{"jo\u0062":"J"}`, Payload{Job: "J"}},
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
		{"bad UTF-8", "{\"job\":\"J\xff\"}", "not valid UTF-8"},
		{"string attempts", `{"job":"J","attempts":"2"}`, `"attempts" is not an integer`},
		{"fractional attempts", `{"job":"J","attempts":1.5}`, `"attempts" is not an integer`},
		{"list maxTries", `{"job":"J","maxTries":[]}`, `"maxTries" is not an integer`},
		{"bool timeout", `{"job":"J","timeout":true}`, `"timeout" is not an integer`},
		{"string retryUntil", `{"job":"J","retryUntil":"soon"}`, `"retryUntil" is not an integer`},
		{"string maxExceptions", `{"job":"J","maxExceptions":"2"}`, `"maxExceptions" is not an integer`},
		{"string createdAt", `{"job":"J","createdAt":"x"}`, `"createdAt" is not an integer`},
		{"string delay", `{"job":"J","delay":"60"}`, `"delay" is not an integer`},
		{"list backoff", `{"job":"J","backoff":[10]}`, `"backoff" is not a string or integer`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := mustDialect(t, "laravel-11").Parse([]byte(tt.raw))
			require.Nil(t, p)
			var pe *PayloadError
			require.ErrorAs(t, err, &pe)
			require.True(t, strings.HasPrefix(pe.Reason, tt.reason), "reason %q", pe.Reason)
			require.True(t, strings.HasPrefix(err.Error(), "laravel: invalid payload: "), err.Error())
			require.ErrorIs(t, err, &PayloadError{})
			require.ErrorIs(t, err, &PayloadError{Reason: pe.Reason})
			require.NotErrorIs(t, err, &PayloadError{Reason: "something else"})
			require.NotErrorIs(t, err, errors.New(err.Error()))
		})
	}
}

func TestPayloadNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name              string
		p                 Payload
		routing, resolved string
		encrypted         bool
	}{
		{"string job", Payload{Job: `App\H@run`, DisplayName: `App\H`}, `App\H@run`, `App\H`, false},
		{"string job with commandName in its data", Payload{Job: `App\H@run`, CommandName: "X", hasCommand: true, Command: "O:"}, `App\H@run`, `App\H@run`, false},
		{"object job", Payload{Job: CallQueuedHandlerJob, DisplayName: "Closure (a.php:3)", CommandName: `Illuminate\Queue\CallQueuedClosure`,
			Command: "O:1:", hasCommand: true}, `Illuminate\Queue\CallQueuedClosure`, "Closure (a.php:3)", false},
		{"object job without commandName", Payload{Job: CallQueuedHandlerJob}, CallQueuedHandlerJob, CallQueuedHandlerJob, false},
		{"encrypted", Payload{Job: CallQueuedHandlerJob, CommandName: "E", Command: "eyJpdiI6", hasCommand: true}, "E", CallQueuedHandlerJob, true},
		{"empty command is not a plain one", Payload{Job: CallQueuedHandlerJob, hasCommand: true}, CallQueuedHandlerJob, CallQueuedHandlerJob, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.routing, tt.p.Name())
			require.Equal(t, tt.resolved, tt.p.ResolveName())
			require.Equal(t, tt.encrypted, tt.p.Encrypted())
		})
	}
}

// BenchmarkParse measures the per-job decode of a typical class-based payload (the captured v12 ObjectProps
// job, about 1.3 KB).
func BenchmarkParse(b *testing.B) {
	raw := readFixture(b, "v12", "payloads", "object_props.json")
	d := Dialect{Version: V12, Prefix: DefaultPrefix}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Parse(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func TestBatched(t *testing.T) {
	t.Parallel()
	d := Dialect{Version: V8, Prefix: DefaultPrefix}
	for _, tc := range []struct {
		raw  string
		want bool
	}{
		{`{"job":"Illuminate\\Queue\\CallQueuedHandler@call","data":{"commandName":"A","command":"O:1:\"A\":1:{s:7:\"batchId\";s:36:\"9a1b…\";}"}}`, true},
		{`{"job":"Illuminate\\Queue\\CallQueuedHandler@call","data":{"commandName":"A","command":"O:1:\"A\":1:{s:7:\"batchId\";N;}"}}`, false},
		{`{"job":"Illuminate\\Queue\\CallQueuedHandler@call","data":{"commandName":"A","command":"O:1:\"A\":0:{}","batchId":"9a1b"}}`, true},
		{`{"job":"Illuminate\\Queue\\CallQueuedHandler@call","data":{"commandName":"A","command":"O:1:\"A\":0:{}","batchId":null}}`, false},
		{`{"job":"App\\Jobs\\Legacy@handle","data":{"note":"batchId"}}`, false},
		{`{"job":"App\\Jobs\\Legacy@handle","data":{"batchId":"mine"}}`, false}, // a string job's own data
	} {
		p, err := d.Parse([]byte(tc.raw))
		require.NoError(t, err, tc.raw)
		require.Equal(t, tc.want, p.Batched(), tc.raw)
	}
}
