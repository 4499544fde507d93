<?php
// dispatch.php pushes jobs with the real framework and prints one JSON line per job pushed.
//
// usage: php dispatch.php [--objects=N] [--strings=N] [--class=Record] [--queue=Q] [--delay=S]
//                         [--via=bus|dispatch|queue] [--log=KEY] [--set=NAME=VALUE]… [--start=1]
//                         [--string-job=App\Jobs\Legacy@handle] [--raw] [--no-readback]
//   --objects=N   N object jobs of --class (short names are in App\Jobs; default Record), built with the
//                 class's forTest(n) when it has one, else `new`; --set assigns properties (any visibility)
//   --strings=N   N string jobs --string-job with data {"n","name","f","whole","list","nested","b","empty",
//                 "slash"} (+ "log" with --log, + every --set)
//   --via         objects: bus = Illuminate\Bus\Dispatcher::dispatch($job->onQueue(Q)->delay(S)) (what the
//                 dispatch() helper ends in; default), dispatch = the dispatch($job) helper (PendingDispatch), queue =
//                 Queue::push / later (job properties untouched). Strings always go through Queue::push / later
//   --queue=Q     queue name (default: the connection's queue, REDIS_QUEUE)   --delay=S  later / ->delay(S)
//   --log=KEY     Record jobs' `log` property and string jobs' data.log: the raw Redis list for records
//   --set=K=V     V is JSON when it parses (3, [1,2], true, "s", null), else a string; for retryUntil, "+S"
//                 means now + S seconds
//   --raw         also print the exact bytes stored in Redis      --no-readback  do not read Redis back
//   --start=N     first n (default 1)
//
// Each line: {"kind":"object"|"string","n","class","job","uuid","id","queue","key","delay","pushed_at",
//             "available_at","props"|"data"[,"raw"]}
//   key = the Redis key the payload went to (prefixed: <REDIS_PREFIX>queues:<q>[:delayed]); available_at = the
//   delayed zset score read back (else pushed_at + delay); props = the job's own properties (App\Support\Props);
//   data = the string job's data as it is in the payload.
require __DIR__ . '/bootstrap.php';

use App\Support\Cli;
use App\Support\Out;
use App\Support\Props;
use Illuminate\Contracts\Bus\Dispatcher as Bus;
use Illuminate\Queue\Events\JobQueued;
use Illuminate\Queue\Queue;

[$opt, $rest] = Cli::split(array_slice($argv, 1), ['objects', 'strings', 'class', 'queue', 'delay', 'via', 'log',
    'set', 'start', 'string-job', 'raw', 'no-readback', 'connection']);
if ($rest) {
    Out::fail('dispatch.php: unknown arguments: ' . implode(' ', $rest));
}
$app = qb_app();

$objects = (int)($opt['objects'] ?? 0);
$strings = (int)($opt['strings'] ?? 0);
$class = $opt['class'] ?? 'Record';
if (strpos($class, '\\') === false) {
    $class = 'App\\Jobs\\' . $class;
}
if ($objects > 0 && !class_exists($class)) {
    Out::fail("dispatch.php: no class $class");
}
$connName = $opt['connection'] ?? $app['config']->get('queue.default');
$conn = $app['queue']->connection($connName);
$queue = $opt['queue'] ?? $app['config']->get("queue.connections.$connName.queue");
$delay = (int)($opt['delay'] ?? 0);
$via = $opt['via'] ?? 'bus';
$logKey = isset($opt['log']) && $opt['log'] !== true ? $opt['log'] : null;
$start = (int)($opt['start'] ?? 1);
$stringJob = $opt['string-job'] ?? 'App\\Jobs\\Legacy@handle';
$prefix = $app['config']->get('database.redis.options.prefix');

$sets = [];
foreach (Cli::all($opt, 'set') as $kv) {
    [$k, $v] = array_pad(explode('=', $kv, 2), 2, '');
    if ($k === 'retryUntil' && preg_match('/^\+\d+$/', $v)) {
        $sets[$k] = time() + (int)$v;
        continue;
    }
    $d = json_decode($v, true);
    $sets[$k] = (json_last_error() === JSON_ERROR_NONE) ? $d : $v;
}

// The uuid is read from the payload array by a createPayloadUsing hook that adds nothing; the id (the Redis
// driver's "id") from the JobQueued event. Neither changes a byte of the payload.
$uuid = null;
$id = null;
Queue::createPayloadUsing(function ($connection, $queue, $payload) use (&$uuid) {
    $uuid = $payload['uuid'];
    return [];
});
$app['events']->listen(JobQueued::class, function (JobQueued $e) use (&$id) {
    $id = $e->id;
});

