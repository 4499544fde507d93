<?php
// QueueBridge's Laravel 8+ runner. The bridge starts it as
//
//   php laravel.php --app DIR [--boot FILE]
//
// It boots the app as `php artisan` does (FILE, default DIR/bootstrap/app.php, must return the
// Illuminate\Foundation\Application; a bound console kernel is bootstrapped), then loops: it reads a job request
// from fd 3, runs the job as Illuminate\Queue\Worker::process would, through a Job object built on
// Illuminate\Queue\Jobs\Job (fire(): Illuminate\Queue\CallQueuedHandler@call for object jobs, Class@method for
// string jobs), and writes the result to fd 4. The bridge alone touches the queue: delete(), release() and
// fail() are only recorded and reported.
//
// Frames on fd 3 and 4 (see frames.php): a 4-byte big-endian length, then that many bytes.
//   ready   {"type":"ready","pid","php","laravel"}                                  (once, after boot)
//   request {"type":"job"|"failed","ref","queue","connection","attempts","job_id","tries","reason"?} "\n" payload
//   result  {"type":"result","ref","status":"deleted|released|failed|none","delay","exception":{class,message,
//            text},"fail_reason":{…},"memory","output"}, fields that are null, 0 or "" left out
// What the job echoes is captured per job (output); what it writes to STDOUT/STDERR directly goes to the
// process's stdout/stderr, which the bridge logs under the job (all of it written before the result, which the
// bridge reads after it). EOF on fd 3 ends the runner.

declare(strict_types=1);

namespace QueueBridge\Runner;

use Illuminate\Contracts\Debug\ExceptionHandler;
use Illuminate\Queue\Jobs\Job as BaseJob;
use Illuminate\Queue\Worker;
use Illuminate\Queue\WorkerOptions;
use Illuminate\Support\InteractsWithTime;
use Throwable;

require __DIR__ . '/frames.php';

// The app's autoloader must be in place before the classes below (built on the framework's) are declared.
[$qbFrames, $qbApp] = boot();

/** BridgeJob is the reserved job as the app's code sees it; the bridge carries out what it records. */
final class BridgeJob extends BaseJob implements \Illuminate\Contracts\Queue\Job
{
    use InteractsWithTime;

    /** @var int seconds, for release() */
    public $releaseDelay = 0;
    /** @var Throwable|null what fail() was given */
    public $failReason = null;
    /** @var string */
    private $raw;
    /** @var int */
    private $attemptsSeen;
    /** @var string */
    private $id;

    public function __construct($container, string $raw, string $queue, string $connection, int $attempts, string $id)
    {
        $this->container = $container;
        $this->raw = $raw;
        $this->queue = $queue;
        $this->connectionName = $connection;
        $this->attemptsSeen = $attempts;
        $this->id = $id;
    }

    public function getJobId()
    {
        return $this->id;
    }

    public function getRawBody()
    {
        return $this->raw;
    }

    public function attempts()
    {
        return $this->attemptsSeen;
    }

    public function fail($e = null)
    {
        if ($this->failReason === null && $e instanceof Throwable) {
            $this->failReason = $e;
        }
        parent::fail($e);
    }

    public function release($delay = 0)
    {
        parent::release($delay);
        $this->releaseDelay = max(0, (int)$this->secondsUntil($delay));
    }
}

/**
 * BridgeWorker is Laravel's Worker::process, except that a job that threw and was not failed is not released
 * here: the exception goes back to the bridge, whose dialect picks the retry delay (as calculateBackoff would).
 */
final class BridgeWorker extends Worker
{
    protected function handleJobException($connectionName, $job, WorkerOptions $options, Throwable $e)
    {
        if (!$job->hasFailed()) {
            $this->markJobAsFailedIfWillExceedMaxAttempts($connectionName, $job, (int)$options->maxTries, $e);
            $this->markJobAsFailedIfWillExceedMaxExceptions($connectionName, $job, $e);
        }
        $this->raiseExceptionOccurredJobEvent($connectionName, $job, $e);
        throw $e;
    }
}

