package laravel

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/queuebridge/bridge/compat/phpjson"
)

// Go descriptions of the job classes the fixtures were captured with (INDEX.md, "Job classes used"). Each
// is written once, version-independently: the dialect decides the Queueable order and what
// SerializesModels leaves out.

func objMap(kv ...any) *phpjson.Map {
	m := &phpjson.Map{}
	for i := 0; i < len(kv); i += 2 {
		m.Set(kv[i].(string), kv[i+1])
	}
	return m
}

// objectPropsJob is App\Jobs\ObjectProps: every scalar kind, nested arrays, a protected and a private
// property.
func objectPropsJob() Command {
	return Command{
		Class: `App\Jobs\ObjectProps`,
		Props: []Prop{
			{Name: "name", Value: "张三 / O'Brien \"q\" <b>&amp; \\ tab\t nl\n 😀"},
			{Name: "tags", Value: objMap(
				"a", []any{1, 2.5, true, nil},
				"b", []any{},
				"c", objMap("d", objMap("e", "deep")),
			)},
			{Name: "ratio", Value: 0.1},
			{Name: "whole", Value: 2.0},
			{Name: "count", Value: 42},
			{Name: "neg", Value: -7},
			{Name: "flag", Value: true},
			{Name: "off", Value: false},
			{Name: "nothing", Value: nil},
			{Name: "format", Visibility: Protected, Value: "pdf"},
			{Name: "secret", Visibility: Private, Value: "s3cr3t"},
		},
		InteractsWithQueue: true,
		Queueable:          &Queueable{},
	}
}

// plainJob is App\Jobs\Plain($n) with the given Queueable state.
func plainJob(n int, q Queueable) Command {
	return Command{
		Class:              `App\Jobs\Plain`,
		Props:              []Prop{{Name: "n", Value: n}},
		InteractsWithQueue: true,
		Queueable:          &q,
	}
}

// withOptionsJob is App\Jobs\WithOptions: limits as properties, retryUntil() as a method (now+3600).
func withOptionsJob() Command {
	return Command{
		Class: `App\Jobs\WithOptions`,
		Props: []Prop{
			{Name: "tries", Value: 5},
			{Name: "backoff", Value: []int{10, 30, 60}},
			{Name: "maxExceptions", Value: 2},
			{Name: "timeout", Value: 120},
			{Name: "failOnTimeout", Value: true},
		},
		InteractsWithQueue: true,
		Queueable:          &Queueable{},
		Tries:              intp(5),
		MaxExceptions:      intp(2),
		Timeout:            intp(120),
		Backoff:            []int{10, 30, 60},
		FailOnTimeout:      true,
		RetryUntil:         unixp(fixtureNow + 3600),
	}
}

// intBackoffJob is App\Jobs\IntBackoff: an int backoff and an int retryUntil property.
func intBackoffJob() Command {
	return Command{
		Class: `App\Jobs\IntBackoff`,
		Props: []Prop{
			{Name: "tries", Value: 3},
			{Name: "backoff", Value: 15},
			{Name: "retryUntil", Value: 1735790645},
		},
		InteractsWithQueue: true,
		Queueable:          &Queueable{},
		Tries:              intp(3),
		Backoff:            []int{15},
		RetryUntil:         unixp(1735790645),
	}
}

// withModelJob is App\Jobs\WithModel($user, $users) using SerializesModels; note keeps its default.
func withModelJob(connection string) Command {
	return Command{
		Class: `App\Jobs\WithModel`,
		Props: []Prop{
			{Name: "user", Value: ModelIdentifier{Class: `App\Models\User`, ID: 42, Connection: connection}},
			{Name: "users", Value: ModelIdentifier{Class: `App\Models\User`, ID: []any{42, 43}, Connection: connection}},
			{Name: "note", Value: "héllo", Default: true},
		},
		InteractsWithQueue: true,
		Queueable:          &Queueable{},
		SerializesModels:   true,
	}
}

// encryptedJob is App\Jobs\Encrypted (ShouldBeEncrypted); encrypt stands in for Laravel's Encrypter.
func encryptedJob(encrypt func(string) (string, error)) Command {
	return Command{
		Class:              `App\Jobs\Encrypted`,
		Props:              []Prop{{Name: "secret", Value: "top secret 秘密"}},
		InteractsWithQueue: true,
		Queueable:          &Queueable{},
		Encrypt:            encrypt,
	}
}

// uniqueJob is App\Jobs\Unique (ShouldBeUnique, uniqueId() 'u-1') dispatched onQueue('unique').
func uniqueJob() Command {
	return Command{
		Class:              `App\Jobs\Unique`,
		Props:              []Prop{{Name: "uniqueFor", Value: 3600}},
		InteractsWithQueue: true,
		Queueable:          &Queueable{Queue: "unique"},
	}
}

// failsJob is App\Jobs\Fails (tries 1); failsWithBackoffJob App\Jobs\FailsWithBackoff (tries 3, [10,30]).
func failsJob() Command {
	return Command{
		Class: `App\Jobs\Fails`, Props: []Prop{{Name: "tries", Value: 1}},
		InteractsWithQueue: true, Queueable: &Queueable{}, Tries: intp(1),
	}
}

