<?php
// bench.php times Laravel's own `queue:work` (WorkCommand + Worker, console output discarded, events not
// printed) draining N ready jobs, and prints one JSON line:
//   {"jobs":N,"processed":P,"failed":F,"push_seconds":…,"seconds":…,"wall_seconds":…,"jobs_per_sec":…,"status":S}
//   seconds = from the first JobProcessing to the last JobProcessed/JobExceptionOccurred (PHP start-up, the
//   pushes and the final empty pop are left out); wall_seconds = the whole queue:work run; jobs_per_sec =
//   processed / seconds.
//
// usage: php bench.php --count=N [--queue=Q] [--class=Noop] [--no-push] [queue:work options…]
//   --no-push   time jobs someone else pushed (e.g. the bridge); N is then only echoed back
//   by default N jobs of --class (App\Jobs\Noop: 128 bytes of padding) are pushed first with Queue::bulk
//   queue:work options default to --stop-when-empty --sleep=0 --tries=1 (others pass through: --timeout…)
// Configuration: environment variables, see bootstrap.php.
require __DIR__ . '/bootstrap.php';

use App\Support\Artisan;
use App\Support\Cli;
use App\Support\EventLog;
use App\Support\Out;
use Symfony\Component\Console\Output\NullOutput;

[$opt, $rest] = Cli::split(array_slice($argv, 1), ['count', 'queue', 'class', 'no-push']);
$count = (int)($opt['count'] ?? 0);
if ($count <= 0) {
    Out::fail('usage: php bench.php --count=N [--queue=Q] [--class=Noop] [--no-push] [queue:work options…]');
}
$app = qb_app();
$queue = $opt['queue'] ?? $app['config']->get('queue.connections.redis.queue');
$class = $opt['class'] ?? 'Noop';
if (strpos($class, '\\') === false) {
    $class = 'App\\Jobs\\' . $class;
}

$pushSeconds = 0.0;
if (!isset($opt['no-push'])) {
    $t0 = microtime(true);
    $conn = $app['queue']->connection('redis');
    for ($i = 0; $i < $count; $i += 1000) {
        $jobs = [];
        for ($j = $i; $j < min($count, $i + 1000); $j++) {
            $jobs[] = method_exists($class, 'forTest') ? $class::forTest($j + 1) : new $class();
        }
        $conn->bulk($jobs, '', $queue);
    }
    $pushSeconds = microtime(true) - $t0;
}

$log = new EventLog($app, false);
$log->listen();
$args = ['queue:work', 'redis', '--queue=' . $queue];
foreach (['--stop-when-empty' => '--stop-when-empty', '--sleep' => '--sleep=0', '--tries' => '--tries=1'] as $name => $default) {
    $given = false;
    foreach ($rest as $a) {
        $given = $given || $a === $name || strpos($a, $name . '=') === 0;
    }
    if (!$given) {
        $args[] = $default;
    }
}
$t0 = microtime(true);
$status = Artisan::run($app, array_merge($args, $rest), new NullOutput());
$wall = microtime(true) - $t0;

$processed = $log->counts['JobProcessing'] ?? 0;
$seconds = ($log->firstProcessing !== null && $log->lastDone !== null) ? $log->lastDone - $log->firstProcessing : 0.0;
Out::line([
    'jobs' => $count,
    'processed' => $processed,
    'failed' => $log->counts['JobFailed'] ?? 0,
    'push_seconds' => round($pushSeconds, 6),
    'seconds' => round($seconds, 6),
    'wall_seconds' => round($wall, 6),
    'jobs_per_sec' => $seconds > 0 ? round($processed / $seconds, 1) : null,
    'status' => $status,
]);
exit($status);
