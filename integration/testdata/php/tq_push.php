<?php
// tq_push.php — a PHP producer that writes exactly what think-queue's Redis connector writes
// (spec §1.2, §1.3, §2.3), using phpredis, for the bridge's cross-tests.
//
//   v1 (think-queue 1.x/2.x): $p = json_encode(['job'=>$job,'data'=>$data]); then setMeta id, then
//       setMeta attempts=1 (each: json_decode($p, true), set the key, json_encode); RPUSH queues:<q>,
//       or ZADD queues:<q>:delayed <time()+delay> for later.
//   v3 (think-queue 3.x, >= 3.0.5): json_encode(array_merge(['job'=>$job,'maxTries'=>null,'timeout'=>null,
//       'data'=>$data], ['id'=>$id,'attempts'=>0])); RPUSH {queues:<q>} or ZADD {queues:<q>}:delayed.
//
// Usage:
//   php tq_push.php fixture <host> <port> <db> <v1|v3> <queue> <push|later> <delay> <fixture-file>
//       Re-creates a golden fixture payload from its job, data and id and pushes it. Prints one JSON line:
//       {"id":…,"key":…,"score":…|null,"t_before":…}.
//   php tq_push.php bulk <host> <port> <db> <v1|v3> <queue-high> <queue-low> <n> <seed> <job>
//       Pushes n generated jobs (push and later(1..2)) over the two queues. Prints one JSON line per job:
//       {"id","queue","job","later","score","expected","stored"}: expected is json_encode($data) (no flags),
//       stored is the exact JSON text of "data" inside the stored payload.
//   php tq_push.php jobs <host> <port> <db> <v1|v3> <queue> <job> <n> <data-json>
//       Pushes n jobs of <job> whose data is the JSON object <data-json> plus "n" (1..n), as Queue::push does.
//       Prints one JSON line per job: {"id","n"}.

declare(strict_types=1);

if (!extension_loaded('redis')) {
    fwrite(STDERR, "tq_push.php: the redis extension is not loaded\n");
    exit(2);
}

// think-helper >= 3.1.3 Str::random(32): letters only, the pool repeated 5 times, shuffled.
function tq_random_id(): string
{
    $pool = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
    return substr(str_shuffle(str_repeat($pool, 5)), 0, 32);
}

function tq_encode($value): string
{
    $s = json_encode($value);
    if ($s === false) {
        throw new InvalidArgumentException('Unable to create payload: ' . json_last_error_msg());
    }
    return $s;
}

// think-queue v1 Connector::setMeta.
function tq_set_meta(string $payload, string $key, $value): string
{
    $p = json_decode($payload, true);
    $p[$key] = $value;
    return tq_encode($p);
}

function tq_payload(string $version, string $job, $data, string $id): string
{
    if ($version === 'v1') {
        $p = tq_encode(['job' => $job, 'data' => $data]);
        $p = tq_set_meta($p, 'id', $id);
        return tq_set_meta($p, 'attempts', 1);
    }
    if ($version === 'v3') {
        return tq_encode(array_merge(
            ['job' => $job, 'maxTries' => null, 'timeout' => null, 'data' => $data],
            ['id' => $id, 'attempts' => 0]
        ));
    }
    throw new InvalidArgumentException("unknown version $version");
}

function tq_list_key(string $version, string $queue): string
{
    return $version === 'v3' ? '{queues:' . $queue . '}' : 'queues:' . $queue;
}

// push (RPUSH) or later (ZADD delayed time()+delay). Returns [key, score|null].
function tq_write(Redis $redis, string $version, string $queue, string $payload, int $delay, bool $later): array
{
    $key = tq_list_key($version, $queue);
    if (!$later) {
        if ($redis->rPush($key, $payload) === false) {
            throw new RuntimeException("RPUSH $key failed");
        }
        return [$key, null];
    }
    $key .= ':delayed';
    $score = time() + $delay;
    if ($redis->zAdd($key, $score, $payload) === false) {
        throw new RuntimeException("ZADD $key failed");
    }
    return [$key, $score];
}

function tq_connect(string $host, string $port, string $db): Redis
{
    $redis = new Redis();
    $redis->connect($host, (int)$port, 5.0);
    if ((int)$db !== 0) {
        $redis->select((int)$db);
    }
    return $redis;
}

function tq_out(array $line): void
{
    echo tq_encode($line), "\n";
}

// The exact text of "data" inside a stored payload: json_encode of the value PHP reads back, which is the
// bytes of the last encode (v1 setMeta) or the only one (v3).
function tq_stored_data(string $version, string $payload, $data): string
{
    if ($version === 'v1') {
        return tq_encode(json_decode($payload, true)['data']);
    }
    return tq_encode($data);
}

