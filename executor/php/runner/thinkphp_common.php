<?php
// QueueBridge's ThinkPHP runners share this file (thinkphp50.php, thinkphp51.php, thinkphp6.php require it):
// the frames on fd 3 and 4, the start (options, chdir) and the serve loop. The per-line runner boots the app as
// `php think` does, declares its BridgeJob on the line's own think\queue\Job, and hands serve() three steps:
// make the job, run it (fire), fail it (failed() and the app's failure hooks).
//
// Frames on fd 3 and 4 (see frames.php): a 4-byte big-endian length, then that many bytes.
//   ready   {"type":"ready","pid","php","framework"}                                  (once, after boot)
//   request {"type":"job"|"failed","ref","queue","connection","attempts","job_id","reason"?:{class,message,
//            text}} "\n" payload
//   result  {"type":"result","ref","status":"deleted|released|failed|none","delay","exception":{class,message,
//            text},"memory","output"}, fields that are null, 0 or "" left out
// "job" runs the job as think-queue's worker does (Job::fire) but never releases it after an exception nor fails
// it: the exception goes back to the bridge, whose retry policy decides. "failed" runs what the worker runs when
// it gives a job up (delete(), failed(), then the queue_failed hook or the JobFailed event); the job is not run.
// What the job echoes is captured per job (output); STDOUT/STDERR writes go to the process's own, which the
// bridge logs under the job. EOF on fd 3 ends the runner.

declare(strict_types=1);

namespace QueueBridge\Runner;

use Throwable;

require __DIR__ . '/frames.php';

/** RemoteException stands for the reason the bridge gives a job up with (a failed request). */
final class RemoteException extends \RuntimeException
{
    /** @var string the class of the original exception, "" when the reason was not a PHP exception */
    public $originalClass;
    /** @var string (string)$e of the original exception */
    public $originalText;

    public function __construct(string $message, string $class, string $text)
    {
        parent::__construct($message);
        $this->originalClass = $class;
        $this->originalText = $text;
    }
}

/** reason is the Throwable a failed request carries, or null ("failed manually"). */
function reason(array $req): ?Throwable
{
    $r = $req['reason'] ?? null;
    if (!is_array($r)) {
        return null;
    }
    return new RemoteException((string)($r['message'] ?? ''), (string)($r['class'] ?? ''), (string)($r['text'] ?? ''));
}

/** release_seconds is think-queue's getSeconds: a DateTime is made relative to now. */
function release_seconds($delay): int
{
    if ($delay instanceof \DateTimeInterface) {
        return max(0, $delay->getTimestamp() - time());
    }
    return max(0, (int)$delay);
}

/** start reads --app, chdirs there and opens the frames; the runner then boots the app. */
function start(): array
{
    $opt = getopt('', ['app:']);
    $dir = isset($opt['app']) ? rtrim((string)$opt['app'], '/') : getcwd();
    if (!is_dir($dir)) {
        fwrite(STDERR, "queuebridge runner: --app $dir is not a directory\n");
        exit(2);
    }
    chdir($dir);
    return [new Frames(), $dir];
}

/**
 * serve answers requests until EOF on fd 3. $make(array $req) builds the job, $fire($job) runs it,
 * $fail($job, ?Throwable $reason) runs the failure path. The job must have isDeleted(), isReleased() and a
 * public $releaseDelay.
 */
function serve(Frames $frames, string $framework, callable $make, callable $fire, callable $fail): int
{
    $frames->write(['type' => 'ready', 'pid' => getmypid(), 'php' => PHP_VERSION, 'framework' => $framework]);
    while (($req = $frames->read()) !== null) {
        $type = (string)($req['type'] ?? '');
        if ($type !== 'job' && $type !== 'failed') {
            continue;
        }
        $exception = null;
        $job = null;
        ob_start();
        try {
            $job = $make($req);
            if ($type === 'job') {
                $fire($job);
            } else {
                $fail($job, reason($req));
            }
        } catch (Throwable $e) {
            $exception = $e;
        }
        $output = ob_get_clean();
        if ($type === 'failed') {
            $status = 'failed';
        } elseif ($job !== null && $job->isReleased()) {
            $status = 'released';
        } elseif ($job !== null && $job->isDeleted()) {
            $status = 'deleted';
        } else {
            $status = 'none';
        }
        $frames->write(without_empty([
            'type' => 'result',
            'ref' => $req['ref'] ?? null,
            'status' => $status,
            'delay' => $job === null ? 0 : (int)$job->releaseDelay,
            'exception' => $exception === null ? null : exception_info($exception),
            'memory' => memory_get_usage(true),
            'output' => $output === false ? '' : $output,
        ]));
        unset($job, $exception, $output);
    }
    return 0;
}
