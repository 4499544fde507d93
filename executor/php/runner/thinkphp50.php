<?php
// QueueBridge's ThinkPHP 5.0 + think-queue 1.x runner. The bridge starts it as
//
//   php thinkphp50.php --app DIR
//
// It boots the app as `php think` does (APP_PATH = DIR/application/, DIR/thinkphp/base.php, App::initCommon();
// the console itself is not run), then serves requests (see thinkphp_common.php) with a BridgeJob built on
// think-queue's own think\queue\Job: fire() resolves and calls `Class` / `Class@method` as the library's
// RedisJob does (Job::resolveAndFire: bare names are App::$namespace\job\Name, `module/Name` is
// app\module\job\Name, a missing class is a silent no-op). delete() and release($delay) are only recorded.
// A failed request does what Worker::logFailedJob does: delete(), failed() (the job's failed($data)), and
// finally think\Hook::listen('queue_failed', $job).

declare(strict_types=1);

namespace QueueBridge\Runner;

require __DIR__ . '/thinkphp_common.php';

[$qbFrames, $qbDir] = start();
if (!is_file($qbDir . '/thinkphp/base.php')) {
    fwrite(STDERR, "queuebridge runner: $qbDir/thinkphp/base.php not found (not a ThinkPHP 5.0 app)\n");
    exit(2);
}
define('APP_PATH', $qbDir . '/application/');
require $qbDir . '/thinkphp/base.php';
\think\App::initCommon();
if (!class_exists(\think\queue\Job::class)) {
    fwrite(STDERR, "queuebridge runner: think\\queue\\Job not found (is topthink/think-queue 1.x installed?)\n");
    exit(2);
}

require __DIR__ . '/thinkphp5_job.php';

exit(serve(
    $qbFrames,
    'ThinkPHP ' . (defined('THINK_VERSION') ? THINK_VERSION : '5.0'),
    function (array $req) {
        return new BridgeJob((string)$req['raw'], (string)($req['queue'] ?? 'default'),
            (string)($req['connection'] ?? 'redis'), (int)($req['attempts'] ?? 1), (string)($req['job_id'] ?? ''));
    },
    function (BridgeJob $job) {
        $job->fire();
    },
    function (BridgeJob $job, ?\Throwable $reason) {
        try {
            $job->delete();
            $job->failed();
        } finally {
            \think\Hook::listen('queue_failed', $job);
        }
    }
));
