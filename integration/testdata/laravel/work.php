<?php
// work.php runs Laravel's own `queue:work` (Illuminate\Queue\Console\WorkCommand driving Illuminate\Queue\Worker,
// with the failed-job logger it registers writing failed_jobs rows through queue.failer) and logs every worker
// event as a JSON line on stdout (see App\Support\EventLog), then {"event":"exit","status":N,"counts":{…}}.
//
// usage: php work.php [connection] [queue:work options…] [--record=KEY] [--drain[=GRACE]] [--events=all|none]
//                     [--console]
//   queue:work options, passed through unchanged: --queue=a,b --tries=N --backoff=S[,S2…] --timeout=S --sleep=S
//     --max-jobs=N --max-time=S --stop-when-empty --once --memory=MB --rest=S --force --name=NAME (defaults as
//     in Laravel 8: tries 1, timeout 60, sleep 3, backoff 0)
//   --record=KEY   raw Redis list where jobs without a `log` of their own record their executions
//   --drain[=G]    stop (exit 0) once every worked queue has list + delayed + reserved empty for G seconds (0)
//   --events=none  print only the exit line
//   --console      also print queue:work's own console lines ("[date][id] Processing: …") on stderr
// Configuration: environment variables, see bootstrap.php.
require __DIR__ . '/bootstrap.php';

use App\Support\Artisan;
use App\Support\Cli;
use App\Support\EventLog;
use App\Support\Out;
use App\Support\Recorder;
use Symfony\Component\Console\Output\NullOutput;
use Symfony\Component\Console\Output\StreamOutput;

[$opt, $rest] = Cli::split(array_slice($argv, 1), ['record', 'drain', 'events', 'console']);
$app = qb_app();

Recorder::$defaultKey = isset($opt['record']) && $opt['record'] !== true ? $opt['record'] : null;
$log = new EventLog($app, ($opt['events'] ?? 'all') !== 'none');
if (isset($opt['drain'])) {
    $log->drain($opt['drain'] === true ? 0.0 : (float)$opt['drain']);
}
$log->listen();

$output = isset($opt['console']) ? new StreamOutput(fopen('php://stderr', 'w')) : new NullOutput();
$status = Artisan::run($app, array_merge(['queue:work'], $rest), $output);
$log->flushReleased();
Out::line(['event' => 'exit', 't' => microtime(true), 'pid' => getmypid(), 'status' => $status, 'counts' => (object)$log->counts]);
exit($status);