// A data value from a palette of things PHP apps push: unicode (BMP and astral), slashes, quotes, control
// characters, floats PHP prints in odd ways, big ints, nested maps and lists, empty arrays, odd keys.
function tq_value(int $depth)
{
    $scalars = [
        '中文', "\u{1F600}", "𝄞 clef", 'é/è', "Ω≈ç√∫", 'http://x/y?a=1&b=2', 'a\\b\\c', 'say "hi"', "it's",
        '<b>&amp;</b>', "tab\tnl\ncr\rbs\x08ff\x0c", "\x00\x01\x1f\x7f", '', ' ', 'null', '0',
        0.1, 1.5e-7, 1e25, 2.0, -0.0, 1/3, 123456.789, -2.5e-300, 1.7976931348623157e308, 12345678901234567890.0,
        PHP_INT_MAX, PHP_INT_MIN, 9007199254740993, 0, -1, 42,
        true, false, null,
    ];
    $pick = mt_rand(0, 9);
    if ($depth >= 3 || $pick < 5) {
        return $scalars[mt_rand(0, count($scalars) - 1)];
    }
    if ($pick < 7) { // a list
        $n = mt_rand(0, 4);
        $out = [];
        for ($i = 0; $i < $n; $i++) {
            $out[] = tq_value($depth + 1);
        }
        return $out;
    }
    // a map, with some keys PHP treats specially
    $keys = ['name', 'ключ', 'a/b', '', '01', '5', 'emoji😀', 'x y', "q\"k", 'nested'];
    $n = mt_rand(0, 4);
    $out = [];
    for ($i = 0; $i < $n; $i++) {
        $out[$keys[mt_rand(0, count($keys) - 1)]] = tq_value($depth + 1);
    }
    return $out;
}

function tq_data(int $i)
{
    switch ($i % 12) {
        case 0:
            return [];                                   // an empty array: "[]"
        case 1:
            return ['n' => $i, 'floats' => [0.1, 1.5e-7, 1e25, 2.0], 'big' => [PHP_INT_MAX, 12345678901234567890]];
        case 2:
            return "string job $i: 中文😀 / \"q\" \\ \x01";
        case 3:
            return [1 => 'one', 2 => 'two'];              // not a list: {"1":..,"2":..}
        case 4:
            return ['0' => 'zero', '1' => 'one'];         // PHP keys 0,1: a list
        case 5:
            return $i * 1.5;
        case 6:
            return null;
        default:
            $m = ['i' => $i];
            $n = mt_rand(1, 6);
            for ($k = 0; $k < $n; $k++) {
                $m['k' . $k] = tq_value(0);
            }
            return $m;
    }
}

function main(array $argv): int
{
    $cmd = $argv[1] ?? '';
    if ($cmd === 'fixture' && count($argv) === 10) {
        [, , $host, $port, $db, $version, $queue, $call, $delay, $file] = $argv;
        $raw = file_get_contents($file);
        if ($raw === false) {
            throw new RuntimeException("cannot read $file");
        }
        if ($version === 'v1') {
            $f = json_decode($raw, true, 512, JSON_THROW_ON_ERROR);
        } else {
            // v3 data may hold a stdClass ({}): decode objects, turn only the payload itself into an array.
            $f = (array)json_decode($raw, false, 512, JSON_THROW_ON_ERROR);
        }
        $redis = tq_connect($host, $port, $db);
        $t = time();
        $payload = tq_payload($version, $f['job'], $f['data'], $f['id']);
        [$key, $score] = tq_write($redis, $version, $queue, $payload, (int)$delay, $call === 'later');
        tq_out(['id' => $f['id'], 'key' => $key, 'score' => $score, 't_before' => $t]);
        return 0;
    }
    if ($cmd === 'bulk' && count($argv) === 11) {
        [, , $host, $port, $db, $version, $high, $low, $n, $seed, $job] = $argv;
        mt_srand((int)$seed);
        $redis = tq_connect($host, $port, $db);
        for ($i = 0; $i < (int)$n; $i++) {
            $data = tq_data($i);
            $queue = mt_rand(0, 1) === 0 ? $high : $low;
            $name = mt_rand(0, 3) === 0 ? $job . '@other' : $job;
            $later = mt_rand(0, 3) === 0;
            $id = tq_random_id();
            $payload = tq_payload($version, $name, $data, $id);
            [, $score] = tq_write($redis, $version, $queue, $payload, mt_rand(1, 2), $later);
            tq_out([
                'id' => $id, 'queue' => $queue, 'job' => $name, 'later' => $later, 'score' => $score,
                'expected' => tq_encode($data), 'stored' => tq_stored_data($version, $payload, $data),
            ]);
        }
        return 0;
    }
    if ($cmd === 'jobs' && count($argv) === 10) {
        [, , $host, $port, $db, $version, $queue, $job, $n, $json] = $argv;
        $base = json_decode($json, true, 512, JSON_THROW_ON_ERROR);
        $redis = tq_connect($host, $port, $db);
        for ($i = 1; $i <= (int)$n; $i++) {
            $id = tq_random_id();
            tq_write($redis, $version, $queue, tq_payload($version, $job, $base + ['n' => $i], $id), 0, false);
            tq_out(['id' => $id, 'n' => $i]);
        }
        return 0;
    }
    fwrite(STDERR, "usage: tq_push.php fixture <host> <port> <db> <v1|v3> <queue> <push|later> <delay> <file>\n"
        . "       tq_push.php bulk <host> <port> <db> <v1|v3> <queue-high> <queue-low> <n> <seed> <job>\n"
        . "       tq_push.php jobs <host> <port> <db> <v1|v3> <queue> <job> <n> <data-json>\n");
    return 2;
}

exit(main($argv));
