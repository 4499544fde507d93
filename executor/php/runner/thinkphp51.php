<?php
// QueueBridge's ThinkPHP 5.1 + think-queue 2.x runner. The bridge starts it as
//
//   php thinkphp51.php --app DIR
//
// It boots the app as `php think` does (the framework's base.php, DIR/thinkphp/ as think-installer puts it or
// DIR/vendor/topthink/framework/, then Container::get('app') with its path set to DIR/application/,
// initialize(); the console itself is not run), then serves requests (see thinkphp_common.php) with a BridgeJob
// built on think-queue's own think\queue\Job: fire() resolves and calls `Class` / `Class@method` as the
// library's RedisJob does (Job::resolveAndFire: bare names are Env app_namespace\job\Name, `module/Name` is
// app\module\job\Name, a missing class is a silent no-op). delete() and release($delay) are only recorded.
// A failed request does what Worker::logFailedJob does: delete(), failed() (the job's failed($data)), and
// finally the Hook facade's listen('queue_failed', $job).

declare(strict_types=1);

namespace QueueBridge\Runner;

require __DIR__ . '/thinkphp_common.php';

[$qbFrames, $qbDir] = start();
$qbBase = null;
foreach (['/thinkphp/base.php', '/vendor/topthink/framework/base.php'] as $qbFile) {
    if (is_file($qbDir . $qbFile)) {
        $qbBase = $qbDir . $qbFile;
        break;
    }
}
if ($qbBase === null) {
    fwrite(STDERR, "queuebridge runner: neither $qbDir/thinkphp/base.php nor $qbDir/vendor/topthink/framework/base.php"
        . " found (not a ThinkPHP 5.1 app)\n");
    exit(2);
}
if (!is_file($qbDir . '/think')) {
    fwrite(STDERR, "queuebridge runner: $qbDir/think not found (ThinkPHP 5.1 finds the app's root by it)\n");
    exit(2);
}
// 5.1's think\Loader takes the app's root, and with it vendor/composer (think-queue, the app's packages), from
// the running script: the directory of $_SERVER['argv'][0] if it holds `think`, else its parent. This script
// runs from a temporary directory, so the app's `think` stands in for it, as under `php think`.
$_SERVER['argv'][0] = $_SERVER['SCRIPT_FILENAME'] = $_SERVER['SCRIPT_NAME'] = $_SERVER['PHP_SELF'] = $qbDir . '/think';
require $qbBase;
$qbApp = \think\Container::get('app');
if (method_exists($qbApp, 'path')) {
    $qbApp->path($qbDir . '/application/');
}
$qbApp->initialize();
if (!class_exists(\think\queue\Job::class)) {
    fwrite(STDERR, "queuebridge runner: think\\queue\\Job not found (is topthink/think-queue 2.x installed?)\n");
    exit(2);
}

require __DIR__ . '/thinkphp5_job.php';

exit(serve(
    $qbFrames,
    'ThinkPHP ' . (defined('think\\App::VERSION') ? \think\App::VERSION : '5.1'),
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
            \think\facade\Hook::listen('queue_failed', $job);
        }
    }
));