func failsWithBackoffJob() Command {
	return Command{
		Class: `App\Jobs\FailsWithBackoff`, Props: []Prop{{Name: "tries", Value: 3}, {Name: "backoff", Value: []int{10, 30}}},
		InteractsWithQueue: true, Queueable: &Queueable{}, Tries: intp(3), Backoff: []int{10, 30},
	}
}

// uniqueContextHook is what 11.x+'s Context payload hook adds for a unique job: the lock's store and key,
// hidden, as PHP-serialize()d strings.
func uniqueContextHook() *phpjson.Map {
	return objMap("illuminate:log:context", objMap(
		"data", []any{},
		"hidden", objMap(
			"laravel_unique_job_cache_store", `s:5:"redis";`,
			"laravel_unique_job_key", `s:38:"laravel_unique_job:App\Jobs\Unique:u-1";`,
		),
	))
}

// fixtureJob describes how one captured payload was pushed: a class-based job (cmd) or a string job (from
// the parsed payload), and whether it went through later(600).
type fixtureJob struct {
	cmd   func(t *testing.T, d Dialect, dir string) Command
	later bool
	hooks bool // 11.x+ adds the unique job's log context
}

func fixedCommand(c Command) func(*testing.T, Dialect, string) Command {
	return func(*testing.T, Dialect, string) Command { return c }
}

// redisJobs maps payloads/<case>.json to its job.
var redisJobs = map[string]fixtureJob{
	"object_props":                 {cmd: fixedCommand(objectPropsJob())},
	"queueable_options":            {cmd: fixedCommand(withOptionsJob())},
	"int_backoff_retry_until_prop": {cmd: fixedCommand(intBackoffJob())},
	"model":                        {cmd: fixedCommand(withModelJob("sqlite"))},
	"string_job":                   {},
	"string_job_cjson_edges":       {},
	"string_job_no_data":           {},
	"later_600":                    {cmd: fixedCommand(plainJob(8, Queueable{})), later: true},
	"bus_delay_600":                {cmd: fixedCommand(plainJob(3, Queueable{Queue: "busdelay", Delay: 600})), later: true},
	"custom_queue_pushon":          {cmd: fixedCommand(plainJob(1, Queueable{}))},
	"bus_onqueue_onconnection":     {cmd: fixedCommand(plainJob(2, Queueable{Connection: "redis", Queue: "bus"}))},
	"chain":                        {cmd: chainJob},
	"encrypted":                    {cmd: encryptedFixtureJob},
	"unique":                       {cmd: fixedCommand(uniqueJob()), hooks: true},
}

// databaseJobs maps database/payloads/<row>.json to its job (row 6 is row 1 released).
var databaseJobs = map[string]fixtureJob{
	"row1_default": {cmd: fixedCommand(objectPropsJob())},
	"row2_legacy":  {},
	"row3_delayed": {cmd: fixedCommand(plainJob(8, Queueable{})), later: true},
	"row4_reports": {cmd: fixedCommand(plainJob(1, Queueable{}))},
	"row5_model":   {cmd: fixedCommand(withModelJob("sqlite"))},
	"row6_default": {cmd: fixedCommand(objectPropsJob())},
}

// chainJob is Plain::withChain([Plain(5), Plain(6)->onQueue('ignored')])->onQueue('chain')->dispatch(4):
// the chained jobs are serialize()d by the same version.
func chainJob(t *testing.T, d Dialect, _ string) Command {
	five, err := d.SerializeCommand(plainJob(5, Queueable{}))
	require.NoError(t, err)
	six, err := d.SerializeCommand(plainJob(6, Queueable{Queue: "ignored"}))
	require.NoError(t, err)
	return plainJob(4, Queueable{Queue: "chain", ChainQueue: "chain", ChainCatchCallbacks: []any{}, Chained: []string{five, six}})
}

// encryptedFixtureJob checks the plaintext Laravel encrypted (redis/push.json → encrypted_decrypts_to) and
// returns the stored ciphertext, whose IV was random.
func encryptedFixtureJob(t *testing.T, _ Dialect, dir string) Command {
	var push struct {
		Plaintext string `json:"encrypted_decrypts_to"`
	}
	loadFixture(t, &push, dir, "redis", "push.json")
	p := mustParse(t, Dialect{Version: V12}, readFixture(t, dir, "payloads", "encrypted.json"))
	return encryptedJob(func(serialized string) (string, error) {
		require.Equal(t, push.Plaintext, serialized)
		return p.Command, nil
	})
}

// paramsFor returns the per-push values a fixture was captured with.
func paramsFor(p *Payload, job fixtureJob, d Dialect) PayloadParams {
	params := PayloadParams{UUID: p.UUID, ID: p.ID, Now: time.Unix(fixtureNow, 0), Redis: p.HasAttempts}
	if job.later {
		params.Later, params.Delay = true, 600*time.Second
	}
	if job.hooks && d.Version >= V11 {
		params.Hooks = uniqueContextHook()
	}
	return params
}