/** boot boots the app as `php artisan` does; it runs before the classes built on the framework are declared. */
function boot(): array
{
    $opt = getopt('', ['app:', 'boot:']);
    $dir = isset($opt['app']) ? (string)$opt['app'] : getcwd();
    $boot = isset($opt['boot']) ? (string)$opt['boot'] : $dir . '/bootstrap/app.php';
    if (!is_dir($dir)) {
        fwrite(STDERR, "queuebridge runner: --app $dir is not a directory\n");
        exit(2);
    }
    chdir($dir);
    $frames = new Frames();

    // As `php artisan` does: the autoloader, the application, the console kernel's bootstrappers.
    if (!isset($opt['boot']) && is_file($dir . '/vendor/autoload.php')) {
        require $dir . '/vendor/autoload.php';
    }
    $app = require $boot;
    if (!$app instanceof \Illuminate\Contracts\Foundation\Application) {
        fwrite(STDERR, "queuebridge runner: $boot did not return the application\n");
        exit(2);
    }
    if ($app->bound(\Illuminate\Contracts\Console\Kernel::class)) {
        $app->make(\Illuminate\Contracts\Console\Kernel::class)->bootstrap();
    }
    return [$frames, $app];
}

/** failure_reason is the bridge's reason for a failed request as a Throwable of its PHP class when it has one. */
function failure_reason(array $req): \Throwable
{
    $r = is_array($req['reason'] ?? null) ? $req['reason'] : [];
    $message = (string)($r['message'] ?? 'failed by the bridge');
    $class = (string)($r['class'] ?? '');
    if ($class !== '' && class_exists($class) && is_subclass_of($class, \Throwable::class)) {
        try {
            return new $class($message);
        } catch (\Throwable $ignored) {
        }
    }
    return new \RuntimeException($message);
}

function serve(Frames $frames, $app): int
{
    $worker = new BridgeWorker($app['queue'], $app['events'], $app[ExceptionHandler::class], function () {
        return false;
    });

    $frames->write(['type' => 'ready', 'pid' => getmypid(), 'php' => PHP_VERSION, 'laravel' => $app->version()]);

    while (($req = $frames->read()) !== null) {
        $type = (string)($req['type'] ?? '');
        if ($type !== 'job' && $type !== 'failed') {
            continue;
        }
        $job = new BridgeJob($app, (string)$req['raw'], (string)($req['queue'] ?? 'default'),
            (string)($req['connection'] ?? 'redis'), (int)($req['attempts'] ?? 1), (string)($req['job_id'] ?? ''));
        $options = new WorkerOptions();
        $options->maxTries = (int)($req['tries'] ?? 0);
        $exception = null;
        ob_start();
        try {
            if ($type === 'job') {
                $worker->process($job->getConnectionName(), $job, $options);
            } else {
                // The bridge failed the job (e.g. past its timeout with failOnTimeout, or out of tries): what
                // Laravel's worker does then — delete it, run its failed(), fire JobFailed.
                $job->fail(failure_reason($req));
            }
        } catch (Throwable $e) {
            $exception = $e;
            try {
                $app[ExceptionHandler::class]->report($e);
            } catch (Throwable $ignored) {
            }
        }
        $output = ob_get_clean();
        if ($job->hasFailed()) {
            $status = 'failed';
        } elseif ($job->isReleased()) {
            $status = 'released';
        } elseif ($job->isDeleted()) {
            $status = 'deleted';
        } else {
            $status = 'none';
        }
        $frames->write(without_empty([
            'type' => 'result',
            'ref' => $req['ref'] ?? null,
            'status' => $status,
            'delay' => $job->releaseDelay,
            'exception' => $exception === null ? null : exception_info($exception),
            'fail_reason' => $job->failReason === null ? null : exception_info($job->failReason),
            'memory' => memory_get_usage(true),
            'output' => $output === false ? '' : $output,
        ]));
        unset($job, $exception, $output);
    }
    return 0;
}

exit(serve($qbFrames, $qbApp));
