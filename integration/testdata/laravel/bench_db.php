<?php
// bench_db.php times Laravel's own `queue:work database` (WorkCommand + Worker, output discarded) draining
// the jobs already in the `database` connection's table, and prints one JSON line like bench.php's:
//   {"processed":P,"failed":F,"seconds":…,"wall_seconds":…,"jobs_per_sec":…,"status":S}
//   seconds = first JobProcessing to the last job done; wall_seconds = the whole queue:work run.
// usage: php bench_db.php [--queue=Q] [queue:work options…] (defaults --stop-when-empty --sleep=0 --tries=1)
// Configuration: environment variables, see bootstrap.php (QUEUE_DB_*).
require __DIR__ . '/bootstrap.php';

use App\Support\Artisan;
use App\Support\Cli;
use App\Support\EventLog;
use App\Support\Out;
use Symfony\Component\Console\Output\NullOutput;

[$opt, $rest] = Cli::split(array_slice($argv, 1), ['queue']);
$app = qb_app();
$queue = $opt['queue'] ?? $app['config']->get('queue.connections.database.queue');
$log = new EventLog($app, false);
$log->listen();
$args = array_merge(['queue:work', 'database', '--queue=' . $queue, '--stop-when-empty', '--sleep=0', '--tries=1'], $rest);
$t0 = microtime(true);
$status = Artisan::run($app, $args, new NullOutput());
$wall = microtime(true) - $t0;
$processed = $log->counts['JobProcessing'] ?? 0;
$seconds = ($log->firstProcessing !== null && $log->lastDone !== null) ? $log->lastDone - $log->firstProcessing : 0.0;
Out::line([
    'processed' => $processed,
    'failed' => $log->counts['JobFailed'] ?? 0,
    'seconds' => round($seconds, 6),
    'wall_seconds' => round($wall, 6),
    'jobs_per_sec' => $seconds > 0 ? round($processed / $seconds, 1) : null,
    'status' => $status,
]);
exit($status);