$out = [];
for ($i = 0; $i < $objects; $i++) {
    $n = $start + $i;
    $job = method_exists($class, 'forTest') ? $class::forTest($n) : new $class();
    if ($logKey !== null && property_exists($job, 'log')) {
        $job->log = $logKey;
    }
    foreach ($sets as $k => $v) {
        Props::set($job, $k, $v);
    }
    $props = Props::of($job);
    $uuid = $id = null;
    switch ($via) {
        case 'queue':
            $delay > 0 ? $conn->later($delay, $job, '', $queue) : $conn->push($job, '', $queue);
            break;
        case 'bus':
            $job->onConnection($connName)->onQueue($queue);
            if ($delay > 0) {
                $job->delay($delay);
            }
            $app[Bus::class]->dispatch($job);
            break;
        case 'dispatch':
            // The app's dispatch($job) helper: a PendingDispatch that hands the job to the Bus when destroyed
            // (and takes the ShouldBeUnique lock first).
            $pending = dispatch($job)->onConnection($connName)->onQueue($queue);
            if ($delay > 0) {
                $pending->delay($delay);
            }
            unset($pending);
            break;
        default:
            Out::fail("dispatch.php: unknown --via=$via");
    }
    $out[] = ['kind' => 'object', 'n' => $n, 'class' => $class, 'job' => 'Illuminate\\Queue\\CallQueuedHandler@call',
        'uuid' => $uuid, 'id' => $id, 'queue' => $queue, 'delay' => $delay, 'pushed_at' => time(), 'props' => $props];
}
for ($i = 0; $i < $strings; $i++) {
    $n = $start + $i;
    $data = ['n' => $n, 'name' => "张三 #$n", 'f' => 1.5, 'whole' => 2.0, 'list' => [1, 2, 3],
        'nested' => ['a' => ['b' => null]], 'b' => true, 'empty' => [], 'slash' => 'a/b'];
    if ($logKey !== null) {
        $data['log'] = $logKey;
    }
    $data = array_merge($data, $sets);
    $uuid = $id = null;
    $delay > 0 ? $conn->later($delay, $stringJob, $data, $queue) : $conn->push($stringJob, $data, $queue);
    $out[] = ['kind' => 'string', 'n' => $n, 'class' => explode('@', $stringJob)[0], 'job' => $stringJob,
        'uuid' => $uuid, 'id' => $id, 'queue' => $queue, 'delay' => $delay, 'pushed_at' => time(),
        // as it is in the payload: json_encode(JSON_UNESCAPED_UNICODE) then decoded ({} stays an object)
        'data' => json_decode(json_encode($data, JSON_UNESCAPED_UNICODE))];
}

// Read the stored bytes back (by the payload id) with a plain phpredis client: no prefix option, like Go.
$stored = [];
if (!isset($opt['no-readback']) && $out) {
    $redis = $app['redis']->connection($app['config']->get("queue.connections.$connName.connection", 'default'))->client();
    $raw = new Redis();
    $raw->connect($redis->getHost(), $redis->getPort());
    if ($redis->getAuth()) {
        $raw->auth($redis->getAuth());
    }
    $raw->select($redis->getDBNum());
    $queues = array_unique(array_column($out, 'queue'));
    foreach ($queues as $q) {
        $list = $prefix . 'queues:' . $q;
        foreach ($raw->lRange($list, 0, -1) as $member) {
            $stored[json_decode($member, true)['id'] ?? ''] = [$list, $member, null];
        }
        foreach ($raw->zRange($list . ':delayed', 0, -1, true) as $member => $score) {
            $stored[json_decode($member, true)['id'] ?? ''] = [$list . ':delayed', $member, (int)$score];
        }
    }
}
foreach ($out as $line) {
    $key = $prefix . 'queues:' . $line['queue'] . ($line['delay'] > 0 ? ':delayed' : '');
    $availableAt = $line['pushed_at'] + $line['delay'];
    $raw = null;
    if (isset($stored[$line['id']])) {
        [$key, $raw, $score] = $stored[$line['id']];
        $availableAt = $score ?? $availableAt;
    }
    $line = ['key' => $key, 'available_at' => $availableAt] + $line;
    if (isset($opt['raw'])) {
        $line['raw'] = $raw;
    }
    Out::line($line);
}
