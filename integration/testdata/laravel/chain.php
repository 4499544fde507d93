<?php
// chain.php dispatches one job chain with the real framework, Bus::chain([...])->onConnection('redis')
// ->onQueue(Q)->dispatch() (Illuminate\Foundation\Bus\PendingChain), of App\Jobs\Record::forTest(n) for
// n = start … start+length-1, and prints one JSON line about the first job, the only one pushed now (the
// others travel serialized in its `chained` property and are pushed one by one as each link succeeds):
//   {"uuid","id","queue","key","raw"}
//
// usage: php chain.php [--queue=Q] [--length=3] [--start=1] [--log=KEY]
//   --log=KEY   every Record's `log` property: the raw Redis list their executions are recorded in
// Configuration: environment variables, see bootstrap.php.
require __DIR__ . '/bootstrap.php';

use App\Jobs\Record;
use App\Support\Cli;
use App\Support\Out;
use Illuminate\Queue\Events\JobQueued;
use Illuminate\Queue\Queue;
use Illuminate\Support\Facades\Bus;

[$opt, $rest] = Cli::split(array_slice($argv, 1), ['queue', 'length', 'start', 'log']);
if ($rest) {
    Out::fail('chain.php: unknown arguments: ' . implode(' ', $rest));
}
$app = qb_app();
$queue = $opt['queue'] ?? $app['config']->get('queue.connections.redis.queue');
$length = (int)($opt['length'] ?? 3);
$start = (int)($opt['start'] ?? 1);
$log = isset($opt['log']) && $opt['log'] !== true ? $opt['log'] : null;

$jobs = [];
for ($i = 0; $i < $length; $i++) {
    $job = Record::forTest($start + $i);
    $job->log = $log;
    $jobs[] = $job;
}

$uuid = $id = null;
Queue::createPayloadUsing(function ($connection, $queue, $payload) use (&$uuid) {
    $uuid = $payload['uuid'];
    return [];
});
$app['events']->listen(JobQueued::class, function (JobQueued $e) use (&$id) {
    $id = $e->id;
});
Bus::chain($jobs)->onConnection('redis')->onQueue($queue)->dispatch();

$key = $app['config']->get('database.redis.options.prefix') . 'queues:' . $queue;
$raw = null;
$client = new Redis();
$redis = $app['redis']->connection()->client();
$client->connect($redis->getHost(), $redis->getPort());
if ($redis->getAuth()) {
    $client->auth($redis->getAuth());
}
$client->select($redis->getDBNum());
foreach ($client->lRange($key, 0, -1) as $member) {
    if ((json_decode($member, true)['id'] ?? null) === $id) {
        $raw = $member;
    }
}
Out::line(['uuid' => $uuid, 'id' => $id, 'queue' => $queue, 'key' => $key, 'raw' => $raw]);
