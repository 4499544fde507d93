<?php
// QueueBridge's ThinkPHP 6 / 8 + think-queue 3.x runner. The bridge starts it as
//
//   php thinkphp6.php --app DIR
//
// It boots the app as `php think` does (DIR/vendor/autoload.php, new think\App(DIR), initialize(); the console
// itself is not run), then serves requests (see thinkphp_common.php) with a BridgeJob built on think-queue's own
// think\queue\Job, whose fire() resolves and calls `Class` / `Class@method` as the library does (3.0.7+:
// $app->getNamespace().'\job\'.Str::studly(Name), a new instance per job getting $data; object jobs through
// think\queue\CallQueuedHandler@call, which deletes them). delete() and release($delay) are only recorded; the
// JobProcessing / JobProcessed / JobExceptionOccurred events are triggered around fire() as the worker does.
// A failed request does what Worker::failJob does: markAsFailed(), delete(), failed($e) (the job's
// failed($data, $e)), and finally $app->event->trigger(new think\queue\event\JobFailed($connection, $job, $e)).

declare(strict_types=1);

namespace QueueBridge\Runner;

require __DIR__ . '/thinkphp_common.php';

[$qbFrames, $qbDir] = start();
if (!is_file($qbDir . '/vendor/autoload.php')) {
    fwrite(STDERR, "queuebridge runner: $qbDir/vendor/autoload.php not found\n");
    exit(2);
}
require $qbDir . '/vendor/autoload.php';
$qbApp = new \think\App($qbDir);
$qbApp->initialize();
if (!class_exists(\think\queue\Job::class)) {
    fwrite(STDERR, "queuebridge runner: think\\queue\\Job not found (is topthink/think-queue 3.x installed?)\n");
    exit(2);
}

/** BridgeJob is the reserved job as the app's code sees it; the bridge carries out what it records. */
final class BridgeJob extends \think\queue\Job
{
    /** @var int seconds, for release() */
    public $releaseDelay = 0;
    /** @var string */
    private $raw;
    /** @var int */
    private $attemptsSeen;
    /** @var string */
    private $id;

    public function __construct($app, string $raw, string $queue, string $connection, int $attempts, string $id)
    {
        $this->app = $app;
        $this->raw = $raw;
        $this->queue = $queue;
        $this->connection = $connection;
        $this->attemptsSeen = $attempts;
        $this->id = $id;
    }

    public function release($delay = 0)
    {
        parent::release($delay);
        $this->releaseDelay = release_seconds($delay);
    }

    public function attempts()
    {
        return $this->attemptsSeen;
    }

    public function getRawBody()
    {
        return $this->raw;
    }

    public function getJobId()
    {
        return $this->id;
    }

    /** getReservedJob is RedisJob's: the reserved copy; the bridge has the body as reserved, so that. */
    public function getReservedJob()
    {
        return $this->raw;
    }
}

/** event triggers think-queue's event $class($connection, $job[, $e]) when the installed version has it. */
function event($app, string $class, array $args): void
{
    if (class_exists($class)) {
        $app->event->trigger(new $class(...$args));
    }
}

exit(serve(
    $qbFrames,
    'ThinkPHP ' . (defined('think\\App::VERSION') ? \think\App::VERSION : '6'),
    function (array $req) use ($qbApp) {
        return new BridgeJob($qbApp, (string)$req['raw'], (string)($req['queue'] ?? 'default'),
            (string)($req['connection'] ?? 'redis'), (int)($req['attempts'] ?? 1), (string)($req['job_id'] ?? ''));
    },
    function (BridgeJob $job) use ($qbApp) {
        $conn = $job->getConnection();
        event($qbApp, \think\queue\event\JobProcessing::class, [$conn, $job]);
        try {
            $job->fire();
        } catch (\Throwable $e) {
            event($qbApp, \think\queue\event\JobExceptionOccurred::class, [$conn, $job, $e]);
            throw $e;
        }
        event($qbApp, \think\queue\event\JobProcessed::class, [$conn, $job]);
    },
    function (BridgeJob $job, ?\Throwable $reason) use ($qbApp) {
        $job->markAsFailed();
        try {
            $job->delete();
            $job->failed($reason);
        } finally {
            $qbApp->event->trigger(new \think\queue\event\JobFailed($job->getConnection(), $job,
                $reason ?? new \RuntimeException('ManuallyFailed')));
        }
    }
));
